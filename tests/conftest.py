"""Fixtures shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import BASE_SPEC


@pytest.fixture
def spec_file(tmp_path: Path):
    """Write BASE_SPEC, optionally changed by (old, new) replacements, and return its path."""

    def write(*replacements: tuple[str, str], name: str = "spec.yaml") -> Path:
        text = BASE_SPEC
        for old, new in replacements:
            assert old in text, f"test bug: {old!r} not in the base spec"
            text = text.replace(old, new, 1)
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
