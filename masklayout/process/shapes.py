"""The molten body's shape at a reflow (docs/model.md): a free spherical cap on the wetted base
while it touches no mask wall; once it does, the confined family — the liquid fills the
openings from the bottom, meets each resist wall at the film's contact angle θw, and its top is
one of a meniscus over a column, a cap pinned at an opening's top edge, or a cap spread on a
mask's top surface. One pressure throughout, no gravity (Bond number < 0.01 below 0.5 mm).

All functions are vectorised over rows (stacks); the masks present are the first ``m`` levels.
Lengths µm, volumes µm³, angles radians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from masklayout.process.solder import (
    cap_height,
    cap_volume,
    cap_volume_below,
    sphere_radius,
    widest_diameter,
)

FREE, COLUMN, EDGE, SPREAD = 0, 1, 2, 3
REGIMES = ("free", "column", "edge", "spread")
RESIDUAL = 1e-13  # relative: a root found where f is this close to its target
ITERATIONS = 100  # of the root finder, at most (it takes 6-12 on these smooth functions)
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_FEW_NODES, _FEW_WEIGHTS = np.polynomial.legendre.leggauss(20)
SMOOTH_SLOPE = 0.8  # sin ψ below this all along the lower meniscus: 20 nodes do (4e-14)
FLUSH = 1e-9  # relative: openings this close in radius are one wall, a base this close its hole's

# A free cap on a square or octagonal base stands higher than on the circle of the same area,
# the more so the flatter it is. Excess height (fraction) against h/a of the equal-area cap, from
# 3-D computations (docs/model.md, "Non-circular bases"): the square's from a finite-difference
# solution of the constant-mean-curvature graph over the square (h/a <= 0.6, Richardson over two
# grids; its h -> 0 limit is the torsion function's 4.83 %) and a triangulated area-minimising
# surface (h/a >= 0.8); the octagon's is the square's scaled by their torsion limits (0.70 % vs
# 4.83 %, P1 finite elements), checked by the triangulated surface at h/a 0.6 to 1.45.
BASE_SHAPES = ("circle", "square", "octagon")
_EXCESS_AT = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.45, 1.8)
EXCESS = {
    "circle": (0.0,) * 9,
    "square": (0.0483, 0.0445, 0.0353, 0.0246, 0.0149, 0.0065, 0.0019, -0.0033, -0.0030),
    "octagon": (0.0070, 0.0065, 0.0051, 0.0036, 0.0022, 0.0009, 0.0003, -0.0005, -0.0004),
}


def base_excess(shape: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Height excess (fraction) of a free cap on a base of ``shape`` (index into BASE_SHAPES)
    over the equal-area circle's, at that circle's height ratio h/a (held beyond the table)."""
    table = np.array([EXCESS[name] for name in BASE_SHAPES])
    per_shape = np.array([np.interp(ratio, _EXCESS_AT, row) for row in table])
    return np.take_along_axis(per_shape, np.asarray(shape, dtype=int)[None, :], axis=0)[0]


# --------------------------------------------------------------------------- closed forms
def incline_volume(radius: np.ndarray | float, angle: np.ndarray | float) -> np.ndarray:
    """Volume of the spherical cap on a circle of ``radius`` whose surface meets the circle's
    plane at ``angle`` (through the liquid): height ``radius · tan(angle/2)``."""
    r = np.asarray(radius, dtype=float)
    return cap_volume(r * np.tan(np.asarray(angle, dtype=float) / 2), r)


