"""The wafer: outline with notch or flat, usable area, and the grid of full dies.

Wafer coordinates are from the wafer centre, the notch or flat at -y. A die is *full* when its
outline (die step less scribe) lies inside the exact usable area: every point of the wafer at
least the edge exclusion from its edge. That is the circle of the radius less the exclusion
(all four corners inside it), above the flat less the exclusion on a flatted wafer, and at
least the exclusion from the notch on a notched one. The EXCLUSION outline drawn for it holds
the exact area: a polygon around the circle, less a notch keep-out drawn inside the exact one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import gdstk
import numpy as np

from masklayout.geometry.shapes import GRID, MAX_CIRCLE_VERTICES
from masklayout.spec import Wafer

NOTCH_DEPTH = 1000.0  # µm, SEMI M1 notch depth, 90° opening
NOTCH_ARC_POINTS = (
    64  # per full circle, drawing the notch keep-out's round apex (chords 3.6 µm deep at 3 mm)
)
DRAWN_MARGIN = 5 * GRID  # the drawn usable area clears the exact one by this, vertex rounding past
# SEMI primary flat lengths (µm) by wafer diameter (mm); other sizes scale 200 mm's.
FLAT_LENGTH = {100: 32500.0, 125: 42500.0, 150: 57500.0, 200: 57500.0}


@dataclass(frozen=True)
class DieGrid:
    """Where the dies sit: ``centers`` of the full dies (n × 2, rows bottom to top, left to right),
    ``partial`` centres of grid dies that touch the wafer but are not full."""

    centers: np.ndarray
    partial: np.ndarray
    offset: tuple[float, float]
    step: tuple[float, float]
    die_size: tuple[float, float]

    @property
    def count(self) -> int:
        return len(self.centers)


def flat_length(wafer: Wafer) -> float:
    """Length of the primary flat (µm) of a flatted wafer."""
    mm = round(wafer.diameter / 1000)
    return FLAT_LENGTH.get(mm, 57500.0 * wafer.diameter / 200000.0)


def flat_y(wafer: Wafer) -> float:
    """The flat's y (negative): where the chord of the flat's length cuts the circle."""
    r = wafer.diameter / 2
    return -math.sqrt(r * r - (flat_length(wafer) / 2) ** 2)


def usable_radius(wafer: Wafer) -> float:
    """Radius of the usable area: the wafer radius less the edge exclusion."""
    return wafer.diameter / 2 - wafer.edge_exclusion


def notch_triangle(wafer: Wafer) -> np.ndarray:
    """The V notch cut out of the wafer (3 × 2): apex ``NOTCH_DEPTH`` inside the edge at -y,
    90° opening, its base beyond the edge."""
    apex, half = -wafer.diameter / 2 + NOTCH_DEPTH, 2 * NOTCH_DEPTH
    return np.array([(0.0, apex), (-half, apex - half), (half, apex - half)])


def _inside_usable(wafer: Wafer, points: np.ndarray) -> np.ndarray:
    """Mask of points (… × 2) inside the usable circle (and above the flat's exclusion)."""
    inside = np.hypot(points[..., 0], points[..., 1]) <= usable_radius(wafer)
    if wafer.orientation == "flat":
        inside &= points[..., 1] >= flat_y(wafer) + wafer.edge_exclusion
    return inside


def _clear_of_notch(wafer: Wafer, centers: np.ndarray, hw: float, hh: float) -> np.ndarray:
    """Mask of dies (centres, half sizes) whose outline keeps the edge exclusion from the
    notch: the distance between two convex polygons, 0 when they overlap (no separating axis),
    else the least distance from a vertex of one to an edge of the other."""
    if wafer.orientation != "notch":
        return np.ones(len(centers), dtype=bool)
    tri = notch_triangle(wafer)
    corners = centers[:, None, :] + np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    # the triangle's vertices to each rectangle (axis-aligned: per-axis excess)
    excess = np.maximum(np.abs(tri[None, :, :] - centers[:, None, :]) - (hw, hh), 0.0)
    distance = np.hypot(excess[..., 0], excess[..., 1]).min(axis=1)
    # the rectangle's corners to each triangle edge
    a, b = tri, np.roll(tri, -1, axis=0)
    ab = b - a
    t = ((corners[:, :, None, :] - a) * ab).sum(axis=-1) / (ab * ab).sum(axis=-1)
    nearest = a + np.clip(t, 0.0, 1.0)[..., None] * ab
    to_edges = np.hypot(*(corners[:, :, None, :] - nearest).transpose(3, 0, 1, 2))
    distance = np.minimum(distance, to_edges.min(axis=(1, 2)))
    # overlap: the projections meet on every axis (x, y and the triangle's edge normals)
    overlap = (tri[:, 0].min() <= corners[..., 0].max(axis=1)) & (
        corners[..., 0].min(axis=1) <= tri[:, 0].max()
    )
    overlap &= (tri[:, 1].min() <= corners[..., 1].max(axis=1)) & (
        corners[..., 1].min(axis=1) <= tri[:, 1].max()
    )
    for normal in np.column_stack((-ab[:, 1], ab[:, 0])):
        p_tri, p_die = tri @ normal, corners @ normal
        overlap &= (p_tri.min() <= p_die.max(axis=1)) & (p_die.min(axis=1) <= p_tri.max())
    return ~overlap & (distance >= wafer.edge_exclusion)


def _grid(wafer: Wafer, offset: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(full, partial) die centres of the grid through ``offset``."""
    (sx, sy), r = wafer.die_step, wafer.diameter / 2
    hw, hh = wafer.die_size[0] / 2, wafer.die_size[1] / 2
    nx, ny = math.ceil(r / sx) + 1, math.ceil(r / sy) + 1
    ix, iy = np.meshgrid(np.arange(-nx, nx + 1), np.arange(-ny, ny + 1))
    centers = np.column_stack(((ix * sx + offset[0]).ravel(), (iy * sy + offset[1]).ravel()))
    corners = centers[:, None, :] + np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    full = _inside_usable(wafer, corners).all(axis=1) & _clear_of_notch(wafer, centers, hw, hh)
    # a die touches the wafer when its nearest point to the centre is on the wafer
    nearest = np.clip(0.0, centers - (hw, hh), centers + (hw, hh))
    touches = np.hypot(nearest[:, 0], nearest[:, 1]) < r
    return centers[full], centers[touches & ~full]


def place_dies(wafer: Wafer) -> DieGrid:
    """The die grid. ``grid_offset: auto`` takes, per axis, die-centred or street-centred
    placement, whichever gives the most full dies (ties go to die-centred)."""
    step = wafer.die_step
    if wafer.grid_offset == "auto":
        options = list(itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2)))
        counts = [len(_grid(wafer, o)[0]) for o in options]
        offset = options[int(np.argmax(counts))]
    else:
        offset = (float(wafer.grid_offset[0]), float(wafer.grid_offset[1]))
    full, partial = _grid(wafer, offset)
    return DieGrid(full, partial, offset, step, wafer.die_size)


def _disc(radius: float, vertices: int = MAX_CIRCLE_VERTICES) -> np.ndarray:
    angles = -np.pi / 2 + np.arange(vertices) * 2 * np.pi / vertices  # a vertex at -y
    return np.round(radius * np.column_stack((np.cos(angles), np.sin(angles))) / GRID) * GRID


def _cut_below(polygon: np.ndarray, y: float, layer: int, datatype: int) -> list[gdstk.Polygon]:
    """The part of a polygon above the horizontal line at ``y``."""
    r = float(np.abs(polygon).max()) * 2
    keep = gdstk.rectangle((-r, y), (r, r))
    return gdstk.boolean(gdstk.Polygon(polygon), keep, "and", layer=layer, datatype=datatype)


def outline(wafer: Wafer, layer: int = 0, datatype: int = 0) -> list[gdstk.Polygon]:
    """The wafer outline, with its V notch (1 mm deep, 90°) or its flat at -y."""
    r = wafer.diameter / 2
    disc = _disc(r, MAX_CIRCLE_VERTICES - 8)  # room for the notch's vertices under 199
    if wafer.orientation == "flat":
        return _cut_below(disc, flat_y(wafer), layer, datatype)
    if wafer.orientation == "notch":
        notch = gdstk.Polygon(notch_triangle(wafer))
        return gdstk.boolean(gdstk.Polygon(disc), notch, "not", layer=layer, datatype=datatype)
    return [gdstk.Polygon(disc, layer=layer, datatype=datatype)]


def usable_area(wafer: Wafer, layer: int = 0, datatype: int = 0) -> list[gdstk.Polygon]:
    """The usable area as drawn: the wafer less its edge exclusion, holding the exact area (the
    polygon's edges lie outside the circle, the notch keep-out inside the exact one)."""
    # room under 199 points for the notch keep-out's arc (16 points at 64 per circle)
    vertices = MAX_CIRCLE_VERTICES - 16 if wafer.orientation == "notch" else MAX_CIRCLE_VERTICES
    radius = usable_radius(wafer) / math.cos(math.pi / vertices) + DRAWN_MARGIN
    disc = _disc(radius, vertices)
    if wafer.orientation == "flat":
        return _cut_below(disc, flat_y(wafer) + wafer.edge_exclusion, layer, datatype)
    if wafer.orientation == "notch" and wafer.edge_exclusion > 0:
        # arc points on the exact offset, chords inside it: the keep-out drawn inside the exact
        keep_out = gdstk.offset(
            gdstk.Polygon(notch_triangle(wafer)),
            wafer.edge_exclusion - DRAWN_MARGIN,
            join="round",
            tolerance=NOTCH_ARC_POINTS,
        )
        return gdstk.boolean(gdstk.Polygon(disc), keep_out, "not", layer=layer, datatype=datatype)
    return [gdstk.Polygon(disc, layer=layer, datatype=datatype)]
