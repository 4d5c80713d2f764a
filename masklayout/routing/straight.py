"""Exact clean-ups of the routed centrelines, each kept only when the net's metal passes the
exact spacing, edge and notch checks against everything else.

Straight runs: a two-terminal net whose terminal centres line up at 0/45/90° but was routed with
jogs onto the grid (the centres lie between grid lines) is drawn as one straight segment.
Hooks: a path that reaches a terminal's leg, or leaves a tree's branch point, by turning back on
itself within a cell or two (the grid had no room to come at the leg's port straight) leaves a
notch; the few vertices next to that end are replaced by one bend, off the grid.
"""

from __future__ import annotations

import klayout.db as kdb
import numpy as np

from masklayout.routing.grid import one_bend
from masklayout.routing.model import Net
from masklayout.routing.shapes import DBU, metal, simplify

HOOK_REACH = 5  # vertices from either end of a line among which a hook is looked for


def straight_line(line: np.ndarray) -> np.ndarray | None:
    """The centre-to-centre segment replacing a jogged centreline, or None if the ends do not
    line up octilinearly or the line is already straight."""
    if len(line) <= 2:
        return None
    a, b = np.asarray(line[0], float), np.asarray(line[-1], float)
    dx, dy = np.abs(b - a)
    if min(dx, dy) > 1e-6 and abs(dx - dy) > 1e-6:
        return None
    return np.array([a, b])


def straighten(
    nets: tuple[Net, ...],
    lines: dict[int, list[np.ndarray]],
    regions: dict[int, kdb.Region],
    fixed: list[kdb.Region],
    statics: kdb.Region,
    inner: kdb.Region,
    space: float,
) -> None:
    """Replace, in place, each jogged two-terminal centreline by its straight segment where the
    straight metal keeps ``space`` from all other metal (``statics``: every terminal and
    obstacle; other nets' routed metal), stays inside ``inner`` and has no notch."""
    s = int(round(space / DBU))
    for k in sorted(lines):
        n = nets[k]
        if len(n.terminals) != 2 or n.fixed or len(lines[k]) != 1:
            continue
        line = straight_line(lines[k][0])
        if line is None:
            continue
        own = [t.polygon for t in n.terminals]
        candidate = metal(own, [line], n.width, fixed[k])
        foreign = _foreign(k, candidate.bbox().enlarged(s, s), regions, statics, own, n.width)
        if _clear(candidate, foreign, inner, s) and candidate.notch_check(s).is_empty():
            lines[k] = [line]
            regions[k] = candidate


def _clear(candidate: kdb.Region, foreign: kdb.Region, inner: kdb.Region, s: int) -> bool:
    """The metal touches no ``foreign`` metal, keeps ``s`` (nm) from it and stays in ``inner``."""
    return (
        candidate.interacting(foreign).is_empty()
        and candidate.separation_check(foreign, s).is_empty()
        and (candidate - inner).is_empty()
    )


def _foreign(
    k: int,
    box: kdb.Box,
    regions: dict[int, kdb.Region],
    statics: kdb.Region,
    own: list[np.ndarray],
    width: float,
) -> kdb.Region:
    """The metal in ``box`` that is not net k's: ``statics`` less its terminals, and the other
    nets' metal."""
    foreign = (statics - metal(own, [], width)) & kdb.Region(box)
    for j, region in regions.items():
        if j != k and region.bbox().overlaps(box):
            foreign += region
    return foreign


def _unhooked(line: np.ndarray, diagonal: bool) -> list[np.ndarray]:
    """Lines that join the vertex after an end (a terminal's leg end or bend, a branch's first
    corner), or the one after it, to a vertex a few further on (not the far end) in one bend,
    shortest first (a turn sharper than 90° is a notch: the exact checks turn it down)."""
    out = []
    for p in (line, line[::-1]):
        for i in (1, 2):
            for j in range(i + 2, min(i + HOOK_REACH, len(p) - 2) + 1):
                for way in one_bend(p[i], p[j], diagonal, x_axis=0):
                    new = simplify(np.concatenate([p[:i], way, p[j + 1 :]]))
                    out.append(new if p is line else new[::-1])
    return sorted(out, key=lambda q: float(np.hypot(*np.diff(q, axis=0).T).sum()))


def unhook(
    nets: tuple[Net, ...],
    lines: dict[int, list[np.ndarray]],
    regions: dict[int, kdb.Region],
    fixed: list[kdb.Region],
    statics: kdb.Region,
    inner: kdb.Region,
    space: float,
) -> None:
    """Replace, in place, the hooks next to the ends of the lines of each net whose metal has a
    notch by the one bend that leaves the fewest notches (the shortest of those), where its
    metal keeps ``space`` from all other metal (``statics`` and the other nets' metal), stays
    inside ``inner``, keeps its width and stays in as few pieces as before."""
    s = int(round(space / DBU))
    for k in sorted(lines):
        n = nets[k]
        if n.plane or n.fixed:
            continue
        marks = regions[k].notch_check(s).polygons()
        if marks.is_empty():
            continue
        own = [t.polygon for t in n.terminals]
        foreign = _foreign(k, regions[k].bbox().enlarged(s, s), regions, statics, own, n.width)
        thin = int(round(n.width / DBU)) - 2
        for li, line in enumerate(lines[k]):
            line = np.asarray(line, float)
            ends = [line[: HOOK_REACH + 1], line[-HOOK_REACH - 1 :]]
            if metal([], ends, n.width).sized(s).interacting(marks).is_empty():
                continue  # no notch near its ends
            best, fewest = None, marks.count()
            for new in _unhooked(line, n.style != "manhattan"):
                trial = lines[k][:li] + [new] + lines[k][li + 1 :]
                candidate = metal(own, trial, n.width, fixed[k])
                count = candidate.notch_check(s).count()
                if (
                    count < fewest
                    and candidate.count() <= regions[k].count()
                    and _clear(candidate, foreign, inner, s)
                    and candidate.width_check(thin).is_empty()
                ):
                    best, fewest = (trial, candidate), count
            if best is not None:
                lines[k], regions[k] = best
                marks = regions[k].notch_check(s).polygons()
