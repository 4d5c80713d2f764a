"""The help a new user reads first: every command listed with a whole line about it, and every
command's own help shown in full."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from masklayout.cli import main


def test_top_help_lists_every_command_without_truncation():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1]
    for name in main.commands:
        assert f"  {name} " in commands, name
    assert "..." not in commands
    assert "- for stdin" in result.output and "2 bad input" in result.output


@pytest.mark.parametrize("name", ["build", "run", "check", "size", "preview", "schema"])
def test_every_command_has_help(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert f"Usage: main {name}" in result.output or f"Usage: masklayout {name}" in result.output


@pytest.mark.parametrize("name", ["build", "run", "check", "preview"])
def test_a_directory_as_spec_is_a_usage_error(tmp_path, name):
    result = CliRunner().invoke(main, [name, str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.output
