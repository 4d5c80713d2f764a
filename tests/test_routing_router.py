"""The RDL router on small hand-made problems: spacing, capacity, keep-outs, trees, planes."""

from __future__ import annotations

import dataclasses
import re

import klayout.db as kdb
import numpy as np
import pytest

from masklayout.routing import Net, Obstacle, RoutingProblem, Terminal, negotiate, route, router
from masklayout.routing.negotiate import LATTICE_CELLS, Negotiator
from tests.routing_check import problems, region

W, S = 10.0, 10.0


def box(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def disc(x, y, d, n=32) -> np.ndarray:
    a = 2 * np.pi * (np.arange(n) + 0.5) / n
    r = d / 2 / np.cos(np.pi / n)
    return np.round(np.stack([x + r * np.cos(a), y + r * np.sin(a)], 1), 3)


def pad(name, x, y) -> Terminal:
    return Terminal(name=f"pad {name}", polygon=box(x - 20, y - 20, x + 20, y + 20))


def bump(name, x, y) -> Terminal:
    return Terminal(name=f"bump {name}", polygon=disc(x, y, 100))


def wall_problem(nets: int, gap: float = 60.0) -> RoutingProblem:
    """Pads on the left, bumps on the right, a wall between them with one gap ``gap`` wide."""
    lo, hi = 300 - gap / 2, 300 + gap / 2
    ys = [180, 300, 420][:nets]
    return RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=tuple(
            Net(name=f"N{i}", terminals=(pad(f"P{i}", 100, y), bump(f"B{i}", 850, y)), width=W)
            for i, y in enumerate(ys)
        ),
        obstacles=(
            Obstacle(name="wall low", polygon=box(480, 0, 520, lo)),
            Obstacle(name="wall high", polygon=box(480, hi, 520, 600)),
        ),
    )


def test_two_nets_share_a_two_track_gap_legally():
    p = wall_problem(2)
    result = route(p)
    assert [r.name for r in result.routed] == ["N0", "N1"] and not result.unrouted
    assert problems(p, result) == []


def test_three_nets_through_a_two_track_gap_name_the_channel():
    # Gap 60: floor((60 - 10) / (10 + 10)) = 2 tracks; three nets need it.
    result = route(wall_problem(3))
    u = result.unrouted[-1]
    assert "wall high" in u.reason and "wall low" in u.reason
    assert "needs 3 tracks, has 2" in u.reason
    assert 480 - 30 <= u.at[0] <= 520 + 30


def test_nets_that_must_cross_are_not_reported_as_a_full_channel():
    # A joins the left and right edges, B the top and bottom: on one layer they must cross,
    # though the channel between B's pads (480 um apart) has floor((480 - 10) / 20) = 23 tracks.
    def edge_pad(name, x, y):
        return Terminal(name=f"pad {name}", polygon=box(x - 20, y - 20, x + 20, y + 20))

    p = RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(
            Net(name="A", terminals=(edge_pad("L", 40, 300), edge_pad("R", 960, 300)), width=W),
            Net(name="B", terminals=(edge_pad("T", 500, 560), edge_pad("U", 500, 40)), width=W),
        ),
        obstacles=(),
    )
    result = route(p)
    (u,) = result.unrouted
    assert "is full" not in u.reason and "needs" not in u.reason
    other = "B" if u.net == "A" else "A"
    assert f"cut by {other}:" in u.reason
    room, taken = re.search(r"room for (\d+) tracks, (\d+) taken", u.reason).groups()
    assert int(room) == 23 and 1 <= int(taken) <= 2
    assert problems(p, result) == []


def test_over_capacity_channel_still_routes_the_nets_that_fit():
    result = route(wall_problem(3))
    assert len(result.routed) == 2 and len(result.unrouted) == 1


