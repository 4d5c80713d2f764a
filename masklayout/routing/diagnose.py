"""Why a net did not route: for a tree, the terminals other nets' traces wall off from the rest
of it; else the narrowest shared passage on its best path, and its capacity."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy import ndimage

from masklayout.routing.grid import edges, nearest_point, segment_distance
from masklayout.routing.negotiate import Footprints, Negotiator, NetState

SAMPLES = 24


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(min(segment_distance(a, *edges(b)).min(), segment_distance(b, *edges(a)).min()))


class Diagnosis:
    """Explains the nets that lost the negotiation: built once for all of them (the competing
    nets' centre cells and footprints are indexed once, not searched again for each)."""

    def __init__(self, neg: Negotiator, states: list[NetState]):
        self.neg, self.states = neg, states
        # The nets that compete: the routed ones and those that lost.
        self.lines = [
            neg.grid.xy(*np.concatenate([q.cells for q in other.pieces]).T)
            for other in states
            if other.pieces and (other.failure is None or other.congested)
        ]
        lo = [xy.min(0) for xy in self.lines]
        hi = [xy.max(0) for xy in self.lines]
        self.lo = np.array(lo).reshape(-1, 2)
        self.hi = np.array(hi).reshape(-1, 2)
        self.feet = Footprints(states, tuple(neg.occ))

    def crossing(self, qa: np.ndarray, qb: np.ndarray) -> int:
        """How many of the nets' centre cells (as points) cross the gap qa-qb."""
        pitch = self.neg.grid.pitch
        lo, hi = np.minimum(qa, qb) - pitch, np.maximum(qa, qb) + pitch
        near = np.flatnonzero(np.all(self.lo <= hi, 1) & np.all(self.hi >= lo, 1))
        return sum(
            1 for i in near if segment_distance(self.lines[i], qa[None], qb[None]).min() < pitch
        )

    def explain(self, st: NetState) -> tuple[tuple[float, float], str]:
        """Locate and explain why the net could not be routed: for a tree, the terminals other
        nets' traces wall off from the rest (:meth:`walled_off`); else, of the gaps beside its
        shared cells, the one that most nets overfill (needs N tracks, has M)."""
        if st.tree:
            found = self.walled_off(st)
            if found is not None:
                return found
        return _congestion(self, st)

    def walled_off(self, st: NetState) -> tuple[tuple[float, float], str] | None:
        """For a tree that lost: the terminals from which no path reaches the area most of its
        other terminals open onto without crossing a routed net's trace, and the traces the
        shortest way out crosses; None when every terminal reaches it (then a channel is short
        of room, not of a way)."""
        neg = self.neg
        barrier = neg.walls(st.index, st.net.width) | (neg.hard > 0)
        label = ndimage.label(~barrier, structure=np.ones((3, 3), bool))[0]
        reach = [{int(label[port.cell]) for port in ports} - {0} for ports in st.ports]
        count = Counter(a for areas in reach for a in areas)
        if not count:
            return None
        main = max(count, key=lambda a: (count[a], -a))
        cut = [t for t, areas in enumerate(reach) if main not in areas]
        if not cut:
            return None
        joins = self._joins(label, st)
        walled = "; ".join(
            f"{st.net.terminals[t].name} by "
            + (", ".join(_way_out(joins, reach[t], main)) or "keep-outs, pads or fixed traces")
            for t in cut
        )
        at = tuple(np.round(st.net.terminals[cut[0]].polygon.mean(0), 3).tolist())
        return (
            at,
            f"walled off from the net's other terminals (every way out crosses the traces "
            f"named, in order): {walled} (swap pins or move pads to open a way)",
        )

    def _joins(self, label: np.ndarray, st: NetState) -> dict[int, list[tuple[int, str]]]:
        """For each area of ``label``, the areas across one routed net's trace, and the net."""
        grid = self.neg.grid
        joins: dict[int, list[tuple[int, str]]] = {}
        for other in self.states:
            if other is st or not len(other.hard):
                continue
            r, c = np.divmod(other.hard, grid.nx)
            rr = np.clip(r[:, None] + np.array([-1, -1, -1, 0, 0, 1, 1, 1]), 0, grid.ny - 1)
            cc = np.clip(c[:, None] + np.array([-1, 0, 1, -1, 1, -1, 0, 1]), 0, grid.nx - 1)
            areas = set(np.unique(label[rr, cc]).tolist()) - {0}
            for a in areas:
                joins.setdefault(a, []).extend((b, other.net.name) for b in areas if b != a)
        return joins

    def in_the_way(self, st: NetState) -> list[str]:
        """The routed nets whose footprint covers the cells the failed net shared (only placed
        nets have footprints: a net that lost was ripped up)."""
        return sorted(self.states[i].net.name for i in self.feet.covering(st.shared, st.net.width))


def _way_out(joins: dict[int, list[tuple[int, str]]], start: set[int], goal: int) -> list[str]:
    """The nets whose traces the way from the areas ``start`` to the area ``goal`` crosses
    fewest (areas joined across a trace as in ``joins``), in the order crossed."""
    came: dict[int, tuple[int, str] | None] = {a: None for a in start}
    queue = sorted(start)
    while queue and goal not in came:
        nxt = []
        for a in queue:
            for b, name in joins.get(a, []):
                if b not in came:
                    came[b] = (a, name)
                    nxt.append(b)
        queue = nxt
    if goal not in came:
        return []
    names, at = [], goal
    while (step := came[at]) is not None:
        at, name = step
        names.append(name)
    return names[::-1]


def _congestion(diagnosis: Diagnosis, st: NetState) -> tuple[tuple[float, float], str]:
    neg = diagnosis.neg
    grid, space, width = neg.grid, neg.space, st.net.width
    cells = np.concatenate([p.cells for p in st.pieces]) if st.pieces else np.zeros((0, 2), int)
    flat = cells[:, 0] * grid.nx + cells[:, 1]
    shared = np.flatnonzero(np.isin(flat, st.shared))
    if not len(shared):
        term = st.net.terminals[-1]
        return (
            tuple(np.round(term.polygon.mean(0), 3).tolist()),
            "no free path is left once the other nets are routed",
        )
    picks = shared[np.unique(np.linspace(0, len(shared) - 1, SAMPLES).astype(int))]
    best = None
    for k in picks:
        p = grid.xy(cells[k, 0], cells[k, 1])
        nb = cells[min(k + 1, len(cells) - 1)] - cells[max(k - 1, 0)]
        direction = np.array([nb[1], nb[0]], dtype=float)
        if not direction.any():
            continue
        sides: dict[int, tuple[float, str, np.ndarray, np.ndarray | None]] = {}
        reach = 20 * (width + space) + 500
        near = np.flatnonzero(
            np.all(neg.static_lo <= p + reach, 1) & np.all(neg.static_hi >= p - reach, 1)
        )
        # The net's own terminals are where it goes, not walls of a channel it passes.
        candidates = [
            (neg.statics[i][0], neg.statics[i][1]) for i in near if neg.statics[i][2] != st.index
        ]
        for name, polygon in candidates:
            dist, q = nearest_point(p, polygon)
            side = int(np.sign(direction[0] * (q - p)[1] - direction[1] * (q - p)[0]))
            if side and (side not in sides or dist < sides[side][0]):
                sides[side] = (dist, name, q, polygon)
        dist, q = nearest_point(p, neg.outline)
        side = int(np.sign(direction[0] * (q - p)[1] - direction[1] * (q - p)[0]))
        if side and (side not in sides or dist - neg.edge_clearance < sides[side][0]):
            sides[side] = (dist - neg.edge_clearance, "die edge", q, None)
        if len(sides) < 2:
            continue
        (_, na, qa, pa), (_, nb_, qb, pb) = sides[1], sides[-1]
        if pa is None or pb is None:
            # the die edge on one side, a shape on the other: the gap across the path here
            gap = float(np.hypot(*(qa - qb))) - neg.edge_clearance + space
        else:
            gap = _gap(pa, pb)
        has = max(0, math.floor((gap - space) / (width + space) + 1e-9))
        needs = diagnosis.crossing(qa, qb)
        if best is None or (needs - has, needs, -gap) > (best[1] - best[2], best[1], -best[0]):
            best = (gap, needs, has, na, nb_, p)
    if best is None:
        p = grid.xy(cells[shared[0], 0], cells[shared[0], 1])
        return (tuple(np.round(p, 3).tolist()), "the area here is full of other nets' traces")
    gap, needs, has, na, nb_, p = best
    first, second = sorted([na, nb_])
    at = tuple(np.round(p, 3).tolist())
    if needs > has:
        return (
            at,
            f"channel between {first} and {second} is full: needs {needs} tracks, has {has} "
            f"(gap {gap:.1f} µm at width {width:g} µm + space {space:g} µm)",
        )
    names = ", ".join(diagnosis.in_the_way(st)) or "other nets"
    return (
        at,
        f"its way is cut by {names}: their traces cross every path left to it (the channel "
        f"between {first} and {second} is not full: room for {has} tracks, {needs} taken)",
    )
