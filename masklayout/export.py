"""Flat mask data for the mask shop (``build --split DIR --flat``): one file per mask layer
holding every die's openings, the layer's alignment marks and label, nothing else, in one
cell, mirrored, toned and magnified for the exposure tool, streamed die by die.

What a flat file draws: the plate's clear areas, what the mask writer exposes on a chrome
blank. A dark-field mask (tone ``dark``, positive films) is written as drawn, the openings;
a clear-field mask (tone ``clear``, negative films) as the field (the plate's square, or the
wafer outline without a plate) less the openings. The inversion is computed per tile of the
die grid: the tile of a die that touches nothing else is computed once and placed at every die,
tiles with a mark, a label or the field's edge one by one, each in sub-tiles of a few openings,
so no boolean ever sees the whole layer.

Memory: a die's shapes are held once, as groups (one shape, the positions it takes in the die);
each die is written as that group moved to its centre. OASIS (the default) writes a group as
one POLYGON record with a repetition, reused at the next die; GDSII expands the placements into
BOUNDARY elements, a die at a time. Neither grows with the number of dies.

A stepper reticle (exposure ``image: die``) holds one die, not the wafer: the die cell's
shapes on the layer, its centre at the plate's centre, magnified, mirrored and toned as above;
the mask's label as a TEXT record at the centre and the die's own labels (pad and bump names,
TEXT); no wafer alignment marks and no label polygons (they lie in the wafer's edge ring). The
field of a clear tone is the die step (the die and its scribe: what one shot prints).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import gdstk
import klayout.db as kdb
import numpy as np

from masklayout import files, layout
from masklayout.geometry import wafer as wafer_geometry
from masklayout.source import Loc, SpecError
from masklayout.spec import Design
from masklayout.streams import GDS_MAX_VERTICES, GdsStream, OasisStream
from masklayout.tech import Exposure, Plate, tech_problem

Format = Literal["oas", "gds"]
FORMAT_NAMES = {"oas": "OASIS", "gds": "GDSII"}
MAX_VERTICES = GDS_MAX_VERTICES  # both formats: a mask shop's fracturer takes this from either
OPENINGS_PER_SUBTILE = 16  # openings a sub-tile of an inverted tile holds, about
DATA_TONE = "clear areas of the plate (what the mask writer exposes)"


class ExposureError(ValueError):
    """An exposure that cannot be written (the image does not fit its plate)."""


@dataclass(frozen=True)
class Group:
    """One polygon ``shape`` (n × 2) placed at each of ``positions`` (m × 2); database units."""

    shape: np.ndarray
    positions: np.ndarray

    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) corners of everything the group covers."""
        return (
            self.shape.min(axis=0) + self.positions.min(axis=0),
            self.shape.max(axis=0) + self.positions.max(axis=0),
        )


@dataclass(frozen=True)
class MaskContent:
    """What one mask's flat file holds, before its exposure: picklable, for a process pool."""

    name: str
    file_stem: str
    layer: tuple[int, int]
    text_layer: tuple[int, int]
    die: tuple[Group, ...]  # one die's shapes, about its centre
    centers: np.ndarray  # die centres (d × 2)
    extras: tuple[Group, ...]  # alignment marks and label polygons, wafer coordinates
    texts: tuple[tuple[str, int, int], ...]
    die_texts: tuple[tuple[str, int, int], ...]  # the die cell's labels, about its centre
    step: tuple[int, int]  # the die grid, for the tiles of an inversion
    offset: tuple[int, int]
    wafer: np.ndarray  # the wafer outline: the field of an inversion without a plate
    dbu: float  # µm


@dataclass(frozen=True)
class Settings:
    """One mask's exposure, resolved: what is applied to its file."""

    mirror: bool
    tone: Literal["clear", "dark"]
    magnification: float
    plate: Plate | None
    image: Literal["wafer", "die"] = "wafer"

    def as_dict(self, film_polarity: str) -> dict[str, Any]:
        plate = self.plate
        return {
            "mirror": self.mirror,
            "mirror_axis": "y" if self.mirror else None,
            "tone": self.tone,
            "field": f"{self.tone}_field",
            "inverted": self.tone == "clear",
            "matches_film": f"{self.tone}_field" == film_polarity,
            "data": DATA_TONE,
            "magnification": self.magnification,
            "image": self.image,
            "plate": None
            if plate is None
            else {"size_um": plate.size, "outline": plate.outline, "frame_um": plate.frame},
        }


