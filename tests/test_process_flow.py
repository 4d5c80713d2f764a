"""Flow validation: every wrong flow is refused before computing, naming the step's line and
why; the CLI exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout.cli import main
from masklayout.process import plan_flow
from masklayout.source import SpecError
from tests.process_specs import C1_FLOW, design, spec_text, step_line

FORM1, FORM2 = "{step: form_mask, mask: SM1}", "{step: form_mask, mask: SM2}"
DEP1 = "{step: deposit, into: SM1, solder: SAC305-paste-T6}"
DEP2 = "{step: deposit, into: SM2, solder: SAC305-paste-T6}"
REFLOW = "{step: reflow, peak: 245}"
STRIP1, STRIP2 = "{step: strip, masks: [SM1]}", "{step: strip, masks: [SM2]}"
STRIP = "{step: strip, masks: [SM1, SM2]}"

# (flow, index of the step named, words the message must contain)
BAD_FLOWS = {
    "deposit into a mask not formed yet": (
        [FORM1, DEP2, REFLOW, STRIP1],
        1,
        "deposit into SM2, which is not there: it is not formed yet",
    ),
    "deposit into a stripped mask": (
        [FORM1, DEP1, REFLOW, STRIP1, DEP1, REFLOW],
        4,
        "deposit into SM1, which is not there: it was stripped at process[3] (line",
    ),
    "mask formed twice": (
        [FORM1, DEP1, REFLOW, FORM1, FORM2, DEP2, REFLOW, STRIP],
        3,
        "mask SM1 is formed twice (first at process[0] (line",
    ),
    "mask formed over one that is not there": (
        [FORM2, FORM1, DEP1, REFLOW, STRIP],
        0,
        "SM2 is formed over SM1 (stack 'std'), which is not there (form SM1 first)",
    ),
    "mask formed over one already stripped": (
        [FORM1, DEP1, REFLOW, STRIP1, FORM2, DEP2, REFLOW, STRIP2],
        4,
        "SM2 is formed over SM1 (stack 'std'), which was stripped at process[3]",
    ),
    "reflow before any deposit": (
        [FORM1, REFLOW, DEP1, REFLOW, STRIP1],
        1,
        "reflow with nothing to melt: no solder is deposited before it",
    ),
    "reflow too cold to melt anything": (
        [FORM1, DEP1, "{step: reflow, peak: 150}", STRIP1],
        2,
        "reflow with nothing to melt: peak 150 °C is below the solidus of every solder",
    ),
    "flow ending with a mask in place": (
        [FORM1, DEP1, REFLOW],
        2,
        "the flow ends with SM1 still in place: add a strip step",
    ),
    "flow ending with unreflowed paste": (
        [FORM1, DEP1, STRIP1],
        1,
        "deposited here is never reflowed: the flow ends with unreflowed paste",
    ),
    "tin-lead mixed with bismuth": (
        [
            FORM1,
            "{step: deposit, into: SM1, solder: Sn63Pb37-paste-T6}",
            REFLOW,
            FORM2,
            "{step: deposit, into: SM2, solder: SnBi-paste-T6}",
            REFLOW,
            STRIP,
        ],
        4,
        "SnBi-paste-T6 meets Sn63Pb37-paste-T6 deposited at process[1] (line",
    ),
    "deposit into a cavity already full": (
        [FORM1, FORM2, DEP2, DEP1, REFLOW, STRIP],
        3,
        "the SM1 cavity is already full: process[2]",
    ),
    "strip a mask with another standing on it": (
        [FORM1, DEP1, REFLOW, FORM2, DEP2, REFLOW, STRIP1, STRIP2],
        6,
        "strip SM1 leaves SM2 standing on it",
    ),
    "strip a mask never formed": (
        [FORM1, DEP1, REFLOW, STRIP],
        3,
        "strip SM2, which is not there: never formed before this step",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FLOWS))
def test_bad_flow_is_refused_at_its_step_line(case: str):
    flow, index, words = BAD_FLOWS[case]
    text = spec_text(flow)
    with pytest.raises(SpecError) as err:
        plan_flow(design(flow))
    messages = [str(p) for p in err.value.problems]
    hit = [m for m in messages if words in m]
    assert hit, f"no message with {words!r} in {messages}"
    assert hit[0].startswith(f"spec.yaml:{step_line(text, index)}:"), hit[0]
    assert f"process[{index}]" in hit[0]


@pytest.mark.parametrize("case", list(BAD_FLOWS))
def test_bad_flow_exits_2_and_writes_nothing(case: str, tmp_path: Path):
    flow, _, words = BAD_FLOWS[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(flow))
    out_csv, plots = tmp_path / "out.csv", tmp_path / "plots"
    result = CliRunner().invoke(
        main, ["run", str(spec), "--csv", str(out_csv), "--plot", str(plots)]
    )
    assert result.exit_code == 2
    assert words in result.stderr
    assert not out_csv.exists()
    assert not plots.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_empty_flow_is_refused():
    with pytest.raises(SpecError, match="the flow is empty"):
        plan_flow(design([]))


def test_all_problems_of_a_flow_are_reported_together():
    flow = [FORM2, DEP1, REFLOW]  # SM2 over nothing, SM1 never formed, SM2 left standing
    with pytest.raises(SpecError) as err:
        plan_flow(design(flow))
    assert len(err.value.problems) >= 3


def test_a_mask_the_stack_has_no_opening_in_would_bury_the_bumps():
    flow = [FORM1, DEP1, REFLOW, FORM2, "{step: form_mask, mask: SM3}", DEP2, REFLOW,
            "{step: strip, masks: [SM1, SM2, SM3]}"]  # fmt: skip
    text = spec_text(flow).replace("masks:\n", "masks:\n  SM3: {thickness: 50}\n")
    from masklayout.spec import loads

    with pytest.raises(SpecError, match="has no opening in SM3: the mask would bury"):
        plan_flow(loads(text, "spec.yaml"))


def test_strip_then_reflow_is_a_valid_flow():
    flow = [FORM1, DEP1, REFLOW, FORM2, DEP2, STRIP, REFLOW]
    plan = plan_flow(design(flow))
    assert plan.masks == ("SM1", "SM2")
    assert plan.ops[-1].masks == ()


def test_claim_1_flow_plans_masks_in_level_order():
    plan = plan_flow(design(C1_FLOW))
    assert plan.masks == ("SM1", "SM2")
    assert [op.kind for op in plan.ops] == [
        "form_mask", "deposit", "reflow", "form_mask", "deposit", "reflow", "strip",
    ]  # fmt: skip
    assert plan.ops[4].level == 1


def test_forming_a_mask_over_unreflowed_paste_is_a_warning():
    flow = [FORM1, DEP1, FORM2, DEP2, REFLOW, STRIP]
    plan = plan_flow(design(flow))
    assert any("formed over unreflowed SAC305-paste-T6" in w for w in plan.warnings)


def test_a_thick_mask_over_a_small_opening_warns_it_may_not_print():
    plan = plan_flow(design(C1_FLOW, t2=200))  # 360 / (4 * 200) = 0.45 < 0.66
    assert any("area ratio 0.45 < 0.66 (SM.PRINT)" in w for w in plan.warnings)
