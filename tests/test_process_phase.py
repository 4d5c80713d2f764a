"""Phase equilibrium by the lever rule, against the phase-diagram points of DESIGN.md §7 worked
by hand here, and the construction of the fitted liquidus branches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from masklayout.process.phase import SYSTEMS, equilibrium, fitted_branch

# DESIGN.md §7: Sn-Pb liquidus, wt% Sn -> °C (Pb side), eutectic 183 °C at 61.9 wt% Sn
DESIGN_PB_SIDE = {30: 255, 35: 247, 40: 238, 45: 227, 50: 216, 60: 190, 61.9: 183}


def test_lever_rule_in_the_pb_rich_two_phase_field():
    """Pb-40Sn at 220 °C: the liquid lies on the liquidus between 45 (227) and 50 wt% Sn (216);
    the solid (Pb) on its boundary from 18.3 wt% Sn at 183 °C to Pb90Sn10's solidus, 268 °C."""
    xl = 45 + 5 * (227 - 220) / (227 - 216)
    xs = 18.3 + (10 - 18.3) * (220 - 183) / (268 - 183)
    expected = (40 - xs) / (xl - xs)
    state = equilibrium({"Sn": 40, "Pb": 60}, 220)
    assert state.system == "Pb-Sn"
    assert state.liquid_fraction == pytest.approx(expected, rel=1e-9)
    assert state.liquidus == pytest.approx(238)
    assert state.solidus == pytest.approx(183)


def test_liquid_and_solid_hold_all_the_tin():
    system = SYSTEMS[frozenset(("Pb", "Sn"))]
    x = np.linspace(20, 60, 9)
    fraction, xl = system.liquid_fraction(x, 200.0)
    xs = 18.3 + (10 - 18.3) * (200 - 183) / (268 - 183)
    assert np.allclose(fraction * xl + (1 - fraction) * xs, x)


@pytest.mark.parametrize(("composition", "below", "above"), [
    ({"Sn": 61.9, "Pb": 38.1}, 182.9, 183.0),
    ({"Sn": 43, "Bi": 57}, 138.9, 139.0),
    ({"Sn": 96.5, "Ag": 3.5}, 220.9, 221.0),
])  # fmt: skip
def test_a_eutectic_melts_whole_at_its_temperature_and_not_below(composition, below, above):
    assert equilibrium(composition, below).liquid_fraction == 0.0
    assert equilibrium(composition, above).liquid_fraction == 1.0


def test_the_fitted_branch_runs_from_the_pure_metal_to_the_eutectic():
    points = fitted_branch("Pb", "Sn", (61.9, 183.0))
    assert points[0] == (0.0, pytest.approx(327.46))
    assert points[-1] == (61.9, 183.0)
    assert all(t1 > t2 for (_, t1), (_, t2) in zip(points, points[1:], strict=False))


def test_the_fitted_branch_is_within_its_stated_error_where_the_diagram_is_tabulated():
    """The module states 4 °C on the Pb side of Sn-Pb for the ideal-solution branch fitted
    through the eutectic; check it against the DESIGN points by hand-interpolating the branch."""
    xs, ts = np.array(fitted_branch("Pb", "Sn", (61.9, 183.0))).T
    for x, t in DESIGN_PB_SIDE.items():
        assert abs(np.interp(x, xs, ts) - t) <= 4.0, (x, t)


def test_ideal_branch_point_by_the_schroeder_van_laar_equation():
    """Sn-Bi, Sn side: k from the eutectic (57 wt% Bi, 139 °C), then Sn-29Bi by hand."""

    def mole_bi(w):
        return (w / 208.98) / (w / 208.98 + (100 - w) / 118.71)

    tm, te = 231.93 + 273.15, 139 + 273.15
    k = -math.log(1 - mole_bi(57)) / (1 / te - 1 / tm)
    t29 = 1 / (1 / tm - math.log(1 - mole_bi(29)) / k) - 273.15
    state = equilibrium({"Sn": 71, "Bi": 29}, 300)
    assert state.liquidus == pytest.approx(t29, abs=0.3)  # the branch is tabulated in 24 points


def test_sac_and_snbi_mixed_half_and_half_melt_near_195_not_at_the_mean():
    """Issue 11: SAC305 + Sn42Bi58 50/50 melts at about 195-200 °C; the mass-weighted mean of
    the alloys' liquidus (179 °C) is far off. The fitted branch's stated error is 8 °C."""
    mix = {"Sn": 0.5 * 96.5 + 0.5 * 42, "Ag": 1.5, "Cu": 0.25, "Bi": 29}
    state = equilibrium(mix, 250)
    assert state.system == "Sn-Bi"
    assert abs(state.liquidus - 197.5) <= 8.0
    assert state.liquidus > 0.5 * 220 + 0.5 * 138 + 10


