"""``masklayout run``: exit codes, the table, JSON, CSV and the cross-section pictures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout.cli import main
from tests.process_specs import C1_FLOW, SAMPLES, spec_text

FLOW_SAMPLES = sorted(SAMPLES.glob("flow_*.yaml"))


def _run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["run", *args], input=stdin)


@pytest.mark.parametrize("sample", FLOW_SAMPLES, ids=lambda p: p.stem)
def test_every_flow_sample_runs_clean(sample: Path):
    result = _run(str(sample), "--json")
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and not data["failures"]


def test_flow_samples_cover_the_claim_families():
    assert {p.stem for p in FLOW_SAMPLES} >= {
        "flow_c1_two_masks", "flow_c15_one_reflow", "flow_c16_pre_reflow",
        "flow_c20_three_masks", "flow_c4_composite", "flow_leaded_powder",
    }  # fmt: skip


def test_table_has_a_row_per_step_and_the_ball(tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text(spec_text(C1_FLOW))
    result = _run(str(spec))
    assert result.exit_code == 0
    for label in (
        "form SM1",
        "deposit SAC305-paste-T6 into SM2",
        "reflow 245 °C",
        "strip SM1, SM2",
    ):
        assert label in result.stdout
    assert "ball Ø µm" in result.stdout
    assert "wafer:" in result.stdout


def test_json_has_steps_ball_and_warnings_per_the_issue_schema():
    data = json.loads(_run(str(SAMPLES / "flow_c4_composite.yaml"), "--json").stdout)
    stack = data["stacks"]["std"]
    deposit = next(s for s in stack["steps"] if s["step"] == "deposit")
    reflow = next(s for s in stack["steps"] if s["step"] == "reflow")
    assert {"step", "paste_volume_um3", "metal_volume_um3"} <= deposit.keys()
    assert {"step", "height_um", "diameter_um", "volume_um3", "confined_by"} <= reflow.keys()
    assert {
        "volume_um3", "height_um", "diameter_um", "base_diameter_um", "composition_wt",
        "liquidus_c", "composite",
    } <= stack["ball"].keys()  # fmt: skip
    assert stack["ball"]["composite"] is True
    assert "core" in stack["ball"]
    assert isinstance(data["warnings"], list) and data["warnings"]
    assert {"dies", "metal_mm3", "element_g", "solder_mm3", "solder_g"} <= data["wafer"].keys()


def test_spec_from_stdin():
    result = _run("-", "--json", stdin=(SAMPLES / "flow_c1_two_masks.yaml").read_text())
    assert result.exit_code == 0
    assert "std" in json.loads(result.stdout)["stacks"]


def test_csv_has_one_row_per_stack(tmp_path: Path):
    out = tmp_path / "sub" / "balls.csv"
    result = _run(str(SAMPLES / "flow_c15_one_reflow.yaml"), "--csv", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["stack"] for r in rows] == ["round", "octo"]
    for r in rows:
        assert 250 < float(r["ball_diameter_um"]) < 300
        assert float(r["Sn_wt"]) > 90
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_plot_writes_a_png_per_stack_per_step(tmp_path: Path):
    result = _run(str(SAMPLES / "flow_c1_two_masks.yaml"), "--plot", str(tmp_path / "x"))
    assert result.exit_code == 0
    pngs = sorted((tmp_path / "x").glob("*.png"))
    assert [p.name for p in pngs] == [
        "std_01_form_mask.png", "std_02_deposit.png", "std_03_reflow.png",
        "std_04_form_mask.png", "std_05_deposit.png", "std_06_reflow.png", "std_07_strip.png",
    ]  # fmt: skip
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 10_000  # a drawn picture, not an empty canvas


def test_bridging_balls_exit_1_and_still_report(tmp_path: Path):
    spec = tmp_path / "s.yaml"
    flow = C1_FLOW[:5] + ["{step: strip, masks: [SM1, SM2]}", "{step: reflow, peak: 245}"]
    spec.write_text(spec_text(flow, pitch=300, sm1=260, sm2=290, t2=180))  # free ball on the UBM
    result = _run(str(spec), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["stacks"]["std"]["bridging"] is True
    assert any("bridge" in f for f in data["failures"])


def test_unmelted_flow_exits_1(tmp_path: Path):
    flow = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: Sn63Pb37-paste-T6}",
        "{step: reflow, peak: 215}",
        "{step: form_mask, mask: SM2}",
        "{step: deposit, into: SM2, solder: SAC305-paste-T6}",
        "{step: reflow, peak: 200}",
        "{step: strip, masks: [SM1, SM2]}",
    ]
    spec = tmp_path / "s.yaml"
    spec.write_text(spec_text(flow))
    result = _run(str(spec))
    assert result.exit_code == 1
    assert "FAIL:" in result.stdout and "unmelted flow" in result.stdout


def test_missing_spec_file_exits_2(tmp_path: Path):
    result = _run(str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2


def test_run_help_documents_every_option():
    out = CliRunner().invoke(main, ["run", "--help"]).output
    for option in ("--json", "--csv", "--plot"):
        assert option in out
    assert "Exit 1" in out
