"""Output behaviours (the atomic writer, the build command's exit codes) pinned by what is left
on disk and what the command returns: the second deliberate-bug sample of bench/mutants.md."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from masklayout import files, layout, spec
from masklayout.cli import main
from tests.helpers import BASE_SPEC
from tests.test_pinned_layout import WALL


def test_a_failed_output_set_removes_every_folder_it_made(tmp_path: Path):
    """An output three folders below ``tmp_path`` (a, a/b, a/b/c made for it) and a failure
    inside the set: nothing is left, not even the empty folders, deepest removed first."""
    target = tmp_path / "a" / "b" / "c" / "out.txt"
    out = files.OutputSet()
    out.add(target, "-o", "the output")
    with pytest.raises(RuntimeError), out:
        out.temporary(target).write_text("half")
        raise RuntimeError("cut short")
    assert list(tmp_path.iterdir()) == []


def test_build_json_with_unrouted_nets_writes_the_rest_and_exits_1(tmp_path: Path):
    """VDD walled in: with --allow-unrouted the layout and the markers are written and the
    command fails (exit 1), with --json as without."""
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text(BASE_SPEC.replace("  rdl:\n", WALL + "  rdl:\n"))
    for extra in ([], ["--json"]):
        gds = tmp_path / f"s{len(extra)}.gds"
        args = ["build", str(spec_file), "-q", "-o", str(gds), "--allow-unrouted", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (extra, result.output)
        assert gds.exists() and gds.with_suffix(".unrouted.lyrdb").exists()
        if extra:
            assert json.loads(result.output)["unrouted_markers"].endswith(".unrouted.lyrdb")


def test_a_new_output_file_gets_0666_less_the_umask(tmp_path: Path):
    """Under umask 027 a new file is rw for its owner, r for the group, nothing for others
    (0666 & ~0027 = 0640), not the 0644 of the usual umask."""
    old = os.umask(0o027)
    try:
        files.write_bytes(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_build_reports_the_rdl_length_in_millimetres(tmp_path: Path):
    """The summary's RDL length is the routed centrelines' length (their segments summed here),
    in mm."""
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text(BASE_SPEC)
    result = CliRunner().invoke(
        main, ["build", str(spec_file), "-q", "-o", str(tmp_path / "s.gds")]
    )
    assert result.exit_code == 0, result.output
    routed = layout.build(spec.loads(BASE_SPEC, "s.yaml"), die_only=True).routing.result.routed
    um = sum(float(np.hypot(*np.diff(line, axis=0).T).sum()) for n in routed for line in n.centrelines)  # fmt: skip
    assert um > 1000  # two traces from pads to bumps about a millimetre apart
    assert f"RDL nets            2 of 2 routed, {um / 1000:.2f} mm," in result.output
