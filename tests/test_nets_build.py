"""Building nets: every net connected in the GDS read back with KLayout, keep-outs free of RDL,
waypoint routes followed, the pin map, all unrouted nets in one error, --allow-unrouted writing
the routed part and a marker database, and the per-net JSON report."""

from __future__ import annotations

import csv
import json
import math

import klayout.db as kdb
import klayout.rdb as krdb
import pytest
from click.testing import CliRunner

from masklayout import loads
from masklayout.cli import main
from tests.helpers import ROOT, GdsReader

FANIN_100 = (
    ROOT / "tests" / "fixtures" / "fanin_100.yaml"
)  # 80 nets, two power trees: needs the negotiation to start again

RDL = "  rdl:\n    width: 20\n"
# Four walls around pad VDD (-1300, 1200), capture +-42.5: gaps of 4 um at the corners, far too
# narrow for a 20 um trace at RDL.S 10.
WALLS = (
    "  keepout:\n"
    "    - {rect: [[-1380, 1260], [-1220, 1280]]}\n"
    "    - {rect: [[-1380, 1120], [-1220, 1140]]}\n"
    "    - {rect: [[-1380, 1144], [-1360, 1256]], layers: [RDL]}\n"
    "    - {rect: [[-1240, 1144], [-1220, 1256]], layers: [RDL, PI1]}\n"
)


def _build(spec_file, tmp_path, *replacements, args=()):
    path = spec_file(*replacements)
    out = tmp_path / "die.gds"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out), "--die-only", *args])
    return path, out, result


def _box(gds: GdsReader, x0: float, y0: float, x1: float, y1: float) -> kdb.Region:
    return kdb.Region(kdb.Box(gds.um(x0), gds.um(y0), gds.um(x1), gds.um(y1)))


def _dot(gds: GdsReader, x: float, y: float) -> kdb.Region:
    return _box(gds, x - 0.5, y - 0.5, x + 0.5, y + 0.5)


def _rdl(gds: GdsReader) -> kdb.Region:
    return gds.region("RDL", flat=True).merged()


def _connected(rdl: kdb.Region, gds: GdsReader, points: list[tuple[float, float]]) -> bool:
    """Whether one merged RDL shape covers every point."""
    shape = rdl.interacting(_dot(gds, *points[0]))
    return shape.count() == 1 and all(not (shape & _dot(gds, *p)).is_empty() for p in points)


def test_a_net_of_two_pads_and_three_bumps_is_one_rdl_shape(spec_file, tmp_path):
    _, out, result = _build(
        spec_file,
        tmp_path,
        ("{name: GND, at:", "{name: GND, net: PWR, at:"),
        ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
        ("      - {pad: VDD, bump: A2}\n", ""),
        ("      - {pad: GND, bump: A6}\n", "      - {pad: GND, bump: A6, width: 30}\n"),
        (RDL, "  nets:\n    PWR: {bumps: [A2, A4]}\n" + RDL),
    )
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    # VDD (-1300, 1200), GND (1300, 1200), A2 (-700, 800), A4 (100, 800), A6 (900, 800)
    points = [(-1300, 1200), (1300, 1200), (-700, 800), (100, 800), (900, 800)]
    assert _connected(_rdl(gds), gds, points)


def test_keepouts_hold_no_rdl_and_the_net_goes_around(spec_file, tmp_path):
    # A keep-out over the direct way from pad VDD (-1300, 1200) to bump A2 (-700, 800).
    keepout = "  keepout:\n    - {rect: [[-1200, 1000], [-900, 1340]], layers: [RDL]}\n"
    _, out, result = _build(spec_file, tmp_path, (RDL, keepout + RDL))
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    rdl = _rdl(gds)
    assert (rdl & _box(gds, -1200, 1000, -900, 1340)).is_empty()
    assert _connected(rdl, gds, [(-1300, 1200), (-700, 800)])


def test_keepout_on_other_layers_does_not_stop_rdl(spec_file, tmp_path):
    keepout = "  keepout:\n    - {rect: [[-1200, 900], [-800, 1340]], layers: [PI2]}\n"
    _, out, result = _build(spec_file, tmp_path, (RDL, keepout + RDL))
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    assert not (_rdl(gds) & _box(gds, -1200, 900, -800, 1340)).is_empty()


