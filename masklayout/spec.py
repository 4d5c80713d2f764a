"""The design spec (schema version 1): YAML in, validated immutable objects out.

``load(path)`` reads a spec, validates its shape (unknown keys, types, sizes) with pydantic,
then its meaning (names that must exist, openings that must grow, bumps that must fit the die
and not overlap), and returns a :class:`Design`: the spec, its technology, and where in the
file each key stands, so later stages can report a problem at its line too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import gdstk
import numpy as np
from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from masklayout.bumpmap import BumpFile, import_bumps
from masklayout.fields import (
    AutoOrPoint,
    CellName,
    Integer,
    Name,
    NonNegativeLength,
    Number,
    Pitch,
    Point,
    PositiveLength,
    Size,
    StrictModel,
    Temperature,
    name_check,
    parse_length,
)
from masklayout.geometry.overlaps import overlapping_pairs
from masklayout.geometry.shapes import ShapeName, contains, shape_points
from masklayout.netlist import AUTO, FREE_FORMS, DieNet, resolve_nets
from masklayout.reading import MAX_SITES_PER_DIE, MAX_SITES_PER_WAFER
from masklayout.source import Loc, Problem, SourceMap, SpecError, did_you_mean
from masklayout.tech import MASK_LAYERS, DepositMethodName, Exposure, Film, Tech, load_tech

MAX_DIES = 2e6  # grid positions on a wafer: far beyond any product, short of exhausting memory
MAX_REPORTED = 20  # bump entries reported outside the die, or overlapping; then a count
MAX_GRID = 1000  # columns or rows of one bump array or ring
# The spec's name starts the name of every cell (GDS cell names: letters, digits, _ and $).
SpecName = Annotated[
    str,
    AfterValidator(
        name_check(
            64, r"[A-Za-z_][A-Za-z0-9_$]*", "a letter or _ followed by letters, digits, _ and $"
        )
    ),
]


# --------------------------------------------------------------------------- wafer
class Wafer(StrictModel):
    """The wafer: size, orientation mark at -y, edge exclusion and the die grid."""

    diameter: Annotated[PositiveLength, Field(le=450_000)]
    orientation: Literal["notch", "flat", "none"] = "notch"
    edge_exclusion: NonNegativeLength = 3000.0
    die_step: Size
    scribe: NonNegativeLength = 80.0
    grid_offset: AutoOrPoint = "auto"

    @property
    def die_size(self) -> tuple[float, float]:
        """The die outline: the step less the scribe."""
        return (self.die_step[0] - self.scribe, self.die_step[1] - self.scribe)


# --------------------------------------------------------------------------- die
class Pad(StrictModel):
    """A bond pad of the chip (reference layer PAD), centred at ``at``."""

    name: Name
    at: Point
    size: Size
    net: str | None = None


class Grid(StrictModel):
    """A regular bump grid: ``count`` = [columns, rows] at ``pitch`` (one number or [x, y])."""

    pitch: Pitch
    count: tuple[
        Annotated[Integer, Field(ge=1, le=MAX_GRID)], Annotated[Integer, Field(ge=1, le=MAX_GRID)]
    ]
    center: Point = (0.0, 0.0)


class Ring(Grid):
    """The outer ``depth`` rows of a grid: a peripheral ring of bumps."""

    depth: Integer = Field(1, ge=1)


class BumpArray(StrictModel):
    """A full grid of bumps named JEDEC style (A1 top-left), minus ``skip``."""

    array: Grid
    stack: str | None = None
    skip: list[str] = Field(default_factory=list)
    nets: dict[str, str] = Field(default_factory=dict, description="site name -> net")


class BumpRing(StrictModel):
    """A peripheral ring of bumps named by their place in the full grid, minus ``skip``."""

    ring: Ring
    stack: str | None = None
    skip: list[str] = Field(default_factory=list)
    nets: dict[str, str] = Field(default_factory=dict, description="site name -> net")


class Bump(StrictModel):
    """One bump. ``on_pad`` puts its UBM directly over a bond pad (claim 14, no RDL);
    ``at`` then defaults to the pad centre."""

    name: Name
    at: Point | None = None
    stack: str | None = None
    on_pad: str | None = None
    net: Name | None = None


def _bump_kind(entry: Any) -> str:
    # tags that name no key: a tag shows in error paths, and 'array' would be taken for the key
    if isinstance(entry, dict):
        if "file" in entry:
            return "bump_file"
        return "bump_array" if "array" in entry else "bump_ring" if "ring" in entry else "bump_site"
    if isinstance(entry, BumpFile):
        return "bump_file"
    return (
        "bump_array"
        if isinstance(entry, BumpArray)
        else "bump_ring"
        if isinstance(entry, BumpRing)
        else "bump_site"
    )


BumpEntry = Annotated[
    Annotated[BumpArray, Tag("bump_array")]
    | Annotated[BumpRing, Tag("bump_ring")]
    | Annotated[Bump, Tag("bump_site")]
    | Annotated[BumpFile, Tag("bump_file")],
    Discriminator(_bump_kind),
]


class Route(StrictModel):
    """An RDL trace from a bond pad to a bump, automatic or through ``via`` waypoints: a
    one-pad one-bump net (named after the pad unless the pad or bump has a net). ``bump: auto``
    lets the tool choose a free bump, as a net's ``bumps: auto`` does."""

    pad: str
    bump: str
    via: list[Point] = Field(default_factory=list)
    style: Literal["manhattan", "diagonal"] | None = None
    width: PositiveLength | None = None


