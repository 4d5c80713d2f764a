"""Bump maps in: CSV and AIF files import to the same bump sites and the same layout as the
equivalent YAML, and the units, origin and mirror options move the sites as they should."""

from __future__ import annotations

from pathlib import Path

import klayout.db as kdb
import pytest

from masklayout import Design, load, loads
from masklayout.bumpmap import BumpFile, BumpMap, Row, parse_aif, parse_csv, place
from masklayout.layout import build, write
from tests.helpers import BASE_SPEC, SAMPLES, GdsReader

FIXTURES = Path(__file__).parent / "fixtures" / "bumpmaps"
ARRAY = (
    "    - array: {pitch: 400, count: [6, 5], center: [-100, 0]}\n"
    "      stack: std\n"
    "      skip: [A1]\n"
)

# Each fixture holds BASE_SPEC's 6 x 5 array (A1 skipped), written another way.
EQUIVALENT = {
    "csv": "{file: grid.csv}",
    "csv in mm from the lower-left corner": (
        "{file: grid_mm_lower_left.csv, units: mm, origin: lower_left}"
    ),
    "AIF I": "{file: grid_aif1.aif, names: ball}",
    "AIF II, top view, CENTER at the lower-left corner": (
        "{file: grid_aif2_top_view.aif, names: ball, mirror: true}"
    ),
}


def with_file_entry(entry: str) -> str:
    """BASE_SPEC with its bump array replaced by a file entry."""
    assert ARRAY in BASE_SPEC, "test bug: the base spec's array changed"
    return BASE_SPEC.replace(ARRAY, f"    - {entry}\n")


def sites(design: Design) -> list[tuple[str, float, float, str, int]]:
    return [(s.name, s.x, s.y, s.stack, s.entry) for s in design.sites]


@pytest.fixture(scope="module")
def reference() -> Design:
    return loads(BASE_SPEC)


@pytest.mark.parametrize("entry", EQUIVALENT.values(), ids=EQUIVALENT.keys())
def test_file_imports_the_same_sites_as_the_yaml_array(entry: str, reference: Design) -> None:
    design = loads(with_file_entry(entry), base=FIXTURES)
    assert sites(design) == sites(reference)


@pytest.mark.parametrize("entry", EQUIVALENT.values(), ids=EQUIVALENT.keys())
def test_file_builds_the_same_layers_as_the_yaml_array(
    entry: str, reference: Design, tmp_path: Path
) -> None:
    write(build(reference, die_only=True), tmp_path / "yaml.gds")
    write(build(loads(with_file_entry(entry), base=FIXTURES), die_only=True), tmp_path / "file.gds")
    expected, imported = GdsReader(tmp_path / "yaml.gds"), GdsReader(tmp_path / "file.gds")
    for layer in ("UBM", "PI2", "SM1", "SM2", "RDL", "PI1"):
        want, got = expected.region(layer, flat=True), imported.region(layer, flat=True)
        assert not want.is_empty(), layer
        assert (want ^ got).is_empty(), f"{layer} differs"
    ubm = imported.region("UBM", flat=True).merged()
    assert ubm.count() == len(reference.sites)


def test_nets_come_from_the_file() -> None:
    csv = loads(with_file_entry(EQUIVALENT["csv"]), base=FIXTURES)
    aif = loads(with_file_entry(EQUIVALENT["AIF I"]), base=FIXTURES)
    assert [(s.name, s.net) for s in csv.sites[:3]] == [("A2", "VDD"), ("A3", None), ("A4", None)]
    assert [(s.name, s.net) for s in aif.sites[:3]] == [
        ("A2", "VDD"),
        ("A3", "net2"),
        ("A4", "net3"),
    ]


def test_aif_names_bumps_by_die_pad_number_unless_asked_for_balls() -> None:
    bump_map = parse_aif((FIXTURES / "grid_aif1.aif").read_text(), "grid_aif1.aif")
    by_ball = parse_aif((FIXTURES / "grid_aif1.aif").read_text(), "grid_aif1.aif", "ball")
    assert [r.name for r in bump_map.rows[:3]] == ["1", "2", "3"]
    assert [r.name for r in by_ball.rows[:3]] == ["A2", "A3", "A4"]


def test_aif2_skips_ball_only_rows_and_unknown_sections() -> None:
    bump_map = parse_aif((FIXTURES / "grid_aif2_top_view.aif").read_text(), "x.aif", "ball")
    assert not bump_map.problems
    assert len(bump_map.rows) == 29
    assert "A1" not in {r.name for r in bump_map.rows}
    assert bump_map.units and bump_map.units.value == "mm"
    assert bump_map.die_size and bump_map.die_size.value == (3.0, 2.6)
    assert bump_map.center and bump_map.center.value == (1.5, 1.3)


def test_spec_path_is_relative_to_the_spec_file(tmp_path: Path, monkeypatch) -> None:
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "bumps.csv").write_text((FIXTURES / "grid.csv").read_text())
    (spec_dir / "die.yaml").write_text(with_file_entry("{file: bumps.csv}"))
    monkeypatch.chdir(tmp_path)
    assert len(load("specs/die.yaml").sites) == 30


# --------------------------------------------------------------------------- the options
ONE_ROW = BumpMap("one.csv", (Row("B1", 1.2, 0.5, None, None, 2),))
DIE = (3000.0, 2600.0)


def placed(bump_map: BumpMap, **options) -> tuple[float, float]:
    ((_, x, y),) = place(bump_map, BumpFile(file="one.csv", **options), DIE)
    return x, y


