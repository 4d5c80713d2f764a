"""``python -m masklayout``: the ``masklayout`` command."""

from masklayout.cli import entry_point

entry_point()
