"""The narrowest neck of a conductor between groups of its terminals: a minimum cut on a raster.

A net extracted from merged metal comes back as few large polygons (one RDL shape may hold two
shorted nets and the bridge between them), so where the parts meet is a question of geometry,
not of which shape touches which: it is the narrowest cross-section separating one group's
terminals from the others'.

The conductor's layers are rasterised on one grid: a pixel with any metal in it is a node, two
side neighbours on a layer are joined by the length of metal crossing their common side (in
1/``SCALE`` of a pitch), and pixels of connected layers at the same place, like the pixels under
one group's seeds, are one node. The maximum flow from one group to the others (scipy's
Edmonds-Karp, faster here than its Dinic on these long, thin graphs) equals the minimum cut; the
cut runs where the pixels reachable from the source in the residual graph (the walk out from that
group) meet those that are not. With more than two groups each but the last is cut from all the
others (isolating cuts), which separates every pair.

The grid has at most ``MAX_CELLS`` pixels, so the pitch grows with the conductor's extent (about
7 um over a 5 mm die); metal of the net closer than a pitch may share a pixel and count as
joined there, and a cut is measured along the pixel sides (a 45 degree neck as its width times
sqrt 2). Either moves only the marker, never whether the defect is reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import klayout.db as db
import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

MAX_CELLS = 1 << 19  # pixels of the grid; beyond, the pitch grows
SCALE = 64  # capacity of a pixel side wholly in metal


class _Grid:
    """Square pixels of ``pitch`` dbu from ``origin``: ``nx`` columns, ``ny`` rows."""

    def __init__(self, box: db.Box, pitch: int):
        self.pitch = max(pitch, math.ceil(math.sqrt(box.width() * box.height() / MAX_CELLS)))
        self.origin = box.p1
        self.nx = max(1, math.ceil(box.width() / self.pitch))
        self.ny = max(1, math.ceil(box.height() / self.pitch))

    def sample(self, region: db.Region, at: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
        """Metal area (dbu², rows are y) in the windows of ``size`` at ``origin + at + (i, j) *
        pitch``, one per pixel (rasterised over the region's extent only; rounding noise below
        1 dbu² dropped, overlapping shapes counted once)."""
        out = np.zeros((self.ny, self.nx))
        box, p = region.bbox(), self.pitch
        x0, y0 = self.origin.x + at[0], self.origin.y + at[1]
        ix0, iy0 = max(0, (box.left - x0 - size[0]) // p), max(0, (box.bottom - y0 - size[1]) // p)
        ix1, iy1 = min(self.nx, (box.right - x0) // p + 1), min(self.ny, (box.top - y0) // p + 1)
        if region.is_empty() or ix1 <= ix0 or iy1 <= iy0:
            return out
        corner = db.Point(x0 + ix0 * p, y0 + iy0 * p)
        window = np.asarray(region.rasterize(
            corner, db.Vector(p, p), db.Vector(*size), ix1 - ix0, iy1 - iy0
        ))  # fmt: skip
        window = np.minimum(window, float(size[0]) * size[1])
        out[iy0:iy1, ix0:ix1] = np.where(window >= 1.0, window, 0.0)
        return out

    def box(self, ix: np.ndarray, iy: np.ndarray) -> db.Box:
        """The box over the given pixels."""
        p, o = self.pitch, self.origin
        return db.Box(
            o.x + int(ix.min()) * p,
            o.y + int(iy.min()) * p,
            o.x + (int(ix.max()) + 1) * p,
            o.y + (int(iy.max()) + 1) * p,
        )


def narrowest_cut(
    layers: dict[str, db.Region],
    seeds: list[dict[str, db.Region]],
    connections: Iterable[tuple[str, str]],
    pitch: int,
) -> db.Box:
    """The box over the narrowest cut of the conductor ``layers`` (name -> its metal, dbu)
    separating each group of ``seeds`` (per group: layer name -> where it holds the metal) from
    the others; ``connections``: the layer pairs that conduct where they overlap; ``pitch``: the
    finest pixel (dbu). Empty when the groups are not connected on the grid."""
    extent = db.Box()
    for region in layers.values():
        extent += region.bbox()
    if extent.empty() or len(seeds) < 2:
        return db.Box()
    grid = _Grid(extent, pitch)
    pitch, whole = grid.pitch, (grid.pitch, grid.pitch)
    ids: dict[str, np.ndarray] = {}
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    count = 0
    for name, region in layers.items():
        metal = grid.sample(region, (0, 0), whole) > 0
        index = np.full(metal.shape, -1, dtype=np.int64)
        index[metal] = count + np.arange(int(metal.sum()))
        count += int(metal.sum())
        iy, ix = np.nonzero(metal)
        ids[name] = index
        xs.append(ix)
        ys.append(iy)
        # the metal crossing each pixel side: a 2 dbu strip along it, area / 2
        across_x = grid.sample(region, (pitch - 1, 0), (2, pitch))[:, :-1] / 2
        across_y = grid.sample(region, (0, pitch - 1), (pitch, 2))[:-1] / 2
        for a, b, length in (
            (index[:, :-1], index[:, 1:], across_x),
            (index[:-1], index[1:], across_y),
        ):
            joined = (a >= 0) & (b >= 0) & (length > 0)
            us.append(a[joined])
            vs.append(b[joined])
            caps.append(np.ceil(SCALE * np.minimum(length[joined], pitch) / pitch))
    node_x, node_y = np.concatenate(xs), np.concatenate(ys)
    u, v, cap = np.concatenate(us), np.concatenate(vs), np.concatenate(caps).astype(np.int32)

    # one node per stack of connected layers and per group's seeds
    ju, jv = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for a_name, b_name in connections:
        if a_name in ids and b_name in ids:
            both = (ids[a_name] >= 0) & (ids[b_name] >= 0)
            ju.append(ids[a_name][both])
            jv.append(ids[b_name][both])
    for group, seed in enumerate(seeds):
        for name, region in seed.items():
            if name in ids:
                held = ids[name][(grid.sample(region, (0, 0), whole) > 0) & (ids[name] >= 0)]
                ju.append(held)
                jv.append(np.full(len(held), count + group))
    size = count + len(seeds)
    join_u, join_v = np.concatenate(ju), np.concatenate(jv)
    joins = coo_array((np.ones(len(join_u)), (join_u, join_v)), shape=(size, size))
    _, component = connected_components(joins.tocsr(), directed=False)
    group_nodes = component[count:]

    box = db.Box()
    for group in range(len(seeds) - 1):
        source = int(group_nodes[group])
        others = np.delete(group_nodes, group)
        if source in others:  # the groups meet where layers stack: the stack is the contact
            here = component[:count] == source
            box += grid.box(node_x[here], node_y[here])
            continue
        node = component.copy()
        sink = int(others[0])
        node[np.isin(node, others)] = sink
        a, b = node[u], node[v]
        keep = a != b
        n = int(component.max()) + 1
        graph = csr_array(
            (
                np.concatenate([cap[keep], cap[keep]]),
                (np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]])),
            ),
            shape=(n, n),
        )
        flow = maximum_flow(graph, source, sink, method="edmonds_karp")
        if flow.flow_value == 0:
            continue
        residual = csr_array(graph - flow.flow)
        residual.data[residual.data < 0] = 0
        residual.eliminate_zeros()
        reached = np.zeros(n, dtype=bool)
        reached[breadth_first_order(residual, source, return_predecessors=False)] = True
        cut = reached[a] != reached[b]
        if cut.any():
            pixels = np.concatenate([u[cut], v[cut]])
            box += grid.box(node_x[pixels], node_y[pixels])
    return box
