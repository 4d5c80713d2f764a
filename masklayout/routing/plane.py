"""Power planes: a net marked ``plane`` is poured over the free area after the signal nets,
around its skeleton (a tree routed with them that joins its terminals)."""

from __future__ import annotations

from collections.abc import Sequence

import klayout.db as kdb
import numpy as np

from masklayout.routing.model import Net
from masklayout.routing.shapes import DBU, polygon_region

ROUND = 64  # sides of the polygon standing in for a circle in clearances
MARGIN = 0.5  # µm of clearance over RDL.S, taken up by the repairs' re-opening
REPAIRS = 4
TILT = 0.5  # degrees a cut square to an off-grid side turns off square (see _flat_cut)
STEPS = 32  # chords tried along each direction at a tip, an eighth of the width apart


def disk(radius: float) -> kdb.Polygon:
    """A regular polygon on the database grid around a circle of ``radius`` µm (it contains the
    circle: its inner radius is ``radius``, the corners lie at most 0.12 % further out)."""
    r = radius / DBU / np.cos(np.pi / ROUND) + 1
    a = 2 * np.pi * (np.arange(ROUND) + 0.5) / ROUND
    xy = (
        np.sign(np.cos(a)) * np.ceil(np.abs(r * np.cos(a))),
        np.sign(np.sin(a)) * np.ceil(np.abs(r * np.sin(a))),
    )
    return kdb.Polygon([kdb.Point(int(x), int(y)) for x, y in zip(*xy, strict=True)])


def grown(region: kdb.Region, by: float) -> kdb.Region:
    """``region`` grown by ``by`` µm all round (Minkowski sum with a circle), not the square
    corners of edge sizing, which would keep the pour further than ``by`` from corners."""
    out = kdb.Region()
    for poly in region.each_merged():
        out.insert(poly.minkowski_sum(disk(by), True))
    return out.merged()


def pour(
    net: Net,
    fixed: kdb.Region,
    foreign: kdb.Region,
    inner: kdb.Region,
    space: float,
) -> tuple[kdb.Region, tuple[tuple[float, float], str] | None]:
    """The net's pour and terminals as one region, or where and why it does not connect.

    The pour is the die inside its edge clearance less all foreign metal grown by ``space``
    (round, plus ``MARGIN``), opened by the net's width (no neck narrower than the width),
    joined to the net's terminals and fixed traces, keeping only the pieces that touch a
    terminal. Edge sizing only approximates an opening, so what KLayout's width check (at the
    width) and notch check (at ``space``) still flag is cut out and the rest opened again, up to
    ``REPAIRS`` times; the margin takes up what the re-opening grows back.
    """
    half = int(round(net.width / 2 / DBU))
    margin = int(round(MARGIN / DBU))
    free = inner.sized(-margin) - grown(foreign, space + MARGIN)
    terminals = polygon_region([t.polygon for t in net.terminals]) + fixed
    metal = _opened(free, half)
    gap = int(round(space / DBU))
    for repair in range(REPAIRS + 1):
        metal = (metal + terminals).merged().interacting(terminals)
        thin = metal.width_check(2 * half - 2)
        notches = metal.notch_check(gap)
        if (thin.is_empty() and notches.is_empty()) or repair == REPAIRS:
            break
        flat, blunt = _tip_cuts(metal, thin, 2 * half, gap, 2 * margin)
        blunt += notches.polygons(1).sized(2 * margin)
        if not blunt.is_empty():
            metal = _opened(metal - (blunt - terminals), half)
        # after the re-opening, which would grow the corners of a flat cut back
        metal -= flat - terminals
    pieces = list(metal.each())
    if len(pieces) > 1:
        return metal, _split(net, pieces, space)
    return metal, None


def _tip_cuts(
    metal: kdb.Region, pairs: kdb.EdgePairs, width: int, space: int, margin: int
) -> tuple[kdb.Region, kdb.Region]:
    """What to cut away where ``metal`` is narrower than ``width``: the tips that pairs of
    edges closing in like a wedge point to, each severed along one straight chord (see
    :func:`_flat_cut`; where several pairs point to one tip, the smallest cut); and, apart,
    each pair that does not close in, or whose tip no chord cuts clean, as the check reports
    it, ``margin`` wider (to be opened again)."""
    cuts = [
        (pair, kdb.Region(pair.bbox().enlarged(1, 1)), _flat_cut(metal, pair, width, space, margin))
        for pair in pairs.each()
    ]
    found: list[tuple[kdb.Region, kdb.Region]] = [(at, c) for _, at, c in cuts if c is not None]
    flat = kdb.Region()
    for at, cut in sorted(found, key=lambda ac: ac[1].area()):
        if at.interacting(flat).is_empty():
            flat += cut  # the smallest cut at a tip takes the pairs there
    blunt = kdb.Region()
    for pair, at, maybe in cuts:
        if maybe is None and at.interacting(flat).is_empty():
            blunt.insert(pair.polygon(1).sized(margin))
    return flat.merged(), blunt.merged()