# --------------------------------------------------------------------------- content
def _points(polygon: gdstk.Polygon | kdb.SimplePolygon, dbu: float) -> np.ndarray:
    if isinstance(polygon, gdstk.Polygon):
        return np.rint(polygon.points / dbu).astype(np.int64)
    return np.array([(p.x, p.y) for p in polygon.each_point()], dtype=np.int64)


def _fitted(points: np.ndarray) -> list[np.ndarray]:
    """A polygon as pieces of at most :data:`MAX_VERTICES` vertices."""
    if len(points) <= MAX_VERTICES:
        return [points]
    region = kdb.Region(kdb.Polygon([kdb.Point(int(x), int(y)) for x, y in points]))
    return _pieces(region)


def _pieces(region: kdb.Region) -> list[np.ndarray]:
    """A region's polygons without holes (cut open to the outside), at most MAX_VERTICES."""
    region.break_(MAX_VERTICES // 2, 0.0)  # holes cost 2 vertices more each once cut open
    return [_points(polygon.to_simple_polygon(), 1.0) for polygon in region.each()]


def groups(polygons: Iterable[np.ndarray]) -> tuple[Group, ...]:
    """Polygons (integer points) as groups: equal shapes (same vertices in the same order from
    the first) gathered with their positions, in the order the shapes first come."""
    found: dict[bytes, tuple[np.ndarray, list[np.ndarray]]] = {}
    for points in polygons:
        for piece in _fitted(points):
            relative = piece - piece[0]
            entry = found.setdefault(relative.tobytes(), (relative, []))
            entry[1].append(piece[0])
    out = []
    for shape, origins in found.values():
        positions = np.array(origins, dtype=np.int64)
        positions = positions[np.lexsort((positions[:, 0], positions[:, 1]))]
        out.append(Group(shape, positions))
    return tuple(out)


def _cuts(low: int, high: int, count: int, spans: np.ndarray) -> np.ndarray:
    """``count`` + 1 cut positions from ``low`` to ``high``, each inner one moved to the
    nearest gap between the ``spans`` (k × 2: low, high of each opening) when there is one, so
    that openings stay whole."""
    cuts = np.linspace(low, high, count + 1).round().astype(np.int64)
    if len(spans) == 0 or count == 1:
        return cuts
    order = np.argsort(spans[:, 0])
    starts, ends = spans[order, 0], np.maximum.accumulate(spans[order, 1])
    gaps = np.flatnonzero(starts[1:] > ends[:-1])  # free between ends[g] and starts[g + 1]
    if len(gaps) == 0:
        return cuts
    middles = (ends[gaps] + starts[gaps + 1]) // 2
    inner = middles[np.abs(middles[None, :] - cuts[1:-1, None]).argmin(axis=1)]
    inner = inner[(inner > low) & (inner < high)]
    return np.unique(np.concatenate(([low], inner, [high])))


def _placements(top: gdstk.Cell, cell_name: str, dbu: float) -> np.ndarray:
    """Where ``top`` places the cell named ``cell_name`` (references and arrays), sorted."""
    found = []
    for ref in top.references:
        name = ref.cell if isinstance(ref.cell, str) else ref.cell.name
        if name != cell_name:
            continue
        offsets = ref.repetition.get_offsets() if ref.repetition.size else np.zeros((1, 2))
        found.append(np.asarray(offsets).reshape(-1, 2) + np.asarray(ref.origin))
    centers = np.rint(np.concatenate(found) / dbu).astype(np.int64) if found else np.zeros((0, 2))
    return centers[np.lexsort((centers[:, 0], centers[:, 1]))].astype(np.int64)


def _texts(
    cell: gdstk.Cell, text_layer: tuple[int, int], dbu: float
) -> tuple[tuple[str, int, int], ...]:
    """The labels of ``cell`` on ``text_layer``: (text, x, y), database units."""
    return tuple(
        (label.text, *(int(v) for v in np.rint(np.asarray(label.origin) / dbu)))
        for label in cell.labels
        if (label.layer, label.texttype) == text_layer
    )


def contents(
    design: Design, library: gdstk.Library, layers: Iterable[str]
) -> Iterator[MaskContent]:
    """Each mask layer's flat content, read from the wafer library's hierarchy: the die cell's
    shapes on the layer, the die placements of the top cell, the layer's mask cell."""
    spec, tech = design.spec, design.tech
    dbu = library.precision / library.unit
    cells = {cell.name: cell for cell in library.cells}
    top, die = cells[spec.name], cells[f"{spec.name}_DIE"]
    centers = _placements(top, die.name, dbu)
    grid = wafer_geometry.place_dies(spec.wafer)
    step = (round(grid.step[0] / dbu), round(grid.step[1] / dbu))
    offset = (round(grid.offset[0] / dbu), round(grid.offset[1] / dbu))
    wafer = _points(wafer_geometry.outline(spec.wafer)[0], dbu)
    text_layer = tech.layer("TEXT")
    die_texts = _texts(die, text_layer, dbu)
    for name in layers:
        layer, datatype = tech.layer(name)
        own = cells[f"{spec.name}_MASK_{name}"]
        die_shapes = die.get_polygons(layer=layer, datatype=datatype)
        marks = own.get_polygons(layer=layer, datatype=datatype)
        texts = _texts(own, text_layer, dbu)
        yield MaskContent(
            name=name,
            file_stem=f"{spec.name}_{name}",
            layer=(layer, datatype),
            text_layer=text_layer,
            die=groups(_points(p, dbu) for p in die_shapes),
            centers=centers,
            extras=groups(_points(p, dbu) for p in marks),
            texts=texts,
            die_texts=die_texts,
            step=step,
            offset=offset,
            wafer=wafer,
            dbu=dbu,
        )


def settings(design: Design, layer: str, override: Exposure | None, film_tone: str) -> Settings:
    """A mask's exposure: the tech's common entry, its own, the spec mask's, then ``override``
    (the command line); the tone from the film when none of them gives one."""
    exposure = design.tech.mask_set.exposure_of(layer)
    mask = design.spec.masks.get(layer)
    if mask is not None and mask.exposure is not None:
        exposure = mask.exposure.over(exposure)
    if override is not None:
        exposure = override.over(exposure)
    tone = exposure.tone or ("dark" if film_tone == "positive" else "clear")
    return Settings(
        exposure.mirror, tone, exposure.magnification, exposure.plate, image=exposure.image
    )


def fit_error(
    design: Design, layer: str, override: Exposure | None, exc: ExposureError
) -> SpecError:
    """``exc`` (an image overflowing its plate) located at the most specific key that set the
    mask's plate or magnification: the spec's ``masks.X.exposure``, the tech's
    ``mask_set.exposures.X``, its ``mask_set.exposure``; a magnification from the command line
    is named as ``--mag``."""
    tech = design.tech.mask_set
    mask = design.spec.masks.get(layer)
    own = tech.exposures.get(layer)  # type: ignore[call-overload]
    places: list[tuple[Exposure | None, Loc, bool]] = [
        (None if mask is None else mask.exposure, ["masks", layer, "exposure"], False),
        (own, ["mask_set", "exposures", layer], True),
        (tech.exposure, ["mask_set", "exposure"], True),
    ]
    message = str(exc)
    if override is not None and "magnification" in override.model_fields_set:
        message += f" (magnification {override.magnification:g} from --mag)"
        keys: tuple[str, ...] = ("plate",)
    else:
        keys = ("plate", "magnification")
    for exposure, loc, in_tech in places:
        key = next((k for k in keys if exposure and k in exposure.model_fields_set), None)
        if key is None:
            continue
        if in_tech:
            problem = tech_problem(design.spec.tech, design.base, [*loc, key], message)
            return SpecError([problem])
        return design.error([*loc, key], message)
    return SpecError([design.source.problem(["masks", layer], message)])


# --------------------------------------------------------------------------- inversion
@dataclass
class _Opening:
    """Openings of one shape for the inversion: the KLayout polygon and where it goes."""

    polygon: kdb.Polygon
    low: np.ndarray
    high: np.ndarray
    positions: np.ndarray


def _openings(groups_: Iterable[Group], at: np.ndarray) -> list[_Opening]:
    out = []
    for group in groups_:
        polygon = kdb.Polygon([kdb.Point(int(x), int(y)) for x, y in group.shape])
        out.append(
            _Opening(
                polygon, group.shape.min(axis=0), group.shape.max(axis=0), group.positions + at
            )
        )
    return out


def _inverted_tile(
    low: np.ndarray, high: np.ndarray, field_: kdb.Region | None, openings: list[_Opening]
) -> list[np.ndarray]:
    """The box (low, high) within the field, less the openings, in sub-tiles of a few openings
    each; polygons without holes."""
    count = sum(len(o.positions) for o in openings)
    n = max(1, math.ceil(math.sqrt(count / OPENINGS_PER_SUBTILE)))
    spans = [
        np.column_stack((o.positions + o.low, o.positions + o.high)) for o in openings
    ]  # x low, y low, x high, y high of every opening
    every = np.concatenate(spans) if spans else np.zeros((0, 4), dtype=np.int64)
    xs = _cuts(int(low[0]), int(high[0]), n, every[:, [0, 2]])
    ys = _cuts(int(low[1]), int(high[1]), n, every[:, [1, 3]])
    out = []
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            box = kdb.Box(int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1]))
            base = kdb.Region(box)
            if field_ is not None:
                base &= field_
                if base.is_empty():
                    continue
            holes = kdb.Region()
            for o in openings:
                lo, hi = o.positions + o.low, o.positions + o.high
                hit = (lo[:, 0] < box.right) & (hi[:, 0] > box.left)
                hit &= (lo[:, 1] < box.top) & (hi[:, 1] > box.bottom)
                for x, y in o.positions[hit].tolist():
                    holes.insert(o.polygon.moved(x, y))
            out.extend(_pieces(base - holes if not holes.is_empty() else base))
    return out


