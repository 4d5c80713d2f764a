"""The die's structured layer: bond pads, PI1 openings, RDL traces with capture pads (claim 13),
and the per-stack bump shapes (UBM, PI2, solder-mask openings).

Traces run from the centre of their bond pad to the centre of their bump: through the route's
``via`` waypoints, or automatically, Manhattan (an L, either leg first) or diagonal (a 45° leg and
a straight one). A trace that would come closer than the RDL space rule to another trace, pad or
bump is an error naming both; an obstacle-avoiding router is not part of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import gdstk
import numpy as np

from masklayout.geometry.shapes import GRID, shape
from masklayout.spec import Design, Pad, Route, Site, Stack

DEFAULT_PAD_ENCLOSES_PI1 = 7.5
DEFAULT_RDL_ENCLOSES_PI1 = 10.0
DEFAULT_RDL_ENCLOSES_UBM = 10.0
DEFAULT_RDL_SPACE = 10.0


@dataclass(frozen=True)
class Trace:
    """One routed RDL trace: its centreline and its polygons (trace and pad-side capture)."""

    route: int
    pad: str
    bump: str
    centerline: np.ndarray
    polygons: tuple[gdstk.Polygon, ...]


def _snap(points: list[tuple[float, float]]) -> np.ndarray:
    pts = np.round(np.asarray(points, dtype=float) / GRID) * GRID
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1)
    return pts[keep]


def stack_shapes(
    stack: Stack, masks: dict[str, tuple[int, int]], ubm: tuple[int, int], pi2: tuple[int, int]
) -> list[gdstk.Polygon]:
    """The shapes of one bump of ``stack`` centred at the origin: UBM, PI2, solder-mask openings.
    ``masks`` maps each mask name to its (layer, datatype)."""
    polygons = [
        shape(stack.ubm.shape, stack.ubm.diameter, layer=ubm[0], datatype=ubm[1]),
        shape(stack.pi2.shape, stack.pi2.diameter, layer=pi2[0], datatype=pi2[1]),
    ]
    for k, opening in enumerate(stack.openings):
        layer, datatype = masks[opening.mask]
        polygons.append(
            shape(stack.opening_shape(k), opening.diameter, layer=layer, datatype=datatype)
        )
    return polygons


def ubm_capture(
    design: Design,
    stack: Stack,
    center: tuple[float, float] = (0.0, 0.0),
    layer: int = 0,
    datatype: int = 0,
) -> gdstk.Polygon:
    """The RDL capture pad under a UBM: the UBM's shape grown by the RDL.EN.UBM rule."""
    grow = design.tech.rule_value("RDL.EN.UBM", DEFAULT_RDL_ENCLOSES_UBM)
    return shape(
        stack.ubm.shape, stack.ubm.diameter + 2 * grow, center, layer=layer, datatype=datatype
    )