class AnyBumps(StrictModel):
    """Free assignment among the listed bumps: the tool picks one per pad of the net."""

    any: list[str] = Field(min_length=1)


def _net_bumps_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "auto" if isinstance(value, str) else "pick"


class NetEntry(StrictModel):
    """A net of ``die.nets``: its pads and bumps (a list, ``auto`` for one free bump per pad,
    or ``{any: [...]}``), trace width and style, and whether it is poured as a plane."""

    pads: list[str] = Field(default_factory=list)
    bumps: Annotated[
        Annotated[list[str], Tag("list")]
        | Annotated[Literal["auto"], Tag("auto")]
        | Annotated[AnyBumps, Tag("pick")],
        Discriminator(_net_bumps_kind),
    ] = Field(default_factory=list)
    width: PositiveLength | None = None
    style: Literal["manhattan", "diagonal"] | None = None
    plane: bool = False

    @field_validator("bumps", mode="before")
    @classmethod
    def _bumps_form(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "auto":
            hint = (
                "; did you mean 'auto'?"
                if value.lower().startswith("au")
                else "; {any: [names]} lists the bumps to choose from"
                if value.lower() == "any"
                else ""
            )
            raise ValueError(
                f"bumps is a list of bump names, 'auto' or {{any: [names]}} (found {value!r}{hint})"
            )
        if not isinstance(value, (str, list, dict, AnyBumps)):
            raise ValueError(
                f"bumps is a list of bump names, 'auto' or {{any: [names]}} (found {value!r})"
            )
        return value


class Keepout(StrictModel):
    """An area the router keeps out of: a rectangle (two corners) or a polygon, on ``layers``
    (default: all). Keep-outs are drawn nowhere."""

    rect: tuple[Point, Point] | None = None
    polygon: list[Point] | None = Field(None, min_length=3)
    layers: list[str] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Keepout:
        if (self.rect is None) == (self.polygon is None):
            raise ValueError(
                "a keep-out is either 'rect: [[x0, y0], [x1, y1]]' or 'polygon: [[x, y], ...]'"
            )
        return self

    def points(self) -> np.ndarray:
        """The keep-out's outline as an (n, 2) array."""
        if self.rect is not None:
            (x0, y0), (x1, y1) = self.rect
            return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)
        return np.asarray(self.polygon, dtype=float)


class Rdl(StrictModel):
    """Redistribution layer: trace width, automatic routing style, capture pads (claim 13).

    ``pi1`` is the PI1 opening over a routed pad (default: the pad less the PAD.EN.PI1 rule);
    capture pads enclose the PI1 opening and the UBM by the tech rules RDL.EN.PI1, RDL.EN.UBM.
    ``teardrop`` widens each trace into its capture pads where the room allows.
    """

    width: PositiveLength = 20.0
    style: Literal["manhattan", "diagonal"] = "manhattan"
    pi1: PositiveLength | None = None
    routes: list[Route] = Field(default_factory=list)
    teardrop: bool = False


class Die(StrictModel):
    """The chip: bond pads, bump sites, RDL, nets and keep-outs."""

    pads: list[Pad] = Field(default_factory=list)
    bumps: list[BumpEntry] = Field(default_factory=list)
    rdl: Rdl = Field(default_factory=Rdl)
    nets: dict[str, NetEntry] = Field(default_factory=dict)
    keepout: list[Keepout] = Field(default_factory=list)
    size: Size | None = Field(
        None,
        description="the die outline [x, y]; instead of wafer.die_step, which is size + scribe",
    )


# --------------------------------------------------------------------------- stacks and masks
class Shape(StrictModel):
    """A pad or opening: ``diameter`` is the circle's diameter, the octagon's flat-to-flat width,
    the square's side."""

    shape: ShapeName = "circle"
    diameter: PositiveLength


class Opening(StrictModel):
    """A solder-mask opening of mask ``mask``; shape defaults to the UBM's."""

    mask: str
    diameter: PositiveLength
    shape: ShapeName | None = None


class Stack(StrictModel):
    """One bump type: UBM, PI2 opening, and the stacked solder-mask openings (first, second
    larger, optional third larger still)."""

    ubm: Shape
    pi2: Shape
    openings: list[Opening] = Field(min_length=1, max_length=3)

    def opening_shape(self, index: int) -> ShapeName:
        return self.openings[index].shape or self.ubm.shape


