"""Process variation (run --variation): the Monte Carlo against the deterministic run and
against first-order propagation, the wafer profile, Cpk and bridging by hand formulas, the
seed, and bad variation files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from masklayout import process
from masklayout.cli import main
from masklayout.geometry.wafer import place_dies
from masklayout.process.flow import plan_flow
from masklayout.variation import loads, monte_carlo
from masklayout.variation.montecarlo import cpk, gaps
from masklayout.variation.report import to_json
from tests.process_specs import (
    C1_FLOW,
    ONE_PRINT,
    bisect_cap_height,
    circle_area,
    design,
    sac305_fraction,
    spec_text,
)

UBM, SM1 = 250.0, 300.0
MELT = 7.38 / 7.06  # SAC305 solid over liquid density (tech/wlcsp-400.yaml, copied): V_l / V_s


def variation(d, text: str):
    return loads(text, d, plan_flow(d), "var.yaml").variation


def hand_height(t: float, grow: float = 1.0) -> float:
    """The ball height for SM1 thickness ``t`` of ONE_PRINT, by hand: the paste fills the
    written SM1 polygon, its metal reflows to a cap on the UBM (equal-area radius); ``grow``
    MELT: the molten body's at the peak."""
    volume = circle_area(SM1) * t * sac305_fraction() * grow
    return bisect_cap_height(volume, math.sqrt(circle_area(UBM) / math.pi))


def hand_diameter(t: float, grow: float = 1.0) -> float:
    """Widest diameter of that ball: the sphere's 2R = (a² + h²) / h above a hemisphere."""
    a, h = math.sqrt(circle_area(UBM) / math.pi), hand_height(t, grow)
    return (a * a + h * h) / h if h > a else 2 * a


def slope(f, x: float, step: float = 1e-3) -> float:
    return (f(x + step) - f(x - step)) / (2 * step)


# --------------------------------------------------------------------------- exactness
def test_zero_variation_gives_the_deterministic_balls_exactly():
    flow = [
        step.replace("}", ", fill: 0.9}") if "SM1, solder" in step else step for step in C1_FLOW
    ]
    d = design(flow)  # claim 1: two prints (the first 90 % full), two reflows
    nominal = process.run(d).stacks[0].ball
    zero = variation(
        d,
        "samples: 2\nmasks:\n  SM1: {thickness: {sigma: 0 %}, cd: {bias: 0}}\n"
        "deposits:\n  SM1: {fill: {mean: 0.9}}\n  SM2: {metal_wt: {mean: 88}}\n",
    )
    result = monte_carlo(d, zero)
    s = result.stacks[0]
    assert s.site_samples == 2 * 9 * place_dies(d.spec.wafer).count
    assert s.min_height == s.max_height == s.mean_height == nominal.height_um
    assert s.min_diameter == s.max_diameter == nominal.diameter_um
    assert s.sigma_height == 0.0
    assert result.coplanarity_worst.value == 0.0
    assert np.all(result.die_mean_height == nominal.height_um)


# --------------------------------------------------------------------------- propagation
def test_thickness_sigma_propagates_to_height_sigma_to_first_order():
    t0, rel = 100.0, 0.03
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM)
    result = monte_carlo(
        d,
        variation(
            d, f"samples: 4\nseed: 7\nmasks:\n  SM1: {{thickness: {{sigma: {rel * 100} %}}}}\n"
        ),
    )
    s = result.stacks[0]
    expected = abs(slope(hand_height, t0)) * rel * t0
    assert s.sigma_height == pytest.approx(expected, rel=0.03)
    assert s.mean_height == pytest.approx(hand_height(t0), abs=0.1 * expected)
    expected_d = abs(slope(hand_diameter, t0)) * rel * t0
    assert s.sigma_diameter == pytest.approx(expected_d, rel=0.05)


