"""Test helpers: a small valid spec, sample paths, and reading layouts back with KLayout."""

from __future__ import annotations

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