class Mask(StrictModel):
    """A solder-mask film (claims 7-10)."""

    thickness: PositiveLength
    film: Film = "photoresist"
    apply: Literal["spin_coat", "laminate"] = "spin_coat"
    max_temperature: float | None = None  # °C the film stands; default: the tech's film_limits
    exposure: Exposure | None = None  # over the tech's (build --split --flat)


# --------------------------------------------------------------------------- process
class FormMask(StrictModel):
    step: Literal["form_mask"]
    mask: str


class Deposit(StrictModel):
    """``method`` defaults by the solder's form (paste: print, powder: powder); ``fill``
    defaults to the method's in the tech (``deposit_methods``)."""

    step: Literal["deposit"]
    into: str
    solder: str
    method: DepositMethodName | None = None
    fill: Number | None = Field(None, gt=0, le=1)


class Reflow(StrictModel):
    step: Literal["reflow"]
    peak: Temperature


class Strip(StrictModel):
    step: Literal["strip"]
    masks: list[str] = Field(min_length=1)


Step = Annotated[FormMask | Deposit | Reflow | Strip, Field(discriminator="step")]


# --------------------------------------------------------------------------- the spec
class Spec(StrictModel):
    """A whole design: wafer, die, opening stacks, masks and the process flow."""

    masklayout: Literal[1] = Field(description="schema version")
    name: SpecName
    tech: str = "wlcsp-400"
    wafer: Wafer
    die: Die
    stacks: dict[CellName, Stack] = Field(min_length=1)
    masks: dict[str, Mask] = Field(min_length=1)
    process: list[Step] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _die_step_from_die_size(cls, data: Any) -> Any:
        """``die.size`` given without ``wafer.die_step``: the step is the size plus the scribe.
        A size that is not a pair of lengths is left for the schema to report."""
        if not isinstance(data, dict):
            return data
        wafer, die = data.get("wafer"), data.get("die")
        if not (isinstance(wafer, dict) and isinstance(die, dict)):
            return data
        size = die.get("size")
        if "die_step" in wafer or not isinstance(size, list | tuple) or len(size) != 2:
            return data
        try:
            x, y = (parse_length(v) for v in size)
            scribe = parse_length(wafer.get("scribe", Wafer.model_fields["scribe"].default))
        except (PydanticCustomError, TypeError, ValueError):
            return data
        return {**data, "wafer": {**wafer, "die_step": [x + scribe, y + scribe]}}


# --------------------------------------------------------------------------- bump sites
_ROW_LETTERS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IOQSXZ"]


def row_name(row: int) -> str:
    """JEDEC row name: A..Y without I O Q S X Z, then AA, AB, ... YY, then AAA, AAB, ..."""
    n, name = len(_ROW_LETTERS), ""
    row += 1
    while row > 0:
        row, letter = divmod(row - 1, n)
        name = _ROW_LETTERS[letter] + name
    return name


@dataclass(frozen=True)
class Site:
    """A resolved bump site on the die. ``entry`` is its index in ``die.bumps``; ``line`` its
    line in the entry's bump file (None: given in the spec)."""

    name: str
    x: float
    y: float
    stack: str
    entry: int
    on_pad: str | None = None
    net: str | None = None
    line: int | None = None


def _pitch(grid: Grid) -> tuple[float, float]:
    return (grid.pitch, grid.pitch) if isinstance(grid.pitch, float) else grid.pitch


def grid_sites(grid: Grid) -> list[tuple[str, float, float, int, int]]:
    """(name, x, y, column, row) of every site of a grid, row A at the top, column 1 left."""
    (px, py), (nx, ny) = _pitch(grid), grid.count
    depth = grid.depth if isinstance(grid, Ring) else max(nx, ny)
    sites = []
    for row in range(ny):
        for col in range(nx):
            if min(col, nx - 1 - col, row, ny - 1 - row) >= depth:
                continue
            x = grid.center[0] + (col - (nx - 1) / 2) * px
            y = grid.center[1] + ((ny - 1) / 2 - row) * py
            sites.append((f"{row_name(row)}{col + 1}", x, y, col, row))
    return sites


# --------------------------------------------------------------------------- shapes
def circumradius(shape: ShapeName, diameter: float) -> float:
    """Radius of the smallest circle around the shape."""
    factor = {"circle": 1.0, "octagon": 1 / math.cos(math.pi / 8), "square": math.sqrt(2)}[shape]
    return diameter / 2 * factor


