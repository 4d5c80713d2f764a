"""The check summary line says which tech's deck was used (a GDS is checked with the tech it
records, which build writes) and counts in words that agree with the number."""

from __future__ import annotations

from click.testing import CliRunner

from masklayout import checks, load
from masklayout.cli import main
from tests.helpers import SAMPLES


def test_summary_names_the_tech_and_counts_one_rule_in_the_singular():
    report = checks.check_design(load(SAMPLES / "wlcsp_rdl_400.yaml"))  # no SM3: one skip
    line = checks.summary(report)
    # 22 deck rules, PI1.S.PI2, BUMP.EDGE, RDL.EDGE and the three NET rules
    assert line.startswith("wlcsp_rdl_400 (tech wlcsp-400): clean, 28 rules checked")
    assert line.endswith("; 1 rule skipped"), line


def test_gds_checked_without_tech_says_the_deck_it_recorded(tmp_path):
    gds = tmp_path / "three.gds"
    spec = str(SAMPLES / "three_masks_300mm.yaml")  # a wlcsp-500 design
    assert CliRunner().invoke(main, ["build", spec, "-q", "-o", str(gds)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(gds)])
    assert "three_masks_300mm (tech wlcsp-500):" in result.output
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", spec])
    assert "three_masks_300mm (tech wlcsp-500):" in result.output
