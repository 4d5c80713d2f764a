"""Limits with clear errors: names, row names, sites per die and wafer, pads on the die, cell
names that cannot collide, coordinates that overflow after unit scaling."""

from __future__ import annotations

import itertools

import pytest

from masklayout import SpecError, load
from masklayout.spec import grid_sites, loads, row_name
from tests.helpers import BASE_SPEC

JEDEC_LETTERS = "ABCDEFGHJKLMNPRTUVWY"  # A..Y without I O Q S X Z


def _error(path) -> str:
    with pytest.raises(SpecError) as info:
        load(path)
    return str(info.value)


def test_row_names_go_on_past_yy_to_three_letters():
    # the sequence written out: A..Y, then AA..YY, then AAA..YYY, in order
    expected = [
        "".join(letters)
        for size in (1, 2, 3)
        for letters in itertools.product(JEDEC_LETTERS, repeat=size)
    ]
    assert [row_name(row) for row in range(len(expected))] == expected


def test_an_array_of_1000_rows_names_every_site_once():
    spec = loads(BASE_SPEC)
    grid = spec.spec.die.bumps[0].array.model_copy(update={"count": (2, 1000), "pitch": 1.0})
    names = [name for name, *_ in grid_sites(grid)]
    assert len(set(names)) == 2000
    # row 999 is the 580th three-letter name: 579 = 1 * 400 + 8 * 20 + 19 -> B, J, Y
    assert names[-1] == "BJY2"


def test_a_spec_name_longer_than_64_characters_is_refused(spec_file):
    path = spec_file(("name: small", "name: " + "a" * 70000))
    assert _error(path) == (
        f"{path}:2:1: name: expected a name of 1 to 64 characters, found 70000 characters"
    )


def test_a_stack_name_outside_the_cell_name_characters_is_refused(spec_file):
    path = spec_file(("stacks:\n  std:", "stacks:\n  std/ball:"))
    assert (
        f"{path}:26:3: stacks.std/ball: expected a name of letters, digits and _ $ ? - ., "
        "found 'std/ball'"
    ) in _error(path)


def test_a_pad_name_longer_than_256_characters_is_refused(spec_file):
    path = spec_file(("{name: VDD,", "{name: " + "V" * 257 + ","))
    assert "die.pads[0].name: expected a name of 1 to 256 characters, found 257" in _error(path)


def test_stacks_std_and_std_rdl_would_share_a_cell_name_and_are_refused(spec_file):
    stack = "    ubm: {diameter: 250}\n    pi2: {diameter: 220}\n    openings: [{mask: SM1, diameter: 270}]\n"
    path = spec_file(("stacks:\n  std:\n", f"stacks:\n  std_RDL:\n{stack}  std:\n"))
    assert (
        f"{path}:26:3: stacks.std_RDL: stack name 'std_RDL' is the name of the RDL variant of "
        "stack 'std'"
    ) in _error(path)


def test_sites_per_die_are_counted_before_they_are_made(spec_file):
    # 11 arrays of 1000 x 1000 and the 6 x 5 array: 11,000,030 sites, by hand
    arrays = "    - {array: {pitch: 1, count: [1000, 1000]}, stack: std}\n" * 11
    path = spec_file(("    - {name: X1, stack: std, on_pad: IO}\n", arrays))
    assert _error(path) == (
        f"{path}:15:3: die.bumps: the arrays and rings make 11,000,030 bump sites per die "
        "(at most 1,000,000)"
    )


def test_a_ring_counts_only_its_outer_rows(spec_file):
    # a ring 1000 x 1000, depth 2: 1000^2 - 996^2 = 7984 sites, far below the limit
    ring = "    - {ring: {pitch: 1, count: [1000, 1000], depth: 2}, stack: std}\n" * 126
    path = spec_file(("    - {name: X1, stack: std, on_pad: IO}\n", ring))
    # 126 rings: 1,005,984 + 30 sites, over the limit
    assert "make 1,006,014 bump sites per die" in _error(path)


def test_a_pad_far_outside_the_die_is_refused(spec_file):
    path = spec_file(("{name: VDD, at: [-1300, 1200]", "{name: VDD, at: [90 mm, 90 mm]"))
    assert _error(path).startswith(
        f"{path}:12:19: die.pads[0].at: pad 'VDD' at (90000, 90000), size 80 x 80, reaches "
        "outside the die (3000 x 2600"
    )


def test_a_pad_reaching_just_past_the_die_edge_is_refused_and_one_touching_it_is_not(spec_file):
    # die 3000 wide: a pad 80 wide centred at 1460 reaches 1500, the edge; at 1461, past it
    assert load(spec_file(("{name: GND, at: [1300, 1200]", "{name: GND, at: [1460, 1200]")))
    path = spec_file(("{name: GND, at: [1300, 1200]", "{name: GND, at: [1461, 1200]"))
    assert "die.pads[1].at: pad 'GND'" in _error(path)


@pytest.mark.parametrize(
    ("bump_file", "content", "line"),
    [
        ("b.csv", "name,x,y\nZ1,0,-1000\nZ2,1e306,0\n", 3),
        ("b.aif", "DIE_NAME=X\nDIE_UNITS=MM\n1 0 -1 NET1\n2 1e308 0 NET2\n", 4),
    ],
)
def test_a_coordinate_overflowing_after_unit_scaling_is_located(tmp_path, bump_file, content, line):
    (tmp_path / bump_file).write_text(content)
    units = ", units: mm" if bump_file.endswith(".csv") else ""
    text = BASE_SPEC.replace(
        "    - {name: X1, stack: std, on_pad: IO}\n",
        f"    - {{file: {bump_file}{units}, stack: std}}\n",
    )
    with pytest.raises(SpecError) as info:
        loads(text, base=tmp_path)
    assert str(info.value).startswith(f"{tmp_path / bump_file}:{line}:1: x ")
    assert "is beyond ±1 m" in str(info.value)


def test_a_bump_file_with_more_lines_than_sites_allowed_is_refused_unread(tmp_path, monkeypatch):
    from masklayout import bumpmap

    monkeypatch.setattr(bumpmap, "MAX_SITES_PER_DIE", 3)
    (tmp_path / "b.csv").write_text("name,x,y\nZ1,0,-1000\nZ2,0,-600\nZ3,0,-200\n")
    text = BASE_SPEC.replace(
        "    - {name: X1, stack: std, on_pad: IO}\n", "    - {file: b.csv, stack: std}\n"
    )
    with pytest.raises(
        SpecError, match=r"b.csv: 4 lines: more than the 3 bump sites a die may have"
    ):
        loads(text, base=tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("      skip: [A1]", "      skip: [A1, 5]", "18:18: die.bumps[0].skip[1]: "),
        ("      stack: std\n", "      stack: [std]\n", "17:7: die.bumps[0].stack: "),
        ("      skip: [A1]", "      skip: [A1]\n      bogus: 2", "19:7: die.bumps[0].bogus: "),
        ("count: [6, 5]", "count: [6, 5], bogus: 1", "16:42: die.bumps[0].array.bogus: "),
    ],
)
def test_errors_inside_an_array_entry_are_at_their_own_key(spec_file, old, new, where):
    path = spec_file((old, new))
    assert _error(path).startswith(f"{path}:{where}")