# --------------------------------------------------------------------------- the design
@dataclass(frozen=True)
class Design:
    """A validated spec with its technology and source positions: what every command takes."""

    spec: Spec
    tech: Tech
    source: SourceMap
    sites: tuple[Site, ...]
    nets: tuple[DieNet, ...] = ()
    base: Path | None = None  # the folder the spec's tech path is taken relative to

    def error(self, loc: Loc, message: str) -> SpecError:
        """A located error at key path ``loc`` of the spec."""
        return self.source.error(loc, message)

    @property
    def die_size(self) -> tuple[float, float]:
        """Die outline size: the step less the scribe."""
        return self.spec.wafer.die_size

    def rule_value(self, name: str, default: float) -> float:
        """A rule of the tech's deck for this design: a value given per film is taken for the
        films of the spec's masks (the strictest), e.g. ``BALL.GAP``."""
        films = [mask.film for mask in self.spec.masks.values()]
        return self.tech.rule_value(name, default, films)

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def pad(self, name: str) -> Pad:
        return next(p for p in self.spec.die.pads if p.name == name)

    def net(self, name: str) -> DieNet:
        return next(n for n in self.nets if n.name == name)

    @property
    def routed_pads(self) -> tuple[Pad, ...]:
        """The pads RDL reaches (they get a PI1 opening and a capture pad), in spec order."""
        names = {p for net in self.nets if net.routed for p in net.rdl_pads}
        return tuple(p for p in self.spec.die.pads if p.name in names)

    @property
    def wired_nets(self) -> dict[str, set[str]]:
        """Net name -> the terminals (``pad NAME``, ``bump NAME``) the layout must join: those of
        the nets drawn in RDL, and each pad with the bumps on it. Nets of a lone terminal, or of
        bumps and no pad, join nothing and are left out."""
        return {
            net.name: net.terminals
            for net in self.nets
            if net.routed or (net.pads and not net.rdl_pads and net.bumps)
        }

    @cached_property
    def _net_by_terminal(self) -> dict[str, DieNet]:
        return {terminal: net for net in self.nets for terminal in net.terminals}

    def net_of(self, terminal: str) -> DieNet | None:
        """The net of ``pad NAME`` or ``bump NAME``, if it has one."""
        return self._net_by_terminal.get(terminal)


def load(path: str | Path) -> Design:
    """Read and validate a spec file (``-`` for standard input)."""
    return from_source(SourceMap.read(path), Path(path).parent if str(path) != "-" else Path.cwd())


def loads(text: str, file: str = "<string>", base: Path | None = None) -> Design:
    """Validate a spec given as YAML text."""
    return from_source(SourceMap(text, file), base or Path.cwd())


def from_source(source: SourceMap, base: Path) -> Design:
    """Validate a parsed spec; tech file paths are taken relative to ``base``."""
    if not isinstance(source.data, dict):
        raise source.error(
            [],
            "a spec is a mapping with keys masklayout, name, tech, wafer, die, stacks, masks, process",
        )
    try:
        spec = Spec.model_validate(source.data)
    except ValidationError as exc:
        raise source.validation_error(exc) from None
    try:
        tech = load_tech(spec.tech, base)
    except FileNotFoundError as exc:
        raise source.error(["tech"], str(exc)) from None
    sites, nets, problems = _check(spec, tech, source, base)
    if problems:
        raise SpecError(problems)
    return Design(spec, tech, source, tuple(sites), nets, base=base)


def _known(names: Any) -> str:
    return ", ".join(sorted(names)) or "none defined"


class _Problems:
    """Problems found in a spec, located by key path."""

    def __init__(self, source: SourceMap):
        self.source = source
        self.found: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.found.append(self.source.problem(loc, message))


def _check(
    spec: Spec, tech: Tech, source: SourceMap, base: Path
) -> tuple[list[Site], tuple[DieNet, ...], list[Problem]]:
    """Cross-references and geometry the schema cannot express; bump files are read from
    ``base``."""
    problems = _Problems(source)
    _check_stacks(spec, problems)
    pads = _check_pads(spec, problems)
    if not _check_site_count(spec, problems):
        return [], (), problems.found
    sites, file_lost = _resolve_sites(spec, pads, base, problems)
    named = _check_names(sites, problems)
    _check_wafer(spec.wafer, problems)
    _check_die_size(spec, problems)
    _check_placement(spec, sites, problems)
    _check_routes(spec, pads, named, file_lost, problems)
    nets = resolve_nets(spec, list(named.values()), pads, problems)
    _check_keepouts(spec, tech, problems)
    _check_rdl_widths(spec, tech, nets, problems)
    _check_process(spec, tech, problems)
    return sites, nets, problems.found


