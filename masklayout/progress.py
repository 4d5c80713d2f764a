"""Progress on a terminal for operations that take more than a few seconds.

A :class:`Progress` shows a bar (:meth:`Progress.track`) or a one-line status
(:meth:`Progress.step`) on stderr. It is silent unless enabled, and the CLI enables it only
when both stdout and stderr are terminals and ``--quiet`` was not given, so piped output and
scripts see nothing. API functions take a ``progress`` argument defaulting to :data:`SILENT`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import click

T = TypeVar("T")

_CLEAR_LINE = "\r\033[K"


def on_terminal() -> bool:
    """True when stdout and stderr are both terminals (nothing is piped or redirected)."""
    return sys.stdout.isatty() and sys.stderr.isatty()


@dataclass(frozen=True)
class Progress:
    """Where a long operation reports how far it got: on stderr when ``enabled``, else nowhere."""

    enabled: bool = False

    @classmethod
    def for_terminal(cls, quiet: bool = False) -> Progress:
        """Enabled on an interactive terminal, unless ``quiet``."""
        return cls(enabled=not quiet and on_terminal())

    def track(self, items: Iterable[T], label: str, length: int | None = None) -> Iterator[T]:
        """Yield ``items``, drawing a progress bar labelled ``label`` while they are consumed."""
        if not self.enabled:
            yield from items
            return
        total = length if length is not None else len(items) if isinstance(items, Sized) else 0
        with click.progressbar(
            items,
            length=length,
            label=label,
            file=sys.stderr,
            show_pos=True,
            width=30,
            update_min_steps=max(1, total // 200),  # redraw about 200 times, not per item
        ) as bar:
            yield from bar

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Show ``label ...`` on stderr while the block runs; the line is cleared after."""
        if not self.enabled:
            yield
            return
        sys.stderr.write(f"{label} ...")
        sys.stderr.flush()
        try:
            yield
        finally:
            sys.stderr.write(_CLEAR_LINE)
            sys.stderr.flush()


SILENT = Progress(enabled=False)
