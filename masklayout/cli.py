"""Command line: thin click commands over the Python API.

Exit codes: 0 success, 1 the checks or the process found a failure, 2 bad input or usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from masklayout import spec as spec_module
from masklayout.source import SpecError

EXIT_FAILURE, EXIT_BAD_INPUT = 1, 2


def reports_bad_input(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SpecError (or a missing file) into its message on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SpecError, FileNotFoundError) as exc:
            click.echo(f"error: {exc}" if isinstance(exc, FileNotFoundError) else str(exc), err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="masklayout")
def main() -> None:
    """masklayout: wafer-level solder bumping mask sets from one YAML spec.

    build   the mask set as GDSII/OASIS     run    the process flow and solder balls
    check   the rule deck with KLayout      size   the opening for a target ball
    """


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec, for editors to validate and complete specs."""
    print_json(spec_module.json_schema())
