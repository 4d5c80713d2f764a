"""The connectivity check: nets extracted from a written GDS with KLayout against the spec's.

Layouts are built from specs, written, read back and edited with ``klayout.db`` (a trace
deleted, a bridge added), then checked through the CLI; what the check must name comes from the
spec's routes and pad positions, worked out here."""

from __future__ import annotations

import json
from pathlib import Path

import klayout.db as kdb
import klayout.rdb as rdb
import pytest
import yaml
from click.testing import CliRunner

from masklayout import layout, spec
from masklayout.checks import check_gds, connectivity
from masklayout.checks.connectivity import expected_nets
from masklayout.cli import main
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC, SAMPLES

NET_RULES = ("NET.OPEN", "NET.SHORT", "NET.WRONG")
TECH = load_tech("wlcsp-400")


# BASE_SPEC with its two traces pinned where the tests below edit next to them: VDD along
# y = 1200 from x -1300 to -700, then down to A2; GND along y = 1200 from 1300 to 900, down to A6.
PINNED_SPEC = BASE_SPEC.replace(
    "{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, via: [[-700, 1200]]}"
).replace("{pad: GND, bump: A6}", "{pad: GND, bump: A6, via: [[900, 1200]]}")


def built(tmp_path: Path, text: str = PINNED_SPEC, name: str = "s") -> tuple[Path, Path]:
    """The spec written to ``name.yaml`` and its wafer built to ``name.gds`` by the CLI."""
    spec_path, gds = tmp_path / f"{name}.yaml", tmp_path / f"{name}.gds"
    spec_path.write_text(text)
    result = CliRunner().invoke(main, ["build", str(spec_path), "-q", "-o", str(gds)])
    assert result.exit_code == 0, result.output
    return spec_path, gds


def edit_die(gds: Path, change) -> None:
    """Read ``gds`` back, apply ``change(layout, die_cell)``, write it again."""
    layout = kdb.Layout()
    layout.read(str(gds))
    (die,) = [c for c in layout.each_cell() if c.name.endswith("_DIE")]
    change(layout, die)
    layout.write(str(gds))


def checked(spec_path: Path, gds: Path, tmp_path: Path) -> tuple[int, dict, rdb.ReportDatabase]:
    """``masklayout check GDS --spec SPEC --json -o markers.lyrdb``: exit code, JSON, markers."""
    markers = tmp_path / "markers.lyrdb"
    args = ["check", str(gds), "--spec", str(spec_path), "--json", "-o", str(markers)]
    result = CliRunner().invoke(main, args)
    database = rdb.ReportDatabase("")
    database.load(str(markers))
    return result.exit_code, json.loads(result.output), database


def net_markers(report: dict) -> dict[str, list[dict]]:
    return {r["name"]: r["markers"] for r in report["rules"] if r["name"] in NET_RULES}


def box_of(marker: dict) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in marker["points"]], [p[1] for p in marker["points"]]
    return min(xs), min(ys), max(xs), max(ys)


def inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def rdb_polygons(database: rdb.ReportDatabase, category: str) -> list[kdb.DBox]:
    (cat,) = [c for c in database.each_category() if c.name() == category]
    return [
        value.polygon().bbox()
        for item in database.each_item_per_category(cat.rdb_id())
        for value in item.each_value()
        if value.is_polygon()
    ]


# --------------------------------------------------------------------------- expected nets
def test_expected_nets_are_the_routes_and_the_bumps_on_pads():
    """BASE_SPEC routes VDD to A2 and GND to A6 and puts X1 on pad IO; nothing else is wired."""
    assert expected_nets(spec.loads(BASE_SPEC)) == {
        "VDD": {"pad VDD", "bump A2"},
        "GND": {"pad GND", "bump A6"},
        "IO": {"pad IO", "bump X1"},
    }


