"""The step runner: play a validated flow on rows of opening stacks, vectorised with numpy.

Each row is one opening stack (or one site, when the inputs are per site): opening areas and
half widths per mask level, the wetted base area; the mask thicknesses are shared. Every step is
applied to all rows at once, so the cost is a handful of array operations per step whatever the
number of rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from masklayout.geometry.shapes import circle_vertex_count, shape_area
from masklayout.process.flow import Op, Plan, plan_flow
from masklayout.process.solder import (
    cap_height,
    cap_radius_max,
    cap_volume_below,
    composition_wt,
    elements,
    equal_area_radius,
    liquidus,
    metal_fraction,
    solidus,
    sphere_radius,
    widest_diameter,
)
from masklayout.spec import Design, Mask, Stack
from masklayout.tech import Alloy, Tech

CONTACT_TOLERANCE = 1e-6  # µm: a cap this close to a wall does not touch it


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Geometry:
    """Rows of opening stacks: ``area`` and ``half_width`` (rows × levels) of the openings,
    ``base_area`` (rows) the wetted base, ``thickness`` (levels) of the masks."""

    area: np.ndarray
    half_width: np.ndarray
    base_area: np.ndarray
    thickness: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.base_area)

    @property
    def base_radius(self) -> np.ndarray:
        """Equal-area radius of the wetted base."""
        return equal_area_radius(self.base_area)


def half_width(shape: str, diameter: float) -> float:
    """Distance from the centre to the nearest wall of the written polygon."""
    if shape == "circle":
        return diameter / 2 * np.cos(np.pi / circle_vertex_count(diameter / 2))
    return diameter / 2


def stack_geometry(
    stacks: Sequence[Stack], masks: Mapping[str, Mask], levels: Sequence[str]
) -> Geometry:
    """Rows for ``stacks``, through the mask ``levels`` the flow forms. Areas are those of the
    polygons the layout writes; the wetted base is the smaller of the UBM and the first opening."""
    n, depth = len(stacks), len(levels)
    area, half = np.zeros((n, depth)), np.zeros((n, depth))
    base = np.zeros(n)
    areas: dict[tuple[str, float], float] = {}

    def written(shape: str, diameter: float) -> float:
        if (shape, diameter) not in areas:
            areas[shape, diameter] = shape_area(shape, diameter)  # type: ignore[arg-type]
        return areas[shape, diameter]

    for row, stack in enumerate(stacks):
        for k in range(depth):
            shape, diameter = stack.opening_shape(k), stack.openings[k].diameter
            area[row, k] = written(shape, diameter)
            half[row, k] = half_width(shape, diameter)
        first = written(stack.opening_shape(0), stack.openings[0].diameter) if depth else np.inf
        base[row] = min(written(stack.ubm.shape, stack.ubm.diameter), first)
    thickness = np.array([masks[m].thickness for m in levels], dtype=float)
    return Geometry(area, half, base, thickness)


# --------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class Paste:
    """An unreflowed deposit standing in the cavity (per row paste and metal volumes)."""

    step: int
    level: int
    solder: str
    alloy: int
    paste: np.ndarray
    metal: np.ndarray


@dataclass(frozen=True)
class Solid:
    """Something that stayed solid at a reflow, on the rows of ``rows``."""

    what: str  # "core", "body" or "paste"
    rows: np.ndarray
    liquidus: np.ndarray
    solidus: np.ndarray
    step: int | None = None  # the deposit, for paste
    solder: str | None = None


@dataclass(frozen=True)
class StepArrays:
    """All rows after one step."""

    op: Op
    paste: tuple[Paste, ...]
    body_volume: np.ndarray  # reflowed metal: core + molten part
    core_volume: np.ndarray  # the part that stayed solid at the last reflow
    paste_volume: np.ndarray | None = None  # deposit
    metal_volume: np.ndarray | None = None  # deposit
    confined: np.ndarray | None = None  # reflow: lowest level touched, -1 none
    solid: tuple[Solid, ...] = ()


@dataclass(frozen=True)
class Simulation:
    """The flow played on all rows: each step, and the final masses per alloy."""

    geometry: Geometry
    plan: Plan
    alloy_names: tuple[str, ...]
    alloys: tuple[Alloy, ...]
    steps: tuple[StepArrays, ...]
    core_mass: np.ndarray  # rows × alloys, (µm³ · g/cm³)
    melt_mass: np.ndarray

    @property
    def final(self) -> StepArrays:
        return self.steps[-1]

    @property
    def volume(self) -> np.ndarray:
        return self.final.body_volume

    @property
    def height(self) -> np.ndarray:
        return cap_height(self.volume, self.geometry.base_radius)

    @property
    def diameter(self) -> np.ndarray:
        """Widest ball diameter."""
        return widest_diameter(self.height, self.geometry.base_radius)

    @property
    def mass(self) -> np.ndarray:
        return self.core_mass + self.melt_mass

    @property
    def elements(self) -> tuple[str, ...]:
        return elements(self.alloys)

    @property
    def composition(self) -> np.ndarray:
        """Ball composition, wt% per element (rows × elements)."""
        return composition_wt(self.mass, self.alloys, self.elements)

    @property
    def liquidus(self) -> np.ndarray:
        return liquidus(self.mass, self.alloys)

    @property
    def composite(self) -> np.ndarray:
        return (self.final.core_volume > 0) & (self.final.body_volume > self.final.core_volume)

    @property
    def unmelted(self) -> np.ndarray:
        """Paste volume never melted, per row."""
        return sum((p.paste for p in self.final.paste), np.zeros(self.geometry.rows))


# --------------------------------------------------------------------------- the runner
def simulate(geometry: Geometry, plan: Plan, tech: Tech) -> Simulation:
    """Play ``plan`` on every row of ``geometry`` at once."""
    n = geometry.rows
    alloy_names = tuple(dict.fromkeys(tech.solders[s].alloy for s in plan.solders))
    alloys = tuple(tech.alloys[a] for a in alloy_names)
    density = np.array([a.density for a in alloys])
    a = geometry.base_radius
    top = np.cumsum(geometry.thickness)
    bottom = top - geometry.thickness
    cavity = np.cumsum(geometry.area * geometry.thickness, axis=1)
    zeros = np.zeros(n)
    core_v, melt_v = zeros.copy(), zeros.copy()
    core_m, melt_m = np.zeros((n, len(alloys))), np.zeros((n, len(alloys)))
    pending: list[Paste] = []
    records: list[StepArrays] = []
    for op in plan.ops:
        if op.kind == "deposit":
            assert op.level is not None and op.solder is not None
            k = op.level
            inside = cap_volume_below(top[k], cap_height(core_v + melt_v, a), a)
            inside = inside + sum((p.paste for p in pending), zeros)
            paste = op.fill * np.maximum(cavity[:, k] - inside, 0.0)
            solder = tech.solders[op.solder]
            alloy = alloy_names.index(solder.alloy)
            metal = paste * metal_fraction(solder, alloys[alloy])
            pending.append(Paste(op.index, k, op.solder, alloy, paste, metal))
            records.append(StepArrays(op, tuple(pending), core_v + melt_v, core_v, paste, metal))
        elif op.kind == "reflow":
            assert op.peak is not None
            solid: list[Solid] = []
            new_melt_v, new_melt_m = zeros.copy(), np.zeros_like(melt_m)
            new_core_v, new_core_m = zeros.copy(), np.zeros_like(core_m)
            for what, v, m in (("core", core_v, core_m), ("body", melt_v, melt_m)):
                present = v > 0
                if not present.any():
                    continue
                liq = liquidus(m, alloys)
                molten = present & (op.peak >= np.nan_to_num(liq, nan=np.inf))
                new_melt_v += np.where(molten, v, 0.0)
                new_melt_m += np.where(molten[:, None], m, 0.0)
                new_core_v += np.where(present & ~molten, v, 0.0)
                new_core_m += np.where((present & ~molten)[:, None], m, 0.0)
                if (present & ~molten).any():
                    solid.append(Solid(what, present & ~molten, liq, solidus(m, alloys)))
            still: list[Paste] = []
            for p in pending:
                liq_p, sol_p = alloys[p.alloy].liquidus, alloys[p.alloy].solidus
                if op.peak >= liq_p:
                    new_melt_v += p.metal
                    new_melt_m[:, p.alloy] += p.metal * density[p.alloy]
                else:
                    still.append(p)
                    rows = p.paste > 0
                    solid.append(
                        Solid("paste", rows, np.full(n, liq_p), np.full(n, sol_p), p.step, p.solder)
                    )
            pending = still
            core_v, core_m, melt_v, melt_m = new_core_v, new_core_m, new_melt_v, new_melt_m
            confined = _confinement(geometry, plan, op, core_v + melt_v, top, bottom)
            records.append(
                StepArrays(
                    op,
                    tuple(pending),
                    core_v + melt_v,
                    core_v,
                    confined=confined,
                    solid=tuple(solid),
                )
            )
        else:
            records.append(StepArrays(op, tuple(pending), core_v + melt_v, core_v))
    return Simulation(geometry, plan, alloy_names, alloys, tuple(records), core_m, melt_m)


def _confinement(
    geometry: Geometry,
    plan: Plan,
    op: Op,
    volume: np.ndarray,
    top: np.ndarray,
    bottom: np.ndarray,
) -> np.ndarray:
    """Per row, the lowest mask level whose wall the free cap reaches (-1: none)."""
    a = geometry.base_radius
    h = cap_height(volume, a)
    confined = np.full(geometry.rows, -1)
    for mask in reversed(op.masks):
        k = plan.masks.index(mask)
        reach = cap_radius_max(bottom[k], top[k], h, a)
        wall = np.maximum(geometry.half_width[:, k], a)  # the base's own rim is not a wall
        confined = np.where(reach > wall + CONTACT_TOLERANCE, k, confined)
    return confined


# --------------------------------------------------------------------------- convenience
def sphere(volume: np.ndarray, base_radius: np.ndarray) -> tuple[np.ndarray, ...]:
    """(height, sphere radius, widest diameter) of caps of ``volume``."""
    h = cap_height(volume, base_radius)
    return h, sphere_radius(h, base_radius), widest_diameter(h, base_radius)


def simulate_stacks(
    design: Design, stacks: Sequence[Stack] | Mapping[str, Stack] | None = None
) -> Simulation:
    """Validate the design's flow against ``stacks`` (default: the design's own) and play it,
    one row per stack. For sizing: substitute candidate stacks made with
    ``stack.model_copy(update=...)`` and read ``Simulation.diameter`` etc."""
    if stacks is None:
        stacks = design.spec.stacks
    named = (
        dict(stacks)
        if isinstance(stacks, Mapping)
        else {f"candidate[{i}]": s for i, s in enumerate(stacks)}
    )
    plan = plan_flow(design, named)
    geometry = stack_geometry(list(named.values()), design.spec.masks, plan.masks)
    return simulate(geometry, plan, design.tech)
