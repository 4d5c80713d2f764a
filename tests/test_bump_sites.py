"""Bump sites from arrays and rings: JEDEC names (A1 top-left, rows skip I O Q S X Z), skips."""

from __future__ import annotations

from masklayout import loads
from masklayout.spec import row_name
from tests.helpers import BASE_SPEC


def test_row_names_skip_the_letters_jedec_leaves_out():
    names = [row_name(r) for r in range(22)]
    assert names[:8] == ["A", "B", "C", "D", "E", "F", "G", "H"]
    assert names[8] == "J" and names[11] == "M" and names[12] == "N" and names[13] == "P"
    assert not {"I", "O", "Q", "S", "X", "Z"} & set(names)
    assert names[19] == "Y" and names[20] == "AA" and names[21] == "AB"


def test_a1_is_top_left_and_numbers_grow_to_the_right():
    design = loads(BASE_SPEC)
    a2, b1, e6 = design.site("A2"), design.site("B1"), design.site("E6")
    assert (a2.x, a2.y) == (-700, 800)  # A1 (-1100, 800) is skipped
    assert (b1.x, b1.y) == (-1100, 400)
    assert (e6.x, e6.y) == (900, -800)
    assert "A1" not in {s.name for s in design.sites}


def test_a_ring_keeps_the_outer_rows_of_its_grid():
    text = BASE_SPEC.replace(
        "    - array: {pitch: 400, count: [6, 5], center: [-100, 0]}",
        "    - ring: {pitch: 400, count: [6, 5], center: [-100, 0], depth: 1}",
    )
    names = {s.name for s in loads(text).sites}
    assert "C3" not in names and "B2" not in names and "D5" not in names
    assert {"A2", "A6", "B1", "B6", "E1", "E6", "C1"} <= names
    assert len(names) == 6 * 5 - 4 * 3 - 1 + 1  # the ring, less skipped A1, plus X1
