"""The wafer: outline with notch or flat, usable area, and the grid of full dies.

Wafer coordinates are from the wafer centre, the notch or flat at -y. A die is *full* when all
four corners of its outline (die step less scribe) lie inside the usable area: the wafer less
its edge exclusion (and, on a flatted wafer, above the flat less the exclusion).
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


def _inscribed(radius: float, vertices: int = MAX_CIRCLE_VERTICES) -> float:
    """Radius of the circle inside the polygon drawn for a circle: full dies must lie inside
    the polygon on the EXCLUSION layer too, not only inside the ideal circle."""
    return radius * math.cos(math.pi / vertices)


def _inside_usable(wafer: Wafer, points: np.ndarray) -> np.ndarray:
    """Mask of points (… × 2) inside the usable area."""
    inside = np.hypot(points[..., 0], points[..., 1]) <= _inscribed(usable_radius(wafer))
    if wafer.orientation == "flat":
        inside &= points[..., 1] >= flat_y(wafer) + wafer.edge_exclusion
    return inside


def _grid(wafer: Wafer, offset: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(full, partial) die centres of the grid through ``offset``."""
    (sx, sy), r = wafer.die_step, wafer.diameter / 2
    hw, hh = wafer.die_size[0] / 2, wafer.die_size[1] / 2
    nx, ny = math.ceil(r / sx) + 1, math.ceil(r / sy) + 1
    ix, iy = np.meshgrid(np.arange(-nx, nx + 1), np.arange(-ny, ny + 1))
    centers = np.column_stack(((ix * sx + offset[0]).ravel(), (iy * sy + offset[1]).ravel()))
    corners = centers[:, None, :] + np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    full = _inside_usable(wafer, corners).all(axis=1)
    # a die touches the wafer when its nearest point to the centre is on the wafer
    nearest = np.clip(0.0, centers - (hw, hh), centers + (hw, hh))
    touches = np.hypot(nearest[:, 0], nearest[:, 1]) < r
    return centers[full], centers[touches & ~full]


def place_dies(wafer: Wafer) -> DieGrid:
    """The die grid. ``grid_offset: auto`` takes, per axis, die-centred or street-centred
    placement, whichever gives the most full dies (ties go to die-centred)."""
    step = tuple(wafer.die_step)
    if wafer.grid_offset == "auto":
        options = list(itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2)))
        counts = [len(_grid(wafer, o)[0]) for o in options]
        offset = options[int(np.argmax(counts))]
    else:
        offset = tuple(wafer.grid_offset)
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
        apex, half = -r + NOTCH_DEPTH, 2 * NOTCH_DEPTH
        notch = gdstk.Polygon([(0, apex), (-half, apex - half), (half, apex - half)])
        return gdstk.boolean(gdstk.Polygon(disc), notch, "not", layer=layer, datatype=datatype)
    return [gdstk.Polygon(disc, layer=layer, datatype=datatype)]


def usable_area(wafer: Wafer, layer: int = 0, datatype: int = 0) -> list[gdstk.Polygon]:
    """The usable area: the wafer less its edge exclusion."""
    disc = _disc(usable_radius(wafer))
    if wafer.orientation == "flat":
        return _cut_below(disc, flat_y(wafer) + wafer.edge_exclusion, layer, datatype)
    return [gdstk.Polygon(disc, layer=layer, datatype=datatype)]
