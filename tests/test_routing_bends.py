"""Wide traces at bends and where a leg leaves its pad: the metal stays within w/2 of its
centreline, keeps RDL.S from a round capture it bends beside, and has no notch or neck."""

from __future__ import annotations

import klayout.db as kdb
import numpy as np
import pytest

from masklayout.routing import Net, Obstacle, RoutingProblem, Terminal, route
from masklayout.routing.grid import Grid, segment_distance
from masklayout.routing.ports import DIAGONAL, candidate_ports
from masklayout.routing.shapes import metal, simplify, trace_region
from tests.fanin import circle, square
from tests.routing_check import problems, region
from tests.test_routing_router import box, disc

S = 10.0
DBU = 0.001


@pytest.mark.parametrize("width", [12.0, 30.0])
@pytest.mark.parametrize(
    "line",
    [
        [[0, 0], [100, 0], [200, 100]],  # 45°
        [[0, 0], [100, 0], [100, 100]],  # 90°
        [[0, 0], [100, 0], [110, 10], [200, 10]],  # a short 45° jog
        [[0, 0], [50, 50], [50, 120], [0, 170]],  # two 45° bends
        [[0.4, 0.7], [60.4, 0.7], [90.4, 30.7], [90.4, 90.7]],  # off the µm grid
    ],
)
def test_trace_metal_stays_within_half_its_width_of_the_centreline(width, line):
    line = np.array(line, dtype=float)
    m = trace_region(line, width)
    pts = np.array([(p.x * DBU, p.y * DBU) for poly in m.each() for p in poly.each_point_hull()])
    reach = segment_distance(pts, line[:-1], line[1:]).max()
    # Rounding to the 1 nm grid only: the octagon reached w/2 / cos(22.5°), 8 % further.
    assert reach <= width / 2 + 0.001
    # Straight runs keep the full width: a 0° and a 45° run are w across.
    flat = trace_region(np.array([[0.0, 0.0], [100.0, 0.0]]), width).bbox()
    assert flat.height() == round(width / DBU)
    slant = trace_region(np.array([[0.0, 0.0], [100.0, 100.0]]), width)
    assert slant.width_check(round(width / DBU) - 2).count() <= 2 * 16  # only the end caps


def _one_net(width, pad_at, bump_at, captures) -> RoutingProblem:
    (px, py), (bx, by) = pad_at, bump_at
    return RoutingProblem(
        outline=box(0, 0, 800, 700),
        edge_clearance=20.0,
        space=S,
        nets=(
            Net(
                name="N",
                terminals=(
                    Terminal(name="pad P", polygon=box(px - 30, py - 30, px + 30, py + 30)),
                    Terminal(name="bump B", polygon=disc(bx, by, 120)),
                ),
                width=width,
            ),
        ),
        obstacles=tuple(
            Obstacle(name=f"bump X{i}", polygon=disc(x, y, d))
            for i, ((x, y), d) in enumerate(captures)
        ),
    )


@pytest.mark.parametrize(
    ("width", "pad_at", "bump_at", "captures"),
    [
        # The trace bends at the clearance from the round capture (on main its bend's outer
        # corner came 9.0 µm, at 12 µm 9.98 µm from it).
        (30.0, (168.7, 109.1), (469.2, 515.6), [((437.9, 379.9), 105.4)]),
        (30.0, (158.7, 135.9), (518.4, 563.8), [((289.7, 462.3), 136.3), ((477.6, 434.5), 88.5)]),
        (12.0, (158.2, 135.9), (573.7, 598.0), [((248.2, 380.6), 129.9)]),
    ],
)
def test_wide_trace_bending_beside_a_round_capture_keeps_the_space(
    width, pad_at, bump_at, captures
):
    p = _one_net(width, pad_at, bump_at, captures)
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []
    m = region(result.routed[0].polygons)
    caps = region([o.polygon for o in p.obstacles])
    s = round(S / DBU)
    assert m.separation_check(caps, s).is_empty()
    # ... and the route does run at the clearance (within 1 µm of it)
    assert not m.separation_check(caps, s + 1000).is_empty()


