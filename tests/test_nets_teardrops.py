"""Teardrops from a hand-made routing (no router): a drop widens the trace where it leaves its
capture, and is left out where it would come within RDL.S of foreign metal or the die edge."""

from __future__ import annotations

import gdstk
import numpy as np

from masklayout.geometry.rdl import Routing, teardrop_plan, teardrops
from masklayout.routing import (
    Net,
    Obstacle,
    RoutedNet,
    RoutingProblem,
    RoutingResult,
    Terminal,
)

SQUARE = np.array([(-40.0, -40.0), (40.0, -40.0), (40.0, 40.0), (-40.0, 40.0)])  # reach 40


def _routing(obstacles: tuple[Obstacle, ...] = (), half: float = 2000) -> tuple[Routing, RoutedNet]:
    line = np.array([(0.0, 0.0), (500.0, 0.0)])
    far = SQUARE + (500, 0)
    net = Net(
        name="N",
        terminals=(Terminal("pad P", SQUARE), Terminal("pad Q", far)),
        width=20.0,
    )
    routed = RoutedNet(
        name="N", centrelines=(line,), polygons=(SQUARE, far), length=500.0, bends=0, width=20.0
    )
    outline = np.array([(-half, -half), (half, -half), (half, half), (-half, half)])
    problem = RoutingProblem(
        outline=outline, edge_clearance=25.0, space=10.0, nets=(net,), obstacles=obstacles
    )
    return Routing(problem=problem, result=RoutingResult(routed=(routed,), unrouted=())), routed


def test_a_drop_reaches_half_the_capture_past_it_at_the_trace_width():
    routing, net = _routing()
    drops = teardrops(routing, net)
    assert len(drops) == 2  # one at each end
    near = next(d for d in drops if d[:, 0].min() < 0)
    # the drop's tip: 40 (reach) * 1.5 = 60 from the centre, 20 wide
    assert near[:, 0].max() == 60
    tip = near[near[:, 0] == 60]
    assert sorted(tip[:, 1]) == [-10, 10]
    assert gdstk.Polygon(near).area() > gdstk.Polygon(SQUARE).area()


def test_a_drop_that_would_come_within_space_of_an_obstacle_is_left_out():
    # an obstacle 5 um above where the drop's slope passes (y = 10..40 between x 40 and 60)
    obstacle = Obstacle("pad X", np.array([(45.0, 32.0), (55.0, 32.0), (55.0, 60.0), (45.0, 60.0)]))
    routing, net = _routing((obstacle,))
    drops = teardrops(routing, net)
    assert len(drops) == 1 and drops[0][:, 0].min() >= 400  # only the far end's


def test_a_drop_past_the_edge_clearance_is_left_out():
    routing, net = _routing(half=545)  # die edge 45 past the far capture: clearance 25 leaves 5
    drops = teardrops(routing, net)
    assert len(drops) == 1 and drops[0][:, 0].max() <= 100


def test_a_drop_left_out_names_its_terminal():
    obstacle = Obstacle("pad X", np.array([(45.0, 32.0), (55.0, 32.0), (55.0, 60.0), (45.0, 60.0)]))
    routing, net = _routing((obstacle,))
    drops, skipped = teardrop_plan(routing, net)
    assert len(drops) == 1 and skipped == ("pad P",)  # P at the origin, beside the obstacle
    assert teardrop_plan(*_routing())[1] == ()