def test_cd_sigma_propagates_through_the_opening_area():
    t0, sigma = 100.0, 2.0
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM)
    result = monte_carlo(
        d, variation(d, f"samples: 4\nmasks:\n  SM1: {{cd: {{sigma: {sigma}}}}}\n")
    )

    def height(cd: float) -> float:  # the opening scales with its diameter: area ∝ D²
        volume = circle_area(SM1) * ((SM1 + cd) / SM1) ** 2 * t0 * sac305_fraction()
        return bisect_cap_height(volume, math.sqrt(circle_area(UBM) / math.pi))

    assert result.stacks[0].sigma_height == pytest.approx(abs(slope(height, 0.0)) * sigma, rel=0.03)


def test_metal_content_sigma_propagates_through_the_paste_volume_fraction():
    t0, sigma = 100.0, 0.5
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM)
    result = monte_carlo(
        d, variation(d, f"samples: 4\ndeposits:\n  SM1: {{metal_wt: {{sigma: {sigma}}}}}\n")
    )

    def height(wt: float) -> float:  # SAC305 7.38 g/cm³ in flux of 1.0 g/cm³
        metal = wt / 100 / 7.38
        fraction = metal / (metal + (1 - wt / 100) / 1.0)
        volume = circle_area(SM1) * t0 * fraction
        return bisect_cap_height(volume, math.sqrt(circle_area(UBM) / math.pi))

    assert result.stacks[0].sigma_height == pytest.approx(
        abs(slope(height, 88.0)) * sigma, rel=0.03
    )


def test_a_die_sigma_moves_whole_dies_and_leaves_them_coplanar():
    d = design(ONE_PRINT, t1=100.0, sm1=SM1, ubm=UBM)
    result = monte_carlo(
        d, variation(d, "samples: 2\nmasks:\n  SM1: {thickness: {die_sigma: 3 %}}\n")
    )
    assert result.stacks[0].sigma_height > 1.0
    assert result.coplanarity_worst.value == 0.0
    assert np.ptp(result.die_mean_height) > 5.0


def test_radial_profile_gives_centre_and_edge_dies_the_heights_it_implies():
    t0, edge = 100.0, -0.10
    pitch = 400.0
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM, pitch=pitch)
    result = monte_carlo(
        d, variation(d, "masks:\n  SM1: {thickness: {profile: {center: 0 %, edge: -10 %}}}\n")
    )
    radius = d.spec.wafer.diameter / 2
    offsets = [(x, y) for y in (pitch, 0.0, -pitch) for x in (-pitch, 0.0, pitch)]
    centers = place_dies(d.spec.wafer).centers
    r = np.hypot(centers[:, 0], centers[:, 1])
    for die in (int(np.argmin(r)), int(np.argmax(r))):
        cx, cy = centers[die]
        heights = [
            hand_height(t0 * (1 + edge * (math.hypot(cx + x, cy + y) / radius) ** 2))
            for x, y in offsets
        ]
        # rel 1e-5: the written polygons snap their vertices to the 1 nm grid
        assert result.die_mean_height[die] == pytest.approx(np.mean(heights), rel=1e-5)
        assert result.die_coplanarity[die] == pytest.approx(max(heights) - min(heights), rel=1e-3)
    assert result.die_mean_height[int(np.argmax(r))] < result.die_mean_height[int(np.argmin(r))]


# --------------------------------------------------------------------------- Cpk and bridging
def test_cpk_is_the_nearer_limit_over_three_sigma():
    assert cpk(10.0, 1.0, 4.0, 19.0) == pytest.approx(2.0)  # min(9, 6) / 3
    assert cpk(10.0, 2.0, 7.0, 11.0) == pytest.approx(1 / 6)
    assert cpk(10.0, 0.0, 7.0, 11.0) == math.inf


def test_cpk_against_command_line_limits_matches_the_propagated_sigma():
    t0, rel = 100.0, 0.03
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM)
    h0 = hand_height(t0)
    sigma = abs(slope(hand_height, t0)) * rel * t0
    low, high = h0 - 4 * sigma, h0 + 5 * sigma
    result = monte_carlo(
        d,
        variation(d, f"samples: 4\nmasks:\n  SM1: {{thickness: {{sigma: {rel * 100} %}}}}\n"),
        height_limits=(low, high),
    )
    assert result.stacks[0].cpk == pytest.approx(4 / 3, rel=0.04)
    assert result.limits_from == "command line"


