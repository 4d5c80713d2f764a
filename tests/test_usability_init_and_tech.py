"""`masklayout init` writes a starter spec that works as it is; `masklayout tech` shows what the
built-in techs hold (checked against the tech files read here with plain YAML)."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import ROOT

TECH_FILES = sorted((ROOT / "tech").glob("*.yaml"))


@pytest.mark.parametrize("tech", [p.stem for p in TECH_FILES])
def test_the_starter_spec_builds_runs_and_checks_clean(tmp_path, tech):
    spec = tmp_path / "new.yaml"
    runner = CliRunner()
    made = runner.invoke(main, ["init", str(spec), "--tech", tech, "--name", "first"])
    assert made.exit_code == 0, made.output
    assert yaml.safe_load(spec.read_text())["tech"] == tech
    built = runner.invoke(main, ["build", str(spec), "-q", "-o", str(tmp_path / "first.gds")])
    assert built.exit_code == 0, built.output
    assert runner.invoke(main, ["run", str(spec)]).exit_code == 0
    checked = runner.invoke(main, ["check", str(spec)])
    assert checked.exit_code == 0, checked.output
    assert f"first (tech {tech}): clean" in checked.output


def test_init_never_overwrites_a_file(tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text("masklayout: 1\n# my work\n")
    before = hashlib.sha256(spec.read_bytes()).hexdigest()
    result = CliRunner().invoke(main, ["init", str(spec)])
    assert result.exit_code == 2
    assert "exists" in result.output and "Traceback" not in result.output
    assert hashlib.sha256(spec.read_bytes()).hexdigest() == before


def test_init_dash_prints_the_spec_and_an_unknown_tech_is_a_usage_error():
    runner = CliRunner()
    printed = runner.invoke(main, ["init", "-"])
    assert printed.exit_code == 0 and printed.stdout.startswith("# A masklayout spec")
    bad = runner.invoke(main, ["init", "-", "--tech", "wlcsp-999"])
    assert bad.exit_code == 2 and "wlcsp-400" in bad.output


def test_tech_lists_every_shipped_tech_file():
    result = CliRunner().invoke(main, ["tech", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["builtin"] == [p.stem for p in TECH_FILES]
    table = CliRunner().invoke(main, ["tech"]).stdout
    for path in TECH_FILES:
        assert path.stem in table


@pytest.mark.parametrize("path", TECH_FILES, ids=lambda p: p.stem)
def test_tech_shows_the_files_own_rules_and_solders(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = CliRunner().invoke(main, ["tech", path.stem, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    for name, rule in raw.get("rules", {}).items():
        assert shown["rules"][name]["value"] == rule["value"]
        assert shown["rules"][name]["check"] == rule["check"]
    for name, solder in raw.get("solders", {}).items():
        assert shown["solders"][name]["alloy"] == solder["alloy"]
    table = CliRunner().invoke(main, ["tech", path.stem]).stdout
    assert all(name in table for name in raw.get("rules", {}))


def test_an_unknown_tech_is_bad_input():
    result = CliRunner().invoke(main, ["tech", "wlcsp-999"])
    assert result.exit_code == 2
    assert "unknown tech 'wlcsp-999'" in result.output and "Traceback" not in result.output


def test_the_readme_reference_names_every_alloy_and_step_kind():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("## Reference") :]
    raw = yaml.safe_load((ROOT / "tech" / "wlcsp-400.yaml").read_text(encoding="utf-8"))
    for alloy in raw["alloys"]:
        assert alloy in reference, alloy
    for kind in {rule["check"] for rule in raw["rules"].values()}:
        assert f"`{kind}`" in reference, kind
    for step in ("form_mask", "deposit", "reflow", "strip"):
        assert f"`{step}`" in reference
