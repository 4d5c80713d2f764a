"""The die grid: full dies counted by their corners, the auto offset, notch and flat."""

from __future__ import annotations

import gdstk
import pytest

from masklayout.geometry.wafer import NOTCH_DEPTH, flat_y, outline, place_dies, usable_area
from masklayout.spec import Wafer

# A 20 mm wafer without exclusion and 5 x 5 mm dies, by hand (corner radius <= 10 mm):
# die-centred: the centre die and its 4 neighbours = 5; street-centred: the 4 around the
# centre = 4; die-centred in x, street-centred in y: 2 in the middle column + 4 beside = 6.
SMALL = dict(diameter=20000, edge_exclusion=0, die_step=(5000, 5000), scribe=0)


@pytest.mark.parametrize(
    ("offset", "count"),
    [((0, 0), 5), ((2500, 2500), 4), ((0, 2500), 6), ((2500, 0), 6)],
)
def test_full_dies_are_those_whose_four_corners_are_inside(offset, count):
    assert place_dies(Wafer(**SMALL, grid_offset=offset)).count == count


def test_auto_offset_takes_the_placement_with_most_full_dies():
    grid = place_dies(Wafer(**SMALL))
    assert grid.count == 6
    assert grid.offset == (0.0, 2500.0)  # ties go to die-centred, x before y


def test_edge_exclusion_and_scribe_change_the_count():
    assert place_dies(Wafer(**{**SMALL, "edge_exclusion": 1000}, grid_offset=(0, 2500))).count == 2
    # a 1 mm scribe shrinks the dies to 4 x 4 mm: the four corner dies of the 3 x 3 block fit
    assert place_dies(Wafer(**{**SMALL, "scribe": 1000}, grid_offset=(0, 0))).count == 9


def test_partial_dies_touch_the_wafer_but_are_not_full():
    grid = place_dies(Wafer(**SMALL, grid_offset=(0, 0)))
    assert len(grid.partial) > 0
    full = {tuple(c) for c in grid.centers}
    assert not full & {tuple(c) for c in grid.partial}


def test_notch_is_a_one_mm_v_at_minus_y():
    wafer = Wafer(diameter=200000, die_step=(5000, 5000))
    (polygon,) = outline(wafer)
    assert gdstk.inside([(0, -100000 + NOTCH_DEPTH + 10)], polygon)[0]
    assert not gdstk.inside([(0, -100000 + NOTCH_DEPTH - 10)], polygon)[0]
    assert gdstk.inside([(0, 100000 - 10)], polygon)[0]


def test_flat_cuts_the_wafer_and_the_usable_area():
    wafer = Wafer(diameter=200000, die_step=(5000, 5000), orientation="flat")
    assert flat_y(wafer) == pytest.approx(-((100000**2 - 28750**2) ** 0.5))
    (polygon,) = outline(wafer)
    assert polygon.bounding_box()[0][1] == pytest.approx(flat_y(wafer), abs=0.01)
    (usable,) = usable_area(wafer)
    assert usable.bounding_box()[0][1] == pytest.approx(flat_y(wafer) + 3000, abs=0.01)
    grid = place_dies(wafer)
    assert grid.centers[:, 1].min() - 2460 >= flat_y(wafer) + 3000
