"""The step runner: play a validated flow on rows of opening stacks, vectorised with numpy.

Each row is one opening stack (or one site, when the inputs are per site): opening areas and
half widths per mask level, the wetted base area; the mask thicknesses are shared. Every step is
applied to all rows at once, so the cost is a handful of array operations per step whatever the
number of rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import gdstk
import numpy as np

from masklayout.geometry.shapes import shape_area, shape_points
from masklayout.process.flow import Op, Plan, plan_flow
from masklayout.process.shapes import BASE_SHAPES, Shapes, accumulate, grown, shapes
from masklayout.process.solder import (
    composition_wt,
    elements,
    equal_area_radius,
    liquid_fraction,
    liquidus,
    metal_fraction,
    molten_volume,
    solidus,
)
from masklayout.spec import Design, Mask, Stack
from masklayout.tech import Alloy, Tech


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Geometry:
    """Rows of opening stacks: ``area`` (rows × levels) of the openings written, ``base_area``
    (rows × levels + 1) the wetted base when the first m masks stand (column m; column 0: the
    whole UBM) and ``base_shape`` its shape when it is the UBM's or an opening's polygon (else a
    circle), ``thickness`` of the masks (levels, or rows × levels: process variation) and their
    contact angle ``theta`` (radians, levels)."""

    area: np.ndarray
    base_area: np.ndarray
    thickness: np.ndarray
    theta: np.ndarray
    base_shape: np.ndarray  # rows × levels + 1: the base's shape (index into BASE_SHAPES)

    @property
    def rows(self) -> int:
        return len(self.base_area)

    @property
    def radius(self) -> np.ndarray:
        """Equal-area radius of the openings (rows × levels)."""
        return equal_area_radius(self.area)

    def base_radius(self, masks: int = 0) -> np.ndarray:
        """Equal-area radius of the wetted base under the first ``masks`` masks."""
        return equal_area_radius(self.base_area[:, masks])


def wetted_area(ubm: tuple[str, float], openings: Sequence[tuple[str, float]]) -> float:
    """Area of the UBM polygon intersected with every opening polygon (as written, centred)."""
    parts = [gdstk.Polygon(shape_points(*ubm))]  # type: ignore[arg-type]
    for opening in openings:
        parts = gdstk.boolean(parts, gdstk.Polygon(shape_points(*opening)), "and")  # type: ignore[arg-type]
    return float(sum(p.area() for p in parts))


def stack_geometry(
    stacks: Sequence[Stack], masks: Mapping[str, Mask], levels: Sequence[str], tech: Tech
) -> Geometry:
    """Rows for ``stacks``, through the mask ``levels`` the flow forms. Areas are those of the
    polygons the layout writes; the wetted base under the first m masks is the UBM intersected
    with their openings (gdstk boolean of the written polygons)."""
    n, depth = len(stacks), len(levels)
    area = np.zeros((n, depth))
    base = np.zeros((n, depth + 1))
    base_shape = np.zeros((n, depth + 1), dtype=int)
    areas: dict[tuple[str, float], float] = {}
    wetted: dict[tuple[tuple[str, float], ...], float] = {}

    def written(shape: str, diameter: float) -> float:
        if (shape, diameter) not in areas:
            areas[shape, diameter] = shape_area(shape, diameter)  # type: ignore[arg-type]
        return areas[shape, diameter]

    for row, stack in enumerate(stacks):
        ubm = (stack.ubm.shape, stack.ubm.diameter)
        openings = [(stack.opening_shape(k), stack.openings[k].diameter) for k in range(depth)]
        for k, opening in enumerate(openings):
            area[row, k] = written(*opening)
        for m in range(depth + 1):
            key = (ubm, *openings[:m])
            if key not in wetted:
                wetted[key] = wetted_area(ubm, openings[:m])
            base[row, m] = wetted[key]
            for shape, diameter in (ubm, *openings[:m]):
                if abs(written(shape, diameter) - base[row, m]) <= 1e-9 * base[row, m]:
                    base_shape[row, m] = BASE_SHAPES.index(shape)
                    break
    thickness = np.array([masks[m].thickness for m in levels], dtype=float)
    theta = np.radians([tech.films[masks[m].film].contact_angle for m in levels])
    theta = np.asarray(theta, dtype=float).reshape(depth)
    return Geometry(area, base, thickness, theta, base_shape)


@dataclass(frozen=True)
class DepositRows:
    """Per row inputs of one deposit step in place of the flow's: ``fill`` (the fraction of the
    free cavity filled) and the paste's ``metal_wt``; None keeps the flow's or the solder's."""

    fill: np.ndarray | None = None
    metal_wt: np.ndarray | None = None


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
    shape: Shapes | None = None  # the reflowed body, solid again, from its last reflow on
    solid: tuple[Solid, ...] = ()
    peak_volume: np.ndarray | None = None  # reflow: the body at the peak, its melt liquid
    peak: Shapes | None = None  # reflow: the body's shape at the peak (of ``peak_volume``)

    @property
    def confined(self) -> np.ndarray | None:
        """At a reflow: per row the mask level the molten body stands against at the peak, -1
        none (the confinement check; None when the peak was not computed)."""
        return self.peak.level if self.peak is not None else None


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
    def last_reflow(self) -> StepArrays:
        """The reflow that shaped the ball."""
        return next(rec for rec in reversed(self.steps) if rec.op.kind == "reflow")

    @property
    def volume(self) -> np.ndarray:
        return self.final.body_volume

    @property
    def shape(self) -> Shapes:
        """The ball: the body as its last reflow shaped it, cooled (the solid volume's shape; a
        strip after it keeps the shape)."""
        assert self.final.shape is not None
        return self.final.shape

    @property
    def height(self) -> np.ndarray:
        return self.shape.height

    @property
    def diameter(self) -> np.ndarray:
        """Widest ball diameter."""
        return self.shape.diameter

    @property
    def melts(self) -> tuple[tuple[int, np.ndarray], ...]:
        """Per reflow whose peak was computed: its step index and, per row, the widest
        diameter of the melt above the masks standing at the peak (nan where it stayed solid, is
        empty or stays within its openings). Molten neighbours bridge: the bridging check takes
        these beside the cooled balls."""
        return tuple(
            (
                rec.op.index,
                np.where(rec.body_volume > rec.core_volume, rec.peak.exposed_diameter, np.nan),
            )
            for rec in self.steps
            if rec.op.kind == "reflow" and rec.peak is not None
        )

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
def simulate(
    geometry: Geometry,
    plan: Plan,
    tech: Tech,
    deposits: Mapping[int, DepositRows] | None = None,
    at_peak: bool = True,
) -> Simulation:
    """Play ``plan`` on every row of ``geometry`` at once; ``deposits`` gives per row fill and
    metal content for the deposit steps it names (by step index). At each reflow the body's
    shape at the peak, its melt at the liquid density, is computed too unless ``at_peak`` is
    False (the balls do not depend on it); the body kept after it is the solid volume's."""
    n = geometry.rows
    alloy_names = tuple(dict.fromkeys(tech.solders[s].alloy for s in plan.solders))
    alloys = tuple(tech.alloys[a] for a in alloy_names)
    density = np.array([a.density for a in alloys])
    top = np.cumsum(geometry.thickness, axis=-1)
    cavity = accumulate(np.add, geometry.area * geometry.thickness)
    zeros = np.zeros(n)
    core_v, melt_v = zeros.copy(), zeros.copy()
    core_m, melt_m = np.zeros((n, len(alloys))), np.zeros((n, len(alloys)))
    pending: list[Paste] = []
    records: list[StepArrays] = []
    body: Shapes | None = None
    for op in plan.ops:
        if op.kind == "deposit":
            assert op.level is not None and op.solder is not None
            k = op.level
            inside = body.volume_below(top[..., k]) if body is not None else zeros
            inside = inside + sum((p.paste for p in pending), zeros)
            given = (deposits or {}).get(op.index, DepositRows())
            fill = op.fill if given.fill is None else given.fill
            paste = fill * np.maximum(cavity[:, k] - inside, 0.0)
            solder = tech.solders[op.solder]
            alloy = alloy_names.index(solder.alloy)
            metal = paste * metal_fraction(solder, alloys[alloy], given.metal_wt)
            pending.append(Paste(op.index, k, op.solder, alloy, paste, metal))
            records.append(
                StepArrays(op, tuple(pending), core_v + melt_v, core_v, paste, metal, shape=body)
            )
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
            core_v, core_m, melt_v, melt_m = dissolve(
                new_core_v, new_core_m, new_melt_v, new_melt_m, op.peak, alloys
            )
            # a solid body the melt dissolved whole is no longer solid
            solid = [
                replace(s, rows=s.rows & (core_v > 0)) if s.what != "paste" else s for s in solid
            ]
            solid = [s for s in solid if s.rows.any()]
            body = reflow_shape(geometry, plan, op, core_v + melt_v)
            liquid = core_v + molten_volume(melt_m, alloys) if at_peak else None
            records.append(
                StepArrays(
                    op,
                    tuple(pending),
                    core_v + melt_v,
                    core_v,
                    shape=body,
                    solid=tuple(solid),
                    peak_volume=liquid,
                    peak=None
                    if liquid is None
                    else peak_shape(geometry, plan, op, liquid, body, core_v + melt_v),
                )
            )
        else:
            records.append(StepArrays(op, tuple(pending), core_v + melt_v, core_v, shape=body))
    return Simulation(geometry, plan, alloy_names, alloys, tuple(records), core_m, melt_m)