def _flat_cut(
    metal: kdb.Region, pair: kdb.EdgePair, width: int, space: int, margin: int
) -> kdb.Region | None:
    """The tip a closing-in pair of edges points to, with a slit ``margin`` thick along the
    chord that severs it, or None.

    The chord runs straight across the metal, perpendicular to the pair's bisector or to
    either edge, nearest the tip first; along each direction the first whose cut leaves no
    width or notch fault near it (KLayout's checks, on the metal around the pair) is a
    candidate, and the smallest cut of the candidates wins. A flat cut edge meeting the sides
    at 90° or more is what the width check ignores: rounding a tip leaves an arc it flags, and
    cutting a corner off leaves a new corner."""
    ends = [
        np.array([[e.p1.x, e.p1.y], [e.p2.x, e.p2.y]], dtype=float)
        for e in (pair.first, pair.second)
    ]
    d = [e[1] - e[0] for e in ends]
    if min(float(np.hypot(*v)) for v in d) == 0:
        return None
    u = [v / np.hypot(*v) for v in d]
    cross = float(u[0][0] * u[1][1] - u[0][1] * u[1][0])
    if abs(cross) < np.sin(np.radians(2)):
        return None
    # the apex where the two edges' lines meet, and the rays from it along them
    t = float((ends[1][0] - ends[0][0]) @ np.array([u[1][1], -u[1][0]])) / cross
    apex = ends[0][0] + t * u[0]
    rays = [v if v @ (e.mean(0) - apex) > 0 else -v for v, e in zip(u, ends, strict=True)]
    reach = 4 * width
    box = pair.bbox().enlarged(reach, reach)
    local = metal & kdb.Region(box)
    inner = kdb.Region(box.enlarged(-width, -width))
    segs = np.array([[e.p1.x, e.p1.y, e.p2.x, e.p2.y] for e in local.edges().each()], dtype=float)
    # a cut must clear its own pair and add no fault; others near it are other tips' business
    own = kdb.Region(pair.polygon(1))
    before = _faults(local, width, space) - own.sized(width)
    best: kdb.Region | None = None
    bisector = _unit(rays[0] + rays[1])
    for axis in (bisector, rays[0], rays[1]):
        along = np.array([-axis[1], axis[0]])
        lattice = _lattice(along)
        if lattice is None and axis is not bisector:
            # square to a side only on the grid; else just over, turned towards the other side:
            # a corner a hair over 90° comes out under it once a writer splits the side
            towards = _unit(bisector - axis * (bisector @ axis))
            axis = _unit(axis + towards * np.tan(np.radians(TILT)))
            along = np.array([-axis[1], axis[0]])
        start = max(0.0, float(((np.concatenate(ends) - apex) @ axis).min()))
        inward = along * np.sign(along @ bisector) * 2  # off a side, should it run along one
        for step in range(STEPS):
            centre = apex + axis * (start + step * width / 8) + inward
            chord = _chord(segs, centre, axis, 3 * width)
            if chord is None:
                continue
            lo, hi = chord
            a = np.round(centre + along * (lo - margin))
            b = a + along * (hi - lo + 2 * margin)
            if lattice is not None:  # exactly across a side at 0, 45 or 90°: corners of 90°
                b = a + lattice * np.ceil((hi - lo + 2 * margin) / np.hypot(*lattice))
            slit = kdb.Region(_polygon([a, b, b - axis * margin, a - axis * margin]))
            rest = local - slit
            mid = centre + along * (lo + hi) / 2
            cut_off = rest.interacting(_dot(mid - axis * (margin + 4)))
            if cut_off.is_empty() or not cut_off.interacting(_dot(mid + axis * 4)).is_empty():
                continue  # the chord cuts nothing off, or does not sever the tip
            if not (cut_off - inner).is_empty():
                break  # what it cuts off is no tip: it goes on beyond the window
            after = rest - cut_off
            faults = _faults(after, width, space) & inner
            fresh = faults.interacting(slit.sized(width)).not_interacting(before)
            if fresh.is_empty() and faults.interacting(own).is_empty():
                cut = slit + cut_off
                if best is None or cut.area() < best.area():
                    best = cut
                break
    return best