@pytest.mark.parametrize(
    "sample", ["wlcsp_rdl_400.yaml", "wlcsp_on_pad.yaml", "flow_c1_two_masks.yaml"]
)
def test_built_samples_connect_exactly_their_routes(sample, tmp_path):
    """Routed, on-pad and unwired bumps (flow_c1: 25 bumps, no pads, each its own net)."""
    design = spec.load(SAMPLES / sample)
    gds = tmp_path / "sample.gds"
    layout.write(layout.build(design, die_only=True), gds)
    report = check_gds(gds, design.tech, design)
    assert {name: report.result(name).count for name in NET_RULES} == dict.fromkeys(NET_RULES, 0)
    assert all(report.result(name).skipped is None for name in NET_RULES)


def test_a_gds_without_its_spec_skips_the_nets(tmp_path):
    _, gds = built(tmp_path)
    report = check_gds(gds, TECH)
    assert {report.result(name).skipped for name in NET_RULES} == {"needs --spec (the nets)"}


# --------------------------------------------------------------------------- defects
def test_a_deleted_trace_is_an_open_on_its_net_marked_where_it_ran(tmp_path):
    """VDD at (-1300, 1200) routes to A2 at (-700, 800) (6 x 5 array at 400 centred on
    (-100, 0), row A at y 800): its trace, with the pad's capture, is one RDL shape over the
    pad. Deleted, the pad and the bump are two pieces; the marker spans the L's corner."""
    spec_path, gds = built(tmp_path)

    def delete_vdd_trace(layout: kdb.Layout, die: kdb.Cell) -> None:
        rdl = die.shapes(layout.layer(12, 0))
        (trace,) = [s for s in rdl.each() if s.polygon.inside(kdb.Point(-1300000, 1200000))]
        rdl.erase(trace)

    edit_die(gds, delete_vdd_trace)
    code, report, database = checked(spec_path, gds, tmp_path)
    assert code == 1
    found = net_markers(report)
    assert [len(found[name]) for name in NET_RULES] == [1, 0, 0]
    (open_,) = found["NET.OPEN"]
    assert open_["value"] == 2
    assert "net VDD" in open_["note"] and "pad VDD | bump A2" in open_["note"]
    box = box_of(open_)
    for point in ((-1300, 1200), (-700, 800), (-700, 1200)):
        assert inside(point, box)
    assert open_["placements"] > 1  # the die cell, once per die on the wafer
    (marker,) = rdb_polygons(database, "NET.OPEN")
    assert marker.contains(kdb.DPoint(-700, 1200))


def test_an_rdl_bridge_between_two_nets_is_a_short_naming_both_where_they_touch(tmp_path):
    """VDD's trace runs along y = 1200 from x -1300 to -700, GND's from 1300 to 900: a bar
    from x -700 to 900 at y 1200 joins them and touches nothing else."""
    spec_path, gds = built(tmp_path)
    edit_die(gds, lambda layout, die: die.shapes(layout.layer(12, 0)).insert(
        kdb.DBox(-700, 1190, 900, 1210)))  # fmt: skip
    code, report, database = checked(spec_path, gds, tmp_path)
    assert code == 1
    found = net_markers(report)
    assert [len(found[name]) for name in NET_RULES] == [0, 1, 0]
    (short,) = found["NET.SHORT"]
    assert short["value"] == 2
    assert "net GND (pad GND, bump A6)" in short["note"]
    assert "net VDD (pad VDD, bump A2)" in short["note"]
    x0, y0, x1, y1 = box_of(short)
    assert y0 >= 1190 - 20 and y1 <= 1210 + 20  # on the bar (where it meets a trace)
    assert -700 - 20 <= x0 <= x1 <= 900 + 20
    assert len(rdb_polygons(database, "NET.SHORT")) == 1


def test_a_trace_run_onto_a_bump_of_no_net_is_a_wrong_connection(tmp_path):
    """A bar from A2's capture (-700, 800) to unrouted A3 (-300, 800) wires A3 into VDD."""
    spec_path, gds = built(tmp_path)
    edit_die(gds, lambda layout, die: die.shapes(layout.layer(12, 0)).insert(
        kdb.DBox(-700, 790, -300, 810)))  # fmt: skip
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    found = net_markers(report)
    assert [len(found[name]) for name in NET_RULES] == [0, 0, 1]
    (wrong,) = found["NET.WRONG"]
    assert wrong["note"] == "net VDD also connects bump A3 (in no net)"
    x0, _, x1, _ = box_of(wrong)
    assert -700 <= x0 <= x1 <= -300 + 135


