"""The rule deck on a layout, with KLayout's hierarchical (deep) regions.

Every rule of the tech deck (``rules:``, DESIGN.md §7) runs on deep regions built from the
layout's hierarchy, so a rule is checked once per cell and context, not once per bump on the
wafer. Results are put back into a copy of the hierarchy; a violation is reported in the cell it
lies in (once per die cell, say) with the number of times that cell is placed, and at the wafer
coordinates of its first placement. Edge pairs of one defect (the ~96 diameters of an undersized
circle, the facing edges of one narrow web) are merged into one violation, its worst measurement;
past 2,000 edge pairs of a rule in one cell KLayout does the merging and finds each cluster's
worst (:mod:`masklayout.checks.clusters`). A rule lists its 1,000 worst violations and counts
the rest.

Drawn circles are polygons whose flats lie inside the nominal circle by R(1 − cos(π/n)); a
measurement passes when it is within :func:`allowance` (tens of nm) of the rule value, so a
250 µm UBM passes a 250 µm width rule and an enclosure drawn at exactly the rule passes it.

Only the dies are checked: the cells holding a die outline (layer DIE) and everything below
them; the wafer outline, alignment marks and labels of the top cell are not bump geometry.

With a spec, each die cell's nets are also extracted and compared with the spec's
(:mod:`masklayout.checks.connectivity`: NET.OPEN, NET.SHORT, NET.WRONG after the deck's rules).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import klayout.db as db
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, KDTree, QhullError

from masklayout import layout as layout_module
from masklayout.checks import connectivity, webs
from masklayout.checks.clusters import box_groups, worst_pairs
from masklayout.checks.results import CheckReport, RuleResult, Violation
from masklayout.geometry.shapes import GRID, MAX_CIRCLE_VERTICES, shape_points
from masklayout.process import ball_diameters, bridging_diameters
from masklayout.source import Problem, SpecError
from masklayout.spec import Deposit, Design
from masklayout.spec import load as load_spec
from masklayout.tech import (
    MASK_LAYERS,
    BallRule,
    EnclosureRule,
    Film,
    LayerRule,
    MaskRule,
    Rule,
    SeparationRule,
    Tech,
    load_tech,
)

CURVE_SLACK = 1 - math.cos(math.pi / MAX_CIRCLE_VERTICES)
# µm: the chord-to-arc distance of a 192-gon of up to 370 µm radius, or of a curve drawn by
# another tool at 50 nm tolerance; an enclosure between two such curves may lose this much.
CURVE_TOLERANCE = 0.05
CENTRE_HALF = 1  # dbu: half side of the box standing for a shape's centre
THREADS = 0  # KLayout worker threads: starting them costs more than they save on a bump layout
MAXIMUM_CHECKS = ("aspect_ratio",)  # rules whose value is a maximum; the others are minimums
LAYOUT_SUFFIXES = (".gds", ".gds2", ".gdsii", ".oas", ".gz")
MAX_LISTED = 1000  # violations listed per rule (the worst); the others are counted
REDUCED_ABOVE = 2_000  # edge pairs of one finding in one cell clustered in KLayout, not Python

PairMeasure = Callable[[db.EdgePair, db.ICplxTrans], float]
PolygonMeasure = Callable[[db.Polygon, db.ICplxTrans], float]


@dataclass(frozen=True)
class ByDistance:
    """A pair's measurement from its distance alone (``of``: dbu -> value), worst at the
    smallest distance: many such pairs are clustered, and each cluster's worst found, in
    KLayout (:func:`masklayout.checks.clusters.worst_pairs`)."""

    of: Callable[[int], float]

    def __call__(self, pair: db.EdgePair, _trans: db.ICplxTrans) -> float:
        return self.of(pair.distance())


# markers found by a check, with what to measure each by: edge pairs or polygons
Finding = tuple[db.EdgePairs, PairMeasure] | tuple[db.Region, PolygonMeasure]


def allowance(value: float) -> float:
    """How far a measurement may fall short of a rule value and pass: the flats of a circle
    drawn ``value`` wide (``value`` × (1 − cos(π/n))), plus the chord-to-arc distance of any
    drawn curve (:data:`CURVE_TOLERANCE`) and two grid steps of vertex rounding."""
    return abs(value) * CURVE_SLACK + CURVE_TOLERANCE + 2 * GRID


@dataclass(frozen=True)
class MaskUse:
    """A solder mask as the spec makes it: film, thickness, and whether solder goes into it."""

    film: Film | None
    thickness: float | None
    deposited: bool


# --------------------------------------------------------------------------- entry points
def check_design(design: Design) -> CheckReport:
    """Build the design's wafer layout and run the whole deck on it, ball rules included."""
    built = layout_module.build(design)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layout.gds"
        layout_module.write(built, path)
        kl = db.Layout()
        kl.read(str(path))
    return check_layout(kl, design.tech, design, source=design.source.file)


def check_gds(
    path: str | Path, tech: Tech, design: Design | None = None, top: str | None = None
) -> CheckReport:
    """Check a GDS/OASIS file, its layers read by ``tech``'s layer map (the design's tech when a
    design is given, which also brings the mask films and thicknesses and the ball rules)."""
    kl = db.Layout()
    try:
        kl.read(str(path))
    except RuntimeError as exc:
        raise _input_error(str(path), f"cannot read the layout: {exc}") from None
    if design is not None:
        _refuse_other_die(kl, design, str(path))
    return check_layout(kl, design.tech if design else tech, design, str(path), top)


