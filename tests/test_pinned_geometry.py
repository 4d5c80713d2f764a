"""Geometry behaviours pinned against hand computations (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from masklayout import spec
from masklayout.geometry.rdl import Routing, teardrops
from masklayout.geometry.wafer import place_dies
from masklayout.routing import Net, RoutedNet, RoutingProblem, RoutingResult, Terminal
from tests.helpers import BASE_SPEC


def _full_dies(usable: float, step: tuple[float, float], die: tuple[float, float], offset) -> set:
    """Centres of the dies of the grid through ``offset`` whose four corners lie in the usable
    circle, by brute force over every grid position."""
    (sx, sy), (w, h), found = step, die, set()
    for i, j in itertools.product(range(-30, 31), repeat=2):
        cx, cy = i * sx + offset[0], j * sy + offset[1]
        corners = [(cx + dx, cy + dy) for dx in (-w / 2, w / 2) for dy in (-h / 2, h / 2)]
        if all(math.hypot(x, y) <= usable for x, y in corners):
            found.add((round(cx, 3), round(cy, 3)))
    return found


def test_auto_grid_offset_picks_the_best_of_die_and_street_centred_per_axis():
    """A 5 x 3 mm step on a 100 mm wafer without notch (usable radius 50 - 3 = 47 mm): of the
    four placements (0 or half the x step) x (0 or half the y step) the street-centred one on
    both axes holds the most full dies; the x choice must use the x step, not the y step."""
    text = BASE_SPEC.replace("orientation: notch", "orientation: none").replace(
        "die_step: [3080, 2680]", "die_step: [5000, 3000]"
    )
    wafer = spec.loads(text, "spec.yaml").spec.wafer
    step, die = (5000.0, 3000.0), (4920.0, 2920.0)
    options = list(itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2)))
    counts = {o: len(_full_dies(47000.0, step, die, o)) for o in options}
    best = max(options, key=lambda o: counts[o])
    assert best == (2500.0, 1500.0) and counts[best] > max(
        c for o, c in counts.items() if o != best
    )
    grid = place_dies(wafer)
    assert tuple(grid.offset) == best
    assert {(round(x, 3), round(y, 3)) for x, y in grid.centers} == _full_dies(
        47000.0, step, die, best
    )


def _rotated_routing(quarter_turns: int, half: float) -> tuple[Routing, RoutedNet]:
    """A two-capture net 500 um long leaving the die centre towards one die edge (0: +x, 1: +y,
    2: -x, 3: -y); the far capture (80 um square) ends 5 um from the die edge less 25 um
    RDL.EDGE when ``half`` is 545."""
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns]
    turn = np.array([(c, -s), (s, c)], dtype=float)
    square = np.array([(-40.0, -40.0), (40.0, -40.0), (40.0, 40.0), (-40.0, 40.0)])
    far_centre = turn @ np.array([500.0, 0.0])
    line = np.array([(0.0, 0.0), tuple(far_centre)])
    near, far = square, square + far_centre
    net = Net(name="N", terminals=(Terminal("pad P", near), Terminal("pad Q", far)), width=20.0)
    routed = RoutedNet(
        name="N", centrelines=(line,), polygons=(near, far), length=500.0, bends=0, width=20.0
    )
    outline = np.array([(-half, -half), (half, -half), (half, half), (-half, half)])
    problem = RoutingProblem(outline=outline, edge_clearance=25.0, space=10.0, nets=(net,), obstacles=())  # fmt: skip
    return Routing(problem=problem, result=RoutingResult(routed=(routed,), unrouted=())), routed


@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
def test_a_teardrop_keeps_rdl_edge_from_every_die_edge(quarter_turns: int):
    """The far drop's tip would reach 40 x 1.5 = 60 um past the far capture's centre, 560 from
    the die centre, inside the die (545) but within RDL.EDGE (25) of it: left out, towards any
    of the four edges; the near drop (at the centre) is kept."""
    routing, net = _rotated_routing(quarter_turns, half=545.0)
    drops = teardrops(routing, net)
    assert len(drops) == 1
    assert np.abs(drops[0]).max() <= 60.0  # the one kept is the near one, around the centre
    routing, net = _rotated_routing(quarter_turns, half=2000.0)
    assert len(teardrops(routing, net)) == 2  # far from the edge both drops are drawn