def test_pads_bridged_under_their_on_pad_bumps_are_a_short(tmp_path):
    """wlcsp_on_pad: bump A1 on pad PA1 at (-1250, 1250), A2 on PA2 at (-750, 1250), both
    240 um square; a PAD bar between the two pads joins the two nets. Pads and bar touch, one
    PAD shape under both bumps, yet the marker is on the bar between the pads."""
    text = (SAMPLES / "wlcsp_on_pad.yaml").read_text()
    spec_path, gds = built(tmp_path, text, "on_pad")
    edit_die(gds, lambda layout, die: die.shapes(layout.layer(10, 0)).insert(
        kdb.DBox(-1250, 1240, -750, 1260)))  # fmt: skip
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    (short,) = net_markers(report)["NET.SHORT"]
    assert "net PA1 (pad PA1, bump A1)" in short["note"]
    assert "net PA2 (pad PA2, bump A2)" in short["note"]
    assert not net_markers(report)["NET.OPEN"]
    x0, y0, x1, y1 = box_of(short)
    assert -1250 + 120 - 10 <= x0 <= x1 <= -750 - 120 + 10
    assert 1240 - 10 <= y0 <= y1 <= 1260 + 10


def test_a_pad_wired_to_the_wrong_bump_is_one_wrong_connection_naming_the_bump_left_apart(
    tmp_path,
):
    """VDD's trace replaced by one from its pad down x = -1300 and across y = 400 to B1
    (-1100, 400), a bump of no net: one NET.WRONG that names B1 and A2 (VDD's own bump, now
    alone), and no NET.OPEN besides."""
    spec_path, gds = built(tmp_path)

    def rewire(layout: kdb.Layout, die: kdb.Cell) -> None:
        rdl = die.shapes(layout.layer(12, 0))
        (trace,) = [s for s in rdl.each() if s.polygon.inside(kdb.Point(-1300000, 1200000))]
        rdl.erase(trace)
        for box in (
            (-1340, 1160, -1260, 1240),
            (-1310, 390, -1290, 1200),
            (-1310, 390, -1100, 410),
        ):
            rdl.insert(kdb.DBox(*box))

    edit_die(gds, rewire)
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    found = net_markers(report)
    assert [len(found[name]) for name in NET_RULES] == [0, 0, 1]
    (wrong,) = found["NET.WRONG"]
    assert wrong["note"] == "net VDD also connects bump B1 (in no net); apart from it: bump A2"
    x0, y0, x1, y1 = box_of(wrong)  # somewhere on the new wire (it is as narrow everywhere)
    assert -1340 <= x0 <= x1 <= -1100 + 135
    assert 400 - 135 <= y0 <= y1 <= 1240
    assert x1 - x0 < 100 and y1 - y0 < 100


def _bridge_and_merge(layout: kdb.Layout, die: kdb.Cell) -> None:
    """VDD's trace corner (-700, 1200) joined by a 20 um neck (x -700 to -600) to a 200 um
    block (x -600 to 900) over GND's trace end, the die's RDL merged into one polygon."""
    rdl = die.shapes(layout.layer(12, 0))
    rdl.insert(kdb.DBox(-700, 1190, -600, 1210))
    rdl.insert(kdb.DBox(-600, 1100, 900, 1300))
    merged = kdb.Region(rdl).merged()
    rdl.clear()
    rdl.insert(merged)
    assert rdl.size() == 1


