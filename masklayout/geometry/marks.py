"""Mask deliverables on the wafer: alignment marks and mask labels.

Every mask layer the die draws (process order PI1 RDL PI2 UBM SM1 SM2 SM3) carries a cross at
two wafer sites, left and right of the centre, where no full die sits: in the free ring between
the outermost full dies of the sites' row and the usable edge (``tech.mask_set.marks``). Each
layer aligns to the one before it in process order, and its cross lies inside that layer's
cross by ``clearance`` all round, so consecutive layers nest like a cross in a window. When
the ring is too narrow, the sites move just past the full dies, into the edge exclusion, and
:class:`MarkSites` says so.

Each mask also gets a label (product, layer, revision) as GDS text on TEXT and as polygon text
on the mask's own layer, since mask shops print polygons, in the edge-exclusion ring at the top
of the wafer, one slot per mask along the ring (outside the wafer when the ring is too narrow).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import gdstk
import numpy as np

from masklayout.geometry import wafer as wafer_geometry
from masklayout.geometry.shapes import GRID, MAX_CIRCLE_VERTICES
from masklayout.spec import Design, Wafer
from masklayout.tech import AlignmentMarks, MaskLabels

PROCESS_ORDER = ("PI1", "RDL", "PI2", "UBM", "SM1", "SM2", "SM3")
REVISION = re.compile(r"[A-Za-z0-9._-]{1,16}")
REVISION_HELP = "a revision is 1 to 16 of A-Z a-z 0-9 . _ -"
Tag = tuple[int, int]


@dataclass(frozen=True)
class MarkSites:
    """Centres of the two alignment-mark sites; ``inside_usable`` is False when the usable area
    had no room free of full dies and the marks sit past the dies, in the edge exclusion."""

    left: tuple[float, float]
    right: tuple[float, float]
    inside_usable: bool

    @property
    def points(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Cross:
    """One layer's alignment cross: end-to-end ``length``, arm ``width``, and the layer whose
    cross it lies inside (None for the first layer)."""

    layer: str
    aligns_to: str | None
    length: float
    width: float


@dataclass(frozen=True)
class MaskLabel:
    """One mask's label: its text, as polygons on the mask layer and as a GDS text."""

    text: str
    polygons: tuple[gdstk.Polygon, ...]
    label: gdstk.Label
    on_wafer: bool


def _snap(value: float) -> float:
    return round(value / GRID) * GRID


def mask_layers(design: Design, die: gdstk.Cell) -> tuple[str, ...]:
    """The mask layers ``die`` draws (its whole hierarchy), in process order."""
    cells = [die, *die.dependencies(True)]  # each cell once, not each placement
    drawn = {(p.layer, p.datatype) for cell in cells for p in cell.polygons}
    return tuple(name for name in PROCESS_ORDER if design.tech.layer(name) in drawn)


def cross_chain(layers: Sequence[str], marks: AlignmentMarks) -> tuple[Cross, ...]:
    """The crosses of ``layers`` (process order): each one ``clearance`` inside the previous."""
    shrink = 2 * marks.clearance
    return tuple(
        Cross(
            layer,
            layers[k - 1] if k else None,
            marks.length - k * shrink,
            marks.width - k * shrink,
        )
        for k, layer in enumerate(layers)
    )


def cross(
    length: float, width: float, center: tuple[float, float], layer: int = 0, datatype: int = 0
) -> gdstk.Polygon:
    """A plus-shaped cross, one polygon of 12 vertices on the grid."""
    a, b = length / 2, width / 2
    outline = [(a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b)]
    outline += [(-x, -y) for x, y in outline]
    points = np.round((np.array(outline) + np.asarray(center)) / GRID) * GRID
    return gdstk.Polygon(points, layer=layer, datatype=datatype)


def mark_sites(wafer: Wafer, dies: wafer_geometry.DieGrid, marks: AlignmentMarks) -> MarkSites:
    """Where the marks go: on the row at ``marks.y``, left and right, in the middle of the free
    stretch between the outermost full die (plus ``die_clearance``) and the usable edge."""
    half = marks.length / 2
    reach = half + marks.die_clearance
    hw, hh = dies.die_size[0] / 2, dies.die_size[1] / 2
    row = dies.centers[np.abs(dies.centers[:, 1] - marks.y) < hh + reach]
    inner_right = max(float(np.max(row[:, 0] + hw, initial=-math.inf)) + reach, half)
    inner_left = min(float(np.min(row[:, 0] - hw, initial=math.inf)) - reach, -half)
    usable_in = wafer_geometry.usable_radius(wafer) * math.cos(math.pi / MAX_CIRCLE_VERTICES)
    outer = math.sqrt(max(usable_in**2 - (abs(marks.y) + half) ** 2, 0.0)) - half
    usable = wafer_geometry.usable_area(wafer)

    def site(inner: float, sign: float) -> tuple[tuple[float, float], bool]:
        if abs(inner) <= outer:
            center = (_snap((inner + sign * outer) / 2), _snap(marks.y))
            corners = [
                (center[0] + dx, center[1] + dy) for dx in (-half, half) for dy in (-half, half)
            ]
            if gdstk.all_inside(corners, usable):
                return center, True
        return (_snap(inner), _snap(marks.y)), False

    (left, left_in), (right, right_in) = site(inner_left, -1.0), site(inner_right, 1.0)
    return MarkSites(left, right, left_in and right_in)


