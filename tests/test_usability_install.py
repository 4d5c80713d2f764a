"""What a fresh `pip install .` ships: every subpackage of masklayout, not only the ones the
editable install of the development venv happens to find on disk."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT

tomllib = pytest.importorskip("tomllib")


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "masklayout").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "subpackages missing from [tool.setuptools] packages"
