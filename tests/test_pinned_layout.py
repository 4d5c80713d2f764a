"""Layout behaviours pinned by reading the GDS back with KLayout (deliberate-bug sample,
bench/mutants.md)."""

from __future__ import annotations

from pathlib import Path

from masklayout import layout, spec
from tests.helpers import BASE_SPEC, GdsReader

EXTRA = "    - {name: X1, stack: std, on_pad: IO}\n"


def test_every_bump_site_gets_one_ubm_in_runs_of_every_length(tmp_path: Path):
    """Sites on a row at one spacing are placed as arrays: a pair must place both. The base die
    holds 6 x 5 - 1 array sites and X1; two bumps at y = -1150 (x = -200 and 200) add a run of
    exactly two: 29 + 1 + 2 = 32 UBMs, centred where the spec puts them."""
    pair = "".join(
        f"    - {{name: P{k}, stack: std, at: [{x}, -1150]}}\n" for k, x in ((1, -200), (2, 200))
    )
    design = spec.loads(BASE_SPEC.replace(EXTRA, EXTRA + pair), "spec.yaml")
    gds = tmp_path / "die.gds"
    layout.write(layout.build(design, die_only=True), gds)
    reader = GdsReader(gds)
    ubm = reader.region("UBM", flat=True)
    assert ubm.count() == 6 * 5 - 1 + 1 + 2
    centres = {(p.bbox().center().x, p.bbox().center().y) for p in ubm.each()}
    for x in (-200, 200):
        assert (reader.um(x), reader.um(-1150)) in centres
    expected = {(reader.um(-100 + (c - 2.5) * 400), reader.um((2 - r) * 400)) for c in range(6) for r in range(5)}  # fmt: skip
    expected -= {(reader.um(-1100), reader.um(800))}  # A1 skipped (row A at the top, column 1)
    assert expected <= centres


# VDD's pad (-1300, 1200) walled in on RDL by four keep-out bars inside the die (the top one
# 60 um above the pad's centre, under the edge clearance): its net cannot route, GND's does.
WALL = (
    "  keepout:\n"
    "    - {rect: [[-1460, 1040], [-1140, 1080]], layers: [RDL]}\n"
    "    - {rect: [[-1460, 1260], [-1140, 1290]], layers: [RDL]}\n"
    "    - {rect: [[-1460, 1040], [-1420, 1290]], layers: [RDL]}\n"
    "    - {rect: [[-1180, 1040], [-1140, 1290]], layers: [RDL]}\n"
)


def test_only_the_pads_of_nets_that_routed_get_a_pi1_opening(tmp_path: Path):
    """Built with allow_unrouted, the die opens PI1 over GND's pad (1300, 1200) only: one 65 um
    square (the 80 um pad less PAD.EN.PI1 on both sides), none over VDD's pad left unrouted."""
    design = spec.loads(BASE_SPEC.replace("  rdl:\n", WALL + "  rdl:\n"), "spec.yaml")
    built = layout.build(design, die_only=True, allow_unrouted=True)
    assert [u.net for u in built.routing.result.unrouted] == ["VDD"]
    gds = tmp_path / "die.gds"
    layout.write(built, gds)
    reader = GdsReader(gds)
    side = 80 - 2 * design.tech.rule_value("PAD.EN.PI1", -1.0)
    boxes = [p.bbox() for p in reader.region("PI1", flat=True).each()]
    assert [(b.left, b.bottom, b.right, b.top) for b in boxes] == [
        (reader.um(1300 - side / 2), reader.um(1200 - side / 2),
         reader.um(1300 + side / 2), reader.um(1200 + side / 2))
    ]  # fmt: skip
