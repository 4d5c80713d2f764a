"""Field types shared by the spec and tech models: strict immutable models and lengths
with units."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from masklayout.source import unknown_key_hint

MAX_LENGTH = 1e6  # µm: one metre, beyond any wafer; keeps coordinates well inside int64 nm
_UNITS_UM = {"nm": 1e-3, "um": 1.0, "µm": 1.0, "mm": 1e3, "cm": 1e4}
_LENGTH_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zµ]*)\s*$")


def parse_length(value: Any) -> float:
    """A length in micrometres from a number (µm) or a string with a unit: ``"200 mm"``."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "spec_length", "expected a length, found {found}", {"found": value}
        )
    length = None
    if isinstance(value, (int, float)):
        length = float(value)
    elif isinstance(value, str):
        match = _LENGTH_RE.match(value)
        if match and match.group(2) in ("", *_UNITS_UM):
            length = float(match.group(1)) * _UNITS_UM.get(match.group(2) or "um", 1.0)
    if length is not None:
        if not math.isfinite(length) or abs(length) > MAX_LENGTH:
            raise PydanticCustomError(
                "spec_length", f"a length within ±{MAX_LENGTH / 1e6:g} m, found {value!r}"
            )
        return length
    raise PydanticCustomError(
        "spec_length",
        f"expected a length: a number in um or a string with a unit (nm, um, mm), found {value!r}",
    )


_LENGTH_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[-+]?[\d.]+(e[-+]?\d+)?\s*(nm|um|µm|mm|cm)?\s*$"},
    ]
}
Length = Annotated[float, BeforeValidator(parse_length), WithJsonSchema(_LENGTH_SCHEMA)]
PositiveLength = Annotated[
    float,
    BeforeValidator(parse_length),
    Field(gt=0),
    WithJsonSchema({**_LENGTH_SCHEMA, "description": "> 0"}),
]
NonNegativeLength = Annotated[
    float, BeforeValidator(parse_length), Field(ge=0), WithJsonSchema(_LENGTH_SCHEMA)
]
Point = tuple[Length, Length]
Size = tuple[PositiveLength, PositiveLength]


_KNOWN_KEYS: dict[type, list[str]] = {}


class StrictModel(BaseModel):
    """Immutable model that rejects unknown keys, naming the valid ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = _KNOWN_KEYS.get(cls)
            if known is None:  # cached: model_fields is a slow property, asked once per entry
                known = _KNOWN_KEYS[cls] = [f.alias or n for n, f in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        "unknown_key", unknown_key_hint(str(key), known), {"key": str(key)}
                    )
        return data