@pytest.mark.parametrize("width", [12.0, 30.0])
def test_wide_trace_leaving_a_pad_at_any_angle_joins_the_grid_without_notch_or_neck(width):
    """Every leg out of pads centred off the grid (45° legs with a jog onto the grid, axis legs
    with a 45° jog), continued on the grid in every direction the port allows: pad and trace
    merged have no notch under RDL.S and are nowhere narrower than the trace (but at the far
    end, whose round cap a width check reads as narrow)."""
    pitch = 10.0 if width == 30.0 else 5.5
    grid = Grid(x0=0.0, y0=0.0, pitch=pitch, nx=400, ny=400)
    rng = np.random.default_rng(7)
    for c in np.round(rng.uniform(1000, 1000 + pitch, (12, 2)), 3):
        pad = box(c[0] - 30, c[1] - 30, c[0] + 30, c[1] + 30)
        for port in candidate_ports(0, pad, width, S, grid, True):
            # a jog between parallel runs narrows round metal below 3.4 % of the width
            jogs = np.hypot(*np.diff(port.leg, axis=0)[1:].T)
            assert np.all(jogs >= 0.035 * width), port.leg
            for n in DIAGONAL:
                if (n[1], n[0]) in port.behind:
                    continue
                end = port.leg[-1] + np.array(n) * pitch * 8
                line = simplify(np.concatenate([port.leg, [end]]))
                m = metal([pad], [line], width)
                assert m.notch_check(round(S / DBU)).is_empty(), line.tolist()
                thin = [
                    e
                    for e in m.width_check(round(width / DBU) - 2).each()
                    if np.hypot(*(np.array([e.bbox().center().x, e.bbox().center().y]) * DBU - end))
                    > width
                ]
                assert not thin, line.tolist()


