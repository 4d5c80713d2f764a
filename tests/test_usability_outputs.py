"""An output path that cannot be written (its folder is a file) is a message naming the path
the user gave and exit 2, not a traceback naming a temporary file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import SAMPLES

SPEC = str(SAMPLES / "wlcsp_on_pad.yaml")

# command line, with {bad} for a path under a regular file
COMMANDS = {
    "build -o": ["build", SPEC, "-q", "-o", "{bad}/x.gds"],
    "build --bumpmap": ["build", SPEC, "-q", "-o", "{ok}/x.gds", "--bumpmap", "{bad}/b.csv"],
    "build --split": ["build", SPEC, "-q", "-o", "{ok}/x.gds", "--split", "{bad}/masks"],
    "run --csv": ["run", SPEC, "--csv", "{bad}/r.csv"],
    "check -o": ["check", SPEC, "-o", "{bad}/r.lyrdb"],
}


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_output_under_a_file_is_a_message_and_exit_2(tmp_path, args):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder is expected\n")
    bad, ok = str(blocker), str(tmp_path / "ok")
    result = CliRunner().invoke(main, [a.format(bad=bad, ok=ok) for a in args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"error: cannot write {bad}/" in result.stderr
    assert f"{blocker} is a file, not a directory" in result.stderr