def _crowd(nets: int, gap: float) -> RoutingProblem:
    """``nets`` pad-bump pairs 150 µm apart (bump gaps of 50 µm: two tracks each), all through
    one gap ``gap`` wide in a wall from die edge to die edge."""
    h = 250 + 150 * nets
    ys = h / 2 + 150 * (np.arange(nets) - (nets - 1) / 2)
    return RoutingProblem(
        outline=box(0, 0, 1000, h),
        edge_clearance=20.0,
        space=S,
        nets=tuple(
            Net(name=f"N{i}", terminals=(pad(f"P{i}", 100, y), bump(f"B{i}", 850, y)), width=W)
            for i, y in enumerate(ys)
        ),
        obstacles=(
            Obstacle(name="wall low", polygon=box(480, 0, 520, h / 2 - gap / 2)),
            Obstacle(name="wall high", polygon=box(480, h / 2 + gap / 2, 520, h)),
        ),
    )


@pytest.mark.parametrize(("nets", "gap"), [(4, 80.0), (6, 100.0), (8, 120.0)])
def test_over_capacity_channel_drops_only_the_nets_that_do_not_fit(nets, gap):
    # A gap g takes floor((g - space) / (width + space)) tracks: 3, 4 and 5 here.
    tracks = int((gap - S) // (W + S))
    p = _crowd(nets, gap)
    result = route(p)
    assert len(result.routed) == tracks and len(result.unrouted) == nets - tracks
    assert problems(p, result) == []
    # Every routed net passes the gap: its metal meets the gap's box.
    gap_box = region([box(480, p.outline[2, 1] / 2 - gap / 2, 520, p.outline[2, 1] / 2 + gap / 2)])
    assert all(not (region(r.polygons) & gap_box).is_empty() for r in result.routed)
    for u in result.unrouted:
        assert "wall high" in u.reason and "wall low" in u.reason, u.reason
        assert f"has {tracks}" in u.reason


def test_routing_is_deterministic():
    p = wall_problem(3)
    a, b = route(p), route(p)
    assert a.unrouted == b.unrouted
    assert [r.name for r in a.routed] == [r.name for r in b.routed]
    for x, y in zip(a.routed, b.routed, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(x.centrelines, y.centrelines, strict=True))
        assert all(np.array_equal(u, v) for u, v in zip(x.polygons, y.polygons, strict=True))


def test_keepout_is_routed_around():
    keep = box(400, 150, 600, 450)
    p = dataclasses.replace(
        wall_problem(1, gap=600), obstacles=(Obstacle(name="keepout 1", polygon=keep),)
    )
    p = dataclasses.replace(
        p, nets=(Net(name="N0", terminals=(pad("P0", 100, 300), bump("B0", 850, 300)), width=W),)
    )
    result = route(p)
    assert not result.unrouted
    metal = region(result.routed[0].polygons)
    # Independent: the metal keeps `space` from the keep-out, and the straight line is blocked.
    assert metal.separation_check(region([keep]), round(S / 0.001)).is_empty()
    assert (metal & region([keep])).is_empty()
    # Around the keep-out at 45°: at least 750 + 2·165·(√2 - 1) µm, less slack for the bends.
    assert result.routed[0].length > 850
    assert problems(p, result) == []


def test_multi_terminal_net_is_one_tree():
    terms = (pad("P", 100, 300), bump("B1", 700, 120), bump("B2", 700, 480), bump("B3", 850, 300))
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(Net(name="VDD", terminals=terms, width=W),),
    )
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []
    assert region(result.routed[0].polygons).merged().count() == 1


def test_manhattan_style_uses_right_angles_only():
    p = wall_problem(2)
    p = dataclasses.replace(
        p, nets=tuple(dataclasses.replace(n, style="manhattan") for n in p.nets)
    )
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []


def test_plane_connects_its_terminals_around_a_signal_net():
    signal = Net(name="SIG", terminals=(pad("P1", 100, 300), bump("B1", 850, 300)), width=W)
    plane = Net(
        name="GND",
        terminals=(pad("P2", 100, 500), pad("P3", 100, 100), bump("B2", 700, 480)),
        width=W,
        plane=True,
    )
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600), edge_clearance=20.0, space=S, nets=(signal, plane)
    )
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []
    gnd = region(next(r for r in result.routed if r.name == "GND").polygons).merged()
    assert gnd.count() == 1
    assert gnd.area() > 0.5 * 1000 * 600 * 0.001**-2 * 0.5


