"""Safe file writes: every output is written to a hidden temporary beside its target, checked
(flushed to disk, its size or its head and tail read back) and renamed over the target at the
end, so a failure leaves the old file (or none), never half a file.

A command's outputs together form an :class:`OutputSet`: their paths are checked before anything
is written (none may be an input or another output, or an existing non-regular file), and the
renames happen only once every output is complete: all or none.

Temporaries are named ``.masklayout-XXXXXXXX.NAME`` (NAME the target's, so its ending picks the
format) in the target's folder, or inside a target folder that exists. A run killed with SIGKILL
can leave such files behind, never a broken file at a final name; they can be deleted
(``rm .masklayout-*``). SIGTERM and SIGINT remove them (the CLI turns both into exceptions that
unwind the writes); they are held while a set renames its outputs or removes its temporaries.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

TEMP_PREFIX = ".masklayout-"
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)  # the signals that stop a command: held while a set renames or cleans up

Check = Callable[[Path], "str | None"]
"""Reads back a written temporary cheaply; returns what is wrong with it, or None."""


class OutputError(OSError):
    """An output that cannot be written, named as the user gave it (not the temporary file)."""

    def __init__(self, path: Path, cause: OSError | None = None, reason: str | None = None):
        if reason is None:
            in_file = next((p for p in path.parents if p.is_file()), None)
            strerror = cause.strerror if cause is not None else None
            reason = f"{in_file} is a file, not a directory" if in_file else strerror
            reason = reason or str(cause)
        self.path, self.reason = path, reason
        self.message = f"cannot write {path}: {reason}"
        super().__init__(cause.errno if cause is not None else None, self.message)

    def __str__(self) -> str:
        return self.message


class Collision(OutputError):
    """An output path that is also an input, or another output, of the same command."""

    def __init__(self, path: Path, message: str):
        self.path, self.reason, self.message = path, message, message
        OSError.__init__(self, errno.EEXIST, message)


def klayout_error(exc: RuntimeError) -> OSError:
    """The OSError a KLayout write error stands for (KLayout raises RuntimeError with
    ``errno=N`` in its message): ENOSPC for a full disk, else EIO with KLayout's words."""
    found = re.search(r"errno=(\d+)", str(exc))
    if found:
        number = int(found.group(1))
        return OSError(number, os.strerror(number))
    return OSError(errno.EIO, str(exc))


# --------------------------------------------------------------------------- checks
def tail_check(head: bytes, tail: bytes, what: str) -> Check:
    """A check that the file starts with ``head`` and ends with ``tail`` (both may be empty)."""

    def check(path: Path) -> str | None:
        size = path.stat().st_size
        if size < len(head) + len(tail):
            return f"the {what} written is {size} bytes, too short to be whole"
        with open(path, "rb") as file:
            start = file.read(len(head))
            file.seek(size - len(tail))
            end = file.read(len(tail))
        if start != head:
            return f"the {what} written does not start as one"
        if end != tail:
            return f"the {what} written is cut short (it does not end as one)"
        return None

    return check


def size_check(expected: int) -> Check:
    """A check that the file holds exactly ``expected`` bytes."""

    def check(path: Path) -> str | None:
        size = path.stat().st_size
        return None if size == expected else f"{size} bytes written of {expected}"

    return check


def verify(tmp: Path, check: Check | None = None) -> None:
    """Flush a written file to disk and read it back with ``check``; raise OSError when it is
    not whole (ENOSPC when the disk is full)."""
    if tmp.is_file():
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    problem = check(tmp) if check is not None else None
    if problem is not None:
        if _disk_full(tmp.parent):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise OSError(errno.EIO, problem)


def _disk_full(folder: Path) -> bool:
    """Whether the disk of ``folder`` is full (for the user writing: blocks reserved to root do
    not count), so that a short file is reported as ENOSPC rather than a bare I/O error."""
    fs = os.statvfs(folder)
    return fs.f_bavail * fs.f_frsize < 64 * 1024 or (fs.f_files > 0 and fs.f_favail == 0)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the renames stand
    finally:
        os.close(fd)


def is_temporary(path: str | Path) -> bool:
    """Whether ``path`` is one of the temporaries written here (a target not yet in place)."""
    return Path(path).name.startswith(TEMP_PREFIX)


