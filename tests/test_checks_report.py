"""The check report: the marker database reads back with klayout.rdb and holds the markers the
table counts; the CLI's table, JSON and exit codes."""

from __future__ import annotations

import json

import klayout.rdb as rdb
from click.testing import CliRunner

from masklayout.checks import check_gds, to_json, to_table, write_rdb
from masklayout.cli import main
from tests.test_checks_rules import DIE_ORIGIN, TECH, box, circle, write_gds

BAD = [
    box("PAD", (1000, -1000), (80, 80)),
    box("PI1", (1000, -1000), (30, 30)),  # PI1.W
    circle("UBM", 250, (-1000, -1000)),
    circle("UBM", 250, (-610, -1000)),  # BUMP.PITCH
]


def bad_bump() -> list:
    return [circle("UBM", 250), circle("PI2", 240), circle("SM1", 270), circle("SM2", 350)]


def test_marker_database_reads_back_with_the_markers_the_table_counts(tmp_path):
    gds = write_gds(tmp_path / "bad.gds", BAD, bump=bad_bump())
    report = check_gds(gds, TECH)
    path = write_rdb(report, tmp_path / "bad.lyrdb", str(gds))
    database = rdb.ReportDatabase("")
    database.load(str(path))
    assert database.num_items() == sum(r.count for r in report.results) == 3
    assert database.top_cell_name == "TOP" and database.original_file == str(gds)
    per_category = {c.name(): c.num_items() for c in database.each_category()}
    assert per_category["PI1.W"] == 1 and per_category["BUMP.PITCH"] == 1
    assert per_category["UBM.EN.PI2"] == 1
    cells = {c.name(): c for c in database.each_cell()}
    (ref,) = list(cells["DIE"].each_reference())
    assert ref.trans.disp.x == DIE_ORIGIN[0] and ref.trans.disp.y == DIE_ORIGIN[1]
    assert cells["BUMP"].num_items() == 1
    item = next(iter(cells["DIE"].each_item()))
    assert any(v.is_edge_pair() or v.is_polygon() for v in item.each_value())


def test_table_and_json_give_counts_per_cell_with_placements(tmp_path):
    report = check_gds(write_gds(tmp_path / "bad.gds", BAD, bump=bad_bump()), TECH)
    table = to_table(report)
    assert "PI1.W" in table and "1 in DIE x2" in table and "1 in BUMP x4" in table
    data = to_json(report)
    rule = next(r for r in data["rules"] if r["name"] == "UBM.EN.PI2")
    assert rule["violations"] == 1 and rule["on_wafer"] == 4
    assert rule["cells"] == [{"cell": "BUMP", "violations": 1, "placements": 4}]
    assert data["errors"] == 3


def test_check_cli_exit_codes_and_outputs(tmp_path, spec_file):
    runner = CliRunner()
    clean = runner.invoke(main, ["check", str(spec_file())])
    assert clean.exit_code == 0, clean.output
    assert "clean" in clean.output

    bad = write_gds(tmp_path / "bad.gds", BAD)
    markers = tmp_path / "out" / "bad.lyrdb"
    found = runner.invoke(
        main, ["check", str(bad), "--tech", "wlcsp-400", "-o", str(markers), "--json"]
    )
    assert found.exit_code == 1
    data = json.loads(found.output)
    assert data["failed"] and data["errors"] == 2 and markers.is_file()

    warned = spec_file(("SM1: {thickness: 60", "SM1: {thickness: 110"))
    assert runner.invoke(main, ["check", str(warned)]).exit_code == 0
    assert runner.invoke(main, ["check", str(warned), "--strict"]).exit_code == 1

    assert runner.invoke(main, ["check", str(tmp_path / "missing.gds")]).exit_code == 2
    broken = tmp_path / "broken.gds"
    broken.write_bytes(b"not a layout")
    result = runner.invoke(main, ["check", str(broken)])
    assert result.exit_code == 2 and "cannot read the layout" in result.output
    typo = runner.invoke(main, ["check", str(spec_file(("stack: std\n", "stack: sdt\n")))])
    assert typo.exit_code == 2 and "unknown stack 'sdt'" in typo.output
    assert not (tmp_path / "spec.lyrdb").exists()


def test_gds_with_its_spec_gets_films_thicknesses_and_balls(tmp_path, spec_file):
    path = spec_file()
    gds = tmp_path / "small.gds"
    assert CliRunner().invoke(main, ["build", str(path), "-o", str(gds)]).exit_code == 0
    runner = CliRunner()
    alone = json.loads(runner.invoke(main, ["check", str(gds), "--json"]).output)
    with_spec = json.loads(runner.invoke(main, ["check", str(gds), "--spec", str(path), "--json"]).output)  # fmt: skip
    status = {r["name"]: r["status"] for r in alone["rules"]}
    assert status["BALL.W"] == status["SM.AR:SM1"] == "skipped"
    status = {r["name"]: r["status"] for r in with_spec["rules"]}
    assert status["BALL.W"] == status["BALL.GAP"] == status["SM.AR:SM1"] == "ok"
