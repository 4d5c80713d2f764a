"""Progress on the terminal: shown when interactive, silent when piped or quiet."""

from __future__ import annotations

from click.testing import CliRunner

from masklayout import progress as progress_module
from masklayout.cli import main
from masklayout.progress import SILENT, Progress
from tests.helpers import BASE_SPEC


def test_progress_is_off_when_output_is_not_a_terminal():
    assert not progress_module.on_terminal()  # pytest captures stdout and stderr
    assert not Progress.for_terminal().enabled


def test_quiet_turns_progress_off_even_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress_module, "on_terminal", lambda: True)
    assert Progress.for_terminal().enabled
    assert not Progress.for_terminal(quiet=True).enabled


def test_an_enabled_step_shows_its_label_on_stderr_and_clears_it(capsys):
    with Progress(enabled=True).step("writing wafer.gds"):
        pass
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("writing wafer.gds ...")
    assert captured.err.endswith("\r\033[K")


def test_a_silent_progress_writes_nothing_and_passes_every_item_through(capsys):
    with SILENT.step("building"):
        items = list(SILENT.track(range(5), "dies", length=5))
    assert items == [0, 1, 2, 3, 4]
    assert capsys.readouterr() == ("", "")


def test_an_enabled_bar_passes_every_item_through():
    assert list(Progress(enabled=True).track(iter("abc"), "dies", length=3)) == ["a", "b", "c"]


def test_build_with_maps_is_silent_on_stderr_when_piped(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "build",
            "-",
            "-o",
            str(tmp_path / "m.gds"),
            "--bumpmap",
            str(tmp_path / "b.csv"),
            "--json",
        ],
        input=BASE_SPEC,
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
