"""Neighbouring terminals of one net joined into one: a row of power pads is one terminal.

Two terminals of a net whose gap no other net's trace can pass through (narrower than the
narrowest trace plus a space each side) are bridged across the gap by the convex hull of the
two, where the bridge keeps the space from all foreign metal and the edge, and leaves no notch.
The net then reaches the group once, through the ports of any of its members (each member's own
legs, which keep clear of the other members as before), instead of joining pad to pad through
the pad ring where there is no room for a branch.
"""

from __future__ import annotations

from dataclasses import replace

import klayout.db as kdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull

from masklayout.routing.grid import polyline_polygon_distance
from masklayout.routing.model import Net, Terminal
from masklayout.routing.shapes import DBU, polygon_region, to_arrays


def gap(a: np.ndarray, b: np.ndarray) -> float:
    """The distance between two polygons' areas (0 when they touch or overlap)."""
    return polyline_polygon_distance(np.concatenate([a, a[:1]]), b)


def has_neighbours(terminals: tuple[Terminal, ...], reach: float) -> bool:
    """Whether any two of the terminals are closer than ``reach``."""
    lo = np.array([t.polygon.min(0) for t in terminals])
    hi = np.array([t.polygon.max(0) for t in terminals])
    return any(
        np.all(lo[i] < hi[j] + reach)
        and np.all(lo[j] < hi[i] + reach)
        and gap(terminals[i].polygon, terminals[j].polygon) < reach
        for i in range(len(terminals))
        for j in range(i + 1, len(terminals))
    )


def bridge(a: np.ndarray, b: np.ndarray) -> kdb.Region:
    """The convex hull of two polygons, as a region on the 1 nm grid."""
    points = np.concatenate([a, b])
    return polygon_region([np.round(points[ConvexHull(points).vertices], 3)])


def group_terminals(
    net: Net, foreign: kdb.Region, inner: kdb.Region, space: float, narrowest: float
) -> tuple[Net, tuple[tuple[Terminal, ...], ...]]:
    """The net with each group of neighbouring terminals (gap < ``narrowest + 2·space``, see the
    module text) merged into one terminal, and the members of each of its terminals."""
    terms = net.terminals
    s = int(round(space / DBU))
    joins: dict[tuple[int, int], kdb.Region] = {}
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            a, b = terms[i].polygon, terms[j].polygon
            if gap(a, b) >= narrowest + 2 * space:
                continue
            hull = bridge(a, b)
            pair = (hull + polygon_region([a, b])).merged()
            if (
                hull.interacting(foreign).is_empty()
                and hull.separation_check(foreign, s).is_empty()
                and (hull - inner).is_empty()
                and pair.notch_check(s).is_empty()
            ):
                joins[i, j] = hull
    if not joins:
        return net, tuple((t,) for t in terms)
    pairs = np.array(list(joins))
    linked = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), (len(terms),) * 2)
    label = connected_components(linked, directed=False)[1]
    groups: dict[int, list[int]] = {}
    for i in range(len(terms)):
        groups.setdefault(int(label[i]), []).append(i)
    merged: list[Terminal] = []
    members: list[tuple[Terminal, ...]] = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(terms[group[0]])
            members.append((terms[group[0]],))
            continue
        region = polygon_region([terms[i].polygon for i in group])
        for (i, _), hull in joins.items():
            if i in group:
                region += hull
        (polygon,) = to_arrays(region.merged())
        name = " + ".join(terms[i].name for i in group)
        merged.append(Terminal(name=name, polygon=polygon))
        members.append(tuple(terms[i] for i in group))
    return replace(net, terminals=tuple(merged)), tuple(members)
