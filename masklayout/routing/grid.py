"""The routing grid: cell geometry, distances to polygons and the static blocked masks.

A cell is a candidate centreline point. A cell is blocked for a net of width ``w`` when its centre
lies closer than ``halo(w/2 + space)`` to foreign metal, where ``halo(d) = sqrt(d² + pitch²/2)``:
a centreline that only joins free cells by steps of at most ``pitch·√2`` then keeps at least ``d``
from that metal along the whole step (a point at distance >= r from both ends of a segment of
length L is at least sqrt(r² - L²/4) from the segment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path as _MplPath

_CHUNK = 1 << 18


def halo(distance: float, pitch: float) -> float:
    """Cell-centre distance that keeps a grid centreline ``distance`` away (see module doc)."""
    return math.sqrt(distance * distance + pitch * pitch / 2.0)


def disk_offsets(radius: float, pitch: float) -> np.ndarray:
    """The (row, column) offsets of the cells whose centres lie closer than ``radius`` to a
    cell's centre, on a grid of ``pitch``."""
    k = int(math.ceil(radius / pitch))
    dy, dx = np.mgrid[-k : k + 1, -k : k + 1]
    keep = np.hypot(dx, dy) * pitch < radius
    return np.stack([dy[keep], dx[keep]], axis=1)


def sample(line: np.ndarray, step: float) -> np.ndarray:
    """The polyline's vertices and points between them at most ``step`` apart (the first
    vertex, then each segment's points up to and including its end)."""
    pts = [line[:1]]
    for a, b in zip(line[:-1], line[1:], strict=True):
        n = max(1, int(math.ceil(np.hypot(*(b - a)) / step)))
        pts.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(pts)


def segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each of ``points`` (n, 2) to the nearest of the segments ``a[k]-b[k]``."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    out = np.full(len(points), np.inf)
    if len(a) == 0:
        return out
    d = b - a
    dd = np.maximum((d * d).sum(1), 1e-300)
    step = max(1, _CHUNK // max(1, len(a)))
    for lo in range(0, len(points), step):
        p = points[lo : lo + step, None, :] - a[None]
        t = np.clip((p * d[None]).sum(2) / dd[None], 0.0, 1.0)
        e = p - t[..., None] * d[None]
        out[lo : lo + step] = np.sqrt((e * e).sum(2).min(1))
    return out


def nearest_point(point: np.ndarray, polygon: np.ndarray) -> tuple[float, np.ndarray]:
    """The distance from ``point`` to the polygon's boundary and the boundary point nearest it."""
    a, b = edges(polygon)
    d = b - a
    t = np.clip(((point - a) * d).sum(1) / np.maximum((d * d).sum(1), 1e-300), 0, 1)
    foot = a + t[:, None] * d
    dist = np.hypot(*(foot - point).T)
    k = int(np.argmin(dist))
    return float(dist[k]), foot[k]


def edges(polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed polygon's edges as start and end arrays."""
    p = np.asarray(polygon, dtype=float)
    return p, np.roll(p, -1, axis=0)


def inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether each point lies inside the polygon."""
    return _MplPath(np.asarray(polygon, dtype=float)).contains_points(points)


def polygon_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance from each point to the polygon's area (0 inside)."""
    d = segment_distance(points, *edges(polygon))
    d[inside(points, polygon)] = 0.0
    return d


def polyline_polygon_distance(line: np.ndarray, polygon: np.ndarray) -> float:
    """Exact distance between an open polyline and a polygon's area."""
    line = np.asarray(line, dtype=float)
    if inside(line[:1], polygon)[0]:
        return 0.0
    pa, pb = edges(polygon)
    la, lb = line[:-1], line[1:]
    d = min(segment_distance(line, pa, pb).min(), segment_distance(polygon, la, lb).min())
    if d > 0 and crosses(la, lb, pa, pb):
        return 0.0
    return float(d)


def one_bend(a: np.ndarray, b: np.ndarray, diagonal: bool, x_axis: int) -> list[np.ndarray]:
    """The octilinear ways from a to b with one bend at most, as (k, 2) arrays of points or
    cells (``x_axis``: which coordinate is x, 0 for (x, y) points, 1 for (row, column) cells).
    With ``diagonal`` the 45° run first, then the 45° run last; else the run along x first,
    then the run along y first."""
    d = b - a
    if abs(d[0]) < 1e-9 or abs(d[1]) < 1e-9 or (diagonal and abs(abs(d[0]) - abs(d[1])) < 1e-9):
        return [np.array([a, b])]
    if not diagonal:
        along_x, along_y = a.copy(), a.copy()
        along_x[x_axis], along_y[1 - x_axis] = b[x_axis], b[1 - x_axis]
        return [np.array([a, along_x, b]), np.array([a, along_y, b])]
    m = min(abs(d[0]), abs(d[1]))
    diag = np.round(np.sign(d) * m, 3)
    return [np.array([a, a + diag, b]), np.array([a, b - diag, b])]


def crosses(a1: np.ndarray, a2: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> bool:
    """Whether any segment ``a1[i]-a2[i]`` properly crosses any segment ``b1[j]-b2[j]``."""

    def orient(p, q, r):
        return np.sign(
            (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
            - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
        )

    a1, a2 = a1[:, None], a2[:, None]
    b1, b2 = b1[None], b2[None]
    return bool(
        np.any(
            (orient(a1, a2, b1) * orient(a1, a2, b2) < 0)
            & (orient(b1, b2, a1) * orient(b1, b2, a2) < 0)
        )
    )


@dataclass(frozen=True)
class Grid:
    """A square grid of candidate centreline points: cell (iy, ix) sits at (x0 + ix·p, y0 + iy·p)."""

    x0: float
    y0: float
    pitch: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, outline: np.ndarray, pitch: float) -> Grid:
        lo, hi = outline.min(0), outline.max(0)
        nx, ny = (np.floor((hi - lo) / pitch).astype(int) + 1).tolist()
        return cls(x0=float(lo[0]), y0=float(lo[1]), pitch=pitch, nx=nx, ny=ny)

    def xy(self, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        return np.stack([self.x0 + ix * self.pitch, self.y0 + iy * self.pitch], axis=-1)

    def nearest(self, points: np.ndarray) -> np.ndarray:
        """The (iy, ix) of the cell nearest each point, clipped into the grid."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        ix = np.clip(np.rint((p[:, 0] - self.x0) / self.pitch), 0, self.nx - 1)
        iy = np.clip(np.rint((p[:, 1] - self.y0) / self.pitch), 0, self.ny - 1)
        return np.stack([iy, ix], axis=1).astype(np.int64)

    def box(self, lo: np.ndarray, hi: np.ndarray) -> tuple[slice, slice]:
        """The (rows, columns) slices of the cells inside the box lo..hi, clipped into the grid."""
        ix0 = max(0, math.floor((lo[0] - self.x0) / self.pitch))
        iy0 = max(0, math.floor((lo[1] - self.y0) / self.pitch))
        ix1 = min(self.nx, math.ceil((hi[0] - self.x0) / self.pitch) + 1)
        iy1 = min(self.ny, math.ceil((hi[1] - self.y0) / self.pitch) + 1)
        return slice(iy0, max(iy0, iy1)), slice(ix0, max(ix0, ix1))

    def centres(self, rows: slice, cols: slice) -> np.ndarray:
        iy, ix = np.mgrid[rows, cols]
        return self.xy(iy, ix).reshape(-1, 2)

    def mark_near(self, mask: np.ndarray, polygon: np.ndarray, distance: float) -> None:
        """Set the cells whose centre lies closer than ``distance`` to the polygon's area."""
        self.mark_all(mask, [polygon], distance)

    def mark_all(self, mask: np.ndarray, polygons, distance: float) -> None:
        """``mark_near`` for many polygons: shapes equal up to a whole-cell shift are measured
        once and stamped, axis-parallel rectangles by their closed-form distance."""
        stamps: dict[bytes, np.ndarray] = {}
        p = self.pitch
        for polygon in polygons:
            polygon = np.asarray(polygon, dtype=float)
            k = np.floor((polygon.min(0) - (self.x0, self.y0)) / p).astype(int)
            local = np.round(polygon - (self.x0 + k[0] * p, self.y0 + k[1] * p), 6)
            key = local.tobytes()
            if key not in stamps:
                stamps[key] = self._stamp(local, distance)
            stamp = stamps[key]
            m = int(math.ceil(distance / p)) + 1
            iy0, ix0 = k[1] - m, k[0] - m
            h, w = stamp.shape
            y0, x0 = max(0, iy0), max(0, ix0)
            y1, x1 = min(self.ny, iy0 + h), min(self.nx, ix0 + w)
            if y0 < y1 and x0 < x1:
                mask[y0:y1, x0:x1] |= stamp[y0 - iy0 : y1 - iy0, x0 - ix0 : x1 - ix0]

    def _stamp(self, local: np.ndarray, distance: float) -> np.ndarray:
        """Cells (relative to the cell below-left of ``local``'s corner, less a margin) closer
        than ``distance`` to the polygon ``local`` (given relative to that corner cell)."""
        p = self.pitch
        m = int(math.ceil(distance / p)) + 1
        hi = int(math.ceil(local.max(0).max() / p))
        n = hi + 2 * m + 1
        iy, ix = np.mgrid[-m : n - m, -m : n - m]
        c = np.stack([ix * p, iy * p], axis=-1).reshape(-1, 2)
        if _is_box(local):
            lo, up = local.min(0), local.max(0)
            e = np.maximum(np.maximum(lo - c, c - up), 0.0)
            d = np.hypot(e[:, 0], e[:, 1])
            return (d < distance).reshape(n, n)
        # Bound by the discs about the vertex mean that the polygon contains and lies in; measure
        # exactly only the cells in the band between.
        o = local.mean(0)
        r_out = float(np.hypot(*(local - o).T).max())
        r_in = (
            float(segment_distance(o[None], *edges(local))[0]) if inside(o[None], local)[0] else 0
        )
        rho = np.hypot(*(c - o).T)
        near = rho - r_in < distance if r_in > 0 else np.zeros(len(c), bool)
        band = ~near & (rho - r_out < distance)
        near[band] = polygon_distance(c[band], local) < distance
        return near.reshape(n, n)

    def mark_near_points(self, mask: np.ndarray, points: np.ndarray, distance: float) -> None:
        """Set the cells whose centre lies closer than ``distance`` to any of ``points``."""
        lo, hi = points.min(0) - distance, points.max(0) + distance
        rows, cols = self.box(lo, hi)
        c = self.centres(rows, cols)
        a = np.asarray(points, dtype=float)
        near = segment_distance(c, a, a) < distance
        mask[rows, cols] |= near.reshape(rows.stop - rows.start, cols.stop - cols.start)

    def outside(self, outline: np.ndarray, distance: float) -> np.ndarray:
        """Cells outside the outline or closer than ``distance`` to its edge."""
        outline = np.asarray(outline, dtype=float)
        if _is_box(outline):
            lo, hi = outline.min(0) + distance, outline.max(0) - distance
            x = self.x0 + np.arange(self.nx) * self.pitch
            y = self.y0 + np.arange(self.ny) * self.pitch
            ok = ((y > lo[1]) & (y < hi[1]))[:, None] & ((x > lo[0]) & (x < hi[0]))[None, :]
            return ~ok
        c = self.centres(slice(0, self.ny), slice(0, self.nx))
        ok = inside(c, outline)
        ok[ok] = segment_distance(c[ok], *edges(outline)) >= distance
        return ~ok.reshape(self.ny, self.nx)


def _is_box(polygon: np.ndarray) -> bool:
    """Whether the polygon is an axis-parallel rectangle (four corners, edges along x and y)."""
    if len(polygon) != 4:
        return False
    d = np.diff(np.concatenate([polygon, polygon[:1]]), axis=0)
    return bool(np.all((np.abs(d[:, 0]) < 1e-9) ^ (np.abs(d[:, 1]) < 1e-9)))
