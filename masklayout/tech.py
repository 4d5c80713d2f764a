"""Technology: layer map, materials and rule deck, read from ``tech/*.yaml``.

A tech file may ``extends:`` another by name; its keys are merged over the base's, one level
deep (a rule or a layer given again replaces the base's).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from masklayout.fields import Length, NonNegativeLength, PositiveLength, StrictModel
from masklayout.source import SourceMap

LayerSpec = tuple[int, int]
Film = Literal["photoresist", "dry_film"]

DEFAULT_LAYERS: dict[str, LayerSpec] = {
    "WAFER": (1, 0), "EXCLUSION": (2, 0), "DIE": (3, 0), "PAD": (10, 0), "PI1": (11, 0),
    "RDL": (12, 0), "PI2": (13, 0), "UBM": (14, 0), "SM1": (21, 0), "SM2": (22, 0),
    "SM3": (23, 0), "TEXT": (63, 0),
}  # fmt: skip
MASK_LAYERS = ("SM1", "SM2", "SM3")


class Alloy(StrictModel):
    """A solder alloy: composition in wt%, solidus and liquidus in °C, density in g/cm³."""

    composition: dict[str, float]
    solidus: float
    liquidus: float
    density: float = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Alloy:
        if abs(sum(self.composition.values()) - 100.0) > 0.01:
            raise ValueError(
                f"composition must add up to 100 wt% (adds up to {sum(self.composition.values())})"
            )
        if self.liquidus < self.solidus:
            raise ValueError(f"liquidus {self.liquidus} is below solidus {self.solidus}")
        return self


class Solder(StrictModel):
    """A solder as deposited: paste (metal wt% in flux) or dry powder (packing fraction)."""

    alloy: str
    form: Literal["paste", "powder"]
    metal_wt: float | None = Field(None, gt=0, le=100)
    flux_density: float = Field(1.0, gt=0)
    packing: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _form_fields(self) -> Solder:
        if self.form == "paste" and self.metal_wt is None:
            raise ValueError("a paste needs metal_wt (metal weight percent)")
        if self.form == "powder" and self.packing is None:
            raise ValueError("a powder needs packing (packing fraction)")
        return self


class Rule(StrictModel):
    """One rule of the deck. ``value`` is a number, or a number per mask film."""

    check: Literal[
        "width", "space", "enclosure", "separation", "center_to_edge", "web", "aspect_ratio",
        "area_ratio", "pitch", "ball_width", "bridging", "edge_clearance",
    ]  # fmt: skip
    value: float | dict[Film, float]
    layer: str | None = None
    layers: list[str] | None = None
    other: str | None = None
    outer: str | None = None
    inner: str | None = None
    severity: Literal["error", "warning"] = "error"
    scope: Literal["all", "interacting"] = "all"  # enclosure: which inner shapes must lie inside
    doc: str = ""

    def for_film(self, film: Film) -> float:
        """The rule's value for a mask of this film."""
        return self.value[film] if isinstance(self.value, dict) else self.value


STRUCTURED_LAYERS = ("PI1", "RDL", "PI2", "UBM")
MaskFilm = Literal["photoresist", "dry_film", "polyimide"]
Tone = Literal["positive", "negative"]


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


class MaskSet(StrictModel):
    """What a mask order needs beyond the openings: marks, labels, films and their tones.

    Solder masks take their film from the spec; ``films`` gives the structured layers'.
    Drawn shapes are where the film is removed (openings; RDL and UBM are plated through
    resist openings), so a positive film needs a dark-field mask and a negative a clear-field one.
    """

    marks: AlignmentMarks = Field(default_factory=AlignmentMarks)
    labels: MaskLabels = Field(default_factory=MaskLabels)
    films: dict[Literal["PI1", "RDL", "PI2", "UBM"], MaskFilm] = Field(
        default_factory=lambda: {
            "PI1": "polyimide", "RDL": "photoresist", "PI2": "polyimide", "UBM": "photoresist"
        }
    )  # fmt: skip
    tones: dict[MaskFilm, Tone] = Field(
        default_factory=lambda: {
            "photoresist": "positive", "dry_film": "negative", "polyimide": "negative"
        }
    )  # fmt: skip


class Tech(StrictModel):
    """A technology: what layers are called, what solders exist, what rules apply."""

    name: str
    extends: str | None = None
    layers: dict[str, LayerSpec] = Field(default_factory=lambda: dict(DEFAULT_LAYERS))
    alloys: dict[str, Alloy] = Field(default_factory=dict)
    solders: dict[str, Solder] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    mask_set: MaskSet = Field(default_factory=MaskSet)

    @model_validator(mode="after")
    def _references(self) -> Tech:
        for name, solder in self.solders.items():
            if solder.alloy not in self.alloys:
                raise ValueError(
                    f"solder '{name}': unknown alloy '{solder.alloy}' (known: {', '.join(self.alloys)})"
                )
        missing = [name for name in DEFAULT_LAYERS if name not in self.layers]
        if missing:
            raise ValueError(f"layers: missing {', '.join(missing)}")
        return self

    def layer(self, name: str) -> LayerSpec:
        """(layer, datatype) of a named layer."""
        return self.layers[name]

    def rule_value(self, name: str, default: float) -> float:
        """The value of a scalar rule, or ``default`` when the deck does not have it."""
        rule = self.rules.get(name)
        return default if rule is None or isinstance(rule.value, dict) else rule.value


def builtin_techs() -> list[str]:
    """Names of the technology files shipped with masklayout."""
    folder = resources.files("masklayout.techfiles")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def _tech_source(ref: str, relative_to: Path | None) -> SourceMap:
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if ref.endswith((".yaml", ".yml")) or path.is_file():
        return SourceMap.read(path)
    if ref in builtin_techs():
        text = (
            resources.files("masklayout.techfiles")
            .joinpath(f"{ref}.yaml")
            .read_text(encoding="utf-8")
        )
        return SourceMap(text, f"tech/{ref}.yaml")
    raise FileNotFoundError(
        f"unknown tech '{ref}' (built in: {', '.join(builtin_techs())}; or a path to a .yaml file)"
    )


def _merged(source: SourceMap, relative_to: Path | None, seen: tuple[str, ...]) -> dict:
    data = source.data
    if not isinstance(data, dict):
        raise source.error([], "a tech file is a mapping (name, layers, alloys, solders, rules)")
    base_ref = data.get("extends")
    if base_ref is None:
        return data
    if base_ref in seen:
        raise source.error(["extends"], f"'{base_ref}' extends itself")
    try:
        base_source = _tech_source(str(base_ref), relative_to)
    except FileNotFoundError as exc:
        raise source.error(["extends"], str(exc)) from None
    base = _merged(base_source, relative_to, (*seen, str(base_ref)))
    merged = dict(base)
    for key, value in data.items():
        merged[key] = (
            {**base[key], **value}
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return merged


def load_tech(ref: str, relative_to: Path | None = None) -> Tech:
    """Load a technology by built-in name (``wlcsp-400``) or by path to a YAML file."""
    source = _tech_source(ref, relative_to)
    data = _merged(source, relative_to, (ref,))
    try:
        return Tech.model_validate(data)
    except ValidationError as exc:
        raise source.validation_error(exc) from None