def _field(content: MaskContent, exposure: Settings) -> tuple[kdb.Region, np.ndarray, np.ndarray]:
    """The field of an inversion in wafer coordinates (the plate's square shrunk by the
    magnification, less its frame when drawn; or the wafer outline) and its box."""
    plate = exposure.plate
    if plate is not None:
        side = plate.size - (2 * plate.frame if plate.outline else 0.0)
        half = round(side / content.dbu / exposure.magnification / 2)
        low, high = np.array([-half, -half]), np.array([half, half])
        return kdb.Region(kdb.Box(-half, -half, half, half)), low, high
    points = [kdb.Point(int(x), int(y)) for x, y in content.wafer]
    return kdb.Region(kdb.Polygon(points)), content.wafer.min(axis=0), content.wafer.max(axis=0)


def _inverted(
    content: MaskContent, exposure: Settings, extras: tuple[Group, ...]
) -> Iterator[tuple[tuple[Group, ...], np.ndarray]]:
    """The field less the openings, tile by tile on the die grid: (groups, offsets) pairs.
    The tile of a die inside the field, clear of marks and labels, is computed once."""
    field_, low, high = _field(content, exposure)
    step, offset = np.array(content.step), np.array(content.offset)
    half = step // 2
    first = np.floor((low - offset + half) / step).astype(np.int64)
    last = np.floor((high - offset + half) / step).astype(np.int64)
    ij = np.stack(
        np.meshgrid(np.arange(first[0], last[0] + 1), np.arange(first[1], last[1] + 1)), axis=-1
    ).reshape(-1, 2)
    lows = offset + step * ij - half
    tiles = kdb.Region()
    tiles.merged_semantics = False  # each tile on its own, not the union of touching ones
    for x, y in lows.tolist():
        tiles.insert(kdb.Box(x, y, x + int(step[0]), y + int(step[1])))
    inside = {(b.left, b.bottom) for b in (p.bbox() for p in tiles.inside(field_).each())}
    crossing = {(b.left, b.bottom) for b in (p.bbox() for p in tiles.interacting(field_).each())}
    dies = {tuple(k) for k in np.rint((content.centers - offset) / step).astype(np.int64).tolist()}
    single = [
        Group(g.shape, g.positions[k : k + 1]) for g in extras for k in range(len(g.positions))
    ]
    boxes = [(g, *g.box()) for g in single]  # each mark or letter on its own: the tiles it is in
    plain: list[np.ndarray] = []  # tiles inside the field holding nothing
    with_die: list[np.ndarray] = []  # tiles inside the field holding a die and nothing else
    for (i, j), lo in zip(ij.tolist(), lows, strict=True):
        corner = (int(lo[0]), int(lo[1]))
        if corner not in crossing:
            continue
        hi = lo + step
        touching = [g for g, glo, ghi in boxes if (glo < hi).all() and (ghi > lo).all()]
        has_die = (i, j) in dies
        if corner in inside and not touching:
            (with_die if has_die else plain).append(lo + half)
            continue
        openings = _openings(touching, np.zeros(2, dtype=np.int64))
        if has_die:
            openings += _openings(content.die, lo + half)
        pieces = _inverted_tile(lo, hi, None if corner in inside else field_, openings)
        if pieces:
            yield groups(pieces), np.zeros((1, 2), dtype=np.int64)
    if plain:
        box = np.array(
            [-half, [step[0] - half[0], -half[1]], step - half, [-half[0], step[1] - half[1]]]
        )
        yield groups([box]), np.array(plain)
    if with_die:
        openings = _openings(content.die, np.zeros(2, dtype=np.int64))
        yield groups(_inverted_tile(-half, step - half, None, openings)), np.array(with_die)


