"""``route``: the whole problem: signal nets and plane skeletons by negotiation, then the planes'
pours, then the exact check."""

from __future__ import annotations

import dataclasses

import klayout.db as kdb
import numpy as np

from masklayout.routing.diagnose import Diagnosis
from masklayout.routing.grid import (
    Grid,
    edges,
    halo,
    inside,
    nearest_point,
    polyline_polygon_distance,
    sample,
    segment_distance,
)
from masklayout.routing.group import group_terminals, has_neighbours
from masklayout.routing.model import (
    Net,
    Obstacle,
    RoutedNet,
    RoutingProblem,
    RoutingResult,
    Terminal,
    Unrouted,
)
from masklayout.routing.negotiate import LATTICE_CELLS, Negotiator, NetState
from masklayout.routing.plane import pour
from masklayout.routing.search import release_searches
from masklayout.routing.shapes import (
    DBU,
    bends,
    length,
    metal,
    polygon_region,
    simplify,
    to_arrays,
    violations,
)
from masklayout.routing.smooth import Smoother
from masklayout.routing.straight import straighten, unhook

TRACKS_PER_PITCH = 2.9
RESTARTS = 2  # negotiations again with the lost nets in front (see ``route``)
# ... only when at most this many nets were lost: a restart untangles a few crossing nets; on a
# die that loses hundreds it moves the loss about (1,000-net die: +21 of 252 lost nets for
# three times the time), and the failure report should come quickly
RESTART_FEW = 8


def default_pitch(problem: RoutingProblem) -> float:
    """The commonest trace width plus space over a whole number of cells (``LATTICE_CELLS``), on
    the 1 nm grid, so neighbouring tracks sit exactly ``w + space`` apart; else about a third."""
    widths = [n.width for n in problem.nets if not n.plane] or [n.width for n in problem.nets]
    common = max(sorted(set(widths)), key=widths.count)
    track = int(round((common + problem.space) * 1000))
    for k in LATTICE_CELLS:
        if track % k == 0:
            return track // k / 1000
    return round(track / 1000 / TRACKS_PER_PITCH, 3)


def _centrelines(st: NetState, grid: Grid) -> list[np.ndarray]:
    lines = []
    for piece in st.pieces:
        body = grid.xy(piece.cells[:, 0], piece.cells[:, 1])
        parts = [piece.start.leg] if piece.start is not None else []
        parts += [body, piece.end.leg[::-1]]
        lines.append(simplify(np.concatenate(parts)))
    return lines


def route(problem: RoutingProblem) -> RoutingResult:
    """Route every net of the problem; report each one that cannot be routed, and why. A net
    with a terminal inside the die-edge clearance is reported so, not routed (no metal joined
    to that terminal can be legal); its terminals are obstacles to the others."""
    breaches = _edge_breaches(problem)
    nets = tuple(n for k, n in enumerate(problem.nets) if k not in breaches)
    walls = tuple(
        Obstacle(name=t.name, polygon=t.polygon)
        for k in breaches
        for t in problem.nets[k].terminals
    )
    try:
        result = (
            _route(dataclasses.replace(problem, nets=nets, obstacles=problem.obstacles + walls))
            if nets
            else RoutingResult(routed=(), unrouted=())
        )
    finally:
        release_searches()  # kept for this die's windows: ~24 MB each on the 12 x 12 fan-in
    if not breaches:
        return result
    order = {n.name: k for k, n in enumerate(problem.nets)}
    unrouted = sorted([*result.unrouted, *breaches.values()], key=lambda u: order[u.net])
    return RoutingResult(routed=result.routed, unrouted=tuple(unrouted))


def _edge_breaches(problem: RoutingProblem) -> dict[int, Unrouted]:
    """The nets with a terminal closer to the die edge than its clearance (or outside the
    die), each reported at the terminal's point nearest the edge (or first corner outside
    it): a corner of the terminal, or where a reflex corner of the die comes nearest."""
    outline = np.asarray(problem.outline, float)
    ec = problem.edge_clearance
    out: dict[int, Unrouted] = {}
    for k, net in enumerate(problem.nets):
        for t in net.terminals:
            polygon = np.asarray(t.polygon, float)
            gap = segment_distance(polygon, *edges(outline))
            outside = (gap > 0) & ~inside(polygon, outline)
            if outside.any():
                at, where = polygon[int(np.argmax(outside))], "outside the die"
            else:
                corner = segment_distance(outline, *edges(polygon))
                i, j = int(np.argmin(gap)), int(np.argmin(corner))
                if min(gap[i], corner[j]) >= ec - 1e-6:
                    continue
                at, nearest = (
                    (polygon[i], gap[i])
                    if gap[i] <= corner[j]
                    else (nearest_point(outline[j], polygon)[1], corner[j])
                )
                where = f"{nearest:.3f} µm from the die edge"
            out[k] = Unrouted(
                net=net.name,
                at=(round(float(at[0]), 3), round(float(at[1]), 3)),
                reason=f"{t.name} reaches {where}, inside the die-edge clearance of "
                f"{ec:g} µm: no metal joined to it can be legal (move it inward)",
            )
            break
    return out


