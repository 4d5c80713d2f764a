"""Assemble the mask set as a hierarchical gdstk library and write it.

Cells: one per opening stack (UBM, PI2, SM1..SM3 of one bump; a ``_RDL`` variant adds the RDL
capture pad for bumps that are not on a pad), one die cell (pads, PI1, RDL, bump references),
and the wafer top cell (outline, usable area, die references). Regular runs of bumps and of dies
are written as GDS AREFs. Database unit 1 nm, user unit 1 µm; the bytes depend on the spec only.
The die outline carries the tech's and the spec's name as GDS properties (:func:`recorded`).
"""

from __future__ import annotations

import datetime
import gzip
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gdstk
import numpy as np

from masklayout import files
from masklayout.geometry import die as die_geometry
from masklayout.geometry import marks as mark_geometry
from masklayout.geometry import rdl as rdl_geometry
from masklayout.geometry import wafer as wafer_geometry
from masklayout.geometry.shapes import GRID
from masklayout.spec import Design, Wafer

UNIT, PRECISION = 1e-6, 1e-9
# GDS property attributes on the die outline (layer DIE) recording what the layout was built
# from, so that `check` reads it with the same tech: GDSII keeps properties on elements only.
PROPERTY_TECH, PROPERTY_SPEC = 126, 127
TIMESTAMP = datetime.datetime(2000, 1, 1)  # fixed: the same spec gives the same bytes
LAYOUT_SUFFIXES = (".gds", ".oas", ".gds.gz")  # what write() writes: GDSII, OASIS, gzipped GDSII
GDS_HEADER, GDS_ENDLIB = b"\x00\x06\x00\x02", b"\x00\x04\x04\x00"  # first and last records
OASIS_MAGIC, OASIS_END, OASIS_END_SIZE = b"%SEMI-OASIS\r\n", 2, 256  # END is always 256 bytes
MAX_POINTS = 199  # GDSII's vertex limit: a net's shape is written as abutting pieces within it


@dataclass(frozen=True)
class MaskLayout:
    """A built layout: the library, its top cell, and what it holds."""

    library: gdstk.Library
    top: gdstk.Cell
    dies: wafer_geometry.DieGrid
    bumps_per_die: int
    layers: tuple[str, ...]
    routing: rdl_geometry.Routing | None = None  # what routed and what did not (None: read back)
    teardrops_skipped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # net: terminals

    @property
    def bumps_on_wafer(self) -> int:
        return self.dies.count * self.bumps_per_die


def stack_cell_name(design: Design, stack: str, rdl: bool = False) -> str:
    """The cell holding one bump of ``stack``; with ``rdl``, its variant with the capture pad."""
    return f"{design.spec.name}_STACK_{stack}" + ("_RDL" if rdl else "")


def array_references(
    cell: gdstk.Cell, points: Iterable[tuple[float, float]]
) -> list[gdstk.Reference]:
    """References placing ``cell`` at every point, regular runs merged into arrays (AREFs).

    Points on one row at a constant spacing make a run; runs of equal start, spacing and length
    on rows at a constant spacing make one rectangular array.
    """
    pts = np.round(np.asarray(list(points), dtype=float).reshape(-1, 2) / GRID).astype(np.int64)
    rows: dict[int, list[int]] = defaultdict(list)
    for x, y in pts:
        rows[int(y)].append(int(x))
    runs: dict[tuple[int, int, int], list[int]] = defaultdict(list)  # (x0, dx, n) -> ys
    for y in sorted(rows):
        for x0, dx, n in _runs(sorted(rows[y])):
            runs[(x0, dx, n)].append(y)
    refs = []
    for (x0, dx, n), ys in sorted(runs.items(), key=lambda item: (item[1][0], item[0])):
        for y0, dy, m in _runs(ys):
            refs.append(
                gdstk.Reference(
                    cell, (x0 * GRID, y0 * GRID), columns=n, rows=m, spacing=(dx * GRID, dy * GRID)
                )
                if n * m > 1
                else gdstk.Reference(cell, (x0 * GRID, y0 * GRID))
            )
    return refs


def _runs(values: list[int]) -> list[tuple[int, int, int]]:
    """Split sorted integers into runs of constant step: (start, step, count)."""
    out, i = [], 0
    while i < len(values):
        if i + 1 == len(values):
            out.append((values[i], 0, 1))
            break
        step, j = values[i + 1] - values[i], i + 1
        while j + 1 < len(values) and values[j + 1] - values[j] == step:
            j += 1
        out.append((values[i], step, j - i + 1))
        i = j + 1
    return out