def _check_stacks(spec: Spec, problems: _Problems) -> None:
    """Masks are solder masks; each stack's openings use distinct known masks and each
    contains the one below it."""
    for name in spec.masks:
        if name not in MASK_LAYERS:
            problems.add(
                ["masks", name],
                f"unknown mask '{name}' (solder masks are {', '.join(MASK_LAYERS)})",
            )
    for sname in spec.stacks:
        if sname.endswith("_RDL") and sname.removesuffix("_RDL") in spec.stacks:
            problems.add(
                ["stacks", sname],
                f"stack name '{sname}' is the name of the RDL variant of stack "
                f"'{sname.removesuffix('_RDL')}' (cell ..._STACK_{sname}): rename one of them",
            )
    for sname, stack in spec.stacks.items():
        used = [o.mask for o in stack.openings]
        for k, opening in enumerate(stack.openings):
            loc: Loc = ["stacks", sname, "openings", k]
            if opening.mask not in spec.masks:
                problems.add(
                    [*loc, "mask"], f"unknown mask '{opening.mask}' (known: {_known(spec.masks)})"
                )
            elif used.index(opening.mask) != k:
                problems.add(
                    [*loc, "mask"], f"mask '{opening.mask}' already has an opening in this stack"
                )
            if k > 0:
                below = stack.openings[k - 1]
                inner = shape_points(stack.opening_shape(k - 1), below.diameter)
                outer = shape_points(stack.opening_shape(k), opening.diameter)
                if opening.diameter <= below.diameter or not contains(outer, inner):
                    problems.add(
                        [*loc, "diameter"],
                        f"{stack.opening_shape(k)} {opening.diameter:g} must be larger than and contain "
                        f"the opening below it ({below.mask}: {stack.opening_shape(k - 1)} {below.diameter:g})",
                    )


def _check_site_count(spec: Spec, problems: _Problems) -> bool:
    """The arrays and rings make at most :data:`MAX_SITES_PER_DIE` sites, and the wafer at most
    :data:`MAX_SITES_PER_WAFER`; counted before any site is made."""
    per_die = 0
    for entry in spec.die.bumps:
        if isinstance(entry, BumpArray):
            per_die += entry.array.count[0] * entry.array.count[1]
        elif isinstance(entry, BumpRing):
            (nx, ny), depth = entry.ring.count, entry.ring.depth
            per_die += nx * ny - max(nx - 2 * depth, 0) * max(ny - 2 * depth, 0)
        elif isinstance(entry, Bump):
            per_die += 1
    if per_die > MAX_SITES_PER_DIE:
        problems.add(
            ["die", "bumps"],
            f"the arrays and rings make {per_die:,} bump sites per die (at most {MAX_SITES_PER_DIE:,})",
        )
        return False
    wafer = spec.wafer
    dies = math.pi * (wafer.diameter / 2) ** 2 / (wafer.die_step[0] * wafer.die_step[1])
    if per_die * dies > MAX_SITES_PER_WAFER:
        problems.add(
            ["die", "bumps"],
            f"{per_die:,} bump sites per die on about {dies:,.0f} dies make {per_die * dies:.3g} "
            f"bump sites on the wafer (at most {MAX_SITES_PER_WAFER:.0e})",
        )
        return False
    return True


def _check_pads(spec: Spec, problems: _Problems) -> dict[str, int]:
    """Pad names are unique and pads lie on the die; returns each name's index in ``die.pads``."""
    half_w, half_h = spec.wafer.die_size[0] / 2, spec.wafer.die_size[1] / 2
    index: dict[str, int] = {}
    for i, pad in enumerate(spec.die.pads):
        (x, y), (w, h) = pad.at, pad.size
        if abs(x) + w / 2 > half_w or abs(y) + h / 2 > half_h:
            problems.add(
                ["die", "pads", i, "at"],
                f"pad '{pad.name}' at ({x:g}, {y:g}), size {w:g} x {h:g}, reaches outside the die "
                f"({2 * half_w:g} x {2 * half_h:g} centred at (0, 0): die_step less scribe)",
            )
        if pad.name in index:
            problems.add(
                ["die", "pads", i, "name"],
                f"pad name '{pad.name}' is already used by die.pads[{index[pad.name]}]",
            )
        index.setdefault(pad.name, i)
    _check_pad_overlaps(spec, problems)
    return index


def _check_pad_overlaps(spec: Spec, problems: _Problems) -> None:
    """No two pads overlap (reported at the later one, for the first :data:`MAX_REPORTED`)."""
    pads = spec.die.pads
    sizes = sorted({tuple(pad.size) for pad in pads})
    outlines = [np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 for w, h in sizes]
    kind = np.array([sizes.index(tuple(pad.size)) for pad in pads], dtype=np.int64)
    xy = np.array([pad.at for pad in pads], dtype=float).reshape(-1, 2)
    found = overlapping_pairs(xy, kind, outlines)
    pairs = sorted(zip(found.j.tolist(), found.i.tolist(), strict=True))  # i < j: by later pad
    for j, i in pairs[:MAX_REPORTED]:
        a, b = pads[i], pads[j]
        problems.add(
            ["die", "pads", j, "at"],
            f"pad '{b.name}' at ({b.at[0]:g}, {b.at[1]:g}) overlaps pad '{a.name}' at "
            f"({a.at[0]:g}, {a.at[1]:g})",
        )
    _more(problems, ["die", "pads"], "overlapping pads", len(pairs) - MAX_REPORTED)