def _refuse_other_die(kl: db.Layout, design: Design, source: str) -> None:
    """A layout checked with a spec is the spec's: built from a spec of its name, its die cell
    outlined at the spec's die size. A spec edited since the build (or another die's) would
    otherwise check clean, its nets and balls taken for the layout's."""
    built_from = layout_module.recorded(kl).get("spec")
    if built_from is not None and built_from != design.spec.name:
        raise _input_error(
            source,
            f"the layout was built from spec '{built_from}', not '{design.spec.name}': "
            "give --spec the spec it was built from",
        )
    cell = kl.cell(f"{design.spec.name}_DIE")
    index = kl.find_layer(*design.tech.layer("DIE"))
    if cell is None or index is None or cell.shapes(index).is_empty():
        return  # not a masklayout die: the stack cells and nets say what they can
    box = cell.bbox_per_layer(index)
    found = (box.width() * kl.dbu, box.height() * kl.dbu)
    wanted = design.die_size
    if any(abs(f - w) > kl.dbu for f, w in zip(found, wanted, strict=True)):
        raise _input_error(
            source,
            f"the layout's die is {found[0]:g} x {found[1]:g} µm, the spec's "
            f"{wanted[0]:g} x {wanted[1]:g} (die_step less scribe): the spec changed since "
            "the build? build it again, or give --spec the spec it was built from",
        )


def is_layout_file(path: str | Path) -> bool:
    """A GDSII or OASIS file, by its name (anything else is read as a spec)."""
    return Path(str(path)).suffix.lower() in LAYOUT_SUFFIXES


def check_file(
    path: str | Path,
    tech: str | None = None,
    spec: str | Path | None = None,
    top: str | None = None,
) -> CheckReport:
    """``masklayout check``: a spec (built and checked whole), or a GDS/OASIS layout read by
    ``tech``'s layer map (default: the tech the layout records), with ``spec`` for the films,
    thicknesses and balls."""
    if not is_layout_file(path):
        if tech is not None or spec is not None:
            raise _input_error(
                str(path), "--tech and --spec go with a GDS; a spec names its own tech"
            )
        return check_design(load_spec(path))
    if not Path(path).is_file():
        raise _input_error(str(path), "no such file")
    design = load_spec(spec) if spec is not None else None
    if design is not None and tech is not None and tech != design.spec.tech:
        raise _input_error(str(spec), f"the spec's tech is {design.spec.tech}, not {tech}")
    return check_gds(path, _layout_tech(path, tech, design), design, top)


def _layout_tech(path: str | Path, tech: str | None, design: Design | None) -> Tech:
    """The tech to read a layout with: the one it records (``build`` writes it), or the given
    one (``--tech``, the spec's), which must agree with the record. A layout that records none
    needs ``--tech`` or ``--spec``: the deck is not guessed."""
    kl = db.Layout()
    try:
        kl.read(str(path))
    except RuntimeError as exc:
        raise _input_error(str(path), f"cannot read the layout: {exc}") from None
    built_with = layout_module.recorded(kl).get("tech")
    chosen = design.tech if design is not None else load_tech(tech) if tech is not None else None
    if chosen is None:
        if built_with is None:
            raise _input_error(
                str(path),
                "the layout records no tech (not built by masklayout build?): give --tech NAME "
                "or --spec SPEC to say which rule deck reads it",
            )
        try:
            return load_tech(built_with)
        except FileNotFoundError:
            raise _input_error(
                str(path),
                f"the layout was built with tech '{built_with}', which is not built in: give "
                "--tech PATH (its tech file) or --spec SPEC",
            ) from None
    if built_with is not None and built_with != chosen.name:
        given = "the spec's tech" if design is not None else "--tech"
        raise _input_error(
            str(path),
            f"the layout was built with tech '{built_with}', but {given} is '{chosen.name}': "
            "check it with the tech it was built with",
        )
    return chosen


def check_layout(
    kl: db.Layout,
    tech: Tech,
    design: Design | None = None,
    source: str = "<layout>",
    top: str | None = None,
) -> CheckReport:
    """Run ``tech``'s deck on a KLayout layout. With ``design``: per-film web values, aspect
    ratio and printability from the mask thicknesses, and the ball rules from the step runner."""
    top_cell = _top_cell(kl, source, top)
    deck = _Deck(kl, top_cell, tech, design, source)
    try:
        results = [r for name, rule in tech.rules.items() for r in deck.run(name, rule)]
        results += deck.connectivity()
    finally:
        deck.close()
    return CheckReport(source, top_cell.name, tech.name, tuple(results))


def _input_error(source: str, message: str) -> SpecError:
    return SpecError([Problem(source, None, None, "", message)])


def _top_cell(kl: db.Layout, source: str, name: str | None) -> db.Cell:
    if name is not None:
        cell = kl.cell(name)
        if cell is None:
            raise _input_error(source, f"no cell named '{name}'")
        return cell
    tops = kl.top_cells()
    if len(tops) != 1:
        names = ", ".join(c.name for c in tops) or "none"
        raise _input_error(source, f"the layout has {len(tops)} top cells ({names}): name one")
    return tops[0]


