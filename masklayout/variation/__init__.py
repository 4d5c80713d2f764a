"""Process variation (issue 11, point 6): a Monte Carlo over every site of the wafer through the
step runner, with mask thickness, opening CD, fill and paste metal content drawn per die and
per site; ball height and diameter spread, per-die coplanarity, Cpk and bridging probability.
"""

from masklayout.variation.model import Variation, VariationFile, load, loads
from masklayout.variation.montecarlo import (
    StackStats,
    VariationResult,
    WallTouch,
    Worst,
    monte_carlo,
)

__all__ = [
    "StackStats",
    "Variation",
    "VariationFile",
    "VariationResult",
    "WallTouch",
    "Worst",
    "load",
    "loads",
    "monte_carlo",
]
