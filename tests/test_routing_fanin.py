"""A realistic fan-in die (11 x 11 at 0.35 mm, 120 pads): what routes is legal, the rest is explained."""

from __future__ import annotations

import dataclasses
import re

import klayout.db as kdb
import numpy as np
import pytest

from masklayout.routing import route
from tests.fanin import problem
from tests.routing_check import DBU, problems, region


@pytest.fixture(scope="module")
def routed():
    p, pins = problem("11x11", "planned")
    p = dataclasses.replace(p, nets=tuple(n for n in p.nets if n.name not in ("VDD", "VSS")))
    return p, pins, route(p)


def test_fanin_routed_metal_is_legal_and_connected(routed):
    p, _, result = routed
    assert len(result.routed) > 0.75 * len(p.nets)
    assert problems(p, result) == []


def test_fanin_every_unrouted_net_is_located_and_explained(routed):
    p, _, result = routed
    assert {u.net for u in result.unrouted} | {r.name for r in result.routed} == {
        n.name for n in p.nets
    }
    for u in result.unrouted:
        assert u.reason and len(u.at) == 2, u
    for u in result.unrouted:
        if "is full" in u.reason:  # a full channel: its real demand exceeds its room
            needs, has = re.search(r"needs (\d+) tracks, has (\d+)", u.reason).groups()
            assert int(needs) > int(has), u.reason
        elif "channel between" in u.reason:  # room in the channel, the way cut by crossings
            assert re.search(r"cut by \S", u.reason), u.reason


def test_fanin_has_no_router_faults(routed):
    _, _, result = routed
    assert not [u for u in result.unrouted if u.reason.startswith("router fault")]


def test_fanin_every_net_routes(routed):
    _, _, result = routed
    assert not result.unrouted


@pytest.mark.parametrize(
    ("case", "order"),
    [("10x10", "planned"), ("12x12", "planned"), ("10x10", "clockwise"), ("12x12", "auto")],
)
def test_fanin_signal_nets_of_planned_and_clockwise_maps_all_route_legally(case, order):
    """Planned (each pad to the bump nearest in angle) and plain clockwise (the outer rings'
    bumps numbered clockwise from pad 1, as a designer would without a planning script: 56 of
    the 10x10's 82 nets go elsewhere than planned) pin maps, and the tool's own free assignment
    (``bump: auto``)."""
    p, _ = problem(case, order)
    p = dataclasses.replace(p, nets=tuple(n for n in p.nets if n.name not in ("VDD", "VSS")))
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []


@pytest.mark.parametrize(
    ("case", "order"),
    [
        ("10x10", "planned"),
        ("10x10", "clockwise"),
        ("11x11", "planned"),
        ("12x12", "planned"),
        ("11x11", "auto"),
        ("12x12", "auto"),
    ],
)
def test_fanin_with_both_power_trees_routes_every_net_legally(case, order):
    """The 10 x 10 die at 0.4 mm, 112 pads, VDD and VSS of 16 pads and 6 bumps each as trees,
    and the 12 x 12, 150 pads, 24 pads and 8 bumps each: every net routes, and the metal read as
    polygons keeps every rule and connects each net's terminals (tests/routing_check.py,
    independent of the router's own check). On the 12 x 12 each power pad sits between two
    signal pads, so the trees' branches pen pairs of signals in: a branch hugging a bump must
    move over for the signal beside it (it did not, and 6 signals crossed their neighbours).
    With the tool's own pin map (``bump: auto``) a branch reached its pad by turning back on
    itself next to the pad's leg (a notch): it takes one bend instead. On the 11 x 11 (0.35 mm,
    depopulated corners and centre) the signals, routed before the trees, left no way for
    VDD's teeth between S16 and S18: the trees now go first. With the tool's own map on the
    11 x 11, a VDD branch went round the end of a signal that later moved away, and the
    hairpin it left notched (a router fault): such branches are regrown once the negotiation
    ends; and three nets the negotiation dropped fit once the nets in their way move over.
    With the plain clockwise map on the 10 x 10 and the trees first, VDD found no way past S12
    and S13 and VSS walled S99 off its bump: when nets are lost, the die is negotiated again
    with the trees last."""
    p, _ = problem(case, order)
    assert {"VDD", "VSS"} <= {n.name for n in p.nets if len(n.terminals) > 2}
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []


def test_fanin_10x10_power_planes_are_one_piece_each_and_legal():
    """VDD and VSS as planes (16 pads, 6 bumps each) on the 10 x 10 die: each plane's skeleton
    routes with the signals and the pour around it is one piece holding all its terminals (the
    pour alone was cut into ten pieces each by the signals), and every signal still routes."""
    p, _ = problem("10x10", "planned", planes=True)
    planes = {n.name: n for n in p.nets if n.plane}
    assert set(planes) == {"VDD", "VSS"}
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []
    for r in result.routed:
        if r.name in planes:
            (piece,) = list(region(r.polygons).merged().each())
            for t in planes[r.name].terminals:
                cx, cy = np.rint(t.polygon.mean(0) / DBU).astype(int)
                assert piece.inside(kdb.Point(int(cx), int(cy))), (r.name, t.name)