# --------------------------------------------------------------------------- one file
@contextmanager
def atomic_write(path: str | Path, check: Check | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending with its name, so writers that go by the
    extension pick the right format); on success it is flushed, read back with ``check`` and renamed over
    ``path`` in one step.

    Write the file to the yielded path by any means (``open``, gdstk, KLayout). If the block
    raises, or the file is not whole, the temporary file is removed, ``path`` is left as it was
    and an :class:`OutputError` naming ``path`` is raised for an OSError. A ``path`` that is
    itself a temporary of an :class:`OutputSet` is written in place (its set renames it).
    """
    path = Path(path)
    if is_temporary(path):
        try:
            yield path
            verify(path, check)
        except OSError as exc:
            raise exc if isinstance(exc, OutputError) else OutputError(path, exc) from None
        return
    _refuse_non_regular(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f".{path.name}", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        verify(tmp, check)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise exc if isinstance(exc, OutputError) else OutputError(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, its size read back."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_write(path, size_check(len(raw))) as tmp:
        tmp.write_bytes(raw)
    return Path(path)


def _file_mode(path: Path) -> int:
    """The mode a new file gets (0666 less the umask; a temporary file is 0600), or the mode of
    the file being replaced."""
    if path.exists():
        return path.stat().st_mode & 0o777
    return 0o666 & ~_umask()


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _refuse_non_regular(path: Path, directory: bool = False) -> None:
    """Refuse an output onto an existing device, FIFO, socket or folder (a file for a folder)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    kind = _kind(mode)
    wanted = "directory" if directory else "regular file"
    if kind != wanted:
        raise OutputError(path, reason=f"it is a {kind}, not a {wanted}")


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISREG: "regular file",
        stat.S_ISDIR: "directory",
        stat.S_ISCHR: "character device",
        stat.S_ISBLK: "block device",
        stat.S_ISFIFO: "FIFO",
        stat.S_ISSOCK: "socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "special file")


# --------------------------------------------------------------------------- a set of outputs
@dataclass
class _Output:
    path: Path
    role: str
    what: str
    directory: bool
    tmp: Path | None = None
    inside: bool = False  # a folder output staged inside the folder that exists
    made: list[Path] = field(default_factory=list)  # folders created for it, deepest last


