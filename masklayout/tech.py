"""Technology: layer map, materials and rule deck, read from ``tech/*.yaml``.

A tech file may ``extends:`` another by name; its keys are merged over the base's, one level
deep (a rule or a layer given again replaces the base's).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from masklayout.fields import (
    Integer,
    Length,
    Name,
    NonNegativeLength,
    PositiveLength,
    PositiveNumber,
    StrictModel,
    Temperature,
)
from masklayout.source import Loc, Problem, SourceMap, SpecError

LayerNumber = Annotated[Integer, Field(ge=0, le=65535)]  # GDSII stores them in 16 bits
LayerSpec = tuple[LayerNumber, LayerNumber]
Film = Literal["photoresist", "dry_film"]

DEFAULT_LAYERS: dict[str, tuple[int, int]] = {
    "WAFER": (1, 0), "EXCLUSION": (2, 0), "DIE": (3, 0), "PAD": (10, 0), "PI1": (11, 0),
    "RDL": (12, 0), "PI2": (13, 0), "UBM": (14, 0), "SM1": (21, 0), "SM2": (22, 0),
    "SM3": (23, 0), "TEXT": (63, 0),
}  # fmt: skip
MASK_LAYERS = ("SM1", "SM2", "SM3")
COMPOSITION_TOLERANCE = 0.01  # wt%
# Rules that divide by their value or bound a size from below: zero makes no sense.
MAX_RULE_VALUE = 10_000.0
POSITIVE_CHECKS = ("width", "pitch", "aspect_ratio", "area_ratio", "ball_width")


class Alloy(StrictModel):
    """A solder alloy: composition in wt%, solidus and liquidus in °C, density in g/cm³."""

    composition: dict[str, PositiveNumber] = Field(min_length=1)
    solidus: Temperature
    liquidus: Temperature
    density: PositiveNumber
    liquid_density: PositiveNumber | None = None  # the melt near its liquidus

    @model_validator(mode="after")
    def _consistent(self) -> Alloy:
        total = sum(self.composition.values())
        if abs(total - 100.0) > COMPOSITION_TOLERANCE:
            raise ValueError(f"composition must add up to 100 wt% (adds up to {total:g})")
        if self.liquidus < self.solidus:
            raise ValueError(f"liquidus {self.liquidus:g} is below solidus {self.solidus:g}")
        return self


class Solder(StrictModel):
    """A solder as deposited: paste (metal wt% in flux) or dry powder (packing fraction)."""

    alloy: str
    form: Literal["paste", "powder"]
    metal_wt: PositiveNumber | None = Field(None, le=100)
    flux_density: PositiveNumber = 1.0
    packing: PositiveNumber | None = Field(None, le=1)
    source: str = ""

    @model_validator(mode="after")
    def _form_fields(self) -> Solder:
        if self.form == "paste" and self.metal_wt is None:
            raise ValueError("a paste needs metal_wt (metal weight percent)")
        if self.form == "powder" and self.packing is None:
            raise ValueError("a powder needs packing (packing fraction)")
        return self


def parse_rule_value(value: Any) -> float | dict[str, float]:
    """A rule value: a finite number, or a finite number per mask film; not negative."""
    films = get_args(Film)
    if isinstance(value, dict):
        unknown = [str(k) for k in value if k not in films]
        if unknown:
            raise PydanticCustomError(
                "spec_value",
                f"unknown film '{unknown[0]}' (known: {', '.join(films)})",
            )
        return {film: _rule_number(v, film) for film, v in value.items()}
    return _rule_number(value)


def _rule_number(value: Any, film: str | None = None) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        what = f"for {film} " if film else ""
        raise PydanticCustomError(
            "spec_value",
            f"expected a number {what}that is finite and not negative, or a number per film "
            f"({{photoresist: 30, dry_film: 50}}), found {value!r}",
        )
    return float(value)


RuleValue = Annotated[float | dict[Film, float], BeforeValidator(parse_rule_value)]


class _Rule(StrictModel):
    """What every rule has: its value (a number, or a number per mask film), severity, note."""

    value: RuleValue
    severity: Literal["error", "warning"] = "error"
    doc: str = ""

    @model_validator(mode="after")
    def _positive(self) -> _Rule:
        values = self.value.values() if isinstance(self.value, dict) else [self.value]
        check = getattr(self, "check", "")  # each kind of rule declares its own
        if check in POSITIVE_CHECKS and min(values) <= 0:
            raise ValueError(f"value: {check} needs a value greater than 0 (found {min(values):g})")
        if max(values) > MAX_RULE_VALUE:
            raise ValueError(
                f"value: at most {MAX_RULE_VALUE:g} (µm: 10 mm, beyond any die; found "
                f"{max(values):g}); KLayout's checks slow to a halt at such distances"
            )
        return self

    def for_film(self, film: Film) -> float:
        """The rule's value for a mask of this film."""
        return self.value[film] if isinstance(self.value, dict) else self.value

    def layer_keys(self) -> list[tuple[list[str | int], str]]:
        """The layers the rule names: (key path in the rule, layer name)."""
        return []


