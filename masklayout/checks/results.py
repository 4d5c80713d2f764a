"""What a rule check reports: per rule, its violations, each located in the cell it was found
in and counted once per cell, with the number of times that cell is placed on the wafer.

Lengths in µm; ``value`` is what was measured (a distance, or a ratio for the aspect-ratio and
area-ratio rules). A negative distance is an overlap: how far a shape sticks out of the one that
should contain it, or how deep two shapes that should stand apart run into each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Point = tuple[float, float]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Violation:
    """One violation: where (``cell`` coordinates, and ``wafer_at`` at the cell's first placement
    in the top cell), what was measured, and the marker (an edge pair: 4 points, first edge then
    second; or a polygon). ``placement`` is that first placement as a KLayout transformation
    string (µm), ``placements`` how many times the cell is placed on the wafer. ``note`` says
    in words what is wrong where a number cannot (the nets of a short)."""

    cell: str
    value: float
    kind: Literal["edge_pair", "polygon"]
    points: tuple[Point, ...]
    at: Point
    wafer_at: Point
    placements: int
    placement: str
    note: str = ""


@dataclass(frozen=True)
class RuleResult:
    """One rule (or one rule on one mask: ``SM.WEB:SM2``) and what it found. ``limit`` is the
    rule value the measurements are held to (``>=`` a minimum, ``<=`` a maximum); ``skipped``
    says why a rule could not run (no spec for the mask thickness, no process flow, ...)."""

    name: str
    rule: str
    check: str
    limit: float
    relation: Literal[">=", "<="]
    unit: str
    what: str
    severity: Severity
    violations: tuple[Violation, ...] = ()
    skipped: str | None = None

    @property
    def count(self) -> int:
        """Violations found, one per cell they lie in (a die-cell violation counts once)."""
        return len(self.violations)

    @property
    def on_wafer(self) -> int:
        """Violations on the whole wafer: each counted as often as its cell is placed."""
        return sum(v.placements for v in self.violations)

    @property
    def worst(self) -> float | None:
        """The measurement farthest on the wrong side of the limit."""
        if not self.violations:
            return None
        values = [v.value for v in self.violations]
        return min(values) if self.relation == ">=" else max(values)

    @property
    def by_cell(self) -> dict[str, tuple[int, int]]:
        """cell -> (violations in it, its placements on the wafer)."""
        out: dict[str, tuple[int, int]] = {}
        for v in self.violations:
            n, _ = out.get(v.cell, (0, v.placements))
            out[v.cell] = (n + 1, v.placements)
        return out

    @property
    def status(self) -> str:
        """``skipped``, ``ok``, or the severity of the violations found."""
        if self.skipped is not None:
            return "skipped"
        return self.severity if self.violations else "ok"


@dataclass(frozen=True)
class CheckReport:
    """A whole check: what was checked (``source``, its ``top`` cell, the ``tech``) and every
    rule's result, in deck order."""

    source: str
    top: str
    tech: str
    results: tuple[RuleResult, ...]

    @property
    def errors(self) -> int:
        return sum(r.count for r in self.results if r.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(r.count for r in self.results if r.severity == "warning")

    def failed(self, strict: bool = False) -> bool:
        """Any error (or, with ``strict``, any warning) found."""
        return self.errors > 0 or (strict and self.warnings > 0)

    def result(self, name: str) -> RuleResult:
        return next(r for r in self.results if r.name == name)