def test_plane_around_keepouts_is_legal_and_one_shape():
    # A skewed triangle and a disc as keep-outs, a signal net between them: the pour keeps RDL.S
    # from all of it, has no neck under its width and no notch, and joins all three terminals.
    signal = Net(name="SIG", terminals=(pad("P1", 80, 300), bump("B1", 620, 300)), width=W)
    plane = Net(
        name="GND",
        terminals=(pad("P2", 80, 520), pad("P3", 80, 80), bump("B2", 600, 110)),
        width=20.0,
        plane=True,
    )
    triangle = np.array([[300.0, 380.0], [470.0, 430.0], [340.0, 560.0]])
    p = RoutingProblem(
        outline=box(0, 0, 800, 600),
        edge_clearance=20.0,
        space=S,
        nets=(signal, plane),
        obstacles=(
            Obstacle(name="keep-out 1", polygon=triangle),
            Obstacle(name="keep-out 2", polygon=disc(330, 160, 90, n=48)),
        ),
    )
    result = route(p)
    assert not result.unrouted
    assert problems(p, result) == []
    gnd = region(next(r for r in result.routed if r.name == "GND").polygons).merged()
    assert gnd.count() == 1


@pytest.mark.parametrize("first", ["P2", "P3"])
def test_plane_cut_in_two_is_reported(first):
    # A signal trace drawn by waypoints from the left edge to the right edge (a fixed obstacle)
    # cuts the plane's two pads apart: no skeleton joins them, and the pour alone cannot. The
    # message names the pad cut off from the plane's first pad, whichever side that lies on.
    signal = Net(
        name="SIG",
        terminals=(pad("P1", 60, 300), pad("P4", 940, 300)),
        width=W,
        fixed=(np.array([[60.0, 300.0], [940.0, 300.0]]),),
    )
    pads = {"P2": pad("P2", 500, 500), "P3": pad("P3", 500, 100)}
    other = ({"P2", "P3"} - {first}).pop()
    plane = Net(name="GND", terminals=(pads[first], pads[other]), width=W, plane=True)
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600), edge_clearance=20.0, space=S, nets=(signal, plane)
    )
    result = route(p)
    (u,) = result.unrouted
    assert u.net == "GND" and "2 pieces" in u.reason
    assert f"pad {other} cut off from pad {first}" in u.reason, u.reason
    # located at the cut: the gap between the pieces is the signal trace and its space each side
    assert abs(u.at[1] - 300) <= W / 2 + S


def test_plane_pads_on_both_sides_of_a_signal_are_joined_by_the_plane_skeleton():
    """The plane's two pads lie across the straight way of a signal that is free to move: the
    plane's skeleton (a tree joining its pads, routed with the signals) keeps a passage, so the
    pour is one piece holding both pads, and the signal routes too (the pour alone, after the
    signals, was cut in two by the signal's straight trace)."""
    signal = Net(name="SIG", terminals=(pad("P1", 60, 300), pad("P4", 940, 300)), width=W)
    plane = Net(
        name="GND", terminals=(pad("P2", 500, 500), pad("P3", 500, 100)), width=W, plane=True
    )
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600), edge_clearance=20.0, space=S, nets=(signal, plane)
    )
    result = route(p)
    assert not result.unrouted, result.unrouted
    gnd = next(r for r in result.routed if r.name == "GND")
    (piece,) = list(region(gnd.polygons).merged().each())
    for t in plane.terminals:
        cx, cy = np.rint(t.polygon.mean(0) / 0.001).astype(int)
        assert piece.inside(kdb.Point(int(cx), int(cy)))
    assert problems(p, result) == []


@pytest.mark.parametrize("gap", [40.0])
def test_walled_in_terminal_is_reported_not_raised(gap):
    p = wall_problem(1)
    p = dataclasses.replace(
        p,
        obstacles=(Obstacle(name="wall", polygon=box(480, 0, 520, 600)),),
    )
    (u,) = route(p).unrouted
    assert u.net == "N0" and "no path" in u.reason


