"""Spec validation behaviours pinned against hand arithmetic (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import pytest

from masklayout import spec
from masklayout.source import SpecError
from tests.helpers import BASE_SPEC

# BASE_SPEC's die: step 3080 x 2680 less the 80 um scribe = 3000 x 2600, centred at (0, 0);
# the std UBM is a 250 um circle (it reaches 125 um from its centre along x and y).
HALF_W, HALF_H, UBM_HALF = 1500.0, 1300.0, 125.0
EXTRA = "    - {name: X1, stack: std, on_pad: IO}\n"


def _with_bump(x: float, y: float) -> str:
    return BASE_SPEC.replace(EXTRA, EXTRA + f"    - {{name: T1, stack: std, at: [{x:g}, {y:g}]}}\n")


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (0, HALF_H - UBM_HALF + 25),  # top edge: 1200 + 125 = 1325 > 1300
        (0, -(HALF_H - UBM_HALF + 25)),  # bottom edge
        (HALF_W - UBM_HALF + 25, 0),  # right edge: 1400 + 125 = 1525 > 1500
        (-(HALF_W - UBM_HALF + 25), 0),  # left edge
    ],
)
def test_a_ubm_reaching_past_any_die_edge_is_refused(x: float, y: float):
    with pytest.raises(SpecError, match=r"die\.bumps\[2\]: bump T1 \(.*\) with UBM circle 250 reaches outside the die"):  # fmt: skip
        spec.loads(_with_bump(x, y), "spec.yaml")


@pytest.mark.parametrize(("x", "y"), [(0, HALF_H - UBM_HALF), (0, -(HALF_H - UBM_HALF))])
def test_a_ubm_touching_the_die_edge_from_inside_is_accepted(x: float, y: float):
    """1175 + 125 = 1300: the UBM ends exactly on the edge, inside the die."""
    site = spec.loads(_with_bump(x, y), "spec.yaml").site("T1")
    assert (site.x, site.y) == (x, y)
