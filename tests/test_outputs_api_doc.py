"""docs/api.md: its examples run as written, and every spec command takes the spec on stdin."""

from __future__ import annotations

import itertools
import re

import pytest
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import BASE_SPEC, ROOT, SAMPLES, full_dies

API_DOC = ROOT / "docs" / "api.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_build_run_check_example_runs_and_reports_a_clean_design(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    example = _python_blocks()[0].replace('"samples/', f'"{SAMPLES}/')
    assert len(example.strip().splitlines()) <= 12
    exec(compile(example, str(API_DOC), "exec"), {})
    bumps, ok, errors, _warnings = capsys.readouterr().out.split()
    # the sample's 300 mm wafer of 4580 um steps, its dies counted by brute force, 10 x 10 bumps
    step, die = (4580.0, 4580.0), (4500.0, 4500.0)
    offsets = itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2))
    dies = max(full_dies(150000.0, 3000.0, step, die, o, notch=True) for o in offsets)
    assert (bumps, ok, errors) == (str(dies * 100), "True", "0")  # it builds, runs, passes
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert written == {"wlcsp_rdl_400.gds", "wlcsp_rdl_400.lyp", "bumps.csv"}


def test_the_atomic_write_example_writes_its_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_python_blocks()[1], str(API_DOC), "exec"), {})  # imports what it uses
    assert (tmp_path / "out" / "report.txt").read_text() == "..."


@pytest.mark.parametrize(
    "command", [["build", "-o", "m.gds"], ["preview", "-o", "pictures"], ["run"], ["check"]]
)
def test_every_spec_command_reads_the_spec_from_stdin(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name, *options = command
    result = CliRunner().invoke(main, [name, "-", *options, "--json"], input=BASE_SPEC)
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("{")
