"""The router's input and output: plain geometry, no spec objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Terminal:
    """Metal a net owns where it must connect (a pad capture, a UBM capture)."""

    name: str
    polygon: np.ndarray


@dataclass(frozen=True)
class Net:
    """Terminals to connect as one tree, with the trace width and style to use."""

    name: str
    terminals: tuple[Terminal, ...]
    width: float
    fixed: tuple[np.ndarray, ...] = ()
    style: str = "diagonal"
    plane: bool = False


@dataclass(frozen=True)
class Obstacle:
    """Metal or a keep-out that belongs to no net."""

    name: str
    polygon: np.ndarray


@dataclass(frozen=True)
class RoutingProblem:
    """Everything the router needs: die outline and rules, nets and obstacles."""

    outline: np.ndarray
    edge_clearance: float
    space: float
    nets: tuple[Net, ...]
    obstacles: tuple[Obstacle, ...] = ()
    grid: float | None = None


@dataclass(frozen=True)
class RoutedNet:
    """A connected net: its centrelines and its merged metal."""

    name: str
    centrelines: tuple[np.ndarray, ...]
    polygons: tuple[np.ndarray, ...]
    length: float
    bends: int
    width: float


@dataclass(frozen=True)
class Unrouted:
    """A net the router could not connect, where it got stuck and why."""

    net: str
    at: tuple[float, float]
    reason: str


@dataclass(frozen=True)
class RoutingResult:
    """Routed nets in problem order, and every net that could not be routed."""

    routed: tuple[RoutedNet, ...]
    unrouted: tuple[Unrouted, ...]