def label_text(product: str, layer: str, revision: str) -> str:
    """``wlcsp_demo SM1 REV A``."""
    if not REVISION.fullmatch(revision):
        raise ValueError(f"{REVISION_HELP}, found {revision!r}")
    return f"{product} {layer} REV {revision}"


def mask_labels(
    texts: Sequence[str],
    tags: Sequence[Tag],
    wafer: Wafer,
    labels: MaskLabels,
    text_tag: Tag,
) -> tuple[MaskLabel, ...]:
    """Labels, one slot each along the top of the edge-exclusion ring, reading left to right;
    text ``k`` is drawn on ``tags[k]``. Outside the wafer when the ring cannot hold them."""
    shapes, widths, heights = [], [], []
    for text in texts:
        polygons = gdstk.text(text, labels.height, (0, 0))
        points = np.concatenate([p.points for p in polygons])
        low, high = points.min(axis=0), points.max(axis=0)
        shapes.append((polygons, (low + high) / 2))
        widths.append(high[0] - low[0])
        heights.append(high[1] - low[1])
    slot, half_h = max(widths) + labels.height, max(heights) / 2
    ring = wafer_geometry.usable_radius(wafer) + labels.margin + half_h
    placed = _placed(shapes, tags, slot, ring, text_tag, texts)
    polygons = [p for label in placed for p in label[0]]
    on_wafer = _disjoint(polygons, wafer_geometry.usable_area(wafer)) and _within(
        polygons, labels.margin, wafer_geometry.outline(wafer)
    )
    if not on_wafer:
        outside = wafer.diameter / 2 + labels.margin + half_h
        placed = _placed(shapes, tags, slot, outside, text_tag, texts)
    return tuple(
        MaskLabel(text, tuple(p), label, on_wafer)
        for text, (p, label) in zip(texts, placed, strict=True)
    )


def _distance_to_centre(points: np.ndarray) -> float:
    """Distance from (0, 0) to the nearest point of a polygon's boundary."""
    a, b = points, np.roll(points, -1, axis=0)
    ab = b - a
    t = np.clip(-(a * ab).sum(axis=1) / np.maximum((ab**2).sum(axis=1), 1e-30), 0.0, 1.0)
    return float(np.hypot(*(a + t[:, None] * ab).T).min())


# The label tests below decide most glyphs by their distance from the wafer centre and take
# the others one at a time: a boolean of all the glyphs at once is quadratic in their number.
def _disjoint(polygons: list[gdstk.Polygon], area: list[gdstk.Polygon]) -> bool:
    """No polygon overlaps ``area``."""
    reach = max(float(np.hypot(*p.points.T).max()) for p in area)
    near = [p for p in polygons if _distance_to_centre(p.points) <= reach]
    return not any(gdstk.boolean(p, area, "and") for p in near)


def _within(polygons: list[gdstk.Polygon], margin: float, outline: list[gdstk.Polygon]) -> bool:
    """Every polygon grown by ``margin`` lies inside ``outline`` (around the wafer centre)."""
    inner = min(_distance_to_centre(p.points) for p in outline)
    far = [p for p in polygons if float(np.hypot(*p.points.T).max()) + margin >= inner]
    return not any(gdstk.boolean(gdstk.offset(p, margin), outline, "not") for p in far)


def _placed(
    shapes: list[tuple[list[gdstk.Polygon], np.ndarray]],
    tags: Sequence[Tag],
    slot: float,
    radius: float,
    text_tag: Tag,
    texts: Sequence[str],
) -> list[tuple[list[gdstk.Polygon], gdstk.Label]]:
    """Texts centred on the circle of ``radius``, ``slot`` apart along it, tangent to it."""
    out = []
    step = slot / radius
    for k, ((polygons, middle), (layer, datatype)) in enumerate(zip(shapes, tags, strict=True)):
        turn = ((len(shapes) - 1) / 2 - k) * step  # k = 0 leftmost
        cos, sin = math.cos(turn), math.sin(turn)
        moved = []
        for polygon in polygons:
            p = polygon.points - middle + (0.0, radius)
            p = p @ np.array([[cos, sin], [-sin, cos]])
            moved.append(gdstk.Polygon(np.round(p / GRID) * GRID, layer=layer, datatype=datatype))
        origin = (_snap(-radius * sin), _snap(radius * cos))
        label = gdstk.Label(texts[k], origin, anchor="o", layer=text_tag[0], texttype=text_tag[1])
        out.append((moved, label))
    return out


def mask_cells(
    design: Design, dies: wafer_geometry.DieGrid, die: gdstk.Cell, revision: str
) -> list[gdstk.Cell]:
    """One cell per mask layer ``die`` draws, holding its two alignment crosses and its label,
    named ``<spec>_MASK_<layer>``, to be placed at the wafer origin."""
    spec, mask_set = design.spec, design.tech.mask_set
    layers = mask_layers(design, die)
    if not layers:
        return []
    sites = mark_sites(spec.wafer, dies, mask_set.marks)
    tags = [design.tech.layer(name) for name in layers]
    texts = [label_text(spec.name, name, revision) for name in layers]
    labels = mask_labels(texts, tags, spec.wafer, mask_set.labels, design.tech.layer("TEXT"))
    cells = []
    for mark, tag, label in zip(cross_chain(layers, mask_set.marks), tags, labels, strict=True):
        cell = gdstk.Cell(f"{spec.name}_MASK_{mark.layer}")
        cell.add(*(cross(mark.length, mark.width, at, *tag) for at in sites.points))
        cell.add(*label.polygons, label.label)
        cells.append(cell)
    return cells
