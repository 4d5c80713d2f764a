"""Field types shared by the spec and tech models: strict immutable models and lengths
with units."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from masklayout.source import unknown_key_hint

MAX_LENGTH = 1e6  # µm: one metre, beyond any wafer; keeps coordinates well inside int64 nm
# µm per unit, by the unit's lower-case spelling: µ is the micro sign (U+00B5), μ Greek mu (U+03BC)
UNITS_UM = {
    "nm": 1e-3, "um": 1.0, "µm": 1.0, "μm": 1.0, "mm": 1e3, "cm": 1e4,
    "mil": 25.4, "inch": 25400.0, "in": 25400.0,
}  # fmt: skip
UNITS_TEXT = "nm, um, mm, cm, mil, inch; µm or μm for um"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LENGTH_RE = re.compile(rf"^\s*({_NUMBER})\s*([^\W\d_]*)\s*$")
_TEMPERATURE_RE = re.compile(rf"^\s*({_NUMBER})\s*(°\s*C|°C|C|K|degC)?\s*$", re.IGNORECASE)
ABSOLUTE_ZERO_C = -273.15


def _found(value: Any) -> str:
    """How a wrong value is shown: its text, or the kind of a list or mapping."""
    if isinstance(value, bool):
        return f"{value} (YAML reads yes, no, on, off, true, false as booleans)"
    if isinstance(value, (dict, list, tuple)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("spec_value", message)


def length_um(value: Any) -> float | None:
    """A length in micrometres from a number (µm) or a string with a unit (``"200 mm"``,
    ``"16 mil"``, any case), or None when ``value`` is neither. Not checked for range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _LENGTH_RE.match(value)
        unit = match.group(2).lower() if match else None
        if match and (unit == "" or unit in UNITS_UM):
            return float(match.group(1)) * UNITS_UM.get(unit or "um", 1.0)
    return None


def parse_length(value: Any) -> float:
    """A length in micrometres from a number (µm) or a string with a unit: ``"200 mm"``."""
    length = length_um(value)
    if length is None:
        raise _error(
            f"expected a length: a number in um or a number with a unit ({UNITS_TEXT}), "
            f"found {_found(value)}"
        )
    if not math.isfinite(length) or abs(length) > MAX_LENGTH:
        raise _error(f"expected a length within ±{MAX_LENGTH / 1e6:g} m, found {_found(value)}")
    return length


def _positive_length(value: Any) -> float:
    length = parse_length(value)
    if length <= 0:
        raise _error(f"expected a length greater than 0, found {_found(value)}")
    return length


def parse_pitch(value: Any) -> float | tuple[float, float]:
    """A pitch: one length for both axes, or a pair [x, y]; every length greater than 0."""
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(length_um(v) is not None for v in value):
            return (_positive_length(value[0]), _positive_length(value[1]))
    elif length_um(value) is not None:
        return _positive_length(value)
    raise _error(
        f"expected a length greater than 0 or a pair [x, y] of them, found {_found(value)}"
    )


def parse_auto_or_point(value: Any) -> str | tuple[float, float]:
    """``'auto'`` or a point [x, y] of lengths."""
    if value == "auto":
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (parse_length(value[0]), parse_length(value[1]))
    raise _error(f"expected 'auto' or a point [x, y], found {_found(value)}")


def parse_temperature(value: Any) -> float:
    """A temperature in °C from a number (°C) or a string: ``"245 °C"``, ``"245 C"``,
    ``"518 K"``; finite and above absolute zero."""
    celsius = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        celsius = float(value)
    elif isinstance(value, str) and (match := _TEMPERATURE_RE.match(value)):
        kelvin = (match.group(2) or "").upper() == "K"
        celsius = float(match.group(1)) + (ABSOLUTE_ZERO_C if kelvin else 0.0)
    if celsius is None or not math.isfinite(celsius) or celsius <= ABSOLUTE_ZERO_C:
        raise _error(
            "expected a temperature: a number in °C, or with a unit ('245 °C', '245 C', "
            f"'518 K'), above absolute zero, found {_found(value)}"
        )
    return celsius


def name_check(most: int, pattern: str | None = None, allowed: str = "") -> Callable[[str], str]:
    """A validator of names: 1 to ``most`` characters, all matching ``pattern`` (described to
    the user as ``allowed``) when one is given."""
    regex = re.compile(pattern) if pattern else None

    def check(value: str) -> str:
        if not value or len(value) > most:
            raise _error(
                f"expected a name of 1 to {most} characters, found {len(value)} characters"
            )
        if regex is not None and not regex.fullmatch(value):
            raise _error(f"expected a name of {allowed}, found {value!r}")
        return value

    return check


_LENGTH_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {
            "type": "string",
            "pattern": r"^\s*[-+]?[\d.]+(e[-+]?\d+)?\s*(nm|um|µm|μm|mm|cm|mil|inch|in)?\s*$",
        },
    ]
}
Length = Annotated[float, BeforeValidator(parse_length), WithJsonSchema(_LENGTH_SCHEMA)]
PositiveLength = Annotated[
    float,
    BeforeValidator(_positive_length),
    WithJsonSchema({**_LENGTH_SCHEMA, "description": "> 0"}),
]
NonNegativeLength = Annotated[
    float, BeforeValidator(parse_length), Field(ge=0), WithJsonSchema(_LENGTH_SCHEMA)
]
Point = tuple[Length, Length]
Size = tuple[PositiveLength, PositiveLength]
Pitch = Annotated[
    float | tuple[float, float],
    BeforeValidator(parse_pitch),
    WithJsonSchema(
        {
            "anyOf": [
                _LENGTH_SCHEMA,
                {"type": "array", "items": _LENGTH_SCHEMA, "minItems": 2, "maxItems": 2},
            ]
        }
    ),
]
AutoOrPoint = Annotated[
    str | tuple[float, float],
    BeforeValidator(parse_auto_or_point),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "array", "items": _LENGTH_SCHEMA, "minItems": 2, "maxItems": 2},
            ]
        }
    ),
]
Temperature = Annotated[
    float,
    BeforeValidator(parse_temperature),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "description": "°C"}),
]
# Plain numbers: a YAML boolean (yes, on, true) is not one, nor NaN or infinity.
Number = Annotated[float, Strict(), AllowInfNan(False)]
PositiveNumber = Annotated[float, Strict(), AllowInfNan(False), Field(gt=0)]
Integer = Annotated[int, Strict()]
CELL_NAME_CHARS = "letters, digits and _ $ ? - ."
# A name that becomes part of a GDS cell name: KLayout and gdstk read any text, but GDSII
# readers keep to letters, digits and _ $ ? (and - . widely); 64 characters at most.
CellName = Annotated[str, AfterValidator(name_check(64, r"[A-Za-z0-9_$?.\-]+", CELL_NAME_CHARS))]
# A name shown as text (a GDS label, a CSV cell): any characters but control ones, 256 at most.
Name = Annotated[str, AfterValidator(name_check(256))]


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