def _route(problem: RoutingProblem) -> RoutingResult:
    nets, space, ec = problem.nets, problem.space, problem.edge_clearance
    outline = np.asarray(problem.outline, dtype=float)
    pitch = problem.grid or default_pitch(problem)
    grid = Grid.covering(np.round(outline, 3), pitch)
    # on the grid: the signal nets, and each plane's skeleton (a tree joining its terminals
    # that the pour then surrounds: a pour alone is cut apart where signals wall its pads in)
    signal = [k for k, n in enumerate(nets) if not n.plane or len(n.terminals) > 1]

    fixed_metal = [
        metal([], [np.asarray(f, float) for f in n.fixed], n.width) if n.fixed else kdb.Region()
        for n in nets
    ]
    statics: list[tuple[str, np.ndarray, int]] = []
    for k, n in enumerate(nets):
        statics += [(t.name, np.asarray(t.polygon, float), k) for t in n.terminals]
    nets, members = _grouped(problem, fixed_metal)
    statics += [(o.name, np.asarray(o.polygon, float), -1) for o in problem.obstacles]
    fixed_statics = [
        (f"fixed trace of {nets[k].name}", poly, k)
        for k in range(len(nets))
        for poly in to_arrays(fixed_metal[k])
    ]

    blocked = {}
    for w in sorted({nets[k].width for k in signal}):
        mask = grid.outside(outline, halo(ec + w / 2, pitch))
        grid.mark_all(mask, [poly for _, poly, _ in statics], halo(w / 2 + space, pitch))
        blocked[w] = mask
    widths = tuple(sorted({nets[k].width for k in signal}))
    # per trace width, the net whose fixed trace each cell is too near for a centreline of
    # that width (-2: two nets'; -1: none)
    owner = {w: np.full((grid.ny, grid.nx), -1, np.int32) for w in widths}
    for w, grid_owner in owner.items():
        for _, poly, k in fixed_statics:
            near = np.zeros_like(grid_owner, bool)
            grid.mark_near(near, poly, halo(w / 2 + space, pitch))
            grid_owner[near & (grid_owner == -1)] = k
            grid_owner[near & (grid_owner != -1) & (grid_owner != k)] = -2

    def attempt(first: frozenset[int], trees_first: bool) -> tuple[Negotiator, list[NetState]]:
        """A negotiation from scratch: the nets ``first`` routed first, then by ``_rank`` (a
        plane's skeleton last: its pour fills around the traces), each group smallest first."""
        neg = Negotiator(grid, space, blocked, owner, statics + fixed_statics, outline, ec, widths)
        states = []
        for k in signal:
            n = nets[k]
            given = [np.asarray(f, float) for f in n.fixed]
            cells = np.zeros((0, 2), np.int64)
            touched: set[int] = set()
            if given:
                cells = np.unique(
                    grid.nearest(np.concatenate([sample(f, pitch / 2) for f in given])), axis=0
                )
                walls = neg.walls(k, n.width)
                cells = cells[~walls[cells[:, 0], cells[:, 1]]]
                touched = {
                    t
                    for t, term in enumerate(n.terminals)
                    if min(polyline_polygon_distance(f, term.polygon) for f in given) == 0
                }
            states.append(neg.state(k, n, cells, frozenset(touched), members[k]))
        order = sorted(
            states,
            key=lambda st: (st.index not in first, _rank(st, trees_first), _extent(st), st.index),
        )
        neg.negotiate(order)
        return neg, order

    def negotiation(trees_first: bool) -> tuple[Negotiator, list[NetState]]:
        """A negotiation; a net lost to a tangle may fit when it goes first: negotiate again
        with every net lost so far in front, while that leaves fewer unrouted (and only when
        few were lost: ``RESTART_FEW``)."""
        neg, order = attempt(frozenset(), trees_first)
        first: frozenset[int] = frozenset()
        for _ in range(RESTARTS):
            if not 0 < len(_lost(order)) <= RESTART_FEW:
                break
            first |= _lost(order)
            again = attempt(first, trees_first)
            if _unrouted(again[1]) >= _unrouted(order):
                break
            neg, order = again
        return neg, order

    # the first pass routes each net around those before it. Trees first: their branches then
    # stake out the teeth between pads that the signals must keep to (signals first lost 4 of
    # 86 nets on the 11 x 11 fan-in, trees first none). When that loses a few nets, the trees go
    # last: a two-terminal net joins the die edge to its own bump and walls nothing off, so a
    # tree routed round the signals finds a way wherever the room allows (10 x 10 fan-in,
    # clockwise pin map: trees first lost 2 of 82 nets, trees last none); the negotiation that
    # leaves fewer unrouted is kept, the first on a tie
    neg, order = negotiation(trees_first=True)
    if 0 < len(_lost(order)) <= RESTART_FEW and any(st.tree for st in order):
        other = negotiation(trees_first=False)
        if _unrouted(other[1]) < _unrouted(order):
            neg, order = other
    states = sorted(order, key=lambda st: st.index)

    # the nets lost in the negotiation are explained from its outcome, before the smoother
    # moves the traces that cut them
    lost = [st for st in states if st.congested and st.failure is None and not st.net.plane]
    explained = {}
    if lost:
        diagnosis = Diagnosis(neg, states)
        explained = {st.index: diagnosis.explain(st) for st in lost}

    smoother = Smoother(neg)
    for st in order:
        if st.failure is None and not st.congested and st.pieces:
            smoother.smooth(st)

    unrouted: dict[int, Unrouted] = {}
    lines: dict[int, list[np.ndarray]] = {}
    regions: dict[int, kdb.Region] = {}
    for st in states:
        if st.net.plane and (st.failure is not None or st.congested):
            continue  # no skeleton: the pour alone must join the plane's terminals
        if st.failure is not None or st.congested:
            at, reason = st.failure if st.failure is not None else explained[st.index]
            unrouted[st.index] = Unrouted(net=st.net.name, at=at, reason=reason)
            continue
        n = st.net
        lines[st.index] = _centrelines(st, grid)
        regions[st.index] = metal(
            [t.polygon for t in n.terminals], lines[st.index], n.width, fixed_metal[st.index]
        )

    inner = polygon_region([outline]).sized(-int(round(ec * 1000)))
    obstacles = polygon_region([o.polygon for o in problem.obstacles])
    terminals = polygon_region([t.polygon for n in nets for t in n.terminals])
    drawn = (terminals + obstacles).merged()
    straighten(nets, lines, regions, fixed_metal, drawn, inner, space)
    unhook(nets, lines, regions, fixed_metal, drawn, inner, space)
    for k, n in enumerate(nets):
        if not n.plane:
            continue
        foreign = obstacles.dup()
        for j, m in enumerate(nets):
            if j == k:
                continue
            if j in regions:
                foreign += regions[j]
            else:
                foreign += polygon_region([t.polygon for t in m.terminals]) + fixed_metal[j]
        skeleton = regions.pop(k, kdb.Region())
        region, failure = pour(n, fixed_metal[k] + skeleton, foreign, inner, space)
        lines[k] = [np.asarray(f, float) for f in n.fixed] + lines.get(k, [])
        if failure is not None:
            unrouted[k] = Unrouted(net=n.name, at=failure[0], reason=failure[1])
        else:
            regions[k] = region

    keys = sorted(regions)
    bad = _fill_notches(keys, regions, [nets[k].width for k in keys], obstacles, inner, space)
    for i, (at, reason) in bad.items():
        k = keys[i]
        unrouted[k] = Unrouted(net=nets[k].name, at=at, reason=f"router fault: {reason}")
    routed = []
    for k in keys:
        if k in unrouted:
            continue
        ls = tuple(lines[k])
        # a plane's lines are its fixed lines and skeleton; a trace's fixed (waypoint) lines
        # come on top
        whole = ls if nets[k].plane else ls + tuple(np.asarray(f, float) for f in nets[k].fixed)
        routed.append(
            RoutedNet(
                name=nets[k].name,
                centrelines=ls,
                polygons=to_arrays(regions[k]),
                length=round(sum(length(line) for line in whole), 3),
                bends=sum(bends(line) for line in whole),
                width=nets[k].width,
            )
        )
    return RoutingResult(
        routed=tuple(routed), unrouted=tuple(unrouted[k] for k in sorted(unrouted))
    )


