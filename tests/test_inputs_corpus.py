"""Every broken input kept in tests/corpus/ (one spec per case, its name says what is wrong;
companions share its name: a tech file, a bump map) fails every command the same way: exit 2,
a message at file:line:column of the corpus file, no traceback, nothing written or changed."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.glob("*.yaml") if not p.name.endswith(".tech.yaml"))
# Each command with outputs into the corpus folder, so that anything written shows.
COMMANDS = {
    "build": ["build", "{case}", "-o", "out.gds", "--bumpmap", "bumps.csv", "-q"],
    "run": ["run", "{case}", "--csv", "run.csv"],
    "check": ["check", "{case}", "-o", "markers.lyrdb"],
    "preview": ["preview", "{case}", "-o", "pictures", "-q"],
}


def _commands(case: Path) -> list[str]:
    """The commands a case fails: those its first line names (``# commands: build check``),
    else all."""
    first = case.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    named = first.removeprefix("# commands:").split() if first.startswith("# commands:") else []
    return named or list(COMMANDS)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else ""
        for p in sorted(folder.rglob("*"))
    }


def test_corpus_holds_the_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES)
def test_broken_input_exits_2_located_without_traceback_writing_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    monkeypatch.chdir(folder)
    before = _digest(folder)
    stem = case.removesuffix(".yaml")
    located = re.compile(rf"(^|\n){re.escape(stem)}[^:\n]*:\d+:\d+: ")
    for command in _commands(folder / case):
        args = [a.format(case=case) for a in COMMANDS[command]]
        result = CliRunner().invoke(main, args)
        said = result.stdout + result.stderr
        assert result.exit_code == 2, f"{command}: exit {result.exit_code}\n{said}"
        assert isinstance(result.exception, SystemExit), f"{command}: {result.exception!r}"
        assert "Traceback" not in said, f"{command}:\n{said}"
        assert located.search(result.stderr), f"{command}: not located:\n{said}"
        assert _digest(folder) == before, f"{command} wrote or changed a file"
