"""The check summary line says which tech's deck was used (a GDS is checked with the tech it
records, which build writes) and counts in words that agree with the number."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from masklayout import checks, load
from masklayout.cli import main
from tests.helpers import ROOT, SAMPLES


def _rules_checked(tech: dict, spec: dict) -> tuple[int, int]:
    """(checked, skipped) by reading the tech file and the spec: a rule over several mask layers
    counts once per mask the spec has (area ratio: per mask printed into), a rule needing a layer
    the design does not draw is skipped, and the connectivity check adds its three rules."""
    masks = set(spec["masks"])
    printed = {step["into"] for step in spec["process"] if step["step"] == "deposit"}
    checked = skipped = 0
    for rule in tech["rules"].values():
        if "layers" in rule:
            on = masks & set(rule["layers"])
            checked += len(on & printed) if rule["check"] == "area_ratio" else len(on)
        elif any(rule.get(key) in {"SM1", "SM2", "SM3"} - masks for key in ("outer", "inner")):
            skipped += 1
        else:
            checked += 1
    return checked + 3, skipped


def test_summary_names_the_tech_and_counts_one_rule_in_the_singular():
    sample = SAMPLES / "wlcsp_rdl_400.yaml"  # no SM3: SM3.EN.SM2 is skipped
    tech = yaml.safe_load((ROOT / "tech" / "wlcsp-400.yaml").read_text(encoding="utf-8"))
    checked, skipped = _rules_checked(tech, yaml.safe_load(sample.read_text(encoding="utf-8")))
    assert skipped == 1
    line = checks.summary(checks.check_design(load(sample)))
    assert line.startswith(f"wlcsp_rdl_400 (tech wlcsp-400): clean, {checked} rules checked")
    assert line.endswith("; 1 rule skipped"), line


def test_gds_checked_without_tech_says_the_deck_it_recorded(tmp_path):
    gds = tmp_path / "three.gds"
    spec = str(SAMPLES / "three_masks_300mm.yaml")  # a wlcsp-500 design
    assert CliRunner().invoke(main, ["build", spec, "-q", "-o", str(gds)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(gds)])
    assert "three_masks_300mm (tech wlcsp-500):" in result.output
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", spec])
    assert "three_masks_300mm (tech wlcsp-500):" in result.output