class LayerRule(_Rule):
    """A rule on one layer: minimum width, space, centre to die edge, centre pitch, clearance
    inside the die outline."""

    check: Literal["width", "space", "center_to_edge", "pitch", "edge_clearance"]
    layer: str

    def layer_keys(self) -> list[tuple[list[str | int], str]]:
        return [(["layer"], self.layer)]


class EnclosureRule(_Rule):
    """``outer`` encloses ``inner`` by at least the value (and inner lies inside outer); with
    ``scope: interacting``, only the inner shapes that touch outer."""

    check: Literal["enclosure"]
    outer: str
    inner: str
    scope: Literal["all", "interacting"] = "all"

    def layer_keys(self) -> list[tuple[list[str | int], str]]:
        return [(["outer"], self.outer), (["inner"], self.inner)]


class SeparationRule(_Rule):
    """Minimum space between shapes of two layers."""

    check: Literal["separation"]
    layer: str
    other: str

    def layer_keys(self) -> list[tuple[list[str | int], str]]:
        return [(["layer"], self.layer), (["other"], self.other)]


class MaskRule(_Rule):
    """A rule per solder mask (its value may be given per film): web, aspect ratio, area ratio;
    ``layers`` defaults to every solder mask."""

    check: Literal["web", "aspect_ratio", "area_ratio"]
    layers: list[str] | None = Field(None, min_length=1)

    def layer_keys(self) -> list[tuple[list[str | int], str]]:
        return [(["layers", k], name) for k, name in enumerate(self.layers or [])]


class BallRule(_Rule):
    """A rule on the reflowed balls of the step runner: minimum width, minimum gap."""

    check: Literal["ball_width", "bridging"]


Rule = Annotated[
    LayerRule | EnclosureRule | SeparationRule | MaskRule | BallRule,
    Field(discriminator="check"),
]


DepositMethodName = Literal["print", "dispense", "powder"]
DEFAULT_METHOD: dict[str, DepositMethodName] = {"paste": "print", "powder": "powder"}


class DepositMethod(StrictModel):
    """How a deposit fills its cavity: ``fill`` = deposited / free cavity volume, and its source."""

    fill: PositiveNumber = Field(le=1)
    source: str = ""


class FilmLimit(StrictModel):
    """The highest reflow peak (°C) a solder-mask film stands while on the wafer, and its source."""

    max_temperature: Temperature
    source: str = ""


DEFAULT_DEPOSIT_METHODS: dict[DepositMethodName, dict[str, object]] = {
    "print": {"fill": 0.93, "source": "squeegee print into resist, 0.90-0.97 (IPC-7525)"},
    "dispense": {"fill": 0.97, "source": "volumetric dispensing, 0.97-1.0"},
    "powder": {"fill": 1.0, "source": "a dry powder bed: its voids are the packing, not the fill"},
}
DEFAULT_FILM_LIMITS: dict[Film, dict[str, object]] = {
    "photoresist": {"max_temperature": 260.0, "source": "assumption: lead-free reflow peak"},
    "dry_film": {"max_temperature": 260.0, "source": "assumption: lead-free reflow peak"},
}


class FilmProperties(StrictModel):
    """A solder-mask film as the molten solder sees it: ``contact_angle`` θw (degrees, through
    the liquid) of molten solder on the film's walls and top surface."""

    contact_angle: float = Field(130.0, gt=90, lt=180)


def _default_films() -> dict[Film, FilmProperties]:
    return {"photoresist": FilmProperties(), "dry_film": FilmProperties()}