# --------------------------------------------------------------------------- writing
class _Writer(Protocol):
    def polygons(
        self,
        shape: np.ndarray,
        positions: np.ndarray,
        layer: int,
        datatype: int,
        offset: tuple[int, int] = (0, 0),
    ) -> None: ...

    def text(self, text: str, x: int, y: int, layer: int, texttype: int) -> None: ...

    def close(self) -> None: ...


@dataclass
class _Tally:
    """Counts and extent of what went to a writer."""

    writer: _Writer
    polygons: int = 0
    max_vertices: int = 0
    low: np.ndarray = field(default_factory=lambda: np.full(2, 2**62, dtype=np.int64))
    high: np.ndarray = field(default_factory=lambda: np.full(2, -(2**62), dtype=np.int64))

    def add(self, group: Group, offsets: np.ndarray, tag: tuple[int, int]) -> None:
        """``group`` moved by each of ``offsets``."""
        for x, y in offsets.tolist():
            self.writer.polygons(group.shape, group.positions, *tag, offset=(x, y))
        self.polygons += len(group.positions) * len(offsets)
        self.max_vertices = max(self.max_vertices, len(group.shape))
        low, high = group.box()
        self.low = np.minimum(self.low, low + offsets.min(axis=0))
        self.high = np.maximum(self.high, high + offsets.max(axis=0))