def _grouped(
    problem: RoutingProblem, fixed_metal: list[kdb.Region]
) -> tuple[tuple[Net, ...], list[tuple[tuple[Terminal, ...], ...]]]:
    """The problem's nets with each signal net's neighbouring terminals grouped into one
    (:func:`group_terminals`, against the foreign shapes near the net), and the members of
    each net's terminals."""
    nets, space = problem.nets, problem.space
    inner = polygon_region([problem.outline]).sized(-int(round(problem.edge_clearance / DBU)))
    narrowest = min((n.width for n in nets if not n.plane), default=0.0)
    reach = narrowest + 2 * space
    shapes = [(k, np.asarray(t.polygon, float)) for k, n in enumerate(nets) for t in n.terminals]
    shapes += [(-1, np.asarray(o.polygon, float)) for o in problem.obstacles]
    lo = np.array([p.min(0) for _, p in shapes]).reshape(-1, 2)
    hi = np.array([p.max(0) for _, p in shapes]).reshape(-1, 2)
    owners = np.array([k for k, _ in shapes])
    out: list[Net] = []
    members: list[tuple[tuple[Terminal, ...], ...]] = []
    for k, n in enumerate(nets):
        if n.plane or not has_neighbours(n.terminals, reach):
            out.append(n)
            members.append(tuple((t,) for t in n.terminals))
            continue
        own = np.concatenate([t.polygon for t in n.terminals])
        near = np.flatnonzero(
            (owners != k)
            & np.all(lo <= own.max(0) + reach, 1)
            & np.all(hi >= own.min(0) - reach, 1)
        )
        foreign = polygon_region([shapes[i][1] for i in near])
        for j, extra in enumerate(fixed_metal):
            if j != k:
                foreign += extra
        grouped, parts = group_terminals(n, foreign, inner, space, narrowest)
        out.append(grouped)
        members.append(parts)
    return tuple(out), members


