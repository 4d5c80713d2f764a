"""Every output safe: outputs never overwrite an input or each other, never land on a device or
folder, are written all or none, and a write error (a full disk) leaves nothing at the final
name; a killed run leaves only hidden ``.masklayout-`` temporaries, never a broken file."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import klayout.db as kdb
import pytest
from click.testing import CliRunner

from masklayout import files, layout, outputs, split
from masklayout import spec as spec_module
from masklayout.checks import report as check_report
from masklayout.cli import main
from tests.helpers import BASE_SPEC, ROOT, SAMPLES

GDS_ENDLIB = bytes([0, 4, 4, 0])  # the GDSII stream's last record: length 4, type ENDLIB


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too) with the SHA-256 of its bytes
    (of a regular file; other kinds by their kind)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        if p.is_dir()
        else "special"
        for p in sorted(folder.rglob("*"))
    }


def invoke(args: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(folder)
    return CliRunner().invoke(main, args)


def assert_refused(result, *words: str) -> None:
    """Exit 2, no traceback, a message holding ``words``."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a spec reading its own tech file and a bump map file, and an old layout."""
    shutil.copy(SAMPLES / "bumps_from_csv.csv", tmp_path)
    text = (SAMPLES / "bumps_from_csv.yaml").read_text()
    assert "tech: wlcsp-400" in text
    (tmp_path / "spec.yaml").write_text(text.replace("tech: wlcsp-400", "tech: mytech.yaml"))
    shutil.copy(ROOT / "tech" / "wlcsp-400.yaml", tmp_path / "mytech.yaml")
    (tmp_path / "old.gds").write_bytes(b"an old layout")
    return tmp_path


# --------------------------------------------------------------------------- collisions
COLLISIONS = {
    "-o onto the spec": (
        ["build", "spec.yaml", "-q", "-o", "x.gds", "--bumpmap", "spec.yaml"],
        "--bumpmap spec.yaml is also the spec",
    ),
    "--bumpmap onto -o": (
        ["build", "spec.yaml", "-q", "-o", "o.gds", "--bumpmap", "o.gds"],
        "--bumpmap o.gds is also the layout output -o",
    ),
    "--wafermap onto the .lyp": (
        ["build", "spec.yaml", "-q", "-o", "o.gds", "--wafermap", "o.lyp"],
        "--wafermap o.lyp is also the layer properties beside -o",
    ),
    "--wafermap onto --bumpmap": (
        ["build", "spec.yaml", "-q", "--bumpmap", "m.csv", "--wafermap", "./m.csv"],
        "--wafermap ./m.csv is also the bump map output --bumpmap",
    ),
    "--bumpmap onto the tech file": (
        ["build", "spec.yaml", "-q", "--bumpmap", "mytech.yaml"],
        "--bumpmap mytech.yaml is also the tech file",
    ),
    "--wafermap onto the bump map read": (
        ["build", "spec.yaml", "-q", "--wafermap", "bumps_from_csv.csv"],
        "is also the bump map die.bumps[0]",
    ),
    "--bumpmap onto the spec through a symlink": (
        ["build", "spec.yaml", "-q", "--bumpmap", "link.csv"],
        "--bumpmap link.csv is also the spec",
    ),
    "--bumpmap onto the spec through a hard link": (
        ["build", "spec.yaml", "-q", "--bumpmap", "hard.csv"],
        "--bumpmap hard.csv is also the spec",
    ),
    "run --csv onto the spec": (
        ["run", "spec.yaml", "--csv", "spec.yaml"],
        "--csv spec.yaml is also the spec",
    ),
    "run --plot onto the tech file": (
        ["run", "spec.yaml", "--plot", "sub/../mytech.yaml"],
        "mytech.yaml",
    ),
    "check -o onto the GDS checked": (
        ["check", "old.gds", "-o", "old.gds"],
        "old.gds",
    ),
}


