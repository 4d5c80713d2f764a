"""Long lists of one-line flow mappings (``- {name: A1, at: [100, -200]}``, a listed bump per
line) or of small block mappings (``- name: A1`` and ``  at: [100, -200]`` below it, a key per
line) read without building a YAML node per value.

Even libyaml makes seven nodes and their marks per such bump in Python: 40,000 listed bumps take
seconds. Here every run of at least :data:`MIN_RUN` consecutive entries of either form (same
indent, keys and plain scalars or ``[a, b]`` pairs of them; a block entry ends where a line
no deeper than its dash follows) is cut out of the text before parsing (one
placeholder entry in its place, blank lines after it so every later line keeps its number), its
values resolved by the loader's own resolver (a str, or an int or float written plainly; any
other scalar leaves the line to the parser), and spliced back into the data. Its nodes are
composed from the line only when an error is located in it. Whenever anything does not fit (a
run inside a block scalar, an alias to the list), the text is parsed whole as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

MIN_RUN = 64
_PLACEHOLDER = "__masklayout_bulk_run__"
_LINE = re.compile(r"^( *)- (\{.*\})[ \t]*$")
_TOKEN = r"(?:[A-Za-z0-9_.+]|-[0-9.])[A-Za-z0-9_.+\-]*"
_FIELD = re.compile(rf" *({_TOKEN}) *: +(?:\[ *({_TOKEN}) *, *({_TOKEN}) *\]|({_TOKEN})) *(,|\}}$)")
_BLOCK_FIELD = re.compile(
    rf"({_TOKEN}) *: +(?:\[ *({_TOKEN}) *, *({_TOKEN}) *\]|({_TOKEN}))[ \t]*$"
)
_BLOCK_FIRST = re.compile(r"^( *)- +(?=[^ {\[-])")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?")
_STR, _INT_TAG, _FLOAT_TAG = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float"))


class _LazyEntry(yaml.MappingNode):
    """The node of a flow mapping read by the fast path, composed from its line when asked."""

    def __init__(self, text: str, line: int, column: int, loader: type, flow: bool = True):  # noqa: D107
        self._source = (text, line, column, loader)
        self._flow = flow
        self._composed: yaml.Node | None = None

    def _node(self) -> yaml.Node:
        if self._composed is None:
            text, line, column, loader = self._source
            composed = yaml.compose("\n" * line + " " * column + text, Loader=loader)
            assert composed is not None, "a flow mapping is never an empty document"
            self._composed = composed
        return self._composed

    tag = property(lambda self: self._node().tag)
    value = property(lambda self: self._node().value)
    start_mark = property(lambda self: self._node().start_mark)
    end_mark = property(lambda self: self._node().end_mark)
    flow_style = property(lambda self: self._flow)


@dataclass
class _Run:
    """Consecutive entries: their first line (0-based), the line after them, and what they
    hold."""

    first: int
    end: int
    indent: int
    data: list[dict[str, Any]]
    nodes: list[yaml.Node]


def parse(text: str, loader_class: type, parse_whole: Any) -> tuple[yaml.Node | None, Any]:
    """``parse_whole(text)`` (node tree, data), with runs of entry lines taken by the fast path."""
    lines = text.split("\n")
    runs = _runs(lines, loader_class)
    if not runs:
        return parse_whole(text)
    cut = list(lines)
    for k, run in enumerate(runs):
        cut[run.first] = " " * run.indent + f"- {{{_PLACEHOLDER}: {k}}}"
        for i in range(run.first + 1, run.end):
            cut[i] = ""
    try:
        node, data = parse_whole("\n".join(cut))
    except yaml.YAMLError:  # reported as the whole text has it
        return parse_whole(text)
    found: set[int] = set()
    if (
        node is None
        or not _splice(node, data, runs, found, set())
        or found != set(range(len(runs)))
    ):
        return parse_whole(text)
    return node, data


def _runs(lines: list[str], loader_class: type) -> list[_Run]:
    resolver = yaml.resolver.Resolver()
    tags: dict[str, str] = {}
    runs: list[_Run] = []
    current: _Run | None = None
    number = 0
    while number < len(lines):
        line = lines[number]
        entry = _entry(line, resolver, tags) if line.startswith(" ", 0) or line[:1] == "-" else None
        if entry is None:
            entry = _block_entry(lines, number, resolver, tags)
        if entry is not None:
            indent, column, text, data, size = entry
            if current is None or indent != current.indent or current.end != number:
                if current is not None and len(current.data) >= MIN_RUN:
                    runs.append(current)
                current = _Run(number, number, indent, [], [])
            current.data.append(data)
            current.nodes.append(_LazyEntry(text, number, column, loader_class, column != 0))
            current.end = number = number + size
            continue
        if current is not None and len(current.data) >= MIN_RUN:
            runs.append(current)
        current = None
        number += 1
    if current is not None and len(current.data) >= MIN_RUN:
        runs.append(current)
    return runs


def _entry(
    line: str, resolver: yaml.resolver.Resolver, tags: dict[str, str]
) -> tuple[int, int, str, dict[str, Any], int] | None:
    """(indent, column of ``{``, the mapping text, its data, 1 line) of an entry line, or
    None."""
    match = _LINE.match(line)
    if match is None:
        return None
    flow, column = match.group(2), len(match.group(1)) + 2
    data: dict[str, Any] = {}
    pos = 1
    while pos < len(flow):
        field = _FIELD.match(flow, pos)
        if field is None:
            return None
        key, first, second, single = field.group(1, 2, 3, 4)
        if _value(key, resolver, tags) != key or key in data:
            return None
        if single is not None:
            value: Any = _value(single, resolver, tags)
        else:
            value = [_value(first, resolver, tags), _value(second, resolver, tags)]
            if None in value:
                return None
        if value is None:
            return None
        data[key] = value
        pos = field.end()
        if field.group(5) == "}":
            break
    if pos != len(flow) or not data:
        return None
    return len(match.group(1)), column, flow, data, 1


def _block_entry(
    lines: list[str], number: int, resolver: yaml.resolver.Resolver, tags: dict[str, str]
) -> tuple[int, int, str, dict[str, Any], int] | None:
    """(indent, column 0, the entry's lines with its dash blanked, its data, its line count)
    of a block mapping entry starting at line ``number`` (``- key: value``, then ``key: value``
    lines under its first key), or None. Whatever follows it must stand no deeper than its
    dash (the next entry, a key of the parent, the end): else the mapping may go on."""
    first = _BLOCK_FIRST.match(lines[number])
    if first is None:
        return None
    indent, column = len(first.group(1)), first.end()
    data: dict[str, Any] = {}
    end = number
    while end < len(lines):
        line = lines[end]
        if end > number and (line[:column].strip() or len(line) == len(line[:column])):
            break
        field = _BLOCK_FIELD.fullmatch(line, column)
        if field is None or (end > number and line[column : column + 1] == " "):
            return None
        key, a, b, single = field.group(1, 2, 3, 4)
        if _value(key, resolver, tags) != key or key in data:
            return None
        value: Any = (
            _value(single, resolver, tags)
            if single is not None
            else [_value(a, resolver, tags), _value(b, resolver, tags)]
        )
        if value is None or (isinstance(value, list) and None in value):
            return None
        data[key] = value
        end += 1
    after = lines[end] if end < len(lines) else ""
    if end < len(lines) and (not after.strip() or len(after) - len(after.lstrip(" ")) > indent):
        return None
    text = "\n".join([" " * column + lines[number][column:], *lines[number + 1 : end]])
    return indent, 0, text, data, end - number


def _value(token: str, resolver: yaml.resolver.Resolver, tags: dict[str, str]) -> Any:
    """A plain scalar as YAML reads it, when it is a str, a plain int or a plain float."""
    tag = tags.get(token)
    if tag is None:
        tag = tags[token] = resolver.resolve(yaml.ScalarNode, token, (True, False))
    if tag == _STR:
        return token
    if tag == _INT_TAG and _INT.fullmatch(token):
        return int(token)
    if tag == _FLOAT_TAG and _FLOAT.fullmatch(token):
        return float(token)
    return None


def _placeholder(node: yaml.Node) -> int | None:
    if (
        isinstance(node, yaml.MappingNode)
        and not isinstance(node, _LazyEntry)
        and len(node.value) == 1
    ):
        key, value = node.value[0]
        if isinstance(key, yaml.ScalarNode) and key.value == _PLACEHOLDER:
            return int(value.value)
    return None


def _splice(node: yaml.Node, data: Any, runs: list[_Run], found: set[int], seen: set[int]) -> bool:
    """Put the runs back where their placeholders stand, in the node tree and the data; False
    when the two do not walk alike (aliases, merge keys)."""
    if id(node) in seen:
        return _placeholder_free(node)
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        if not isinstance(data, list) or len(data) != len(node.value):
            return False
        nodes: list[yaml.Node] = []
        items: list[Any] = []
        for child, item in zip(node.value, data, strict=True):
            k = _placeholder(child)
            if k is not None:
                if k in found:
                    return False
                found.add(k)
                nodes += runs[k].nodes
                items += runs[k].data
                continue
            if not _splice(child, item, runs, found, seen):
                return False
            nodes.append(child)
            items.append(item)
        node.value[:] = nodes
        data[:] = items
        return True
    if isinstance(node, yaml.MappingNode) and not isinstance(node, _LazyEntry):
        if not isinstance(data, dict):
            return False
        for key, child in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in data:
                if not _splice(child, data[key.value], runs, found, seen):
                    return False
            elif not _placeholder_free(child):
                return False
    return True


def _placeholder_free(node: yaml.Node) -> bool:
    """No placeholder below a node the splice cannot follow."""
    if _placeholder(node) is not None:
        return False
    if isinstance(node, yaml.SequenceNode):
        return all(_placeholder_free(child) for child in node.value)
    if isinstance(node, yaml.MappingNode) and not isinstance(node, _LazyEntry):
        return all(_placeholder_free(k) and _placeholder_free(v) for k, v in node.value)
    return True