def _resolve_sites(
    spec: Spec, pads: dict[str, int], base: Path, problems: _Problems
) -> tuple[list[Site], bool]:
    """Every bump site of ``die.bumps``, and whether a bump file gave none at all (then routes
    to its bumps are not reported again)."""
    default_stack = next(iter(spec.stacks)) if len(spec.stacks) == 1 else None
    sites: list[Site] = []
    file_lost = False
    for i, entry in enumerate(spec.die.bumps):
        loc: Loc = ["die", "bumps", i]
        if isinstance(entry, BumpFile):
            imported, found = import_bumps(
                entry, base, spec.wafer.die_size, spec.stacks, problems.source, loc
            )
            problems.found.extend(found)
            file_lost = file_lost or (bool(found) and not imported)
            sites.extend(
                Site(b.name, b.x, b.y, b.stack, i, net=b.net, line=b.line) for b in imported
            )
            continue
        stack = entry.stack or default_stack
        if stack is None:
            problems.add(
                [*loc, "stack"],
                f"stack is required when there are several (known: {_known(spec.stacks)})",
            )
            continue
        if stack not in spec.stacks:  # its sites still count as names, for the routes
            problems.add([*loc, "stack"], f"unknown stack '{stack}' (known: {_known(spec.stacks)})")
        if isinstance(entry, Bump):
            site = _explicit_site(spec, entry, stack, i, pads, problems)
            if site is not None:
                sites.append(site)
            continue
        grid, kind = (
            (entry.array, "array") if isinstance(entry, BumpArray) else (entry.ring, "ring")
        )
        names = set()
        for name, x, y, _, _ in grid_sites(grid):
            names.add(name)
            if name not in entry.skip:
                sites.append(Site(name, x, y, stack, i, net=entry.nets.get(name)))
        for k, name in enumerate(entry.skip):
            if name not in names:
                problems.add([*loc, "skip", k], f"'{name}' is not a site of this {kind}")
        for name in entry.nets:
            if name not in names or name in entry.skip:
                why = "skipped" if name in names else f"not a site of this {kind}"
                problems.add([*loc, "nets", name], f"'{name}' is {why}")
    return sites, file_lost


def _explicit_site(
    spec: Spec, bump: Bump, stack: str, i: int, pads: dict[str, int], problems: _Problems
) -> Site | None:
    """The site of one listed bump; on a pad it defaults to the pad centre and must lie on it."""
    loc: Loc = ["die", "bumps", i]
    at = bump.at
    if bump.on_pad is not None:
        if bump.on_pad not in pads:
            problems.add([*loc, "on_pad"], f"unknown pad '{bump.on_pad}' (known: {_known(pads)})")
            return None
        pad = spec.die.pads[pads[bump.on_pad]]
        at = at or pad.at
        if abs(at[0] - pad.at[0]) > pad.size[0] / 2 or abs(at[1] - pad.at[1]) > pad.size[1] / 2:
            problems.add(
                [*loc, "at"],
                f"bump at {tuple(at)} is not over pad '{pad.name}' (centre {tuple(pad.at)}, size {tuple(pad.size)})",
            )
    if at is None:
        problems.add([*loc, "at"], "a bump needs 'at' (or 'on_pad' to sit on a pad)")
        return None
    return Site(bump.name, at[0], at[1], stack, i, bump.on_pad, bump.net)


def _check_names(sites: list[Site], problems: _Problems) -> dict[str, Site]:
    """Bump names are unique; returns the sites by name."""
    named: dict[str, Site] = {}
    for site in sites:
        if site.name in named:
            problems.add(
                ["die", "bumps", site.entry],
                f"bump name '{site.name}' is already used by die.bumps[{named[site.name].entry}]",
            )
        named.setdefault(site.name, site)
    return named


def _check_die_size(spec: Spec, problems: _Problems) -> None:
    """A die size given beside the step must be the step less the scribe."""
    size, outline = spec.die.size, spec.wafer.die_size
    if size is not None and any(abs(a - b) > 1e-6 for a, b in zip(size, outline, strict=True)):
        problems.add(
            ["die", "size"],
            f"die size {size[0]:g} x {size[1]:g} disagrees with wafer.die_step "
            f"{spec.wafer.die_step[0]:g} x {spec.wafer.die_step[1]:g} less the scribe "
            f"{spec.wafer.scribe:g} ({outline[0]:g} x {outline[1]:g}): give one of the two",
        )


def _check_wafer(wafer: Wafer, problems: _Problems) -> None:
    """The scribe leaves a die, and the grid stays a size a computer holds."""
    if min(wafer.die_size) <= 0:
        problems.add(
            ["wafer", "scribe"],
            f"scribe {wafer.scribe:g} leaves no die inside the step {tuple(wafer.die_step)}",
        )
    if wafer.edge_exclusion >= wafer.diameter / 2:
        problems.add(
            ["wafer", "edge_exclusion"],
            f"edge exclusion {wafer.edge_exclusion:g} µm leaves nothing of a {wafer.diameter / 1000:g} mm wafer "
            f"(at most its radius, {wafer.diameter / 2:g} µm)",
        )
    grid_dies = (wafer.diameter / wafer.die_step[0] + 3) * (wafer.diameter / wafer.die_step[1] + 3)
    if grid_dies > MAX_DIES:
        problems.add(
            ["wafer", "die_step"],
            f"die step {tuple(wafer.die_step)} puts {grid_dies:.3g} dies on a {wafer.diameter / 1000:g} mm wafer (at most {MAX_DIES:.0e})",
        )


