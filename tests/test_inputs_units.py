"""Lengths and temperatures as engineers write them, and plain messages when they are wrong:
no pydantic internals, no spurious second error from the other side of a union."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from masklayout import SpecError, load
from masklayout.cli import main
from masklayout.fields import parse_length
from masklayout.spec import loads
from tests.helpers import BASE_SPEC

# (written, µm by hand: 1 mil = 0.001 inch = 25.4 µm, 1 inch = 25.4 mm)
LENGTHS = [
    ("400", 400.0),
    ("400 um", 400.0),
    ("400 UM", 400.0),
    ("400 µm", 400.0),  # micro sign U+00B5
    ("400 μm", 400.0),  # Greek small mu U+03BC
    ("400 ΜM", 400.0),  # Greek capital mu, upper case
    ("0.4mm", 400.0),
    ("0.4 MM", 400.0),
    ("400000 nm", 400.0),
    ("16 mil", 406.4),
    ("16 MIL", 406.4),
    ("0.016 inch", 406.4),
    ("0.016 in", 406.4),
    ("0.04 cm", 400.0),
]


@pytest.mark.parametrize(("text", "um"), LENGTHS)
def test_length_units(text, um):
    assert parse_length(text) == pytest.approx(um, rel=1e-12)


@pytest.mark.parametrize(("text", "um"), LENGTHS)
def test_pitch_in_any_unit_places_the_bumps_at_that_pitch(text, um):
    design = loads(BASE_SPEC.replace("pitch: 400,", f"pitch: {text},"))
    b1, b2 = design.site("B1"), design.site("B2")
    assert b2.x - b1.x == pytest.approx(um, rel=1e-9)


INTERNALS = ("function-after", "function-before", "functools", "tuple[", "literal[", "valid tuple")

# (replacement, expected first line after the file name, exactly)
UNION_CASES = {
    "pitch zero": (
        ("pitch: 400,", "pitch: 0,"),
        "16:15: die.bumps[0].array.pitch: expected a length greater than 0, found 0",
    ),
    "pitch in an unknown unit": (
        ("pitch: 400,", "pitch: 16 mils,"),
        "16:15: die.bumps[0].array.pitch: expected a length greater than 0 or a pair [x, y] of "
        "them, found '16 mils'",
    ),
    "pitch pair with a zero": (
        ("pitch: 400,", "pitch: [400, 0],"),
        "16:15: die.bumps[0].array.pitch: expected a length greater than 0, found 0",
    ),
    "pitch of three": (
        ("pitch: 400,", "pitch: [400, 400, 400],"),
        "16:15: die.bumps[0].array.pitch: expected a length greater than 0 or a pair [x, y] of "
        "them, found a list",
    ),
    "grid offset centre": (
        ("  scribe: 80\n", "  scribe: 80\n  grid_offset: centre\n"),
        "10:3: wafer.grid_offset: expected 'auto' or a point [x, y], found 'centre'",
    ),
}


@pytest.mark.parametrize("case", UNION_CASES.values(), ids=UNION_CASES.keys())
def test_union_field_errors_are_one_plain_line(spec_file, case):
    replacement, expected = case
    path = spec_file(replacement)
    with pytest.raises(SpecError) as info:
        load(path)
    assert str(info.value) == f"{path}:{expected}"
    assert not any(word in str(info.value) for word in INTERNALS)


def test_grid_offset_as_a_point_with_units():
    design = loads(
        BASE_SPEC.replace("  scribe: 80\n", "  scribe: 80\n  grid_offset: [1.54 mm, 0]\n")
    )
    assert design.spec.wafer.grid_offset == (1540.0, 0.0)


# (written, °C by hand: K - 273.15)
PEAKS = [
    ("245", 245.0),
    ('"245 °C"', 245.0),
    ('"245°C"', 245.0),
    ('"245 C"', 245.0),
    ('"518.15 K"', 245.0),
]


@pytest.mark.parametrize(("text", "celsius"), PEAKS)
def test_reflow_peak_in_celsius_or_kelvin(text, celsius):
    design = loads(BASE_SPEC.replace("peak: 245}", f"peak: {text}}}", 1))
    assert design.spec.process[2].peak == pytest.approx(celsius)


@pytest.mark.parametrize("text", [".nan", ".inf", "-300", '"245 F"', "true"])
def test_reflow_peak_that_is_no_temperature_is_refused(spec_file, text):
    path = spec_file(("peak: 245}", f"peak: {text}}}"))
    with pytest.raises(SpecError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:38:20: process[2].peak: expected a temperature")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--height", "-5"),
        ("--height", "nan"),
        ("--height", "inf"),
        ("--diameter", "0"),
        ("--diameter", "250 furlongs"),
        ("--grid", "nan"),
        ("--grid", "0"),
    ],
)
def test_size_length_options_refuse_what_is_no_length_with_exit_2(spec_file, option, value):
    args = ["size", str(spec_file()), "--stack", "std", f"{option}={value}"]
    if option == "--grid":
        args.append("--height=150")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': expected a length greater than 0" in result.stderr
    assert "Traceback" not in result.output


def test_size_options_take_units(spec_file):
    # 0.16 mm is 160 µm: the same target as the plain number
    runner = CliRunner()
    plain = runner.invoke(
        main, ["size", str(spec_file()), "--stack", "std", "--height", "160", "--json"]
    )
    mm = runner.invoke(
        main, ["size", str(spec_file()), "--stack", "std", "--height", "0.16 mm", "--json"]
    )
    assert plain.exit_code == mm.exit_code == 0, plain.output + mm.output
    assert plain.output == mm.output
    grid = runner.invoke(
        main,
        [
            "size",
            str(spec_file()),
            "--stack",
            "std",
            "--height",
            "165",
            "--grid",
            "0.1 mil",
            "--json",
        ],
    )
    assert grid.exit_code == 0, grid.output
    assert '"grid_um": 2.54' in grid.output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "at: [-1300, 1200]",
            "at: centre",
            "12:19: die.pads[0].at: expected a pair [x, y], found 'centre'",
        ),
        (
            "size: [80, 80]",
            "size: {x: 1}",
            "12:38: die.pads[0].size: expected a pair [x, y], found a mapping",
        ),
        (
            "size: [80, 80]",
            "size: [80, 80, 80]",
            "12:38: die.pads[0].size: expected a pair [x, y], found 3 items",
        ),
        (
            "size: [80, 80]",
            "size: [80]",
            "12:38: die.pads[0].size: expected a pair [x, y], found 1 item(s)",
        ),
    ],
)
def test_a_pair_that_is_no_pair_says_so_plainly(spec_file, old, new, expected):
    path = spec_file((old, new))
    with pytest.raises(SpecError) as info:
        load(path)
    assert str(info.value) == f"{path}:{expected}"