def dissolve(
    core_v: np.ndarray,
    core_m: np.ndarray,
    melt_v: np.ndarray,
    melt_m: np.ndarray,
    peak: float,
    alloys: Sequence[Alloy],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """At the peak the melt dissolves the solid core it wets until the two are at equilibrium:
    the liquid's share of the site's mass becomes the lever rule's (claim 4's Pb-rich core in a
    Sn-rich melt shrinks). The core left keeps its alloys' proportions; nothing freezes back, and
    a mix no phase diagram covers keeps its whole core. Returns the new core and melt
    (volumes, masses per alloy)."""
    both = (core_v > 0) & (melt_v > 0)
    if not both.any():
        return core_v, core_m, melt_v, melt_m
    total = core_m[both] + melt_m[both]
    liquid = liquid_fraction(total, alloys, peak) * total.sum(axis=1)
    core_mass = core_m[both].sum(axis=1)
    moved = np.zeros(len(core_v))
    share = (liquid - melt_m[both].sum(axis=1)) / core_mass
    moved[both] = np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0)
    return (
        core_v * (1 - moved),
        core_m * (1 - moved)[:, None],
        melt_v + core_v * moved,
        melt_m + core_m * moved[:, None],
    )


def reflow_shape(geometry: Geometry, plan: Plan, op: Op, volume: np.ndarray) -> Shapes:
    """The shape a reflow gives a body of ``volume``: on the UBM intersected with the openings
    of the masks standing (they are the lowest levels: a mask is formed over and stripped with
    the ones below it), against their walls; free on the whole UBM when none stands. Of the
    liquid volume: the body at the peak; of the solid volume: the body once it has cooled (its
    contact lines held, docs/model.md §4.4)."""
    m = len(op.masks)
    assert tuple(op.masks) == plan.masks[:m], "masks stand bottom up"
    return shapes(
        volume,
        geometry.base_radius(m),
        geometry.radius[:, :m],
        geometry.thickness[..., :m],
        geometry.theta[:m],
        geometry.base_shape[:, m],
    )