def test_pairs_bridge_where_their_mean_diameter_plus_the_gap_exceeds_the_pitch():
    diameter = np.array([[300.0, 330.0, 360.0], [300.0, 300.0, 300.0]])
    i, j, pitch = np.array([0, 1]), np.array([1, 2]), np.array([350.0, 380.0])
    # die 0: (300+330)/2 + 40 = 355 > 350 bridges; (330+360)/2 + 40 = 385 > 380 bridges
    # die 1: 340 < 350 and 340 < 380: none
    assert (gaps(diameter, i, j, pitch) < 40.0).tolist() == [[True, True], [False, False]]


def test_bridging_probability_matches_the_normal_tail_of_the_pair_mean_diameter():
    # well above a hemisphere (h 1.7 a), where the widest diameter is near linear in t; the
    # balls bridge while molten, so the diameter is the melt's at the peak
    t0, rel, gap, z = 250.0, 0.01, 40.0, 1.0

    def melt(t: float) -> float:
        return hand_diameter(t, MELT)

    d0 = melt(t0)
    sigma_d = abs(slope(melt, t0)) * rel * t0
    pitch = round(d0 + gap + z * sigma_d / math.sqrt(2), 3)
    d = design(ONE_PRINT, t1=t0, sm1=SM1, ubm=UBM, pitch=pitch)
    result = monte_carlo(
        d, variation(d, f"samples: 4\nmasks:\n  SM1: {{thickness: {{sigma: {rel * 100} %}}}}\n")
    )
    z_exact = (pitch - gap - d0) / (sigma_d / math.sqrt(2))
    tail = 0.5 * math.erfc(z_exact / math.sqrt(2))  # P(N(0,1) > z)
    # a 3 x 3 array: 12 pairs at the pitch, 8 diagonals at 1.41 pitch that never bridge
    assert result.pairs_per_die == 20
    assert result.bridge_probability == pytest.approx(12 / 20 * tail, rel=0.05)


# --------------------------------------------------------------------------- reproducibility
SOME = (
    "samples: 2\nseed: 3\nmasks:\n"
    "  SM1: {thickness: {profile: {edge: -5 %}, die_sigma: 1 %, sigma: 2 %}, cd: {sigma: 1}}\n"
    "  SM2: {thickness: {sigma: 2 um}, cd: {die_sigma: 0.5}}\n"
    "deposits:\n  SM2: {fill: {mean: 0.95, sigma: 0.02}, metal_wt: {die_sigma: 0.3}}\n"
)


def _numbers(result) -> dict:
    out = to_json(result)
    for key in ("seconds", "cpu_seconds", "site_samples_per_cpu_second"):
        out.pop(key)
    return out


def test_same_seed_same_numbers_whatever_the_chunk_size():
    d = design()
    first = monte_carlo(d, variation(d, SOME))
    assert _numbers(monte_carlo(d, variation(d, SOME))) == _numbers(first)
    again = monte_carlo(d, variation(d, SOME), chunk_rows=50)
    a, b = _numbers(first)["coplanarity_um"], _numbers(again)["coplanarity_um"]
    assert a.pop("worst") == b.pop("worst")
    assert a == pytest.approx(b, rel=1e-12)  # the same numbers summed in another order
    assert np.array_equal(first.die_mean_height, again.die_mean_height)
    other = monte_carlo(d, variation(d, SOME.replace("seed: 3", "seed: 4")))
    assert not np.array_equal(first.die_mean_height, other.die_mean_height)


# --------------------------------------------------------------------------- the command
def _files(tmp_path: Path, var: str) -> tuple[Path, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text())
    path = tmp_path / "var.yaml"
    path.write_text(var)
    return spec, path


