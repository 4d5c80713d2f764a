"""Straight runs: a two-terminal net whose terminal centres line up at 0/45/90° but was routed
with jogs onto the grid (the centres lie between grid lines) is drawn as one straight segment
when that metal passes the exact spacing, edge and notch checks against everything else."""

from __future__ import annotations

import klayout.db as kdb
import numpy as np

from masklayout.routing.model import Net
from masklayout.routing.shapes import DBU, metal


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
        box = candidate.bbox().enlarged(s, s)
        foreign = (statics - metal(own, [], n.width)) & kdb.Region(box)
        for j, region in regions.items():
            if j != k and region.bbox().overlaps(box):
                foreign += region
        if (
            candidate.interacting(foreign).is_empty()
            and candidate.separation_check(foreign, s).is_empty()
            and (candidate - inner).is_empty()
            and candidate.notch_check(s).is_empty()
        ):
            lines[k] = [line]
            regions[k] = candidate
