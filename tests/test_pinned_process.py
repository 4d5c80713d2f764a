"""Process behaviours pinned against hand calculations (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from masklayout import spec
from masklayout.geometry.wafer import place_dies
from masklayout.process import run
from masklayout.process.flow import plan_flow
from masklayout.process.phase import equilibrium
from masklayout.process.solder import liquidus, mix_notes, solidus
from masklayout.source import SpecError
from masklayout.tech import load_tech
from masklayout.variation import loads as variation_loads
from masklayout.variation import monte_carlo
from tests.helpers import BASE_SPEC
from tests.process_specs import (
    ONE_PRINT,
    bisect_cap_height,
    circle_area,
    design,
    exposed_width,
    sac305_fraction,
    spec_text,
)

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

    def widths(name: str) -> dict[int, float]:  # cooled (-1), and molten at each reflow's
        # peak by what stands above the masks' top (SM1 60, then SM1 + SM2 160; BASE_SPEC)
        peaks = [s for s in by_name[name].steps if s.peak is not None]
        return {-1: by_name[name].ball.diameter_um} | {
            s.index: exposed_width(s.peak.shape, plane)
            for s, plane in zip(peaks, (60.0, 160.0), strict=True)
        }

    # bodies molten at the same peak bridge: the narrowest of the peaks' and the cooled gaps
    std, big = widths("std"), widths("big")
    assert len(std) > 2  # two reflows
    gaps = [450.0 - (std[r] + big[r]) / 2 for r in std]
    big_to_std = min(g for g in gaps if not math.isnan(g))
    d_std = max(d for d in std.values() if not math.isnan(d))
    assert by_name["big"].gap_um == pytest.approx(big_to_std, abs=1e-6)
    assert by_name["big"].pitch_um == pytest.approx(450.0)
    assert by_name["std"].gap_um == pytest.approx(min(400.0 - d_std, big_to_std), abs=1e-6)
    assert math.isclose(by_name["std"].pitch_um, 400.0)


def test_the_phase_note_names_the_element_the_minor_elements_are_counted_with():
    """Sn 80, Pb 18, Ag 2 wt%: on the Pb-Sn diagram Sn is B; the 2 wt% Ag goes with Sn, the
    most abundant (82 wt% Sn), and the note must say so, not name the A side (Pb). With Pb the
    most abundant (Pb 80, Sn 18, Ag 2) the Ag goes with Pb: 18 wt% Sn."""
    sn_rich = equilibrium({"Sn": 80.0, "Pb": 18.0, "Ag": 2.0}, 250.0)
    assert sn_rich.note == "Pb-Sn at 82.0 wt% Sn (2.0 wt% other elements counted with Sn)"
    pb_rich = equilibrium({"Pb": 80.0, "Sn": 18.0, "Ag": 2.0}, 250.0)
    assert pb_rich.note == "Pb-Sn at 18.0 wt% Sn (2.0 wt% other elements counted with Pb)"


def test_the_wafer_weighs_its_paste_as_metal_plus_flux_by_their_volumes():
    """C1 prints SAC305 paste twice: of the paste volume a fraction f (88 wt% metal at 7.38
    g/cm3 in flux of 1.0, by hand) is metal, the rest flux. Grams = mm3 x 1e-3 cm3/mm3 x
    (f x 7.38 + (1 - f) x 1.0); the metal volume is f of the paste's."""
    totals = run(design()).wafer
    paste_mm3 = totals.solder_mm3["SAC305-paste-T6"]
    f = sac305_fraction()
    assert totals.metal_mm3 == pytest.approx(f * paste_mm3, rel=1e-9)
    expected = paste_mm3 * 1e-3 * (f * 7.38 + (1 - f) * 1.0)
    assert totals.solder_g["SAC305-paste-T6"] == pytest.approx(expected, rel=1e-9)


def test_the_height_sigma_is_the_sample_standard_deviation_of_every_site_sample():
    """A radial thickness profile (0 % at the centre, -10 % at the edge, quadratic) and nothing
    random, on a 20 mm wafer (a few tens of dies): every site's height is the hand cap height
    for its thickness; the reported sigma is the sample (n - 1) standard deviation of them all."""
    t0, edge, pitch = 100.0, -0.10, 400.0
    text = spec_text(ONE_PRINT, t1=t0, sm1=300.0, ubm=250.0, pitch=pitch)
    d = spec.loads(text.replace("diameter: 100 mm", "diameter: 20 mm"), "spec.yaml")
    var = "masks:\n  SM1: {thickness: {profile: {center: 0 %, edge: -10 %}}}\n"
    result = monte_carlo(d, variation_loads(var, d, plan_flow(d), "var.yaml").variation)
    a = math.sqrt(circle_area(250.0) / math.pi)
    heights = [
        bisect_cap_height(
            circle_area(300.0)
            * t0
            * (1 + edge * (math.hypot(cx + x, cy + y) / 10000.0) ** 2)
            * sac305_fraction(),
            a,
        )
        for cx, cy in place_dies(d.spec.wafer).centers
        for x in (-pitch, 0.0, pitch)
        for y in (-pitch, 0.0, pitch)
    ]
    assert 100 < len(heights) < 1000  # n - 1 and n differ by over 0.05 %
    s = result.stacks[0]
    assert s.site_samples == len(heights)
    assert s.mean_height == pytest.approx(statistics.mean(heights), rel=1e-5)
    assert s.sigma_height == pytest.approx(statistics.stdev(heights), rel=1e-4)
