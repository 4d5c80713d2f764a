"""User-facing text writes micrometres as µm (µm³ for volumes), never the ASCII ``um``."""

from __future__ import annotations

import re

from click.testing import CliRunner

from masklayout.cli import main

ASCII_UNIT = re.compile(r"\d um\b|\bum3\b|\(um\b")


def test_size_and_check_reports_write_micrometres_as_mu_m(spec_file):
    runner = CliRunner()
    spec = str(spec_file())
    sized = runner.invoke(main, ["size", spec, "--stack", "std", "--height", "160"])
    checked = runner.invoke(main, ["check", spec])
    assert sized.exit_code == 0, sized.output
    assert checked.exit_code == 0, checked.output
    for output in (sized.output, checked.output):
        assert ASCII_UNIT.findall(output) == [], output
        assert re.search(r"\d µm\b", output), output
    assert "µm³" in sized.output
    assert ">= 35 µm" in checked.output  # the limit column: UBM-to-die-edge space, wlcsp-400