def _check_placement(spec: Spec, sites: list[Site], problems: _Problems) -> None:
    """Every UBM lies inside the die and overlaps no other; reported once per bump entry, for
    the first :data:`MAX_REPORTED` entries."""
    half_w, half_h = spec.wafer.die_size[0] / 2, spec.wafer.die_size[1] / 2
    placed = [site for site in sites if site.stack in spec.stacks]
    names = list(spec.stacks)
    kind = np.array([names.index(s.stack) for s in placed], dtype=np.int64)
    xy = np.array([(s.x, s.y) for s in placed], dtype=float).reshape(-1, 2)
    entry = np.array([s.entry for s in placed], dtype=np.int64)
    half = np.array([spec.stacks[n].ubm.diameter / 2 for n in names])[kind]
    # every shape reaches diameter / 2 along x and y
    out = np.flatnonzero((np.abs(xy[:, 0]) + half > half_w) | (np.abs(xy[:, 1]) + half > half_h))
    outside: dict[int, list[Site]] = {}
    for k in out:
        if len(outside) < MAX_REPORTED or entry[k] in outside:
            outside.setdefault(int(entry[k]), []).append(placed[k])
    for at, sites_out in outside.items():
        ubm = spec.stacks[sites_out[0].stack].ubm
        problems.add(
            ["die", "bumps", at],
            f"{_sites_text(sites_out)} with UBM {ubm.shape} {ubm.diameter:g} reach{'es' if len(sites_out) == 1 else ''} outside the die "
            f"({2 * half_w:g} x {2 * half_h:g} centred at (0, 0): die_step less scribe)",
        )
    _more(
        problems,
        ["die", "bumps"],
        "bump entries reach outside the die",
        len(np.unique(entry[out])) - len(outside),
    )
    outlines = [shape_points(spec.stacks[n].ubm.shape, spec.stacks[n].ubm.diameter) for n in names]
    found = overlapping_pairs(xy, kind, outlines)
    by_entry = entry[found.j]
    firsts = np.unique(by_entry, return_index=True)[1]
    counts = np.bincount(by_entry, minlength=len(spec.die.bumps))
    at_least = "" if found.complete else "at least "
    for first in sorted(firsts)[:MAX_REPORTED]:
        a, b = placed[found.i[first]], placed[found.j[first]]
        more = counts[b.entry] - 1
        note = f" ({at_least}{more} more overlapping pairs)" if more > 0 else ""
        problems.add(
            ["die", "bumps", b.entry],
            f"UBM of bump {b.name} at ({b.x:g}, {b.y:g}) overlaps the UBM of bump {a.name} at ({a.x:g}, {a.y:g}){note}",
        )
    _more(
        problems, ["die", "bumps"], "bump entries have overlapping UBMs", len(firsts) - MAX_REPORTED
    )


def _more(problems: _Problems, loc: Loc, what: str, count: int) -> None:
    """One problem at ``loc`` for the ``count`` entries past :data:`MAX_REPORTED` (``what``:
    the entries and what they do too), when there are any."""
    if count > 0:
        problems.add(loc, f"and {count} more {what}")


def _check_routes(
    spec: Spec, pads: dict[str, int], named: dict[str, Site], file_lost: bool, problems: _Problems
) -> None:
    """Each route joins a known pad to a known bump that has no pad of its own, once."""
    first: dict[tuple[str, str], int] = {}
    for i, route in enumerate(spec.die.rdl.routes):
        loc: Loc = ["die", "rdl", "routes", i]
        if route.bump != AUTO and (route.pad, route.bump) in first:
            problems.add(
                loc,
                f"route {route.pad} -> {route.bump} is listed twice (first as "
                f"die.rdl.routes[{first[route.pad, route.bump]}]): a copy left unedited?",
            )
        first.setdefault((route.pad, route.bump), i)
        if route.pad not in pads:
            problems.add([*loc, "pad"], f"unknown pad '{route.pad}' (known: {_known(pads)})")
        if route.bump == AUTO:
            if route.via:
                problems.add(
                    [*loc, "via"],
                    "a route through waypoints ends at a bump it names (found bump: auto)",
                )
        elif route.bump not in named:
            free = route.bump.lower() in FREE_FORMS
            hint = "; a route's free bump is bump: auto" if free else ""
            if not file_lost:
                problems.add(
                    [*loc, "bump"],
                    f"unknown bump '{route.bump}' (known: {_summary(named)}){hint}",
                )
        elif named[route.bump].on_pad:
            problems.add(
                [*loc, "bump"],
                f"bump '{route.bump}' sits on pad '{named[route.bump].on_pad}' and needs no route",
            )


