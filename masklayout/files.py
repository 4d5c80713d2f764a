"""Atomic file writes: every output is written to a temporary file beside its target and renamed
over it at the end, so a failure leaves the old file (or none), never half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputError(OSError):
    """An output that cannot be written, named as the user gave it (not the temporary file)."""

    def __init__(self, path: Path, cause: OSError):
        in_file = next((p for p in path.parents if p.is_file()), None)
        reason = f"{in_file} is a file, not a directory" if in_file else cause.strerror
        self.message = f"cannot write {path}: {reason or cause}"
        super().__init__(cause.errno, self.message)

    def __str__(self) -> str:
        return self.message


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so writers that go by the extension
    pick the right format); on success it replaces ``path`` in one rename.

    Write the file to the yielded path by any means (``open``, gdstk, KLayout). If the block
    raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise OutputError(path, exc) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def _file_mode(path: Path) -> int:
    """The mode a new file gets (0666 less the umask; a temporary file is 0600), or the mode of
    the file being replaced."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
