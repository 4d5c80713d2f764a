"""Multi-terminal nets (power, ground) grown as trees: between the signal wedges, legal and
connected (checked from the metal with KLayout), and the tree helpers against brute force."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from masklayout.routing import Net, RoutingProblem, Terminal, route
from masklayout.routing.grid import Grid
from masklayout.routing.negotiate import Negotiator, NetState
from masklayout.routing.ports import Port
from masklayout.routing.tree import four_connected, near_tree, stubs
from tests.fanin import problem
from tests.routing_check import problems, region
from tests.test_routing_router import S, W, box, disc


def pad(name, x, y) -> Terminal:
    return Terminal(name=f"pad {name}", polygon=box(x - 25, y - 25, x + 25, y + 25))


def bump(name, x, y) -> Terminal:
    return Terminal(name=f"bump {name}", polygon=disc(x, y, 120))


def fan_problem() -> RoutingProblem:
    """A pad row along the top edge, power on every other pad, the signals between them to
    bumps below their pads, and the power bump deep below: a tree that joined the power pads
    along the pad row would shut each signal pad off from its bump."""
    signals = tuple(
        Net(name=f"S{i}", terminals=(pad(f"S{i}", x, 740), bump(f"S{i}", x, 520)), width=W)
        for i, x in enumerate((260, 500, 740, 980))
    )
    power = Net(
        name="VDD",
        terminals=(
            *(pad(f"V{i}", x, 740) for i, x in enumerate((140, 380, 620, 860, 1100))),
            bump("V", 620, 200),
        ),
        width=W,
    )
    return RoutingProblem(
        outline=box(0, 0, 1240, 800), edge_clearance=20.0, space=S, nets=(*signals, power)
    )


def test_power_tree_runs_between_the_signals_and_every_net_routes():
    p = fan_problem()
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []  # legal; each net one piece touching all its terminals
    vdd = region(next(r for r in result.routed if r.name == "VDD").polygons).merged()
    row = region([box(0, 700, 1240, 800)])  # the pad row: power pads only, no run along it
    assert (vdd & row).count() == 5


def test_fanin_power_nets_route_as_trees_with_the_signals():
    # 6 x 6 bumps, 32 pads, VDD and VSS on 4 pads and 2 bumps each, planned pin map.
    p, pins = problem("6x6", "planned")
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []
    metal = {r.name: region(r.polygons).merged() for r in result.routed}
    for power in ("VDD", "VSS"):
        pads, bumps = pins[power]
        assert len(pads) == 4 and len(bumps) == 2
        m = metal[power]
        assert m.count() == 1  # one tree: every pad and bump of the net on one polygon
        for net in p.nets:
            for t in net.terminals:
                touches = not (region([t.polygon]) & m).is_empty()
                assert touches == (net.name == power), (power, t.name)


def _brute_stubs(path, m, clear, pitch):
    n = len(path)
    d = np.diff(path, axis=0)
    turns = [k + 1 for k in range(len(d) - 1) if tuple(d[k]) != tuple(d[k + 1])]
    out = []
    for k in range(m, n - m):
        if any(abs(k - t) <= m for t in turns):
            continue
        t = path[k + 1] - path[k]
        for p in (np.array([-t[1], t[0]]), np.array([t[1], -t[0]])):
            steps = int(np.ceil(clear / (pitch * np.hypot(*p)) - 1e-9))
            out.append((tuple(path[k]), tuple(path[k] + steps * p), steps + 1))
    return out


def test_stubs_leave_straight_runs_only_and_clear_the_tree():
    run = [(0, x) for x in range(12)] + [(y, 11 + y) for y in range(1, 10)]
    path = np.array(run + [(9, 20 + x) for x in range(1, 8)])
    s = stubs(path, 3, 20.0, 5.0)
    got = [
        (tuple(c[0]), tuple(e), int(n)) for c, e, n in zip(s.cells, s.ends, s.lengths, strict=True)
    ]
    assert got == _brute_stubs(path, 3, 20.0, 5.0)
    for c, e, n in zip(s.cells, s.ends, s.lengths, strict=True):
        assert np.hypot(*(e - c[0])) * 5.0 >= 20.0  # the end clears width + space
        assert tuple(c[n - 1]) == tuple(e)


def test_four_connected_line_splits_the_grid_for_eight_connected_paths():
    a, b = np.array([0, 3]), np.array([39, 30])
    n = 60
    t = np.linspace(0, 1, 200)[:, None]
    cells = np.unique(np.rint(a + t * (b - a)).astype(int), axis=0)
    wall = np.zeros((40, 40), bool)
    line = four_connected(cells)
    wall[line[:, 0], line[:, 1]] = True
    _, parts = ndimage.label(~wall, structure=np.ones((3, 3)))
    assert parts == 2
    plain = np.zeros((40, 40), bool)
    plain[cells[:, 0], cells[:, 1]] = True
    assert ndimage.label(~plain, structure=np.ones((3, 3)))[1] == 1  # the 8-connected line leaks
    assert n == 60


def test_fanin_planes_keep_space_to_the_signals():
    # The pour is the free area opened by the width with every corner cut (KLayout size mode 0):
    # regrown sharp corners reached past the free area into the signals' space (main: 16
    # signals lost as router faults). A plane that cannot be poured legally is reported.
    p, _ = problem("6x6", "planned", planes=True)
    result = route(p)
    planes = {n.name for n in p.nets if n.plane}
    assert {u.net for u in result.unrouted} <= planes
    assert problems(p, result) == []
    assert len(result.routed) >= len(p.nets) - len(planes)


def test_the_cells_near_a_tree_are_those_within_the_clearance_whether_grown_or_windowed():
    """The walls round a tree (cells within ``clear`` of a tree cell, against brute force),
    the same for a window as for the whole grid, and for a tree marked branch by branch as for
    the tree at once (the router keeps the mask up to date as the tree grows)."""
    pitch, clear = 2.5, 11.0
    trunk = np.array([(20, c) for c in range(5, 40)])
    branch = np.array([(r, 30) for r in range(21, 45)])
    whole = near_tree(np.concatenate([trunk, branch]), np.zeros(2, int), (50, 60), clear, pitch)
    rows, cols = np.indices((50, 60))
    cells = np.concatenate([trunk, branch])
    d = np.hypot(rows[..., None] - cells[:, 0], cols[..., None] - cells[:, 1]).min(-1) * pitch
    assert whole[d <= clear - 1e-6].all() and not whole[d > clear + pitch].any()
    grown = near_tree(trunk, np.zeros(2, int), (50, 60), clear, pitch)
    grown |= near_tree(branch, np.zeros(2, int), (50, 60), clear, pitch)
    np.testing.assert_array_equal(grown, whole)
    # a window just under the trunk: the trunk's cells lie outside it, their walls reach in
    window = near_tree(cells, np.array([23, 0]), (20, 60), clear, pitch)
    assert window[0, 10]
    np.testing.assert_array_equal(window, whole[23:43, 0:60])


def test_a_branch_leg_keeps_width_and_space_from_the_tree_where_it_leaves_its_pad():
    # A 30 um net at 10 um space: a leg from the centre of a 60 um pad straight down to
    # y = -55. Its metal reaches outside the pad from y = -15 (half the width inside the edge)
    # down; a tree cell nearer than 30 + 10 um to that part would notch against it, one
    # deeper inside the pad would not.
    width, space, outline = 30.0, 10.0, box(-200, -200, 200, 200)
    grid = Grid.covering(outline, 5.0)
    shape = (grid.ny, grid.nx)
    neg = Negotiator(
        grid,
        space,
        {width: np.zeros(shape, bool)},
        {width: np.full(shape, -1)},
        [],
        outline,
        0.0,
        (width,),
    )
    pads = (
        Terminal(name="pad P", polygon=box(-30, -30, 30, 30)),
        Terminal(name="pad Q", polygon=box(100, -30, 160, 30)),
    )
    leg = np.array([[0.0, 0.0], [0.0, -55.0]])
    port = Port(
        terminal=0, cell=tuple(grid.nearest(leg[-1])[0]), leg=leg, behind=(), origin=(0.0, 0.0)
    )
    st = NetState(
        index=0,
        net=Net(name="V", terminals=pads, width=width),
        ports=[[port], []],
        fixed_cells=np.zeros((0, 2), np.int64),
        fixed_terminals=frozenset(),
    )
    clear = width + space

    def clear_of(x: float, y: float) -> bool:
        return neg._clear_of(st, port, np.array([[x, y]]))

    assert not clear_of(clear - 1, -35) and clear_of(clear + 1, -35)  # beside the leg
    assert not clear_of(0, -55 - (clear - 1)) and clear_of(0, -55 - (clear + 1))  # past its end
    # 38 um beside the leg at the pad's centre, but sqrt(38^2 + 15^2) from where it leaves
    assert np.hypot(clear - 2, 15) > clear and clear_of(clear - 2, 0)
