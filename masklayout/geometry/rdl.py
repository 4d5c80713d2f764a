"""The die's RDL as a routing problem: the nets' pads and bumps as terminals, everything else as
obstacles, handed to :mod:`masklayout.routing` as plain geometry.

Terminals are the capture pads a net owns: over each of its bond pads (the PI1 opening grown by
RDL.EN.PI1) and under each of its bumps (the UBM grown by RDL.EN.UBM). Obstacles are the pads,
bumps and capture pads of no routed net, the UBMs of bumps sitting on pads, and the keep-outs
that apply to RDL. Traces keep RDL.S from everything not their own and RDL.EDGE from the die
edge (the seal ring). Routes with ``via`` waypoints are fixed centrelines of their net.
"""

from __future__ import annotations

from dataclasses import dataclass

import gdstk
import numpy as np

from masklayout.geometry.die import DEFAULT_RDL_SPACE, pad_capture, pad_polygon, ubm_capture
from masklayout.geometry.shapes import shape
from masklayout.routing import (
    Net,
    Obstacle,
    RoutedNet,
    RoutingProblem,
    RoutingResult,
    Terminal,
    Unrouted,
    route,
)
from masklayout.routing.shapes import DBU, polygon_region
from masklayout.source import Loc, Problem, SpecError
from masklayout.spec import Design

DEFAULT_RDL_EDGE = 25.0  # bump (RDL) to seal ring, DESIGN.md's public rule table


def points(polygon: object) -> np.ndarray:
    """A polygon's points as an (n, 2) array (a gdstk polygon or an array already)."""
    return np.asarray(getattr(polygon, "points", polygon), dtype=float)


def routing_problem(design: Design) -> RoutingProblem:
    """The routing problem of ``design``'s routed nets (see the module text)."""
    spec, stacks = design.spec, design.spec.stacks
    sites = {site.name: site for site in design.sites}
    pads = {pad.name: pad for pad in spec.die.pads}
    nets, owned = [], set()
    for net in design.nets:
        if not net.routed:
            continue
        terminals = [
            Terminal(name=f"pad {p}", polygon=points(pad_capture(design, pads[p])))
            for p in net.rdl_pads
        ]
        for b in net.rdl_bumps:
            site = sites[b]
            capture = ubm_capture(design, stacks[site.stack], (site.x, site.y))
            terminals.append(Terminal(name=f"bump {b}", polygon=points(capture)))
        owned |= {t.name for t in terminals}
        nets.append(
            Net(
                name=net.name,
                terminals=tuple(terminals),
                width=net.width,
                fixed=tuple(np.asarray(line, dtype=float) for line in net.fixed),
                style=net.style,
                plane=net.plane,
            )
        )
    obstacles = [
        Obstacle(name=f"pad {pad.name}", polygon=points(pad_polygon(pad)))
        for pad in spec.die.pads
        if f"pad {pad.name}" not in owned
    ]
    for site in design.sites:
        if f"bump {site.name}" in owned:
            continue
        stack = stacks[site.stack]
        if site.on_pad is None:
            polygon = ubm_capture(design, stack, (site.x, site.y))
        else:
            polygon = shape(stack.ubm.shape, stack.ubm.diameter, (site.x, site.y))
        obstacles.append(Obstacle(name=f"bump {site.name}", polygon=points(polygon)))
    for i, keepout in enumerate(spec.die.keepout):
        if keepout.layers is None or "RDL" in keepout.layers:
            obstacles.append(Obstacle(name=f"keep-out die.keepout[{i}]", polygon=keepout.points()))
    w, h = design.die_size
    outline = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    return RoutingProblem(
        outline=outline,
        edge_clearance=design.tech.rule_value("RDL.EDGE", DEFAULT_RDL_EDGE),
        space=design.tech.rule_value("RDL.S", DEFAULT_RDL_SPACE),
        nets=tuple(nets),
        obstacles=tuple(obstacles),
    )


@dataclass(frozen=True)
class Routing:
    """The routed RDL of a design: the router's result and the problem it solved."""

    problem: RoutingProblem
    result: RoutingResult

    @property
    def complete(self) -> bool:
        return not self.result.unrouted


