"""Free assignment: which of the candidate bumps each pad gets, so that the routing stays planar
and short.

Pads and candidate bumps are ordered by angle around the die centre and matched in that order:
for every cyclic rotation of the bumps, a dynamic programme picks the order-keeping matching of
least total length (with more bumps than pads it also picks which bumps); the best rotation wins.
Straight pad-to-bump segments that still cross are then uncrossed by swapping their bumps (each
swap shortens the total, so this ends), which leaves a planar matching. Deterministic: ties go to
the earlier pad and bump in angular order.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def assign_bumps(
    pads: np.ndarray, bumps: np.ndarray, center: tuple[float, float] = (0.0, 0.0)
) -> list[int]:
    """For each pad (rows of ``pads``, (n, 2)) the index of its bump in ``bumps`` ((m, 2),
    m >= n): distinct bumps, no two straight pad-bump segments crossing."""
    pads, bumps = np.asarray(pads, float).reshape(-1, 2), np.asarray(bumps, float).reshape(-1, 2)
    n, m = len(pads), len(bumps)
    if n > m:
        raise ValueError(f"{n} pads and only {m} bumps to choose from")
    if n == 0:
        return []
    pad_order, bump_order = _angular(pads, center), _angular(bumps, center)
    p, b = pads[pad_order], bumps[bump_order]
    distance = np.linalg.norm(p[:, None, :] - b[None, :, :], axis=2)  # (n, m)
    offset = int(np.argmin(_matching_costs(distance)))
    rotation = (offset + np.arange(m)) % m
    chosen = _uncrossed(p, b, rotation[_matching(distance[:, rotation])])
    result = np.empty(n, dtype=int)
    result[pad_order] = bump_order[chosen]
    return [int(k) for k in result]


def _angular(points: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Indices of ``points`` by angle around ``center`` from -pi, then by distance, then index."""
    d = points - np.asarray(center, float)
    angle = np.round(np.arctan2(d[:, 1], d[:, 0]), 12)
    radius = np.round(np.hypot(d[:, 0], d[:, 1]), 6)
    return np.lexsort((np.arange(len(points)), radius, angle))


def _matching_costs(distance: np.ndarray) -> np.ndarray:
    """The least total length of an order-keeping matching for every rotation of the bumps.

    Row ``o`` of a sliding window over the pad's distances written twice is the rotation by
    ``o``. Pad ``i`` can only take bump ``i .. i + m - n`` of a rotation (the other pads must
    fit before and after it), so each step of the programme is that band: ``cost[o, k]`` is
    pad ``i`` on bump ``i + k``.
    """
    n, m = distance.shape
    band = m - n + 1

    def rotated(i: int) -> np.ndarray:
        doubled = np.concatenate([distance[i], distance[i]])
        return sliding_window_view(doubled, m)[:m, i : i + band]

    cost = rotated(0).copy()
    for i in range(1, n):
        # pad i on bump i + k follows pad i - 1 on any bump (i - 1) + k' with k' <= k
        cost = rotated(i) + np.minimum.accumulate(cost, axis=1)
    return cost.min(axis=1)


def _matching(distance: np.ndarray) -> np.ndarray:
    """The order-keeping matching of least total length: bump index per pad (increasing)."""
    n, m = distance.shape
    cost = np.empty((n, m))
    cost[0] = distance[0]
    for i in range(1, n):
        before = np.full(m, np.inf)
        before[1:] = np.minimum.accumulate(cost[i - 1])[:-1]
        cost[i] = distance[i] + before
    picked = np.empty(n, dtype=int)
    limit = m
    for i in range(n - 1, -1, -1):
        picked[i] = int(np.argmin(cost[i][:limit]))
        limit = picked[i]
    return picked


def _uncrossed(pads: np.ndarray, bumps: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Swap the bumps of crossing segments until none cross (each swap shortens the total
    length, so this ends); only the two swapped segments are tested again."""
    chosen = chosen.copy()
    crossing = _crossings(pads, bumps[chosen], pads, bumps[chosen])
    counts = crossing.sum(axis=1)
    while counts.any():
        i = int(np.flatnonzero(counts)[0])
        j = int(np.flatnonzero(crossing[i])[0])
        chosen[i], chosen[j] = chosen[j], chosen[i]
        ends = bumps[chosen]
        for k in (i, j):
            row = _crossings(pads[k : k + 1], ends[k : k + 1], pads, ends)[0]
            row[k] = False
            counts += row.astype(int) - crossing[k].astype(int)
            crossing[k, :], crossing[:, k] = row, row
            counts[k] = row.sum()
    return chosen


def _crossings(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """[i, j]: segment ``a[i]-b[i]`` and segment ``c[j]-d[j]`` cross properly (each one's ends
    strictly on either side of the other)."""
    a, b, c, d = a[:, None, :], b[:, None, :], c[None, :, :], d[None, :, :]

    def side(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        cross = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )
        return np.sign(np.round(cross, 6))

    return (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)
