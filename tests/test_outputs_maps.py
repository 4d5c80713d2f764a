"""Bump map and wafer map CSV: every bump and every die position of the built wafer."""

from __future__ import annotations

import csv

import klayout.db as kdb
import numpy as np
import pytest
from click.testing import CliRunner

from masklayout import outputs, spec
from masklayout.cli import main
from masklayout.geometry.wafer import place_dies
from tests.helpers import BASE_BUMPS_PER_DIE, BASE_SPEC, GdsReader, base_spec_dies


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The base spec built from stdin with both maps: (gds, bump rows, wafer rows)."""
    tmp_path = tmp_path_factory.mktemp("maps")
    out, bumps, dies = tmp_path / "m.gds", tmp_path / "bumps.csv", tmp_path / "dies.csv"
    result = CliRunner().invoke(
        main,
        ["build", "-", "-o", str(out), "--bumpmap", str(bumps), "--wafermap", str(dies), "--json"],
        input=BASE_SPEC,
    )
    assert result.exit_code == 0, result.output
    return out, _rows(bumps), _rows(dies)


def _centres(region: kdb.Region, dbu: float) -> set[tuple[float, float]]:
    return {
        (round(p.bbox().center().x * dbu, 3), round(p.bbox().center().y * dbu, 3))
        for p in region.each()
    }


def test_every_bump_of_the_map_is_a_distinct_ubm_of_the_gds(built):
    out, bumps, _ = built
    gds = GdsReader(out)
    ubms = gds.region("UBM", flat=True)
    ubms.merged_semantics = False  # one polygon per shape
    mapped = {(float(r["wafer_x_um"]), float(r["wafer_y_um"])) for r in bumps}
    assert len(mapped) == len(bumps) == base_spec_dies() * BASE_BUMPS_PER_DIE
    assert mapped <= _centres(ubms, gds.layout.dbu)  # the GDS adds only alignment marks


def test_bump_map_wafer_coordinates_are_the_die_centre_plus_the_die_coordinates(built):
    _, bumps, dies = built
    centre = {r["die"]: (float(r["x_um"]), float(r["y_um"])) for r in dies if r["die"]}
    for row in bumps[::97]:
        cx, cy = centre[row["die"]]
        assert float(row["wafer_x_um"]) == pytest.approx(cx + float(row["die_x_um"]), abs=1e-3)
        assert float(row["wafer_y_um"]) == pytest.approx(cy + float(row["die_y_um"]), abs=1e-3)


def test_bump_map_names_stacks_and_nets_from_the_pads(built):
    _, bumps, _ = built
    die0 = {r["bump"]: r for r in bumps if r["die"] == "0"}
    assert len(die0) == 30 and "A1" not in die0  # A1 is skipped
    assert die0["A2"]["net"] == "VDD" and die0["A6"]["net"] == "GND"  # routed
    assert die0["X1"]["net"] == "IO"  # on the pad
    assert die0["B3"]["net"] == ""
    assert {r["stack"] for r in die0.values()} == {"std"}
    assert (die0["X1"]["die_x_um"], die0["X1"]["die_y_um"]) == ("1200.000", "-1100.000")


def test_a_net_with_a_comma_is_quoted_and_reads_back_whole(tmp_path):
    design = spec.loads(
        BASE_SPEC.replace(
            "{name: X1, stack: std, on_pad: IO}", '{name: X1, stack: std, on_pad: IO, net: "IO,1"}'
        )
    )
    path = tmp_path / "bumps.csv"
    outputs.write_bumpmap(design, place_dies(design.spec.wafer), path)
    assert {r["net"] for r in _rows(path) if r["bump"] == "X1"} == {"IO,1"}


def test_the_wafer_map_lists_full_dies_by_index_and_partial_dies_without(built):
    out, _, dies = built
    full = [r for r in dies if r["status"] == "full"]
    partial = [r for r in dies if r["status"] == "partial"]
    assert [int(r["die"]) for r in full] == list(range(base_spec_dies()))
    assert partial and all(r["die"] == "" for r in partial)
    assert len(full) + len(partial) == len(dies)
    gds = GdsReader(out)
    assert _centres(gds.region("DIE", flat=True), gds.layout.dbu) == {
        (float(r["x_um"]), float(r["y_um"])) for r in full
    }


def test_wafer_map_columns_and_rows_count_steps_from_the_lower_left_position(built):
    _, _, dies = built
    design = spec.loads(BASE_SPEC)
    step_x, step_y = design.spec.wafer.die_step
    col = np.array([int(r["column"]) for r in dies])
    row = np.array([int(r["row"]) for r in dies])
    x = np.array([float(r["x_um"]) for r in dies])
    y = np.array([float(r["y_um"]) for r in dies])
    assert col.min() == 0 and row.min() == 0
    np.testing.assert_allclose(x, x[col == 0][0] + col * step_x)
    np.testing.assert_allclose(y, y[row == 0][0] + row * step_y)
    assert len({(c, r) for c, r in zip(col, row, strict=True)}) == len(dies)


def test_maps_need_the_wafer_and_nothing_is_written_with_die_only(spec_file, tmp_path):
    bumps = tmp_path / "bumps.csv"
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(spec_file()),
            "--die-only",
            "--bumpmap",
            str(bumps),
            "-o",
            str(tmp_path / "d.gds"),
        ],
    )
    assert result.exit_code == 2
    assert "--die-only" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_bad_spec_writes_no_layout_no_lyp_and_no_maps(spec_file, tmp_path):
    bad = spec_file(("stack: std\n      skip", "stack: sdt\n      skip"))
    result = CliRunner().invoke(
        main,
        ["build", str(bad), "-o", str(tmp_path / "m.gds"), "--bumpmap", str(tmp_path / "b.csv"),
         "--wafermap", str(tmp_path / "w.csv")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "unknown stack 'sdt'" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]
