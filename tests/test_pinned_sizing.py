"""Sizer bounds pinned against hand arithmetic (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import pytest

from masklayout import spec
from masklayout.process import run
from masklayout.sizing import bounds, size
from tests.process_specs import design, spec_text


def test_an_opening_is_bounded_by_the_enclosure_margin_on_both_sides_of_its_neighbours():
    """SM1 300 under SM2 360, rule SM2.EN.SM1 = 10 um (tech wlcsp-400): SM1 may grow to
    360 - 2 x 10 = 340 (10 um left on each side), and SM2 must be at least 300 + 2 x 10 = 320."""
    d = design(sm1=300, sm2=360)
    top = [b for b in bounds(d, "std", 0) if b.rule == "SM2.EN.SM1"]
    assert [(b.side, b.diameter_um) for b in top] == [("max", pytest.approx(340.0))]
    low = [b for b in bounds(d, "std", 1) if b.rule == "SM2.EN.SM1"]
    assert [(b.side, b.diameter_um) for b in low] == [("min", pytest.approx(320.0))]


def test_an_opening_is_at_least_its_mask_thickness_over_the_films_aspect_ratio():
    """SM.AR caps thickness / width at 0.8 for dry film (SM1 here, 40 um thick) and 1.0 for
    photoresist (SM2, 120 um): SM1 at least 40 / 0.8 = 50 um, SM2 at least 120 / 1.0."""
    d = design(t1=40, t2=120)
    (sm1,) = [b for b in bounds(d, "std", 0) if b.rule == "SM.AR:SM1"]
    assert (sm1.side, sm1.diameter_um) == ("min", pytest.approx(40 / 0.8))
    (sm2,) = [b for b in bounds(d, "std", 1) if b.rule == "SM.AR:SM2"]
    assert (sm2.side, sm2.diameter_um) == ("min", pytest.approx(120 / 1.0))


def test_the_web_bound_reaches_the_openings_of_the_dies_above_and_below():
    """One bump per die, dies stepped 2000 across and 700 up: the nearest SM2 opening is the one
    of the die above, 700 um away. SM.WEB leaves 30 um of photoresist (SM2's film): SM2 may
    grow to 700 - 30 = 670 um, not to the 2000 - 30 the dies beside allow."""
    text = spec_text(count=(1, 1)).replace("die_step: [880, 880]", "die_step: [2000, 700]")
    d = spec.loads(text, "spec.yaml")
    (web,) = [b for b in bounds(d, "std", 1) if b.rule == "SM.WEB:SM2"]
    assert (web.side, web.diameter_um) == ("max", pytest.approx(700.0 - 30.0))


def test_a_solved_opening_too_small_for_its_mask_thickness_is_warned_it_may_not_fill():
    """SM2 200 um of photoresist, solved near 360 um: a circle's area ratio A / (P t) is
    d / (4 t), about 0.45, below SM.PRINT's 0.66: the solution carries the warning."""
    d = design(t2=200)
    target = run(d).stacks[0].ball.diameter_um
    solved = size(d, "std", "diameter", target)
    ratio = solved.diameter_um / (4 * 200.0)
    assert ratio < 0.66
    assert any(f"area ratio {ratio:.2f} < 0.66" in w for w in solved.warnings), solved.warnings