def _closest_to_step(k: int) -> float:
    """Least distance from a step to the lattice points at least k from both its ends."""
    # The footprint radius on a lattice-aligned grid is exactly w + space = k cells: any lattice
    # point at least k from both ends of an axis or diagonal step is at least k from the step.
    n, out = 2 * k + 3, np.inf
    qy, qx = np.mgrid[-n : n + 1, -n : n + 1]
    q = np.stack([qx.ravel(), qy.ravel()], 1).astype(float)
    for step in ((1.0, 0.0), (1.0, 1.0)):
        b = np.array(step)
        far = (np.hypot(*q.T) >= k) & (np.hypot(*(q - b).T) >= k)
        t = np.clip((q[far] @ b) / (b @ b), 0.0, 1.0)
        out = min(out, np.hypot(*(q[far] - t[:, None] * b).T).min())
    return out


@pytest.mark.parametrize("k", LATTICE_CELLS)
def test_grid_paths_whose_cells_keep_k_cells_apart_keep_k_apart_along_their_steps(k):
    assert _closest_to_step(k) >= k - 1e-12


def test_five_cells_is_no_lattice_spacing():
    # (4, -3) is 5 from (0, 0) and from (1, 1), and 7 / sqrt(2) = 4.95 from the step between.
    assert 5 not in LATTICE_CELLS
    assert _closest_to_step(5) == pytest.approx(7 / np.sqrt(2))


def _straight_problem(obstacles=()) -> RoutingProblem:
    # Pad and bump centres on one horizontal line between the grid's lines.
    return RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(Net(name="N", terminals=(pad("P", 100.7, 302.3), bump("B", 850.7, 302.3)), width=W),),
        obstacles=tuple(obstacles),
    )


def test_lined_up_pad_and_bump_route_as_one_straight_segment():
    p = _straight_problem()
    (r,) = route(p).routed
    assert [line.tolist() for line in r.centrelines] == [[[100.7, 302.3], [850.7, 302.3]]]
    assert r.bends == 0 and problems(p, route(p)) == []


def test_a_straight_segment_too_close_to_an_obstacle_keeps_its_detour():
    # The straight trace's edge would come 12 - 5 = 7 µm from the block (space 10).
    p = _straight_problem([Obstacle(name="block", polygon=box(400, 302.3 + 12, 500, 400))])
    result = route(p)
    (r,) = result.routed
    assert r.bends > 0
    assert problems(p, result) == []


@pytest.mark.parametrize(("few", "negotiations"), [(2, 1), (3, 2)])
def test_negotiation_restarts_only_when_few_nets_are_lost(monkeypatch, few, negotiations):
    # 8 nets through a 5-track gap lose 3 (see above). A restart, which puts the lost nets in
    # front, happens when at most RESTART_FEW nets were lost; it loses 3 again, so no second.
    monkeypatch.setattr(router, "RESTART_FEW", few)
    calls = []
    original = Negotiator.negotiate
    monkeypatch.setattr(
        Negotiator, "negotiate", lambda self, states: calls.append(1) or original(self, states)
    )
    result = route(_crowd(8, 120.0))
    assert len(result.unrouted) == 3
    assert len(calls) == negotiations


def test_a_restart_that_leaves_more_nets_unrouted_is_not_kept(monkeypatch):
    # 8 nets through a 5-track gap lose 3 (see above). The restart is made to drop 2 nets and
    # leave 2 more without a path: fewer dropped, more unrouted (4 > 3), so the first
    # negotiation's outcome stands (comparing only the dropped nets would keep the restart).
    calls = []
    original = Negotiator.negotiate

    def negotiate(self, states):
        original(self, states)
        calls.append(1)
        if len(calls) == 2:
            dropped = [st for st in states if st.congested]
            dropped[0].congested = False
            for st in [st for st in states if not st.congested][1:3]:
                st.failure, st.pieces = ((0.0, 0.0), "no path (made up by the test)"), []

    monkeypatch.setattr(Negotiator, "negotiate", negotiate)
    result = route(_crowd(8, 120.0))
    assert len(calls) >= 2
    assert len(result.unrouted) == 3
    assert not any("made up" in u.reason for u in result.unrouted)


