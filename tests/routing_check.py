"""Independent legality checks of a routing result with KLayout (not the router's own check)."""

from __future__ import annotations

import itertools

import klayout.db as kdb
import numpy as np

from masklayout.routing import RoutingProblem, RoutingResult

DBU = 0.001


def region(polygons) -> kdb.Region:
    r = kdb.Region()
    for p in polygons:
        pts = np.rint(np.asarray(p) / DBU).astype(int)
        r.insert(kdb.Polygon([kdb.Point(int(x), int(y)) for x, y in pts]))
    return r


def problems(problem: RoutingProblem, result: RoutingResult) -> list[str]:
    """Every rule the routed metal breaks, as readable strings (empty when clean)."""
    out = []
    s = round(problem.space / DBU)
    nets = {n.name: n for n in problem.nets}
    metal = {r.name: region(r.polygons).merged() for r in result.routed}
    inner = region([problem.outline]).sized(-round(problem.edge_clearance / DBU))
    obstacles = region([o.polygon for o in problem.obstacles])
    for name, m in metal.items():
        if m.count() != 1:
            out.append(f"{name}: {m.count()} pieces")
        for t in nets[name].terminals:
            if region([t.polygon]).interacting(m).is_empty():
                out.append(f"{name}: does not reach {t.name}")
        if not (m - inner).is_empty():
            out.append(f"{name}: outside the edge clearance")
        if not m.separation_check(obstacles, s).is_empty() or not (m & obstacles).is_empty():
            out.append(f"{name}: within space of an obstacle")
        if not m.notch_check(s).is_empty():
            out.append(f"{name}: notch")
        width = round(min(r.width for r in result.routed if r.name == name) / DBU)
        if not m.width_check(width - 2).is_empty():
            out.append(f"{name}: narrower than its width")
    for (a, ma), (b, mb) in itertools.combinations(sorted(metal.items()), 2):
        if ma.bbox().enlarged(s, s).overlaps(mb.bbox()) and (
            not (ma & mb).is_empty() or not ma.separation_check(mb, s).is_empty()
        ):
            out.append(f"{a} and {b}: closer than space")
    for r in result.routed:
        step = 90 if nets[r.name].style == "manhattan" else 45
        for line in r.centrelines:
            d = np.diff(np.asarray(line), axis=0)
            a = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % step
            off = np.minimum(a, step - a)
            if (off > 1e-6).any():
                out.append(f"{r.name}: segment {off.max():.4f}° off a multiple of {step}°")
    return out