def _transform(points: np.ndarray, exposure: Settings) -> np.ndarray:
    """Points (… × 2) mirrored about the y axis and magnified, as the exposure asks."""
    out = points.astype(np.int64)
    if exposure.mirror:
        out = out * np.array([-1, 1], dtype=np.int64)
    if exposure.magnification != 1:
        out = np.rint(out * exposure.magnification).astype(np.int64)
    return out


def _frame(plate: Plate, content: MaskContent, magnification: float) -> np.ndarray:
    """The plate's frame (a square ring along its edge) as one polygon cut open, in wafer
    coordinates."""
    outer = round(plate.size / content.dbu / magnification / 2)
    inner = outer - round(plate.frame / content.dbu / magnification)
    return np.array(
        [(-outer, -outer), (outer, -outer), (outer, outer), (-outer, outer), (-outer, -inner),
         (-inner, -inner), (-inner, inner), (inner, inner), (inner, -inner), (-outer, -inner)]
    )  # fmt: skip


def check_fits(content: MaskContent, exposure: Settings) -> None:
    """Raise ExposureError when the magnified image overflows the plate: the wafer, its marks
    and labels; or, for ``image: die``, the die step about the die's centre."""
    if exposure.plate is None:
        return
    if exposure.image == "die":
        extent = max(content.step) / 2 * exposure.magnification
        hint = ""
    else:
        lows = [content.wafer.min(axis=0)] + [g.box()[0] for g in content.extras]
        highs = [content.wafer.max(axis=0)] + [g.box()[1] for g in content.extras]
        extent = max(np.abs(np.concatenate([lows, highs])).max(axis=0)) * exposure.magnification
        hint = ", or image: die for a stepper reticle" if exposure.magnification > 1 else ""
    half = exposure.plate.size / content.dbu / 2
    if extent > half:
        raise ExposureError(
            f"mask {content.name}: the {exposure.image} image at {exposure.magnification:g}x "
            f"reaches {2 * extent * content.dbu / 1000:g} mm across; the plate is "
            f"{exposure.plate.size / 1000:g} mm (give a larger plate or a smaller "
            f"magnification{hint})"
        )


