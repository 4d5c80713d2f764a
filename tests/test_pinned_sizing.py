"""Sizer bounds pinned against hand arithmetic (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import pytest

from masklayout.sizing import bounds
from tests.process_specs import design


def test_an_opening_is_bounded_by_the_enclosure_margin_on_both_sides_of_its_neighbours():
    """SM1 300 under SM2 360, rule SM2.EN.SM1 = 10 um (tech wlcsp-400): SM1 may grow to
    360 - 2 x 10 = 340 (10 um left on each side), and SM2 must be at least 300 + 2 x 10 = 320."""
    d = design(sm1=300, sm2=360)
    top = [b for b in bounds(d, "std", 0) if b.rule == "SM2.EN.SM1"]
    assert [(b.side, b.diameter_um) for b in top] == [("max", pytest.approx(340.0))]
    low = [b for b in bounds(d, "std", 1) if b.rule == "SM2.EN.SM1"]
    assert [(b.side, b.diameter_um) for b in low] == [("min", pytest.approx(320.0))]
