"""The body at a reflow's peak is molten and ~5 % larger than the solid it cools to: each reflow
reports both. Expected values from the densities written here (tech/wlcsp-400.yaml's values,
copied) and closed-form spherical caps (volume-height relations solved with brentq), with the
lower meniscus integrated as an ODE."""

from __future__ import annotations

import math

import pytest
from scipy.optimize import brentq

from masklayout.process import run
from masklayout.process.report import to_csv, to_json, to_table
from masklayout.spec import loads
from tests.process_specs import SAMPLES, bisect_cap_height, circle_area, design, sac305_fraction
from tests.test_process_shapes import THETA, cap_volume, lower_meniscus_ode, radius

# solid and liquid density (g/cm³) of the alloys the claim samples deposit, per solder
DENSITY = {
    "SAC305": (7.38, 7.06),
    "SAC405": (7.44, 7.07),
    "SnAg": (7.37, 7.06),
    "Sn63Pb37": (8.40, 8.02),
    "Pb90Sn10": (10.74, 10.14),
}


def _sample(name: str) -> dict:
    text = (SAMPLES / f"{name}.yaml").read_text()
    return to_json(run(loads(text, f"{name}.yaml")))


def _liquid(metal_by_solder: list[tuple[str, float]]) -> float:
    """Volume of the melt of these metal volumes: each alloy's mass at its liquid density."""
    total = 0.0
    for solder, volume in metal_by_solder:
        solid, liquid = DENSITY[solder.split("-")[0]]
        total += volume * solid / liquid
    return total


@pytest.mark.parametrize(
    "sample",
    ["flow_c1_two_masks", "flow_c15_one_reflow", "flow_c16_pre_reflow", "flow_c20_three_masks",
     "flow_confined_sm1", "wlcsp_rdl_400"],
)  # fmt: skip
def test_the_body_at_the_peak_holds_the_metal_at_its_liquid_density(sample):
    for stack in _sample(sample)["stacks"].values():
        deposited: list[tuple[str, float]] = []
        for step in stack["steps"]:
            if step["step"] == "deposit":
                deposited.append((step["solder"], step["metal_volume_um3"]))
            if step["step"] != "reflow":
                continue
            solid = sum(v for _, v in deposited)
            assert step["volume_um3"] == pytest.approx(solid, rel=1e-9)
            assert step["peak"]["volume_um3"] == pytest.approx(_liquid(deposited), rel=1e-9)
            assert 1.04 < step["peak"]["volume_um3"] / solid < 1.06
            # whatever wall the cooled body stands against, the larger melt stood against it
            if step["confined_by"] is not None:
                assert step["peak"]["confined_by"] is not None
        # the ball is the last reflow's cooled body; its peak that reflow's
        last = [s for s in stack["steps"] if s["step"] == "reflow"][-1]
        assert stack["ball"]["height_um"] == pytest.approx(last["height_um"])
        assert stack["ball"]["regime"] == last["regime"]
        assert stack["ball"]["peak"] == last["peak"]


def test_a_composite_balls_core_stays_solid_at_the_peak():
    """Claim 4: the Pb95Sn5 body stays partly solid in the Sn63Pb37 melt; only the melt expands."""
    stack = next(iter(_sample("flow_c4_composite")["stacks"].values()))
    last = [s for s in stack["steps"] if s["step"] == "reflow"][-1]
    core = last["core"]["volume_um3"]
    melt = last["volume_um3"] - core
    expansion = last["peak"]["volume_um3"] - last["volume_um3"]
    # the melt (Sn63Pb37 with dissolved Pb95Sn5) expands by 4.5-6 %, the core not at all
    assert 0.045 * melt < expansion < 0.06 * melt