def route_design(design: Design) -> Routing:
    """Route every routed net of ``design`` (unrouted nets are in ``result.unrouted``); routes
    through waypoints that come too close to metal not their own, and keep-outs over a routed
    net's capture pad, are an error first."""
    problem = routing_problem(design)
    clashes = keepout_clashes(design, problem) + fixed_clashes(design, problem)
    if clashes:
        raise SpecError(clashes)
    if not problem.nets:  # no RDL: nothing to ask the router
        return Routing(problem=problem, result=RoutingResult(routed=(), unrouted=()))
    return Routing(problem=problem, result=route(problem))


def keepout_clashes(design: Design, problem: RoutingProblem) -> list[Problem]:
    """Keep-outs on RDL that come within RDL.S of a routed net's capture pad: that pad is drawn
    where it is whatever the keep-out says, and no trace could leave it cleanly."""
    captures = [(net.name, t) for net in problem.nets for t in net.terminals]
    problems = []
    for i, keepout in enumerate(design.spec.die.keepout):
        if keepout.layers is not None and "RDL" not in keepout.layers:
            continue
        grown = gdstk.offset(gdstk.Polygon(keepout.points()), problem.space - 1e-3)
        hits = [
            f"{terminal.name} (net {net})"
            for net, terminal in captures
            if gdstk.boolean(grown, gdstk.Polygon(terminal.polygon), "and")
        ]
        if hits:
            problems.append(
                design.source.problem(
                    ["die", "keepout", i],
                    f"the keep-out comes within {problem.space:g} µm (rule RDL.S) of the RDL "
                    f"capture pad of {', '.join(hits[:4])}"
                    + (f" and {len(hits) - 4} more" if len(hits) > 4 else "")
                    + ": the pad is drawn there whatever the keep-out says; move the keep-out "
                    "off it, or give it layers without RDL",
                )
            )
    return problems


def fixed_clashes(design: Design, problem: RoutingProblem) -> list[Problem]:
    """Routes through ``via`` waypoints that cross the die-edge clearance, or come closer than
    RDL.S to another net's capture pads or waypoint routes, or to an obstacle: the router
    takes them as they are."""
    metal: list[tuple[str, str, gdstk.Polygon]] = []  # (net or "", what, polygon)
    for net in problem.nets:
        metal += [(net.name, t.name, gdstk.Polygon(t.polygon)) for t in net.terminals]
    metal += [("", o.name, gdstk.Polygon(o.polygon)) for o in problem.obstacles]
    lines = []
    for die_net in design.nets:
        for line, index in zip(die_net.fixed, die_net.fixed_routes, strict=True):
            route = design.spec.die.rdl.routes[index]
            path = gdstk.FlexPath(line, die_net.width, simple_path=True).to_polygons()
            lines.append((die_net.name, index, f"route {route.pad} -> {route.bump}", path))
            metal += [(die_net.name, f"the route of die.rdl.routes[{index}]", p) for p in path]
    inner = gdstk.offset(gdstk.Polygon(problem.outline), -problem.edge_clearance)
    problems = []
    for name, index, what, path in lines:
        if gdstk.boolean(path, inner, "not"):
            problems.append(
                design.source.problem(
                    ["die", "rdl", "routes", index],
                    f"{what} through its via points crosses the die-edge clearance "
                    f"({problem.edge_clearance:g} µm from the die edge): move its via points "
                    "inward",
                )
            )
            continue
        grown = gdstk.offset(path, problem.space - 1e-3)
        hit = next(
            (
                other
                for owner, other, polygon in metal
                if owner != name and gdstk.boolean(grown, polygon, "and")
            ),
            None,
        )
        if hit is not None:
            problems.append(
                design.source.problem(
                    ["die", "rdl", "routes", index],
                    f"{what} through its via points comes within {problem.space:g} µm "
                    f"(rule RDL.S) of {hit}",
                )
            )
    return problems


def unrouted_message(unrouted: Unrouted) -> str:
    """``net X: stuck at (x, y): reason``."""
    x, y = unrouted.at
    return f"net {unrouted.net}: stuck at ({x:g}, {y:g}): {unrouted.reason}"