@pytest.fixture
def first_pass(monkeypatch):
    """One pass of negotiation and no restart: the nets dropped after the first pass are
    left to the repair and the second negotiation (trees last)."""
    monkeypatch.setattr(negotiate, "PASSES", 0)
    monkeypatch.setattr(router, "RESTARTS", 0)


def _routes_whole(p: RoutingProblem):
    """Route ``p``, check every net routed and the metal legal; the result."""
    result = route(p)
    assert not result.unrouted, result.unrouted
    assert problems(p, result) == []
    return result


def _two_gaps() -> RoutingProblem:
    """A wall from die edge to die edge with two one-track gaps, A (y 300) and B (y 500). X's
    pad and bump touch the die-edge clearance, so nothing passes round them; X is nearer gap A
    and routes first (smaller extent), D lies below X and can reach gap A only."""

    # gaps 40 µm wide: floor(30 / 20) = 1 track
    return _gapped_wall(600, [(0, 280), (320, 480), (520, 600)], [("X", 380, 380), ("D", 100, 200)])


def _gapped_wall(height: float, walls, nets) -> RoutingProblem:
    """A die 1000 wide with a wall across it at x 480-520 in pieces (y from, to); each net
    (name, y left, y right) joins a pad on the left edge to one on the right edge."""
    return RoutingProblem(
        outline=box(0, 0, 1000, height),
        edge_clearance=20.0,
        space=S,
        nets=tuple(
            Net(name=n, terminals=(pad(f"{n}1", 40, y0), pad(f"{n}2", 960, y1)), width=W)
            for n, y0, y1 in nets
        ),
        obstacles=tuple(
            Obstacle(name=f"wall {i}", polygon=box(480, lo, 520, hi))
            for i, (lo, hi) in enumerate(walls)
        ),
    )


def _meets(result, name: str, area: np.ndarray) -> bool:
    """Whether the routed metal of net ``name`` overlaps the polygon ``area``."""
    (net,) = [r for r in result.routed if r.name == name]
    return not (region(net.polygons) & region([area])).is_empty()


def _through(result, name: str, y0: float, y1: float) -> bool:
    return _meets(result, name, box(480, y0, 520, y1))


def test_a_dropped_net_takes_the_gap_of_a_net_that_can_move_to_another(first_pass):
    # No negotiation passes and no restart: X takes gap A first, D (which has no other way)
    # shares it and is dropped. The repair routes D through A, rips X up and reroutes it where
    # no other net is: through gap B.
    p = _two_gaps()
    result = _routes_whole(p)
    assert _through(result, "D", 280, 320) and _through(result, "X", 480, 520)


def test_a_repair_that_leaves_a_net_without_a_way_is_undone(first_pass):
    # As above, but gap B closed: X has nowhere to go, so D stays dropped and X keeps gap A.
    p = _two_gaps()
    p = dataclasses.replace(
        p, obstacles=(*p.obstacles, Obstacle(name="plug", polygon=box(480, 470, 520, 530)))
    )
    result = route(p)
    assert [u.net for u in result.unrouted] == ["D"]
    assert problems(p, result) == []
    assert _through(result, "X", 280, 320)


def test_a_repair_that_fails_one_way_tries_the_dropped_net_another_way(first_pass):
    # Three one-track gaps (y 200, 400, 600). Y (below) takes the lowest, X the middle one;
    # D, between them, is dropped. D's cheapest way is Y's gap, but Y cannot move (it cannot
    # cross D to another gap): that repair is undone, and D is routed again clear of Y: through
    # X's gap, and X moves up to the top gap.
    walls = [(0, 180), (220, 380), (420, 580), (620, 700)]
    p = _gapped_wall(700, walls, [("Y", 100, 100), ("X", 470, 470), ("D", 260, 280)])
    result = _routes_whole(p)
    assert _through(result, "Y", 180, 220)
    assert _through(result, "D", 380, 420) and _through(result, "X", 580, 620)