def peak_shape(
    geometry: Geometry,
    plan: Plan,
    op: Op,
    volume: np.ndarray,
    cooled: Shapes,
    cooled_volume: np.ndarray,
) -> Shapes:
    """:func:`reflow_shape` of the liquid ``volume``, given the ``cooled`` body's (of
    ``cooled_volume``): the rows whose melt stays a free cap clear of every wall or a column
    below its mask's top take the closed form (:func:`grown`), only the others are solved."""
    m = len(op.masks)
    thickness = geometry.thickness[..., :m]

    def solve(rows: np.ndarray) -> Shapes:
        return shapes(
            volume[rows],
            geometry.base_radius(m)[rows],
            geometry.radius[rows, :m],
            thickness[rows] if thickness.ndim == 2 else thickness,
            geometry.theta[:m],
            geometry.base_shape[rows, m],
        )

    return grown(cooled, cooled_volume, volume, geometry.base_shape[:, m], solve)


# --------------------------------------------------------------------------- convenience
def simulate_stacks(
    design: Design,
    stacks: Sequence[Stack] | Mapping[str, Stack] | None = None,
    at_peak: bool = True,
) -> Simulation:
    """Validate the design's flow against ``stacks`` (default: the design's own) and play it,
    one row per stack (``at_peak``: see :func:`simulate`). For sizing: substitute candidate
    stacks made with ``stack.model_copy(update=...)`` and read ``Simulation.diameter`` etc."""
    if stacks is None:
        stacks = design.spec.stacks
    named = (
        dict(stacks)
        if isinstance(stacks, Mapping)
        else {f"candidate[{i}]": s for i, s in enumerate(stacks)}
    )
    plan = plan_flow(design, named)
    geometry = stack_geometry(list(named.values()), design.spec.masks, plan.masks, design.tech)
    return simulate(geometry, plan, design.tech, at_peak=at_peak)