# --------------------------------------------------------------------------- polygon helpers
class _Centres(db.PolygonOperator):
    """Each polygon's bounding-box centre as a tiny box (the bump centre of a UBM)."""

    def __init__(self) -> None:
        self.is_isotropic_and_scale_invariant()

    def process(self, polygon: db.Polygon) -> list[db.Polygon]:
        c = polygon.bbox().center()
        h = CENTRE_HALF
        return [db.Polygon(db.Box(c.x - h, c.y - h, c.x + h, c.y + h))]


class _AreaRatioBelow(db.PolygonFilter):
    """Openings whose IPC-7525 area ratio A / (perimeter · t) is below ``minimum``."""

    def __init__(self, thickness_dbu: float, minimum: float):
        self.thickness, self.minimum = thickness_dbu, minimum
        self.is_isotropic_and_scale_invariant()

    def selected(self, polygon: db.Polygon) -> bool:
        return polygon.area() / (polygon.perimeter() * self.thickness) < self.minimum


class _NarrowerThan(db.PolygonFilter):
    """Shapes (balls) whose bounding box is narrower than ``width`` (dbu)."""

    def __init__(self, width: int):
        self.width = width
        self.is_isotropic()

    def selected(self, polygon: db.Polygon) -> bool:
        box = polygon.bbox()
        return min(box.width(), box.height()) < self.width


def _points(polygon: db.Polygon) -> np.ndarray:
    return np.array([(p.x, p.y) for p in polygon.each_point_hull()], dtype=float)


def _edges(polygon: db.Polygon) -> np.ndarray:
    """A polygon's edges, hull and holes, as rows (x1, y1, x2, y2)."""
    rings = [polygon.each_point_hull()] + [
        polygon.each_point_hole(h) for h in range(polygon.holes())
    ]
    out = []
    for ring in rings:
        points = np.array([(p.x, p.y) for p in ring], dtype=float).reshape(-1, 2)
        out.append(np.hstack((points, np.roll(points, -1, axis=0))))
    return np.vstack(out)


def min_width(points: np.ndarray) -> float:
    """Smallest extent of a convex polygon, over its edge normals (rotating calipers)."""
    edges = np.roll(points, -1, axis=0) - points
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    keep = lengths > 0
    normals = np.column_stack((-edges[keep, 1], edges[keep, 0])) / lengths[keep, None]
    projected = points @ normals.T
    return float((projected.max(axis=0) - projected.min(axis=0)).min())


def farthest_outside(points: np.ndarray, edges: np.ndarray) -> float:
    """Largest distance from ``points`` (n × 2) to their nearest of ``edges`` (m × 2 × 2)."""
    a, b = edges[:, 0], edges[:, 1]
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-12)
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    distance = np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1))
    return float(distance.min(axis=1).max())


Marker = db.EdgePair | db.Polygon


def _clusters(markers: list[Marker], within: int) -> np.ndarray:
    """A cluster number per marker, grouping markers into defects: markers whose bounding boxes,
    each grown by ``within`` (dbu, at least 1), overlap or touch are one defect (the diameters
    of one undersized circle, the sides of one tight enclosure, a shape sticking out and the
    edges beside it)."""
    grow = max(1, within)
    boxes = np.array(
        [(b.left - grow, b.bottom - grow, b.right + grow, b.top + grow) for b in (m.bbox() for m in markers)],
        dtype=np.int64,
    ).reshape(-1, 4)  # fmt: skip
    return box_groups(boxes)


def _close_groups(centres: np.ndarray, minimum: float) -> np.ndarray:
    """The groups of centres linked by distances under ``minimum``, each as its closest pair
    (index pairs i < j, one row per group of two or more). Two centres are linked through a
    chain of short links exactly when the Euclidean minimum spanning tree links them so, and
    that tree (and each centre's nearest neighbour) lies among the Delaunay edges: O(n log n),
    never every pair within ``minimum`` of a dense array."""
    n = len(centres)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    nearest = np.asarray(KDTree(centres).query(centres, k=2)[0])[:, 1]
    if not (nearest < minimum).any():  # the common clean die: no triangulation
        return np.empty((0, 2), dtype=np.int64)
    try:
        simplices = Delaunay(centres).simplices
        edges = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    except QhullError:  # all on one line (or fewer than three): neighbours along it
        order = np.lexsort((centres[:, 1], centres[:, 0]))
        edges = np.column_stack((order[:-1], order[1:]))
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length = np.hypot(*(centres[edges[:, 0]] - centres[edges[:, 1]]).T)
    short = length < minimum
    edges, length = edges[short], length[short]
    if not len(edges):
        return np.empty((0, 2), dtype=np.int64)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    group = connected_components(graph, directed=False)[1]
    order = np.lexsort((length, group[edges[:, 0]]))
    first = order[np.r_[True, group[edges[order[1:], 0]] != group[edges[order[:-1], 0]]]]
    return edges[first]


