"""Which of many convex shapes overlap: a k-d tree proposes the pairs close enough to touch,
and each pair is decided exactly by where the one centre lies in the Minkowski difference of
the two outlines (O(n log n + pairs), no polygon boolean per pair)."""

from __future__ import annotations

from dataclasses import dataclass

import gdstk
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, cKDTree

from masklayout.geometry.shapes import GRID

EPSILON = 1e-6  # µm: shapes closer than this to touching count as touching, not overlapping
CHUNK = 1 << 14  # pairs tested at once (a chunk × ~400 half-planes stays ~50 MB)


@dataclass(frozen=True)
class Overlaps:
    """Index pairs ``i < j`` of overlapping shapes, sorted by (i, j). ``complete`` is False when
    the candidate pairs exceeded the budget: then only each shape's pair with its nearest
    neighbour was tested."""

    i: np.ndarray
    j: np.ndarray
    complete: bool


def _difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Half-planes (normal x, normal y, offset; inside where ``n·d + offset < 0``) of the set of
    offsets ``d`` at which outline ``b`` moved by ``d`` overlaps ``a``; its inner and outer
    radius."""
    sums = (a[:, None, :] - b[None, :, :]).reshape(-1, 2)
    hull = ConvexHull(sums)
    corners = sums[hull.vertices]
    return hull.equations, float(-hull.equations[:, 2].max()), float(np.hypot(*corners.T).max())


def overlapping_pairs(
    xy: np.ndarray, kind: np.ndarray, outlines: list[np.ndarray], max_pairs: int = 4_000_000
) -> Overlaps:
    """Pairs of the shapes ``outlines[kind[k]]`` centred at ``xy[k]`` (convex, counter-clockwise,
    around their centre) whose interiors overlap."""
    n = len(xy)
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return Overlaps(empty, empty, True)
    kinds = len(outlines)
    planes: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
    reach = 0.0
    for p in range(kinds):
        for q in range(kinds):
            eq, inner, outer = _difference(outlines[p], outlines[q])
            planes[p, q] = (eq, inner)
            reach = max(reach, outer)
    tree = cKDTree(xy)
    candidates = (tree.count_neighbors(tree, reach) - n) // 2
    complete = candidates <= max_pairs
    if complete:
        pairs = tree.query_pairs(reach, output_type="ndarray").astype(np.int64)
    else:
        nearest = np.asarray(tree.query(xy, k=2)[1])
        other = np.where(nearest[:, 0] == np.arange(n), nearest[:, 1], nearest[:, 0])
        pairs = np.unique(np.sort(np.column_stack((np.arange(n), other)), axis=1), axis=0)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    keep = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), CHUNK):
        i, j = pairs[start : start + CHUNK].T
        d = xy[j] - xy[i]
        hit = np.zeros(len(i), dtype=bool)
        for (p, q), (eq, inner) in planes.items():
            pick = (kind[i] == p) & (kind[j] == q)
            if not pick.any():
                continue
            dp = d[pick]
            sure = np.hypot(*dp.T) < inner - EPSILON
            unsure = np.flatnonzero(~sure)
            inside = sure
            if unsure.size:
                side = dp[unsure] @ eq[:, :2].T + eq[:, 2]
                inside[unsure] = (side < -EPSILON).all(axis=1)
            hit[pick] = inside
        keep[start : start + CHUNK] = hit
    return Overlaps(pairs[keep, 0], pairs[keep, 1], complete)


def connected_count(polygons: list[gdstk.Polygon]) -> int:
    """How many shapes the polygons make once merged where they touch or overlap, without
    merging them: the pairs whose bounding boxes meet (sweep over a k-d tree of box centres)
    are merged two at a time, and the groups counted."""
    n = len(polygons)
    if n < 2:
        return n
    boxes = np.array([np.concatenate(p.bounding_box()) for p in polygons])  # x0, y0, x1, y1
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) / 2
    reach = 2 * float(half.max()) + 2 * GRID
    pairs = cKDTree(centre).query_pairs(reach, p=np.inf, output_type="ndarray")
    i, j = pairs.T if len(pairs) else (np.zeros(0, dtype=int),) * 2
    near = (np.abs(centre[i] - centre[j]) <= half[i] + half[j] + GRID).all(axis=1)
    joined = [
        (a, b)
        for a, b in zip(i[near].tolist(), j[near].tolist(), strict=True)
        if len(gdstk.boolean(polygons[a], polygons[b], "or")) == 1
    ]
    if not joined:
        return n
    a, b = np.array(joined).T
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return int(connected_components(graph, directed=False)[0])