StructuredLayer = Literal["PI1", "RDL", "PI2", "UBM"]
STRUCTURED_LAYERS: tuple[StructuredLayer, ...] = ("PI1", "RDL", "PI2", "UBM")
MaskFilm = Literal["photoresist", "dry_film", "polyimide"]
Tone = Literal["positive", "negative"]


def _default_mask_films() -> dict[StructuredLayer, MaskFilm]:
    return {"PI1": "polyimide", "RDL": "photoresist", "PI2": "polyimide", "UBM": "photoresist"}


def _default_tones() -> dict[MaskFilm, Tone]:
    return {"photoresist": "positive", "dry_film": "negative", "polyimide": "negative"}


class AlignmentMarks(StrictModel):
    """Alignment crosses at two wafer sites left and right of the centre, one per mask layer;
    each layer's cross lies inside the previous layer's (process order) by ``clearance`` all
    round. ``length`` and ``width`` are the first layer's cross (end to end, arm width); the
    last (thickest) solder mask's arms must stay wide enough to resolve (SM.AR)."""

    length: PositiveLength = 1000.0
    width: PositiveLength = 300.0
    clearance: PositiveLength = 10.0
    die_clearance: NonNegativeLength = 200.0
    y: Length = 0.0

    @model_validator(mode="after")
    def _seven_fit(self) -> AlignmentMarks:
        shrink = 2 * self.clearance * (len(STRUCTURED_LAYERS) + len(MASK_LAYERS) - 1)
        if self.width <= shrink or self.length <= self.width:
            raise ValueError(
                f"width {self.width:g} must exceed {shrink:g} (7 nested crosses, "
                f"clearance {self.clearance:g}) and length {self.length:g} must exceed the width"
            )
        return self


class MaskLabels(StrictModel):
    """Mask labels (product, layer, revision) as polygon text of ``height`` in the edge
    exclusion ring, ``margin`` clear of its edges (outside the wafer when it does not fit)."""

    height: PositiveLength = 800.0
    margin: NonNegativeLength = 200.0


class Plate(StrictModel):
    """The mask blank: a square plate of side ``size`` (5" 127 mm, 6" 152.4 mm, 7" 177.8 mm,
    9" 228.6 mm, 14" 355.6 mm), the image centred on it. With ``outline``, a frame ``frame``
    wide is drawn along its edge with the openings (chrome on a clear-field mask)."""

    size: PositiveLength
    outline: bool = False
    frame: PositiveLength = 1000.0


class Exposure(StrictModel):
    """How a mask is written for its exposure tool (``build --split --flat``).

    ``mirror``: mirrored about the y axis (right-reading through the glass, chrome down).
    ``tone``: ``dark`` writes the drawn openings as the clear areas (a dark-field plate),
    ``clear`` writes the field less the openings (a clear-field plate); unset, the film's tone
    decides (positive: dark, negative: clear). ``magnification``: a stepper reticle's (4, 5)
    scales every coordinate. ``plate``: the blank, whose square is the field when inverted (the
    wafer outline without one). ``image``: ``wafer`` (every die, the marks and the label) or
    ``die`` (a stepper reticle's: one die's shapes about its centre, on the plate's centre, no
    wafer marks or label polygons; the field of a clear tone is the die step)."""

    mirror: bool = False
    tone: Literal["clear", "dark"] | None = None
    magnification: float = Field(1.0, gt=0, le=10)
    plate: Plate | None = None
    image: Literal["wafer", "die"] = "wafer"

    def over(self, base: Exposure) -> Exposure:
        """This exposure's keys (those given) over ``base``."""
        return base.model_copy(update={key: getattr(self, key) for key in self.model_fields_set})


class MaskSet(StrictModel):
    """What a mask order needs beyond the openings: marks, labels, films and their tones.

    Solder masks take their film from the spec; ``films`` gives the structured layers'.
    Drawn shapes are where the film is removed (openings; RDL and UBM are plated through
    resist openings), so a positive film needs a dark-field mask and a negative a clear-field one.
    """

    marks: AlignmentMarks = Field(default_factory=AlignmentMarks)
    labels: MaskLabels = Field(default_factory=MaskLabels)
    films: dict[StructuredLayer, MaskFilm] = Field(default_factory=_default_mask_films)
    tones: dict[MaskFilm, Tone] = Field(default_factory=_default_tones)
    exposure: Exposure = Field(default_factory=Exposure)
    exposures: dict[Literal["PI1", "RDL", "PI2", "UBM", "SM1", "SM2", "SM3"], Exposure] = Field(
        default_factory=dict
    )

    def exposure_of(self, layer: str) -> Exposure:
        """The exposure of one mask layer: its own entry's keys over the common one."""
        own = self.exposures.get(layer)  # type: ignore[call-overload]
        return self.exposure if own is None else own.over(self.exposure)