def test_rdl_keeps_the_edge_rule_from_the_die_edge(spec_file, tmp_path):
    _, out, result = _build(spec_file, tmp_path)
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    w, h = 3000 / 2 - 25, 2600 / 2 - 25  # die 3000 x 2600, RDL.EDGE 25
    assert (_rdl(gds) - _box(gds, -w, -h, w, h)).is_empty()


def test_waypoint_route_runs_through_its_waypoints(spec_file, tmp_path):
    _, out, result = _build(
        spec_file,
        tmp_path,
        ("{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, via: [[-900, 1200], [-900, 800]]}"),
    )
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    assert _connected(_rdl(gds), gds, [(-1300, 1200), (-900, 1200), (-900, 800), (-700, 800)])


def test_every_unrouted_net_is_reported_at_once_and_nothing_is_written(spec_file, tmp_path):
    path, out, result = _build(
        spec_file,
        tmp_path,
        ("{name: GND, at: [1300, 1200]", "{name: GND, at: [-1300, -1100]"),
        (RDL, WALLS + "    - {rect: [[-1380, -1020], [-1220, -1000]]}\n"
         "    - {rect: [[-1380, -1200], [-1220, -1180]]}\n"
         "    - {rect: [[-1380, -1176], [-1360, -1024]]}\n"
         "    - {rect: [[-1240, -1176], [-1220, -1024]]}\n" + RDL),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if "stuck at" in line]
    assert len(lines) == 2
    line = 1 + next(k for k, t in enumerate(path.read_text().splitlines()) if "{pad: VDD" in t)
    assert any(f"{path}:{line}:9: die.rdl.routes[0]: net VDD: stuck at" in t for t in lines)
    assert any("die.rdl.routes[1]: net GND: stuck at" in line for line in lines)
    assert not list(tmp_path.glob("die*"))


def test_allow_unrouted_writes_the_routed_part_and_a_marker_database(spec_file, tmp_path):
    _, out, result = _build(spec_file, tmp_path, (RDL, WALLS + RDL), args=["--allow-unrouted"])
    assert result.exit_code == 1, result.output
    assert "net VDD: stuck at" in result.stderr
    gds = GdsReader(out)
    rdl = _rdl(gds)
    assert _connected(rdl, gds, [(1300, 1200), (900, 800)])  # GND -> A6 routed
    assert (rdl & _box(gds, -1360, 1140, -1240, 1260)).is_empty()  # nothing inside the walls
    markers = tmp_path / "die.unrouted.lyrdb"
    database = krdb.ReportDatabase("")
    database.load(str(markers))
    items = list(database.each_item())
    assert len(items) == 1
    texts = [v.string() for v in items[0].each_value()]
    assert any("net VDD: stuck at" in t for t in texts)


def test_pinmap_lists_every_bump_on_a_net_with_its_pad(spec_file, tmp_path):
    pins = tmp_path / "pins.csv"
    _, _, result = _build(
        spec_file,
        tmp_path,
        ("      - {pad: VDD, bump: A2}\n", ""),
        (RDL, "  nets:\n    PWR: {pads: [VDD], bumps: auto}\n" + RDL),
        args=["--pinmap", str(pins)],
    )
    assert result.exit_code == 0, result.output
    assert "bumps chosen        PWR: VDD -> A2" in result.output
    rows = list(csv.DictReader(pins.open()))
    assert list(rows[0]) == ["pad", "bump", "net", "x", "y"]
    by_bump = {row["bump"]: row for row in rows}
    assert set(by_bump) == {"A6", "X1", "A2"}  # A2: the free bump nearest VDD in angle
    assert (by_bump["A2"]["pad"], by_bump["A2"]["net"]) == ("VDD", "PWR")
    assert (float(by_bump["A2"]["x"]), float(by_bump["A2"]["y"])) == (-700.0, 800.0)
    assert (by_bump["X1"]["pad"], by_bump["X1"]["net"]) == ("IO", "IO")  # on its pad
    assert (by_bump["A6"]["pad"], by_bump["A6"]["net"]) == ("GND", "GND")


