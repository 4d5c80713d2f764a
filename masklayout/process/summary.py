"""From the runner's arrays to the report: per stack steps and ball, the bridging check on the
die's bump sites, the wafer totals, warnings and failures."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

from masklayout.geometry.wafer import place_dies
from masklayout.process.results import (
    Ball,
    Cap,
    PasteLayer,
    RunResult,
    StackResult,
    StepResult,
    WaferTotals,
)
from masklayout.process.runner import Simulation, Solid, StepArrays, simulate_stacks
from masklayout.process.shapes import FREE, REGIMES, Shapes, free_shapes, touch_volume
from masklayout.process.solder import (
    UM3_TO_CM3,
    cap_radius_max,
    composition_matrix,
    composition_wt,
    liquidus,
    mix_notes,
)
from masklayout.spec import Design, Stack
from masklayout.tech import Tech

GAP_RULE, WIDTH_RULE = "BALL.GAP", "BALL.W"
UM3_PER_MM3 = 1e9
GRAVITY_BASE_UM = 500.0  # wetted bases wider than this are outside the gravity-free model
GRAVITY_AT_1MM = 0.008  # the height loss to gravity of a tall ball on a 1 mm base (§6)


def gravity_note(base_um: float) -> str:
    """What leaving gravity out costs on a wetted base this wide, at most: the height loss grows
    with the Bond number, as the base squared, and with the ball's height over its base (0.8 %
    at 1 mm for h ≈ 1.5 a in molten high-lead solder, the worst case; docs/model.md §6)."""
    loss = 100 * GRAVITY_AT_1MM * (base_um / 1000.0) ** 2
    return (
        f"the wetted base is {base_um:.0f} µm across, over the model's {GRAVITY_BASE_UM:g} µm: "
        f"gravity, which it leaves out, flattens the ball by up to {loss:.2g} % (a ball up to "
        "1.5 times as high as its base radius, of high-lead solder; docs/model.md)"
    )


def run(design: Design) -> RunResult:
    """Validate the flow (SpecError if it is wrong), play it for every stack and report."""
    sim = simulate_stacks(design)
    names = list(design.spec.stacks)
    where = _Where(design)
    stacks = [_stack_result(sim, row, name) for row, name in enumerate(names)]
    warnings = list(sim.plan.warnings) + _step_warnings(sim, names, where)
    warnings += mix_notes(sim.mass, sim.alloys)

    gap_min = design.rule_value(GAP_RULE, 0.0)
    width_min = design.rule_value(WIDTH_RULE, 0.0)
    diameters = {s.name: s.ball.diameter_um for s in stacks}
    pitch, gap = _neighbours(design, diameters)
    molten = _molten_gaps(design, sim, names)
    dies = _die_count(design)
    per_die = {n: sum(1 for s in design.sites if s.stack == n) for n in names}
    failures: list[str] = []
    for i, s in enumerate(stacks):
        cooled = gap.get(s.name)
        narrowest, widest, at = cooled, s.ball.diameter_um, None
        if s.name in molten and (cooled is None or molten[s.name][0] < cooled):
            narrowest, widest, at = molten[s.name]
        bridging = narrowest is not None and narrowest < gap_min
        stacks[i] = s = StackResult(
            s.name,
            s.steps,
            s.ball,
            per_die[s.name],
            per_die[s.name] * dies,
            pitch.get(s.name),
            narrowest,
            bridging,
            widest,
            at,
        )
        if bridging:
            body = (
                f"balls of {widest:.1f} µm"
                if at is None
                else f"at the peak of process[{at}] the molten bodies, {widest:.1f} µm wide,"
            )
            cooled_note = (
                ""
                if at is None or cooled is None
                else f"; cooled, balls of {s.ball.diameter_um:.1f} µm would leave {cooled:.1f} µm"
            )
            failures.append(
                f"stack '{s.name}': {body} leave {s.gap_um:.1f} µm to their neighbours (pitch "
                f"{s.pitch_um:g} µm), less than the minimum gap {gap_min:g} µm ({GAP_RULE}): "
                f"they bridge{cooled_note}"
            )
        if s.sites_per_die and s.ball.diameter_um < width_min:
            warnings.append(
                f"stack '{s.name}': ball diameter {s.ball.diameter_um:.1f} µm is below "
                f"{WIDTH_RULE} {width_min:g} µm"
            )
    failures += _unmelted(sim, names, where)
    return RunResult(
        design.spec.name,
        tuple(stacks),
        _totals(sim, stacks, dies, design.tech),
        tuple(warnings),
        tuple(failures),
        gap_min,
    )


def balls(design: Design, stacks: Sequence[Stack]) -> list[Ball]:
    """The final ball of each of ``stacks`` through the design's flow (vectorised): what the
    inverse sizer asks for candidate openings."""
    sim = simulate_stacks(design, stacks)
    return [_ball(sim, row) for row in range(len(stacks))]


def ball_diameters(design: Design) -> dict[str, float]:
    """Each stack's ball diameter through the design's flow: what ``check`` needs, without the
    report, the totals and the neighbour search of :func:`run`."""
    sim = simulate_stacks(design, at_peak=False)
    return {name: _ball(sim, row).diameter_um for row, name in enumerate(design.spec.stacks)}


def widest_bodies(design: Design, stacks: Sequence[Stack] | None = None) -> np.ndarray:
    """Per stack (default: the design's), the widest body a neighbour could meet: the ball's
    diameter or, wider, its melt's above the masks at a reflow's peak (neighbours bridge while
    molten)."""
    sim = simulate_stacks(design, stacks)
    widest = sim.diameter
    for _, molten in sim.melts:
        widest = np.fmax(widest, molten)
    return widest


def bridging_diameters(design: Design) -> dict[str, float]:
    """Each stack's widest body for ``check``'s bridging rule (:func:`widest_bodies`). One
    diameter per stack, the widest over the reflows: where stacks melted at different reflows
    this is stricter than :func:`run`, which pairs only bodies molten at the same peak."""
    widest = widest_bodies(design)
    return {name: float(widest[row]) for row, name in enumerate(design.spec.stacks)}


# --------------------------------------------------------------------------- per stack
def _cap(shape: Shapes, row: int, volume: float) -> Cap:
    profile = shape.row(row)
    return Cap(
        float(volume),
        profile.height,
        float(shape.sphere_radius[row]),
        float(shape.diameter[row]),
        2 * profile.a,
        profile.regime,
        profile,
    )


def _core(volume: float, base_radius: float) -> Cap:
    """A solid core drawn as the free cap of its volume on the base (its real shape is the
    body's before the melt wetted it)."""
    return _cap(free_shapes(np.array([volume]), np.array([base_radius])), 0, volume)


def _against(sim: Simulation, shape: Shapes, row: int) -> str | None:
    """The mask whose wall the body of ``shape`` stands against on ``row`` (None: free)."""
    level = int(shape.level[row])
    return sim.plan.masks[level] if level >= 0 else None


def _peak(sim: Simulation, rec: StepArrays, row: int) -> tuple[Cap | None, str | None]:
    """A reflow's body at the peak, molten, and the mask it stands against (None, None where the
    peak was not computed or there is no body)."""
    if rec.peak is None or rec.peak_volume is None or rec.body_volume[row] <= 0:
        return None, None
    return _cap(rec.peak, row, float(rec.peak_volume[row])), _against(sim, rec.peak, row)


def _stack_result(sim: Simulation, row: int, name: str) -> StackResult:
    masks = sim.plan.masks
    steps = []
    for rec in sim.steps:
        body = float(rec.body_volume[row])
        core = float(rec.core_volume[row])
        shape = rec.shape
        reflow = rec.op.kind == "reflow" and shape is not None
        confined = _against(sim, shape, row) if reflow and shape is not None else None
        peak, peak_confined = _peak(sim, rec, row)
        steps.append(
            StepResult(
                rec.op.index,
                rec.op.kind,
                rec.op.label,
                rec.op.masks,
                tuple(
                    PasteLayer(masks[p.level], p.level, p.solder, float(p.paste[row]))
                    for p in rec.paste
                    if p.paste[row] > 0
                ),
                rec.op.solder,
                None if rec.paste_volume is None else float(rec.paste_volume[row]),
                None if rec.metal_volume is None else float(rec.metal_volume[row]),
                _cap(shape, row, body) if body > 0 and shape is not None else None,
                _core(core, float(shape.a[row])) if 0 < core < body and shape else None,
                confined,
                tuple(_solid_name(s) for s in rec.solid if s.rows[row]),
                peak,
                peak_confined,
            )
        )
    return StackResult(name, tuple(steps), _ball(sim, row))


def _ball(sim: Simulation, row: int) -> Ball:
    shape = sim.shape
    cap = _cap(shape, row, float(sim.volume[row]))
    a = float(shape.a[row])
    names = sim.elements
    composition = {e: float(x) for e, x in zip(names, sim.composition[row], strict=True)}
    element_g = sim.mass[row] @ _matrix(sim) * UM3_TO_CM3
    composite = bool(sim.composite[row])
    core = core_comp = core_liq = None
    if composite:
        core = _core(float(sim.final.core_volume[row]), a)
        core_mass = sim.core_mass[row : row + 1]
        core_comp = {
            e: float(x)
            for e, x in zip(names, composition_wt(core_mass, sim.alloys, names)[0], strict=True)
        }
        core_liq = float(liquidus(core_mass, sim.alloys)[0])
    peak, peak_confined = _peak(sim, sim.last_reflow, row)
    return Ball(
        cap.volume_um3,
        cap.height_um,
        cap.diameter_um,
        cap.base_diameter_um,
        cap.sphere_radius_um,
        composition,
        float(sim.liquidus[row]),
        composite,
        core,
        core_comp,
        core_liq,
        float(sim.unmelted[row]),
        {e: float(g) for e, g in zip(names, element_g, strict=True)},
        cap.regime,
        _against(sim, shape, row),
        cap.shape,
        peak,
        peak_confined,
    )


def _matrix(sim: Simulation) -> np.ndarray:
    return composition_matrix(sim.alloys, sim.elements)


def _solid_name(solid: Solid) -> str:
    if solid.what == "paste":
        return f"{solid.solder} from process[{solid.step}]"
    return "solid core" if solid.what == "core" else "pre-solder body"


# --------------------------------------------------------------------------- warnings
class _Where:
    """``spec.yaml:31:5: process[5]`` prefixes for messages about a step."""

    def __init__(self, design: Design):
        self.design = design

    def __call__(self, step: int, message: str) -> str:
        return str(self.design.source.problem(["process", step], message))


def _step_warnings(sim: Simulation, names: list[str], where: _Where) -> list[str]:
    out = []
    for rec in sim.steps:
        if rec.op.kind != "reflow":
            continue
        peak = rec.op.peak
        assert peak is not None  # a reflow always has its peak
        for s in rec.solid:
            if s.what == "paste":
                continue  # an unmelted deposit is a failure, reported at the end
            for row in np.flatnonzero(s.rows):
                out.append(
                    where(
                        rec.op.index,
                        f"stack '{names[row]}': peak {peak:g} °C is below the liquidus of the "
                        f"{_solid_name(s)} ({s.liquidus[row]:.0f} °C)"
                        + _partly(peak, float(s.solidus[row]), float(s.liquidus[row]))
                        + ": it stays solid, the molten solder wets it: composite ball (claim 4)",
                    )
                )
        molten, volume, cooled = rec.peak, rec.peak_volume, rec.shape
        if molten is None or volume is None or cooled is None:
            continue
        for row in np.flatnonzero(2 * molten.a > GRAVITY_BASE_UM):
            out.append(
                where(rec.op.index, f"stack '{names[row]}': {gravity_note(2 * molten.a[row])}")
            )
        out += _flat_walls(sim, rec, names, where)
        free = free_shapes(volume, molten.a)
        for row in np.flatnonzero(molten.level >= 0):
            mask = sim.plan.masks[int(molten.level[row])]
            regime = REGIMES[int(molten.kind[row])]
            clear = ""
            if cooled.level[row] < 0:
                clear = (
                    f"; cooled, the solid ({rec.body_volume[row]:,.0f} µm³) stands clear of it, "
                    f"a free cap {cooled.height[row]:.1f} / {cooled.diameter[row]:.1f} µm: "
                    "no margin for the melt's expansion"
                )
            out.append(
                where(
                    rec.op.index,
                    f"stack '{names[row]}': at the peak the molten body ({volume[row]:,.0f} µm³) "
                    f"stands against the wall of the {mask} opening: confined by {mask} "
                    f"({_REGIME_WORDS[regime]}): height {molten.height[row]:.1f} µm, "
                    f"Ø {molten.diameter[row]:.1f} µm where a free cap would be "
                    f"{free.height[row]:.1f} / {free.diameter[row]:.1f} µm{clear} "
                    "(docs/model.md; a strip before this reflow frees it)",
                )
            )
    return out


def _flat_walls(sim: Simulation, rec: StepArrays, names: list[str], where: _Where) -> list[str]:
    """A free cap at the peak that reaches past the flats of a square or octagonal opening: the
    model takes the opening as its equal-area circle (0.886 of its radius for a square, 0.974
    for an octagon: the walls' middles are nearer), so in the real opening the melt already
    touches them; say so, with the volume at which it starts (docs/model.md §6)."""
    peak, volume = rec.peak, rec.peak_volume
    assert peak is not None and volume is not None
    stacks = where.design.spec.stacks
    thickness = np.broadcast_to(sim.geometry.thickness, (sim.geometry.rows, len(sim.plan.masks)))
    top = np.cumsum(thickness, axis=1)
    out = []
    for row in np.flatnonzero(peak.kind == FREE):
        stack = stacks[names[row]]
        for k, mask in enumerate(rec.op.masks):
            if stack.opening_shape(k) == "circle":
                continue
            low, high = top[row, k] - thickness[row, k], top[row, k]
            reach = float(cap_radius_max(low, high, peak.hc[row], peak.c[row]))
            flat = stack.openings[k].diameter / 2
            if reach <= flat:
                continue
            onset = float(touch_volume(peak.a[row : row + 1], np.array([flat]), low, high)[0])
            out.append(
                where(
                    rec.op.index,
                    f"stack '{names[row]}': at the peak the molten body ({volume[row]:,.0f} µm³) "
                    f"is a free cap {2 * reach:.1f} µm wide within {mask}, whose "
                    f"{stack.opening_shape(k)} opening the model takes as its equal-area circle "
                    f"(Ø {2 * sim.geometry.radius[row, k]:.1f} µm); its flat walls stand "
                    f"{2 * flat:g} µm apart, so the melt touches them from {onset:,.0f} µm³ on: "
                    "the real body is confined there, lower than reported (docs/model.md §6)",
                )
            )
            break
    return out


_REGIME_WORDS = {
    "column": "a column under the wall meniscus",
    "edge": "a cap pinned at the opening's top edge",
    "spread": "spread over the mask's top",
}


def _unmelted(sim: Simulation, names: list[str], where: _Where) -> list[str]:
    out = []
    peaks = {rec.op.index: rec.op.peak for rec in sim.steps if rec.op.kind == "reflow"}
    for p in sim.final.paste:
        later = [peak for i, peak in peaks.items() if i > p.step and peak is not None]
        liq, sol = sim.alloys[p.alloy].liquidus, sim.alloys[p.alloy].solidus
        hottest = max(later)
        for row in np.flatnonzero(p.paste > 0):
            out.append(
                where(
                    p.step,
                    f"stack '{names[row]}': {p.solder} deposited here never melts (liquidus "
                    f"{liq:g} °C, hottest later reflow {hottest:g} °C"
                    + _partly(hottest, sol, liq)
                    + "): unmelted flow",
                )
            )
    return out


def _partly(peak: float, solidus: float, liquidus: float) -> str:
    """Between solidus and liquidus an alloy is a mush of solid grains in melt: it does not
    coalesce into a ball, so the model keeps it solid; say so."""
    if solidus <= peak < liquidus:
        return (
            f"; only partly molten between its solidus {solidus:.0f} °C and liquidus "
            f"{liquidus:.0f} °C, which does not coalesce"
        )
    return ""


# --------------------------------------------------------------------------- die and wafer
def _die_count(design: Design) -> int:
    return place_dies(design.spec.wafer).count


def _neighbours(
    design: Design, diameters: dict[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per stack: the nearest neighbouring bump centre (pitch) and the narrowest space from its
    balls to their neighbours' (on one die), with a k-d tree: O(n log n)."""
    sites = [s for s in design.sites if s.stack in diameters]
    if len(sites) < 2:
        return {}, {}
    xy = np.array([(s.x, s.y) for s in sites])
    d = np.array([diameters[s.stack] for s in sites])
    stack_of = np.array([s.stack for s in sites])
    pitch, space = nearest_spaces(xy, d)
    by_pitch, by_space = {}, {}
    for name in diameters:
        mine = stack_of == name
        if mine.any():
            by_pitch[name] = float(pitch[mine].min())
            by_space[name] = float(space[mine].min())
    return by_pitch, by_space


def _molten_gaps(
    design: Design, sim: Simulation, names: list[str]
) -> dict[str, tuple[float, float, int]]:
    """Per stack: the narrowest space between its molten body and a molten neighbour's at any
    reflow's peak, that body's widest diameter and the reflow's step index. Only sites molten
    at the same peak are paired, by their width above the masks standing."""
    out: dict[str, tuple[float, float, int]] = {}
    for index, diameter in sim.melts:
        widths = {n: float(d) for n, d in zip(names, diameter, strict=True) if np.isfinite(d)}
        for name, space in _neighbours(design, widths)[1].items():
            if name not in out or space < out[name][0]:
                out[name] = (space, widths[name], index)
    return out


def nearest_spaces(xy: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of the circles at ``xy`` (n × 2, n >= 2) of diameters ``d``: the distance to the
    nearest other centre, and the smallest space (centre distance less the two radii) to any
    other circle. A circle farther than the nearest centre plus half the spread of diameters
    cannot leave less space, so only those within it are measured."""
    tree = cKDTree(xy)
    pitch = np.asarray(tree.query(xy, k=2)[0])[:, 1]
    spread = float(d.max() - d.min())
    if spread == 0:
        return pitch, pitch - d
    reach = pitch + spread / 2 + 1e-9 * (1 + np.abs(xy).max())
    near = tree.query_ball_point(xy, reach)
    counts = np.fromiter(map(len, near), dtype=np.int64, count=len(near))
    j = np.fromiter(chain.from_iterable(near), dtype=np.int64, count=int(counts.sum()))
    i = np.repeat(np.arange(len(xy)), counts)
    i, j = i[i != j], j[i != j]
    space = np.full(len(xy), np.inf)
    np.minimum.at(space, i, np.hypot(*(xy[i] - xy[j]).T) - (d[i] + d[j]) / 2)
    return pitch, space


def _totals(sim: Simulation, stacks: list[StackResult], dies: int, tech: Tech) -> WaferTotals:
    """Metal and solder as deposited on the whole wafer (a powder bed's voids weigh nothing)."""
    sites = np.array([s.sites_on_wafer for s in stacks], dtype=float)
    matrix = _matrix(sim)
    element_g = (sites @ sim.mass) @ matrix * UM3_TO_CM3
    metal = 0.0
    solder_v: dict[str, float] = {}
    solder_g: dict[str, float] = {}
    for rec in sim.steps:
        if rec.op.kind != "deposit" or rec.metal_volume is None or rec.paste_volume is None:
            continue
        solder = rec.op.solder
        assert solder is not None
        metal += float(sites @ rec.metal_volume)
        paste = float(sites @ rec.paste_volume)
        p = next(p for p in rec.paste if p.step == rec.op.index)
        density = sim.alloys[p.alloy].density
        flux = tech.solders[solder].flux_density if tech.solders[solder].form == "paste" else 0.0
        grams = (
            sites @ (rec.metal_volume * density + (rec.paste_volume - rec.metal_volume) * flux)
        ) * UM3_TO_CM3
        solder_v[solder] = solder_v.get(solder, 0.0) + paste / UM3_PER_MM3
        solder_g[solder] = solder_g.get(solder, 0.0) + float(grams)
    return WaferTotals(
        dies,
        int(sites.sum()),
        metal / UM3_PER_MM3,
        {e: float(g) for e, g in zip(sim.elements, element_g, strict=True)},
        solder_v,
        solder_g,
    )
