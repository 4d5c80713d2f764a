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
