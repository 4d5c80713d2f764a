"""build validates the whole spec (flow included) and refuses zero dies; dies are counted
against the exact usable area; a GDS records its tech and check reads it with that tech."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gdstk
import klayout.db as kdb
import pytest
from click.testing import CliRunner

from masklayout.cli import main
from masklayout.geometry.wafer import place_dies, usable_area
from masklayout.spec import Wafer
from tests.helpers import full_dies


def _build(spec: Path, out: Path, *more: str):
    return CliRunner().invoke(main, ["build", str(spec), "-o", str(out), "-q", *more])


def test_build_refuses_a_malformed_flow_writing_nothing(spec_file, tmp_path):
    # the first reflow comes before any deposit: nothing to melt
    path = spec_file(
        (
            "  - {step: deposit, into: SM1, solder: SAC305-paste-T6}\n  - {step: reflow, peak: 245}\n",
            "  - {step: reflow, peak: 245}\n  - {step: deposit, into: SM1, solder: SAC305-paste-T6}\n",
        )
    )
    out = tmp_path / "out" / "x.gds"
    result = _build(path, out)
    assert result.exit_code == 2, result.output
    assert f"{path}:37:20: process[1].peak: reflow with nothing to melt" in result.stderr
    assert "reflow with nothing to melt" in result.stderr
    assert not (tmp_path / "out").exists()


def test_zero_dies_is_an_error_naming_wafer_step_and_usable_diameter(spec_file, tmp_path):
    path = spec_file(("die_step: [3080, 2680]", "die_step: [95 mm, 2680]"))
    out = tmp_path / "out" / "x.gds"
    result = _build(path, out, "--split", str(tmp_path / "out" / "masks"))
    assert result.exit_code == 2, result.output
    # 100 mm wafer less 2 x 3 mm: 94 mm usable, narrower than the 94.92 mm die
    assert result.stderr.startswith(
        f"{path}:8:3: wafer.die_step: no full die fits on the wafer: die step 95000 x 2680 µm "
        "(die 94920 x 2600) on a 100 mm notch wafer whose usable diameter is 94 mm"
    )
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- exact dies
@pytest.mark.parametrize("orientation", ["notch", "none"])
def test_300mm_wafer_counts_dies_against_the_exact_usable_area(orientation):
    wafer = Wafer(
        diameter="300 mm",
        orientation=orientation,
        edge_exclusion="3 mm",
        die_step=["7 mm", "6 mm"],
        scribe=100,
    )
    grid = place_dies(wafer)
    offsets = [(0.0, 0.0), (0.0, 3000.0), (3500.0, 0.0), (3500.0, 3000.0)]
    counts = [
        full_dies(150000.0, 3000.0, (7000.0, 6000.0), (6900.0, 5900.0), o, orientation == "notch")
        for o in offsets
    ]
    best = max(counts)
    assert (grid.count, grid.offset) == (best, offsets[counts.index(best)])
    # the figure for the circle alone; the notch keep-out takes the bottom centre die
    assert best == (1532 if orientation == "notch" else 1533)


def test_the_drawn_usable_area_holds_the_exact_one():
    wafer = Wafer(
        diameter="300 mm", orientation="notch", edge_exclusion="3 mm", die_step=[7000, 6000]
    )
    (drawn,) = usable_area(wafer)
    polygon = kdb.DPolygon([kdb.DPoint(x, y) for x, y in drawn.points])
    usable, apex = 147000.0, -149000.0
    circle = [
        (usable * math.cos(t), usable * math.sin(t))
        for t in (2 * math.pi * k / 7200 for k in range(7200))
    ]
    # away from the notch the circle; near it the keep-out's arc 3 mm around the apex
    far = [p for p in circle if math.hypot(p[0], p[1] - apex) > 3000.0 + 2000.0]
    arc = [
        (3000.0 * math.cos(t), apex + 3000.0 * math.sin(t))
        for t in (math.radians(45 + 90 * k / 200) for k in range(201))
    ]
    outside = [p for p in far + arc if not polygon.inside(kdb.DPoint(*p))]
    assert not outside
    # one polygon GDSII keeps whole, no larger than it must be: the vertices of the 176-gon
    # around the circle (192 less room for the notch's arc)
    assert len(drawn.points) <= 199
    largest = max(math.hypot(x, y) for x, y in drawn.points)
    assert largest == pytest.approx(usable / math.cos(math.pi / 176), abs=0.01)
    assert not polygon.inside(kdb.DPoint(0.0, apex + 3000.0 - 10.0))


# --------------------------------------------------------------------------- the GDS's tech
def _property(gds: Path, key: int) -> set[str]:
    layout = kdb.Layout()
    layout.read(str(gds))
    found = set()
    for cell in layout.each_cell():
        for index in layout.layer_indexes():
            for shape in cell.shapes(index).each():
                if shape.property(key) is not None:
                    found.add(shape.property(key))
    return found


def test_a_gds_built_with_wlcsp_500_is_checked_with_wlcsp_500(spec_file, tmp_path):
    path = spec_file(("tech: wlcsp-400", "tech: wlcsp-500"))
    gds = tmp_path / "small.gds"
    assert _build(path, gds).exit_code == 0
    assert _property(gds, 126) == {"wlcsp-500"} and _property(gds, 127) == {"small"}
    result = CliRunner().invoke(main, ["check", str(gds), "--json"])
    report = json.loads(result.stdout)
    assert report["tech"] == "wlcsp-500"
    pitch = next(r for r in report["rules"] if r["name"] == "BUMP.PITCH")
    assert pitch["limit"] == 500 and pitch["status"] != "ok"  # the 400 µm pitch is too tight
    assert result.exit_code == 1


def test_check_refuses_to_guess_the_tech_of_a_gds_that_records_none(tmp_path):
    gds = tmp_path / "other.gds"
    library = gdstk.Library()
    library.new_cell("TOP").add(gdstk.rectangle((0, 0), (300, 300), layer=14))
    library.write_gds(gds)
    result = CliRunner().invoke(main, ["check", str(gds)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{gds}: the layout records no tech")
    assert CliRunner().invoke(main, ["check", str(gds), "--tech", "wlcsp-400"]).exit_code == 0


def test_check_refuses_a_tech_other_than_the_one_the_gds_was_built_with(spec_file, tmp_path):
    gds = tmp_path / "small.gds"
    assert _build(spec_file(), gds).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(gds), "--tech", "wlcsp-500"])
    assert result.exit_code == 2
    assert "built with tech 'wlcsp-400', but --tech is 'wlcsp-500'" in result.stderr