class OutputSet:
    """All the outputs of one command, written all or none.

    ``inputs`` maps a description (``"the spec"``) to each file the command reads. Declare every
    output with :meth:`add` before writing any (collisions are refused then, with nothing
    written), write each to :meth:`temporary` inside ``with``, and the set renames them all into
    place when the block ends without error; on an error (or SIGTERM/SIGINT turned into an
    exception) every temporary is removed and no final path is touched::

        out = OutputSet({"the spec": "spec.yaml"})
        gds = out.add("x.gds", "-o", "the layout output")
        with out:
            write_gds(out.temporary(gds))
    """

    def __init__(self, inputs: Mapping[str, str | Path | None] | None = None):
        self._inputs = [
            (what, Path(path))
            for what, path in (inputs or {}).items()
            if path is not None and str(path) != "-"
        ]
        self._outputs: dict[Path, _Output] = {}

    def add(self, path: str | Path, role: str, what: str, directory: bool = False) -> Path:
        """Declare an output (``role`` the option that names it, ``what`` the kind of output);
        refuse it when it is an input, another output, a non-regular file, lies under a file,
        or is ``-`` (standard output carries the command's summary, not a file named -)."""
        if str(path) == "-":
            raise OutputError(
                Path(path),
                reason=f"{role or what} is written to a file, not to standard output (which "
                "carries the summary): give a file name",
            )
        named = f"{role or what} {path}"  # as given: Path would drop a leading ./
        path = Path(path)
        self._refuse_clash(path, named)
        _refuse_non_regular(path, directory)
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise OutputError(path, reason=f"{blocker} is a file, not a directory")
        self._outputs[path] = _Output(path, role, what, directory)
        return path

    def declares(self, path: str | Path) -> bool:
        """Whether ``path`` is one of the declared outputs (the same file by any name)."""
        return any(_same(Path(path), out.path) for out in self._outputs.values())

    def temporary(self, path: str | Path) -> Path:
        """The hidden temporary to write the declared output ``path`` to (made on first use):
        a file, or for a folder output an empty folder whose files are moved into ``path``."""
        out = self._outputs[Path(path)]
        if is_temporary(out.path):
            return out.path  # already another set's temporary: written in place
        if out.tmp is None:
            out.made = _missing_parents(out.path)
            try:
                out.path.parent.mkdir(parents=True, exist_ok=True)
                if out.directory:
                    out.inside = out.path.is_dir()  # stage within it: files move up, same disk
                    out.tmp = Path(
                        tempfile.mkdtemp(
                            prefix=TEMP_PREFIX,
                            suffix="" if out.inside else f".{out.path.name}",
                            dir=out.path if out.inside else out.path.parent,
                        )
                    ).absolute()
                else:
                    fd, name = tempfile.mkstemp(
                        prefix=TEMP_PREFIX, suffix=f".{out.path.name}", dir=out.path.parent
                    )
                    os.close(fd)
                    out.tmp = Path(name).absolute()
            except OSError as exc:
                raise OutputError(out.path, exc) from None
        return out.tmp

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            try:
                self._commit()
                return
            except BaseException:
                with _signals_held():
                    self._rollback()
                raise
        reason: str | None
        if isinstance(exc, OutputError):
            final, reason = self._final(exc.path), exc.reason
        elif isinstance(exc, OSError) and exc.filename is not None:
            final, reason = self._final(Path(os.fsdecode(exc.filename))), exc.strerror
        else:
            final, reason = None, None
        with _signals_held():
            self._rollback()
        if final is not None:
            raise OutputError(final, reason=reason or str(exc)) from None

    def _refuse_clash(self, path: Path, named: str, folder: _Output | None = None) -> None:
        """Refuse an output ``path`` (or a file of the output ``folder``) that is another output
        or an input."""
        for other in self._outputs.values():
            if other is not folder and _same(path, other.path):
                raise Collision(path, f"{named} is also {other.what} {other.role}".rstrip())
        for description, source in self._inputs:
            if _same(path, source):
                raise Collision(path, f"{named} is also {description} (an input)")

    def _final(self, path: Path) -> Path | None:
        """The final path a path under one of the temporaries stands for (None: not ours)."""
        path = path.absolute()
        for out in self._outputs.values():
            if out.tmp is not None and (path == out.tmp or out.tmp in path.parents):
                return out.path / path.relative_to(out.tmp) if out.directory else out.path
        return None

    def _commit(self) -> None:
        written = [out for out in self._outputs.values() if out.tmp is not None]
        for out in written:
            assert out.tmp is not None
            try:
                verify(out.tmp, None)
            except OSError as exc:
                raise OutputError(out.path, exc) from None
            if out.directory:  # its file names are known now, before any rename
                for entry in out.tmp.iterdir():
                    target = out.path / entry.name
                    self._refuse_clash(target, f"{target} (in {out.role or out.what})", out)
        with _signals_held():
            for out in written:
                self._rename(out)

    def _rename(self, out: _Output) -> None:
        """Move a complete output into place (a folder's files into an existing folder)."""
        assert out.tmp is not None
        try:
            if out.inside:
                for entry in sorted(out.tmp.iterdir()):
                    os.replace(entry, out.path / entry.name)
                out.tmp.rmdir()
            else:
                mode = 0o777 & ~_umask() if out.directory else _file_mode(out.path)
                os.chmod(out.tmp, mode)
                os.replace(out.tmp, out.path)
        except OSError as exc:
            raise OutputError(out.path, exc) from None
        out.tmp = None
        _sync_folder(out.path.parent)

    def _rollback(self) -> None:
        for out in self._outputs.values():
            if out.tmp is not None:
                if out.tmp.is_dir():
                    shutil.rmtree(out.tmp, ignore_errors=True)
                else:
                    out.tmp.unlink(missing_ok=True)
                out.tmp = None
            for folder in reversed(out.made):
                try:
                    folder.rmdir()
                except OSError:
                    break


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP for the block and raise them again after it, so that
    renaming a set's outputs, or removing its temporaries, is not cut half way. (Python runs
    signal handlers in the main thread only: elsewhere there is nothing to hold.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, frame: caught.append(number))
        for number in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file: equal once resolved, or the same existing file."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _missing_parents(path: Path) -> list[Path]:
    """The folders above ``path`` that do not exist yet, outermost first."""
    return [p for p in reversed(path.parents) if not p.exists()]
