"""The spec in the README is what a new user copies first: it loads, builds, runs its flow
and passes the rule deck as written."""

from __future__ import annotations

import re

import pytest

from masklayout import checks, loads, process
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def readme_design():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The spec\n\n```yaml\n(.*?)```", readme, re.S)
    assert block, "the README has no spec block under '## The spec'"
    return loads(block.group(1))


def test_readme_spec_passes_the_rule_deck(readme_design):
    report = checks.check_design(readme_design)
    assert not report.failed(True), checks.to_table(report)


def test_readme_spec_flow_makes_good_balls(readme_design):
    assert process.run(readme_design).ok


def test_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace('"samples/', f'"{ROOT}/samples/'), "README.md", "exec"), {})
    dies, bumps_per_die = capsys.readouterr().out.split()
    assert int(dies) > 0 and int(bumps_per_die) > 0
    assert (tmp_path / "out" / "wlcsp_rdl_400.gds").stat().st_size > 0