def _wound_problem() -> RoutingProblem:
    """On the top edge, A's pad left of D's: A's bump lies right, D's far left against the die
    edge (nothing passes round it), so D can only go round A's bump, inside C, which hugs it."""
    top = 660
    nets = [("A", 400, (650, 450)), ("C", 700, (500, 180)), ("D", 500, (80, 250))]
    return RoutingProblem(
        outline=box(0, 0, 1000, 700),
        edge_clearance=20.0,
        space=S,
        nets=tuple(
            Net(name=n, terminals=(pad(n, x, top), bump(f"B{n}", *at)), width=W)
            for n, x, at in nets
        ),
    )


def test_a_dropped_net_that_must_wind_round_a_bump_is_routed_round_it(first_pass):
    # No negotiation passes, no restart: D is dropped (its way crosses A). Routed across A or
    # walled off it, D's path cuts A's pad from A's bump or C's from C's, and no net can move
    # over. Routed without crossing any net, D squeezes between A's bump and C round the right
    # of the bump; C moves out.
    p = _wound_problem()
    result = _routes_whole(p)
    assert _meets(result, "D", box(700, 400, 800, 500))


def _tree_problem() -> RoutingProblem:
    terms = (pad("P", 100, 300), bump("B1", 700, 120), bump("B2", 700, 480), bump("B3", 850, 300))
    return RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(Net(name="VDD", terminals=terms, width=W),),
    )


def test_a_tree_branch_that_went_round_a_net_since_moved_is_regrown_straight(monkeypatch):
    # The tree is negotiated with a block across the pad's way in (standing for a net that
    # moved away afterwards) and its branches marked as having gone round other nets; once the
    # block is gone, those branches are regrown where the die is free: as long as the tree
    # routed with no block at all. Left as it was, the detour round the block's end 130 µm off
    # the pad's axis stays: about 2 x 130 x (sqrt 2 - 1) = 108 µm longer at 45°.
    # (Grid paths as negotiated: the smoother would shortcut a detour this simple.)
    monkeypatch.setattr(router.Smoother, "smooth", lambda self, st: None)
    straight = route(_tree_problem()).routed[0].length
    original = Negotiator._negotiate

    def negotiate(self, states):
        blocked = {w: m.copy() for w, m in self.blocked.items()}
        for w, mask in self.blocked.items():
            self.grid.mark_near(mask, box(300, 170, 340, 430), w / 2 + S)
        self._walls.clear()
        original(self, states)
        self.blocked = blocked
        self._walls.clear()
        for st in states:
            for piece in st.pieces:
                piece.free = False

    monkeypatch.setattr(Negotiator, "_negotiate", negotiate)
    p = _tree_problem()
    result = _routes_whole(p)
    assert result.routed[0].length == pytest.approx(straight, abs=1.0)
    monkeypatch.setattr(Negotiator, "_mend_detours", lambda self, states: None)
    assert route(p).routed[0].length > straight + 80


def test_no_repair_when_more_nets_are_dropped_than_a_few(monkeypatch, first_pass):
    # The first repair case with REPAIR_FEW 0: its one dropped net is more than "a few", so it
    # stays dropped (a die that loses a hundred nets must not spend minutes moving them about).
    monkeypatch.setattr(negotiate, "REPAIR_FEW", 0)
    assert [u.net for u in route(_two_gaps()).unrouted] == ["D"]


def _tooth_problem() -> RoutingProblem:
    """Two VDD pads on the top edge with a signal pad S between them; VDD's bump lies right
    below S's pad and S's bump below that: the shortest VDD tree (a tooth from each pad to the
    VDD bump) walls S's pad off from its bump, a tree going round S's bump does not."""
    top = 660
    vdd = (pad("PA", 300, top), pad("PB", 700, top), bump("V", 500, 420))
    s = (pad("S", 500, top), bump("BS", 500, 150))
    return RoutingProblem(
        outline=box(0, 0, 1000, 700),
        edge_clearance=20.0,
        space=S,
        nets=(Net(name="VDD", terminals=vdd, width=W), Net(name="S", terminals=s, width=W)),
    )


def test_a_signal_a_tree_walls_off_is_routed_when_the_trees_go_last(monkeypatch, first_pass):
    # No negotiation passes, no repair, no restart: trees first, VDD's teeth wall S in and S is
    # dropped; the second negotiation routes S first and VDD round S's bump (its metal passes
    # below the bump), and that one is kept.
    monkeypatch.setattr(negotiate, "REPAIR_FEW", 0)
    p = _tooth_problem()
    result = _routes_whole(p)
    assert _meets(result, "VDD", box(480, 20, 520, 100))


