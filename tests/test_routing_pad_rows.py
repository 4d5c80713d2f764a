"""A row of consecutive pads of one net (power, ground) is joined as one terminal: bridged across
the gaps no other net's trace fits through, reached once from inside the die. Connectivity is
read back from a written GDS with KLayout, not taken from the router."""

from __future__ import annotations

import gdstk
import klayout.db as kdb
import numpy as np
import pytest

from masklayout import loads
from masklayout.geometry.rdl import routing_problem
from masklayout.routing import Net, RoutingProblem, Terminal, route
from masklayout.routing.group import group_terminals
from masklayout.routing.shapes import polygon_region
from tests.routing_check import problems
from tests.test_nets_build import FANIN_100
from tests.test_routing_router import S, W, box, disc

PITCH = 75.0  # pad pitch: 60 µm captures, 15 µm gaps (no trace of 10 µm + 2 x 10 µm fits)


def pad(name: str, x: float, y: float = 820.0) -> Terminal:
    return Terminal(name=f"pad {name}", polygon=box(x - 30, y - 30, x + 30, y + 30))


def bump(name: str, x: float, y: float) -> Terminal:
    return Terminal(name=f"bump {name}", polygon=disc(x, y, 160))


def row_problem(plane: bool = False) -> RoutingProblem:
    """Nine pads along the top edge: two signals, five consecutive VDD pads, two signals; VDD's
    two bumps right below its pads, the signals' bumps out to the sides (VDD a trace or a
    ``plane``)."""
    xs = [250 + PITCH * i for i in range(9)]
    ends = {"S0": (0, 150, 560), "S1": (1, 250, 300), "S2": (7, 950, 560), "S3": (8, 1050, 300)}
    signals = [
        Net(name=n, terminals=(pad(n, xs[i]), bump(n, x, y)), width=W)
        for n, (i, x, y) in ends.items()
    ]
    vdd = Net(
        name="VDD",
        terminals=(
            *(pad(f"V{i}", x) for i, x in enumerate(xs[2:7])),
            bump("VA", 450, 560),
            bump("VB", 650, 560),
        ),
        width=2 * W,
        plane=plane,
    )
    return RoutingProblem(
        outline=box(0, 0, 1300, 900), edge_clearance=20.0, space=S, nets=(*signals, vdd)
    )


def centre(t: Terminal) -> kdb.Point:
    """The terminal's vertex mean on the 1 nm database grid."""
    x, y = (int(v) for v in np.round(t.polygon.mean(0) * 1000))
    return kdb.Point(x, y)


def gds_nets(tmp_path, polygons: list[np.ndarray]) -> kdb.Region:
    """The polygons written to a GDS with gdstk and read back with KLayout, merged."""
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("TOP")
    for p in polygons:
        cell.add(gdstk.Polygon(p, layer=1))
    path = tmp_path / "rdl.gds"
    lib.write_gds(path)
    layout = kdb.Layout()
    layout.read(str(path))
    top = layout.top_cell()
    return kdb.Region(top.begin_shapes_rec(layout.layer(1, 0))).merged()


@pytest.mark.parametrize("plane", [False, True])
def test_consecutive_pads_of_one_net_route_as_one_connected_legal_net(tmp_path, plane):
    p = row_problem(plane)
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []
    metal = gds_nets(tmp_path, [q for r in result.routed for q in r.polygons])
    # Each piece of metal read back holds the terminals of exactly one net, all of them.
    for piece in metal.each():
        inside = {net.name for net in p.nets for t in net.terminals if piece.inside(centre(t))}
        assert len(inside) == 1, inside
        (name,) = inside
        net = next(n for n in p.nets if n.name == name)
        assert all(piece.inside(centre(t)) for t in net.terminals)
    assert metal.count() == len(p.nets)


def test_a_pad_row_is_reached_once_from_inside_the_die():
    p = row_problem()
    result = route(p)
    vdd = next(r for r in result.routed if r.name == "VDD")
    row = polygon_region([box(0, 790, 1300, 900)])  # the pads' band
    below = polygon_region([box(0, 700, 1300, 790)])  # just inside the pads
    metal = polygon_region(vdd.polygons).merged()
    assert (metal & row).count() == 1  # the five pads bridged into one bar
    assert (metal & below).count() == 1  # one trace leaves the bar inward


def test_pads_with_room_for_a_trace_between_them_stay_apart():
    inner = polygon_region([box(-1000, -1000, 1000, 1000)])
    far = Net(name="V", terminals=(pad("A", 0), pad("B", 90.0)), width=W)  # 30 µm gap
    near = Net(name="V", terminals=(pad("A", 0), pad("B", 89.0)), width=W)  # 29 µm gap
    assert len(group_terminals(far, kdb.Region(), inner, S, W)[0].terminals) == 2
    (one,) = group_terminals(near, kdb.Region(), inner, S, W)[0].terminals
    assert one.name == "pad A + pad B"


@pytest.mark.parametrize(
    "blocker, apart",
    [
        (box(35, 800, 40, 810), True),  # a keep-out in the gap
        (box(36, 700, 39, 785), True),  # foreign metal within space of the bridge
        (box(36, 700, 39, 770), False),  # foreign metal beyond space of the bridge
    ],
)
def test_pads_are_not_bridged_across_foreign_metal(blocker, apart):
    inner = polygon_region([box(-1000, -1000, 1000, 1000)])
    net = Net(name="V", terminals=(pad("A", 0), pad("B", 75.0)), width=W)
    grouped, members = group_terminals(net, polygon_region([blocker]), inner, S, W)
    assert (len(grouped.terminals) == 2) == apart
    assert sum(len(m) for m in members) == 2


def test_fanin_100_power_nets_of_ten_adjacent_pads_route_legally():
    """The bundled fan-in die: VDD and VSS, ten adjacent pads (rows of three, five and two)
    and eight bumps each, route, and every routed net's metal keeps the rules and connects
    its terminals (tests/routing_check.py)."""
    design = loads(FANIN_100.read_text(), base=FANIN_100.parent)
    p = routing_problem(design)
    result = route(p)
    assert {"VDD", "VSS"} <= {r.name for r in result.routed}, result.unrouted
    assert problems(p, result) == []