def test_run_variation_reports_json_and_writes_heat_maps(tmp_path):
    spec, var = _files(tmp_path, SOME)
    out = CliRunner().invoke(
        main,
        ["run", str(spec), "--variation", str(var), "--json", "--plot", str(tmp_path / "p"),
         "--csv", str(tmp_path / "dies.csv")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["stacks"]["std"]["limits_um"] is not None  # the tech's ±30 µm
    assert data["coplanarity_um"]["limit"] == 80
    pngs = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert pngs == ["variation_coplanarity.png", "variation_height.png"]
    assert (tmp_path / "p" / pngs[0]).read_bytes()[:4] == b"\x89PNG"
    rows = (tmp_path / "dies.csv").read_text().splitlines()
    assert len(rows) == 1 + data["dies"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("masks:\n  SM1: {thicknes: {sigma: 1 %}}\n", 2,
         "masks.SM1.thicknes: unknown key 'thicknes' (did you mean 'thickness'?; known: cd, thickness)"),
        ("samples: 2\nmasks:\n  SM9: {cd: {sigma: 1}}\n", 3,
         "masks.SM9: unknown mask 'SM9' (the flow forms: SM1, SM2)"),
        ("deposits:\n  SM3: {fill: {sigma: 0.1}}\n", 2,
         "deposits.SM3: the flow deposits nothing into 'SM3'"),
        ("masks:\n  SM1:\n    thickness: {sigma: 2 percent}\n", 3,
         "masks.SM1.thickness.sigma: expected a length"),
        ("masks:\n  SM1:\n    thickness: {sigma: -2 %}\n", 3,
         "masks.SM1.thickness.sigma: a sigma is not negative"),
        ("deposits:\n  SM1: {fill: {mean: 1.2}}\n", 2, "deposits.SM1.fill.mean: "),
        ("samples: 0\n", 1, "samples: "),
    ],
)  # fmt: skip
def test_bad_variation_file_is_located_exit_2_nothing_written(tmp_path, text, line, message):
    spec, var = _files(tmp_path, text)
    out = CliRunner().invoke(
        main,
        ["run", str(spec), "--variation", str(var), "--plot", str(tmp_path / "p"),
         "--csv", str(tmp_path / "dies.csv")],
    )  # fmt: skip
    assert out.exit_code == 2, out.output
    assert f"{var}:{line}:" in out.output
    assert message in out.output
    assert "Traceback" not in out.output
    assert not (tmp_path / "p").exists() and not (tmp_path / "dies.csv").exists()


def test_height_limits_need_variation_and_low_below_high(tmp_path):
    spec, var = _files(tmp_path, "")
    out = CliRunner().invoke(main, ["run", str(spec), "--height-limits", "1", "2"])
    assert out.exit_code == 2
    assert "--height-limits needs --variation" in out.output
    args = ["run", str(spec), "--variation", str(var), "--height-limits", "2", "1"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2
    assert "LO must be below HI" in out.output


def test_run_variation_never_writes_over_its_variation_file(tmp_path):
    spec, var = _files(tmp_path, SOME)
    out = CliRunner().invoke(main, ["run", str(spec), "--variation", str(var), "--csv", str(var)])
    assert out.exit_code == 2, out.output
    assert "variation file" in out.output
    assert var.read_text() == SOME


def test_per_site_thicknesses_give_each_site_the_runners_ball_for_that_thickness():
    """A confined flow (SM1 narrower than the UBM): each site of the edge die, its thicknesses
    drawn from a wafer profile, gets the ball the deterministic run gives a spec of those
    thicknesses."""
    t1, t2, pitch = 40.0, 120.0, 400.0
    kw = {"sm1": 240.0, "sm2": 330.0, "ubm": 250.0, "pitch": pitch}
    d = design(t1=t1, t2=t2, **kw)
    result = monte_carlo(
        d,
        variation(
            d,
            "masks:\n  SM1: {thickness: {profile: {edge: -10 %, shape: linear}}}\n"
            "  SM2: {thickness: {profile: {center: 5 um, edge: -10 um}}}\n",
        ),
    )
    assert any(s.confined_by for s in process.run(d).stacks[0].steps)
    radius = d.spec.wafer.diameter / 2
    centers = place_dies(d.spec.wafer).centers
    die = int(np.argmax(np.hypot(centers[:, 0], centers[:, 1])))
    heights = []
    for y in (pitch, 0.0, -pitch):
        for x in (-pitch, 0.0, pitch):
            r = math.hypot(centers[die, 0] + x, centers[die, 1] + y) / radius
            site = design(t1=t1 * (1 - 0.10 * r), t2=t2 + 5 - 15 * r * r, **kw)
            heights.append(process.run(site).stacks[0].ball.height_um)
    assert result.die_mean_height[die] == pytest.approx(np.mean(heights), rel=1e-9)
    assert result.die_coplanarity[die] == pytest.approx(max(heights) - min(heights), rel=1e-6)


# --------------------------------------------------------------------------- wall touch
def test_the_melt_touches_the_wall_as_often_as_the_fill_passes_the_onset_volume():
    """One print into a thick SM1 (UBM 250, SM1 300), reflowed with SM1 standing. The free cap
    on the UBM meets SM1's wall when its sphere's radius reaches the wall's, its equator within
    SM1: h* = w + √(w² − a²), V* = πh*(3a² + h*²)/6 of melt. The melt is the fill times the
    cavity's metal at the liquid density, so it touches where fill > f* = V* / (that at fill
    1): with fill ~ N(0.90, 0.02) and f* = 0.92 the fraction is P(Z > 1)."""
    a = math.sqrt(circle_area(UBM) / math.pi)
    w = math.sqrt(circle_area(SM1) / math.pi)
    h_touch = w + math.sqrt(w * w - a * a)
    v_touch = math.pi * h_touch * (3 * a * a + h_touch * h_touch) / 6
    per_um = circle_area(SM1) * sac305_fraction() * MELT  # melt at fill 1 per µm of SM1
    t1 = round(v_touch / (0.92 * per_um), 1)
    onset = v_touch / (per_um * t1)
    assert 0 <= h_touch - w <= t1  # the touching sphere's equator lies within SM1

    def touching(fill: float, samples: int) -> tuple:
        """The flow at this nominal fill, each site's fill drawn around it (σ 0.02)."""
        d = design(
            [
                "{step: form_mask, mask: SM1}",
                f"{{step: deposit, into: SM1, solder: SAC305-paste-T6, fill: {fill}}}",
                "{step: reflow, peak: 245}",
                "{step: strip, masks: [SM1]}",
            ],
            t1=t1,
            sm1=SM1,
            ubm=UBM,
        )
        var = f"samples: {samples}\ndeposits:\n  SM1: {{fill: {{sigma: 0.02}}}}\n"
        result = monte_carlo(d, variation(d, var))
        (touch,) = result.wall_touch
        expected = 0.5 * math.erfc((onset - fill) / 0.02 / math.sqrt(2))  # P(fill > f*)
        spread = math.sqrt(expected * (1 - expected) / touch.site_samples)
        assert abs(touch.probability - expected) < 5 * spread
        assert touch.site_samples == result.site_samples
        return result, touch

    result, touch = touching(0.90, 2)  # P(Z > 1) = 0.159
    assert 0.14 < touch.probability < 0.18
    assert (touch.step, touch.label, touch.masks) == (2, "reflow 245 °C", ("SM1",))
    assert touch.by_mask == {"SM1": touch.touched}
    assert touch.by_stack == {"std": (touch.touched, touch.site_samples)}
    assert touch.nominal == ()  # the nominal melt (fill 0.90) clears the wall
    data = to_json(result)["wall_touch"][0]
    assert data["probability"] == touch.probability and data["nominal_touching"] == []
    _, touch = touching(0.94, 1)  # past the onset: the nominal melt touches, P(Z > -1) = 0.84
    assert touch.nominal == ("std",) and 0.82 < touch.probability < 0.86


def test_a_flow_reflowed_only_after_the_strip_has_no_wall_to_touch():
    d = design(ONE_PRINT, t1=250.0, sm1=SM1, ubm=UBM)
    result = monte_carlo(d, variation(d, "samples: 1\nmasks:\n  SM1: {thickness: {sigma: 1 %}}\n"))
    assert result.wall_touch == ()
    assert to_json(result)["wall_touch"] == []