@pytest.mark.parametrize("args, message", COLLISIONS.values(), ids=COLLISIONS.keys())
def test_an_output_onto_an_input_or_another_output_is_refused_with_nothing_written(
    work, monkeypatch, args, message
):
    (work / "link.csv").symlink_to("spec.yaml")
    os.link(work / "spec.yaml", work / "hard.csv")
    before = snapshot(work)
    result = invoke(args, work, monkeypatch)
    assert_refused(result, message)
    assert snapshot(work) == before


def test_a_check_marker_database_onto_its_spec_input_is_refused(work, monkeypatch):
    shutil.copy(work / "spec.yaml", work / "s.lyrdb")
    before = snapshot(work)
    result = invoke(["check", "old.gds", "--spec", "s.lyrdb", "-o", "s.lyrdb"], work, monkeypatch)
    assert_refused(result, "-o s.lyrdb is also the spec --spec")
    assert snapshot(work) == before


def test_a_mask_file_of_split_onto_another_output_is_refused_with_nothing_written(
    work, monkeypatch
):
    (work / "masks").mkdir()
    before = snapshot(work)
    args = ["build", "spec.yaml", "-q", "-o", "masks/bumps_from_csv_SM1.gds", "--split", "masks"]
    result = invoke(args, work, monkeypatch)
    assert_refused(
        result,
        "masks/bumps_from_csv_SM1.gds (in --split) is also the layout output -o",
    )
    assert snapshot(work) == before


NON_REGULAR = {
    "a character device": (["build", "spec.yaml", "-q", "--bumpmap", "/dev/null"], "/dev/null"),
    "a FIFO": (["build", "spec.yaml", "-q", "-o", "pipe.gds"], "pipe.gds"),
    "a folder": (["run", "spec.yaml", "--csv", "folder.csv"], "folder.csv"),
    "a file as --split": (["build", "spec.yaml", "-q", "--split", "mytech.yaml"], "mytech.yaml"),
}


@pytest.mark.parametrize("args, path", NON_REGULAR.values(), ids=NON_REGULAR.keys())
def test_an_output_onto_a_device_fifo_or_folder_is_refused(work, monkeypatch, args, path):
    os.mkfifo(work / "pipe.gds")
    (work / "folder.csv").mkdir()
    before = snapshot(work)
    assert_refused(invoke(args, work, monkeypatch), path)
    assert snapshot(work) == before
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("output", ["x.lyp", "spec.yaml", "x.gds2", "x.csv", "-"])
def test_a_layout_output_gds_oas_does_not_write_is_refused_with_the_supported_list(
    work, monkeypatch, output
):
    before = snapshot(work)
    result = invoke(["build", "spec.yaml", "-q", "-o", output], work, monkeypatch)
    assert_refused(result, ".gds, .oas, .gds.gz")
    assert snapshot(work) == before


def test_check_o_must_be_a_marker_database(work, monkeypatch):
    before = snapshot(work)
    result = invoke(["check", "old.gds", "-o", "old.txt"], work, monkeypatch)
    assert_refused(result, "old.txt", ".lyrdb")
    assert snapshot(work) == before


@pytest.mark.parametrize(
    "args",
    [
        ["build", "spec.yaml", "-q", "--pinmap", "-"],
        ["build", "spec.yaml", "-q", "--bumpmap", "-"],
        ["run", "spec.yaml", "--csv", "-"],
    ],
    ids=["build --pinmap", "build --bumpmap", "run --csv"],
)
def test_an_output_named_dash_is_refused_not_written_to_a_file_named_dash(work, monkeypatch, args):
    before = snapshot(work)
    result = invoke(args, work, monkeypatch)
    assert_refused(result, "cannot write -", "not to standard output")
    assert not (work / "-").exists()
    assert snapshot(work) == before


