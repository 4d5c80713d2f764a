"""Narrow webs between shapes, one result per pair of shapes instead of per pair of edges.

KLayout's space check reports every edge of one opening against every edge of its neighbour
within the rule value: ~3,000 edge pairs for two 192-gon circles 48 µm apart against a 50 µm
web, ~300,000 for a 100-bump die. Here candidate pairs come from a k-d tree on the shapes'
boxes, and each pair's exact distance (Euclidean, vertex to edge both ways, the one a space
check measures) from the few edges of each shape that face the other: one pair of closest
edges per pair of shapes closer than the minimum, and one per group of shapes linked by such
pairs (a row of openings too close is one defect, at its narrowest web).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

Edges = np.ndarray  # m x 4 (x1, y1, x2, y2) of one shape's hull and holes
Web = tuple[int, int, float, np.ndarray, np.ndarray]  # shapes i < j, distance, closest edges


def boxes_of(shapes: list[Edges]) -> np.ndarray:
    """Each shape's bounding box (left, bottom, right, top)."""
    return np.array(
        [(e[:, [0, 2]].min(), e[:, [1, 3]].min(), e[:, [0, 2]].max(), e[:, [1, 3]].max()) for e in shapes],
        dtype=float,
    ).reshape(-1, 4)  # fmt: skip


def box_gaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between boxes (rows of ``a`` and ``b``), 0 where they overlap."""
    gx = np.maximum(0.0, np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]))
    gy = np.maximum(0.0, np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]))
    return np.hypot(gx, gy)


def candidate_pairs(boxes: np.ndarray, minimum: float) -> np.ndarray:
    """Index pairs i < j of boxes closer than ``minimum``: a k-d tree on the centres of the
    boxes of typical size (within reach of the largest of them), every box against the few
    much larger ones (a ring, a long slot) directly."""
    n = len(boxes)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2
    large = half > 2 * np.median(half)
    found = []
    typical = np.flatnonzero(~large)
    if len(typical) > 1:
        reach = 2 * half[typical].max() + minimum
        pairs = cKDTree(centres[typical]).query_pairs(reach, output_type="ndarray")
        found.append(typical[pairs.reshape(-1, 2)])
    everyone = np.arange(n)
    for i in np.flatnonzero(large):
        others = everyone[~large | (everyone > i)]
        others = others[others != i]
        found.append(np.column_stack((np.full(len(others), i), others)))
    pairs = np.sort(np.vstack(found), axis=1) if found else np.empty((0, 2), dtype=np.int64)
    return pairs[box_gaps(boxes[pairs[:, 0]], boxes[pairs[:, 1]]) < minimum]


def _facing(edges: Edges, box: np.ndarray, minimum: float) -> Edges:
    """The edges whose boxes come within ``minimum`` of ``box`` (all that can be that near)."""
    lo_x, hi_x = np.minimum(edges[:, 0], edges[:, 2]), np.maximum(edges[:, 0], edges[:, 2])
    lo_y, hi_y = np.minimum(edges[:, 1], edges[:, 3]), np.maximum(edges[:, 1], edges[:, 3])
    near = (
        (lo_x < box[2] + minimum)
        & (hi_x > box[0] - minimum)
        & (lo_y < box[3] + minimum)
        & (hi_y > box[1] - minimum)
    )
    return edges[near]


def _to_segments(points: np.ndarray, edges: Edges) -> np.ndarray:
    """Distance from each point (n x 2) to each segment (m x 4): n x m."""
    a, b = edges[:, :2], edges[:, 2:]
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-12)
    ap = points[:, None, :] - a[None]
    t = np.clip((ap * ab[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1))


def closest_edges(
    a: Edges, b: Edges, box_a: np.ndarray, box_b: np.ndarray, minimum: float
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(distance, edge of ``a``, edge of ``b``) of two disjoint shapes' closest edges, when
    they are closer than ``minimum``; None otherwise. The distance between two shapes is that
    of a vertex of one to an edge of the other, and every vertex that near starts an edge
    facing the other shape. Only the vertices that can be nearest are measured against edges:
    a vertex's distance to an edge is at least its distance to that edge's start less the
    edge's length, and no more than the closest two vertices' distance."""
    near_a, near_b = _facing(a, box_b, minimum), _facing(b, box_a, minimum)
    if not len(near_a) or not len(near_b):
        return None
    start_a, start_b = near_a[:, :2], near_b[:, :2]
    vertices = np.hypot(*(start_a[:, None, :] - start_b[None]).transpose(2, 0, 1))
    bound = vertices.min()
    long_a = np.hypot(*(near_a[:, 2:] - start_a).T).max()
    long_b = np.hypot(*(near_b[:, 2:] - start_b).T).max()
    from_a = np.flatnonzero(vertices.min(axis=1) - long_b <= bound)
    from_b = np.flatnonzero(vertices.min(axis=0) - long_a <= bound)
    a_to_b = _to_segments(start_a[from_a], near_b)
    b_to_a = _to_segments(start_b[from_b], near_a)
    if a_to_b.min() <= b_to_a.min():
        i, j = np.unravel_index(int(np.argmin(a_to_b)), a_to_b.shape)
        distance, first, second = a_to_b[i, j], near_a[from_a[i]], near_b[j]
    else:
        j, i = np.unravel_index(int(np.argmin(b_to_a)), b_to_a.shape)
        distance, first, second = b_to_a[j, i], near_a[i], near_b[from_b[j]]
    if distance >= minimum:
        return None
    return float(distance), first, second


def narrow_webs(shapes: list[Edges], minimum: float) -> list[Web]:
    """Every pair of disjoint ``shapes`` closer than ``minimum``, as (i, j, distance, closest
    edge of i, closest edge of j). A pair congruent by translation to one measured before (the
    same two outlines at the same offset: the neighbours of an array) takes its measurement,
    moved."""
    boxes = boxes_of(shapes)
    corner = boxes[:, :2]
    outlines: dict[bytes, int] = {}
    outline = [
        outlines.setdefault((e - np.tile(c, 2)).tobytes(), len(outlines))
        for e, c in zip(shapes, corner, strict=True)
    ]
    measured: dict[tuple[int, int, float, float], tuple[float, np.ndarray, np.ndarray] | None] = {}
    out = []
    for i, j in candidate_pairs(boxes, minimum).tolist():
        dx, dy = (corner[j] - corner[i]).tolist()
        key = (outline[i], outline[j], dx, dy)
        if key not in measured:
            found = closest_edges(shapes[i], shapes[j], boxes[i], boxes[j], minimum)
            shift = np.tile(corner[i], 2)
            measured[key] = None if found is None else (found[0], found[1] - shift, found[2] - shift)  # fmt: skip
        again = measured[key]
        if again is not None:
            shift = np.tile(corner[i], 2)
            out.append((i, j, again[0], again[1] + shift, again[2] + shift))
    return out


def narrowest_per_group(found: list[Web], n: int) -> list[Web]:
    """Of the webs between ``n`` shapes, the narrowest of each group of shapes they link."""
    if not found:
        return []
    ends = np.array([(i, j) for i, j, *_ in found])
    graph = coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n))
    group = connected_components(graph, directed=False)[1][ends[:, 0]]
    narrowest: dict[int, Web] = {}
    for g, web in zip(group.tolist(), found, strict=True):
        if g not in narrowest or web[2] < narrowest[g][2]:
            narrowest[g] = web
    return list(narrowest.values())