def _check_keepouts(spec: Spec, tech: Tech, problems: _Problems) -> None:
    """Keep-outs name layers of the tech, enclose an area and overlap the die (one may reach
    past its edge, to close the passage along it)."""
    half_w, half_h = spec.wafer.die_size[0] / 2, spec.wafer.die_size[1] / 2
    for i, keepout in enumerate(spec.die.keepout):
        for k, layer in enumerate(keepout.layers or []):
            if layer not in tech.layers:
                problems.add(
                    ["die", "keepout", i, "layers", k],
                    f"unknown layer '{layer}'{did_you_mean(layer, tech.layers)} "
                    f"(known: {_known(tech.layers)})",
                )
        if gdstk.Polygon(keepout.points()).area() <= 0:
            problems.add(["die", "keepout", i], "a keep-out must enclose an area")
        (x0, y0), (x1, y1) = keepout.points().min(axis=0), keepout.points().max(axis=0)
        if x0 >= half_w or x1 <= -half_w or y0 >= half_h or y1 <= -half_h:
            problems.add(
                ["die", "keepout", i, "rect" if keepout.rect is not None else "polygon"],
                f"the keep-out lies outside the die (x {x0:g} to {x1:g}, y {y0:g} to {y1:g}; "
                f"the die spans x ±{half_w:g}, y ±{half_h:g} about its centre)",
            )


def _check_rdl_widths(
    spec: Spec, tech: Tech, nets: tuple[DieNet, ...], problems: _Problems
) -> None:
    """Trace widths (``rdl.width`` when a net is routed, a net's, a route's) are at least the
    tech's RDL width rules: a narrower trace would be drawn only to fail ``check``."""
    rules = [
        (name, tech.rule_value(name, 0.0))
        for name, rule in tech.rules.items()
        if rule.check == "width"
        and getattr(rule, "layer", None) == "RDL"
        and rule.severity == "error"
    ]
    if not rules:
        return
    rule, least = max(rules, key=lambda r: r[1])
    default = "" if "width" in spec.die.rdl.model_fields_set else " (the default)"
    given: list[tuple[Loc, float | None, str]] = []
    if any(net.routed for net in nets):
        given.append((["die", "rdl", "width"], spec.die.rdl.width, default))
    given += [(["die", "nets", n, "width"], e.width, "") for n, e in spec.die.nets.items()]
    given += [
        (["die", "rdl", "routes", i, "width"], r.width, "")
        for i, r in enumerate(spec.die.rdl.routes)
    ]
    for loc, width, note in given:
        if width is not None and width < least:
            problems.add(
                loc,
                f"trace width {width:g} µm{note} is under the tech's {rule} minimum of "
                f"{least:g} µm (tech {tech.name}; 'masklayout tech {tech.name}' lists its rules)",
            )


def _step_masks(step: FormMask | Deposit | Reflow | Strip) -> list[tuple[Loc, str]]:
    """(key path within the step, mask name) of every mask a step names."""
    if isinstance(step, FormMask):
        return [(["mask"], step.mask)]
    if isinstance(step, Deposit):
        return [(["into"], step.into)]
    if isinstance(step, Strip):
        return [(["masks", k], mask) for k, mask in enumerate(step.masks)]
    return []


def _check_process(spec: Spec, tech: Tech, problems: _Problems) -> None:
    """The steps name known masks and solders (the flow itself is the step runner's to judge)."""
    for i, step in enumerate(spec.process):
        for key, mask in _step_masks(step):
            if mask not in spec.masks:
                problems.add(
                    ["process", i, *key], f"unknown mask '{mask}' (known: {_known(spec.masks)})"
                )
        if isinstance(step, Deposit) and step.solder not in tech.solders:
            problems.add(
                ["process", i, "solder"],
                f"unknown solder '{step.solder}' (known in tech {tech.name}: {_known(tech.solders)})",
            )


def _sites_text(sites: list[Site], most: int = 4) -> str:
    """``bumps A9 (2400, 1400), A10 (2800, 1400) and 3 more``."""
    shown = ", ".join(f"{s.name} ({s.x:g}, {s.y:g})" for s in sites[:most])
    more = f" and {len(sites) - most} more" if len(sites) > most else ""
    return f"bump{'s' if len(sites) > 1 else ''} {shown}{more}"


def _summary(names: dict[str, Any], most: int = 12) -> str:
    shown = sorted(names)[:most]
    more = len(names) - len(shown)
    return (
        ", ".join(shown) + (f", ... {more} more" if more > 0 else "") if shown else "none defined"
    )


def json_schema() -> dict:
    """JSON Schema of the spec, for editors."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "masklayout spec, schema version 1"
    return schema
