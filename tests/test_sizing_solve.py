"""The inverse sizer: round trips through the step runner, the rules that bound the search, and
targets out of reach naming the rule that stops them."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from scipy.optimize import brentq

from masklayout import spec
from masklayout.cli import main
from masklayout.process import run
from masklayout.sizing import Unreachable, bounds, size, stack_yaml
from tests.helpers import BASE_SPEC, SAMPLES
from tests.process_specs import circle_area

ROUND_TRIPS = [
    ("wlcsp_rdl_400.yaml", "std", None),
    ("wlcsp_rdl_400.yaml", "std", "SM1"),
    ("three_masks_300mm.yaml", "tall", None),
    ("three_masks_300mm.yaml", "tall", "SM2"),
    ("wlcsp_on_pad.yaml", "pad", None),
]


@pytest.mark.parametrize(("sample", "stack", "mask"), ROUND_TRIPS)
@pytest.mark.parametrize("target", ["height", "diameter"])
def test_sizing_for_the_ball_run_reports_gives_the_opening_back(sample, stack, mask, target):
    design = spec.load(SAMPLES / sample)
    ball = run(design).stack(stack).ball
    value = ball.height_um if target == "height" else ball.diameter_um
    result = size(design, stack, target, value, mask)
    original = next(o for o in design.spec.stacks[stack].openings if o.mask == result.mask)
    assert result.diameter_um == pytest.approx(original.diameter, abs=result.grid_um)
    assert result.achieved_um == pytest.approx(value, abs=0.5)


def test_the_solution_is_on_the_grid_and_between_its_bounds():
    design = spec.loads(BASE_SPEC)
    result = size(design, "std", "height", 165.0, grid=2.0)
    assert result.diameter_um % 2.0 == 0
    assert {b.rule for b in result.bounds} == {"SM2.EN.SM1", "SM.AR:SM2", "SM.WEB:SM2"}
    assert (result.low_um, result.high_um) == (290.0, 350.0)
    assert result.low_um <= result.diameter_um <= result.high_um
    assert f"{{mask: SM2, diameter: {result.diameter_um:g}}}" in stack_yaml("std", result.stack)


def test_an_enclosure_given_per_film_bounds_the_opening_by_its_stricter_value(tmp_path):
    """Bug: sizing took an enclosure rule's value as a number, and a value per film (which the
    check takes at its stricter film) crashed it. SM2 must contain SM1 (270) by max(10, 30)."""
    tech = tmp_path / "films.yaml"
    tech.write_text(
        "name: films\nextends: wlcsp-400\nrules:\n"
        "  SM2.EN.SM1: {check: enclosure, outer: SM2, inner: SM1, scope: interacting,\n"
        "               value: {photoresist: 10, dry_film: 30}}\n"
    )
    design = spec.loads(BASE_SPEC.replace("tech: wlcsp-400", f"tech: {tech}"))
    low = next(b for b in bounds(design, "std", 1) if b.rule == "SM2.EN.SM1")
    assert (low.side, low.diameter_um) == ("min", 270 + 2 * 30)


@pytest.mark.parametrize(
    ("changes", "target", "value", "rule"),
    [
        ((), "height", 400.0, "SM.WEB:SM2"),  # the web at 400 um pitch caps the opening
        ((), "height", 50.0, "SM2.EN.SM1"),  # SM2 must contain SM1 by the margin
        ((), "diameter", 365.0, "BALL.GAP"),  # 365 + 40 > 400: bridging
        ((("SM2: {thickness: 100", "SM2: {thickness: 500"),), "height", 200.0, "SM.WEB:SM2"),
        ((("SM2: {thickness: 100, film: dry_film", "SM2: {thickness: 320, film: photoresist"),), "height", 100.0, "SM.AR:SM2"),
    ],
)  # fmt: skip
def test_an_unreachable_target_names_the_limiting_rule(changes, target, value, rule):
    text = BASE_SPEC
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    with pytest.raises(Unreachable) as info:
        size(spec.loads(text), "std", target, value)
    assert info.value.rule == rule
    assert rule in str(info.value)


def test_size_cli_prints_the_stack_to_paste_and_json_for_flows(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE_SPEC)
    runner = CliRunner()
    text = runner.invoke(main, ["size", str(path), "--stack", "std", "--height", "165"])
    assert text.exit_code == 0, text.output
    snippet = text.output[text.output.index("stacks:") :]
    pasted = spec.loads(BASE_SPEC[: BASE_SPEC.index("stacks:")] + snippet + "\n" + BASE_SPEC[BASE_SPEC.index("masks:") :])  # fmt: skip
    assert run(pasted).stack("std").ball.height_um == pytest.approx(165, abs=0.5)
    out = runner.invoke(main, ["size", str(path), "--stack", "std", "--diameter", "365", "--json"])
    assert out.exit_code == 1 and json.loads(out.output)["limiting_rule"] == "BALL.GAP"
    bad = runner.invoke(main, ["size", str(path), "--stack", "std"])
    assert bad.exit_code == 2 and "--height or --diameter" in bad.output
    unknown = runner.invoke(main, ["size", str(path), "--stack", "nope", "--height", "100"])
    assert unknown.exit_code == 2 and "unknown stack 'nope'" in unknown.output


def test_a_solution_whose_ball_a_mask_confines_is_the_confined_shape_and_says_so():
    # SM1 narrower than the 250 um UBM narrows the wetted base: a 200 um high ball needs an SM1
    # of about 210 um, and at the last reflow that ball stands on SM1's top edge (SM1 is 50 um
    # thick): solved with the confined shape, and the warning says so.
    design = spec.load(SAMPLES / "wlcsp_rdl_400.yaml")
    result = size(design, "std", "height", 200.0, "SM1")
    assert result.diameter_um < 250
    assert any("confined by SM1" in w for w in result.warnings)
    w = math.sqrt(circle_area(result.diameter_um) / math.pi)
    volume = result.ball.volume_um3

    def excess(hc: float) -> float:  # SM1's hole full, a cap on its top edge
        return math.pi * w * w * 50 + math.pi * hc * (3 * w * w + hc * hc) / 6 - volume

    assert result.ball.height_um == pytest.approx(50 + brentq(excess, 1, 5 * w), rel=1e-6)
    assert result.ball.height_um == pytest.approx(200, abs=1.5)


def test_a_free_ball_gets_no_confinement_warning():
    design = spec.load(SAMPLES / "wlcsp_rdl_400.yaml")
    result = size(design, "std", "height", 170.0)
    assert not any("confined" in w for w in result.warnings)


def test_an_opening_whose_melt_would_bridge_is_refused_though_its_cooled_ball_clears():
    """SM1 and SM2 printed full (250 and 330 µm thick), stripped, reflowed: a free cap on the
    UBM, wider than SM2's opening, so the web leaves room for BALL.GAP to bind. Sized for a
    cooled ball of Ø 365, the melt at the peak holds the same metal at SAC305's liquid density
    (7.38 / 7.06 g/cm³, written here) and is wider; between the two, the pitch leaves the cooled
    balls the 40 µm BALL.GAP and the melts less: neighbours bridge while molten."""
    from tests.process_specs import design as process_design

    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: SAC305-paste-T6, fill: 1}",
        "{step: form_mask, mask: SM2}",
        "{step: deposit, into: SM2, solder: SAC305-paste-T6, fill: 1}",
        "{step: strip, masks: [SM1, SM2]}",
        "{step: reflow, peak: 245}",
    ]
    a = math.sqrt(circle_area(250) / math.pi)  # the written UBM's equal-area radius
    target = 365.0
    h = (target + math.sqrt(target**2 - 4 * a * a)) / 2  # 2R = (a² + h²)/h past a hemisphere
    liquid = math.pi * h * (3 * a * a + h * h) / 6 * 7.38 / 7.06
    hm = brentq(lambda x: math.pi * x * (3 * a * a + x * x) / 6 - liquid, a, 10 * a)
    molten = (a * a + hm * hm) / hm
    assert molten - target > 4.0
    pitch = round((target + molten) / 2 + 40.0, 3)

    def sized(pitch: float):
        d = process_design(flow, t1=250, t2=330, pitch=pitch, count=(2, 1))
        return size(d, "std", "diameter", target, "SM2")

    assert sized(molten + 41.0).ball.diameter_um == pytest.approx(target, abs=0.5)
    with pytest.raises(Unreachable) as info:
        sized(pitch)
    assert info.value.rule == "BALL.GAP"
    assert "molten" in str(info.value) and f"{molten:.0f}" in str(info.value)
