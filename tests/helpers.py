"""Test helpers: a small valid spec, sample paths, and reading layouts back with KLayout."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import klayout.db as kdb

from masklayout.tech import load_tech

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# the sample specs: every samples/*.yaml but the process-variation files (run --variation)
SPEC_SAMPLES = sorted(p for p in SAMPLES.glob("*.yaml") if not p.name.startswith("variation_"))

# A small design on a 100 mm wafer: a 6 x 5 array (one site skipped), two routed pads,
# one bump directly on a pad. Line numbers matter to the error tests: keep its layout.
BASE_SPEC = """\
masklayout: 1
name: small
tech: wlcsp-400
wafer:
  diameter: 100 mm
  orientation: notch
  edge_exclusion: 3 mm
  die_step: [3080, 2680]
  scribe: 80
die:
  pads:
    - {name: VDD, at: [-1300, 1200], size: [80, 80]}
    - {name: GND, at: [1300, 1200], size: [80, 80]}
    - {name: IO, at: [1200, -1100], size: [260, 260]}
  bumps:
    - array: {pitch: 400, count: [6, 5], center: [-100, 0]}
      stack: std
      skip: [A1]
    - {name: X1, stack: std, on_pad: IO}
  rdl:
    width: 20
    routes:
      - {pad: VDD, bump: A2}
      - {pad: GND, bump: A6}
stacks:
  std:
    ubm: {shape: circle, diameter: 250}
    pi2: {diameter: 220}
    openings:
      - {mask: SM1, diameter: 270}
      - {mask: SM2, diameter: 350}
masks:
  SM1: {thickness: 60, film: photoresist, apply: spin_coat}
  SM2: {thickness: 100, film: dry_film, apply: laminate}
process:
  - {step: form_mask, mask: SM1}
  - {step: deposit, into: SM1, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: form_mask, mask: SM2}
  - {step: deposit, into: SM2, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: strip, masks: [SM1, SM2]}
"""


class GdsReader:
    """A GDS read back with KLayout, with deep (hierarchical) regions by layer name."""

    def __init__(self, path: Path, tech: str = "wlcsp-400"):
        self.layout = kdb.Layout()
        self.layout.read(str(path))
        self.top = self.layout.top_cell()
        self.layers = load_tech(tech).layers
        self.store = kdb.DeepShapeStore()

    def region(self, name: str, cell: kdb.Cell | None = None, flat: bool = False) -> kdb.Region:
        """Shapes of layer ``name`` under ``cell`` (default the top): hierarchical, or flat to
        combine with regions made in the test."""
        layer = self.layout.find_layer(*self.layers[name])
        if layer is None:
            return kdb.Region()
        shapes = (cell or self.top).begin_shapes_rec(layer)
        return kdb.Region(shapes) if flat else kdb.Region(shapes, self.store)

    def on_dies(self, name: str) -> kdb.Region:
        """Shapes of layer ``name`` inside the die outlines (not alignment marks or labels)."""
        return self.region(name).inside(self.region("DIE"))

    def cell(self, name: str) -> kdb.Cell:
        return self.layout.cell(name)

    def um(self, value: float) -> int:
        """A length in µm as database units."""
        return round(value / self.layout.dbu)


def _segment_distance(p, a, b) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _inside_convex(p, polygon) -> bool:
    signs = []
    for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        signs.append((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))
    return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)


def _polygon_distance(p, q) -> float:
    """Distance between two convex polygons, by hand: 0 when one holds a vertex of the other
    (enough here: the notch's apex or a die corner), else vertex to edge both ways."""
    if any(_inside_convex(v, q) for v in p) or any(_inside_convex(v, p) for v in q):
        return 0.0
    return min(
        _segment_distance(v, a, b)
        for one, other in ((p, q), (q, p))
        for v in one
        for a, b in zip(other, other[1:] + other[:1], strict=True)
    )


def full_dies(radius, exclusion, step, die, offset, notch) -> int:
    """Full dies of the grid through ``offset`` on a wafer of ``radius`` (µm), by brute force:
    all four corners inside the usable circle and, with a notch, at least the exclusion away
    from the SEMI notch (1 mm deep, 90°)."""
    usable = radius - exclusion
    apex = -radius + 1000.0  # SEMI notch: 1 mm deep, 90 degrees
    triangle = [(0.0, apex), (-2000.0, apex - 2000.0), (2000.0, apex - 2000.0)]
    hw, hh = die[0] / 2, die[1] / 2
    count = 0
    n = math.ceil(radius / min(step)) + 1
    for i, j in itertools.product(range(-n, n + 1), repeat=2):
        cx, cy = i * step[0] + offset[0], j * step[1] + offset[1]
        corners = [(cx - hw, cy - hh), (cx + hw, cy - hh), (cx + hw, cy + hh), (cx - hw, cy + hh)]
        if any(math.hypot(x, y) > usable for x, y in corners):
            continue
        if notch and _polygon_distance(corners, triangle) < exclusion:
            continue
        count += 1
    return count


def base_spec_dies() -> int:
    """Full dies of BASE_SPEC's wafer (100 mm, notch, 3 mm exclusion, 3080 x 2680 step, scribe
    80) at the best of the four die/street-centred offsets, counted by :func:`full_dies`."""
    step, die = (3080.0, 2680.0), (3000.0, 2600.0)
    offsets = itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2))
    return max(full_dies(50000.0, 3000.0, step, die, o, notch=True) for o in offsets)


# BASE_SPEC's bumps per die: a 6 x 5 array less A1, plus X1 on the IO pad
BASE_BUMPS_PER_DIE = 6 * 5 - 1 + 1