def _fill_notches(
    keys: list[int],
    regions: dict[int, kdb.Region],
    widths: list[float],
    obstacles: kdb.Region,
    inner: kdb.Region,
    space: float,
) -> dict[int, tuple[tuple[float, float], str]]:
    """The rule breaks of the nets' metal (:func:`violations`, by position in ``keys``), after
    filling, in place, each net's notches narrower than ``space`` (a trace leaving its capture
    at a slant, two branches close together) with its own metal (a closing by space/2, else
    by space; kept near the notches, else over the whole net; again while that leaves fewer
    notches) where the filled metal keeps every rule and costs no other net its legality."""
    metals = [regions[k] for k in keys]
    bad = violations(metals, widths, obstacles, inner, space)
    s = int(round(space / DBU))
    half = int(np.ceil(s / 2))
    for i in [i for i, (_, reason) in bad.items() if "notch" in reason]:
        # a net's notches may each want another fill: fill while the notches get fewer
        while i in bad and "notch" in bad[i][1]:
            notches = metals[i].notch_check(s).polygons()
            fills = (
                closed & notches.sized(reach) if reach else closed
                for r in (half, 2 * half)  # a slanted notch's ends may need the wider closing
                for closed in [metals[i].sized(r).sized(-r)]
                # near the notches first: a closing elsewhere moves the pen's rounded corners
                # by a nanometre, which can take a bend a hair under the trace width
                for reach in (r, 2 * r, 0)
            )
            for fill in fills:
                filled = (metals[i] + fill).merged()
                trial = [filled if j == i else m for j, m in enumerate(metals)]
                # only the net's own checks can change: a fill only adds metal, and metal too
                # close to another net is this net's fault as much as the other's (so no other
                # net can become illegal)
                after = {j: v for j, v in bad.items() if j != i}
                after |= violations(trial, widths, obstacles, inner, space, only={i})
                if i not in after or (
                    "notch" in after[i][1] and filled.notch_check(s).count() < notches.count()
                ):
                    metals, bad = trial, after
                    regions[keys[i]] = filled
                    break
            else:
                break
    return bad


def _lost(states: list[NetState]) -> frozenset[int]:
    """The nets (by index) the negotiation dropped."""
    return frozenset(st.index for st in states if st.congested)


def _unrouted(states: list[NetState]) -> int:
    """How many nets the negotiation leaves unrouted: dropped, or (but for a plane's skeleton,
    whose pour may still join the plane) without a path at all."""
    return sum(st.congested or (st.failure is not None and not st.net.plane) for st in states)


def _rank(st: NetState, trees_first: bool) -> int:
    """Routing order by kind: trees, then two-terminal nets (or the other way round), then
    planes' skeletons."""
    return 2 if st.net.plane else 0 if st.tree == trees_first else 1


def _extent(st: NetState) -> float:
    pts = np.concatenate([t.polygon for t in st.net.terminals])
    return float((pts.max(0) - pts.min(0)).sum())