@pytest.mark.parametrize("mix", [
    {"Bi": 50, "Pb": 50},              # no Bi-Pb diagram
    {"Sn": 60, "Pb": 30, "Bi": 10},    # 10 wt% beyond the main binary
    {"Sn": 95, "Cu": 5},               # hypereutectic Sn-Cu: not tabulated
])  # fmt: skip
def test_a_mix_no_diagram_covers_is_reported_not_guessed(mix):
    state = equilibrium(mix, 250)
    assert state.system is None and math.isnan(state.liquidus)
    assert state.note.startswith("not covered")


def test_run_says_when_no_diagram_covers_the_ball(tmp_path):
    """SnBi paste on In powder: no In-Bi-Sn diagram here, so the run says it bounds the melting
    range by the alloys' instead of printing an invented liquidus."""
    from masklayout.process import run
    from tests.process_specs import design

    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: In-powder}",
        "{step: form_mask, mask: SM2}",
        "{step: deposit, into: SM2, solder: SnBi-paste-T6}",
        "{step: reflow, peak: 200}",
        "{step: strip, masks: [SM1, SM2]}",
    ]
    result = run(design(flow))
    notes = [w for w in result.warnings if "not covered" in w]
    assert notes and "bounded by its alloys'" in notes[0]


def test_the_composite_core_dissolves_to_the_lever_rule_share():
    """Claim 4 sample: Pb95Sn5 reflowed first, then Sn63Pb37 at 220 °C. The melt dissolves the
    Pb-rich core until the site is at equilibrium: the solid keeps 1 - fL of the mass, fL from
    the lever rule on the DESIGN.md diagram at 220 °C (liquid on the liquidus between 45 wt% Sn
    (227 °C) and 50 (216); solid on the (Pb) boundary between 18.3 (183) and 10 (268))."""
    from masklayout.process import run
    from masklayout.spec import load
    from tests.helpers import SAMPLES

    stack = run(load(SAMPLES / "flow_c4_composite.yaml")).stacks[0]
    deposits = [s for s in stack.steps if s.step == "deposit"]
    pb95 = deposits[0].metal_volume_um3 * 11.03  # µm³ · g/cm³
    sn63 = deposits[1].metal_volume_um3 * 8.40
    x0 = (5 * pb95 + 63 * sn63) / (pb95 + sn63)
    xl = 45 + 5 * (227 - 220) / (227 - 216)
    xs = 18.3 + (10 - 18.3) * (220 - 183) / (268 - 183)
    solid_share = 1 - (x0 - xs) / (xl - xs)
    assert 0 < solid_share < pb95 / (pb95 + sn63)  # some of the core went into the melt
    assert stack.ball.composite and stack.ball.core is not None
    core_mass = stack.ball.core.volume_um3 * 11.03
    assert core_mass / (pb95 + sn63) == pytest.approx(solid_share, rel=1e-6)


def test_rows_of_different_binaries_are_read_off_their_own_diagrams_in_one_call():
    """The Monte Carlo hands thousands of distinct mixes over at once: each row gets its own
    diagram's answer, whatever the rows around it (hand values as in the tests above)."""
    from masklayout.process.phase import equilibria

    xl = 45 + 5 * (227 - 220) / (227 - 216)
    xs = 18.3 + (10 - 18.3) * (220 - 183) / (268 - 183)
    pb40sn = (40 - xs) / (xl - xs)
    names = ["Bi", "Pb", "Sn", "Ag"]
    rows = {  # Bi, Pb, Sn, Ag (any unit: rows are normalised) -> liquid fraction at 220 °C
        (0, 60, 40, 0): pb40sn,
        (0, 30, 20, 0): pb40sn,  # the same mix, half the mass
        (57, 0, 43, 0): 1.0,  # Sn-Bi eutectic (139 °C), whole molten
        (0, 0, 100, 0): 0.0,  # pure Sn, below 231.9 °C
        (50, 50, 0, 0): math.nan,  # no Bi-Pb diagram
        (0, 0, 96.5, 3.5): 0.0,  # Sn-Ag eutectic (221 °C), not yet
    }
    shuffle = np.random.default_rng(0).permutation(3 * len(rows))
    wt = np.array(list(rows) * 3, dtype=float)[shuffle]
    expected = np.array(list(rows.values()) * 3)[shuffle]
    got = equilibria(wt, names, 220.0).liquid_fraction
    assert np.allclose(got, expected, rtol=1e-9, equal_nan=True)
