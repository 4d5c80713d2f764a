"""The steps that grow with the bumps on a die, made O(n log n): each fast path against an
independent brute-force computation on a small case."""

from __future__ import annotations

import pytest
import yaml

from masklayout import SpecError
from masklayout.source import SourceMap
from tests.helpers import BASE_SPEC


def _marks(node: yaml.Node) -> list[tuple[str, int, int]]:
    """(kind, line, column) of every node of a tree, depth first."""
    out = [(type(node).__name__, node.start_mark.line, node.start_mark.column)]
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            out += _marks(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _marks(key) + _marks(value)
    return out


def test_spec_parsed_once_gives_the_pure_python_loaders_data_and_positions() -> None:
    source = SourceMap(BASE_SPEC, "spec.yaml")
    assert source.data == yaml.load(BASE_SPEC, Loader=yaml.SafeLoader)
    assert _marks(source.node) == _marks(yaml.compose(BASE_SPEC, Loader=yaml.SafeLoader))


@pytest.mark.parametrize(
    "text", ["a: 1\n  b: 2\n", "a: [1, 2\n", "a:\n\t- 1\n"], ids=["indent", "open list", "tab"]
)
def test_yaml_errors_keep_the_pure_python_loaders_messages(text: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as expected:
        yaml.load(text, Loader=yaml.SafeLoader)
    mark = expected.value.problem_mark
    with pytest.raises(SpecError) as got:
        SourceMap(text, "x.yaml")
    assert str(got.value).startswith(f"x.yaml:{mark.line + 1}:{mark.column + 1}: not valid YAML: ")
    assert expected.value.problem in str(got.value)


def test_duplicate_keys_still_refused() -> None:
    with pytest.raises(SpecError, match=r"x.yaml:2:1: not valid YAML: duplicate key 'a'"):
        SourceMap("a: 1\na: 2\n", "x.yaml")