def test_json_reports_each_net_with_length_and_totals(spec_file, tmp_path):
    _, _, result = _build(spec_file, tmp_path, args=["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    nets = {net["name"]: net for net in report["nets"]}
    vdd = nets["VDD"]
    assert vdd["routed"] is True and vdd["width"] == 20
    assert vdd["terminals"] == ["bump A2", "pad VDD"]
    # at least the straight distance from the pad capture's edge to the bump capture's edge
    assert vdd["length"] >= math.hypot(600, 400) - 42.5 - 135 - 1
    assert nets["IO"]["routed"] is None  # a bump on its pad: nothing to route
    totals = report["totals"]
    assert (totals["to_route"], totals["routed"], totals["unrouted"]) == (2, 2, 0)
    assert totals["length"] == pytest.approx(vdd["length"] + nets["GND"]["length"], abs=1e-3)


def test_a_waypoint_route_reports_its_length_and_bends(spec_file, tmp_path):
    via = "{pad: VDD, bump: A2, via: [[-1000, 1200], [-900, 1200], [-900, 800]]}"
    path, _, result = _build(spec_file, tmp_path, ("{pad: VDD, bump: A2}", via), args=["--json"])
    assert result.exit_code == 0, result.output
    vdd = {net["name"]: net for net in json.loads(result.stdout)["nets"]}["VDD"]
    # pad (-1300, 1200) -> (-1000, 1200) -> (-900, 1200) -> (-900, 800) -> A2 (-700, 800):
    # 300 + 100 + 400 + 200, turning at (-900, 1200) and (-900, 800); (-1000, 1200) is on the way
    assert (vdd["length"], vdd["bends"]) == (pytest.approx(1000, abs=1e-3), 2)
    summary = CliRunner().invoke(main, ["build", str(path), "-o", str(tmp_path / "s.gds")])
    routed = next(line for line in summary.output.splitlines() if line.startswith("RDL nets"))
    total = float(routed.split(", ")[1].removesuffix(" mm"))
    assert total >= 1.0  # the waypoint route's millimetre, and the GND trace's on top


def test_fanin_sample_builds_and_checks_clean(tmp_path):
    out = tmp_path / "fanin.gds"
    pins = tmp_path / "pins.csv"
    result = CliRunner().invoke(
        main,
        ["build", str(FANIN_100), "-o", str(out), "--json", "--pinmap", str(pins)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["totals"]["unrouted"] == 0
    assert report["totals"]["routed"] == report["totals"]["to_route"] == 80
    checked = CliRunner().invoke(main, ["check", str(out), "--spec", str(FANIN_100)])
    assert checked.exit_code == 0, checked.output
    design = loads(FANIN_100.read_text(), base=FANIN_100.parent)
    gds = GdsReader(out)
    die = gds.cell("fanin_100_DIE")
    rdl = gds.region("RDL", die, flat=True).merged()
    pads = {p.name: p for p in design.spec.die.pads}
    for net in design.nets:
        points = [tuple(pads[p].at) for p in net.pads]
        points += [(design.site(b).x, design.site(b).y) for b in net.bumps]
        assert _connected(rdl, gds, points), net.name


def test_teardrops_add_metal_only_at_the_captures_and_stay_clean(spec_file, tmp_path):
    _, plain_out, plain = _build(spec_file, tmp_path)
    assert plain.exit_code == 0, plain.output
    plain_rdl = _rdl(GdsReader(plain_out))
    path = spec_file((RDL, RDL + "    teardrop: true\n"), name="drops.yaml")
    out = tmp_path / "drops.gds"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out), "--die-only"])
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    extra = _rdl(gds) - plain_rdl
    assert extra.area() * gds.layout.dbu**2 > 100
    # pad captures reach 42.5 um, UBM captures 135 um; a drop ends half a reach past them
    ends = {(-1300, 1200): 42.5, (1300, 1200): 42.5, (-700, 800): 135, (900, 800): 135}
    for polygon in extra.each():
        box = polygon.bbox()
        x, y = box.center().x * gds.layout.dbu, box.center().y * gds.layout.dbu
        assert any(math.hypot(x - cx, y - cy) <= 1.5 * r + 10 for (cx, cy), r in ends.items())
    checked = CliRunner().invoke(main, ["check", str(out), "--spec", str(path)])
    assert checked.exit_code == 0, checked.output