def test_trees_last_is_not_kept_when_it_leaves_more_nets_unrouted(monkeypatch, first_pass):
    # As above, but the second negotiation (trees last) is made to leave both nets without a
    # path: the first one's outcome, S dropped and VDD routed, stands.
    monkeypatch.setattr(negotiate, "REPAIR_FEW", 0)
    calls = []
    original = Negotiator.negotiate

    def negotiate_(self, states):
        original(self, states)
        calls.append([st.net.name for st in states])
        if len(calls) == 2:
            for st in states:
                st.failure, st.pieces = ((0.0, 0.0), "no path (made up by the test)"), []

    monkeypatch.setattr(Negotiator, "negotiate", negotiate_)
    result = route(_tooth_problem())
    assert calls == [["VDD", "S"], ["S", "VDD"]]
    assert [u.net for u in result.unrouted] == ["S"]
    assert not any("made up" in u.reason for u in result.unrouted)


def _enclosed_pad_problem() -> RoutingProblem:
    """VDD joins pad PA on the top edge to bump V and pad PB at the bottom edge; S1 and S2 join
    pads on the top edge left of PA to pads right of it, S2's inside S1's. On one layer each
    signal's trace, with the edge between its pads, encloses PA, and V and PB lie against the
    bottom edge where no trace can pass round them: every way from PA crosses S2, then S1."""
    top = 560
    vdd = (pad("PA", 500, top), bump("V", 500, 70), pad("PB", 800, 40))
    s1 = (pad("L1", 150, top), pad("R1", 850, top))
    s2 = (pad("L2", 250, top), pad("R2", 750, top))
    return RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(
            Net(name="VDD", terminals=vdd, width=W),
            Net(name="S1", terminals=s1, width=W),
            Net(name="S2", terminals=s2, width=W),
        ),
    )


def test_a_tree_pad_walled_in_names_the_pad_and_the_traces_in_the_order_crossed():
    result = route(_enclosed_pad_problem())
    (u,) = result.unrouted
    assert u.net == "VDD" and u.at == (500.0, 560.0)
    assert "walled off" in u.reason and ": pad PA by S2, S1 (" in u.reason, u.reason
    assert "bump V" not in u.reason and "pad PB" not in u.reason


def test_a_tree_lost_to_a_full_channel_is_reported_as_full_not_walled_off(monkeypatch):
    # Three signals and tree T (a pad left, two bumps right) through a two-track gap, the tree
    # routed last: T is lost, but the corridor between the two traces in the gap still joins
    # its pad to its bumps (no trace walls it off), so the gap is reported: 4 nets, 2 tracks.
    def net(name, *terminals):
        return Net(name=name, terminals=terminals, width=W)

    signals = [
        net(f"N{i}", pad(f"P{i}", 100, y), bump(f"B{i}", 850, y))
        for i, y in ((0, 120), (1, 240), (2, 360))
    ]
    tree = net("T", pad("PT", 100, 480), bump("BT", 850, 480), bump("BU", 700, 150))
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(tree, *signals),
        obstacles=(
            Obstacle(name="wall low", polygon=box(480, 0, 520, 270)),
            Obstacle(name="wall high", polygon=box(480, 330, 520, 600)),
        ),
    )
    rank = router._rank
    monkeypatch.setattr(router, "_rank", lambda st, trees_first: rank(st, False))
    lost = {u.net: u.reason for u in route(p).unrouted}
    assert "T" in lost and len(lost) == 2
    assert "walled off" not in lost["T"] and "is full: needs 4 tracks, has 2" in lost["T"]


