"""The inverse question: which opening gives the ball I want?

For one stack, the diameter of one solder-mask opening (by default the largest, the last of the
stack) is solved so that the step runner's ball reaches a target height or diameter. The search
stays inside what the rule deck allows for that opening:

- at least: the opening below it plus twice the alignment margin (``SMk.EN.SMk-1``), and the
  thickness over the film's maximum aspect ratio (``SM.AR``);
- at most: the pitch less the film's minimum web to each neighbouring opening on the same mask
  (``SM.WEB``, neighbouring dies included), and the opening above it less twice its margin.

The ball grows with the opening, so the solution is found by bisection on a vectorised sweep of
candidate stacks (``stack.model_copy(update=...)`` through :func:`masklayout.process.simulate_stacks`),
then snapped to the grid. A target out of reach raises :class:`Unreachable`, naming the rule that
stops it: the web at this pitch, the aspect ratio, the enclosure, or bridging (``BALL.GAP``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from masklayout.geometry.shapes import GRID, ShapeName, shape_points
from masklayout.process import Ball, balls, simulate_stacks, widest_bodies
from masklayout.process.summary import GRAVITY_BASE_UM, gravity_note
from masklayout.spec import Design, Stack, circumradius
from masklayout.tech import Rule

Target = Literal["height", "diameter"]
SWEEP = 33  # candidates per bisection round
ROUNDS = 5  # the bracket shrinks 32x per round
DEFAULT_GRID = 1.0  # µm: openings are drawn in whole micrometres
CHUNK = 8192  # openings whose neighbours the web bound measures at once


@dataclass(frozen=True)
class Bound:
    """A rule that bounds the opening: ``side`` ``min`` (the diameter must be at least
    ``diameter_um``) or ``max`` (at most)."""

    rule: str
    side: Literal["min", "max"]
    diameter_um: float
    why: str


@dataclass(frozen=True)
class Sizing:
    """A solved opening: the stack with it, the ball it gives, the admissible range and the
    rules that bound it, and warnings (printability, ball width) about the solution."""

    stack_name: str
    mask: str
    level: int
    target: Target
    target_um: float
    diameter_um: float
    stack: Stack
    ball: Ball
    bounds: tuple[Bound, ...]
    low_um: float
    high_um: float
    grid_um: float
    warnings: tuple[str, ...] = ()

    @property
    def achieved_um(self) -> float:
        return self.ball.height_um if self.target == "height" else self.ball.diameter_um


class Unreachable(ValueError):
    """No admissible opening gives the target; ``rule`` is the one that stops it."""

    def __init__(self, message: str, rule: str):
        super().__init__(message)
        self.rule = rule


# --------------------------------------------------------------------------- rule bounds
def _rule(design: Design, check: str, **match: str) -> tuple[str, Rule] | None:
    """The first rule of the deck of kind ``check`` whose fields match (``layers`` contains)."""
    for name, rule in design.tech.rules.items():
        if rule.check != check:
            continue
        ok = True
        for key, value in match.items():
            field = getattr(rule, key)
            ok &= value in field if isinstance(field, list) else field == value
        if ok:
            return name, rule
    return None


def _margin(design: Design, found: tuple[str, Rule] | None) -> tuple[str, float]:
    """An enclosure rule's name and margin (a value per film at its stricter film, as the check
    takes it); none: plain containment."""
    if found is None:
        return "containment", 0.0
    return found[0], design.tech.rule_value(found[0], 0.0)


def _support(shape: ShapeName, angle: np.ndarray) -> np.ndarray:
    """Half-extent of a shape of unit diameter towards ``angle``."""
    points = shape_points(shape, 1000.0) / 1000.0
    direction = np.stack((np.cos(angle), np.sin(angle)), axis=-1)
    out = np.empty(len(direction))
    for start in range(0, len(direction), 1 << 16):  # a chunk × 192 vertices: ~100 MB
        out[start : start + (1 << 16)] = (direction[start : start + (1 << 16)] @ points.T).max(
            axis=-1
        )
    return out


def _openings_around(
    design: Design, stack_name: str, level: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every opening on the mask of ``level`` of ``stack_name``, on the die and its eight
    neighbours: (x, y, diameter) rows (nan for this stack's own, growing with it), their shapes,
    and the rows of this stack's own openings on the die."""
    spec = design.spec
    mask = spec.stacks[stack_name].openings[level].mask
    (sx, sy) = spec.wafer.die_step
    rows = []
    for site in design.sites:
        stack = spec.stacks[site.stack]
        k = next((i for i, o in enumerate(stack.openings) if o.mask == mask), None)
        if k is not None:
            d = math.nan if site.stack == stack_name else stack.openings[k].diameter
            rows.append((site.x, site.y, d, stack.opening_shape(k)))
    base = np.array([r[:3] for r in rows], dtype=float).reshape(-1, 3)
    shapes = np.array([r[3] for r in rows])
    copies = [base + (dx, dy, 0.0) for dx in (-sx, 0.0, sx) for dy in (-sy, 0.0, sy)]
    return np.vstack(copies), np.tile(shapes, 9), base[np.isnan(base[:, 2])]


def _nearest_beyond(tree: cKDTree, points: np.ndarray, least: float) -> np.ndarray:
    """Distance from each of ``points`` to the nearest point of ``tree`` farther than ``least``
    (inf when there is none)."""
    out = np.full(len(points), np.inf)
    todo = np.arange(len(points))
    k = 2
    while todo.size:
        k = min(k, tree.n)
        dist = np.asarray(tree.query(points[todo], k=k)[0]).reshape(len(todo), k)
        far = np.where(dist > least, dist, np.inf).min(axis=1)
        done = np.isfinite(far) | (k == tree.n)
        out[todo[done]] = far[done]
        todo, k = todo[~done], 2 * k
    return out


def _pitch(design: Design, stack_name: str, level: int = 0) -> float:
    """The nearest neighbouring opening centre to an opening of ``stack_name`` on the mask of
    ``level``, next dies included."""
    every, _, mine = _openings_around(design, stack_name, level)
    if not len(mine):
        return math.inf
    return float(_nearest_beyond(cKDTree(every[:, :2]), mine[:, :2], GRID).min())


def _web_bound(design: Design, stack_name: str, level: int, web: float) -> tuple[float, float]:
    """The largest diameter of the opening at ``level`` of ``stack_name`` that leaves ``web`` of
    resist to every other opening on that mask, next dies included, and the pitch there (as
    :func:`_pitch`). Only the openings within three times an opening's nearest neighbour can
    bind first; the pairs are found with a k-d tree and each distinct offset is measured once."""
    shape = design.spec.stacks[stack_name].opening_shape(level)
    every, every_shape, mine = _openings_around(design, stack_name, level)
    if not len(mine):
        return math.inf, math.inf
    tree = cKDTree(every[:, :2])
    nearest = _nearest_beyond(tree, mine[:, :2], GRID)
    has = np.isfinite(nearest)
    if not has.any():
        return math.inf, math.inf
    best = math.inf
    for start in range(0, int(has.sum()), CHUNK):  # a chunk of openings at a time: bounded memory
        rows = np.flatnonzero(has)[start : start + CHUNK]
        best = min(best, _web_limit(tree, every, every_shape, mine, nearest, rows, shape, web))
    return best, float(nearest.min())


def _web_limit(
    tree: cKDTree,
    every: np.ndarray,
    every_shape: np.ndarray,
    mine: np.ndarray,
    nearest: np.ndarray,
    rows: np.ndarray,
    shape: ShapeName,
    web: float,
) -> float:
    """:func:`_web_bound` over the openings ``rows`` of ``mine``."""
    near = tree.query_ball_point(mine[rows, :2], 3 * nearest[rows] * (1 + 1e-12))
    counts = np.fromiter(map(len, near), dtype=np.int64, count=len(near))
    j = np.fromiter(chain.from_iterable(near), dtype=np.int64, count=int(counts.sum()))
    i = np.repeat(rows, counts)
    dx, dy = every[j, 0] - mine[i, 0], every[j, 1] - mine[i, 1]
    dist = np.hypot(dx, dy)
    keep = (dist > GRID) & (dist <= 3 * nearest[i])
    kinds, kind = np.unique(every_shape[j[keep]], return_inverse=True)
    offsets = np.unique(
        np.column_stack((dx[keep], dy[keep], np.nan_to_num(every[j[keep], 2], nan=-1.0), kind)),
        axis=0,
    )
    dx, dy, d_other, kind = offsets.T
    angle = np.arctan2(dy, dx)
    f_self = _support(shape, angle)
    f_other = np.empty_like(f_self)
    for k, other in enumerate(kinds):
        pick = kind == k
        f_other[pick] = _support(other, angle[pick] + math.pi)
    gap = np.hypot(dx, dy) - web
    limit = np.where(d_other < 0, gap / (f_self + f_other), (gap - d_other * f_other) / f_self)
    return float(limit.min()) if limit.size else math.inf


def bounds(design: Design, stack_name: str, level: int) -> list[Bound]:
    """The rules that bound the diameter of the opening at ``level`` of ``stack_name``."""
    stack = design.spec.stacks[stack_name]
    opening = stack.openings[level]
    mask = design.spec.masks[opening.mask]
    shape = stack.opening_shape(level)
    out: list[Bound] = []
    if level > 0:
        below = stack.openings[level - 1]
        found = _rule(design, "enclosure", outer=opening.mask, inner=below.mask)
        name, margin = _margin(design, found)
        below_shape = stack.opening_shape(level - 1)
        low = (
            below.diameter + 2 * margin
            if below_shape == shape
            else 2 * (circumradius(below_shape, below.diameter) + margin)
        )
        out.append(
            Bound(name, "min", low, f"contain {below.mask} {below.diameter:g} by {margin:g}")
        )
    if level + 1 < len(stack.openings):
        above = stack.openings[level + 1]
        found = _rule(design, "enclosure", outer=above.mask, inner=opening.mask)
        name, margin = _margin(design, found)
        high = above.diameter - 2 * margin
        out.append(Bound(name, "max", high, f"stay inside {above.mask} {above.diameter:g} by {margin:g}"))  # fmt: skip
    found = _rule(design, "aspect_ratio", layers=opening.mask)
    if found:
        ratio = found[1].for_film(mask.film)
        out.append(
            Bound(
                f"{found[0]}:{opening.mask}",
                "min",
                mask.thickness / ratio,
                f"{mask.thickness:g} µm {mask.film} at aspect ratio <= {ratio:g}",
            )  # fmt: skip
        )
    found = _rule(design, "web", layers=opening.mask)
    if found:
        web = found[1].for_film(mask.film)
        high, pitch = _web_bound(design, stack_name, level, web)
        if math.isfinite(high):
            out.append(
                Bound(
                    f"{found[0]}:{opening.mask}",
                    "max",
                    high,
                    f"web {web:g} µm of {mask.film} at pitch {pitch:g}",
                )  # fmt: skip
            )
    return out


# --------------------------------------------------------------------------- the solve
def _with(stack: Stack, level: int, diameter: float) -> Stack:
    openings = list(stack.openings)
    openings[level] = openings[level].model_copy(update={"diameter": float(diameter)})
    return stack.model_copy(update={"openings": openings})


def _metric(design: Design, stack: Stack, level: int, target: Target, d: np.ndarray) -> np.ndarray:
    sim = simulate_stacks(design, [_with(stack, level, x) for x in d], at_peak=False)
    return np.asarray(sim.height if target == "height" else sim.diameter, dtype=float)


def size(
    design: Design,
    stack_name: str,
    target: Target,
    value: float,
    mask: str | None = None,
    grid: float = DEFAULT_GRID,
) -> Sizing:
    """Solve the diameter of ``mask``'s opening (default: the stack's largest) in
    ``stack_name`` for a ball of this height or diameter. Raises :class:`Unreachable`."""
    spec = design.spec
    if stack_name not in spec.stacks:
        raise design.error(["stacks"], f"unknown stack '{stack_name}' (known: {', '.join(spec.stacks)})")  # fmt: skip
    stack = spec.stacks[stack_name]
    masks = [o.mask for o in stack.openings]
    mask = mask or masks[-1]
    if mask not in masks:
        raise design.error(
            ["stacks", stack_name, "openings"],
            f"stack '{stack_name}' has no opening on mask '{mask}' (it has {', '.join(masks)})",
        )
    level = masks.index(mask)
    pitch = _pitch(design, stack_name)
    if target == "diameter":
        _check_bridging(design, stack_name, value, pitch)
    rules = bounds(design, stack_name, level)
    lows = [b for b in rules if b.side == "min"] or [
        Bound("positive", "min", grid, "a real opening")
    ]
    highs = [b for b in rules if b.side == "max"]
    low_b = max(lows, key=lambda b: b.diameter_um)
    high_b = min(highs, key=lambda b: b.diameter_um) if highs else None
    low = math.ceil(low_b.diameter_um / grid - 1e-9) * grid
    high = math.floor(high_b.diameter_um / grid + 1e-9) * grid if high_b else max(4 * low, 4 * stack.openings[level].diameter)  # fmt: skip
    if low > high:
        assert high_b is not None
        raise Unreachable(
            f"no {mask} opening fits stack '{stack_name}': {low_b.rule} needs at least "
            f"{low_b.diameter_um:g} µm ({low_b.why}) but {high_b.rule} allows at most "
            f"{high_b.diameter_um:g} µm ({high_b.why})",
            high_b.rule,
        )
    candidates = np.linspace(low, high, SWEEP * 2 - 1)
    reached = _metric(design, stack, level, target, candidates)
    if not reached.min() <= value <= reached.max():
        above = value > reached.max()
        at = int(np.argmax(reached) if above else np.argmin(reached))
        limit = high_b if at == len(candidates) - 1 and high_b else low_b if at == 0 else None
        rule = limit.rule if limit else "none"
        why = f"{limit.rule}: {limit.why}" if limit else "no rule bounds it"
        word = "largest" if above else "smallest"
        raise Unreachable(
            f"a ball {target} of {value:g} µm is out of reach: the {word} {target} any {mask} "
            f"opening the rules allow ({low:g} .. {high:g} µm) gives is {reached[at]:.1f} µm, "
            f"at {candidates[at]:g} µm ({why})",
            rule,
        )
    diameter = _solve(design, stack, level, target, value, candidates, reached, grid, (low, high))
    solved = _with(stack, level, round(diameter, 6))
    ball = balls(design, [solved])[0]
    widest = float(widest_bodies(design, [solved])[0])
    _check_bridging(design, stack_name, widest, pitch, "its widest body (molten at a peak)")
    return Sizing(
        stack_name, mask, level, target, value, diameter, solved, ball, tuple(rules), low, high,
        grid, tuple(_warnings(design, solved, level, ball)),
    )  # fmt: skip


def _solve(
    design: Design,
    stack: Stack,
    level: int,
    target: Target,
    value: float,
    candidates: np.ndarray,
    reached: np.ndarray,
    grid: float,
    limits: tuple[float, float],
) -> float:
    """The grid diameter whose ball comes closest to ``value``: each bracket where the sweep
    crosses the target is narrowed by bisection (the ball need not grow with every opening: a
    first opening narrower than the UBM narrows the wetted base); the crossing nearest the
    stack's present diameter wins."""
    current = stack.openings[level].diameter
    side = np.sign(reached - value)
    brackets = np.flatnonzero(side[:-1] * side[1:] <= 0)
    roots = []
    for i in brackets:
        a, b = candidates[i], candidates[i + 1]
        for _ in range(ROUNDS):
            sweep = np.linspace(a, b, SWEEP)
            s = np.sign(_metric(design, stack, level, target, sweep) - value)
            j = int(np.flatnonzero(s[:-1] * s[1:] <= 0)[0])
            a, b = sweep[j], sweep[j + 1]
        roots.append((a + b) / 2)
    root = min(roots, key=lambda r: abs(r - current))
    snapped = np.unique(np.clip([math.floor(root / grid) * grid, math.ceil(root / grid) * grid], *limits))  # fmt: skip
    got = _metric(design, stack, level, target, snapped)
    return float(snapped[int(np.argmin(np.abs(got - value)))])


def _check_bridging(
    design: Design, stack_name: str, ball_diameter: float, pitch: float, what: str = "a ball"
) -> None:
    """Unreachable when a body this wide (the ball, or its melt at a reflow's peak) leaves less
    than the minimum gap to its neighbours ``pitch`` away (:func:`_pitch`)."""
    found = _rule(design, "bridging")
    if found is None:
        return
    gap = design.rule_value(found[0], 0.0)
    if math.isfinite(pitch) and ball_diameter + gap > pitch:
        raise Unreachable(
            f"{what} {ball_diameter:.1f} µm wide with the minimum gap {gap:g} µm ({found[0]}) "
            f"needs a pitch of {ball_diameter + gap:.1f} µm; "
            f"the bumps of stack '{stack_name}' are {pitch:g} µm apart: they bridge",
            found[0],
        )


def _warnings(design: Design, stack: Stack, level: int, ball: Ball) -> list[str]:
    out = []
    opening = stack.openings[level]
    found = _rule(design, "area_ratio", layers=opening.mask)
    if found:
        mask = design.spec.masks[opening.mask]
        ratio = opening.diameter / (4 * mask.thickness)
        if stack.opening_shape(level) == "circle" and ratio < found[1].for_film(mask.film):
            out.append(
                f"{found[0]}: {opening.mask} {opening.diameter:g} µm in {mask.thickness:g} µm has "
                f"area ratio {ratio:.2f} < {found[1].for_film(mask.film):g}: it may not fill"
            )
    sim = simulate_stacks(design, [stack])
    for step in sim.steps:
        if step.confined is not None and step.confined[0] >= 0:
            mask_name = sim.plan.masks[int(step.confined[0])]
            if step is not sim.last_reflow:
                ball_is = "a later reflow reshapes the ball"
            elif step.shape is not None and step.shape.level[0] >= 0:
                ball_is = "the ball above is the confined shape"
            else:
                ball_is = "the ball above, solid and 4-6 % smaller, stands clear of it: no margin"
            out.append(
                f"at {step.op.label} the molten body stands against the wall of the {mask_name} "
                f"opening: confined by {mask_name}; {ball_is} "
                "(docs/model.md; square and octagonal openings as their equal-area circles)"
            )
            break
    if ball.base_diameter_um > GRAVITY_BASE_UM:
        out.append(gravity_note(ball.base_diameter_um))
    found = _rule(design, "ball_width")
    if found and ball.diameter_um < (least := design.rule_value(found[0], 0.0)):
        out.append(f"{found[0]}: the ball is {ball.diameter_um:.1f} µm wide, below {least:g}: check will fail")  # fmt: skip
    return out


# --------------------------------------------------------------------------- output
def stack_yaml(name: str, stack: Stack) -> str:
    """The stack as a YAML snippet to paste under ``stacks:`` of the spec."""
    lines = [
        "stacks:",
        f"  {name}:",
        f"    ubm: {{shape: {stack.ubm.shape}, diameter: {stack.ubm.diameter:g}}}",
        f"    pi2: {{shape: {stack.pi2.shape}, diameter: {stack.pi2.diameter:g}}}",
        "    openings:",
    ]
    for opening in stack.openings:
        shape = f"shape: {opening.shape}, " if opening.shape else ""
        lines.append(f"      - {{mask: {opening.mask}, {shape}diameter: {opening.diameter:g}}}")
    return "\n".join(lines)


def to_json(result: Sizing) -> dict:
    """The solution as plain data for flows."""
    return {
        "stack": result.stack_name,
        "mask": result.mask,
        "target": {"quantity": result.target, "um": result.target_um},
        "diameter_um": result.diameter_um,
        "grid_um": result.grid_um,
        "achieved_um": round(result.achieved_um, 3),
        "ball": {
            "height_um": round(result.ball.height_um, 3),
            "diameter_um": round(result.ball.diameter_um, 3),
            "volume_um3": round(result.ball.volume_um3, 1),
        },
        "range_um": [result.low_um, result.high_um],
        "bounds": [
            {"rule": b.rule, "side": b.side, "diameter_um": round(b.diameter_um, 3), "why": b.why}
            for b in result.bounds
        ],
        "warnings": list(result.warnings),
        "openings": [
            {"mask": o.mask, "shape": result.stack.opening_shape(k), "diameter_um": o.diameter}
            for k, o in enumerate(result.stack.openings)
        ],
        "yaml": stack_yaml(result.stack_name, result.stack),
    }


def to_text(result: Sizing) -> str:
    """The solution for the terminal: opening, ball, the rules around it, the YAML snippet."""
    lines = [
        f"stack {result.stack_name}: {result.mask} opening {result.diameter_um:g} µm "
        f"(grid {result.grid_um:g} µm) for a ball {result.target} of {result.target_um:g} µm",
        f"ball                height {result.ball.height_um:.2f} µm, diameter "
        f"{result.ball.diameter_um:.2f} µm, volume {result.ball.volume_um3:.4g} µm³",
        f"allowed             {result.low_um:g} .. {result.high_um:g} µm",
    ]
    for b in result.bounds:
        sign = ">=" if b.side == "min" else "<="
        lines.append(f"  {b.rule:<18}{sign} {b.diameter_um:.1f} µm  ({b.why})")
    lines += [f"warning: {w}" for w in result.warnings]
    lines += ["", stack_yaml(result.stack_name, result.stack)]
    return "\n".join(lines)
