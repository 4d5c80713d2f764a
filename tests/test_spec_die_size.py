"""The die size may be given directly (die.size): the step is then the size plus the scribe."""

from __future__ import annotations

import pytest

from masklayout.source import SpecError
from masklayout.spec import loads
from tests.helpers import BASE_SPEC

WITHOUT_STEP = BASE_SPEC.replace("  die_step: [3080, 2680]\n", "")


def test_the_step_is_the_die_size_plus_the_scribe():
    text = WITHOUT_STEP.replace("die:\n", "die:\n  size: [3 mm, 2600 um]\n", 1)
    design = loads(text, "spec.yaml")
    assert design.spec.wafer.die_step == (3000 + 80, 2600 + 80)
    assert design.die_size == (3000, 2600)


def test_the_step_follows_the_scribe_given():
    text = WITHOUT_STEP.replace("  scribe: 80\n", "  scribe: 100\n").replace(
        "die:\n", "die:\n  size: [3000, 2600]\n", 1
    )
    assert loads(text, "spec.yaml").spec.wafer.die_step == (3100, 2700)


def test_a_size_beside_a_step_must_agree_with_it():
    text = BASE_SPEC.replace("die:\n", "die:\n  size: [3000, 2500]\n", 1)
    with pytest.raises(
        SpecError, match=r"spec.yaml:11:3: die.size: die size 3000 x 2500 disagrees"
    ):
        loads(text, "spec.yaml")
    loads(BASE_SPEC.replace("die:\n", "die:\n  size: [3000, 2600]\n", 1), "spec.yaml")


def test_neither_size_nor_step_names_both():
    with pytest.raises(
        SpecError, match=r"wafer.die_step: required key is missing \(or give die.size"
    ):
        loads(WITHOUT_STEP, "spec.yaml")
