"""Terminal access: a straight leg from a terminal's centre out past its clearance onto the grid.

A trace leaves its terminal along one of the octilinear directions from the terminal's centre, so
the merged metal has no notch and no acute join where trace and capture meet; once outside the
terminal's clearance halo the leg steps onto the nearest grid cell with one short jog (45° in
diagonal style, 90° in manhattan style).

A jog is none or at least ``JOG`` trace widths long: a shorter one between parallel runs leaves
the metal narrower than the trace where the pen's facets at its two bends face each other (the
width holds from 3.4 % of the trace width on); the leg then starts off the centre by the jog it
saves. The jog after a diagonal leg is an even number of nm long (the leg starts 1 nm further
back if need be): x + y in nm then has one parity along the leg and beyond its port, and where
a 45° side of the metal meets a -45° one they meet on the 1 nm grid (a corner rounded onto it
can be a hair under 90°, a notch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from masklayout.routing.grid import Grid, halo

JOG = 0.04
DIAGONAL = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
MANHATTAN = ((1, 0), (0, 1), (-1, 0), (0, -1))


@dataclass(frozen=True)
class Port:
    """One way out of a terminal: the grid cell reached and the leg drawn to it."""

    terminal: int
    cell: tuple[int, int]
    leg: np.ndarray
    behind: tuple[tuple[int, int], ...]
    origin: tuple[float, float]  # the terminal's centre (the leg may start off it)


def centre(polygon: np.ndarray) -> np.ndarray:
    """The polygon's area centroid, on the 1 nm grid."""
    p = np.asarray(polygon, dtype=float)
    q = np.roll(p, -1, axis=0)
    cross = p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]
    area = cross.sum() / 2.0
    if abs(area) < 1e-12:
        return np.round(p.mean(0), 3)
    c = ((p + q) * cross[:, None]).sum(0) / (6.0 * area)
    return np.round(c, 3)


def _to_grid(value: float, origin: float, pitch: float, sign: int, least: float = 0.0) -> float:
    """The first grid coordinate at or beyond ``value`` in the direction ``sign`` that is
    ``value`` itself or at least ``least`` from it."""
    k = (value - origin) / pitch
    k = math.ceil(k - 1e-9) if sign > 0 else math.floor(k + 1e-9)
    g = origin + k * pitch
    if 1e-9 < abs(g - value) < least:
        g += sign * pitch
    return round(g, 3)


def _leg(
    c: np.ndarray,
    d: tuple[int, int],
    reach: float,
    grid: Grid,
    diagonal: bool,
    side: int,
    least: float,
) -> np.ndarray:
    """Leg from ``c`` along ``d`` past ``reach``, then a jog onto the grid (``side`` picks which
    neighbouring grid line: the one below/left (-1) or above/right (+1) of an axis leg, or a
    horizontal (-1) or vertical (+1) jog after a diagonal leg). A jog shorter than ``least`` is
    not drawn: the leg starts that much off ``c`` instead, on the line of its port. The jog after
    a diagonal leg is an even number of nm long."""
    origin = (grid.x0, grid.y0)
    start = np.array(c, dtype=float)
    if d[0] == 0 or d[1] == 0:
        u = 0 if d[1] == 0 else 1
        v = 1 - u
        s = d[u]
        gv = _to_grid(c[v], origin[v], grid.pitch, side)
        off = abs(gv - c[v])
        if off < least:
            start[v], off = gv, 0.0
        jog = off if diagonal else 0.0
        pu = _to_grid(c[u] + s * (reach + jog), origin[u], grid.pitch, s)
        points = [start.tolist()]
        bend = [0.0, 0.0]
        bend[u], bend[v] = pu - s * jog, c[v]
        port = [0.0, 0.0]
        port[u], port[v] = pu, gv
        if off > 1e-9:
            points.append(bend)
        points.append(port)
        return np.round(np.array(points), 3)
    u = 1 if side < 0 else 0  # the axis brought onto the grid by the diagonal run
    v = 1 - u
    gu = _to_grid(c[u] + d[u] * reach / math.sqrt(2.0), origin[u], grid.pitch, d[u])
    t = abs(gu - c[u])
    bend = [0.0, 0.0]
    bend[u], bend[v] = gu, round(c[v] + d[v] * t, 3)
    pv = _to_grid(bend[v], origin[v], grid.pitch, d[v])
    if abs(pv - bend[v]) < least:
        start[v] += pv - bend[v]
        bend[v] = pv
    elif round(abs(pv - bend[v]) * 1000) % 2:  # an odd number of nm: start 1 nm further back
        start[v] -= d[v] * 0.001
        bend[v] = round(bend[v] - d[v] * 0.001, 3)
    points = [start.tolist(), bend]
    if abs(pv - bend[v]) > 1e-9:
        port = [0.0, 0.0]
        port[u], port[v] = gu, pv
        points.append(port)
    return np.round(np.array(points), 3)


def candidate_ports(
    index: int, polygon: np.ndarray, width: float, space: float, grid: Grid, diagonal: bool
) -> list[Port]:
    """Every way out of the terminal (legality is checked by the caller)."""
    c = centre(polygon)
    reach = float(np.hypot(*(np.asarray(polygon) - c).T).max()) + halo(
        width / 2 + space, grid.pitch
    )
    steps = DIAGONAL if diagonal else MANHATTAN
    ports: list[Port] = []
    for d in steps:
        for side in (-1, 1):
            leg = _leg(c, d, reach, grid, diagonal, side, JOG * width)
            if ports and np.array_equal(ports[-1].leg, leg):
                continue  # already on the grid: one port is enough
            cell = grid.nearest(leg[-1])[0]
            if np.abs(grid.xy(cell[0], cell[1]) - leg[-1]).max() > 1e-6:
                continue
            last = leg[-1] - leg[-2]
            jog = len(leg) > 2
            behind = tuple(
                n
                for n in steps
                if n[0] * d[0] + n[1] * d[1] < 0 or (jog and n[0] * last[0] + n[1] * last[1] <= 0)
            )
            rc = tuple((n[1], n[0]) for n in behind)
            ports.append(
                Port(
                    terminal=index,
                    cell=(int(cell[0]), int(cell[1])),
                    leg=leg,
                    behind=rc,
                    origin=(float(c[0]), float(c[1])),
                )
            )
    return ports