def _faults(metal: kdb.Region, width: int, space: int) -> kdb.Region:
    """Where KLayout's width and notch checks flag ``metal`` (edge pairs as thin polygons)."""
    return metal.width_check(width - 2).polygons(1) + metal.notch_check(space).polygons(1)


def _lattice(direction: np.ndarray) -> np.ndarray | None:
    """The grid step along ``direction`` if it runs at a multiple of 45°: a cut along it then
    meets a side at 90° exactly (a nanometre off, and the width check flags the corner)."""
    for step in (direction, direction * np.sqrt(2)):
        if np.abs(step - np.round(step)).max() < 1e-9:
            return np.round(step)
    return None


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.hypot(*v)


def _polygon(points) -> kdb.Polygon:
    return kdb.Polygon([kdb.Point(int(round(x)), int(round(y))) for x, y in points])


def _dot(at: np.ndarray) -> kdb.Region:
    x, y = (int(round(v)) for v in at)
    return kdb.Region(kdb.Box(x - 1, y - 1, x + 1, y + 1))


def _chord(
    segs: np.ndarray, centre: np.ndarray, axis: np.ndarray, longest: float
) -> tuple[float, float] | None:
    """Where the line through ``centre`` across ``axis`` leaves the metal bounded by ``segs``
    on either side (offsets along the line); None when ``centre`` is not inside or the chord is
    longer than ``longest``."""
    along = np.array([-axis[1], axis[0]])
    p, e = segs[:, :2], segs[:, 2:] - segs[:, :2]
    den = along[0] * e[:, 1] - along[1] * e[:, 0]
    ok = np.abs(den) > 1e-12
    w = p[ok] - centre
    t = (w[:, 0] * e[ok, 1] - w[:, 1] * e[ok, 0]) / den[ok]
    f = (w[:, 0] * along[1] - w[:, 1] * along[0]) / den[ok]
    hit = (f >= 0) & (f < 1)
    t, dirs = t[hit], e[ok][hit]
    if not (t > 0).any() or not (t < 0).any():
        return None
    j = np.flatnonzero(t > 0)[np.argmin(t[t > 0])]
    lo, hi = float(t[t < 0].max()), float(t[j])
    # edges run with the metal on their right: the centre is inside if it lies right of them
    if along @ np.array([dirs[j][1], -dirs[j][0]]) >= 0 or hi - lo > longest:
        return None
    return lo, hi


def _opened(region: kdb.Region, half: int) -> kdb.Region:
    """``region`` less every part narrower than ``2 * half`` (sized down, then up again)."""
    return region.sized(-half).sized(half)


def _split(
    net: Net, pieces: Sequence[kdb.Polygon], space: float
) -> tuple[tuple[float, float], str]:
    """Where the pour is cut apart (the middle of the narrowest gap between the piece holding the
    first terminal and the rest), and which terminals it cuts off."""
    first = polygon_region([net.terminals[0].polygon])
    at_home = [not kdb.Region(piece).interacting(first).is_empty() for piece in pieces]
    home_at = at_home.index(True) if any(at_home) else 0
    home = kdb.Region(pieces[home_at])
    rest = kdb.Region()
    for i, piece in enumerate(pieces):
        if i != home_at:
            rest.insert(piece)
    apart = [t for t in net.terminals if not polygon_region([t.polygon]).interacting(home).count()]
    pairs: list[kdb.EdgePair] = []
    for reach in (4 * (net.width + space), 1000.0, 10000.0):
        pairs = sorted(
            home.separation_check(rest, int(round(reach / DBU))).each(),
            key=lambda ep: ep.distance(),
        )
        if pairs:
            break
    if pairs:
        c = pairs[0].bbox().center()
        at = (round(c.x * DBU, 3), round(c.y * DBU, 3))
    else:
        m = np.round(apart[0].polygon.mean(0), 3)
        at = (float(m[0]), float(m[1]))
    names = ", ".join(t.name for t in apart)
    return at, (
        f"plane splits into {len(pieces)} pieces: {names} cut off from {net.terminals[0].name} "
        f"(no passage at least {net.width:g} µm wide with {space:g} µm space to other metal)"
    )