# --------------------------------------------------------------------------- formats
def test_a_gds_gz_layout_is_the_gds_gzipped_with_its_lyp_beside(work, monkeypatch):
    args = ["build", "spec.yaml", "-q", "-o", "plain.gds"]
    assert invoke(args, work, monkeypatch).exit_code == 0
    assert invoke([*args[:-1], "packed.GDS.gz"], work, monkeypatch).exit_code == 0
    packed = (work / "packed.GDS.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b"  # the gzip magic
    assert gzip.decompress(packed) == (work / "plain.gds").read_bytes()
    assert (work / "packed.lyp").read_bytes() == (work / "plain.lyp").read_bytes()
    kl = kdb.Layout()
    kl.read(str(work / "packed.GDS.gz"))
    assert kl.top_cell().name == "bumps_from_csv"


def test_python_m_masklayout_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "masklayout", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m masklayout" in done.stdout and "build" in done.stdout


def test_json_errors_are_json_on_stdout(work, monkeypatch):
    monkeypatch.chdir(work)
    for args in (
        ["run", "spec.yaml", "--json", "--csv", "spec.yaml"],
        ["build", "spec.yaml", "--json", "--die-only", "--bumpmap", "b.csv"],
        ["check", "nothing.gds", "--json"],
        ["run", "spec.yaml", "--json", "--no-such-option"],
        ["size", "spec.yaml", "--json", "--stack", "std", "--height", "tall"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        error = json.loads(result.stdout)["error"]
        assert error and error in result.stderr


# --------------------------------------------------------------------------- write errors
WRITE_LIBRARY = layout.write_library


def _truncated(library, path, kind):
    """A writer that stops half way without a word, as gdstk does on a full disk."""
    WRITE_LIBRARY(library, path, kind)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


@pytest.fixture
def short_writes(monkeypatch):
    monkeypatch.setattr(layout, "write_library", _truncated)


@pytest.mark.parametrize("output", ["x.gds", "x.oas", "x.gds.gz"])
def test_a_layout_cut_short_is_an_error_and_never_takes_the_name(
    work, monkeypatch, short_writes, output
):
    (work / output).write_bytes(b"the old file")
    before = snapshot(work)
    result = invoke(["build", "spec.yaml", "-q", "-o", output], work, monkeypatch)
    assert_refused(result, f"error: cannot write {output}: ", "cut short")
    assert snapshot(work) == before


def test_a_split_mask_cut_short_is_an_error_naming_it(work, monkeypatch):
    monkeypatch.setattr(split, "write_library", _truncated)
    before = snapshot(work)
    result = invoke(["build", "spec.yaml", "-q", "--split", "masks"], work, monkeypatch)
    assert_refused(result, "error: cannot write masks/bumps_from_csv_", ".gds: ", "cut short")
    assert snapshot(work) == before


def test_a_disk_full_error_is_named_by_the_final_path_with_nothing_left(work, monkeypatch):
    def full(library, path, kind):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(layout, "write_library", full)
    before = snapshot(work)
    result = invoke(["build", "spec.yaml", "-q", "-o", "out/x.gds"], work, monkeypatch)
    assert_refused(result, "error: cannot write out/x.gds: No space left on device")
    assert snapshot(work) == before  # not even the folder out/ it made


@pytest.mark.parametrize(
    "check, whole",
    [
        (outputs.LYP_CHECK, b'<?xml version="1.0"?>\n<layer-properties>\n</layer-properties>\n'),
        (check_report.RDB_CHECK, b'<?xml version="1.0"?>\n<report-database>\n</report-database>\n'),
    ],
)
def test_klayout_files_are_read_back_for_their_closing_tag(tmp_path, check, whole):
    """KLayout may stop writing without a word: a .lyp or .lyrdb must end with its closing tag."""
    path = tmp_path / "file.xml"
    path.write_bytes(whole)
    assert check(path) is None
    path.write_bytes(whole[: len(whole) - 10])
    assert "cut short" in check(path)
    path.write_bytes(whole[5:])
    assert "does not start" in check(path)


def test_a_failing_lyp_write_leaves_no_layout_either(work, monkeypatch):
    import klayout.lay as lay

    def refuse(self, path):
        raise RuntimeError(f"Write error on file: {path} (errno=28) in LayoutView.save_layer_props")

    monkeypatch.setattr(lay.LayoutView, "save_layer_props", refuse)
    before = snapshot(work)
    result = invoke(["build", "spec.yaml", "-q", "-o", "x.gds"], work, monkeypatch)
    assert_refused(result, "error: cannot write x.lyp: No space left on device")
    assert snapshot(work) == before


def test_a_failure_in_the_last_output_leaves_none_of_the_others(work, monkeypatch):
    def failing(grid, path):
        with files.atomic_write(path) as tmp:
            tmp.write_text("half a wafer map")
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(outputs, "write_wafermap", failing)
    (work / "x.gds").write_bytes(b"the old layout")
    before = snapshot(work)
    args = ["build", "spec.yaml", "-q", "-o", "x.gds", "--bumpmap", "b.csv", "--wafermap", "w.csv"]
    result = invoke([*args, "--split", "masks"], work, monkeypatch)
    assert_refused(result, "error: cannot write w.csv: Input/output error")
    assert snapshot(work) == before


def test_bumpmap_under_a_file_writes_no_layout(work, monkeypatch):
    before = snapshot(work)
    args = ["build", "spec.yaml", "-q", "-o", "x.gds", "--bumpmap", "spec.yaml/b.csv"]
    assert_refused(invoke(args, work, monkeypatch), "spec.yaml is a file, not a directory")
    assert snapshot(work) == before


def test_zero_dies_with_split_writes_nothing(work, monkeypatch):
    spec = work / "spec.yaml"
    text = spec.read_text()
    assert "edge_exclusion: 3 mm" in text
    spec.write_text(text.replace("edge_exclusion: 3 mm", "edge_exclusion: 99 mm"))
    before = snapshot(work)
    args = ["build", "spec.yaml", "-q", "-o", "x.gds", "--bumpmap", "b.csv", "--split", "masks"]
    result = invoke(args, work, monkeypatch)
    assert result.exit_code != 0
    assert snapshot(work) == before


# --------------------------------------------------------------------------- a full disk
@pytest.fixture
def small_disk(tmp_path: Path):
    """A 128 KiB tmpfs, room for the layout and little more (as root; skipped where mounting
    is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "none", str(disk)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until about ``leave`` bytes are free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * max(free - leave, 0))


FULL_DISK = {
    "the layout": (0, ["build", "spec.yaml", "-q", "-o", "{disk}/x.gds"], "x.gds"),
    "the OASIS layout": (0, ["build", "spec.yaml", "-q", "-o", "{disk}/x.oas"], "x.oas"),
    "the .lyp after the layout": (
        None,
        ["build", "spec.yaml", "-q", "-o", "{disk}/x.gds"],
        "x.lyp",
    ),  # fmt: skip
    "--bumpmap": (
        0,
        ["build", "spec.yaml", "-q", "-o", "x.gds", "--bumpmap", "{disk}/b.csv"],
        "b.csv",
    ),  # fmt: skip
    "--split": (0, ["build", "spec.yaml", "-q", "-o", "x.gds", "--split", "{disk}/m"], "m/"),
    "run --csv": (0, ["run", "spec.yaml", "--csv", "{disk}/r.csv"], "r.csv"),
    "check -o": (0, ["check", "spec.yaml", "-o", "{disk}/r.lyrdb"], "r.lyrdb"),
}


@pytest.mark.parametrize("leave, args, name", FULL_DISK.values(), ids=FULL_DISK.keys())
def test_a_full_disk_is_an_error_with_nothing_written(work, monkeypatch, small_disk, leave, args, name):  # fmt: skip
    if leave is None:  # room for the layout and one page more: the .lyp takes two
        ref = small_disk / "ref.gds"
        layout.write(layout.build(spec_module.load(work / "spec.yaml")), ref)
        page = os.statvfs(small_disk).f_frsize
        leave = -(-ref.stat().st_size // page) * page + page
        ref.unlink()
    _fill(small_disk, leave)
    before, disk_before = snapshot(work), snapshot(small_disk)
    result = invoke([a.format(disk=small_disk) for a in args], work, monkeypatch)
    assert_refused(result, f"error: cannot write {small_disk}/{name}", "No space left on device")
    assert snapshot(small_disk) == disk_before
    assert {k: v for k, v in snapshot(work).items() if not k.startswith("disk")} == {
        k: v for k, v in before.items() if not k.startswith("disk")
    }


# --------------------------------------------------------------------------- signals, kill -9
# The build runs in a child whose --wafermap writer, the last file output, writes half its
# temporary and then waits: the signal arrives while every temporary of the build exists.
STALLED = """
import sys, time
from pathlib import Path
from masklayout import cli, outputs

def stalled(grid, path):
    Path(path).write_text("half a wafer map")
    time.sleep(120)

outputs.write_wafermap = stalled
sys.argv = ["masklayout", *sys.argv[1:]]
cli.entry_point()
"""


def _stalled_build(work: Path) -> subprocess.Popen:
    args = ["build", "spec.yaml", "-q", "-o", "out/x.gds", "--bumpmap", "out/b.csv"]
    child = subprocess.Popen(
        [sys.executable, "-c", STALLED, *args, "--wafermap", "out/w.csv"],
        cwd=work,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        # As from a terminal: a shell without job control starts background jobs with SIGINT
        # ignored, and Python then keeps ignoring it (no KeyboardInterrupt to unwind).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    out = work / "out"
    for _ in range(600):  # until the wafer map's temporary holds its half
        found = [p for p in out.glob(".masklayout-*.w.csv") if p.stat().st_size]
        if found:
            return child
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        time.sleep(0.1)
    child.kill()
    raise AssertionError("the build never reached its wafer map")


@pytest.mark.parametrize("sent, code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 1)])
def test_sigterm_and_sigint_remove_every_temporary(work, sent, code):
    (work / "out").mkdir()
    (work / "out" / "x.gds").write_bytes(b"the old layout")
    before = snapshot(work / "out")
    child = _stalled_build(work)
    assert len(list((work / "out").glob(".masklayout-*"))) == 4  # gds, lyp, bump map, wafer map
    child.send_signal(sent)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == code
    assert "Traceback" not in stderr
    assert snapshot(work / "out") == before


def test_kill_9_leaves_only_hidden_temporaries_never_a_broken_file(work):
    (work / "out").mkdir()
    (work / "out" / "x.gds").write_bytes(b"the old layout")
    child = _stalled_build(work)
    child.kill()
    child.communicate(timeout=60)
    left = {p.name for p in (work / "out").iterdir()}
    assert (work / "out" / "x.gds").read_bytes() == b"the old layout"
    assert {name for name in left if not name.startswith(files.TEMP_PREFIX)} == {"x.gds"}


def test_concurrent_builds_to_one_name_leave_one_whole_layout(work):
    args = [sys.executable, "-m", "masklayout", "build", "spec.yaml", "-q", "--bumpmap", "b.csv"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reference = subprocess.run([*args[:-2], "-o", "ref.gds"], cwd=work, env=env, check=True)
    assert reference.returncode == 0
    children = [subprocess.Popen([*args, "-o", "x.gds"], cwd=work, env=env) for _ in range(3)]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    data = (work / "x.gds").read_bytes()
    assert data.endswith(GDS_ENDLIB)
    assert data == (work / "ref.gds").read_bytes()
    assert not list(work.glob(".masklayout-*"))


def test_a_signal_during_the_renames_arrives_once_every_output_is_in_place(tmp_path, monkeypatch):
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    rename = os.replace

    def rename_then_terminate(source, target):
        rename(source, target)
        os.kill(os.getpid(), signal.SIGTERM)

    out = files.OutputSet()
    first = out.add(tmp_path / "first.txt", "--first", "the first output")
    second = out.add(tmp_path / "second.txt", "--second", "the second output")
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(SystemExit), out:
            out.temporary(first).write_text("1")
            out.temporary(second).write_text("2")
            monkeypatch.setattr(files.os, "replace", rename_then_terminate)
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGTERM, previous)
    assert (first.read_text(), second.read_text()) == ("1", "2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.txt", "second.txt"]


def _fail_half_way(path: Path) -> None:
    """A picture writer that fails half way through its file."""
    with files.atomic_write(path) as tmp:
        tmp.write_bytes(b"\x89PNG half")
        raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_preview_writes_no_picture_when_one_fails(work, monkeypatch):
    from masklayout import preview

    monkeypatch.setattr(preview, "bump_closeup", lambda design, stack, path: _fail_half_way(path))
    (work / "pictures").mkdir()
    before = snapshot(work)
    result = invoke(["preview", "spec.yaml", "-o", "pictures"], work, monkeypatch)
    assert_refused(
        result, "error: cannot write pictures/bumps_from_csv_bump_", "Input/output error"
    )
    assert snapshot(work) == before  # no wafer map, no die picture, no staging folder


def test_run_writes_no_csv_when_a_plot_fails(work, monkeypatch):
    from masklayout.process import plot

    monkeypatch.setattr(
        plot, "plot_stack", lambda *args: _fail_half_way(Path(args[-1], "late.png"))
    )
    before = snapshot(work)
    result = invoke(["run", "spec.yaml", "--csv", "r.csv", "--plot", "plots"], work, monkeypatch)
    assert_refused(result, "error: cannot write plots/late.png", "Input/output error")
    assert snapshot(work) == before


@pytest.mark.parametrize("folder", ["masks", "./masks/"])
def test_a_split_into_an_existing_folder_replaces_its_masks_and_keeps_other_files(
    work, monkeypatch, folder
):
    args = ["build", "spec.yaml", "-q", "-o", "x.gds", "--split", folder]
    assert invoke(args, work, monkeypatch).exit_code == 0
    first = snapshot(work / "masks")
    (work / "masks" / "notes.txt").write_text("kept")
    (work / "masks" / "masks.json").write_text("old")
    result = invoke(args, work, monkeypatch)
    assert result.exit_code == 0, result.output
    assert snapshot(work / "masks") == {**first, "notes.txt": snapshot(work)["masks/notes.txt"]}
    assert not [p for p in work.rglob(f"{files.TEMP_PREFIX}*")]


def test_an_output_onto_a_tech_file_two_extends_down_is_refused(tmp_path):
    """spec -> techs/a.yaml -> b.yaml -> c.yaml, each extends resolved in the folder of the
    file that names it: writing the bump map over c.yaml is writing over an input."""
    techs = tmp_path / "techs"
    techs.mkdir()
    (techs / "c.yaml").write_text("name: c\nextends: wlcsp-400\n")
    (techs / "b.yaml").write_text("name: b\nextends: c.yaml\n")
    (techs / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_SPEC.replace("tech: wlcsp-400", "tech: techs/a.yaml"))
    before = (techs / "c.yaml").read_bytes()
    result = CliRunner().invoke(
        main,
        ["build", str(spec), "-o", str(tmp_path / "x.gds"), "--bumpmap", str(techs / "c.yaml")],
    )
    assert result.exit_code == 2, result.output
    assert "is also the tech file extended" in result.output
    assert (techs / "c.yaml").read_bytes() == before
    assert not (tmp_path / "x.gds").exists()