def test_a_melt_touching_sm1_only_at_the_peak_is_confined_there_and_free_once_cooled():
    """flow_c16_pre_reflow, the reflow with both masks on: UBM 250 under SM1 280 × 50 µm. The
    solid ball is a free cap narrower than SM1's opening; the melt, 8.40/8.02 times larger,
    would bulge past SM1's wall within its thickness, so it is pinned at SM1's top edge over the
    lower meniscus: no margin."""
    data = _sample("flow_c16_pre_reflow")
    stack = data["stacks"]["std"]
    step = next(s for s in stack["steps"] if s["index"] == 5)
    a, w, t1 = radius(250), radius(280), 50.0
    solid = step["volume_um3"]
    liquid = solid * 8.40 / 8.02

    def widest_within_sm1(volume: float) -> float:
        h = bisect_cap_height(volume, a)
        r = (a * a + h * h) / (2 * h)
        centre = h - r  # the equator's height
        return r if 0 <= centre <= t1 else math.sqrt(r * r - (t1 - centre) ** 2)

    assert widest_within_sm1(solid) < w < widest_within_sm1(liquid)
    h_solid = bisect_cap_height(solid, a)
    assert (step["regime"], step["confined_by"]) == ("free", None)
    assert step["height_um"] == pytest.approx(h_solid, rel=1e-6)

    def excess(hc: float) -> float:  # SM1's hole, less the void under the meniscus, + edge cap
        _, void = lower_meniscus_ode(2 * hc / (w * w + hc * hc), a, w, THETA)
        return math.pi * w * w * t1 - void + cap_volume(hc, w) - liquid

    hc = brentq(excess, 1.0, 3 * w, xtol=1e-10)
    peak = step["peak"]
    assert (peak["regime"], peak["confined_by"]) == ("edge", "SM1")
    assert peak["volume_um3"] == pytest.approx(liquid, rel=1e-9)
    assert peak["height_um"] == pytest.approx(t1 + hc, rel=1e-6)
    assert peak["diameter_um"] == pytest.approx(w * w / hc + hc, rel=1e-6)  # 2R, R = (w²+hc²)/2hc
    warning = next(m for m in data["warnings"] if "process[5]" in m and "confined by SM1" in m)
    assert "no margin" in warning and f"{h_solid:.1f}" in warning

    # after the strip the re-melt is free on the whole UBM: both the closed-form cap
    again = next(s for s in stack["steps"] if s["index"] == 7)
    assert again["peak"]["regime"] == again["regime"] == "free"
    assert again["peak"]["height_um"] == pytest.approx(bisect_cap_height(liquid, a), rel=1e-6)
    assert stack["ball"]["height_um"] == pytest.approx(h_solid, rel=1e-6)


def test_size_says_when_only_the_melt_touches_the_wall():
    """c16 ending with the strip (no re-melt): the ball sized for 201.7 µm is the free cap clear
    of SM1's wall; its melt is not, and size says there is no margin."""
    from masklayout.sizing import size

    text = (SAMPLES / "flow_c16_pre_reflow.yaml").read_text()
    last = "  - {step: reflow, peak: 215}           # re-melt free of the masks"
    assert last in text
    solved = size(loads(text.replace(last, ""), "c16.yaml"), "std", "height", 201.7, mask="SM2")
    a, w = radius(250), radius(280)
    volume = solved.ball.volume_um3
    h = bisect_cap_height(volume, a)
    assert solved.ball.height_um == pytest.approx(h, rel=1e-6)  # free
    assert (a * a + h * h) / (2 * h) < w  # clear of SM1's wall, solid
    assert solved.ball.peak_confined_by == "SM1"
    assert any("no margin" in m and "SM1" in m for m in solved.warnings)
    again = size(loads(text, "c16.yaml"), "std", "height", 201.7, mask="SM2")
    assert any("a later reflow reshapes the ball" in m for m in again.warnings)


def test_the_reports_state_the_peak_beside_the_ball():
    text = (SAMPLES / "flow_confined_sm1.yaml").read_text()
    result = run(loads(text, "flow_confined_sm1.yaml"))
    ball = result.stacks[0].ball
    assert ball.peak is not None and ball.peak.volume_um3 > ball.volume_um3
    assert (ball.peak.regime, ball.peak_confined_by) == ("edge", "SM1")
    assert ball.peak.height_um > ball.height_um  # an edge cap grows with its volume
    table = to_table(result)
    assert f"at peak {ball.peak.volume_um3:,.0f} µm³ molten: edge in SM1" in table
    header, row = to_csv(result).splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["peak_regime"], values["peak_confined_by"]) == ("edge", "SM1")
    assert float(values["peak_height_um"]) == pytest.approx(ball.peak.height_um)


def test_neighbours_whose_melts_close_the_gap_bridge_though_their_cooled_balls_clear_it():
    """Two bumps, one print stripped before the reflow: free caps on the UBM. The pitch lies
    between cooled Ø + BALL.GAP and molten Ø + BALL.GAP (40 µm, tech/wlcsp-400.yaml): at the peak
    the melts leave less than the gap, so they bridge."""
    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: SAC305-paste-T6, fill: 1}",
        "{step: strip, masks: [SM1]}",
        "{step: reflow, peak: 245}",
    ]
    t1, gap_min = 250.0, 40.0
    a = math.sqrt(circle_area(250) / math.pi)  # the written UBM's equal-area radius
    solid_density, liquid_density = DENSITY["SAC305"]
    solid = circle_area(300) * t1 * sac305_fraction()  # the paste's metal, SM1 filled
    liquid = solid * solid_density / liquid_density

    def widest(volume: float) -> float:  # V = πh(3a² + h²)/6; 2R = (a² + h²)/h past a hemisphere
        h = brentq(lambda h: math.pi * h * (3 * a * a + h * h) / 6 - volume, 1.0, 10 * a)
        return (a * a + h * h) / h if h > a else 2 * a

    cooled, molten = widest(solid), widest(liquid)
    assert molten - cooled > 2.5  # 1 % wider: ±1.4 µm of margin each side of the pitch
    pitch = round((cooled + molten) / 2 + gap_min, 3)
    assert pitch - cooled > gap_min > pitch - molten

    result = run(design(flow, t1=t1, pitch=pitch, count=(2, 1)))
    assert result.bridging_gap_um == gap_min
    stack = result.stacks[0]
    assert stack.ball.diameter_um == pytest.approx(cooled, rel=1e-6)
    assert stack.bridging
    assert stack.bridging_at == 3
    assert stack.bridging_diameter_um == pytest.approx(molten, rel=1e-6)
    assert stack.gap_um == pytest.approx(pitch - molten, rel=1e-5)
    (failure,) = result.failures
    assert "at the peak of process[3]" in failure and f"{molten:.1f} µm wide" in failure
    assert f"would leave {pitch - cooled:.1f} µm" in failure

    # a pitch the melts clear too: no bridge, the gap still the melts'
    wider = run(design(flow, t1=t1, pitch=round(molten + gap_min + 1, 3), count=(2, 1)))
    assert wider.ok and not wider.stacks[0].bridging
    assert wider.stacks[0].gap_um == pytest.approx(gap_min + 1, abs=1e-3)


