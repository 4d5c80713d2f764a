"""The mask set as a mask order: one GDSII file per mask layer and a ``masks.json`` manifest.

Each file keeps the wafer hierarchy (same cell names, same references and arrays) with only
its own layer: the openings, the mask's alignment marks, its polygon label and its GDS label
(on TEXT). Cells left empty are dropped. The manifest lists, per mask, the file, its GDS layer,
the film and its tone, the mask polarity, the critical dimensions, counts, bounding box and
SHA-256.

Polarity: every drawn shape is where the film is removed (PI1, PI2 and the solder masks are
openings; RDL and UBM are plated through resist openings). A positive film dissolves where
exposed, so the drawn shapes are clear on a chrome field: a dark-field mask. A negative film
stays where exposed, so the drawn shapes are chrome on a clear field: a clear-field mask. Films
and tones come from the spec (solder masks) and ``tech.mask_set``. Mirroring for the exposure
tool (right- or wrong-reading) is the mask shop's job order, not written here.

Files are written to a hidden staging folder (see :mod:`masklayout.files`) and moved in at the
end, each GDSII file's head and tail read back first: a failure leaves no file; the same spec
gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gdstk

from masklayout import export, files
from masklayout.geometry import die as die_geometry
from masklayout.geometry import marks as mark_geometry
from masklayout.geometry import wafer as wafer_geometry
from masklayout.geometry.overlaps import connected_count
from masklayout.geometry.wafer import DieGrid
from masklayout.layout import MaskLayout, check_gds, write_library
from masklayout.progress import SILENT, Progress
from masklayout.spec import Design
from masklayout.tech import STRUCTURED_LAYERS, Exposure, MaskFilm, Tone

MANIFEST = "masks.json"


@dataclass(frozen=True)
class Feature:
    """A drawn feature of one size on a mask: ``size`` is the diameter (circle), flat-to-flat
    width (octagon), side (square) or width (line), or [width, height] of a rectangle."""

    feature: str
    stack: str | None
    shape: str
    size: float | tuple[float, float]
    per_die: int

    def as_dict(self) -> dict[str, Any]:
        size = list(self.size) if isinstance(self.size, tuple) else self.size
        return {
            "feature": self.feature,
            "stack": self.stack,
            "shape": self.shape,
            "size_um": size,
            "per_die": self.per_die,
        }


@dataclass(frozen=True)
class MaskFile:
    """One mask in memory: its layer name, file name, library and manifest entry (without the
    file's size and hash, known once written)."""

    layer: str
    file: str
    library: gdstk.Library
    record: dict[str, Any]


def _rectangle(polygon: gdstk.Polygon) -> tuple[str, float | tuple[float, float]]:
    (x0, y0), (x1, y1) = polygon.bounding_box()
    w, h = round(x1 - x0, 3), round(y1 - y0, 3)
    return ("square", w) if w == h else ("rectangle", (w, h))


def critical_dimensions(design: Design, layer: str) -> tuple[Feature, ...]:
    """The features a mask layer draws on each die, one entry per feature and size."""
    spec = design.spec
    stacks = Counter(site.stack for site in design.sites)
    routed_stacks = Counter(site.stack for site in design.sites if site.on_pad is None)
    routed_pads = design.routed_pads
    found: Counter[tuple[str, str | None, str, Any]] = Counter()
    if layer == "PI1":
        for pad in routed_pads:
            kind, dims = _rectangle(die_geometry.pi1_opening(design, pad))
            found["opening over bond pad", None, kind, dims] += 1
    elif layer == "RDL":
        for net in design.nets:
            if net.routed:
                found[("trace", None, "line", net.width)] += 1
        for pad in routed_pads:
            kind, dims = _rectangle(die_geometry.pad_capture(design, pad))
            found["capture over PI1", None, kind, dims] += 1
        for name, count in routed_stacks.items():
            ubm = spec.stacks[name].ubm
            (x0, _), (x1, _) = die_geometry.ubm_capture(design, spec.stacks[name]).bounding_box()
            found[("capture under UBM", name, ubm.shape, round(x1 - x0, 3))] += count
    elif layer in ("PI2", "UBM"):
        for name, count in stacks.items():
            shape = spec.stacks[name].pi2 if layer == "PI2" else spec.stacks[name].ubm
            found[("opening" if layer == "PI2" else "pad", name, shape.shape, shape.diameter)] += (
                count
            )
    else:
        for name, count in stacks.items():
            stack = spec.stacks[name]
            for k, opening in enumerate(stack.openings):
                if opening.mask == layer:
                    found[("opening", name, stack.opening_shape(k), opening.diameter)] += count
    return tuple(Feature(*key, per_die=count) for key, count in found.items())


def film(design: Design, layer: str) -> MaskFilm:
    """The film a mask layer patterns: the spec's for solder masks, the tech's otherwise."""
    mask = design.spec.masks.get(layer)
    if mask is not None:
        return mask.film
    assert layer in STRUCTURED_LAYERS, f"{layer} is neither a solder mask nor a structured layer"
    return design.tech.mask_set.films[layer]


def polarity(tone: Tone) -> tuple[str, str, str]:
    """(mask field, how drawn shapes appear on the plate, why) for a film of ``tone``."""
    if tone == "positive":
        return (
            "dark_field",
            "clear",
            "positive film dissolves where exposed: the drawn openings are clear, the field chrome",
        )
    return (
        "clear_field",
        "chrome",
        "negative film stays where exposed: the drawn openings are chrome, the field clear",
    )


def mask_library(layout: MaskLayout, keep: list[tuple[int, int]], own: str) -> gdstk.Library:
    """A copy of the layout's hierarchy holding only the shapes on ``keep`` (cell ``own`` also
    keeps its labels); empty cells and references to them are dropped."""
    source = layout.library
    library = gdstk.Library(source.name, unit=source.unit, precision=source.precision)
    copies: dict[str, gdstk.Cell | None] = {}

    def copy(cell: gdstk.Cell) -> gdstk.Cell | None:
        if cell.name not in copies:
            new = cell.copy(cell.name)
            new.filter(keep, remove=False, labels=False)
            if cell.name != own:
                new.filter([], remove=False, polygons=False, paths=False)
            for ref in list(new.references):
                target = copy(ref.cell)
                if target is None:
                    new.remove(ref)
                else:
                    ref.cell = target
            empty = not (new.polygons or new.paths or new.labels or new.references)
            copies[cell.name] = None if empty else new
        return copies[cell.name]

    copy(layout.top)
    for cell in source.cells:  # the source's order: stable bytes
        if copies.get(cell.name) is not None:
            library.add(copies[cell.name])
    return library


def _shapes(polygons: list[gdstk.Polygon]) -> int:
    """Connected shapes: polygons merged where they touch or overlap."""
    return connected_count(polygons)


def describe(design: Design, layer: str, layers: tuple[str, ...], label: str) -> dict[str, Any]:
    """What the manifest says of one of the mask ``layers`` whatever its file: layer, film
    and polarity, critical dimensions, alignment mark and label."""
    tech = design.tech
    tag = tech.layer(layer)
    mark = mark_geometry.cross_chain(layers, tech.mask_set.marks)[layers.index(layer)]
    features = critical_dimensions(design, layer)
    sizes = [min(f.size) if isinstance(f.size, tuple) else f.size for f in features]
    film_ = film(design, layer)
    tone = tech.mask_set.tones[film_]
    field, drawn_on_mask, why = polarity(tone)
    return {
        "name": layer,
        "layer": tag[0],
        "datatype": tag[1],
        "film": film_,
        "tone": tone,
        "drawn": "openings",
        "polarity": field,
        "drawn_on_mask": drawn_on_mask,
        "polarity_reason": why,
        "critical_dimensions": [f.as_dict() for f in features],
        "min_feature_um": min([*sizes, mark.width]),
        "alignment_mark": {
            "aligns_to": mark.aligns_to,
            "shape": "cross",
            "length_um": mark.length,
            "width_um": mark.width,
        },
        "label": label,
    }


def split(design: Design, layout: MaskLayout, progress: Progress = SILENT) -> tuple[MaskFile, ...]:
    """Every mask layer of a wafer layout as its own library, with its manifest entry."""
    spec = design.spec
    cells = {cell.name: cell for cell in layout.library.cells}
    die = cells[f"{spec.name}_DIE"]
    layers = mark_geometry.mask_layers(design, die)
    out = []
    for layer in progress.track(layers, "splitting the masks"):
        own = f"{spec.name}_MASK_{layer}"
        library = mask_library(layout, [design.tech.layer(layer)], own)
        copies = {cell.name: cell for cell in library.cells}
        per_die = _shapes(copies[die.name].get_polygons())
        (x0, y0), (x1, y1) = copies[spec.name].bounding_box()
        file = f"{spec.name}_{layer}.gds"
        described = describe(design, layer, layers, copies[own].labels[0].text)
        record = {
            "name": layer,
            "file": file,
            **{k: v for k, v in described.items() if k not in ("alignment_mark", "label")},
            "counts": {
                "per_die": per_die,
                "dies": layout.dies.count,
                "on_wafer": per_die * layout.dies.count,
                "alignment_marks": 2,
                "label_shapes": _shapes(copies[own].polygons) - 2,  # less the two crosses
            },
            "alignment_mark": described["alignment_mark"],
            "label": described["label"],
            "bounding_box_um": [[x0, y0], [x1, y1]],
        }
        out.append(MaskFile(layer, file, library, record))
    return tuple(out)


def manifest(
    design: Design, library: gdstk.Library, dies: DieGrid, masks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``masks.json`` document around the per-mask entries."""
    marks = design.tech.mask_set.marks
    sites = mark_geometry.mark_sites(design.spec.wafer, dies, marks)
    return {
        "product": design.spec.name,
        "tech": design.tech.name,
        "database_unit_um": round(library.precision / library.unit, 9),
        "dies": dies.count,
        "alignment_marks": {
            "sites_um": [list(p) for p in sites.points],
            "inside_usable_area": sites.inside_usable,
            "clearance_um": marks.clearance,
            "die_clearance_um": marks.die_clearance,
        },
        "masks": masks,
    }


def _write_manifest(path: Path, document: dict[str, Any]) -> None:
    files.write_bytes(path, json.dumps(document, indent=2) + "\n")


def _folder(directory: str | Path) -> files.OutputSet:
    out = files.OutputSet()
    out.add(Path(directory), "--split", "the mask set folder", directory=True)
    return out


def write_split(
    design: Design, layout: MaskLayout, directory: str | Path, progress: Progress = SILENT
) -> dict[str, Any]:
    """Write one GDSII file per mask layer and ``masks.json`` into ``directory``, all or none;
    return the manifest."""
    if layout.top.name != design.spec.name:
        raise ValueError("a split needs the wafer layout, not --die-only")
    masks = split(design, layout, progress)
    out = _folder(directory)
    with out:
        staging = out.temporary(Path(directory))
        records = []
        for mask in progress.track(masks, "writing the masks"):
            path = staging / mask.file
            with files.atomic_write(path, check_gds) as tmp:
                write_library(mask.library, tmp, ".gds")
            data = path.read_bytes()
            records.append(
                {**mask.record, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )
        document = manifest(design, layout.library, layout.dies, records)
        _write_manifest(staging / MANIFEST, document)
    return document


def write_flat_split(
    design: Design,
    library: gdstk.Library,
    directory: str | Path,
    fmt: export.Format = "oas",
    exposure: Exposure | None = None,
    jobs: int = 1,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Write each mask layer of a wafer library flat (one cell: every die's openings, the
    layer's marks and label; one die for an exposure ``image: die``), with its exposure
    applied, and ``masks.json``, into
    ``directory``, all or none; ``jobs`` processes write masks side by side (same bytes).
    ``exposure`` overrides the tech's and the spec's for every mask. Raise
    a :class:`SpecError`, located at the key that set the plate or magnification, when an image
    does not fit its plate."""
    cells = {cell.name: cell for cell in library.cells}
    if design.spec.name not in cells or f"{design.spec.name}_DIE" not in cells:
        raise ValueError(f"a flat split needs the wafer layout of {design.spec.name}")
    layers = mark_geometry.mask_layers(design, cells[f"{design.spec.name}_DIE"])
    planned = []
    for content in export.contents(design, library, layers):
        described = describe(design, content.name, layers, content.texts[0][0])
        chosen = export.settings(design, content.name, exposure, described["tone"])
        try:
            export.check_fits(content, chosen)
        except export.ExposureError as exc:
            raise export.fit_error(design, content.name, exposure, exc) from None
        planned.append((content, chosen, f"{content.file_stem}.{fmt}", described))
    out = _folder(directory)
    with out:
        staging = out.temporary(Path(directory))
        with progress.step(f"writing {len(planned)} flat masks"):
            stats = export.write_all(
                [(content, chosen, staging / file, fmt, 6) for content, chosen, file, _ in planned],
                jobs,
            )
        records = []
        for (content, chosen, file, described), written in zip(planned, stats, strict=True):
            per_die = sum(len(g.positions) for g in content.die)
            wafer = chosen.image == "wafer"  # a die image: one die, no marks or label polygons
            in_file = len(content.centers) if wafer else 1
            records.append(
                {
                    "name": content.name,
                    "file": file,
                    **{k: v for k, v in described.items() if k not in ("alignment_mark", "label")},
                    "flat": True,
                    "format": export.FORMAT_NAMES[fmt],
                    "exposure": chosen.as_dict(described["polarity"]),
                    "counts": {
                        "polygons": written["polygons"],
                        "polygons_per_die": per_die,
                        "dies": in_file,
                        "die_polygons": per_die * in_file,
                        "mark_and_label_polygons": sum(len(g.positions) for g in content.extras)
                        if wafer
                        else 0,
                        "max_vertices": written["max_vertices"],
                    },
                    "alignment_mark": described["alignment_mark"] if wafer else None,
                    "label": described["label"],
                    "bounding_box_um": written["bounding_box_um"],
                    "bytes": written["bytes"],
                    "sha256": written["sha256"],
                }
            )
        dies = wafer_geometry.place_dies(design.spec.wafer)
        document = manifest(design, library, dies, records)
        _write_manifest(staging / MANIFEST, document)
    return document