def test_units_scale_the_coordinates() -> None:
    assert placed(ONE_ROW) == (1.2, 0.5)
    assert placed(ONE_ROW, units="mm") == (1200.0, 500.0)
    assert placed(ONE_ROW, units="nm") == (0.001, 0.0)  # 1.2 and 0.5 nm on the grid, half to even
    assert placed(ONE_ROW, units="mil") == (30.48, 12.7)


def test_lower_left_origin_moves_by_half_the_die() -> None:
    assert placed(ONE_ROW, units="mm", origin="center") == (1200.0, 500.0)
    assert placed(ONE_ROW, units="mm", origin="lower_left") == (-300.0, -800.0)


def test_lower_left_origin_uses_the_die_size_the_file_declares() -> None:
    text = "DIE_UNITS=um\nDIE_X=2000\nDIE_Y=1000\n1 1200 500 n1 -\n"
    bump_map = parse_aif(text, "one.aif")
    assert placed(bump_map, origin="lower_left") == (200.0, 0.0)


def test_mirror_negates_x_about_the_die_centre() -> None:
    assert placed(ONE_ROW, units="mm", mirror=True) == (-1200.0, 500.0)
    assert placed(ONE_ROW, units="mm", origin="lower_left", mirror=True) == (300.0, -800.0)


def test_declared_units_and_centre_apply_when_the_spec_says_nothing() -> None:
    text = "[DATABASE]\nTYPE=AIF\nUNITS=MM\n[DIE]\nCENTER=1 1\n[NETLIST]\nn1 1 P 1.2 0.5\n"
    assert placed(parse_aif(text, "one.aif")) == (200.0, -500.0)


def test_mirrored_file_gives_mirrored_sites(reference: Design) -> None:
    mirrored = loads(with_file_entry("{file: grid.csv, mirror: true}"), base=FIXTURES)
    assert [(s.name, -s.x, s.y) for s in mirrored.sites] == [
        (s.name, s.x, s.y) for s in reference.sites if s.name != "X1"
    ] + [("X1", -1200.0, -1100.0)]


def test_csv_stack_column_picks_each_bump_stack(tmp_path: Path) -> None:
    spec = with_file_entry("{file: stacks.csv, stack: std}").replace(
        "stacks:\n  std:",
        "stacks:\n  big:\n    ubm: {diameter: 300}\n    pi2: {diameter: 260}\n"
        "    openings: [{mask: SM1, diameter: 320}, {mask: SM2, diameter: 380}]\n  std:",
    )
    (tmp_path / "stacks.csv").write_text(
        "name,x,y,stack\nA2,-700,800,big\nA3,-300,800,\nA6,900,800,\n"
    )
    design = loads(spec, base=tmp_path)
    assert [(s.name, s.stack) for s in design.sites] == [
        ("A2", "big"),
        ("A3", "std"),
        ("A6", "std"),
        ("X1", "std"),
    ]


def test_csv_accepts_quotes_semicolons_bom_and_missing_trailing_cells() -> None:
    text = '\ufeff# exported\nName;X;Y;Net\n"A 1";-1.5;2\n"B;2";3;4;"VDD"\n'
    bump_map = parse_csv(text, "q.csv")
    assert not bump_map.problems
    assert [(r.name, r.x, r.y, r.net, r.line) for r in bump_map.rows] == [
        ("A 1", -1.5, 2.0, None, 3),
        ("B;2", 3.0, 4.0, "VDD", 4),
    ]


def test_csv_net_dash_is_no_net_as_in_aif_so_the_bump_stays_free() -> None:
    # '-' is AIF's "no net"; a CSV exported the same way must not put its bumps on a net
    # named '-', which would take them from bumps: auto and from the count of free bumps
    bump_map = parse_csv("name,x,y,net\nA1,0,0,-\nA2,400,0, - \nA3,800,0,-VDD\n", "d.csv")
    assert not bump_map.problems
    assert [(r.name, r.net) for r in bump_map.rows] == [("A1", None), ("A2", None), ("A3", "-VDD")]


def test_csv_quoted_name_keeps_its_delimiter_and_doubled_quote() -> None:
    text = 'name,x,y,net\n"A,1""x", 10 ,-20,"V,DD"\n'
    bump_map = parse_csv(text, "q.csv")
    assert not bump_map.problems
    assert [(r.name, r.x, r.y, r.net) for r in bump_map.rows] == [('A,1"x', 10.0, -20.0, "V,DD")]


def test_csv_bad_number_in_a_quoted_field_is_reported_at_its_line_and_column() -> None:
    # line 3: '"A,1""x",' takes columns 1-9, x '5' is 10, ',' 11, ' ' 12: the quote of y is 13
    text = 'name,x,y\nB1,0,0\n"A,1""x",5, "1,5"\n'
    bump_map = parse_csv(text, "q.csv")
    assert [str(p) for p in bump_map.problems] == ["q.csv:3:13: y: expected a number, found '1,5'"]


# --------------------------------------------------------------------------- the sample
def test_sample_builds_with_its_bump_map(tmp_path: Path) -> None:
    design = load(SAMPLES / "bumps_from_csv.yaml")
    layout = build(design)
    write(layout, tmp_path / "out.gds")
    gds = GdsReader(tmp_path / "out.gds", design.spec.tech)
    die = gds.cell(f"{design.spec.name}_DIE")
    ubm = gds.region("UBM", die, flat=True).merged()
    assert ubm.count() == len(design.sites) == layout.bumps_per_die
    for site in design.sites:
        point = kdb.Point(gds.um(site.x), gds.um(site.y))
        assert ubm.interacting(kdb.Region(kdb.Box(point, point).enlarged(1))).count() == 1
