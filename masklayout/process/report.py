"""Reports of a process run: a terminal table, a JSON document, a CSV (one row per stack), and
an atomic file writer."""

from __future__ import annotations

import csv
import io
from typing import Any

from masklayout.process.results import Ball, Cap, RunResult, StackResult, StepResult
from masklayout.table import format_table


# --------------------------------------------------------------------------- JSON
def to_json(result: RunResult) -> dict[str, Any]:
    """The run as plain data: per stack ``steps`` and ``ball``, the wafer totals, ``warnings``
    and ``failures``."""
    return {
        "name": result.name,
        "ok": result.ok,
        "stacks": {s.name: _stack_json(s) for s in result.stacks},
        "wafer": {
            "dies": result.wafer.dies,
            "sites": result.wafer.sites,
            "metal_mm3": result.wafer.metal_mm3,
            "element_g": result.wafer.element_g,
            "solder_mm3": result.wafer.solder_mm3,
            "solder_g": result.wafer.solder_g,
        },
        "bridging_gap_um": result.bridging_gap_um,
        "warnings": list(result.warnings),
        "failures": list(result.failures),
    }


def _stack_json(stack: StackResult) -> dict[str, Any]:
    return {
        "sites_per_die": stack.sites_per_die,
        "sites_on_wafer": stack.sites_on_wafer,
        "pitch_um": stack.pitch_um,
        "gap_um": stack.gap_um,
        "bridging": stack.bridging,
        "bridging_diameter_um": stack.bridging_diameter_um,
        "bridging_at": stack.bridging_at,
        "unmelted": stack.unmelted,
        "steps": [_step_json(s) for s in stack.steps],
        "ball": _ball_json(stack.ball),
    }


def _step_json(step: StepResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": step.index,
        "step": step.step,
        "label": step.label,
        "masks": list(step.masks),
    }
    if step.step == "deposit":
        out |= {
            "solder": step.solder,
            "paste_volume_um3": step.paste_volume_um3,
            "metal_volume_um3": step.metal_volume_um3,
        }
    if step.step == "reflow":
        cap = step.cap
        out |= {
            "volume_um3": cap.volume_um3 if cap else 0.0,
            "height_um": cap.height_um if cap else 0.0,
            "diameter_um": cap.diameter_um if cap else 0.0,
            "base_diameter_um": cap.base_diameter_um if cap else 0.0,
            "regime": cap.regime if cap else None,
            "confined_by": step.confined_by,
            "solid": list(step.solid),
        }
        if step.peak is not None:
            out["peak"] = _peak_json(step.peak, step.peak_confined_by)
        if step.core is not None:
            out["core"] = _cap_json(step.core)
    if step.paste:
        out["paste"] = [
            {"mask": p.mask, "solder": p.solder, "paste_volume_um3": p.paste_volume_um3}
            for p in step.paste
        ]
    return out


def _peak_json(cap: Cap, confined_by: str | None) -> dict[str, Any]:
    """The body at a reflow's peak, molten: its volume, shape and the wall it stands against."""
    return {
        "volume_um3": cap.volume_um3,
        "height_um": cap.height_um,
        "diameter_um": cap.diameter_um,
        "regime": cap.regime,
        "confined_by": confined_by,
    }


def _cap_json(cap: Cap) -> dict[str, float]:
    return {
        "volume_um3": cap.volume_um3,
        "height_um": cap.height_um,
        "diameter_um": cap.diameter_um,
        "sphere_radius_um": cap.sphere_radius_um,
    }


def _ball_json(ball: Ball) -> dict[str, Any]:
    out: dict[str, Any] = {
        "volume_um3": ball.volume_um3,
        "height_um": ball.height_um,
        "diameter_um": ball.diameter_um,
        "base_diameter_um": ball.base_diameter_um,
        "sphere_radius_um": ball.sphere_radius_um,
        "composition_wt": ball.composition_wt,
        "liquidus_c": ball.liquidus_c,
        "composite": ball.composite,
        "unmelted_um3": ball.unmelted_um3,
        "mass_g": ball.mass_g,
        "regime": ball.regime,
        "confined_by": ball.confined_by,
    }
    if ball.peak is not None:
        out["peak"] = _peak_json(ball.peak, ball.peak_confined_by)
    if ball.core is not None:
        out["core"] = {
            **_cap_json(ball.core),
            "composition_wt": ball.core_composition_wt,
            "liquidus_c": ball.core_liquidus_c,
        }
    return out