def test_a_notch_is_filled_where_it_is_and_the_bends_beside_it_keep_their_width():
    """A leg that jogs up onto the grid and then turns down (a hook, from the fan-in sample's
    PB4) leaves a notch under its jog. Closing the whole net fills it, but also moves the pen's
    rounded corners at the hook's top by a nanometre, a hair under the trace width there; the
    fill must stay at the notch."""
    from masklayout.routing.router import _fill_notches

    m = _hook(12.0)
    space, width = round(S / DBU), round(12.0 / DBU) - 2
    notch = m.notch_check(space)
    assert notch.count() > 0 and m.width_check(width).is_empty()
    closed = (m.sized(space // 2).sized(-space // 2) + m).merged()
    assert not closed.width_check(width).is_empty()  # what filling the whole net does
    regions = {0: m}
    inner = kdb.Region(m.bbox().enlarged(100_000, 100_000))
    assert _fill_notches([0], regions, [12.0], kdb.Region(), inner, S) == {}
    filled = regions[0]
    assert filled.notch_check(space).is_empty() and filled.width_check(width).is_empty()
    added = filled - m
    assert not added.is_empty()
    assert (added - notch.polygons().sized(space)).is_empty()


def _hooked_net() -> tuple[Net, np.ndarray]:
    """A 10 µm trace that comes down at 45° past the row of its pad's leg and turns back onto
    it (a hook, from VSS on the 12x12 fan-in): a 45° notch between the return and the leg."""
    pad = square((2304.444, -2540.0), 60.0)
    start = square((1900.0, -2300.0), 60.0)
    net = Net(name="VSS", terminals=(Terminal("a", start), Terminal("b", pad)), width=10.0)
    line = [[1900, -2300], [2030, -2300], [2255, -2525], [2245, -2535], [2245, -2540]]
    line += [[2304.444, -2540]]
    return net, np.array(line, dtype=float)


@pytest.mark.parametrize("reverse", [False, True])
def test_a_hook_next_to_a_terminal_becomes_one_bend_without_a_notch(reverse):
    from masklayout.routing.straight import unhook

    net, line = _hooked_net()
    line = line[::-1] if reverse else line
    own = [t.polygon for t in net.terminals]
    before = metal(own, [line], net.width)
    assert not before.notch_check(round(S / DBU)).is_empty()
    lines, regions = {0: [line]}, {0: before}
    inner = kdb.Region(before.bbox().enlarged(100_000, 100_000))
    unhook((net,), lines, regions, [kdb.Region()], metal(own, [], 10.0), inner, S)
    (new,) = lines[0]
    assert regions[0].notch_check(round(S / DBU)).is_empty()
    assert regions[0].width_check(round(10.0 / DBU) - 2).is_empty()
    np.testing.assert_allclose(new[[0, -1]], line[[0, -1]])  # same ends
    d = np.diff(new, axis=0)
    assert ((d[:-1] * d[1:]).sum(1) >= 0).all()  # no turn sharper than 90°
    assert all(min(abs(x), abs(y)) < 1e-9 or abs(abs(x) - abs(y)) < 1e-9 for x, y in d)
    assert regions[0].area() < before.area()  # a shortcut, not a detour


def test_a_hook_takes_another_bend_when_the_best_comes_too_close_to_other_metal():
    """The jogged leg of the fan-in sample's PB4: a 2 µm pad 10 µm under the leg leaves the
    hook legal but not the bend that would replace it best; another bend must be taken."""
    from masklayout.routing.straight import unhook

    own = [circle((600, -1000), 270), square((846.5, -1300), 60)]
    net = Net(name="PB4", terminals=(Terminal("a", own[0]), Terminal("b", own[1])), width=12.0)
    line = [[600, -1000], [754.5, -1000], [758.5, -996], [764, -996], [764, -1007]]
    line = np.array(line + [[846.5, -1089.5], [846.5, -1300]], dtype=float)
    before = metal(own, [line], net.width)
    block = metal([square((747.5, -1017.5), 2.0)], [], 12.0)
    space = round(S / DBU)
    assert before.separation_check(block, space).is_empty()
    inner = kdb.Region(before.bbox().enlarged(100_000, 100_000))
    results = []
    for extra in (kdb.Region(), block):
        lines, regions = {0: [line]}, {0: before}
        unhook((net,), lines, regions, [kdb.Region()], metal(own, [], 12.0) + extra, inner, S)
        assert regions[0].notch_check(space).is_empty()
        results.append(regions[0])
    free, blocked = results
    assert not free.separation_check(block, space).is_empty()  # the best bend, had it room
    assert (
        blocked.separation_check(block, space).is_empty() and blocked.interacting(block).is_empty()
    )


def test_a_hook_is_kept_when_the_bend_replacing_it_would_cut_a_branch_off():
    """A tree whose trunk hooks back (right along y = 0, up, left along y = 14: a 4 µm notch)
    and whose branch leaves from the hook's inner corner (25, 14). The one bend (40, 0) ->
    (40, 45) -> (25, 60) would clear the notch but pass that corner by, leaving the branch
    and its pad apart from the rest of the net: the hook stays, the net stays one piece (the
    piece count and the width check, to which a cut branch's round free end reads as too
    narrow, each refuse that bend)."""
    from masklayout.routing.straight import unhook

    pads = [square((-100, 0), 40), square((25, 200), 40), square((-60, 150), 40)]
    net = Net(
        name="T", terminals=tuple(Terminal(f"p{i}", q) for i, q in enumerate(pads)), width=10.0
    )
    trunk = np.array([(-100, 0), (40, 0), (40, 14), (25, 14), (25, 60), (25, 200)], dtype=float)
    branch = np.array([(25, 14), (-60, 14), (-60, 150)], dtype=float)
    before = metal(pads, [trunk, branch], net.width)
    space = round(S / DBU)
    assert before.count() == 1 and not before.notch_check(space).is_empty()
    bend = np.array([(-100, 0), (40, 0), (40, 45), (25, 60), (25, 200)], dtype=float)
    cut = metal(pads, [bend, branch], net.width)
    assert cut.notch_check(space).is_empty() and cut.count() == 2  # the tempting bend
    lines, regions = {0: [trunk, branch]}, {0: before}
    inner = kdb.Region(before.bbox().enlarged(100_000, 100_000))
    unhook((net,), lines, regions, [kdb.Region()], metal(pads, [], 10.0), inner, S)
    assert regions[0].count() == 1
    assert np.isclose(lines[0][0], (25, 14)).all(axis=1).any()  # the trunk still meets it


def _pocket(width: float) -> kdb.Region:
    """A branch that runs under its capture and turns back up into it (VDD on the 10 x 10
    fan-in, clockwise map): a 45° pocket between the run and the leg."""
    capture = (1737.778, 2140.0)
    line = np.array([capture, (1695, 2097.222), (1695, 2090), (1725, 2090), (1805, 2010)])
    return metal([square(capture, 60.0), square((1805.0, 2010.0), 40.0)], [line], width)


def _hook(width: float) -> kdb.Region:
    """The jogged leg of the fan-in sample's PB4."""
    line = [[600, -1000], [754.5, -1000], [758.5, -996], [764, -996], [764, -1007]]
    line = np.array(line + [[846.5, -1089.5], [846.5, -1300]], dtype=float)
    return metal([circle((600, -1000), 270), square((846.5, -1300), 60)], [line], width)


def test_a_pocket_is_filled_by_the_closing_by_rdl_s_reaching_past_the_notch():
    """The pocket needs the closing by RDL.S, and that closing kept within RDL.S of the notch
    leaves new notches at its border."""
    from masklayout.routing.router import _fill_notches

    m = _pocket(10.0)
    space, width = round(S / DBU), round(10.0 / DBU) - 2
    notch = m.notch_check(space).polygons()
    assert not notch.is_empty()
    closed = m.sized(space).sized(-space)
    assert not (m + (closed & notch.sized(space))).merged().notch_check(space).is_empty()
    regions = {0: m}
    inner = kdb.Region(m.bbox().enlarged(100_000, 100_000))
    assert _fill_notches([0], regions, [10.0], kdb.Region(), inner, S) == {}
    filled = regions[0]
    assert filled.notch_check(space).is_empty() and filled.width_check(width).is_empty()
    assert not (filled - m).is_empty() and (filled - m - closed).is_empty()


def test_two_notches_of_one_net_that_want_different_fills_are_both_filled():
    """The hook wants the closing by RDL.S/2 and no more (wider, it narrows the hook's bend),
    the pocket the closing by RDL.S: one fill for both leaves one of them."""
    from masklayout.routing.router import _fill_notches

    m = (_hook(12.0) + _pocket(12.0)).merged()
    space, width = round(S / DBU), round(12.0 / DBU) - 2
    assert m.notch_check(space).count() >= 2
    regions = {0: m}
    inner = kdb.Region(m.bbox().enlarged(100_000, 100_000))
    assert _fill_notches([0], regions, [12.0], kdb.Region(), inner, S) == {}
    filled = regions[0]
    assert filled.notch_check(space).is_empty() and filled.width_check(width).is_empty()
    assert (filled - m - m.sized(space).sized(-space)).is_empty()


def test_a_branch_that_jogs_back_beside_its_trunk_becomes_one_bend():
    """VSS on the 11 x 11 fan-in (own pin map): a branch leaves the trunk west, jogs up 5 µm
    and turns down-left, a notch between the jog and the trunk. The branch from the trunk is
    re-drawn in one bend; the trunk and the branch's far end stay where they were."""
    from masklayout.routing.straight import unhook

    ends = [(-700.0, -1000.0), (-700.0, -700.0), (-960.0, -935.0)]
    own = [square(c, 40.0) for c in ends]
    terminals = tuple(Terminal(f"t{i}", q) for i, q in enumerate(own))
    net = Net(name="VSS", terminals=terminals, width=10.0)
    trunk = np.array([ends[0], ends[1]])
    branch = [(-700, -830), (-710, -830), (-715, -825), (-725, -825), (-750, -850), (-875, -850)]
    branch = np.array([*branch, ends[2]], dtype=float)
    before = metal(own, [trunk, branch], 10.0)
    space = round(S / DBU)
    assert not before.notch_check(space).is_empty()
    lines, regions = {0: [trunk, branch]}, {0: before}
    inner = kdb.Region(before.bbox().enlarged(100_000, 100_000))
    unhook((net,), lines, regions, [kdb.Region()], metal(own, [], 10.0), inner, S)
    assert regions[0].notch_check(space).is_empty()
    assert regions[0].width_check(round(10.0 / DBU) - 2).is_empty()
    assert regions[0].count() == 1  # still one piece
    new_trunk, new_branch = lines[0]
    assert new_trunk is trunk
    np.testing.assert_allclose(new_branch[[0, -1]], branch[[0, -1]])
    heading = new_branch[1] - new_branch[0]  # still leaves the trunk due west
    assert heading[0] < 0 and heading[1] == 0
