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
    for _ in range(REPAIRS):
        metal = (metal + terminals).merged().interacting(terminals)
        bad = (
            metal.width_check(2 * half - 2).polygons()
            + metal.notch_check(int(round(space / DBU))).polygons()
        )
        if bad.is_empty():
            break
        metal = _opened(metal - (bad.sized(2 * margin) - terminals), half)
    pieces = list(metal.each())
    if len(pieces) > 1:
        return metal, _split(net, pieces, space)
    return metal, None


def _opened(region: kdb.Region, half: int) -> kdb.Region:
    """``region`` less every part narrower than ``2 * half`` (sized down, then up again)."""
    return region.sized(-half).sized(half)


def _split(
    net: Net, pieces: Sequence[kdb.Polygon], space: float
) -> tuple[tuple[float, float], str]:
    """Where the pour is cut apart (the middle of the narrowest gap between the piece holding the
    first terminal and the rest), and which terminals it cuts off."""
    home = kdb.Region(pieces[0])
    rest = kdb.Region()
    for piece in pieces[1:]:
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
