"""Monte Carlo over every site of the wafer: each sample is one wafer, every bump of every full
die a row of the step runner with its own mask thicknesses, opening sizes, fills and metal
contents drawn from the variation file; the runner's own model (:func:`simulate`) makes the
balls, in chunks of whole dies to bound memory.

Draws are reproducible: each random quantity of each sample has its own stream
(``SeedSequence(seed, spawn_key=(sample, quantity))``), read in die order, so the numbers do
not depend on the chunk size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from masklayout.geometry.shapes import shape_area
from masklayout.geometry.wafer import place_dies
from masklayout.process.flow import Op, Plan
from masklayout.process.runner import (
    DepositRows,
    Geometry,
    Simulation,
    simulate,
    simulate_stacks,
)
from masklayout.process.summary import GAP_RULE
from masklayout.spec import Design
from masklayout.variation.model import MaskVariation, Variation

CHUNK_ROWS = 1 << 15  # rows per runner call: arrays that stay in cache, the fastest measured
NEIGHBOUR_REACH = 1.5  # neighbours: bumps closer than this many times the die's finest pitch
TINY = 1e-9


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class StackStats:
    """One stack's balls over all its site-samples: height and widest diameter, µm."""

    name: str
    site_samples: int
    nominal_height: float
    mean_height: float
    sigma_height: float
    min_height: float
    max_height: float
    nominal_diameter: float
    mean_diameter: float
    sigma_diameter: float
    min_diameter: float
    max_diameter: float
    limits: tuple[float, float] | None = None
    cpk: float | None = None  # None: no limits; inf: no spread
    outside: int = 0  # site-samples beyond the limits


@dataclass(frozen=True)
class Worst:
    """Where something was worst: its value, the die (index in the wafer map, centre µm) and
    the sample."""

    value: float
    die: int
    x: float
    y: float
    sample: int


@dataclass(frozen=True)
class WallTouch:
    """One reflow with masks standing: the site-samples whose melt touches a mask wall at the
    peak (confinement onset, the model's equal-area walls), over all and per stack and per
    mask (``(touched, site-samples)``), and the stacks whose nominal melt touches."""

    step: int
    label: str
    masks: tuple[str, ...]
    site_samples: int
    touched: int
    by_stack: dict[str, tuple[int, int]]
    by_mask: dict[str, int]
    nominal: tuple[str, ...]

    @property
    def probability(self) -> float:
        """Probability that a site's melt touches a wall at this reflow's peak."""
        return self.touched / self.site_samples if self.site_samples else 0.0


@dataclass(frozen=True)
class VariationResult:
    """A Monte Carlo run. Per die arrays follow the full dies of the wafer map."""

    name: str
    samples: int
    seed: int
    dies: int
    sites_per_die: int
    seconds: float  # wall clock of the Monte Carlo
    cpu_seconds: float  # processor time of it (one core: numpy runs these on one thread)
    stacks: tuple[StackStats, ...]
    limits_from: str | None
    die_centers: np.ndarray
    die_mean_height: np.ndarray
    die_coplanarity: np.ndarray  # mean over samples
    die_coplanarity_max: np.ndarray
    die_bridged: np.ndarray  # samples in which the die has a bridge
    coplanarity_mean: float
    coplanarity_sigma: float
    coplanarity_worst: Worst
    coplanarity_limit: float | None
    coplanarity_over: int  # die-samples over the limit
    pairs_per_die: int
    gap_min: float
    bridges: int  # neighbour pair-samples closer than gap_min, molten at a peak or cooled
    narrowest_gap: Worst | None
    wall_touch: tuple[WallTouch, ...] = ()  # per reflow with masks standing

    @property
    def site_samples(self) -> int:
        return self.samples * self.dies * self.sites_per_die

    @property
    def rate(self) -> float:
        """Site-samples per second of processor time (a shared machine's wall clock says more
        about the other jobs than about this one)."""
        return self.site_samples / self.cpu_seconds if self.cpu_seconds > 0 else math.inf

    @property
    def bridge_probability(self) -> float:
        """Probability that a neighbour pair bridges."""
        total = self.pairs_per_die * self.dies * self.samples
        return self.bridges / total if total else 0.0

    @property
    def die_bridge_probability(self) -> float:
        """Probability that a die has at least one bridge."""
        return float(self.die_bridged.sum()) / (self.dies * self.samples)


# --------------------------------------------------------------------------- statistics
def cpk(mean: float, sigma: float, low: float, high: float) -> float:
    """Process capability ``min(high - mean, mean - low) / 3σ`` (inf for σ = 0)."""
    margin = min(high - mean, mean - low)
    return margin / (3 * sigma) if sigma > 0 else (math.inf if margin >= 0 else -math.inf)


def neighbour_pairs(
    xy: np.ndarray, reach: float = NEIGHBOUR_REACH, block: int = 1024
) -> tuple[np.ndarray, ...]:
    """(i, j, distance) of the bump pairs of one die closer than ``reach`` times its finest
    pitch, i < j (blocks of rows against all: memory linear in the bump count)."""
    n = len(xy)
    if n < 2:
        empty = np.zeros(0, dtype=int)
        return empty, empty, np.zeros(0)

    def distances(start: int) -> np.ndarray:
        d = np.hypot(*(xy[start : start + block, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        rows = np.arange(d.shape[0])
        d[rows, rows + start] = np.inf
        return d

    finest = min(float(distances(start).min()) for start in range(0, n, block))
    found = []
    for start in range(0, n, block):
        d = distances(start)
        i, j = np.nonzero(d <= reach * finest * (1 + 1e-12))
        i = i + start
        keep = i < j
        found.append((i[keep], j[keep], d[i[keep] - start, j[keep]]))
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))


def gaps(diameter: np.ndarray, i: np.ndarray, j: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Per die (rows of ``diameter``, dies × sites), the space between the balls of each
    neighbour pair: ``pitch - (d_i + d_j) / 2``; they bridge where it is below BALL.GAP."""
    return pitch - (diameter[:, i] + diameter[:, j]) / 2


def narrowest_gaps(
    diameter: np.ndarray,
    melts: Sequence[np.ndarray],
    i: np.ndarray,
    j: np.ndarray,
    pitch: np.ndarray,
) -> np.ndarray:
    """:func:`gaps` of the cooled balls ``diameter`` or, narrower, of the bodies molten at one
    reflow's peak (each of ``melts``: dies × sites, nan where a site holds no melt; a pair is
    measured at a peak only where both are molten)."""
    space = gaps(diameter, i, j, pitch)
    for melt in melts:
        space = np.fmin(space, gaps(melt, i, j, pitch))
    return space


# --------------------------------------------------------------------------- the run
class _Streams:
    """The random streams of one sample; ``normal(key, n)`` continues stream ``key``."""

    def __init__(self, seed: int, sample: int):
        self.seed, self.sample = seed, sample
        self.streams: dict[int, np.random.Generator] = {}

    def normal(self, key: int, n: int) -> np.ndarray:
        if key not in self.streams:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self.sample, key))
            self.streams[key] = np.random.default_rng(sequence)
        return self.streams[key].standard_normal(n)


def _spread(
    streams: _Streams, key: int, die_sigma: float, sigma: float, die_z: dict, die: np.ndarray
) -> np.ndarray | float:
    """die_sigma · z(die) + sigma · z(site) for the rows of ``die`` (0 when both are 0)."""
    out: np.ndarray | float = 0.0
    if die_sigma > 0:
        out = die_sigma * die_z[key][die]
    if sigma > 0:
        out = out + sigma * streams.normal(key + 1, len(die))
    return out


@dataclass(frozen=True)
class _Deposit:
    op: Op
    fill: tuple[float, float, float] | None  # mean, die sigma, sigma
    metal: tuple[float, float, float] | None


def monte_carlo(
    design: Design,
    variation: Variation,
    height_limits: tuple[float, float] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> VariationResult:
    """Play the design's flow on every site of every full die, ``variation.samples`` times,
    with the variation drawn per row. ``height_limits`` (µm) replace the tech's ball limits."""
    nominal = simulate_stacks(design)
    plan, geometry = nominal.plan, nominal.geometry
    names = list(design.spec.stacks)
    stacks = [design.spec.stacks[n] for n in names]
    levels = len(plan.masks)
    sites = design.sites
    site_stack = np.array([names.index(s.stack) for s in sites])
    site_xy = np.array([(s.x, s.y) for s in sites], dtype=float).reshape(-1, 2)
    centers = place_dies(design.spec.wafer).centers
    n_dies, n_sites = len(centers), len(sites)
    if not n_sites:
        raise design.error(["die", "bumps"], "no bumps on the die: nothing to vary")
    if not n_dies:
        raise design.error(["wafer"], "no full die on the wafer: nothing to vary")
    wafer_radius = design.spec.wafer.diameter / 2
    thickness = geometry.thickness
    opening = np.array([[s.openings[k].diameter for k in range(levels)] for s in stacks])
    ubm_area = np.array([shape_area(s.ubm.shape, s.ubm.diameter) for s in stacks])
    masks = [variation.masks.get(m, MaskVariation()) for m in plan.masks]
    deposits = _deposits(design, plan, variation)
    pi, pj, pitch = neighbour_pairs(site_xy)
    gap_min = design.tech.rule_value(GAP_RULE, 0.0)
    lows, highs, limits_from = _limits(design, nominal.height, height_limits)

    k_stacks = len(names)
    count = np.bincount(site_stack, minlength=k_stacks) * n_dies * variation.samples
    acc = {q: np.zeros(k_stacks) for q in ("h", "h2", "d", "d2", "out")}
    lo_h, hi_h = np.full(k_stacks, np.inf), np.full(k_stacks, -np.inf)
    lo_d, hi_d = lo_h.copy(), hi_h.copy()
    die_height = np.zeros(n_dies)
    copl_sum, copl_max = np.zeros(n_dies), np.zeros(n_dies)
    bridged = np.zeros(n_dies, dtype=int)
    copl_stats = [0.0, 0.0]
    worst = Worst(value=-1.0, die=0, x=0.0, y=0.0, sample=0)
    narrowest: Worst | None = None
    bridge_count, over = 0, 0
    limit = design.tech.ball_limits.coplanarity
    walled = [op for op in plan.ops if op.kind == "reflow" and op.masks]
    touched = {op.index: np.zeros((k_stacks, levels + 1)) for op in walled}
    per_chunk = max(1, chunk_rows // n_sites)
    start, cpu = time.perf_counter(), time.process_time()
    for sample in range(variation.samples):
        streams = _Streams(variation.seed, sample)
        die_z = {
            key: streams.normal(key, n_dies) for key in _die_keys(masks, deposits)
        }  # drawn first: a die's draw does not depend on the chunking
        for d0 in range(0, n_dies, per_chunk):
            d1 = min(n_dies, d0 + per_chunk)
            die = np.repeat(np.arange(d0, d1), n_sites)
            site = np.tile(np.arange(n_sites), d1 - d0)
            stack = site_stack[site]
            xy = centers[die] + site_xy[site]
            r = np.hypot(xy[:, 0], xy[:, 1]) / wafer_radius
            rows = _geometry(
                geometry, stack, r, die, streams, die_z, masks, thickness, opening, ubm_area
            )
            runs = {dep.op.index: _deposit_rows(dep, streams, die_z, die) for dep in deposits}
            sim = simulate(rows, plan, design.tech, runs)
            h, d = sim.height, sim.diameter
            for rec in sim.steps:
                if rec.op.index in touched and rec.peak is not None:
                    wall = np.where(rec.body_volume > rec.core_volume, rec.peak.level, -1)
                    touched[rec.op.index] += np.bincount(
                        stack * (levels + 1) + wall + 1, minlength=k_stacks * (levels + 1)
                    ).reshape(k_stacks, levels + 1)
            dh, dd = h - nominal.height[stack], d - nominal.diameter[stack]
            for q, v in (("h", dh), ("h2", dh * dh), ("d", dd), ("d2", dd * dd)):
                acc[q] += np.bincount(stack, weights=v, minlength=k_stacks)
            acc["out"] += np.bincount(
                stack, weights=(h < lows[stack]) | (h > highs[stack]), minlength=k_stacks
            )
            for k in range(k_stacks):
                mine = stack == k
                if mine.any():
                    lo_h[k], hi_h[k] = min(lo_h[k], h[mine].min()), max(hi_h[k], h[mine].max())
                    lo_d[k], hi_d[k] = min(lo_d[k], d[mine].min()), max(hi_d[k], d[mine].max())
            per_die = h.reshape(d1 - d0, n_sites)
            die_height[d0:d1] += per_die.mean(axis=1)
            copl = per_die.max(axis=1) - per_die.min(axis=1)
            copl_sum[d0:d1] += copl
            copl_max[d0:d1] = np.maximum(copl_max[d0:d1], copl)
            copl_stats[0] += float(copl.sum())
            copl_stats[1] += float((copl * copl).sum())
            top = int(np.argmax(copl))
            if copl[top] > worst.value:
                worst = _worst(float(copl[top]), d0 + top, centers, sample)
            if limit is not None:
                over += int((copl > limit).sum())
            if len(pi):
                shape = (d1 - d0, n_sites)
                melts = [m.reshape(shape) for _, m in sim.melts]
                space = narrowest_gaps(d.reshape(shape), melts, pi, pj, pitch)
                bad = space < gap_min
                bridge_count += int(bad.sum())
                bridged[d0:d1] += bad.any(axis=1)
                where = np.unravel_index(int(np.argmin(space)), space.shape)
                if narrowest is None or space[where] < narrowest.value:
                    at = d0 + int(where[0])
                    narrowest = _worst(float(space[where]), at, centers, sample)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu

    stats = []
    for k, name in enumerate(names):
        n = int(count[k])
        if n == 0:
            continue
        mh, sh = _mean_sigma(acc["h"][k], acc["h2"][k], n)
        md, sd = _mean_sigma(acc["d"][k], acc["d2"][k], n)
        mean_h = float(nominal.height[k]) + mh
        has_limits = np.isfinite(lows[k]) or np.isfinite(highs[k])
        stats.append(
            StackStats(
                name=name,
                site_samples=n,
                nominal_height=float(nominal.height[k]),
                mean_height=mean_h,
                sigma_height=sh,
                min_height=float(lo_h[k]),
                max_height=float(hi_h[k]),
                nominal_diameter=float(nominal.diameter[k]),
                mean_diameter=float(nominal.diameter[k]) + md,
                sigma_diameter=sd,
                min_diameter=float(lo_d[k]),
                max_diameter=float(hi_d[k]),
                limits=(float(lows[k]), float(highs[k])) if has_limits else None,
                cpk=cpk(mean_h, sh, lows[k], highs[k]) if has_limits else None,
                outside=int(acc["out"][k]),
            )
        )
    die_samples = n_dies * variation.samples
    copl_mean, copl_sigma = _mean_sigma(copl_stats[0], copl_stats[1], die_samples)
    return VariationResult(
        name=design.spec.name,
        samples=variation.samples,
        seed=variation.seed,
        dies=n_dies,
        sites_per_die=n_sites,
        seconds=seconds,
        cpu_seconds=cpu,
        stacks=tuple(stats),
        limits_from=limits_from,
        die_centers=centers,
        die_mean_height=die_height / variation.samples,
        die_coplanarity=copl_sum / variation.samples,
        die_coplanarity_max=copl_max,
        die_bridged=bridged,
        coplanarity_mean=copl_mean,
        coplanarity_sigma=copl_sigma,
        coplanarity_worst=worst,
        coplanarity_limit=limit,
        coplanarity_over=over,
        pairs_per_die=len(pi),
        gap_min=gap_min,
        bridges=bridge_count,
        narrowest_gap=narrowest,
        wall_touch=tuple(
            _wall_touch(op, touched[op.index], names, count, nominal, plan.masks) for op in walled
        ),
    )


def _wall_touch(
    op: Op,
    counts: np.ndarray,
    names: Sequence[str],
    site_samples: np.ndarray,
    nominal: Simulation,
    masks: Sequence[str],
) -> WallTouch:
    """The wall-touch counts of one reflow (stacks × (1 + levels): column 0 clear of every
    wall, column k + 1 against mask level k) and the nominal melts against a wall."""
    rec = next(r for r in nominal.steps if r.op.index == op.index)
    assert rec.peak is not None
    molten = rec.body_volume > rec.core_volume
    hit = counts[:, 1:]
    return WallTouch(
        step=op.index,
        label=op.label,
        masks=tuple(op.masks),
        site_samples=int(site_samples.sum()),
        touched=int(hit.sum()),
        by_stack={
            name: (int(hit[k].sum()), int(site_samples[k]))
            for k, name in enumerate(names)
            if site_samples[k]
        },
        by_mask={m: int(hit[:, k].sum()) for k, m in enumerate(masks) if m in op.masks},
        nominal=tuple(n for k, n in enumerate(names) if molten[k] and rec.peak.level[k] >= 0),
    )


def _worst(value: float, die: int, centers: np.ndarray, sample: int) -> Worst:
    x, y = (float(c) for c in centers[die])
    return Worst(value=value, die=die, x=x, y=y, sample=sample)


def _mean_sigma(total: float, squares: float, n: int) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1) from a sum and a sum of squares."""
    mean = total / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(max(squares - n * mean * mean, 0.0) / (n - 1))


def _limits(
    design: Design, nominal: np.ndarray, given: tuple[float, float] | None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Per stack height limits: the ones given, else the tech's tolerance around each stack's
    nominal height, else none (±inf)."""
    k = len(nominal)
    if given is not None:
        return np.full(k, given[0]), np.full(k, given[1]), "command line"
    tolerance = design.tech.ball_limits.height_tolerance
    if tolerance is not None:
        return nominal - tolerance, nominal + tolerance, f"tech: nominal ± {tolerance:g} µm"
    return np.full(k, -np.inf), np.full(k, np.inf), None


# --------------------------------------------------------------------------- one chunk's rows
THICKNESS, CD, FILL, METAL = 0, 2, 4, 6  # stream keys (+1: the site's) ...


def _level_key(level: int) -> int:
    """... of a mask level's streams ..."""
    return 8 * level


def _deposit_key(dep: _Deposit) -> int:
    """... and of a deposit step's."""
    return 8 * (1000 + dep.op.index)


def _die_keys(masks: Sequence[MaskVariation], deposits: Sequence[_Deposit]) -> list[int]:
    keys = []
    for level, m in enumerate(masks):
        if m.thickness.die_sigma.value > 0:
            keys.append(_level_key(level) + THICKNESS)
        if m.cd.die_sigma > 0:
            keys.append(_level_key(level) + CD)
    for dep in deposits:
        base = _deposit_key(dep)
        if dep.fill is not None and dep.fill[1] > 0:
            keys.append(base + FILL)
        if dep.metal is not None and dep.metal[1] > 0:
            keys.append(base + METAL)
    return keys


def _geometry(
    nominal: Geometry,
    stack: np.ndarray,
    r: np.ndarray,
    die: np.ndarray,
    streams: _Streams,
    die_z: dict,
    masks: Sequence[MaskVariation],
    thickness: np.ndarray,
    opening: np.ndarray,
    ubm_area: np.ndarray,
) -> Geometry:
    """The rows' geometry: the nominal stack's, with every level's thickness and opening
    drawn. A CD change scales its opening (the area by the square); the wetted base follows
    (:func:`_wetted`)."""
    n = len(stack)
    t = np.empty((n, len(masks)))
    area = nominal.area[stack]
    scaled = False
    for level, m in enumerate(masks):
        t0 = float(thickness[level])
        p = m.thickness.profile
        power = 2 if p.shape == "quadratic" else 1
        centre, edge = p.center.of(t0), p.edge.of(t0)
        delta = centre + (edge - centre) * r**power if (centre or edge) else 0.0
        delta = delta + _spread(
            streams,
            _level_key(level) + THICKNESS,
            m.thickness.die_sigma.of(t0),
            m.thickness.sigma.of(t0),
            die_z,
            die,
        )
        t[:, level] = np.maximum(t0 + delta, TINY)
        cd = m.cd.bias + _spread(
            streams, _level_key(level) + CD, m.cd.die_sigma, m.cd.sigma, die_z, die
        )
        if np.any(cd != 0):
            scale = np.maximum(1.0 + cd / opening[stack, level], TINY)
            area[:, level] = area[:, level] * scale * scale
            scaled = True
    base = _wetted(nominal, stack, area, ubm_area) if scaled else nominal.base_area[stack]
    return Geometry(area, base, t, nominal.theta, nominal.base_shape[stack])


def _wetted(
    nominal: Geometry, stack: np.ndarray, area: np.ndarray, ubm_area: np.ndarray
) -> np.ndarray:
    """The wetted base under the first m masks (column m) for the rows' openings ``area``: the
    UBM intersected with them (the runner's rule). Where the nominal intersection is the
    smallest of the UBM and the openings (concentric shapes of one kind: the usual case) it is
    that for the drawn openings too, exactly; for mixed shapes it scales with the smallest
    opening (first order)."""
    base = nominal.base_area[stack]
    drawn = nominal.area[stack]
    ubm = ubm_area[stack]
    out = base.copy()
    # running over the levels: the smallest drawn opening, its scale, the smallest opening
    least_drawn, least = np.full(len(ubm), np.inf), np.full(len(ubm), np.inf)
    ratio = np.ones(len(ubm))
    for m in range(1, base.shape[1]):
        ratio = np.where(drawn[:, m - 1] < least_drawn, area[:, m - 1] / drawn[:, m - 1], ratio)
        least_drawn = np.minimum(least_drawn, drawn[:, m - 1])
        least = np.minimum(least, area[:, m - 1])
        exact = np.isclose(base[:, m], np.minimum(ubm, least_drawn), rtol=1e-9)
        out[:, m] = np.where(exact, np.minimum(ubm, least), base[:, m] * ratio)
    return out


def _deposits(design: Design, plan: Plan, variation: Variation) -> list[_Deposit]:
    """The deposit steps the variation changes, with their (mean, die sigma, sigma)."""
    out = []
    for op in plan.ops:
        if op.kind != "deposit" or op.level is None:
            continue
        dv = variation.deposits.get(plan.masks[op.level])
        if dv is None:
            continue
        f = dv.fill
        fill = None
        if f.mean is not None or f.sigma > 0 or f.die_sigma > 0:
            fill = (op.fill if f.mean is None else f.mean, f.die_sigma, f.sigma)
        metal = None
        if dv.metal_wt is not None:
            solder = design.tech.solders[str(op.solder)]
            mean = solder.metal_wt if dv.metal_wt.mean is None else dv.metal_wt.mean
            assert mean is not None
            metal = (mean, dv.metal_wt.die_sigma, dv.metal_wt.sigma)
        out.append(_Deposit(op, fill, metal))
    return out


def _deposit_rows(dep: _Deposit, streams: _Streams, die_z: dict, die: np.ndarray) -> DepositRows:
    base = _deposit_key(dep)
    fill = metal = None
    if dep.fill is not None:
        mean, die_sigma, sigma = dep.fill
        drawn = mean + _spread(streams, base + FILL, die_sigma, sigma, die_z, die)
        fill = np.clip(np.broadcast_to(drawn, die.shape), TINY, 1.0)
    if dep.metal is not None:
        mean, die_sigma, sigma = dep.metal
        drawn = mean + _spread(streams, base + METAL, die_sigma, sigma, die_z, die)
        metal = np.clip(np.broadcast_to(drawn, die.shape), TINY, 100.0 - TINY)
    return DepositRows(fill, metal)