@pytest.mark.parametrize(("top", "where"), [(570, "10.000 µm from the die edge"), (600, "outside")])
def test_a_net_with_a_terminal_in_the_edge_clearance_is_reported_and_the_rest_route(top, where):
    # A's pad reaches y = top + 20 in a die 600 high with a 20 µm edge clearance: no metal
    # joined to it is legal, so A is reported at the pad's corner nearest the edge (the first
    # of its corners there), not routed into a "router fault"; B, whose straight way runs
    # through A's pad when it lies 10 µm from the edge, routes round it.
    a = Net(name="A", terminals=(pad("PA", 500, top), bump("BA", 500, 250)), width=W)
    b = Net(name="B", terminals=(pad("PB", 100, 545), pad("PC", 900, 545)), width=W)
    p = RoutingProblem(outline=box(0, 0, 1000, 600), edge_clearance=20.0, space=S, nets=(a, b))
    result = route(p)
    (u,) = result.unrouted
    assert u.net == "A" and u.at == (520.0, top + 20.0)
    assert f"pad PA reaches {where}" in u.reason and "clearance of 20 µm" in u.reason, u.reason
    assert [r.name for r in result.routed] == ["B"]
    b_metal = region(result.routed[0].polygons)
    assert b_metal.separation_check(region([a.terminals[0].polygon]), int(S / 0.001)).is_empty()


def test_a_terminal_near_a_reflex_corner_of_the_die_is_reported_there():
    # An L-shaped die (the square 500-1000 x 500-1000 cut out of a 1000 square) and a pad
    # turned 45°, centred at (440, 440), half-diagonal 100: every corner of the pad keeps 60 µm
    # from the die edge, but its edge x + y = 980 passes the die's inner corner (500, 500) at
    # 20 / sqrt(2) µm, nearest at (490, 490): inside a 25 µm clearance.
    outline = np.array([[0, 0], [1000, 0], [1000, 500], [500, 500], [500, 1000], [0, 1000]], float)
    diamond = np.array([[540, 440], [440, 540], [340, 440], [440, 340]], float)
    terminals = (Terminal(name="pad PA", polygon=diamond), bump("BA", 200, 200))
    a = Net(name="A", terminals=terminals, width=W)
    p = RoutingProblem(outline=outline, edge_clearance=25.0, space=S, nets=(a,))
    (u,) = route(p).unrouted
    assert u.at == (490.0, 490.0)
    assert f"pad PA reaches {20 / np.sqrt(2):.3f} µm from the die edge" in u.reason, u.reason


def test_a_wide_net_elsewhere_does_not_widen_the_room_kept_round_a_waypoint_trace():
    # F's waypoint trace runs edge to edge at y 500 (metal 495-505); A must pass between it and
    # a wall whose top is 40 µm below F's metal: room for a 10 µm trace at 10 µm spacing
    # (centreline 470-480). B, 50 µm wide and far away, must not make F's trace keep a 50 µm
    # trace's distance from A too.
    f = Net(
        name="F",
        terminals=(pad("F1", 40, 500), pad("F2", 960, 500)),
        width=W,
        fixed=(np.array([[40.0, 500.0], [960.0, 500.0]]),),
    )
    a = Net(name="A", terminals=(pad("A1", 100, 200), pad("A2", 900, 200)), width=W)
    b_pads = (
        Terminal(name="pad B1", polygon=box(60, 40, 140, 120)),
        Terminal(name="pad B2", polygon=box(260, 40, 340, 120)),
    )
    b = Net(name="B", terminals=b_pads, width=50.0)
    p = RoutingProblem(
        outline=box(0, 0, 1000, 600),
        edge_clearance=20.0,
        space=S,
        nets=(f, a, b),
        obstacles=(Obstacle(name="wall", polygon=box(400, 0, 600, 455)),),
    )
    result = _routes_whole(p)
    assert _meets(result, "A", box(400, 455, 600, 495))


@pytest.mark.parametrize("size", [0, 1, 2, 7, 1000])
def test_cells_made_unique_are_those_of_numpy_unique(size):
    # footprints are made unique by a sort (numpy's own is ~20x slower on ints): the same
    # sorted cells, each once, for none, one, and many with repeats
    flat = np.random.default_rng(size).integers(0, max(1, size // 3), size)
    got = negotiate._unique(flat)
    assert got.dtype == np.unique(flat).dtype and np.array_equal(got, np.unique(flat))
