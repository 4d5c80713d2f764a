"""The process-variation file (``masklayout run SPEC --variation VAR.yaml``): distributions of
mask thickness, opening CD, fill and paste metal content, validated like the spec (unknown keys
named with the valid ones, every problem located ``file:line:col``) and against the design
(masks it has, deposits its flow makes).

Every distribution is normal: a systematic part (the thickness' centre-to-edge profile, a CD
bias, a mean) plus a random part drawn once per die (``die_sigma``) and once per site
(``sigma``) for every wafer sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from masklayout.fields import Length, NonNegativeLength, StrictModel, parse_length
from masklayout.process.flow import Plan
from masklayout.source import Problem, SourceMap, SpecError
from masklayout.spec import Design

_PERCENT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Amount:
    """A thickness change: ``value`` µm, or ``value`` % of the nominal when ``relative``."""

    value: float
    relative: bool = False

    def of(self, nominal: float) -> float:
        """The change in µm for a nominal of ``nominal`` µm."""
        return self.value * nominal / 100.0 if self.relative else self.value


def _amount(value: Any) -> Amount:
    if isinstance(value, Amount):
        return value
    if isinstance(value, str) and (match := _PERCENT.match(value)):
        return Amount(float(match.group(1)), relative=True)
    try:
        return Amount(parse_length(value))
    except PydanticCustomError:
        raise PydanticCustomError(
            "spec_amount",
            f"expected a length (a number in µm, or with a unit) or a percentage ('2 %'), "
            f"found {value!r}",
        ) from None


AmountField = Annotated[
    Amount,
    BeforeValidator(_amount),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]}),
]


def _non_negative(amount: Amount) -> Amount:
    if amount.value < 0:
        raise PydanticCustomError("spec_amount", f"a sigma is not negative, found {amount.value:g}")
    return amount


Sigma = Annotated[AmountField, BeforeValidator(lambda v: _non_negative(_amount(v)))]
NonNegative = Annotated[float, Field(ge=0)]


class Profile(StrictModel):
    """Systematic change across the wafer: ``center`` at the wafer centre, ``edge`` at the wafer
    edge (radius = diameter / 2), in between ``quadratic`` (∝ r²) or ``linear`` (∝ r)."""

    center: AmountField = Amount(0.0)
    edge: AmountField = Amount(0.0)
    shape: Literal["quadratic", "linear"] = "quadratic"


class Thickness(StrictModel):
    """A mask's thickness: the wafer profile plus random parts per die and per site."""

    profile: Profile = Field(default_factory=Profile)
    die_sigma: Sigma = Amount(0.0)
    sigma: Sigma = Amount(0.0)


class Cd(StrictModel):
    """An opening's diameter (CD), µm: a bias plus random parts per die and per site."""

    bias: Length = 0.0
    die_sigma: NonNegativeLength = 0.0
    sigma: NonNegativeLength = 0.0


class MaskVariation(StrictModel):
    thickness: Thickness = Field(default_factory=Thickness)
    cd: Cd = Field(default_factory=Cd)


class Fraction(StrictModel):
    """A deposit's fill factor: ``mean`` (default: the flow's fill) and random parts; every
    draw is clipped to (0, 1]."""

    mean: Annotated[float, Field(gt=0, le=1)] | None = None
    die_sigma: NonNegative = 0.0
    sigma: NonNegative = 0.0


class MetalContent(StrictModel):
    """A paste's metal content, wt%: ``mean`` (default: the solder's) and random parts."""

    mean: Annotated[float, Field(gt=0, lt=100)] | None = None
    die_sigma: NonNegative = 0.0
    sigma: NonNegative = 0.0


class DepositVariation(StrictModel):
    fill: Fraction = Field(default_factory=Fraction)
    metal_wt: MetalContent | None = None


class Variation(StrictModel):
    """A whole variation file."""

    samples: Annotated[int, Field(ge=1, le=100_000)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    masks: dict[str, MaskVariation] = Field(default_factory=dict)
    deposits: dict[str, DepositVariation] = Field(default_factory=dict)


@dataclass(frozen=True)
class VariationFile:
    """A validated variation file and where its keys stand."""

    variation: Variation
    source: SourceMap


def load(path: str | Path, design: Design, plan: Plan) -> VariationFile:
    """Read and validate a variation file for ``design`` (whose flow is ``plan``)."""
    return from_source(SourceMap.read(path), design, plan)


def loads(text: str, design: Design, plan: Plan, file: str = "<string>") -> VariationFile:
    return from_source(SourceMap(text, file), design, plan)


def from_source(source: SourceMap, design: Design, plan: Plan) -> VariationFile:
    """Validate a parsed variation file: its shape, then its names against the design."""
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        raise source.error(
            [], "a variation file is a mapping with keys samples, seed, masks, deposits"
        )
    try:
        variation = Variation.model_validate(data)
    except ValidationError as exc:
        raise source.validation_error(exc) from None
    problems = _check(variation, design, plan, source)
    if problems:
        raise SpecError(problems)
    return VariationFile(variation, source)


def _check(variation: Variation, design: Design, plan: Plan, source: SourceMap) -> list[Problem]:
    problems = []
    for name in variation.masks:
        if name not in plan.masks:
            problems.append(
                source.problem(
                    ["masks", name],
                    f"unknown mask '{name}' (the flow forms: {', '.join(plan.masks) or 'none'})",
                )
            )
    into = {
        plan.masks[op.level]: op.solder
        for op in plan.ops
        if op.kind == "deposit" and op.level is not None
    }
    for name, deposit in variation.deposits.items():
        if name not in into:
            problems.append(
                source.problem(
                    ["deposits", name],
                    f"the flow deposits nothing into '{name}' (deposits into: "
                    f"{', '.join(into) or 'none'})",
                )
            )
            continue
        solder = design.tech.solders[str(into[name])]
        if deposit.metal_wt is not None and solder.form != "paste":
            problems.append(
                source.problem(
                    ["deposits", name, "metal_wt"],
                    f"{into[name]} is a {solder.form}, it has no metal content to vary",
                )
            )
    return problems