def test_a_short_inside_one_merged_rdl_shape_is_marked_at_its_narrowest_neck(tmp_path):
    """VDD's trace corner (-700, 1200) joined by a 20 um neck (x -700 to -600) to a 200 um
    block (x -600 to 900) over GND's trace end, all merged into one RDL polygon as the layout
    draws metal (no seam between the nets): the marker is still the neck, where the walk out
    from VDD's terminals meets the walk from GND's (KLayout hands the net back in pieces)."""
    spec_path, gds = built(tmp_path)
    edit_die(gds, _bridge_and_merge)
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    (short,) = net_markers(report)["NET.SHORT"]
    assert "net GND" in short["note"] and "net VDD" in short["note"]
    x0, y0, x1, y1 = box_of(short)
    assert -710 <= x0 <= x1 <= -590
    assert 1180 <= y0 <= y1 <= 1220


def test_a_short_of_more_parts_than_the_neck_search_takes_is_marked_by_its_box(
    tmp_path, monkeypatch
):
    """The same merged short with the neck search limited to one part (a mesh of many nets
    would cost one max flow per part): the marker is the joined net's box, reaching from VDD's
    metal to the far end of the 200 um block (x 900), not the neck."""
    monkeypatch.setattr(connectivity, "NECK_PARTS", 1)
    spec_path, gds = built(tmp_path)
    edit_die(gds, _bridge_and_merge)
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    (short,) = net_markers(report)["NET.SHORT"]
    x0, y0, x1, y1 = box_of(short)
    assert x0 < -700 and x1 >= 900 and y1 >= 1300


def test_of_two_necks_in_series_the_short_is_marked_at_the_narrower(tmp_path):
    """VDD's corner (-700, 1200) -> a 40 um neck (x -700 to -500) -> block B -> a 12 um neck
    running up and down (x 150 to 162, y 1050 to 1150) -> block D over GND's trace down to A6
    (x 890 to 910), all merged into one RDL polygon; clear of the unrouted bumps of row A (UBM
    up to y 925). Any other cut between the nets is wider (40 um at the first neck or across
    both legs of either net's trace), so the marker is the 12 um neck, cut across its length,
    not the wider one, nor halfway between the nets' terminals (in block B or D)."""
    spec_path, gds = built(tmp_path)
    wide = (-700, 1180, -500, 1220)
    narrow = (150, 1050, 162, 1150)

    def two_necks(layout: kdb.Layout, die: kdb.Cell) -> None:
        rdl = die.shapes(layout.layer(12, 0))
        for box in (wide, (-500, 1150, 300, 1290), narrow, (100, 950, 900, 1050)):
            rdl.insert(kdb.DBox(*box))
        merged = kdb.Region(rdl).merged()
        rdl.clear()
        rdl.insert(merged)
        assert rdl.size() == 1

    edit_die(gds, two_necks)
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    (short,) = net_markers(report)["NET.SHORT"]
    assert "net GND" in short["note"] and "net VDD" in short["note"]
    x0, y0, x1, y1 = box_of(short)
    margin = 10  # a pixel or two of the search's raster either side of the cut
    assert narrow[0] - margin <= x0 <= x1 <= narrow[2] + margin
    assert narrow[1] - margin <= y0 <= y1 <= narrow[3] + margin


def test_a_gds_checked_with_a_spec_of_another_die_is_refused_not_found_clean(tmp_path):
    _, gds = built(tmp_path, BASE_SPEC)
    wafer = yaml.safe_load(BASE_SPEC)["wafer"]
    (sx, sy), scribe = wafer["die_step"], wafer["scribe"]
    edited = tmp_path / "edited.yaml"  # the die made 400 µm wider after the build
    edited.write_text(BASE_SPEC.replace(f"die_step: [{sx}, {sy}]", f"die_step: [{sx + 400}, {sy}]"))
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", str(edited), "--json"])
    assert result.exit_code == 2, result.output
    assert (
        f"{gds}: the layout's die is {sx - scribe} x {sy - scribe} µm, the spec's "
        f"{sx + 400 - scribe} x {sy - scribe} (die_step less scribe)"
    ) in json.loads(result.stdout)["error"]
    other = tmp_path / "other.yaml"
    other.write_text(BASE_SPEC.replace("name: small", "name: other"))
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", str(other)])
    assert result.exit_code == 2, result.output
    assert "the layout was built from spec 'small', not 'other'" in result.stderr
    assert "Traceback" not in result.output