def unrouted_error(design: Design, unrouted: tuple[Unrouted, ...]) -> SpecError:
    """Every net that did not route, each located where the spec names it (a net that has no
    way out of a pad at a width wider than ``rdl.width``, where that width is given)."""
    located: dict[str, Loc] = {net.name: net.loc for net in design.nets}
    for u in unrouted:
        if u.reason.startswith("no way out"):
            located[u.net] = _wide(design, u.net) or located.get(u.net, ())
    return SpecError(
        design.source.problem(list(located.get(u.net, ())), unrouted_message(u)) for u in unrouted
    )


def _wide(design: Design, name: str) -> Loc | None:
    """The key that makes net ``name`` wider than ``rdl.width`` (its nets-table entry's width,
    else its widest route's), or None."""
    net, rdl = design.net(name), design.spec.die.rdl
    if net.width <= rdl.width:
        return None
    entry = design.spec.die.nets.get(name)
    if entry is not None and entry.width is not None:
        return ["die", "nets", name, "width"]
    widest: list[Loc] = [
        ["die", "rdl", "routes", i, "width"]
        for i, route in enumerate(rdl.routes)
        if route.width == net.width and route.pad in net.pads
    ]
    return widest[0] if widest else None


TEARDROP_LENGTH = 0.5  # of the capture's reach along the trace, past the capture


def teardrops(routing: Routing, net: RoutedNet) -> list[np.ndarray]:
    """Teardrops where ``net``'s traces leave its capture pads (see ``teardrop_plan``)."""
    return teardrop_plan(routing, net)[0]


def teardrop_plan(routing: Routing, net: RoutedNet) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Teardrops where ``net``'s traces leave its capture pads: the convex hull of the capture
    and the trace's cross-section half the capture's reach beyond it; and the terminals whose
    drop was left out. A teardrop that would come within RDL.S of metal not the net's own, past
    the die-edge clearance, or that would leave a notch narrower than RDL.S against the net's
    own metal (a branch beside the capture), is left out."""
    problem = routing.problem
    own = next(n for n in problem.nets if n.name == net.name)
    foreign = [gdstk.Polygon(o.polygon) for o in problem.obstacles]
    for other in routing.result.routed:
        if other.name != net.name:
            foreign += [gdstk.Polygon(points(p)) for p in other.polygons]
    (x0, y0), (x1, y1) = problem.outline.min(axis=0), problem.outline.max(axis=0)
    edge = problem.edge_clearance
    inside = gdstk.rectangle((x0 + edge, y0 + edge), (x1 - edge, y1 - edge))
    space = int(round(problem.space / DBU))
    own_metal = polygon_region([points(p) for p in net.polygons]).merged()
    drops, skipped = [], []
    for line in net.centrelines:
        line = np.asarray(line, dtype=float)
        for end, toward in ((line[0], line[1]), (line[-1], line[-2])):
            leg = toward - end
            u = leg / np.hypot(*leg)
            for terminal in own.terminals:
                capture = points(terminal.polygon)
                if not gdstk.inside([tuple(end)], gdstk.Polygon(capture))[0]:
                    continue
                reach = float(np.max((capture - end) @ u))
                length = reach * (1 + TEARDROP_LENGTH)
                if np.hypot(*leg) < length:
                    continue  # the first leg turns before the drop would end
                n = np.array([-u[1], u[0]]) * net.width / 2
                tip = end + u * length
                drop = _convex_hull(np.vstack([capture, tip + n, tip - n]))
                polygon = gdstk.Polygon(drop)
                grown = gdstk.offset(polygon, problem.space - 1e-3)
                near = [f for f in foreign if gdstk.boolean(grown, f, "and")]
                if near or gdstk.boolean(polygon, inside, "not"):
                    skipped.append(terminal.name)
                    continue
                joined = (own_metal + polygon_region([drop])).merged()
                if joined.notch_check(space).is_empty():
                    own_metal = joined
                    drops.append(drop)
                else:
                    skipped.append(terminal.name)
    return drops, tuple(dict.fromkeys(skipped))


def _convex_hull(pts: np.ndarray) -> np.ndarray:
    """Convex hull, counter-clockwise (Andrew's monotone chain)."""
    pts = np.unique(np.round(pts, 6), axis=0)

    def half(seq: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for p in seq:
            while len(out) >= 2 and _turn(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _turn(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """> 0 when o -> a -> b turns left."""
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))