class BallLimits(StrictModel):
    """Limits on the finished balls for the process-variation report: the ball height within
    ``height_tolerance`` of its nominal (each stack's own), the die's ``coplanarity`` (highest
    less lowest ball) at most this; None: no limit."""

    height_tolerance: PositiveLength | None = None
    coplanarity: PositiveLength | None = None


class Tech(StrictModel):
    """A technology: what layers are called, what solders exist, what rules apply."""

    name: Name
    extends: str | None = None
    layers: dict[str, LayerSpec] = Field(default_factory=lambda: dict(DEFAULT_LAYERS))
    alloys: dict[str, Alloy] = Field(default_factory=dict)
    solders: dict[str, Solder] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    mask_set: MaskSet = Field(default_factory=MaskSet)
    deposit_methods: dict[DepositMethodName, DepositMethod] = Field(
        default_factory=lambda: {
            k: DepositMethod.model_validate(v) for k, v in DEFAULT_DEPOSIT_METHODS.items()
        }
    )
    film_limits: dict[Film, FilmLimit] = Field(
        default_factory=lambda: {
            k: FilmLimit.model_validate(v) for k, v in DEFAULT_FILM_LIMITS.items()
        }
    )
    films: dict[Film, FilmProperties] = Field(default_factory=lambda: _default_films())
    ball_limits: BallLimits = Field(default_factory=BallLimits)

    @model_validator(mode="after")
    def _references(self) -> Tech:
        for what, given, needed in (
            ("deposit_methods", self.deposit_methods, DEFAULT_DEPOSIT_METHODS),
            ("film_limits", self.film_limits, DEFAULT_FILM_LIMITS),
        ):
            absent = [k for k in needed if k not in given]
            if absent:
                raise ValueError(f"{what}: missing {', '.join(absent)}")
        return self

    def layer(self, name: str) -> tuple[int, int]:
        """(layer, datatype) of a named layer."""
        return self.layers[name]

    def rule_value(self, name: str, default: float, films: Iterable[Film] = ()) -> float:
        """The value of a rule, or ``default`` when the deck does not have it. A value given per
        film is taken for ``films`` (the films of the masks in use), the strictest of them (of
        every film the rule names when none of ``films`` is among them)."""
        rule = self.rules.get(name)
        if rule is None:
            return default
        if not isinstance(rule.value, dict):
            return rule.value
        values = [rule.value[f] for f in films if f in rule.value] or list(rule.value.values())
        return min(values) if rule.check in MAXIMUM_CHECKS else max(values)


MAXIMUM_CHECKS = ("aspect_ratio",)  # rules whose value is a maximum; the others are minimums


def _tech_problems(tech: Tech, source: SourceMap) -> list[Problem]:
    """What the schema cannot say: solders name known alloys, every standard layer is mapped,
    no two layers share a (layer, datatype), rules name known layers."""
    problems = []
    for name, solder in tech.solders.items():
        if solder.alloy not in tech.alloys:
            problems.append(
                source.problem(
                    ["solders", name, "alloy"],
                    f"unknown alloy '{solder.alloy}' (known: {', '.join(sorted(tech.alloys)) or 'none'})",
                )
            )
    missing = [name for name in DEFAULT_LAYERS if name not in tech.layers]
    if missing:
        problems.append(source.problem(["layers"], f"missing layers {', '.join(missing)}"))
    owner: dict[tuple[int, ...], str] = {}
    for name, spec in tech.layers.items():
        if tuple(spec) in owner:
            problems.append(
                source.problem(
                    ["layers", name],
                    f"layer {name} is {list(spec)}, as is layer {owner[tuple(spec)]}: each layer "
                    "needs its own (layer, datatype)",
                )
            )
        owner.setdefault(tuple(spec), name)
    for name, rule in tech.rules.items():
        for key, layer in rule.layer_keys():
            if layer not in tech.layers:
                problems.append(
                    source.problem(
                        ["rules", name, *key],
                        f"unknown layer '{layer}' (known: {', '.join(tech.layers)})",
                    )
                )
    return problems