def test_the_peaks_free_cap_shortcut_gives_what_the_full_solve_gives():
    """The runner takes the closed-form free cap at the peak where the melt stays clear of every
    wall and solves only the others: row for row the same shapes as solving them all."""
    import dataclasses

    import numpy as np

    from masklayout.process.runner import Geometry, reflow_shape, simulate, simulate_stacks

    d = loads((SAMPLES / "flow_c16_pre_reflow.yaml").read_text())
    nominal = simulate_stacks(d)
    g = nominal.geometry
    scale = np.linspace(0.8, 1.2, 41)[:, None]  # thinner and thicker masks: less and more solder
    rows = np.zeros(len(scale), dtype=int)
    geometry = Geometry(g.area[rows], g.base_area[rows], g.thickness * scale, g.theta,
                        g.base_shape[rows])  # fmt: skip
    sim = simulate(geometry, nominal.plan, d.tech)
    mixed = False
    for rec in sim.steps:
        if rec.peak is None or rec.peak_volume is None:
            continue
        solved = reflow_shape(geometry, nominal.plan, rec.op, rec.peak_volume)
        mixed |= bool((solved.level >= 0).any() and (solved.level < 0).any())
        for field in dataclasses.fields(solved):
            assert np.array_equal(getattr(rec.peak, field.name), getattr(solved, field.name)), field
    assert mixed  # some melts touch SM1's wall, some do not


def test_the_peaks_closed_forms_give_what_the_full_solve_gives_on_random_rows():
    """Thousands of random one- and two-mask stacks, bases filling their first opening or
    narrower than it, cooled bodies free, columns, edge and spread caps, melts 0-8 % larger: the
    peak taken from the cooled body (a free cap's closed form, a column raised by the extra
    volume, the rest solved) equals the melt solved from scratch, field for field."""
    import dataclasses

    import numpy as np

    from masklayout.process.shapes import COLUMN, FREE, grown, shapes

    rng = np.random.default_rng(11)
    n = 3000
    for m in (1, 2):
        a = rng.uniform(80.0, 160.0, n)
        narrow = rng.random(n) < 0.5  # the first opening inside the base: no lower meniscus
        first = a * np.where(narrow, rng.uniform(0.85, 1.0, n), rng.uniform(1.0, 1.3, n))
        wall = first[:, None] + np.cumsum(rng.uniform(0.0, 40.0, (n, m)), axis=1)
        wall[:, 0] = first
        thickness = rng.uniform(20.0, 150.0, (n, m))
        theta = np.radians(rng.uniform(110.0, 160.0, m))
        cavity = (np.pi * wall**2 * thickness).sum(axis=1)
        cooled_volume = cavity * rng.uniform(0.05, 2.0, n)
        melt = cooled_volume * rng.uniform(1.0, 1.08, n)
        cooled = shapes(cooled_volume, a, wall, thickness, theta)

        def solve(rows, melt=melt, a=a, wall=wall, thickness=thickness, theta=theta):
            return shapes(melt[rows], a[rows], wall[rows], thickness[rows], theta)

        peak = grown(cooled, cooled_volume, melt, None, solve)
        full = shapes(melt, a, wall, thickness, theta)
        for field in dataclasses.fields(full):
            got, want = getattr(peak, field.name), getattr(full, field.name)
            if field.name in ("kind", "level"):
                assert np.array_equal(got, want), field.name
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=field.name)
        raised = (cooled.kind == COLUMN) & (full.kind == COLUMN) & (cooled.level == full.level)
        stays_free = (cooled.kind == FREE) & (full.kind == FREE)
        assert raised.sum() > 200 and stays_free.sum() > 200 and (~raised & ~stays_free).sum() > 200
