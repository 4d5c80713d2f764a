"""Technology: layer map, materials and rule deck, read from ``tech/*.yaml``.

A tech file may ``extends:`` another by name; its keys are merged over the base's, one level
deep (a rule or a layer given again replaces the base's).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from masklayout.fields import StrictModel
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
        "area_ratio", "pitch", "ball_width", "bridging",
    ]  # fmt: skip
    value: float | dict[Film, float]
    layer: str | None = None
    layers: list[str] | None = None
    other: str | None = None
    outer: str | None = None
    inner: str | None = None
    severity: Literal["error", "warning"] = "error"
    doc: str = ""

    def for_film(self, film: Film) -> float:
        """The rule's value for a mask of this film."""
        return self.value[film] if isinstance(self.value, dict) else self.value


class Tech(StrictModel):
    """A technology: what layers are called, what solders exist, what rules apply."""

    name: str
    extends: str | None = None
    layers: dict[str, LayerSpec] = Field(default_factory=lambda: dict(DEFAULT_LAYERS))
    alloys: dict[str, Alloy] = Field(default_factory=dict)
    solders: dict[str, Solder] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)

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
            resources.files("masklayout.techfiles").joinpath(f"{ref}.yaml").read_text(encoding="utf-8")
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