def build_die(
    design: Design, library: gdstk.Library, routing: rdl_geometry.Routing
) -> tuple[gdstk.Cell, dict[str, tuple[str, ...]]]:
    """The die cell (and its stack cells, added to ``library``), its RDL as ``routing`` routed
    it: one shape per net, PI1 openings over the pads of the nets that routed; and per net, the
    terminals whose teardrop was left out (``rdl.teardrop``)."""
    spec, tag = design.spec, design.tech.layer
    text_layer, text_type = tag("TEXT")
    masks = {name: tag(name) for name in spec.masks}
    die = gdstk.Cell(f"{spec.name}_DIE")
    stack_cells: dict[tuple[str, bool], gdstk.Cell] = {}
    for name, stack in spec.stacks.items():
        bare = gdstk.Cell(stack_cell_name(design, name))
        bare.add(*die_geometry.stack_shapes(stack, masks, tag("UBM"), tag("PI2")))
        with_rdl = gdstk.Cell(stack_cell_name(design, name, rdl=True))
        with_rdl.add(
            gdstk.Reference(bare),
            die_geometry.ubm_capture(design, stack, layer=tag("RDL")[0], datatype=tag("RDL")[1]),
        )
        stack_cells[(name, False)], stack_cells[(name, True)] = bare, with_rdl

    w, h = design.die_size
    outline = gdstk.rectangle((-w / 2, -h / 2), (w / 2, h / 2), *tag("DIE"))
    outline.set_gds_property(PROPERTY_TECH, design.tech.name)
    outline.set_gds_property(PROPERTY_SPEC, spec.name)
    die.add(outline)
    routed_nets = {net.name for net in routing.result.routed}
    routed = {p for net in design.nets if net.name in routed_nets for p in net.rdl_pads}
    for pad in spec.die.pads:
        die.add(die_geometry.pad_polygon(pad, *tag("PAD")))
        die.add(gdstk.Label(pad.name, pad.at, layer=text_layer, texttype=text_type))
        if pad.name in routed:
            die.add(die_geometry.pi1_opening(design, pad, *tag("PI1")))
    layer, datatype = tag("RDL")
    skipped: dict[str, tuple[str, ...]] = {}
    for net in routing.result.routed:
        metal = [gdstk.Polygon(rdl_geometry.points(p)) for p in net.polygons]
        if spec.die.rdl.teardrop:
            drops, skipped[net.name] = rdl_geometry.teardrop_plan(routing, net)
            metal += [gdstk.Polygon(p) for p in drops]
        merged = gdstk.boolean(metal, [], "or", layer=layer, datatype=datatype)  # one per net
        die.add(*(piece for polygon in merged for piece in polygon.fracture(MAX_POINTS)))

    placements: dict[tuple[str, bool], list[tuple[float, float]]] = defaultdict(list)
    for site in design.sites:
        placements[(site.stack, site.on_pad is None)].append((site.x, site.y))
        die.add(gdstk.Label(site.name, (site.x, site.y), layer=text_layer, texttype=text_type))
    for name in spec.stacks:
        bare, with_rdl = stack_cells[(name, False)], stack_cells[(name, True)]
        if placements[(name, False)] or placements[(name, True)]:
            library.add(bare)
        if placements[(name, True)]:
            library.add(with_rdl)
        for cell, key in ((bare, (name, False)), (with_rdl, (name, True))):
            die.add(*array_references(cell, placements[key]))
    return die, skipped


def build(
    design: Design, die_only: bool = False, revision: str = "A", allow_unrouted: bool = False
) -> MaskLayout:
    """Build the whole mask set (or, with ``die_only``, the die alone); the wafer carries each
    mask's alignment marks and its label (product, layer, ``revision``).

    Nets that do not route are one error listing them all (a SpecError), unless
    ``allow_unrouted``: then the layout holds what routed and ``routing`` says what did not."""
    spec, tag = design.spec, design.tech.layer
    routing = rdl_geometry.route_design(design)
    if routing.result.unrouted and not allow_unrouted:
        raise rdl_geometry.unrouted_error(design, routing.result.unrouted)
    library = gdstk.Library(spec.name, unit=UNIT, precision=PRECISION)
    die, skipped = build_die(design, library, routing)
    library.add(die)
    dies = wafer_geometry.place_dies(spec.wafer)
    top = die
    if not die_only:
        if dies.count == 0:
            raise design.error(["wafer", "die_step"], _no_die_message(spec.wafer))
        top = gdstk.Cell(spec.name)
        top.add(*wafer_geometry.outline(spec.wafer, *tag("WAFER")))
        top.add(*wafer_geometry.usable_area(spec.wafer, *tag("EXCLUSION")))
        top.add(*array_references(die, dies.centers))
        for cell in mark_geometry.mask_cells(design, dies, die, revision):
            library.add(cell)
            top.add(gdstk.Reference(cell))
        library.add(top)
    return MaskLayout(
        library=library,
        top=top,
        dies=dies,
        bumps_per_die=len(design.sites),
        layers=_layer_names(design, library),
        routing=routing,
        teardrops_skipped=skipped,
    )


def _layer_names(design: Design, library: gdstk.Library) -> tuple[str, ...]:
    layers = {(p.layer, p.datatype) for cell in library.cells for p in cell.polygons}
    layers |= {(label.layer, label.texttype) for cell in library.cells for label in cell.labels}
    return tuple(name for name, tag_ in design.tech.layers.items() if tag_ in layers)


