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
    rotations = (np.arange(m)[:, None] + np.arange(m)[None, :]) % m  # [offset, j] -> bump index
    distance = np.linalg.norm(p[:, None, :] - b[None, :, :], axis=2)  # (n, m)
    best = _matching_costs(distance, rotations)
    offset = int(np.argmin(best))
    picked = _matching(distance[:, rotations[offset]])
    chosen = rotations[offset][picked]
    chosen = _uncrossed(p, b, chosen)
    result = np.empty(n, dtype=int)
    result[pad_order] = bump_order[chosen]
    return [int(k) for k in result]


def _angular(points: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Indices of ``points`` by angle around ``center`` from -pi, then by distance, then index."""
    d = points - np.asarray(center, float)
    angle = np.round(np.arctan2(d[:, 1], d[:, 0]), 12)
    radius = np.round(np.hypot(d[:, 0], d[:, 1]), 6)
    return np.lexsort((np.arange(len(points)), radius, angle))


def _matching_costs(distance: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """The least total length of an order-keeping matching for every rotation of the bumps."""
    n = distance.shape[0]
    cost = distance[0][rotations]  # (offsets, m): pad 0 on bump j
    for i in range(1, n):
        reach = np.minimum.accumulate(cost, axis=1)  # best with pad i-1 on a bump <= j
        before = np.full_like(reach, np.inf)
        before[:, 1:] = reach[:, :-1]
        cost = distance[i][rotations] + before
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
    """Swap the bumps of crossing segments until none cross."""
    chosen = chosen.copy()
    for _ in range(10 * len(chosen) ** 2 + 10):
        i, j = first_crossing(pads, bumps[chosen])
        if i < 0:
            return chosen
        chosen[i], chosen[j] = chosen[j], chosen[i]
    raise AssertionError("uncrossing did not settle")  # each swap shortens the total: unreachable


def first_crossing(starts: np.ndarray, ends: np.ndarray) -> tuple[int, int]:
    """The first pair (i < j) of segments ``starts[k] -> ends[k]`` that cross properly (each
    one's ends strictly on either side of the other), or (-1, -1)."""
    a, b = starts[:, None, :], ends[:, None, :]
    c, d = starts[None, :, :], ends[None, :, :]

    def side(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        cross = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )
        return np.sign(np.round(cross, 6))

    crossing = (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)
    hits = np.argwhere(np.triu(crossing, k=1))
    return (int(hits[0][0]), int(hits[0][1])) if len(hits) else (-1, -1)
