"""The step runner on cases known by hand: volumes from the written polygons, the cavity less
what is inside it, reflow to the cap, composite balls, confinement, the checks, the wafer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from masklayout.geometry.wafer import place_dies
from masklayout.process import balls, run, simulate, stack_geometry
from masklayout.process.flow import plan_flow
from masklayout.spec import load
from tests.process_specs import (
    C1_FLOW,
    DISPENSE_FILL,
    PRINT_FILL,
    SAMPLES,
    bisect_cap_height,
    circle_area,
    design,
    sac305_fraction,
)

ONE_MASK = [
    "{step: form_mask, mask: SM1}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6}",
    "{step: reflow, peak: 245}",
    "{step: strip, masks: [SM1]}",
]
C15 = [
    "{step: form_mask, mask: SM1}",
    "{step: form_mask, mask: SM2}",
    "{step: deposit, into: SM1, solder: SAC305-paste-T6, method: dispense}",
    "{step: deposit, into: SM2, solder: SAC305-paste-T6}",
    "{step: reflow, peak: 245}",
    "{step: strip, masks: [SM1, SM2]}",
]


GRID = 1e-5  # relative: written vertices sit on the 1 nm grid, the hand formula's do not


def _step(result, index):
    return next(s for s in result.stacks[0].steps if s.index == index)


def _sphere(volume: float, a: float) -> tuple[float, float, float]:
    """(h, R, height of the centre) by bisection."""
    h = bisect_cap_height(volume, a)
    r = (a * a + h * h) / (2 * h)
    return h, r, h - r


@pytest.mark.parametrize(("ubm", "sm1"), [(250, 300), (320, 300)])
def test_cylinder_of_paste_reflows_to_the_cap_height_within_0_1_percent(ubm, sm1):
    t1 = 40
    result = run(design(ONE_MASK, ubm=ubm, sm1=sm1, sm2=sm1 + 60, t1=t1))
    metal = PRINT_FILL * circle_area(sm1) * t1 * sac305_fraction()
    a = math.sqrt(min(circle_area(ubm), circle_area(sm1)) / math.pi)  # the smaller wets
    ball = result.stacks[0].ball
    assert ball.volume_um3 == pytest.approx(metal, rel=GRID)
    assert ball.height_um == pytest.approx(bisect_cap_height(metal, a), rel=1e-3)
    assert ball.base_diameter_um == pytest.approx(2 * a, rel=GRID)


def test_claim_1_second_deposit_is_the_cavity_less_the_pre_solder_body_rising_above_sm1():
    t1, t2 = 40, 120
    result = run(design(C1_FLOW, t1=t1, t2=t2))
    a1, a2 = circle_area(300), circle_area(360)
    body = PRINT_FILL * a1 * t1 * sac305_fraction()
    assert bisect_cap_height(body, math.sqrt(circle_area(250) / math.pi)) > t1  # rises above SM1
    assert _step(result, 2).cap.volume_um3 == pytest.approx(body, rel=GRID)
    second = PRINT_FILL * (a1 * t1 + a2 * t2 - body)
    assert _step(result, 4).paste_volume_um3 == pytest.approx(second, rel=GRID)
    ball = result.stacks[0].ball
    assert ball.volume_um3 == pytest.approx(body + second * sac305_fraction(), rel=GRID)


def test_only_the_part_of_the_body_below_the_top_of_the_mask_is_subtracted():
    t1, t2 = 40, 8  # the pre-solder body pokes out above SM2 too
    result = run(design(C1_FLOW, t1=t1, t2=t2))
    body = PRINT_FILL * circle_area(300) * t1 * sac305_fraction()
    h, r, zc = _sphere(body, math.sqrt(circle_area(250) / math.pi))
    assert h > t1 + t2
    z = np.linspace(0, t1 + t2, 200_001)
    inside = np.trapezoid(np.pi * (r * r - (z - zc) ** 2), z)  # numerically, by slices
    cavity = circle_area(300) * t1 + circle_area(360) * t2
    assert _step(result, 4).paste_volume_um3 == pytest.approx(
        PRINT_FILL * (cavity - inside), rel=GRID
    )


def test_claim_15_second_deposit_fills_only_the_second_opening():
    result = run(design(C15, t1=50, t2=100))
    first = DISPENSE_FILL * circle_area(300) * 50  # dispensed under SM2
    assert _step(result, 2).paste_volume_um3 == pytest.approx(first, rel=GRID)
    # printed on top: the second opening, and what the first deposit left unfilled below it
    second = PRINT_FILL * (circle_area(300) * 50 - first + circle_area(360) * 100)
    assert _step(result, 3).paste_volume_um3 == pytest.approx(second, rel=GRID)
    assert _step(result, 3).paste[0].mask == "SM1"  # both deposits stand before the reflow
    assert len(_step(result, 3).paste) == 2


def test_a_fill_factor_scales_the_deposit():
    flow = list(ONE_MASK)
    flow[1] = "{step: deposit, into: SM1, solder: SAC305-paste-T6, fill: 0.8}"
    result = run(design(flow))
    assert _step(result, 1).paste_volume_um3 == pytest.approx(0.8 * circle_area(300) * 40, rel=GRID)


def test_a_square_base_wets_its_equal_area_circle():
    result = run(design(ONE_MASK, shape="square", ubm=230, sm1=260, sm2=300))
    assert result.stacks[0].ball.base_diameter_um == pytest.approx(2 * 0.5642 * 230, rel=1e-4)
    assert _step(result, 1).paste_volume_um3 == pytest.approx(PRINT_FILL * 260 * 260 * 40)


def test_high_melting_first_solder_below_its_liquidus_gives_a_composite_ball():
    result = run(load(SAMPLES / "flow_c4_composite.yaml"))
    stack = result.stacks[0]
    first, second = _step(result, 1), _step(result, 4)
    ball = stack.ball
    assert ball.composite
    # the melt dissolves part of the core (how much: test_process_phase's lever rule)
    assert 0 < ball.core.volume_um3 < 0.5 * first.metal_volume_um3
    assert ball.volume_um3 == pytest.approx(first.metal_volume_um3 + second.metal_volume_um3)
    m1, m2 = first.metal_volume_um3 * 11.03, second.metal_volume_um3 * 8.40  # Pb95Sn5, Sn63Pb37
    assert ball.composition_wt["Sn"] == pytest.approx((0.05 * m1 + 0.63 * m2) / (m1 + m2) * 100)
    assert ball.core_composition_wt["Pb"] == pytest.approx(95)
    assert ball.core_liquidus_c == 312
    assert _step(result, 5).solid == ("pre-solder body",)
    assert any("composite ball (claim 4)" in w for w in result.warnings)
    assert result.ok


def test_a_second_reflow_above_both_liquidus_fuses_into_one_ball():
    text = (SAMPLES / "flow_c4_composite.yaml").read_text()
    text = text.replace("{step: reflow, peak: 220}", "{step: reflow, peak: 340}")
    text = text.replace("apply: laminate}", "apply: laminate, max_temperature: 350}")  # SM2 too
    from masklayout.spec import loads

    ball = run(loads(text, "c4.yaml")).stacks[0].ball
    assert not ball.composite
    assert ball.core is None


def test_a_molten_cap_wider_than_the_first_opening_is_confined_by_it():
    t1 = 40
    result = run(design(C1_FLOW, sm1=260, t1=t1))
    a = math.sqrt(circle_area(250) / math.pi)
    final = _step(result, 5).cap
    h, r, zc = _sphere(final.volume_um3, a)
    reach = math.sqrt(r * r - (min(max(zc, 0), t1) - zc) ** 2)  # widest within SM1
    assert reach > 130  # by hand: the cap bulges over SM1's wall
    assert _step(result, 5).confined_by == "SM1"
    assert _step(result, 2).confined_by is None  # the pre-solder body is a flat cap
    assert any("confined by SM1" in w for w in result.warnings)


def test_stripping_before_the_reflow_frees_the_ball():
    flow = C1_FLOW[:5] + ["{step: strip, masks: [SM1, SM2]}", "{step: reflow, peak: 245}"]
    result = run(design(flow, sm1=260))
    assert _step(result, 6).confined_by is None
    assert not any("confined" in w for w in result.warnings)


def test_a_solder_no_reflow_melts_is_an_unmelted_flow():
    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: Sn63Pb37-paste-T6}",
        "{step: reflow, peak: 215}",
        "{step: form_mask, mask: SM2}",
        "{step: deposit, into: SM2, solder: SAC305-paste-T6}",
        "{step: reflow, peak: 200}",  # melts the eutectic body, not the SAC305 (220 °C)
        "{step: strip, masks: [SM1, SM2]}",
    ]
    result = run(design(flow))
    assert not result.ok
    assert result.stacks[0].unmelted
    assert result.stacks[0].ball.unmelted_um3 == pytest.approx(_step(result, 4).paste_volume_um3)
    assert any("never melts" in f and "unmelted flow" in f for f in result.failures)


STRIP_THEN_REFLOW = C1_FLOW[:5] + ["{step: strip, masks: [SM1, SM2]}", "{step: reflow, peak: 245}"]


def test_balls_wider_than_pitch_less_gap_bridge():
    # reflowed after the strip, the ball is a free cap on the UBM (in the masks, SM1's wall
    # would hold it to 260 µm)
    result = run(design(STRIP_THEN_REFLOW, pitch=300, sm1=260, sm2=290, t2=180))
    stack = result.stacks[0]
    assert stack.pitch_um == pytest.approx(300)
    # the narrowest space is the molten balls' at the last reflow's peak (wider than cooled)
    assert stack.ball.peak is not None
    assert stack.gap_um == pytest.approx(300 - stack.ball.peak.diameter_um)
    assert stack.bridging_at == 6
    assert stack.ball.diameter_um + 40 > 300
    assert stack.bridging
    assert any("bridge" in f for f in result.failures)


def test_wafer_totals_are_ball_times_sites_on_the_wafer():
    d = design(C1_FLOW)
    result = run(d)
    dies = len(place_dies(d.spec.wafer).centers)
    stack = result.stacks[0]
    assert stack.sites_per_die == 9
    assert stack.sites_on_wafer == 9 * dies
    assert result.wafer.metal_mm3 == pytest.approx(stack.ball.volume_um3 * 9 * dies / 1e9)
    sn_g = stack.ball.volume_um3 * 7.38 * 0.965 * 1e-12 * 9 * dies
    assert result.wafer.element_g["Sn"] == pytest.approx(sn_g)


def test_candidate_stacks_give_their_balls_and_a_larger_opening_a_larger_ball():
    d = design(C1_FLOW)
    std = d.spec.stacks["std"]
    wider = std.model_copy(
        update={"openings": [std.openings[0], std.openings[1].model_copy(update={"diameter": 380})]}
    )
    mine, big = balls(d, [std, wider])
    assert mine.diameter_um == pytest.approx(run(d).stacks[0].ball.diameter_um)
    assert big.volume_um3 > mine.volume_um3


def test_vectorised_rows_equal_one_row_at_a_time():
    d = design(C1_FLOW)
    std = d.spec.stacks["std"]
    rng = np.random.default_rng(7)
    stacks = [
        std.model_copy(
            update={
                "openings": [
                    std.openings[0].model_copy(update={"diameter": float(d1)}),
                    std.openings[1].model_copy(update={"diameter": float(d1 + d2)}),
                ]
            }
        )
        for d1, d2 in zip(rng.uniform(255, 320, 20), rng.uniform(20, 80, 20), strict=True)
    ]
    plan = plan_flow(d)
    together = simulate(stack_geometry(stacks, d.spec.masks, plan.masks, d.tech), plan, d.tech)
    alone = [
        simulate(stack_geometry([s], d.spec.masks, plan.masks, d.tech), plan, d.tech)
        for s in stacks
    ]
    np.testing.assert_allclose(together.diameter, [a.diameter[0] for a in alone], rtol=1e-12)
    np.testing.assert_allclose(together.volume, [a.volume[0] for a in alone], rtol=1e-12)


def test_a_peak_between_solidus_and_liquidus_says_the_paste_is_only_partly_molten():
    flow = list(ONE_MASK)
    flow[2] = "{step: reflow, peak: 218}"  # SAC305: solidus 217, liquidus 220
    result = run(design(flow))
    assert not result.ok
    (failure,) = result.failures
    assert "partly molten" in failure and "217" in failure and "220" in failure
    assert "unmelted flow" in failure


def test_a_body_between_solidus_and_liquidus_is_reported_partly_molten_and_kept_solid():
    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: Pb90Sn10-paste-T6}",
        "{step: reflow, peak: 330}",
        "{step: form_mask, mask: SM2}",
        "{step: reflow, peak: 280}",  # Pb90Sn10: solidus 268, liquidus 302
        "{step: strip, masks: [SM1, SM2]}",
    ]
    result = run(design(flow, max_temperature=350))
    (warning,) = [w for w in result.warnings if "pre-solder body" in w]
    assert "partly molten" in warning and "268" in warning and "302" in warning


def test_a_melt_whose_mix_is_liquid_at_the_peak_dissolves_the_body_whole():
    """Pb90Sn10 body under a Sn63Pb37 melt at 280 °C: the site's mix (about 52 wt% Sn) has its
    liquidus near 210 °C (DESIGN.md diagram, between 50 -> 216 and 60 -> 190), so the lever rule
    leaves no solid: one ball of the mixed composition, nothing reported solid."""
    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: Pb90Sn10-paste-T6}",
        "{step: reflow, peak: 330}",
        "{step: form_mask, mask: SM2}",
        "{step: deposit, into: SM2, solder: Sn63Pb37-paste-T6}",
        "{step: reflow, peak: 280}",
        "{step: strip, masks: [SM1, SM2]}",
    ]
    result = run(design(flow, max_temperature=350))
    first, second = _step(result, 1), _step(result, 4)
    m1, m2 = first.metal_volume_um3 * 10.74, second.metal_volume_um3 * 8.40
    sn = (10 * m1 + 63 * m2) / (m1 + m2)
    assert 50 < sn < 60
    ball = result.stacks[0].ball
    assert not ball.composite
    assert ball.liquidus_c == pytest.approx(216 - 26 * (sn - 50) / 10, abs=0.01)
    assert not [w for w in result.warnings if "pre-solder body" in w]