# --------------------------------------------------------------------------- CSV
def to_csv(result: RunResult) -> str:
    """One row per stack: sites, ball, composition (one column per element), the checks, and
    the paste and metal volume of each deposit step."""
    elements = list(dict.fromkeys(e for s in result.stacks for e in s.ball.composition_wt))
    deposits = list(
        dict.fromkeys(st.index for s in result.stacks for st in s.steps if st.step == "deposit")
    )
    header = [
        "stack", "sites_per_die", "sites_on_wafer", "pitch_um", "gap_um", "bridging",
        "bridging_diameter_um", "bridging_at",
        "ball_volume_um3", "ball_height_um", "ball_diameter_um", "base_diameter_um",
        "regime", "confined_by", "peak_regime", "peak_confined_by", "peak_height_um",
        "peak_diameter_um", "liquidus_c", "composite", "unmelted_um3",
        *(f"{e}_wt" for e in elements),
        *(f"process[{i}]_{kind}_um3" for i in deposits for kind in ("paste", "metal")),
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for s in result.stacks:
        b = s.ball
        steps = {st.index: st for st in s.steps}
        writer.writerow(
            [
                s.name,
                s.sites_per_die,
                s.sites_on_wafer,
                _num(s.pitch_um),
                _num(s.gap_um),
                s.bridging,
                _num(s.bridging_diameter_um),
                "" if s.bridging_at is None else s.bridging_at,
                _num(b.volume_um3),
                _num(b.height_um),
                _num(b.diameter_um),
                _num(b.base_diameter_um),
                b.regime,
                b.confined_by or "",
                b.peak.regime if b.peak else "",
                b.peak_confined_by or "",
                _num(b.peak.height_um if b.peak else None),
                _num(b.peak.diameter_um if b.peak else None),
                _num(b.liquidus_c),
                b.composite,
                _num(b.unmelted_um3),
                *(_num(b.composition_wt.get(e, 0.0)) for e in elements),
                *(
                    _num(getattr(steps[i], f"{kind}_volume_um3") if i in steps else None)
                    for i in deposits
                    for kind in ("paste", "metal")
                ),
            ]  # fmt: skip
        )
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


# --------------------------------------------------------------------------- terminal
def to_table(result: RunResult) -> str:
    """A readable report: one row per stack and step, then the balls, the wafer, warnings and
    failures."""
    rows = [("stack", "step", "", "paste µm³", "metal µm³", "body µm³", "h µm", "Ø µm", "note")]
    for s in result.stacks:
        for i, st in enumerate(s.steps):
            cap = st.cap if st.step in ("reflow",) else None
            note = []
            if st.confined_by and cap is not None:
                note.append(f"confined by {st.confined_by} ({cap.regime})")
            if st.peak is not None:
                note.append(_peak_note(st.peak, st.peak_confined_by))
            if st.solid:
                note.append("solid: " + ", ".join(st.solid))
            rows.append(
                (
                    s.name if i == 0 else "",
                    f"{st.index}",
                    st.label,
                    _vol(st.paste_volume_um3),
                    _vol(st.metal_volume_um3),
                    _vol(cap.volume_um3) if cap else "",
                    f"{cap.height_um:.1f}" if cap else "",
                    f"{cap.diameter_um:.1f}" if cap else "",
                    "; ".join(note),
                )
            )
    lines = format_table(rows, right={3, 4, 5, 6, 7})
    lines.append("")
    balls = [("stack", "ball Ø µm", "h µm", "base Ø µm", "volume µm³", "liquidus °C",
              "composition wt%", "sites/die", "pitch µm", "gap µm", "")]  # fmt: skip
    for s in result.stacks:
        b = s.ball
        flags = [
            *([f"{b.regime} in {b.confined_by}"] if b.confined_by else []),
            *(
                [f"at peak {b.peak.regime} in {b.peak_confined_by}"]
                if b.peak is not None and b.peak_confined_by != b.confined_by
                else []
            ),
            *(["composite"] if b.composite else []),
            *(["BRIDGING"] if s.bridging else []),
            *(
                [f"gap at the peak of process[{s.bridging_at}], Ø {s.bridging_diameter_um:.1f}"]
                if s.bridging_at is not None and s.bridging_diameter_um is not None
                else []
            ),
            *(["UNMELTED"] if s.unmelted else []),
        ]
        balls.append(
            (
                s.name,
                f"{b.diameter_um:.1f}",
                f"{b.height_um:.1f}",
                f"{b.base_diameter_um:.1f}",
                _vol(b.volume_um3),
                f"{b.liquidus_c:.0f}",
                " ".join(f"{e}{x:.1f}" for e, x in b.composition_wt.items() if x > 0),
                str(s.sites_per_die),
                "" if s.pitch_um is None else f"{s.pitch_um:g}",
                "" if s.gap_um is None else f"{s.gap_um:.1f}",
                " ".join(flags),
            )
        )
    lines += format_table(balls, right={1, 2, 3, 4, 5, 7, 8, 9})
    w = result.wafer
    lines += [
        "",
        f"wafer: {w.dies} dies, {w.sites} bumps, {w.metal_mm3:.1f} mm³ of solder metal: "
        + ", ".join(f"{e} {g:.3g} g" for e, g in w.element_g.items()),
        *(
            f"  {name}: {w.solder_mm3[name]:.1f} mm³, {w.solder_g[name]:.3g} g as deposited"
            for name in w.solder_mm3
        ),
    ]
    lines += [f"warning: {m}" for m in result.warnings]
    lines += [f"FAIL: {m}" for m in result.failures]
    return "\n".join(lines)


def _peak_note(peak: Cap, confined_by: str | None) -> str:
    where = f"{peak.regime} in {confined_by}" if confined_by else peak.regime
    return f"at peak {_vol(peak.volume_um3)} µm³ molten: {where}, h {peak.height_um:.1f} Ø {peak.diameter_um:.1f}"  # fmt: skip


def _vol(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"
