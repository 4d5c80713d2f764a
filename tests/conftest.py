"""Fixtures shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import BASE_SPEC

# Property tests are derandomised by default, so a run fails or passes the same way every time
# (CI included); HYPOTHESIS_PROFILE=explore searches with fresh randomness. A failure found
# while exploring becomes an @example on the test.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
