"""Router pieces pinned against hand geometry: the second deliberate-bug sample of
bench/mutants.md."""

from __future__ import annotations

import klayout.db as kdb
import numpy as np

from masklayout.routing.shapes import polygon_region, violations


def _square(x0: float, y0: float, side: float) -> np.ndarray:
    return np.array([(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side)])


def test_two_nets_closer_than_the_space_are_both_illegal_even_when_their_boxes_do_not_meet():
    """Two 20 um squares of two nets 5 um apart (x 0..20 and 25..45), space 10 um: each comes
    within 5 < 10 um of the other. 15 um apart they are legal."""
    inner = kdb.Region(kdb.Box(-1000000, -1000000, 1000000, 1000000))
    near = [polygon_region([_square(0, 0, 20)]), polygon_region([_square(25, 0, 20)])]
    found = violations(near, [20.0, 20.0], kdb.Region(), inner, 10.0)
    assert sorted(found) == [0, 1]
    assert all("closer than 10 µm to other metal" in reason for _, reason in found.values())
    apart = [polygon_region([_square(0, 0, 20)]), polygon_region([_square(35, 0, 20)])]
    assert violations(apart, [20.0, 20.0], kdb.Region(), inner, 10.0) == {}


def test_the_checks_of_only_some_nets_report_those_nets_alone():
    """The same two squares 5 um apart and a third net far off: checking only net 1 reports
    net 1 (too close to net 0) and nothing of net 0; checking only net 2 finds nothing."""
    inner = kdb.Region(kdb.Box(-1000000, -1000000, 1000000, 1000000))
    nets = [polygon_region([_square(x, 0, 20)]) for x in (0, 25, 500)]
    widths = [20.0] * 3
    assert sorted(violations(nets, widths, kdb.Region(), inner, 10.0, only={1})) == [1]
    assert violations(nets, widths, kdb.Region(), inner, 10.0, only={2}) == {}