def _die_image(
    content: MaskContent, exposure: Settings, extras: tuple[Group, ...]
) -> list[tuple[tuple[Group, ...], np.ndarray]]:
    """A reticle's one die about its centre, as (groups, offsets) pairs: the die's shapes and
    ``extras`` (the plate's frame), or the die step less the die's openings."""
    zero = np.zeros((1, 2), dtype=np.int64)
    if exposure.tone == "dark":
        return [(content.die, zero), (extras, zero)]
    step = np.array(content.step)
    half = step // 2
    openings = _openings(content.die, np.zeros(2, dtype=np.int64))
    return [(groups(_inverted_tile(-half, step - half, None, openings)), zero)]


def write_mask(
    content: MaskContent, exposure: Settings, out: BinaryIO, fmt: Format, compression: int = 6
) -> dict[str, Any]:
    """Write one mask flat to ``out``; return its counts and bounding box (µm)."""
    writer: _Writer = (
        OasisStream(out, content.file_stem, round(1 / content.dbu), compression)
        if fmt == "oas"
        else GdsStream(out, content.file_stem, content.file_stem, 1e-6, content.dbu * 1e-6)
    )
    tally = _Tally(writer)
    frame: tuple[Group, ...] = ()
    if exposure.plate is not None and exposure.plate.outline and exposure.tone == "dark":
        frame = groups([_frame(exposure.plate, content, exposure.magnification)])
    parts: Iterable[tuple[tuple[Group, ...], np.ndarray]]
    texts = content.texts
    if exposure.image == "die":
        parts = _die_image(content, exposure, frame)
        texts = tuple((text, 0, 0) for text, _, _ in content.texts) + content.die_texts
    elif exposure.tone == "clear":
        parts = _inverted(content, exposure, content.extras + frame)
    else:
        zero = np.zeros((1, 2), dtype=np.int64)
        parts = [(content.die, content.centers), (content.extras + frame, zero)]
    for part, offsets in parts:
        moved = [
            Group(_transform(g.shape, exposure), _transform(g.positions, exposure)) for g in part
        ]
        where = _transform(offsets, exposure)
        if fmt == "oas":  # shape by shape: each record after the first reuses shape and repetition
            for group in moved:
                tally.add(group, where, content.layer)
        else:  # die by die
            for at in where:
                for group in moved:
                    tally.add(group, at[None, :], content.layer)
    places = np.array([(x, y) for _, x, y in texts], dtype=np.int64).reshape(-1, 2)
    for (text, _, _), (tx, ty) in zip(texts, _transform(places, exposure).tolist(), strict=True):
        writer.text(text, tx, ty, *content.text_layer)
    writer.close()
    um = content.dbu
    return {
        "polygons": tally.polygons,
        "max_vertices": tally.max_vertices,
        "bounding_box_um": [
            [round(int(v) * um, 6) for v in corner] for corner in (tally.low, tally.high)
        ],
    }


def write_mask_file(
    content: MaskContent, exposure: Settings, path: Path, fmt: Format, compression: int = 6
) -> dict[str, Any]:
    """Write one mask flat to ``path`` (atomically); return counts, box, size and SHA-256."""
    check = layout.check_layout_file(f".{fmt}")
    with files.atomic_write(path, check) as tmp, open(tmp, "wb") as out:
        stats = write_mask(content, exposure, out, fmt, compression)
    digest = hashlib.sha256()
    with open(path, "rb") as written:
        for chunk in iter(lambda: written.read(1 << 20), b""):
            digest.update(chunk)
    return {**stats, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _job(args: tuple[MaskContent, Settings, Path, Format, int]) -> dict[str, Any]:
    return write_mask_file(*args)


def write_all(
    jobs: list[tuple[MaskContent, Settings, Path, Format, int]], workers: int = 1
) -> list[dict[str, Any]]:
    """Write every mask, in a pool of ``workers`` processes when more than one; the files are
    the same bytes either way."""
    if workers <= 1 or len(jobs) <= 1:
        return [_job(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(_job, jobs))