def _placement(
    layout: db.Layout,
    top: int,
    cell: db.Cell,
    cache: dict[int, tuple[int, db.ICplxTrans]],
) -> tuple[int, db.ICplxTrans]:
    """(placements of ``cell`` under the cell ``top`` of ``layout``, the transformation of its
    first one)."""
    index = cell.cell_index()
    if index not in cache:
        if index == top:
            cache[index] = (1, db.ICplxTrans())
        else:
            count, first = 0, None
            for parent in cell.each_parent_inst():
                n, trans = _placement(layout, top, layout.cell(parent.parent_cell_index()), cache)
                inst = parent.child_inst()
                count += n * inst.size()
                if first is None and n:
                    first = trans * inst.cplx_trans
            cache[index] = (count, first or db.ICplxTrans())
    return cache[index]


# --------------------------------------------------------------------------- the deck
class _Deck:
    """The layout's deep regions, a copy of its hierarchy to put results into, and one method
    per kind of rule."""

    def __init__(self, kl: db.Layout, top: db.Cell, tech: Tech, design: Design | None, source: str):
        self.layout, self.top, self.tech, self.design, self.source = kl, top, tech, design, source
        self.dbu = kl.dbu
        self.masks = _mask_uses(design)
        self.balls = _ball_diameters(design) if design is not None else None
        self.ball_layer = self._insert_balls(self.balls) if self.balls else None
        melts = _ball_diameters(design, bridging_diameters) if design is not None else None
        self.melt_layer = self._insert_balls(melts) if melts else None
        self.store = db.DeepShapeStore()
        self.store.threads = THREADS
        self.results = db.Layout()
        self.results.dbu = self.dbu
        self.results_top = self.results.create_cell(top.name)
        self._regions: dict[str, db.Region] = {}
        self._die_cells: list[int] | None = None
        self._placements: dict[int, tuple[int, db.ICplxTrans]] = {}
        self._source_placements: dict[int, tuple[int, db.ICplxTrans]] = {}
        self.scratch: list[int] = [
            layer for layer in (self.ball_layer, self.melt_layer) if layer is not None
        ]

    def close(self) -> None:
        """Take the scratch layers (balls, melts, pitch markers) out of the caller's layout."""
        for index in self.scratch:
            self.layout.delete_layer(index)

    # ------------------------------------------------------------ layers
    def layer_index(self, name: str) -> int | None:
        layer, datatype = self.tech.layer(name)
        return self.layout.find_layer(layer, datatype)

    def region(self, name: str) -> db.Region:
        """Deep region of a named layer under the top cell (empty when the layer is absent)."""
        if name not in self._regions:
            scratch = {"BALL": self.ball_layer, "BALL_MELT": self.melt_layer}
            index = scratch[name] if name in scratch else self.layer_index(name)
            if index is None:
                index = self.layout.layer()
            self._regions[name] = db.Region(self.shapes_under_dies(index), self.store)
        return self._regions[name]

    def shapes_under_dies(self, index: int) -> db.RecursiveShapeIterator:
        """Shapes of a layer in the die cells (those with a die outline) and below: the bumps'
        geometry, not the wafer-level outline, marks and labels. Everything when no cell has a
        die outline (a layout from elsewhere)."""
        shapes = self.top.begin_shapes_rec(index)
        if self._die_cells is None:
            below = {i for c in self.outlined_cells() for i in c.called_cells()}
            self._die_cells = sorted({c.cell_index() for c in self.outlined_cells()} | below)
        if self._die_cells:
            shapes.unselect_all_cells()
            shapes.select_cells(self._die_cells)
        return shapes

    def outlined_cells(self) -> list[db.Cell]:
        """The cells holding a die outline (layer DIE)."""
        die = self.layer_index("DIE")
        if die is None:
            return []
        return [c for c in self.layout.each_cell() if not c.shapes(die).is_empty()]

    def present(self, name: str) -> bool:
        return not self.region(name).is_empty()

    def dbu_of(self, um: float) -> int:
        return max(0, round(um / self.dbu))

    def at_least(self, value: float) -> int:
        """A minimum rule value as the check distance (dbu), less the curve allowance."""
        return self.dbu_of(value - allowance(value))

    # ------------------------------------------------------------ results
    def _cell_placement(self, cell: db.Cell) -> tuple[int, db.ICplxTrans]:
        """(placements of a results ``cell`` under the results top, its first transformation)."""
        return _placement(self.results, self.results_top.cell_index(), cell, self._placements)

    def collect(
        self,
        findings: Iterable[Finding],
        relation: str,
        within: int,
    ) -> tuple[tuple[Violation, ...], int, int]:
        """Put the findings back into the hierarchy, read them out per cell, and make each
        cluster of markers (within ``within`` dbu) one violation at its worst measurement; the
        :data:`MAX_LISTED` worst, and how many more (once per cell, and on the wafer). Past
        :data:`REDUCED_ABOVE` pairs of a finding measured by distance in one cell, KLayout
        clusters them and hands over the worst pair of each of the :data:`MAX_LISTED` worst
        clusters (the others are counted); the rest are read and clustered here."""
        layers: list[tuple[int, Finding]] = []
        for finding in findings:
            if not finding[0].is_empty():
                layer = self.results.layer()
                finding[0].insert_into(self.results, self.results_top.cell_index(), layer)
                layers.append((layer, finding))
        worst_first = 1 if relation == ">=" else -1
        out: list[Violation] = []
        counted = counted_on_wafer = 0  # clusters KLayout found past the worst it handed over
        for cell in self.results.each_cell():
            placements, trans = self._cell_placement(cell)
            markers: list[Marker] = []
            values: list[float] = []
            for layer, finding in layers:
                shapes = cell.shapes(layer)
                if isinstance(finding[0], db.EdgePairs):
                    measure = finding[1]
                    if isinstance(measure, ByDistance) and shapes.size() > REDUCED_ABOVE:
                        pairs, more = worst_pairs(db.EdgePairs(shapes), within, MAX_LISTED)
                        counted, counted_on_wafer = counted + more, counted_on_wafer + more * placements  # fmt: skip
                    else:
                        pairs = [shape.edge_pair for shape in shapes.each()]
                    markers += pairs
                    values += [measure(pair, trans) for pair in pairs]
                else:
                    polygons = [shape.polygon for shape in shapes.each()]
                    markers += polygons
                    values += [finding[1](polygon, trans) for polygon in polygons]
            if not markers:
                continue
            cluster = _clusters(markers, within)
            order = np.lexsort((worst_first * np.array(values), cluster))
            for i in order[np.r_[True, cluster[order][1:] != cluster[order][:-1]]]:
                out.append(self._violation(cell, values[i], markers[i], placements, trans))
        listed = sorted(out, key=lambda v: worst_first * v.value)[:MAX_LISTED]
        unlisted = sorted(out, key=lambda v: worst_first * v.value)[MAX_LISTED:]
        listed.sort(key=lambda v: (v.cell, v.at[1], v.at[0]))
        on_wafer = sum(v.placements for v in unlisted) + counted_on_wafer
        return tuple(listed), len(unlisted) + counted, on_wafer

    def _violation(
        self,
        cell: db.Cell,
        value: float,
        marker: db.EdgePair | db.Polygon,
        placements: int,
        trans: db.ICplxTrans,
        note: str = "",
    ) -> Violation:
        um = self.dbu
        ends: tuple[db.Point, ...]
        kind: Literal["edge_pair", "polygon"]
        if isinstance(marker, db.EdgePair):
            ends = (marker.first.p1, marker.first.p2, marker.second.p1, marker.second.p2)
            kind = "edge_pair"
        else:
            ends = tuple(marker.each_point_hull())
            kind = "polygon"
        centre = marker.bbox().center()
        wafer = trans * centre
        return Violation(
            cell.name,
            round(value, 4),
            kind,
            tuple((round(p.x * um, 4), round(p.y * um, 4)) for p in ends),
            (round(centre.x * um, 4), round(centre.y * um, 4)),
            (round(wafer.x * um, 4), round(wafer.y * um, 4)),
            placements,
            trans.to_itrans(um).to_s(),
            note,
        )

    # ------------------------------------------------------------ measures
    def distance(self, offset_dbu: int = 0) -> ByDistance:
        return ByDistance(lambda d: (d + offset_dbu) * self.dbu)

    def overlap(self, minimum: float = 0.0) -> PolygonMeasure:
        """Two shapes that should stand ``minimum`` apart overlap (or their keep-outs do):
        the space left, negative for an overlap, from the depth of the overlapping piece."""
        return lambda polygon, _: minimum - min_width(_points(polygon)) * self.dbu

    def protrusion(self, outer: str) -> PolygonMeasure:
        """How far a piece of an inner shape sticks out of the ``outer`` layer (negative)."""
        index = self.layer_index(outer)

        def measure(polygon: db.Polygon, trans: db.ICplxTrans) -> float:
            piece = polygon.transformed(trans)
            if index is None:
                return -min_width(_points(piece)) * self.dbu
            box = piece.bbox().enlarged(self.dbu_of(1000.0))
            near = db.Region(self.top.begin_shapes_rec_touching(index, box)).merged()
            edges = [
                ((e.p1.x, e.p1.y), (e.p2.x, e.p2.y)) for p in near.each() for e in p.each_edge()
            ]
            if not edges:
                return -min_width(_points(piece)) * self.dbu
            return -farthest_outside(_points(piece), np.array(edges, dtype=float)) * self.dbu

        return measure

    # ------------------------------------------------------------ rules
    def run(self, name: str, rule: Rule) -> list[RuleResult]:
        handler = getattr(self, f"rule_{rule.check}")
        return handler(name, rule)

    def _result(
        self,
        name: str,
        rule: Rule,
        limit: float,
        what: str,
        findings: Iterable[Finding] = (),
        relation: str = ">=",
        unit: str = "um",
        skipped: str | None = None,
        rule_name: str | None = None,
        merge: float | None = None,
    ) -> RuleResult:
        """A rule's result; markers closer than ``merge`` µm (default: the limit, for a length
        rule) are one violation."""
        within = self.dbu_of(merge if merge is not None else limit if unit == "um" else 0.0)
        violations, unlisted, unlisted_on_wafer = (
            ((), 0, 0) if skipped is not None else self.collect(findings, relation, within)
        )
        return RuleResult(
            name,
            rule_name or name,
            rule.check,
            limit,
            relation,  # type: ignore[arg-type]
            unit,
            what,
            rule.severity,
            violations,
            skipped,
            unlisted,
            unlisted_on_wafer,
        )

    def _missing(self, *layers: str) -> str | None:
        absent = [n for n in layers if not self.present(n)]
        return f"no shapes on {', '.join(absent)}" if absent else None

    def _scalar(self, rule: Rule) -> float:
        """A rule value given per film, where no film is known: the stricter value."""
        if not isinstance(rule.value, dict):
            return rule.value
        stricter = min if rule.check in MAXIMUM_CHECKS else max
        return stricter(rule.value.values())

    def rule_width(self, name: str, rule: LayerRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} width"
        if skipped := self._missing(rule.layer):
            return [self._result(name, rule, value, what, skipped=skipped)]
        pairs = self.region(rule.layer).width_check(
            self.at_least(value), metrics=db.Metrics.Projection
        )
        return [self._result(name, rule, value, what, [(pairs, self.distance())])]

    def rule_space(self, name: str, rule: LayerRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} space"
        if skipped := self._missing(rule.layer):
            return [self._result(name, rule, value, what, skipped=skipped)]
        pairs = self.region(rule.layer).space_check(self.at_least(value))
        return [self._result(name, rule, value, what, [(pairs, self.distance())])]

    def rule_enclosure(self, name: str, rule: EnclosureRule) -> list[RuleResult]:
        value = self._scalar(rule)
        scope = " where they touch" if rule.scope == "interacting" else ""
        what = f"{rule.outer} encloses {rule.inner}{scope}"
        outer, inner = self.region(rule.outer), self.region(rule.inner)
        skipped = self._missing(rule.inner)
        if skipped is None and rule.scope == "interacting":
            skipped = self._missing(rule.outer)
            inner = inner.interacting(outer)
        if skipped:
            return [self._result(name, rule, value, what, skipped=skipped)]
        pairs = outer.enclosing_check(inner, self.at_least(value))
        outside = inner - outer
        findings: list[Finding] = [(pairs, self.distance()), (outside, self.protrusion(rule.outer))]
        return [self._result(name, rule, value, what, findings)]

    def rule_separation(self, name: str, rule: SeparationRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} to {rule.other}"
        if skipped := self._missing(rule.layer, rule.other):
            return [self._result(name, rule, value, what, skipped=skipped)]
        a, b = self.region(rule.layer), self.region(rule.other)
        pairs = a.separation_check(b, self.at_least(value))
        findings: list[Finding] = [(pairs, self.distance()), (a & b, self.overlap())]
        return [self._result(name, rule, value, what, findings)]

    def rule_center_to_edge(self, name: str, rule: LayerRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} centre to die edge (DIE)"
        if skipped := self._missing(rule.layer, "DIE"):
            return [self._result(name, rule, value, what, skipped=skipped)]
        centres = self.region(rule.layer).processed(_Centres())
        die = self.region("DIE")
        pairs = centres.enclosed_check(die, self.at_least(value) - CENTRE_HALF)
        outside = centres.not_inside(die)
        findings: list[Finding] = [(pairs, self.distance(CENTRE_HALF)), (outside, lambda *_: 0.0)]
        return [self._result(name, rule, value, what, findings, merge=0.0)]

    def rule_edge_clearance(self, name: str, rule: LayerRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} to die edge (DIE)"
        if skipped := self._missing(rule.layer, "DIE"):
            return [self._result(name, rule, value, what, skipped=skipped)]
        die, shapes = self.region("DIE"), self.region(rule.layer)
        # only shapes reaching into the edge band can break it: the rest lie inside the die
        # shrunk by the value (and a margin for the sizing's corner approximation)
        reach = self.at_least(value)
        core = die.sized(-(reach + reach // 8 + int(round(1 / self.dbu))))
        near = shapes.not_inside(core)
        pairs = die.enclosing_check(near, reach)
        findings: list[Finding] = [(pairs, self.distance()), (near - die, self.protrusion("DIE"))]
        return [self._result(name, rule, value, what, findings)]

    def rule_pitch(self, name: str, rule: LayerRule) -> list[RuleResult]:
        value = self._scalar(rule)
        what = f"{rule.layer} centre to centre"
        if skipped := self._missing(rule.layer):
            return [self._result(name, rule, value, what, skipped=skipped)]
        pairs = self.too_close(rule.layer, self.at_least(value))
        apart: PairMeasure = lambda pair, _: pair.first.p1.distance(pair.second.p1) * self.dbu  # noqa: E731
        return [self._result(name, rule, value, what, [(pairs, apart)], merge=0.0)]

    def too_close(self, layer: str, minimum: int) -> db.EdgePairs:
        """The groups of shapes of ``layer`` whose centres are linked by distances under
        ``minimum`` (dbu), per die cell: an edge pair between the closest two centres of each
        group (:func:`_close_groups`). Not a space check: on a dense array KLayout measures
        every pair of shapes within the pitch against the shapes between them (147 s for 400
        bumps at 48 µm pitch against a 400 µm rule)."""

        def closest_centres(merged: db.Region) -> Iterator[db.EdgePair]:
            boxes = [p.bbox() for p in merged.each()]
            centres = np.array([(b.center().x, b.center().y) for b in boxes], dtype=np.int64)
            h = CENTRE_HALF
            for i, j in _close_groups(centres.reshape(-1, 2), minimum):
                (ax, ay), (bx, by) = centres[i].tolist(), centres[j].tolist()
                yield db.EdgePair(db.Edge(ax, ay, ax, ay + h), db.Edge(bx, by, bx, by - h))

        return self._per_die(self.layer_index(layer), closest_centres)

    def too_narrow(self, index: int | None, minimum: int) -> db.EdgePairs:
        """The groups of shapes of layer ``index`` linked by distances under ``minimum`` (dbu),
        per die cell: an edge pair of the closest edges of each group's closest two shapes
        (:mod:`masklayout.checks.webs`). Not a space check: that reports every edge of a circle
        against every edge of its neighbour within the value (~300,000 edge pairs on a
        100-bump die at 48 µm pitch against a 50 µm web)."""

        def closest_edges(merged: db.Region) -> Iterator[db.EdgePair]:
            shapes = [_edges(p) for p in merged.each()]
            found = webs.narrow_webs(shapes, minimum)
            for *_, first, second in webs.narrowest_per_group(found, len(shapes)):
                yield db.EdgePair(*(db.Edge(*(int(v) for v in e)) for e in (first, second)))

        return self._per_die(index, closest_edges)

    def _per_die(
        self, index: int | None, pairs_of: Callable[[db.Region], Iterable[db.EdgePair]]
    ) -> db.EdgePairs:
        """The edge pairs ``pairs_of`` finds among the merged shapes of layer ``index`` in each
        die cell (the top cell when no cell has a die outline), put into that cell on a scratch
        layer and returned as placed under the dies."""
        scratch = self.layout.layer()
        self.scratch.append(scratch)
        if index is not None:
            for cell in self.outlined_cells() or [self.top]:
                merged = db.Region(self.layout.begin_shapes(cell, index)).merged()
                for pair in pairs_of(merged):
                    cell.shapes(scratch).insert(pair)
        return db.EdgePairs(self.shapes_under_dies(scratch), self.store)

    def _webs(self, layer: str, minimum: float) -> list[Finding]:
        """Resist narrower than ``minimum`` between distinct shapes (one marker per group of
        shapes linked by narrow webs: its narrowest web's closest edges), within one shape (a
        notch), and where shapes overlap (their common area, by its depth)."""
        region, at_least = self.region(layer), self.at_least(minimum)
        return [
            (self.too_narrow(self.layer_index(layer), at_least), self.distance()),
            (region.notch_check(at_least), self.distance()),
            (region.merged(False, 2), self.overlap()),
        ]

    def _mask_layers(self, rule: MaskRule) -> list[str]:
        """The rule's solder masks that this layout has (the spec's masks, given a spec)."""
        layers = rule.layers or list(MASK_LAYERS)
        if self.masks is not None:
            return [m for m in layers if m in self.masks]
        return [m for m in layers if self.present(m)]

    def _film_value(self, rule: Rule, mask: str) -> tuple[float, str]:
        use = self.masks.get(mask) if self.masks is not None else None
        if use is None or use.film is None or not isinstance(rule.value, dict):
            film = "" if not isinstance(rule.value, dict) else ", no spec: the stricter film"
            return self._scalar(rule), film
        return rule.for_film(use.film), f", {use.film.replace('_', ' ')}"

    def _per_mask(
        self,
        name: str,
        rule: MaskRule,
        what: Callable[[str, float | None], str],
        findings: Callable[[str, float, float], list[Finding]],
        relation: str = ">=",
        unit: str = "um",
        needs_thickness: bool = False,
        deposited_only: bool = False,
    ) -> list[RuleResult]:
        """One result per solder mask (``SM.WEB:SM1``), at the value for the mask's film."""
        out = []
        for mask in self._mask_layers(rule):
            use = self.masks.get(mask) if self.masks is not None else None
            thickness = use.thickness if use is not None else None
            if deposited_only and use is not None and not use.deposited:
                continue
            value, film = self._film_value(rule, mask)
            skipped = (
                "needs --spec (the mask thickness)"
                if needs_thickness and thickness is None
                else self._missing(mask)
            )
            found = [] if skipped else findings(mask, value, thickness or 0.0)
            out.append(
                self._result(
                    f"{name}:{mask}",
                    rule,
                    value,
                    what(mask, thickness) + film,
                    found,
                    relation,
                    unit,
                    skipped,
                    rule_name=name,
                )  # fmt: skip
            )
        return out

    def rule_web(self, name: str, rule: MaskRule) -> list[RuleResult]:
        return self._per_mask(
            name,
            rule,
            lambda mask, _: f"{mask} resist between openings",
            lambda mask, value, _: self._webs(mask, value),
        )

    def rule_aspect_ratio(self, name: str, rule: MaskRule) -> list[RuleResult]:
        def findings(mask: str, value: float, thickness: float) -> list[Finding]:
            narrowest = self.at_least(thickness / value)
            pairs = self.region(mask).width_check(narrowest, metrics=db.Metrics.Projection)
            return [(pairs, ByDistance(lambda d: thickness / (d * self.dbu)))]

        return self._per_mask(
            name,
            rule,
            _thick("thickness{} / opening width"),
            findings,
            "<=",
            "",
            needs_thickness=True,
        )

    def rule_area_ratio(self, name: str, rule: MaskRule) -> list[RuleResult]:
        def findings(mask: str, value: float, thickness: float) -> list[Finding]:
            t = thickness / self.dbu
            low = self.region(mask).filtered(_AreaRatioBelow(t, value))
            return [(low, lambda polygon, _: polygon.area() / (polygon.perimeter() * t))]

        what = _thick("opening area / (perimeter x thickness{})")
        return self._per_mask(
            name, rule, what, findings, unit="", needs_thickness=True, deposited_only=True
        )

    # ------------------------------------------------------------ nets
    def connectivity(self) -> list[RuleResult]:
        """NET.OPEN, NET.SHORT, NET.WRONG: the nets extracted from each die cell against the
        spec's nets (skipped without a spec); a violation per defect, in the die cell."""
        skipped = "needs --spec (the nets)" if self.design is None else None
        found: dict[str, list[Violation]] = {rule: [] for rule in connectivity.RULES}
        if self.design is not None:
            layers = {name: self.layer_index(name) for name in connectivity.LAYERS}
            under_top = set(self.top.called_cells()) | {self.top.cell_index()}
            dies = [c for c in self.outlined_cells() if c.cell_index() in under_top]
            for cell in dies or [self.top]:
                placements, trans = _placement(
                    self.layout, self.top.cell_index(), cell, self._source_placements
                )
                for f in connectivity.find(self.layout, cell, layers, self.design):
                    found[f.rule].append(
                        self._violation(cell, f.value, f.marker, placements, trans, f.note)
                    )
        return [
            RuleResult(
                name=rule,
                rule=rule,
                check="connectivity",
                limit=connectivity.LIMITS[rule],
                relation="<=",
                unit="",
                what=what,
                severity="error",
                violations=tuple(sorted(found[rule], key=lambda v: (v.cell, v.at[1], v.at[0]))),
                skipped=skipped,
            )
            for rule, what in connectivity.RULES.items()
        ]

    # ------------------------------------------------------------ balls
    def _ball_skip(self) -> str | None:
        if self.design is None:
            return "needs --spec (the balls come from the step runner)"
        if not self.balls:
            return "no process flow in the spec"
        return None

    def _ball_value(self, name: str, rule: Rule) -> float:
        """A ball rule's value: per film, for the films of the spec's masks."""
        return self.design.rule_value(name, 0.0) if self.design else self._scalar(rule)

    def rule_ball_width(self, name: str, rule: BallRule) -> list[RuleResult]:
        value = self._ball_value(name, rule)
        what = "ball diameter (step runner)"
        if skipped := self._ball_skip():
            return [self._result(name, rule, value, what, skipped=skipped)]
        narrow = self.region("BALL").filtered(_NarrowerThan(self.at_least(value)))
        width: PolygonMeasure = lambda p, _: p.bbox().width() * self.dbu  # noqa: E731
        return [self._result(name, rule, value, what, [(narrow, width)], merge=0.0)]

    def rule_bridging(self, name: str, rule: BallRule) -> list[RuleResult]:
        value = self._ball_value(name, rule)
        what = "gap between neighbouring balls, molten at a reflow's peak or cooled (step runner)"
        if skipped := self._ball_skip():
            return [self._result(name, rule, value, what, skipped=skipped)]
        # one marker per group of balls linked by narrow gaps, as the web rule; overlapping
        # balls merge into one shape, which a gap cannot see: their common area, by its depth
        melts = self.region("BALL_MELT")
        findings: list[Finding] = [
            (self.too_narrow(self.melt_layer, self.at_least(value)), self.distance()),
            (melts.merged(False, 2), self.overlap()),
        ]
        return [self._result(name, rule, value, what, findings)]

    def _insert_balls(self, diameters: dict[str, float]) -> int:
        """A scratch layer with a circle of each stack's ``diameters`` in its stack cell."""
        assert self.design is not None
        index = self.layout.layer()
        for stack, diameter in diameters.items():
            cell = self.layout.cell(layout_module.stack_cell_name(self.design, stack))
            if cell is None:
                if any(site.stack == stack for site in self.design.sites):
                    raise _input_error(
                        self.source,
                        f"no cell '{layout_module.stack_cell_name(self.design, stack)}' for stack '{stack}' "
                        "of the spec: was this layout built from it?",
                    )
                continue
            outline = [db.DPoint(x, y) for x, y in shape_points("circle", diameter)]
            cell.shapes(index).insert(db.DPolygon(outline))
        return index


def _thick(text: str) -> Callable[[str, float | None], str]:
    """``SM1 thickness 50 µm / opening width``: a mask's description with its thickness."""
    return lambda mask, t: f"{mask} " + text.format("" if t is None else f" {t:g} µm")


def _mask_uses(design: Design | None) -> dict[str, MaskUse] | None:
    if design is None:
        return None
    filled = {step.into for step in design.spec.process if isinstance(step, Deposit)}
    return {
        name: MaskUse(mask.film, mask.thickness, name in filled or not design.spec.process)
        for name, mask in design.spec.masks.items()
    }


def _ball_diameters(
    design: Design, of: Callable[[Design], dict[str, float]] = ball_diameters
) -> dict[str, float]:
    """Each stack's ball diameter from the step runner, or what ``of`` gives (the widest body,
    molten or cooled, for bridging); empty without a process flow."""
    if not design.spec.process:
        return {}
    return of(design)
