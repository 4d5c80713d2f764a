"""What a technology offers, for `masklayout tech`: the built-in techs, and for one tech its
layers, alloys, solders, deposit methods, film limits and rules, as JSON-ready data and as
terminal tables."""

from __future__ import annotations

from typing import Any

from masklayout.table import format_table
from masklayout.tech import (
    MASK_LAYERS,
    EnclosureRule,
    LayerRule,
    MaskRule,
    Rule,
    SeparationRule,
    Tech,
    builtin_techs,
    load_tech,
)


def describe(tech: Tech) -> dict[str, Any]:
    """The tech as plain data: layers, alloys, solders and rules (values per film kept)."""
    return {
        "name": tech.name,
        "extends": tech.extends,
        "layers": {name: list(tag) for name, tag in tech.layers.items()},
        "alloys": {name: alloy.model_dump() for name, alloy in tech.alloys.items()},
        "solders": {
            name: solder.model_dump(exclude_none=True) for name, solder in tech.solders.items()
        },
        "rules": {
            name: rule.model_dump(exclude_defaults=True) | {"check": rule.check}
            for name, rule in tech.rules.items()
        },
        "deposit_methods": {name: m.model_dump() for name, m in tech.deposit_methods.items()},
        "film_limits": {name: f.model_dump() for name, f in tech.film_limits.items()},
    }


def builtin_table() -> str:
    """One line per built-in tech: its name, what it extends, its rule and solder counts."""
    rows = [("tech", "extends", "rules", "solders", "bump pitch")]
    for name in builtin_techs():
        tech = load_tech(name)
        pitch = tech.rules.get("BUMP.PITCH")
        rows.append(
            (
                name,
                tech.extends or "-",
                str(len(tech.rules)),
                str(len(tech.solders)),
                f"{pitch.value:g} µm" if pitch is not None else "-",
            )
        )
    return "\n".join(format_table(rows, right=(2, 3, 4)))


def tech_tables(tech: Tech) -> str:
    """The tech's layers, alloys, solders and rules as aligned tables."""
    layers = [("layer", "GDS")] + [(n, f"{t[0]}/{t[1]}") for n, t in tech.layers.items()]
    alloys = [
        ("alloy", "composition wt%", "solidus °C", "liquidus °C", "density g/cm³", "liquid g/cm³")
    ] + [
        (
            name,
            " ".join(f"{e}{x:g}" for e, x in alloy.composition.items()),
            f"{alloy.solidus:g}",
            f"{alloy.liquidus:g}",
            f"{alloy.density:g}",
            f"{alloy.liquid_density:g}" if alloy.liquid_density is not None else "-",
        )
        for name, alloy in tech.alloys.items()
    ]
    solders = [("solder", "alloy", "form", "metal", "source")] + [
        (
            name,
            s.alloy,
            s.form,
            f"{s.metal_wt:g} wt% in flux {s.flux_density:g} g/cm³"
            if s.form == "paste"
            else f"packing {s.packing:g}",
            s.source or "-",
        )
        for name, s in tech.solders.items()
    ]
    methods = [("deposit method", "fill", "source")] + [
        (name, f"{m.fill:g}", m.source or "-") for name, m in tech.deposit_methods.items()
    ]
    films = [("film", "max reflow °C", "source")] + [
        (name, f"{f.max_temperature:g}", f.source or "-") for name, f in tech.film_limits.items()
    ]
    rules = [("rule", "check", "on", "value")] + [
        (name, rule.check, _rule_layers(rule), _rule_value(rule))
        for name, rule in tech.rules.items()
    ]
    blocks = [
        f"tech {tech.name}" + (f" (extends {tech.extends})" if tech.extends else ""),
        *("\n".join(format_table(t)) for t in (layers, alloys, solders, methods, films, rules)),
    ]
    return "\n\n".join(blocks)


def _rule_layers(rule: Rule) -> str:
    if isinstance(rule, EnclosureRule):
        return f"{rule.outer} over {rule.inner}"
    if isinstance(rule, SeparationRule):
        return f"{rule.layer} to {rule.other}"
    if isinstance(rule, MaskRule):
        return ", ".join(rule.layers or MASK_LAYERS)
    if isinstance(rule, LayerRule):
        return rule.layer
    return "balls"


def _rule_value(rule: Rule) -> str:
    text = (
        ", ".join(f"{film} {v:g}" for film, v in rule.value.items())
        if isinstance(rule.value, dict)
        else f"{rule.value:g}"
    )
    return text + (" (warning)" if rule.severity == "warning" else "")
