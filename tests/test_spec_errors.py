"""Bad specs: every error names file:line:column, the key path, what was found and what is
allowed; the build command exits 2 and writes nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from masklayout import SpecError, load
from masklayout.cli import main

# (replacement in the base spec, expected "line:column: key.path", expected words of the message)
CASES = {
    "unknown key": (
        ("pitch: 400, count", "pich: 400, count"),
        "16:15: die.bumps[0].array.pich",
        ["unknown key 'pich'", "did you mean 'pitch'", "known: center, count, pitch"],
    ),
    "wrong type": (
        ("count: [6, 5]", "count: [6, five]"),
        "16:38: die.bumps[0].array.count[1]",
        ["valid integer", "'five'"],
    ),
    "zero size": (
        ("{shape: circle, diameter: 250}", "{shape: circle, diameter: 0}"),
        "27:26: stacks.std.ubm.diameter",
        ["greater than 0", "found 0"],
    ),
    "negative size": (
        ("SM1: {thickness: 60", "SM1: {thickness: -50"),
        "33:9: masks.SM1.thickness",
        ["greater than 0", "-50"],
    ),
    "bad unit": (
        ("diameter: 100 mm", "diameter: 100 mx"),
        "5:3: wafer.diameter",
        ["expected a length", "nm, um, mm", "'100 mx'"],
    ),
    "opening not larger": (
        ("{mask: SM2, diameter: 350}", "{mask: SM2, diameter: 260}"),
        "31:21: stacks.std.openings[1].diameter",
        ["must be larger than and contain", "SM1: circle 270"],
    ),
    "route to an unknown pad": (
        ("{pad: VDD, bump: A2}", "{pad: VCC, bump: A2}"),
        "23:10: die.rdl.routes[0].pad",
        ["unknown pad 'VCC'", "known: GND, IO, VDD"],
    ),
    "route to an unknown bump": (
        ("{pad: VDD, bump: A2}", "{pad: VDD, bump: A9}"),
        "23:20: die.rdl.routes[0].bump",
        ["unknown bump 'A9'", "known: A2, A3"],
    ),
    "duplicate bump name": (
        ("{name: X1, stack", "{name: B2, stack"),
        "19:7: die.bumps[1]",
        ["bump name 'B2' is already used by die.bumps[0]"],
    ),
    "bump outside the die": (
        ("center: [-100, 0]", "center: [-400, 0]"),
        "16:7: die.bumps[0]",
        ["reach outside the die", "3000 x 2600", "B1 (-1400, 400)"],
    ),
    "overlapping UBMs": (
        ("pitch: 400, count", "pitch: 240, count"),
        "16:7: die.bumps[0]",
        ["overlaps the UBM of bump"],
    ),
    "unknown stack": (
        ("      stack: std\n", "      stack: sdt\n"),
        "17:7: die.bumps[0].stack",
        ["unknown stack 'sdt'", "known: std"],
    ),
    "unknown solder": (
        ("solder: SAC305-paste-T6}\n  - {step: reflow", "solder: SAC3O5}\n  - {step: reflow"),
        "37:32: process[1].solder",
        ["unknown solder 'SAC3O5'", "SAC305-paste-T6"],
    ),
    "missing key": (
        ("  die_step: [3080, 2680]\n", ""),
        "4:1: wafer.die_step",
        ["required key is missing"],
    ),
    "duplicate YAML key": (
        ("  scribe: 80\n", "  scribe: 80\n  scribe: 90\n"),
        "10:3:",
        ["duplicate key 'scribe'"],
    ),
    "unknown tech": (
        ("tech: wlcsp-400", "tech: wlcsp-999"),
        "3:1: tech",
        ["unknown tech 'wlcsp-999'", "wlcsp-400", "wlcsp-500"],
    ),
    "unknown mask in a stack": (
        ("{mask: SM2, diameter: 350}", "{mask: SM4, diameter: 350}"),
        "31:10: stacks.std.openings[1].mask",
        ["unknown mask 'SM4'", "known: SM1, SM2"],
    ),
    "pads overlap": (
        ("{name: GND, at: [1300, 1200]", "{name: GND, at: [-1250, 1200]"),
        "13:19: die.pads[1].at",
        ["pad 'GND' at (-1250, 1200) overlaps pad 'VDD' at (-1300, 1200)"],
    ),
    "bump not over its pad": (
        (
            "{name: X1, stack: std, on_pad: IO}",
            "{name: X1, stack: std, on_pad: IO, at: [800, -600]}",
        ),
        "19:42: die.bumps[1].at",
        ["is not over pad 'IO'"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_spec_error_names_file_line_key_and_allowed_values(spec_file, case):
    replacement, where, words = case
    path = spec_file(replacement)
    with pytest.raises(SpecError) as info:
        load(path)
    first = str(info.value).splitlines()[0]
    assert first.startswith(f"{path}:{where}"), first
    for word in words:
        assert word in first, f"{word!r} not in {first!r}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_build_with_bad_spec_exits_2_and_writes_nothing(spec_file, tmp_path, case):
    path = spec_file(case[0])
    out = tmp_path / "out" / "mask.gds"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{path}:{case[1]}" in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("out/*")), "a temporary file was left behind"


def test_waypoint_route_crossing_another_names_both(spec_file):
    # GND at the top right routed through waypoints right across VDD's waypoint route.
    path = spec_file(
        ("{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, via: [[-900, 1200]]}"),
        ("{pad: GND, bump: A6}", "{pad: GND, bump: A6, via: [[-1000, 1000], [-800, 1250]]}"),
    )
    with pytest.raises(
        SpecError,
        match=r"23:9: die.rdl.routes\[0\]: route VDD -> A2 through its via points comes within "
        r"10 µm \(rule RDL.S\) of the route of die.rdl.routes\[1\]",
    ):
        from masklayout.layout import build

        build(load(path))


# the via point past the die edge (y 1300), or the 20 µm trace's metal 5 µm short of it
@pytest.mark.parametrize("y", [1400, 1285])
def test_waypoint_route_into_the_die_edge_clearance_is_located(spec_file, y):
    path = spec_file(("{pad: VDD, bump: A2}", f"{{pad: VDD, bump: A2, via: [[-1300, {y}]]}}"))
    with pytest.raises(
        SpecError,
        match=r"23:9: die.rdl.routes\[0\]: route VDD -> A2 through its via points crosses the "
        r"die-edge clearance \(\d+ µm from the die edge\)",
    ):
        from masklayout.layout import build

        build(load(path))


def test_several_errors_are_reported_together(spec_file):
    path = spec_file(
        ("{pad: VDD, bump: A2}", "{pad: VCC, bump: A2}"),
        ("stack: std, on_pad: IO", "stack: std, on_pad: IOX"),
    )
    with pytest.raises(SpecError) as info:
        load(path)
    assert len(info.value.problems) == 2


def test_not_a_mapping_is_an_error(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="a spec is a mapping"):
        load(path)


def test_missing_file_is_a_bad_input(tmp_path):
    result = CliRunner().invoke(
        main, ["build", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "x.gds")]
    )
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr
