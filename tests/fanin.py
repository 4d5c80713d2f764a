"""Realistic fan-in WLCSP routing problems: peripheral bond pads redistributed to a bump array.

Plain functions returning a ``RoutingProblem`` and the pin map (net -> pad and bump names), shared
by the routing tests and ``bench/bench_routing.py``. Rules as on a 0.35-0.4 mm pitch WLCSP: trace
12 µm, space 10 µm, pad capture = PI1 opening 50 µm + 10 µm, UBM capture = UBM Ø + 20 µm,
die-edge (seal ring) clearance 30 µm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from masklayout.routing import Net, Obstacle, RoutingProblem, Terminal
from masklayout.routing.assign import assign_bumps

WIDTH = 10.0
SPACE = 10.0
EDGE = 30.0
PAD_CAPTURE = 60.0  # PI1 opening 50 + 10
PAD_INSET = 80.0  # die edge to pad centre


@dataclass(frozen=True)
class Case:
    """One fan-in die: the bump array and the peripheral pad ring."""

    name: str
    count: int  # bumps per row and column
    pitch: float  # bump pitch µm
    ubm: float  # UBM diameter µm
    pads: int  # bond pads on the periphery
    margin: float  # outer bump centre to die edge µm
    depopulate: int = 0  # corner bumps removed per corner (triangle of this size)
    centre: int = 0  # centre block removed (this many bumps square)
    power_pads: int = 0  # pads per power net (two power nets)
    power_bumps: int = 0  # bumps per power net


CASES = {
    "6x6": Case("6x6", 6, 400.0, 250.0, 32, 420.0, power_pads=4, power_bumps=2),
    "10x10": Case("10x10", 10, 400.0, 240.0, 112, 420.0, power_pads=16, power_bumps=6),
    "11x11": Case("11x11", 11, 350.0, 200.0, 120, 420.0, 2, 3, power_pads=18, power_bumps=5),
    "12x12": Case("12x12", 12, 400.0, 240.0, 150, 420.0, power_pads=24, power_bumps=8),
}


def circle(centre: tuple[float, float], diameter: float, sides: int = 32) -> np.ndarray:
    """A regular polygon on the 1 nm grid circumscribing nothing: vertices on the circle."""
    a = 2 * math.pi * (np.arange(sides) + 0.5) / sides
    r = diameter / 2 / math.cos(math.pi / sides)
    return np.round(np.stack([centre[0] + r * np.cos(a), centre[1] + r * np.sin(a)], 1), 3)


def square(centre: tuple[float, float], side: float) -> np.ndarray:
    x, y, h = centre[0], centre[1], side / 2
    return np.array([[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h]])


ROWS = "ABCDEFGHJKLMNPRTUVWY"


def row_name(r: int) -> str:
    """JEDEC row letters: A..Y without I, O, Q, S, X, Z, then AA, AB, .. (arrays over 20 rows)."""
    return ROWS[r] if r < len(ROWS) else ROWS[r // len(ROWS) - 1] + ROWS[r % len(ROWS)]


def bumps(case: Case) -> list[tuple[str, tuple[float, float]]]:
    """The populated bump sites, named A1.. row by row from the top left."""
    n, p = case.count, case.pitch
    out = []
    for r in range(n):
        for c in range(n):
            corner = min(r, n - 1 - r) + min(c, n - 1 - c)
            if corner < case.depopulate:
                continue
            lo = (n - case.centre) // 2
            if case.centre and lo <= r < lo + case.centre and lo <= c < lo + case.centre:
                continue
            out.append((f"{row_name(r)}{c + 1}", ((c - (n - 1) / 2) * p, ((n - 1) / 2 - r) * p)))
    return out


def die_half(case: Case) -> float:
    return (case.count - 1) * case.pitch / 2 + case.margin


def pads(case: Case) -> list[tuple[str, tuple[float, float]]]:
    """Bond pads evenly along the four edges, clockwise from the top-left corner."""
    h = die_half(case)
    per_side = case.pads // 4
    span = 2 * h - 2 * (PAD_INSET + 100.0)
    step = span / (per_side - 1)
    at = -span / 2 + step * np.arange(per_side)
    inner = h - PAD_INSET
    sides = [
        [(x, inner) for x in at],  # top, left to right
        [(inner, -y) for y in at],  # right, top to bottom
        [(-x, -inner) for x in at],  # bottom, right to left
        [(-inner, y) for y in at],  # left, bottom to top
    ]
    points = [p for side in sides for p in side]
    return [(f"P{i + 1}", (round(x, 3), round(y, 3))) for i, (x, y) in enumerate(points)]


def _angle(p: tuple[float, float]) -> float:
    """Clockwise angle from straight up."""
    return math.atan2(p[0], p[1]) % (2 * math.pi)


def _middle(points: list[tuple[float, float]]) -> float:
    """The clockwise angle of the middle of an arc of points (the angle of their mean unit
    vector: an arc across straight up averages to up, not to straight down)."""
    if not points:
        return 0.0
    a = np.array([_angle(p) for p in points])
    return _angle((float(np.sin(a).mean()), float(np.cos(a).mean())))


def pin_map(case: Case, order: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Net -> (pad names, bump names). ``order``: "planned" (bump nearest in angle, order
    preserved), "clockwise" (the outer rings' bumps in clockwise order from pad 1's angle,
    unplanned), "auto" (the tool's own free assignment, ``assign_bumps``), "rows" (pads
    clockwise to bumps row by row) or "rings" (outer ring first)."""
    pad_list, bump_list = pads(case), bumps(case)
    k = len(pad_list)
    # Power: every third pad on two contiguous arcs (VDD top half, VSS bottom half).
    vdd = [pad_list[i][0] for i in range(1, k // 2, 3)][: case.power_pads]
    vss = [pad_list[i][0] for i in range(k // 2 + 1, k, 3)][: case.power_pads]
    power = set(vdd) | set(vss)
    # Power bumps: the innermost ring, nearest in angle to the middle of each arc.
    n = case.count
    ring = {name: min(r, c, n - 1 - r, n - 1 - c) for name, r, c in _rc(case)}
    deepest = max(ring.get(b[0], 0) for b in bump_list)
    second = [b for b in bump_list if ring[b[0]] >= deepest - 1]
    mid_vdd = _middle([dict(pad_list)[p] for p in vdd])
    mid_vss = _middle([dict(pad_list)[p] for p in vss])

    def nearest(mid: float, taken: set[str]) -> list[str]:
        free = [b for b in second if b[0] not in taken]
        free.sort(
            key=lambda b: (abs((_angle(b[1]) - mid + math.pi) % (2 * math.pi) - math.pi), b[0])
        )
        return [b[0] for b in free[: case.power_bumps]]

    vdd_b = nearest(mid_vdd, set()) if vdd else []
    vss_b = nearest(mid_vss, set(vdd_b)) if vss else []
    used = set(vdd_b) | set(vss_b)
    signal_pads = [p for p in pad_list if p[0] not in power]
    free_bumps = [b for b in bump_list if b[0] not in used]
    if len(free_bumps) < len(signal_pads):
        raise ValueError(f"{case.name}: {len(signal_pads)} signal pads, {len(free_bumps)} bumps")
    if order == "planned":
        chosen = _planned(signal_pads, free_bumps, ring)
    elif order == "rows":
        chosen = [b[0] for b in free_bumps[: len(signal_pads)]]
    elif order == "clockwise":
        outer = sorted(free_bumps, key=lambda b: (ring[b[0]], _angle(b[1])))[: len(signal_pads)]
        first = _angle(signal_pads[0][1])
        chosen = [
            b[0]
            for b in sorted(
                outer, key=lambda b: ((_angle(b[1]) - first) % (2 * math.pi), ring[b[0]])
            )
        ]
    elif order == "auto":
        pad_xy = np.array([p[1] for p in signal_pads])
        bump_xy = np.array([b[1] for b in free_bumps])
        chosen = [free_bumps[k][0] for k in assign_bumps(pad_xy, bump_xy)]
    elif order == "rings":
        by_ring = sorted(free_bumps, key=lambda b: (ring[b[0]], _angle(b[1])))
        chosen = [b[0] for b in by_ring[: len(signal_pads)]]
    else:
        raise ValueError(order)
    nets = {f"S{p[0][1:]}": ((p[0],), (b,)) for p, b in zip(signal_pads, chosen, strict=True)}
    if vdd:
        nets["VDD"] = (tuple(vdd), tuple(vdd_b))
        nets["VSS"] = (tuple(vss), tuple(vss_b))
    return nets


def _rc(case: Case):
    for r in range(case.count):
        for c in range(case.count):
            yield f"{row_name(r)}{c + 1}", r, c


def _planned(signal_pads, free_bumps, ring) -> list[str]:
    """Each pad to the bump nearest in angle, order preserved: whole rings from the outside in,
    the last ring thinned evenly in angle, then matched in angular order at the best rotation."""
    k = len(signal_pads)
    keep: list = []
    for r in sorted({ring[b[0]] for b in free_bumps}):
        this = sorted((b for b in free_bumps if ring[b[0]] == r), key=lambda b: _angle(b[1]))
        need = k - len(keep)
        if len(this) > need:
            this = [this[int(i * len(this) / need)] for i in range(need)]
        keep += this
        if len(keep) == k:
            break
    pick = sorted(keep, key=lambda b: (_angle(b[1]), -math.hypot(*b[1])))
    pa = np.array([_angle(p[1]) for p in signal_pads])
    ba = np.array([_angle(b[1]) for b in pick])

    def error(s: int) -> float:
        return float(np.abs((np.roll(ba, -s) - pa + math.pi) % (2 * math.pi) - math.pi).sum())

    best = min(range(k), key=error)
    return [b[0] for b in pick[best:] + pick[:best]]


def problem(
    name: str, order: str = "planned", planes: bool = False, keepouts=()
) -> tuple[RoutingProblem, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]:
    """The fan-in case as a routing problem, and its pin map."""
    case = CASES[name]
    h = die_half(case)
    outline = square((0.0, 0.0), 2 * h)
    pad_at, bump_at = dict(pads(case)), dict(bumps(case))
    capture = case.ubm + 20.0
    pins = pin_map(case, order)
    nets, used_pads, used_bumps = [], set(), set()
    for net, (pn, bn) in pins.items():
        terms = [Terminal(name=f"pad {p}", polygon=square(pad_at[p], PAD_CAPTURE)) for p in pn]
        terms += [Terminal(name=f"bump {b}", polygon=circle(bump_at[b], capture)) for b in bn]
        power = net in ("VDD", "VSS")
        nets.append(Net(name=net, terminals=tuple(terms), width=WIDTH, plane=planes and power))
        used_pads |= set(pn)
        used_bumps |= set(bn)
    obstacles = [
        Obstacle(name=f"bump {b}", polygon=circle(at, capture))
        for b, at in bump_at.items()
        if b not in used_bumps
    ]
    obstacles += [
        Obstacle(name=f"pad {p}", polygon=square(at, PAD_CAPTURE))
        for p, at in pad_at.items()
        if p not in used_pads
    ]
    obstacles += [Obstacle(name=f"keepout {i + 1}", polygon=k) for i, k in enumerate(keepouts)]
    return (
        RoutingProblem(
            outline=outline,
            edge_clearance=EDGE,
            space=SPACE,
            nets=tuple(nets),
            obstacles=tuple(obstacles),
        ),
        pins,
    )
