"""Markers grouped into defects, and the worst marker of each, without visiting every marker.

A check of a dense or flat layout can find millions of edge pairs: every edge of one opening
against every edge of the shape around it, on 10⁵ openings. One defect is a cluster of them
(their bounding boxes, grown by the rule's merge distance, overlapping) and is reported once, at
its worst pair. :func:`worst_pairs` finds the clusters and the worst pair of each in KLayout
(merging boxes, filtering pairs by distance), so Python sees one pair per listed cluster;
:func:`box_groups` groups the markers that do reach Python (in a k-d tree, O(n log n)).
"""

from __future__ import annotations

import klayout.db as db
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def box_groups(boxes: np.ndarray) -> np.ndarray:
    """A group number per box (rows left, bottom, right, top): the connected groups of boxes
    that overlap or touch. Candidates come from one k-d tree (Chebyshev metric) per size class
    (larger sides within a factor two), so a few large boxes among many small ones meet only the
    boxes within their reach."""
    n = len(boxes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    lo, hi = boxes[:, :2].astype(float), boxes[:, 2:].astype(float)
    centres, half = (lo + hi) / 2, (hi - lo) / 2
    reach = half.max(axis=1)
    size_class = np.floor(np.log2(np.maximum(reach, 1.0))).astype(np.int64)
    classes = [np.flatnonzero(size_class == c) for c in np.unique(size_class)]
    trees = [cKDTree(centres[members]) for members in classes]
    links = [np.empty((0, 2), dtype=np.int64)]
    for a, (members_a, tree_a) in enumerate(zip(classes, trees, strict=True)):
        for b in range(a, len(classes)):
            members_b, tree_b = classes[b], trees[b]
            r = reach[members_a].max() + reach[members_b].max()
            if a == b:
                found = tree_a.query_pairs(r, p=np.inf, output_type="ndarray").reshape(-1, 2)
                links.append(members_a[found])
            else:
                near = tree_a.sparse_distance_matrix(tree_b, r, p=np.inf, output_type="ndarray")
                links.append(np.column_stack((members_a[near["i"]], members_b[near["j"]])))
    pairs = np.vstack(links)
    gap = np.abs(centres[pairs[:, 0]] - centres[pairs[:, 1]]) - half[pairs[:, 0]] - half[pairs[:, 1]]  # fmt: skip
    pairs = pairs[(gap <= 0).all(axis=1)]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def worst_pairs(pairs: db.EdgePairs, grow: int, keep: int) -> tuple[list[db.EdgePair], int]:
    """The clusters of ``pairs`` (flat: one cell's), each the pairs whose bounding boxes grown
    by ``grow`` (dbu, at least 1) overlap or touch: of the ``keep`` worst clusters (smallest
    distance, ties by place: lowest, then leftmost), one pair at that distance each; and how
    many clusters there are besides. All in KLayout: the clusters are the merged boxes, and the
    distance range is halved until each listed cluster's smallest distance is known (a cluster
    has a pair in the lower half or not), the lower half first; Python sees ``keep`` pairs and
    the clusters of the last step."""
    top = _above_all(pairs)
    clusters = _union(pairs, max(1, grow), top)
    total = clusters.count()
    found: list[db.EdgePair] = []
    todo: list[tuple[int, int, db.Region, db.EdgePairs]] = [(0, top, clusters, pairs)]
    while todo and len(found) < keep:
        lo, hi, these, among = todo.pop()
        if these.is_empty():
            continue
        if hi - lo == 1:
            found += _one_each(these, among, keep - len(found))
            continue
        mid = (lo + hi) // 2
        low, high = among.split_with_distance(lo, mid)
        if low.is_empty() or high.is_empty():  # one half holds every pair: no split
            todo.append((mid, hi, these, high) if low.is_empty() else (lo, mid, these, low))
            continue
        # a pair's first edge lies in its cluster; the upper half keeps the pairs of the
        # clusters below too, which touch no cluster above
        below, above = these.split_interacting(low.first_edges())
        if not above.is_empty():
            todo.append((mid, hi, above, high))
        todo.append((lo, mid, below, low))
    return found, total - len(found)


def _union(pairs: db.EdgePairs, grow: int, top: int, bands: int = 16) -> db.Region:
    """The union of the pairs' boxes grown by ``grow``, one polygon per cluster: the boxes
    grown by 1 dbu merged in bands of distance (below ``top``; fewer overlaps at a time: 4.0 ->
    2.7 s for 686,000 pairs on one dense die), then grown by the rest (rectilinear, so sizing
    keeps square corners) and merged."""
    pieces, rest = db.Region(), pairs
    for k in range(1, bands + 1):
        band, rest = rest.split_with_distance(0, top * k // bands)
        pieces += band.extents(1).merged()
    union = pieces.merged().sized(grow - 1).merged()
    union.merged_semantics = False  # disjoint already: each polygon one cluster
    return union


def _above_all(pairs: db.EdgePairs) -> int:
    """A power of two above every pair's distance."""
    box = pairs.bbox()
    bits = (box.width() + box.height() + 1).bit_length()
    lo, hi = 0, bits  # 2**hi is above all; find the least such exponent
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs.with_distance(1 << mid, 1 << bits, False).is_empty():
            hi = mid
        else:
            lo = mid + 1
    return 1 << hi


def _one_each(clusters: db.Region, pairs: db.EdgePairs, most: int) -> list[db.EdgePair]:
    """One of ``pairs`` in each of the first ``most`` ``clusters`` (lowest, then leftmost):
    the one whose box centre lies in it; ``pairs`` may hold pairs of other clusters too."""
    chosen = sorted(clusters.each(), key=lambda c: (c.bbox().bottom, c.bbox().left))[:most]
    boxes = np.array([(b.left, b.bottom, b.right, b.top) for b in (c.bbox() for c in chosen)])
    boxes = boxes.reshape(-1, 4)
    if len(chosen) < clusters.count():  # the pairs of the chosen ones (in simple pieces)
        pieces = db.Region(chosen).decompose_trapezoids_to_region()
        pieces.merged_semantics = False
        pairs = pairs.interacting(pieces)
    first: dict[int, db.EdgePair] = {}
    for pair in pairs.each():
        centre = pair.bbox().center()
        x, y = centre.x, centre.y
        hits = np.flatnonzero(
            (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
        )
        for k in hits.tolist():
            if k not in first and (len(hits) == 1 or chosen[k].inside(centre)):
                first[k] = pair
        if len(first) == len(chosen):
            break
    return [first[k] for k in sorted(first)]
