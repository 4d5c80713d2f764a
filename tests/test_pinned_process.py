"""Process behaviours pinned against hand calculations (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from masklayout import spec
from masklayout.process import run
from masklayout.process.solder import liquidus, mix_notes, solidus
from masklayout.source import SpecError
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC
from tests.process_specs import design

TECH = load_tech("wlcsp-400")


# --------------------------------------------------------------------------- mixes
def test_a_mix_no_diagram_covers_melts_between_its_alloys_lowest_solidus_and_highest_liquidus():
    """In with Pb95Sn5 (half and half by mass: 50 In, 47.5 Pb, 2.5 Sn wt%): no In-Pb diagram.
    All is molten only above the higher liquidus (Pb95Sn5's 312 °C), and melting may start at
    the lower solidus (In's 157 °C)."""
    alloys = [TECH.alloys["In"], TECH.alloys["Pb95Sn5"]]
    mass = np.array([[1.0, 1.0]])
    assert "not covered" in mix_notes(mass, alloys)[0]
    assert liquidus(mass, alloys)[0] == pytest.approx(312.0)
    assert solidus(mass, alloys)[0] == pytest.approx(157.0)


def test_minor_elements_count_with_the_most_abundant_element_on_the_sn_side_too():
    """SAC305 and Sn63Pb37, half and half by mass: Sn (96.5 + 63) / 2 = 79.75, Pb 18.5, Ag 1.5,
    Cu 0.25 wt%. Sn, the most abundant, is the Pb-Sn diagram's B side: the 1.75 wt% Ag + Cu
    count with it, 81.5 wt% Sn, on the Sn-side liquidus branch from the eutectic (61.9, 183) to
    (90, 213) of DESIGN.md §7."""
    alloys = [TECH.alloys["SAC305"], TECH.alloys["Sn63Pb37"]]
    x = 79.75 + 1.5 + 0.25
    expected = 183.0 + (x - 61.9) * (213.0 - 183.0) / (90.0 - 61.9)
    assert liquidus(np.array([[1.0, 1.0]]), alloys)[0] == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------- the flow
FILL_TWICE = [
    "{step: form_mask, mask: SM1}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6}",
    "{step: reflow, peak: 245}",
    "{step: strip, masks: [SM1]}",
]


def test_a_second_deposit_into_a_cavity_already_filled_is_refused_until_a_reflow():
    with pytest.raises(SpecError, match=r"process\[2\]\.into: the SM1 cavity is already full"):
        run(design(FILL_TWICE))
    reflowed = [*FILL_TWICE[:2], "{step: reflow, peak: 245}", *FILL_TWICE[2:]]
    assert run(design(reflowed)).stacks[0].ball.diameter_um > 0


# --------------------------------------------------------------------------- neighbours
BIG_STACK = """\
  big:
    ubm: {shape: circle, diameter: 250}
    pi2: {diameter: 220}
    openings:
      - {mask: SM1, diameter: 300}
      - {mask: SM2, diameter: 420}
masks:
"""
EXTRA = "    - {name: X1, stack: std, on_pad: IO}\n"


def test_the_gap_between_balls_of_two_sizes_is_the_centre_distance_less_both_radii():
    """One "big" bump G1 at (1350, 0), 450 um right of the std array's bump at (900, 0) (columns
    at -100 + (k - 2.5) x 400); the std bumps are 400 apart. Gap = distance - (d1 + d2) / 2."""
    text = BASE_SPEC.replace(EXTRA, EXTRA + "    - {name: G1, stack: big, at: [1350, 0]}\n")
    result = run(spec.loads(text.replace("masks:\n", BIG_STACK, 1), "spec.yaml"))
    by_name = {s.name: s for s in result.stacks}
    d_std, d_big = by_name["std"].ball.diameter_um, by_name["big"].ball.diameter_um
    assert d_big > d_std + 10  # two sizes, else the test proves nothing

    def widths(name: str) -> dict[int, float]:  # molten at each reflow's peak, and cooled (-1)
        steps = by_name[name].steps
        return {-1: by_name[name].ball.diameter_um} | {
            s.index: s.peak.diameter_um for s in steps if s.peak is not None
        }

    # bodies molten at the same peak bridge: the narrowest of the peaks' and the cooled gaps
    std, big = widths("std"), widths("big")
    assert len(std) > 2  # two reflows
    gaps = [450.0 - (std[r] + big[r]) / 2 for r in std]
    big_to_std = min(gaps)
    assert big_to_std < gaps[0]  # a melt is wider than its cooled ball
    d_std = max(std.values())
    assert by_name["big"].gap_um == pytest.approx(big_to_std, abs=1e-6)
    assert by_name["big"].pitch_um == pytest.approx(450.0)
    assert by_name["std"].gap_um == pytest.approx(min(400.0 - d_std, big_to_std), abs=1e-6)
    assert math.isclose(by_name["std"].pitch_um, 400.0)
