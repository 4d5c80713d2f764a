"""Broken bump maps: a malformed line is an error at file:line:column, a bad entry an error at
its key in the spec; the build command exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout import SpecError, loads
from masklayout.cli import main
from tests.test_bumpmap_import import FIXTURES, with_file_entry

# fixture -> the problems it must give ("file:line:column: words of the message"), in order
BROKEN_FILES = {
    "broken_value.csv": ["broken_value.csv:3:9: y: expected a number, found '8OO'"],
    "broken_fields.csv": [
        "broken_fields.csv:3:1: expected 4 fields (name, x, y, net), found 5",
        "broken_fields.csv:4:1: expected 4 fields (name, x, y, net), found 2",
    ],
    "broken_header.csv": [
        "broken_header.csv:1:6: unknown column 'xpos' in the header (known: name, x, y, net, stack",
        "broken_header.csv:1:1: the header lacks column x",
    ],
    "broken_duplicate.csv": ["broken_duplicate.csv:4:1: bump name 'A2' is already used on line 2"],
    "broken_stack.csv": ["broken_stack.csv:3:13: unknown stack 'sdt' (known: std)"],
    "broken_aif1.aif": [
        "broken_aif1.aif:5:1: die pad number must be an integer, found 'P2'",
        "broken_aif1.aif:6:1: expected an AIF I die pad row",
        "broken_aif1.aif:7:7: y: expected a number, found '8,00'",
    ],
    "broken_aif2.aif": [
        "broken_aif2.aif:12:11: padstack 'bump250' is not defined in [PADS] (defined: BUMP250",
        "broken_aif2.aif:13:8: die pad '1' is already used on line 11",
        "broken_aif2.aif:14:26: y: expected a number, found 'abc'",
    ],
    "broken_aif2_no_netlist.aif": ["broken_aif2_no_netlist.aif: no [NETLIST] section"],
}


def problems(spec: str, base: Path = FIXTURES) -> list[str]:
    with pytest.raises(SpecError) as err:
        loads(spec, base=base)
    return [str(p).replace(f"{FIXTURES}/", "") for p in err.value.problems]


@pytest.mark.parametrize("name", BROKEN_FILES)
def test_malformed_line_is_an_error_at_file_line_column(name: str) -> None:
    found = problems(with_file_entry(f"{{file: {name}}}"))
    expected = BROKEN_FILES[name]
    assert len(found) >= len(expected)
    for want, got in zip(expected, found, strict=False):
        assert got.startswith(want), f"{got!r} does not start with {want!r}"


def test_rows_read_still_count_as_bump_names_for_the_routes() -> None:
    # broken_value.csv's A2 line is fine: the route to A2 is not reported, the one to A6 is
    found = problems(with_file_entry("{file: broken_value.csv}"))
    assert not any("'A2'" in p for p in found)
    assert any("unknown bump 'A6'" in p for p in found)


# (entry, "line:column: key path", words of the message) for problems located in the spec
ENTRY_ERRORS = {
    "missing file": (
        "{file: nowhere.csv}",
        "16:8: die.bumps[0].file",
        ["cannot read", "nowhere.csv", "No such file"],
    ),
    "unknown key": (
        "{file: grid.csv, unit: mm}",
        "16:24: die.bumps[0].unit",
        ["unknown key 'unit'", "did you mean 'units'", "known: file, format, mirror, names"],
    ),
    "bad option value": (
        "{file: grid.csv, origin: top_left}",
        "16:24: die.bumps[0].origin",
        ["'center' or 'lower_left'", "'top_left'"],
    ),
    "unknown format": (
        "{file: grid.txt}",
        "16:8: die.bumps[0].file",
        ["cannot tell the format", "format: csv or aif"],
    ),
    "unknown stack": (
        "{file: grid.csv, stack: sdt}",
        "16:24: die.bumps[0].stack",
        ["unknown stack 'sdt'", "known: std"],
    ),
    "names on a csv": (
        "{file: grid.csv, names: ball}",
        "16:24: die.bumps[0].names",
        ["names applies to AIF files"],
    ),
}


@pytest.mark.parametrize("case", ENTRY_ERRORS.values(), ids=ENTRY_ERRORS.keys())
def test_bad_entry_is_an_error_at_its_key(case: tuple[str, str, list[str]]) -> None:
    entry, where, words = case
    found = problems(with_file_entry(entry))
    assert found[0].startswith(f"<string>:{where}: "), found
    for word in words:
        assert word in found[0]


def test_declared_units_that_contradict_the_spec_are_an_error() -> None:
    found = problems(with_file_entry("{file: grid_aif2_top_view.aif, names: ball, units: um}"))
    assert found[0] == "grid_aif2_top_view.aif:6:1: the file is in mm but the spec says units: um"


def test_declared_centre_that_contradicts_the_origin_is_an_error() -> None:
    entry = "{file: grid_aif2_top_view.aif, names: ball, origin: center, mirror: true}"
    found = problems(with_file_entry(entry))
    assert found[0].startswith("grid_aif2_top_view.aif:12:1: CENTER=1.5 1.3 disagrees with origin")


def test_bumps_without_a_stack_need_one_when_there_are_several(tmp_path: Path) -> None:
    spec = with_file_entry("{file: grid.csv}").replace(
        "stacks:\n  std:",
        "stacks:\n  big:\n    ubm: {diameter: 300}\n    pi2: {diameter: 260}\n"
        "    openings: [{mask: SM1, diameter: 320}, {mask: SM2, diameter: 380}]\n  std:",
    )
    found = problems(spec)
    assert found[0].startswith("<string>:16:7: die.bumps[0].stack: stack is required")
    assert "29 rows" in found[0] and "first on line 3" in found[0]


def test_imported_bumps_go_through_the_spec_checks(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("name,x,y\nX1,0,0\nF1,1400,0\nF2,1500,0\n")
    found = problems(with_file_entry("{file: b.csv}"), base=tmp_path)
    text = "\n".join(found)
    assert "bump name 'X1' is already used by die.bumps[0]" in text
    assert "bumps F1 (1400, 0), F2 (1500, 0) with UBM circle 250 reach outside the die" in text
    assert "UBM of bump F2 at (1500, 0) overlaps the UBM of bump F1" in text


def test_build_exits_2_with_the_file_line_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bumps.csv").write_text("name,x,y\nA2,-700,800\nA6,900,eight hundred\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(with_file_entry("{file: bumps.csv}"))
    out = tmp_path / "out" / "die.gds"
    result = CliRunner().invoke(main, ["build", str(spec), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'bumps.csv'}:3:8: y: expected a number, found 'eight hundred'" in (
        result.output
    )
    assert not out.exists()


@pytest.mark.parametrize("entry", ["{file: header.csv}", "{file: nowhere.csv}"])
def test_an_unread_bump_file_is_not_followed_by_an_error_for_every_route(
    tmp_path: Path, entry: str
) -> None:
    # A2 and A6 are routed in the base spec: one error for the file, none for the routes
    (tmp_path / "header.csv").write_text("name,xpos,y\nA2,-700,800\nA6,900,800\n")
    found = problems(with_file_entry(entry), base=tmp_path)
    assert len(found) <= 2 and all("unknown bump" not in p for p in found), found


def test_one_bump_outside_the_die_reaches(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("name,x,y\nA2,-700,800\nA6,1500,0\n")
    found = problems(with_file_entry("{file: b.csv}"), base=tmp_path)
    assert any("bump A6 (1500, 0) with UBM circle 250 reaches outside the die" in p for p in found)