def read(path: str | Path) -> gdstk.Library:
    """Read a GDSII file (OASIS when ``path`` ends in ``.oas``, gzipped GDSII in ``.gz``) at
    1 nm in µm. gdstk reads no gzip: a ``.gz`` is unpacked, streamed, into a temporary file."""
    suffix = Path(path).suffix.lower()
    if suffix == ".oas":
        return gdstk.read_oas(path, unit=UNIT)
    if suffix == ".gz":
        with tempfile.TemporaryDirectory() as tmp, gzip.open(path, "rb") as packed:
            plain = Path(tmp, "layout.gds")
            with open(plain, "wb") as out:
                shutil.copyfileobj(packed, out, 1 << 20)
            return gdstk.read_gds(plain, unit=UNIT)
    return gdstk.read_gds(path, unit=UNIT)


def from_library(design: Design, library: gdstk.Library) -> MaskLayout:
    """A wafer layout read back (:func:`read`) as built from ``design``: its top cell is the
    spec's name."""
    top = next(cell for cell in library.cells if cell.name == design.spec.name)
    dies = wafer_geometry.place_dies(design.spec.wafer)
    return MaskLayout(
        library=library,
        top=top,
        dies=dies,
        bumps_per_die=len(design.sites),
        layers=_layer_names(design, library),
    )


def layout_format(path: str | Path) -> str | None:
    """The format ``write`` gives ``path`` by its ending (any case): one of
    :data:`LAYOUT_SUFFIXES`, or None when it writes none."""
    name = Path(path).name.lower()
    return next((suffix for suffix in reversed(LAYOUT_SUFFIXES) if name.endswith(suffix)), None)


def _no_die_message(wafer: Wafer) -> str:
    usable = 2 * wafer_geometry.usable_radius(wafer)
    return (
        f"no full die fits on the wafer: die step {wafer.die_step[0]:g} x {wafer.die_step[1]:g} µm "
        f"(die {wafer.die_size[0]:g} x {wafer.die_size[1]:g}) on a {wafer.diameter / 1000:g} mm "
        f"{wafer.orientation} wafer whose usable diameter is {usable / 1000:g} mm "
        f"(edge exclusion {wafer.edge_exclusion:g} µm)"
    )


def recorded(kl: Any) -> dict[str, str]:
    """What a layout (a ``klayout.db.Layout``) records of its making: ``tech`` and ``spec``
    names from the properties of its shapes, empty when it records none."""
    import klayout.db as db

    found: dict[str, str] = {}
    keys = {PROPERTY_TECH: "tech", PROPERTY_SPEC: "spec"}
    for cell in kl.each_cell():
        for index in kl.layer_indexes():
            for shape in cell.shapes(index).each(db.Shapes.SAllWithProperties):
                for key, name in keys.items():
                    value = shape.property(key)
                    if value is not None:
                        found.setdefault(name, str(value))
    return found


def write(layout: MaskLayout, path: str | Path) -> int:
    """Write GDSII, OASIS (``.oas``) or gzipped GDSII (``.gds.gz``) atomically, the file's head
    and tail read back before it takes the name; return the file size."""
    path = Path(path)
    kind = layout_format(path) or ".gds"
    with files.atomic_write(path, None if kind == ".gds.gz" else check_layout_file(kind)) as tmp:
        if kind == ".gds.gz":
            plain = tmp.with_name(f"{tmp.name}.gds")  # a temporary too: hidden, same prefix
            try:
                write_library(layout.library, plain, ".gds")
                files.verify(plain, check_gds)
                with (
                    open(plain, "rb") as raw,
                    open(tmp, "wb") as out,
                    gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed,
                ):
                    shutil.copyfileobj(raw, packed, 1 << 20)
            finally:
                plain.unlink(missing_ok=True)
        else:
            write_library(layout.library, tmp, kind)
    return path.stat().st_size


def write_library(library: gdstk.Library, path: Path, kind: str) -> None:
    """gdstk writes ``library`` (it reports no write error: ``write`` reads the file back)."""
    if kind == ".oas":
        library.write_oas(path)
    else:
        library.write_gds(path, timestamp=TIMESTAMP)


def check_layout_file(kind: str) -> files.Check:
    """The read-back of a written layout: a GDSII stream starts with HEADER and ends with
    ENDLIB; an OASIS file starts with its magic and ends with the 256-byte END record."""
    return check_oasis if kind == ".oas" else check_gds


check_gds = files.tail_check(GDS_HEADER, GDS_ENDLIB, "GDSII stream")


def check_oasis(path: Path) -> str | None:
    """What is wrong with a written OASIS file's head or END record, or None."""
    problem = files.tail_check(OASIS_MAGIC, b"", "OASIS file")(path)
    if problem is not None:
        return problem
    size = path.stat().st_size
    with open(path, "rb") as file:
        file.seek(max(size - OASIS_END_SIZE, 0))
        end = file.read(1)
    if size < len(OASIS_MAGIC) + OASIS_END_SIZE or end != bytes([OASIS_END]):
        return "the OASIS file written is cut short (it does not end with its END record)"
    return None
