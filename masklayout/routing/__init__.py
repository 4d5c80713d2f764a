"""An obstacle-avoiding octilinear RDL router fed plain geometry (no spec objects).

``route(RoutingProblem)`` connects every net around everything that is not its own, by
negotiated congestion on a grid, returns each routed net's centrelines and merged metal, checked
exactly against the spacing and edge rules, and explains every net it cannot route.
"""

from masklayout.routing.model import (
    Net,
    Obstacle,
    RoutedNet,
    RoutingProblem,
    RoutingResult,
    Terminal,
    Unrouted,
)
from masklayout.routing.router import route

__all__ = [
    "Net",
    "Obstacle",
    "RoutedNet",
    "RoutingProblem",
    "RoutingResult",
    "Terminal",
    "Unrouted",
    "route",
]