def pad_polygon(pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    (x, y), (w, h) = pad.at, pad.size
    return gdstk.rectangle(
        (x - w / 2, y - h / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype
    )


def pi1_opening(design: Design, pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    """The PI1 opening over a routed pad: ``rdl.pi1`` square, or the pad less PAD.EN.PI1."""
    if design.spec.die.rdl.pi1 is not None:
        w = h = design.spec.die.rdl.pi1
    else:
        shrink = design.tech.rule_value("PAD.EN.PI1", DEFAULT_PAD_ENCLOSES_PI1)
        w, h = pad.size[0] - 2 * shrink, pad.size[1] - 2 * shrink
        if w <= 0 or h <= 0:
            i = design.spec.die.pads.index(pad)
            raise design.error(
                ["die", "pads", i, "size"],
                f"pad {pad.name} is too small for a PI1 opening enclosed by {shrink:g} (rule PAD.EN.PI1)",
            )
    (x, y) = pad.at
    return gdstk.rectangle(
        (x - w / 2, y - h / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype
    )


def pad_capture(design: Design, pad: Pad, layer: int = 0, datatype: int = 0) -> gdstk.Polygon:
    """The RDL capture pad over a bond pad: the PI1 opening grown by RDL.EN.PI1."""
    grow = design.tech.rule_value("RDL.EN.PI1", DEFAULT_RDL_ENCLOSES_PI1)
    (x0, y0), (x1, y1) = pi1_opening(design, pad).bounding_box()
    return gdstk.rectangle(
        (x0 - grow, y0 - grow), (x1 + grow, y1 + grow), layer=layer, datatype=datatype
    )


def candidate_paths(
    start: tuple[float, float], end: tuple[float, float], route: Route, style: str
) -> list[np.ndarray]:
    """Centrelines to try for a route, in order of preference."""
    if route.via:
        return [_snap([start, *route.via, end])]
    (x0, y0), (x1, y1) = start, end
    if style == "manhattan":
        return [_snap([start, (x1, y0), end]), _snap([start, (x0, y1), end])]
    d = min(abs(x1 - x0), abs(y1 - y0))
    leg = (np.sign(x1 - x0) * d, np.sign(y1 - y0) * d)
    return [
        _snap([start, (x0 + leg[0], y0 + leg[1]), end]),
        _snap([start, (x1 - leg[0], y1 - leg[1]), end]),
    ]


@dataclass(frozen=True)
class _Obstacle:
    what: str
    polygon: gdstk.Polygon
    box: np.ndarray  # (2, 2): min and max corner


def _obstacle(what: str, polygon: gdstk.Polygon) -> _Obstacle:
    return _Obstacle(what, polygon, np.asarray(polygon.bounding_box()))


def _first_hit(polygons: list[gdstk.Polygon], obstacles: list[_Obstacle]) -> _Obstacle | None:
    for polygon in polygons:
        lo, hi = np.asarray(polygon.bounding_box())
        for obstacle in obstacles:
            if np.any(obstacle.box[0] > hi) or np.any(obstacle.box[1] < lo):
                continue
            if gdstk.boolean(polygon, obstacle.polygon, "and"):
                return obstacle
    return None


def route_traces(design: Design, layer: int = 0, datatype: int = 0) -> list[Trace]:
    """Every route of ``die.rdl`` as a trace, checked against the others, the pads and the bumps."""
    die, rdl = design.spec.die, design.spec.die.rdl
    space = design.tech.rule_value("RDL.S", DEFAULT_RDL_SPACE)
    pads = {pad.name: pad for pad in die.pads}
    site_index = {site.name: k for k, site in enumerate(design.sites)}
    pad_obstacles = {pad.name: _obstacle(f"pad {pad.name}", pad_polygon(pad)) for pad in die.pads}
    bumps_near = _BumpObstacles(design)
    traces: list[Trace] = []
    trace_obstacles: list[_Obstacle] = []
    for i, route in enumerate(rdl.routes):
        pad, site = pads[route.pad], design.sites[site_index[route.bump]]
        others = [o for name, o in pad_obstacles.items() if name != pad.name] + trace_obstacles
        style = route.style or rdl.style
        capture = pad_capture(design, pad, layer, datatype)
        first_hit = None
        for centerline in candidate_paths(pad.at, (site.x, site.y), route, style):
            keepout = gdstk.FlexPath(
                centerline, rdl.width + 2 * space, simple_path=True
            ).to_polygons()
            keepout.append(_grown(capture, space))
            bumps = [
                o for o, s in bumps_near(keepout) if s.name != site.name and s.on_pad != pad.name
            ]
            hit = _first_hit(keepout, others + bumps)
            if hit is None:
                path = gdstk.FlexPath(
                    centerline, rdl.width, simple_path=True, layer=layer, datatype=datatype
                )
                polygons = (*path.to_polygons(), capture)
                traces.append(Trace(i, pad.name, site.name, centerline, polygons))
                what = f"route {pad.name}->{site.name} (die.rdl.routes[{i}])"
                trace_obstacles += [_obstacle(what, p) for p in polygons]
                break
            first_hit = first_hit or hit
        else:
            how = "through its via points" if route.via else f"by an automatic {style} path"
            raise design.error(
                ["die", "rdl", "routes", i],
                f"route from pad {pad.name} to bump {site.name} {how} crosses or comes within "
                f"{space:g} um (rule RDL.S) of {first_hit.what}; give waypoints with 'via'",
            )
    return traces


class _BumpObstacles:
    """The UBM capture pads near some polygons, made on demand (a die may hold 10⁴ bumps)."""

    def __init__(self, design: Design):
        self.design = design
        self.xy = np.array([(s.x, s.y) for s in design.sites]).reshape(-1, 2)
        self.reach = max(
            (
                ubm_capture(design, stack).bounding_box()[1][0]
                for stack in design.spec.stacks.values()
            ),
            default=0.0,
        )
        self.made: dict[int, _Obstacle] = {}

    def __call__(self, polygons: list[gdstk.Polygon]) -> list[tuple[_Obstacle, Site]]:
        boxes = np.array([p.bounding_box() for p in polygons])
        lo, hi = boxes[:, 0].min(axis=0) - self.reach, boxes[:, 1].max(axis=0) + self.reach
        near = np.flatnonzero(np.all((self.xy > lo) & (self.xy < hi), axis=1))
        return [(self._obstacle(k), self.design.sites[k]) for k in near]

    def _obstacle(self, k: int) -> _Obstacle:
        if k not in self.made:
            site = self.design.sites[k]
            capture = ubm_capture(
                self.design, self.design.spec.stacks[site.stack], (site.x, site.y)
            )
            self.made[k] = _obstacle(f"bump {site.name}", capture)
        return self.made[k]


def _grown(polygon: gdstk.Polygon, distance: float) -> gdstk.Polygon:
    (x0, y0), (x1, y1) = polygon.bounding_box()
    return gdstk.rectangle((x0 - distance, y0 - distance), (x1 + distance, y1 + distance))
