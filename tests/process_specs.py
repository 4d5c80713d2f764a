"""Small specs for the process tests: one die of a few bumps, stacks and masks given by the
test, the process flow one step per line (so an error's line number is the step's)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from masklayout.geometry.shapes import circle_vertex_count
from masklayout.spec import Design, loads

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# Fill factors of the deposit methods in tech/wlcsp-400.yaml (deposit_methods): a paste is
# printed by default, so its deposit is this fraction of the free cavity.
PRINT_FILL, DISPENSE_FILL = 0.93, 0.97

C1_FLOW = [
    "{step: form_mask, mask: SM1}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6}",
    "{step: reflow, peak: 245}",
    "{step: form_mask, mask: SM2}",
    "{step: deposit, into: SM2, solder: SAC305-paste-T6}",
    "{step: reflow, peak: 245}",
    "{step: strip, masks: [SM1, SM2]}",
]


# one mask filled full, stripped before the reflow: a free cap on the whole UBM
ONE_PRINT = [
    "{step: form_mask, mask: SM1}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6, fill: 1}",
    "{step: strip, masks: [SM1]}",
    "{step: reflow, peak: 245}",
]


def spec_text(
    process: list[str] = C1_FLOW,
    *,
    sm1: float = 300,
    sm2: float = 360,
    sm3: float | None = None,
    t1: float = 40,
    t2: float = 120,
    t3: float = 60,
    ubm: float = 250,
    shape: str = "circle",
    pitch: float = 400,
    count: tuple[int, int] = (3, 3),
    max_temperature: float | None = None,
) -> str:
    """A valid spec; the ``process:`` list is last, one step per line. ``max_temperature`` rates
    every mask's film (default: the tech's film limits)."""
    rated = "" if max_temperature is None else f", max_temperature: {max_temperature}"
    openings = [
        f"      - {{mask: SM1, diameter: {sm1}}}",
        f"      - {{mask: SM2, diameter: {sm2}}}",
    ]
    masks = [
        f"  SM1: {{thickness: {t1}, film: dry_film, apply: laminate{rated}}}",
        f"  SM2: {{thickness: {t2}, film: photoresist, apply: spin_coat{rated}}}",
    ]
    if sm3 is not None:
        openings.append(f"      - {{mask: SM3, diameter: {sm3}}}")
        masks.append(f"  SM3: {{thickness: {t3}, film: photoresist, apply: spin_coat{rated}}}")
    step = pitch * max(count) + 480
    lines = [
        "masklayout: 1",
        "name: proc",
        "tech: wlcsp-400",
        f"wafer: {{diameter: 100 mm, die_step: [{step}, {step}], scribe: 80}}",
        "die:",
        "  bumps:",
        f"    - array: {{pitch: {pitch}, count: [{count[0]}, {count[1]}]}}",
        "      stack: std",
        "stacks:",
        "  std:",
        f"    ubm: {{shape: {shape}, diameter: {ubm}}}",
        f"    pi2: {{shape: {shape}, diameter: {ubm - 30}}}",
        "    openings:",
        *openings,
        "masks:",
        *masks,
        "process:" if process else "process: []",
        *(f"  - {s}" for s in process),
    ]
    return "\n".join(lines) + "\n"


def design(process: list[str] = C1_FLOW, **kwargs: object) -> Design:
    return loads(spec_text(process, **kwargs), "spec.yaml")  # type: ignore[arg-type]


def step_line(text: str, index: int) -> int:
    """1-based line of process step ``index`` in a spec made by :func:`spec_text`."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("process:")) + 1
    return first + index + 1


def circle_area(diameter: float) -> float:
    """Area of the regular polygon the layout writes for a circle (vertices on the circle)."""
    r = diameter / 2
    n = circle_vertex_count(r)
    return n / 2 * r * r * math.sin(2 * math.pi / n)


def bisect_cap_height(volume: float, a: float) -> float:
    """The cap height for ``volume`` on base radius ``a``, by bisection (independent of the
    closed form the code uses)."""
    lo, hi = 0.0, 10 * (a + volume ** (1 / 3))
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.pi * mid * (3 * a * a + mid * mid) / 6 < volume:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sac305_fraction() -> float:
    """SAC305 paste at 88 wt% in flux of 1.0 g/cm³: metal volume fraction, by hand."""
    metal = 0.88 / 7.38
    return metal / (metal + 0.12 / 1.0)


def exposed_width(profile: Any, plane: float) -> float:
    """Widest diameter of a melt's top cap above the masks' top ``plane`` (µm above the UBM),
    by hand: the sphere's 2R where its equator clears the plane, else its chord there; nan when
    the crown stays below the plane (the resist between neighbours keeps them apart)."""
    crown = profile.z_base + profile.hc
    if crown <= plane:
        return math.nan
    r = (profile.c**2 + profile.hc**2) / (2 * profile.hc)
    centre = crown - r
    if plane <= profile.z_base:
        return 2 * r if profile.hc > profile.c else 2 * profile.c
    return 2 * r if centre >= plane else 2 * math.sqrt(r * r - (plane - centre) ** 2)