def lower_meniscus(
    curvature: np.ndarray,
    base: np.ndarray,
    wall: np.ndarray,
    theta: np.ndarray | float,
    ceiling: np.ndarray | float = np.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The liquid surface between the wetted base's edge (radius ``base``, z = 0) and the first
    opening's wall (radius ``wall``), meeting the wall at ``theta``, at mean curvature
    ``curvature`` (= 1/R of the top's sphere). Its slope angle ψ obeys the Delaunay first integral
    ``sin ψ = H r + C / r`` with ``sin ψ(wall) = -cos θ``. Where that would meet the wall above
    ``ceiling`` (the opening's top) it is pinned at the top edge instead: C is lowered until it
    rises just that high. Returns (height where it meets the wall, void volume between it and
    the wall, C)."""
    h = np.asarray(curvature, dtype=float)
    c = wall * (-np.cos(theta) - h * wall)
    height, void = _meniscus_integrals(h, c, base, wall)
    high = np.broadcast_to(np.asarray(ceiling, dtype=float), c.shape)
    over = height > high
    if over.any():
        lo = np.minimum(-h * wall * wall, c)[over]  # height 0 at the low end
        half = (wall - base) / 2
        r = (base + wall)[..., None] / 2 + half[..., None] * _NODES  # rows × nodes

        def rise(x: np.ndarray, active: np.ndarray) -> np.ndarray:
            pick = _subset(over, active)
            nodes = np.clip(h[pick, None] * r[pick] + x[:, None] / r[pick], 0.0, 1.0 - 1e-12)
            return (nodes / np.sqrt(1 - nodes * nodes) * _WEIGHTS).sum(axis=-1) * half[pick]

        c = c.copy()
        c[over] = _solve(rise, lo, c[over], high[over])
        height[over], void[over] = _meniscus_integrals(h[over], c[over], base[over], wall[over])
    return height, void, c


def _meniscus_integrals(
    h: np.ndarray, c: np.ndarray, base: np.ndarray, wall: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Height at the wall and void of the lower meniscus ``sin ψ = h r + c / r`` over
    [base, wall], by Gauss-Legendre: 20 nodes where sin ψ stays within (0, 0.8) (tan ψ analytic
    there; sin ψ is monotone or has a positive minimum, so its ends bound it), 48 where it is
    held at 0 near the base (a kink) or comes near vertical."""
    ends = np.stack((h * base + c / base, h * wall + c / wall))
    smooth = (ends.min(axis=0) > 0) & (ends.max(axis=0) < SMOOTH_SLOPE)
    height, void = np.empty_like(c), np.empty_like(c)
    for rows, nodes, weights in ((smooth, _FEW_NODES, _FEW_WEIGHTS), (~smooth, _NODES, _WEIGHTS)):
        if not rows.any():
            continue
        b, w = base[rows], wall[rows]
        half = (w - b) / 2
        r = (b + w)[:, None] / 2 + half[:, None] * nodes
        u = np.clip(h[rows, None] * r + c[rows, None] / r, 0.0, 1.0 - 1e-12)
        s = u / np.sqrt(1 - u * u) * weights
        height[rows] = s.sum(axis=-1) * half
        void[rows] = (np.pi * (w[:, None] ** 2 - r * r) * s).sum(axis=-1) * half
    return height, void


# --------------------------------------------------------------------------- the shape
@dataclass(frozen=True)
class Shapes:
    """Per row: the regime (FREE, COLUMN, EDGE, SPREAD), the mask level that confines it (-1:
    none), and the profile's parameters — the lower meniscus (height ``z_lo``, void volume,
    curvature), the top spherical cap (base plane ``z_base``, base radius ``c``, height ``hc``)
    — with the walls (``wall`` rows × levels) and the base radius ``a`` it was built on, and
    ``touch``, the volume at which a free cap on that base first meets a wall (inf: none)."""

    kind: np.ndarray
    level: np.ndarray
    a: np.ndarray
    wall: np.ndarray
    bottom: np.ndarray
    top: np.ndarray
    lower_c: np.ndarray  # the lower meniscus' constant C (see lower_meniscus)
    z_lo: np.ndarray
    void: np.ndarray
    curvature: np.ndarray
    z_base: np.ndarray
    c: np.ndarray
    hc: np.ndarray
    stretch: np.ndarray  # height factor of a free cap on a non-circular base (1: circle)
    touch: np.ndarray

    @property
    def height(self) -> np.ndarray:
        return (self.z_base + self.hc) * self.stretch

    @property
    def diameter(self) -> np.ndarray:
        """Widest diameter: the cap's, or the widest wall the liquid stands against."""
        cap = widest_diameter(self.hc, self.c)
        level = np.clip(self.level, 0, None)
        walls = np.take_along_axis(self.wall, level[:, None], axis=1)[:, 0] if self.wall.size else 0
        return np.where(self.kind == FREE, cap, np.maximum(cap, 2 * walls))

    @property
    def exposed_diameter(self) -> np.ndarray:
        """Widest diameter of the liquid above the top of the masks standing (the whole cap's
        where none stands); nan where the liquid stays within its openings, walled off from its
        neighbours by the mask between them."""
        cap = widest_diameter(self.hc, self.c)
        if not self.wall.size:
            return cap
        plane = self.top[:, -1]
        crown = self.z_base + self.hc
        r = sphere_radius(self.hc, self.c)
        centre = crown - r
        with np.errstate(invalid="ignore"):  # an empty body: an infinite sphere, no crown above
            chord = 2 * np.sqrt(np.clip(r * r - (plane - centre) ** 2, 0.0, None))
        exposed = np.where(plane <= self.z_base, cap, np.where(centre >= plane, 2 * r, chord))
        return np.where(crown > plane, exposed, np.nan)

    @property
    def sphere_radius(self) -> np.ndarray:
        return sphere_radius(self.hc, self.c)

    def volume_below(self, z: float | np.ndarray) -> np.ndarray:
        """Liquid volume below height ``z`` (one height, or one per row; at or above the lower
        meniscus: any mask top)."""
        below = np.zeros_like(self.hc)
        limit = np.minimum(z, self.z_base)
        for k in range(self.wall.shape[1]):
            start = 0.0 if k == 0 else self.bottom[:, k]
            length = np.clip(np.minimum(limit, self.top[:, k]) - start, 0.0, None)
            below += np.pi * self.wall[:, k] ** 2 * np.where(self.kind == FREE, 0.0, length)
        below -= np.where(self.kind == FREE, 0.0, self.void)
        return below + cap_volume_below((z - self.z_base) / self.stretch, self.hc, self.c)

    def row(self, i: int) -> Profile:
        """One row's shape, for a report or a picture."""
        level = int(self.level[i])
        return Profile(
            regime=REGIMES[int(self.kind[i])],
            level=level,
            a=float(self.a[i]),
            walls=tuple(float(w) for w in self.wall[i, : level + 1]),
            tops=tuple(float(t) for t in self.top[i, : level + 1]),
            lower_c=float(self.lower_c[i]),
            z_lo=float(self.z_lo[i]),
            curvature=float(self.curvature[i]),
            z_base=float(self.z_base[i]),
            c=float(self.c[i]),
            hc=float(self.hc[i]),
            stretch=float(self.stretch[i]),
        )


@dataclass(frozen=True)
class Profile:
    """One body's shape: ``regime``, the confining ``level`` (-1: free), the walls it stands
    against and their tops, the lower meniscus and the top cap (see :class:`Shapes`)."""

    regime: str
    level: int
    a: float
    walls: tuple[float, ...]
    tops: tuple[float, ...]
    lower_c: float
    z_lo: float
    curvature: float
    z_base: float
    c: float
    hc: float
    stretch: float = 1.0

    @property
    def height(self) -> float:
        return (self.z_base + self.hc) * self.stretch

    def outline(self, points: int = 200) -> np.ndarray:
        """The right half of the profile, (r, z) from the wetted base's edge to the apex: the
        lower meniscus, the walls and ledges, then the top cap's arc (a free cap on a square or
        octagon: the equal-area cap stretched to its height)."""
        parts: list[np.ndarray] = []
        if self.level >= 0:
            w0 = self.walls[0]
            if w0 > self.a * (1 + FLUSH):
                r = np.linspace(self.a, w0, points)
                u = np.clip(self.curvature * r + self.lower_c / r, 0.0, 1.0 - 1e-12)
                slope = u / np.sqrt(1 - u * u)
                z = np.concatenate(([0.0], np.cumsum((slope[1:] + slope[:-1]) / 2 * np.diff(r))))
                parts.append(np.column_stack((r, z * self.z_lo / z[-1] if z[-1] > 0 else z)))
            else:
                parts.append(np.array([[self.a, 0.0]]))
            for k, w in enumerate(self.walls):
                z_end = min(self.tops[k], self.z_base)
                parts.append(np.array([[w, parts[-1][-1, 1]], [w, z_end]]))
        r_s = float(sphere_radius(self.hc, self.c))
        if self.hc <= 0:
            arc = np.array([[self.c, self.z_base], [0.0, self.z_base]])
        else:
            zc = self.hc - r_s  # centre above the cap's base plane
            start = np.arctan2(-zc, self.c)  # angle of the base point seen from the centre
            phi = np.linspace(start, np.pi / 2, points)
            arc = np.column_stack((r_s * np.cos(phi), self.z_base + zc + r_s * np.sin(phi)))
            arc[0] = (self.c, self.z_base)
            arc[-1] = (0.0, self.height)
        parts.append(arc)
        profile = np.concatenate(parts)
        return profile * (1.0, self.stretch)


def free_shapes(volume: np.ndarray, a: np.ndarray, base: np.ndarray | None = None) -> Shapes:
    """Free caps on the whole base (no mask present); ``base`` the base's shape per row (index
    into BASE_SHAPES, default circles)."""
    n = len(volume)
    h = cap_height(volume, a)
    zero, none = np.zeros(n), np.zeros((n, 0))
    return Shapes(
        kind=np.full(n, FREE),
        level=np.full(n, -1),
        a=a,
        wall=none,
        bottom=np.zeros((n, 0)),
        top=np.zeros((n, 0)),
        lower_c=zero,
        z_lo=zero,
        void=zero,
        curvature=zero,
        z_base=zero,
        c=a,
        hc=h,
        stretch=_stretch(base, h, a, np.full(n, True)),
        touch=np.full(n, np.inf),
    )


def grown(
    body: Shapes,
    cooled: np.ndarray,
    volume: np.ndarray,
    base: np.ndarray | None,
    solve: Callable[[np.ndarray], Shapes],
) -> Shapes:
    """The shapes of a larger ``volume`` (the melt at the peak) on the base and walls of
    ``body``, the shapes of ``cooled``; what :func:`shapes` gives, in closed form where it can:
    a free cap whose ``volume`` stays below ``body.touch`` is the free cap of it, a column that
    stays below its mask's top is raised by the extra volume over its opening (its meniscus
    unchanged). ``solve(rows)``, the shapes of the rows picked, for the others (a confined
    body's shape does not depend on the rows solved with it)."""
    free = (body.kind == FREE) & (volume < body.touch)
    h = cap_height(volume, body.a)
    out = replace(body, hc=np.where(free, h, body.hc), stretch=_stretch(base, h, body.a, free))
    if free.all():
        return out
    lifted, z = _raised_column(body, cooled, volume)
    out = replace(out, z_base=np.where(lifted, z, body.z_base))
    rest = ~(free | lifted)
    if not rest.any():
        return out
    part = solve(rest)
    merged = {}
    for f in fields(Shapes):
        values = getattr(out, f.name).copy()
        values[rest] = getattr(part, f.name)
        merged[f.name] = values
    return Shapes(**merged)


def _raised_column(
    body: Shapes, cooled: np.ndarray, volume: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows where a column of ``cooled`` stays one at ``volume`` and its contact height
    there. A column's volume is linear in its contact height ``z`` above the start (the lower
    meniscus' height in the first opening, the opening's bottom above it), the meniscus fixed;
    the stages before it end at volumes no larger. So a larger volume keeps the column while
    ``z`` stays below the mask's top. Rows whose column was held at its start (``z_base`` is
    not ``z`` there) are left to the solve."""
    level = np.clip(body.level, 0, None)[:, None]

    def at_level(values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, level, axis=1)[:, 0]

    w = at_level(body.wall)
    z = body.z_base + (volume - cooled) / (np.pi * w * w)
    start = np.where(body.level == 0, body.z_lo, at_level(body.bottom))
    lifted = (body.kind == COLUMN) & (volume >= cooled) & (body.z_base > start)
    return lifted & (z <= at_level(body.top)), z


def _stretch(base: np.ndarray | None, h: np.ndarray, a: np.ndarray, free: np.ndarray) -> np.ndarray:
    if base is None or not base.any():  # circles (index 0) stand as the closed form
        return np.ones_like(h)
    ratio = np.divide(h, a, out=np.zeros_like(h), where=a > 0)
    return np.where(free, 1.0 + base_excess(base, ratio), 1.0)


def shapes(
    volume: np.ndarray,
    a: np.ndarray,
    wall: np.ndarray,
    thickness: np.ndarray,
    theta: np.ndarray,
    base: np.ndarray | None = None,
) -> Shapes:
    """The body of ``volume`` on a wetted base of radius ``a`` (and shape ``base``, see
    :func:`free_shapes`) in the openings of equal-area radius ``wall`` (rows × m, bottom up) of
    masks of ``thickness`` (m, or rows × m) and contact angle ``theta`` (m)."""
    volume, a = np.asarray(volume, dtype=float), np.asarray(a, dtype=float)
    m = wall.shape[1]
    if m == 0:
        return free_shapes(volume, a, base)
    n = len(volume)
    w = accumulate(np.maximum, np.maximum(wall, a[:, None]))
    thickness = np.broadcast_to(np.asarray(thickness, dtype=float), (n, m))  # or one per row
    top = accumulate(np.add, thickness)
    bottom = top - thickness
    corner = a >= w[:, 0] * (1 - FLUSH)  # the base fills the first opening: no lower meniscus
    a = np.where(corner, w[:, 0], a)

    # the first wall ends at the top of the last opening flush with the first
    flush = accumulate(np.logical_and, w <= w[:, :1] * (1 + FLUSH))
    ceiling = top[:, 0]
    for k in range(1, m):
        ceiling = np.where(flush[:, k], top[:, k], ceiling)

    def low(curvature: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lower meniscus' height and void on ``rows`` (none where the base fills the
        first opening)."""
        zl, void = np.zeros(len(curvature)), np.zeros(len(curvature))
        inner = ~corner[rows]
        if inner.any():
            pick = rows & ~corner
            zl[inner], void[inner], _ = lower_meniscus(
                curvature[inner], a[pick], w[pick, 0], theta[0], ceiling[pick]
            )
        return zl, void

    def filled(k: int, rows: np.ndarray) -> np.ndarray:
        """Volume of openings 0..k-1 filled to their tops (before the lower meniscus' void)."""
        return sum(
            (np.pi * w[rows, j] ** 2 * thickness[rows, j] for j in range(k)), np.zeros(rows.sum())
        )

    # the free cap, until it touches a wall
    h = cap_height(volume, a)
    touch = np.full(n, np.inf)
    for k in range(m):
        touch = np.minimum(touch, touch_volume(a, w[:, k], bottom[:, k], top[:, k]))
    touch = np.where(corner, np.minimum(touch, incline_volume(a, theta[0] - np.pi / 2)), touch)
    out = {
        "kind": np.full(n, FREE),
        "level": np.full(n, -1),
        "z_lo": np.zeros(n),
        "void": np.zeros(n),
        "curvature": np.zeros(n),
        "z_base": np.zeros(n),
        "c": a.copy(),
        "hc": h,
    }
    pending = volume >= touch

    def settle(rows: np.ndarray, kind: int, k: int, curvature, z_base, c, hc) -> None:
        z_lo, void = low(curvature, rows)
        for key, value in (("kind", kind), ("level", k), ("z_lo", z_lo), ("void", void),
                           ("curvature", curvature), ("z_base", z_base), ("c", c), ("hc", hc)):  # fmt: skip
            out[key][rows] = value

    for k in range(m):
        if not pending.any():
            break
        rows = pending.copy()
        wk, tk = w[rows, k], theta[k]
        alpha = tk - np.pi / 2  # the meniscus' slope at the wall
        # 1. a column against the wall under the meniscus of θw
        dome = incline_volume(wk, alpha)
        curv = -np.cos(tk) / wk
        zl, void = low(curv, rows)
        floor = np.zeros(rows.sum()) if k == 0 else bottom[rows, k]
        start = zl if k == 0 else floor
        z = floor + (volume[rows] - dome - filled(k, rows) + void) / (np.pi * wk**2)
        done = z <= top[rows, k]
        sub = _subset(rows, done)
        settle(sub, COLUMN, k, curv[done], np.maximum(z[done], start[done]), wk[done],
               wk[done] * np.tan(alpha / 2))  # fmt: skip
        pending &= ~sub
        rows = pending.copy()
        if not rows.any():
            break
        wk = w[rows, k]
        ledge = np.ones(rows.sum(), dtype=bool)
        if k + 1 < m:
            ledge = w[rows, k + 1] > wk * (1 + FLUSH)
        # 2. a cap pinned at the top edge, from the meniscus' slope up to θw (a flush wall above:
        # up to the next film's meniscus slope), unless it bulges into the next wall first
        end = np.where(ledge, tk, max(alpha, theta[k + 1] - np.pi / 2) if k + 1 < m else tk)
        if k + 1 < m:
            bulge = _edge_touch(wk, w[rows, k + 1], thickness[rows, k + 1], end)
            end = np.where(ledge, np.minimum(end, bulge), end)
        full = filled(k + 1, rows)

        def edge_volume(phi: np.ndarray, rr: np.ndarray, wk=wk, full=full, rows=rows) -> np.ndarray:
            _, void_ = low(np.sin(phi) / wk[rr], _subset(rows, rr))
            return full[rr] - void_ + incline_volume(wk[rr], phi)

        every = np.ones(rows.sum(), dtype=bool)
        in_edge = volume[rows] <= edge_volume(end, every)
        spare = volume[rows] - full  # the cap's volume where there is no lower meniscus
        if in_edge.any():
            phi = _root(
                lambda p, rr, sel=in_edge: edge_volume(p, _subset(sel, rr)),
                np.full(in_edge.sum(), alpha),
                end[in_edge],
                volume[rows][in_edge],
                corner[rows][in_edge],
                _pinned_angle(spare[in_edge], wk[in_edge]),
            )
            sub = _subset(rows, in_edge)
            settle(sub, EDGE, k, np.sin(phi) / wk[in_edge], top[rows, k][in_edge], wk[in_edge],
                   wk[in_edge] * np.tan(phi / 2))  # fmt: skip
            pending &= ~sub
        # 3. spread on the mask's top surface at θw until the cap bulges into the next wall
        spreading = ~in_edge & ledge & (end >= tk - 1e-12)
        if k + 1 < m:
            c_end = _spread_touch(w[rows, k + 1], thickness[rows, k + 1], tk)
        else:
            c_end = np.full(rows.sum(), np.inf)

        def spread_volume(c: np.ndarray, rr: np.ndarray, full=full, rows=rows, tk=tk) -> np.ndarray:
            _, void_ = low(np.sin(tk) / c, _subset(rows, rr))
            return full[rr] - void_ + incline_volume(c, tk)

        cap_hi = np.where(
            np.isfinite(c_end),
            c_end,
            wk + np.cbrt(volume[rows] / float(incline_volume(1.0, tk))),
        )
        in_spread = spreading & (volume[rows] <= spread_volume(cap_hi, every))
        if in_spread.any():
            c = _root(
                lambda x, rr, sel=in_spread: spread_volume(x, _subset(sel, rr)),
                wk[in_spread],
                cap_hi[in_spread],
                volume[rows][in_spread],
                corner[rows][in_spread],
                np.cbrt(spare[in_spread] / incline_volume(1.0, tk)),
            )
            sub = _subset(rows, in_spread)
            settle(sub, SPREAD, k, np.sin(tk) / c, top[rows, k][in_spread], c, c * np.tan(tk / 2))
            pending &= ~sub
    if pending.any():  # unreachable: the top mask's spread cap takes any volume
        raise AssertionError("a body left without a shape")
    return Shapes(
        kind=out["kind"],
        level=out["level"],
        a=a,
        wall=w,
        bottom=bottom,
        top=top,
        lower_c=_lower_constant(out, a, w[:, 0], corner, theta[0], ceiling),
        z_lo=out["z_lo"],
        void=out["void"],
        curvature=out["curvature"],
        z_base=out["z_base"],
        c=out["c"],
        hc=out["hc"],
        stretch=_stretch(base, out["hc"], a, out["kind"] == FREE),
        touch=touch,
    )


# --------------------------------------------------------------------------- helpers
def accumulate(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    """``ufunc.accumulate(values, axis=1)`` over the few levels (columns) of rows × levels, one
    column at a time: along a short last axis numpy's own is ~40x slower."""
    out = np.array(values)
    for k in range(1, out.shape[1]):
        out[:, k] = ufunc(out[:, k - 1], out[:, k])
    return out


def _lower_constant(
    out: dict[str, np.ndarray],
    a: np.ndarray,
    w0: np.ndarray,
    corner: np.ndarray,
    theta: float,
    ceiling: np.ndarray,
) -> np.ndarray:
    """The lower meniscus' C of the confined rows whose base is narrower than their opening."""
    rows = (out["kind"] != FREE) & ~corner
    c = np.zeros_like(a)
    if rows.any():
        c[rows] = lower_meniscus(out["curvature"][rows], a[rows], w0[rows], theta, ceiling[rows])[2]
    return c


def _subset(rows: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """The boolean row mask of the ``pick``-ed ones among the True of ``rows``."""
    out = np.zeros_like(rows)
    out[np.flatnonzero(rows)[pick]] = True
    return out


def _root(
    f,
    lo: np.ndarray,
    hi: np.ndarray,
    target: np.ndarray,
    bare: np.ndarray,
    closed: np.ndarray,
) -> np.ndarray:
    """:func:`_solve`'s root of ``f(x, rows) = target`` per row; on the rows of ``bare`` (no
    lower meniscus: the volume is the openings filled plus a cap) the ``closed`` form's."""
    x = closed.copy()
    rest = ~bare
    if rest.any():
        x[rest] = _solve(
            lambda p, active: f(p, _subset(rest, active)), lo[rest], hi[rest], target[rest]
        )
    return x


def _pinned_angle(volume: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slope angle at its edge of the cap of ``volume`` on radius ``w``: the inverse of
    :func:`incline_volume`."""
    return 2 * np.arctan(cap_height(volume, w) / w)


def _solve(f, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row, x in [lo, hi] with f(x) = target, f increasing; ``f(x, active)`` evaluates the
    rows picked by the boolean ``active`` (x one per picked row). Regula falsi with the Illinois
    step (the stale end's value halved when one end is kept twice): superlinear, the root always
    bracketed, a bisection where the secant would leave the bracket. Each row stops once f is
    within RESIDUAL of its target or its bracket is down to rounding, so a row's root does not
    depend on the rows solved with it."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    target = np.asarray(target, dtype=float)
    every = np.ones(len(lo), dtype=bool)
    f_lo, f_hi = f(lo, every) - target, f(hi, every) - target
    x = np.where(f_lo >= 0, lo, hi)  # a bracket not straddling the target: its nearer end
    active = (f_lo < 0) & (f_hi > 0)
    kept = np.zeros(len(lo), dtype=int)  # the end kept last: -1 lo, +1 hi
    for _ in range(ITERATIONS):
        if not active.any():
            break
        i = np.flatnonzero(active)
        a, b, fa, fb = lo[i], hi[i], f_lo[i], f_hi[i]
        m = (a * fb - b * fa) / (fb - fa)
        m = np.where((m > a) & (m < b), m, (a + b) / 2)
        fm = f(m, active) - target[i]
        x[i] = m
        right = fm < 0  # the root lies above m: m replaces lo, hi is kept
        lo[i], f_lo[i] = np.where(right, m, a), np.where(right, fm, fa)
        hi[i], f_hi[i] = np.where(right, b, m), np.where(right, fb, fm)
        again = np.where(right, 1, -1)
        twice = again == kept[i]
        f_hi[i] = np.where(twice & right, f_hi[i] / 2, f_hi[i])
        f_lo[i] = np.where(twice & ~right, f_lo[i] / 2, f_lo[i])
        kept[i] = again
        width = hi[i] - lo[i] <= 4 * np.finfo(float).eps * np.maximum(abs(lo[i]), abs(hi[i]))
        done = (np.abs(fm) <= RESIDUAL * np.abs(target[i])) | width
        active[i[done]] = False
    return x


def touch_volume(
    a: np.ndarray, wall: np.ndarray, low: np.ndarray | float, high: np.ndarray | float
) -> np.ndarray:
    """Volume of the free cap on base ``a`` that first reaches ``wall`` between heights ``low``
    and ``high``. Caps on one base are nested, so the reach grows with the height: the sphere
    of radius ``wall`` if its equator, ``√(wall² − a²)`` up, lies in the span; else the sphere
    through the base's rim and the wall at the span's nearer end z*, centred at
    ``(wall² + z*² − a²) / 2z*``."""
    equator = np.sqrt(np.maximum(wall * wall - a * a, 0.0))
    at = np.clip(equator, low, high)
    safe = np.where(at > 0, at, 1.0)
    centre = np.where(at == equator, equator, (wall * wall + at * at - a * a) / (2 * safe))
    return cap_volume(centre + np.sqrt(a * a + centre * centre), a)


def _edge_touch(
    w: np.ndarray, nxt: np.ndarray, span: np.ndarray | float, hi: np.ndarray
) -> np.ndarray:
    """Slope angle at which a cap pinned on radius ``w`` first reaches the next wall ``nxt``
    within ``span`` above its base (``hi`` if it never does below ``hi``). Its sphere's centre
    lies ``-w cot φ`` above the base, and the caps are nested: it touches at its equator,
    ``√(nxt² − w²)`` up, if that lies within the span, else at the span's top, where the sphere
    through the base's rim and the wall has its centre at ``(nxt² + span² − w²) / 2 span``."""
    equator = np.sqrt(nxt * nxt - w * w)
    centre = np.where(equator <= span, equator, (nxt * nxt + span * span - w * w) / (2 * span))
    return np.minimum(np.arctan2(w, -centre), hi)


def _spread_touch(nxt: np.ndarray, span: np.ndarray | float, theta: float) -> np.ndarray:
    """Contact radius at which a cap of contact angle ``theta`` spread on a mask's top first
    reaches the next wall ``nxt`` within ``span`` above it: its sphere of radius R has its
    centre ``-R cos θ`` above the plane; at the equator R = nxt, above the span the circle at
    the span's top: ``R² sin²θ + 2 R span cos θ - (span² + nxt²) = 0``."""
    s2 = np.sin(theta) ** 2
    at_top = (-span * np.cos(theta) + np.sqrt(span**2 + nxt**2 * s2)) / s2
    radius = np.where(-nxt * np.cos(theta) <= span, nxt, at_top)
    return radius * np.sin(theta)