def builtin_techs() -> list[str]:
    """Names of the technology files shipped with masklayout."""
    folder = resources.files("masklayout.techfiles")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def _tech_source(ref: str, folder: Path | None) -> tuple[SourceMap, Path | None, str]:
    """(the tech file's source, the folder its own ``extends`` is resolved against, an identity
    to detect cycles by). ``ref`` is a built-in name or a path relative to ``folder`` (the
    current directory when None); built-in techs extend built-in techs only."""
    builtin_base = folder == _BUILTIN
    path = Path(ref)
    if folder is not None and not builtin_base and not path.is_absolute():
        path = folder / path
    if not builtin_base and path.is_file():
        return SourceMap.read(path), path.parent, str(path.resolve())
    if ref in builtin_techs():
        text = (
            resources.files("masklayout.techfiles")
            .joinpath(f"{ref}.yaml")
            .read_text(encoding="utf-8")
        )
        return SourceMap(text, f"tech/{ref}.yaml"), _BUILTIN, ref
    if ref.endswith((".yaml", ".yml")) and not builtin_base:
        raise FileNotFoundError(
            f"no tech file '{path}' (a path relative to {folder or Path.cwd()})"
        )
    raise FileNotFoundError(
        f"unknown tech '{ref}' (built in: {', '.join(builtin_techs())}; or a path to a .yaml file)"
    )


_BUILTIN = Path("<built-in techs>")


def _chain(ref: str, folder: Path | None) -> list[tuple[SourceMap, str]]:
    """The tech file ``ref`` and the ones it extends, each ``extends`` resolved against the
    folder of the file that names it: (source, identity) from ``ref`` down to the last base."""
    source, folder, identity = _tech_source(ref, folder)
    chain = [(source, identity)]
    while True:
        data = source.data
        if not isinstance(data, dict):
            raise source.error(
                [], "a tech file is a mapping (name, layers, alloys, solders, rules)"
            )
        base_ref = data.get("extends")
        if base_ref is None:
            return chain
        if not isinstance(base_ref, str):
            raise source.error(["extends"], f"expected a tech name or a path, found {base_ref!r}")
        try:
            base_source, folder, identity = _tech_source(base_ref, folder)
        except FileNotFoundError as exc:
            raise source.error(["extends"], str(exc)) from None
        if identity in (known for _, known in chain):
            raise source.error(["extends"], f"'{base_ref}' extends itself")
        source = base_source
        chain.append((source, identity))


def _merged(chain: list[tuple[SourceMap, str]]) -> dict:
    """Each tech file's data over its base's, one level deep (a rule, solder or layer given
    replaces the base's of that name)."""
    merged: dict = {}
    for source, _ in reversed(chain):
        base = merged
        merged = dict(base)
        for key, value in source.data.items():
            merged[key] = (
                {**base[key], **value}
                if isinstance(value, dict) and isinstance(base.get(key), dict)
                else value
            )
    return merged


def tech_files(ref: str, relative_to: Path | None = None) -> tuple[Path, ...]:
    """The files :func:`load_tech` reads for ``ref``: the tech file and those it extends, in
    that order (none for a built-in tech)."""
    return tuple(
        Path(identity) for _, identity in _chain(ref, relative_to) if Path(identity).is_absolute()
    )


def tech_problem(ref: str, relative_to: Path | None, loc: Loc, message: str) -> Problem:
    """A problem at key path ``loc`` of the tech file that gives it: ``ref``'s own, else the
    first it extends that does (else ``ref``'s, at the deepest key it has)."""
    chain = [source for source, _ in _chain(ref, relative_to)]
    for source in chain:
        node: Any = source.data
        for key in loc:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            return source.problem(loc, message)
    return chain[0].problem(loc, message)


def load_tech(ref: str, relative_to: Path | None = None) -> Tech:
    """Load a technology by built-in name (``wlcsp-400``) or by path to a YAML file (relative
    to ``relative_to``, default the current directory). FileNotFoundError when there is no such
    tech; SpecError, located in the tech file, when it is wrong."""
    chain = _chain(ref, relative_to)
    source = chain[0][0]
    try:
        tech = Tech.model_validate(_merged(chain))
    except ValidationError as exc:
        raise source.validation_error(exc) from None
    problems = _tech_problems(tech, source)
    if problems:
        raise SpecError(problems)
    return tech
