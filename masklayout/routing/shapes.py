"""Centrelines to metal, and the exact legality check of the result (KLayout, 1 nm database unit)."""

from __future__ import annotations

from collections.abc import Iterable

import klayout.db as kdb
import numpy as np

DBU = 0.001


def simplify(points: np.ndarray) -> np.ndarray:
    """Snap to 1 nm and drop repeated points and points inside straight runs."""
    p = np.round(np.asarray(points, dtype=float), 3)
    keep = np.concatenate([[True], np.any(np.abs(np.diff(p, axis=0)) > 1e-9, axis=1)])
    p = p[keep]
    if len(p) < 3:
        return p
    d = np.diff(p, axis=0)
    cross = d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]
    straight = (np.abs(cross) < 1e-9) & ((d[:-1] * d[1:]).sum(1) > 0)
    return np.concatenate([p[:1], p[1:-1][~straight], p[-1:]])


def bends(line: np.ndarray) -> int:
    """Direction changes along a centreline (a vertex where the line runs straight on is none)."""
    legs = np.diff(np.asarray(line, dtype=float), axis=0)
    legs = legs[np.hypot(*legs.T) > 0]
    legs /= np.hypot(*legs.T)[:, None]
    a, b = legs[:-1], legs[1:]
    straight = (np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) < 1e-9) & ((a * b).sum(1) > 0)
    return int(np.count_nonzero(~straight))


def length(line: np.ndarray) -> float:
    return float(np.hypot(*np.diff(line, axis=0).T).sum())


def _points(points: np.ndarray) -> list[kdb.Point]:
    q = np.rint(np.asarray(points, dtype=float) / DBU).astype(np.int64)
    return [kdb.Point(int(x), int(y)) for x, y in q]


def polygon_region(polygons) -> kdb.Region:
    """A region of the given (n, 2) µm polygons."""
    region = kdb.Region()
    for p in polygons:
        region.insert(kdb.Polygon(_points(p)))
    return region


def pen(width: float) -> kdb.Polygon:
    """The 16-gon a trace of ``width`` is drawn with, on the database grid: vertices every
    22.5° on the circle of radius ``width/2``, so the metal stays within ``width/2`` of its
    centreline (at bends too) while sides of 0/45/90° runs are exactly ``width`` apart (the
    45° vertices are rounded outwards, the others inwards)."""
    h = int(round(width / 2 / DBU))
    q = int(np.ceil(h / np.sqrt(2.0)))
    c, s = int(h * np.cos(np.pi / 8)), int(h * np.sin(np.pi / 8))
    quarter = [(h, 0), (c, s), (q, q), (s, c)]
    pts = quarter + [(-y, x) for x, y in quarter]
    pts += [(-x, -y) for x, y in pts]
    return kdb.Polygon([kdb.Point(x, y) for x, y in pts])


def trace_region(line: np.ndarray, width: float) -> kdb.Region:
    """The metal of a centreline at ``width``: the Minkowski sum of the line and the
    :func:`pen`, so straight runs at 0/45/90° have sides at ``width/2``, bends are rounded
    within ``width/2`` of the bend point and short jogs leave no spikes."""
    return kdb.Region(pen(width).minkowski_sum(_points(line), False))


def metal(terminals, lines, width: float, extra: kdb.Region | None = None) -> kdb.Region:
    """A net's merged metal: its terminals, its centrelines at ``width``, and ``extra``."""
    region = polygon_region(terminals)
    for line in lines:
        if len(line) >= 2:
            region += trace_region(line, width)
    if extra is not None:
        region += extra
    return region.merged()


def to_arrays(region: kdb.Region) -> tuple[np.ndarray, ...]:
    """The region's polygons as (n, 2) µm arrays (holes joined to the hull by cut lines)."""
    out = []
    for poly in region.each_merged():
        simple = poly.resolved_holes() if poly.holes() else poly
        pts = [(p.x * DBU, p.y * DBU) for p in simple.each_point_hull()]
        out.append(np.round(np.array(pts, dtype=float), 3))
    return tuple(out)


def first_point(pairs: kdb.EdgePairs) -> tuple[float, float]:
    for ep in pairs.each():
        c = ep.bbox().center()
        return (round(c.x * DBU, 3), round(c.y * DBU, 3))
    raise ValueError("no edge pairs")


def violations(
    metals: list[kdb.Region],
    widths: list[float],
    obstacles: kdb.Region,
    inner: kdb.Region,
    space: float,
    only: Iterable[int] | None = None,
) -> dict[int, tuple[tuple[float, float], str]]:
    """Where each net's metal (or only that of the nets ``only``) breaks a rule: too close to
    other metal, outside the edge, notched."""
    s = int(round(space / DBU))
    out: dict[int, tuple[tuple[float, float], str]] = {}
    boxes = np.array(
        [
            [b.left, b.bottom, b.right, b.top] if not m.is_empty() else [0, 0, -1, -1]
            for m in metals
            for b in [m.bbox()]
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    for i in range(len(metals)) if only is None else sorted(only):
        region = metals[i]
        if region.is_empty():
            continue
        b = boxes[i]
        near = np.flatnonzero(
            (boxes[:, 0] <= b[2] + s)
            & (boxes[:, 2] >= b[0] - s)
            & (boxes[:, 1] <= b[3] + s)
            & (boxes[:, 3] >= b[1] - s)
        )
        others = kdb.Region()
        for j in near:
            if j != i:
                others += metals[j]
        others += obstacles
        touching = region.interacting(others)
        if not touching.is_empty():
            c = (
                (touching & others).bbox().center()
                if not (touching & others).is_empty()
                else touching.bbox().center()
            )
            out[i] = ((round(c.x * DBU, 3), round(c.y * DBU, 3)), "its metal touches other metal")
            continue
        close = region.separation_check(others, s)
        if not close.is_empty():
            out[i] = (
                first_point(close),
                f"its metal comes closer than {space:g} µm to other metal",
            )
            continue
        outside = region - inner
        if not outside.is_empty():
            c = outside.bbox().center()
            out[i] = (
                (round(c.x * DBU, 3), round(c.y * DBU, 3)),
                "its metal crosses the die-edge clearance",
            )
            continue
        notch = region.notch_check(s)
        if not notch.is_empty():
            out[i] = (first_point(notch), f"its metal has a notch narrower than {space:g} µm")
            continue
        thin = region.width_check(int(round(widths[i] / DBU)) - 2)
        if not thin.is_empty():
            out[i] = (first_point(thin), f"its metal is narrower than {widths[i]:g} µm")
    return out
