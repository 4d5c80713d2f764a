"""Pad and opening shapes as polygons on the 1 nm grid: circle, octagon, square.

``diameter`` is the circle's diameter, the octagon's flat-to-flat width, the square's side.
Circles are regular polygons with their vertices on the circle, as many as ``tolerance`` (the
largest distance between chord and arc) asks for, a multiple of 8 and never more than
:data:`MAX_CIRCLE_VERTICES`, so every written polygon stays whole in GDSII.
"""

from __future__ import annotations

import math
from typing import Literal

import gdstk
import numpy as np

ShapeName = Literal["circle", "octagon", "square"]
GRID = 0.001  # µm: the 1 nm database unit
MAX_CIRCLE_VERTICES = 192  # a multiple of 8 below gdstk's 199-point split
TOLERANCE = 0.01  # µm


def circle_vertex_count(radius: float, tolerance: float = TOLERANCE) -> int:
    """Vertices of a circle of ``radius`` whose chords stay within ``tolerance`` of the arc."""
    if radius <= tolerance:
        return 8
    needed = math.pi / math.acos(1 - tolerance / radius)
    return int(min(MAX_CIRCLE_VERTICES, max(8, 8 * math.ceil(needed / 8))))


def shape_points(
    shape: ShapeName,
    diameter: float,
    center: tuple[float, float] = (0.0, 0.0),
    tolerance: float = TOLERANCE,
) -> np.ndarray:
    """Vertices (n × 2, counter-clockwise, on the grid) of a shape centred at ``center``."""
    r = diameter / 2
    if shape == "square":
        pts = np.array([(-r, -r), (r, -r), (r, r), (-r, r)])
    elif shape == "octagon":
        angles = np.pi / 8 + np.arange(8) * np.pi / 4
        pts = r / math.cos(math.pi / 8) * np.column_stack((np.cos(angles), np.sin(angles)))
    elif shape == "circle":
        n = circle_vertex_count(r, tolerance)
        angles = np.arange(n) * 2 * np.pi / n
        pts = r * np.column_stack((np.cos(angles), np.sin(angles)))
    else:
        raise ValueError(f"unknown shape '{shape}' (known: circle, octagon, square)")
    return np.round((pts + np.asarray(center, dtype=float)) / GRID) * GRID


def shape(
    shape: ShapeName,
    diameter: float,
    center: tuple[float, float] = (0.0, 0.0),
    layer: int = 0,
    datatype: int = 0,
    tolerance: float = TOLERANCE,
) -> gdstk.Polygon:
    """A shape as a gdstk polygon on ``layer``/``datatype``."""
    return gdstk.Polygon(
        shape_points(shape, diameter, center, tolerance), layer=layer, datatype=datatype
    )


def shape_area(shape: ShapeName, diameter: float, tolerance: float = TOLERANCE) -> float:
    """Area (µm²) of the polygon :func:`shape` writes, not of the nominal circle."""
    return _polygon_area(shape_points(shape, diameter, tolerance=tolerance))


def shape_perimeter(shape: ShapeName, diameter: float, tolerance: float = TOLERANCE) -> float:
    """Perimeter (µm) of the polygon :func:`shape` writes."""
    pts = shape_points(shape, diameter, tolerance=tolerance)
    return float(np.hypot(*(np.roll(pts, -1, axis=0) - pts).T).sum())


def contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    """True when every vertex of convex polygon ``inner`` lies inside convex polygon ``outer``."""
    return gdstk.Polygon(outer).contain_all(*inner)


def _polygon_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
