"""YAML with positions: load a document, keep where every key and item stands, and turn
validation errors into ``file:line:column: key.path: message`` problems."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from masklayout import bulk_yaml

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(ValueError):
    """Bad input: one or more located problems. ``str()`` gives one problem per line."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(loc: Loc) -> str:
    """``('die', 'bumps', 0, 'stack')`` -> ``die.bumps[0].stack``."""
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one) and stops
    composing at a nesting depth beyond :data:`masklayout.reading.MAX_DEPTH`, where PyYAML's
    recursive composer would otherwise exhaust the stack."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        from masklayout.reading import MAX_DEPTH

        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:  # '<<: *anchor' merges; the keys given here override it
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LOADERS: list[type] = [_Loader]
if hasattr(yaml, "CSafeLoader"):  # libyaml's parser: ~10x faster on a long bump list

    class _CLoader(yaml.CSafeLoader):
        """The same loader on libyaml's parser; its nodes carry the same marks."""

    _CLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _LOADERS.insert(0, _CLoader)


def _parse(text: str, loader_class: type, file: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and the data built from it: the text is parsed once, and what
    a document may not hold (too deep, complex keys, control characters) is refused before
    the data is built."""
    from masklayout.reading import document_problems

    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        problems = document_problems(node, file)
        if problems:
            raise SpecError(problems)
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _parse_fast(text: str, file: str) -> tuple[yaml.Node | None, Any]:
    """:func:`_parse` with libyaml; a document it refuses is parsed again by the pure-Python
    loader, whose messages (and hints) are the ones users see."""
    try:
        return bulk_yaml.parse(text, _LOADERS[0], lambda whole: _parse(whole, _LOADERS[0], file))
    except yaml.YAMLError:
        if len(_LOADERS) == 1:
            raise
    return _parse(text, _LOADERS[-1], file)


# What usually causes PyYAML's parser errors in a hand-written spec, by the start of the problem.
_YAML_HINTS = {
    "mapping values are not allowed here": "a key indented differently from the keys beside it, "
    "a missing ':' on the line above, or an unquoted ': ' inside a value?",
    "expected <block end>": "is this line indented differently from the lines before it at its level?",
    "found character '\\t'": "YAML indents with spaces, not tabs",
    "could not find expected ':'": "a key without ':', or a line indented deeper than its block?",
    "expected ',' or '}'": "an inline {...} mapping left open?",
    "expected ',' or ']'": "an inline [...] list left open?",
}


def _yaml_hint(exc: yaml.MarkedYAMLError) -> str:
    hint = next(
        (h for start, h in _YAML_HINTS.items() if (exc.problem or "").startswith(start)), ""
    )
    return f" ({hint})" if hint else ""


class SourceMap:
    """A parsed YAML document and the position of every node in it."""

    def __init__(self, text: str, file: str):
        from masklayout.reading import reader_problem

        self.file = file
        try:
            self.node, self.data = _parse_fast(text, file)
        except yaml.reader.ReaderError as exc:
            raise SpecError([reader_problem(exc, text, file)]) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise SpecError(
                [Problem(file, line, col, "", f"not valid YAML: {exc.problem}{_yaml_hint(exc)}")]
            ) from None

    @classmethod
    def read(cls, path: str | Path) -> SourceMap:
        """Read a YAML file (``-`` for standard input), UTF-8, at most 16 MiB."""
        from masklayout.reading import MAX_SPEC_BYTES, decode, read_bytes

        try:
            data, file = read_bytes(path, MAX_SPEC_BYTES, "a YAML file")
        except OSError as exc:
            raise SpecError(
                [Problem(str(path), None, None, "", exc.strerror or str(exc))]
            ) from None
        return cls(decode(data, file), file)

    def problem(self, loc: Loc, message: str, missing_last: bool = True) -> Problem:
        """A problem at key path ``loc``, placed at the deepest node of the path that exists.

        Items of ``loc`` that name no node (pydantic's union tags) are passed over, except the
        last, which is a missing key when it names nothing (and ``missing_last``).
        """
        node, line_col, shown = self.node, None, []
        if node is not None:
            line_col = (node.start_mark.line + 1, node.start_mark.column + 1)
        for i, item in enumerate(loc):
            child = _child(node, item)
            if child is None:
                if i == len(loc) - 1 and missing_last:
                    shown.append(item)
                continue
            key_node, node = child
            line_col = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            shown.append(item)
        line, col = line_col if line_col else (None, None)
        return Problem(self.file, line, col, format_path(shown), message)

    def error(self, loc: Loc, message: str) -> SpecError:
        return SpecError([self.problem(loc, message)])

    def validation_error(self, exc: ValidationError) -> SpecError:
        """Translate pydantic's errors into located problems."""
        problems = []
        for err in exc.errors(include_url=False):
            # a mapping key's own error ends in '[key]': the key itself is the place
            loc, message = [item for item in err["loc"] if item != "[key]"], _message(err)
            if err["type"] == "unknown_key":
                loc.append(err["ctx"]["key"])
            elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc.extend(_tag_key(err))
            if err["type"] == "missing" and loc and isinstance(loc[-1], int):  # a short pair
                loc, message = loc[:-1], f"expected a pair [x, y], found {loc[-1]} item(s)"
            missing = err["type"] in ("missing", "union_tag_not_found")
            problems.append(self.problem(loc, message, missing_last=missing))
        return SpecError(problems)


def _child(node: yaml.Node | None, item: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(node to point at, node to descend into) for ``item`` under ``node``, or None."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(item):
                return key_node, value_node
    elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
        return node.value[item], node.value[item]
    return None


# Keys that may be missing because another key stands in for them.
_MISSING_HINTS: dict[tuple[str | int, ...], str] = {
    ("wafer", "die_step"): " (or give die.size: the step is the size plus the scribe)"
}


def _message(err: ErrorDetails) -> str:
    kind, found = err["type"], err.get("input")
    if kind in ("unknown_key", "value_error", "assertion_error") or kind.startswith("spec_"):
        msg = err["msg"]
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing":
        return "required key is missing" + _MISSING_HINTS.get(tuple(err["loc"]), "")
    if isinstance(found, bool) and kind in ("int_type", "float_type", "int_from_float"):
        return f"expected a number, found {found} (YAML reads yes, no, on, off, true, false as booleans)"
    if kind == "tuple_type":
        shown = "a mapping" if isinstance(found, dict) else repr(found)
        return f"expected a pair [x, y], found {shown}"
    if kind in ("too_long", "too_short") and err.get("ctx", {}).get("field_type") == "Tuple":
        return f"expected a pair [x, y], found {err['ctx'].get('actual_length', 'a wrong number of')} items"
    if kind in ("too_long", "too_short"):  # a list's length, without pydantic's jargon
        ctx = err.get("ctx", {})
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        least = "at least" if kind == "too_short" else "at most"
        items = "item" if bound == 1 else "items"
        return f"expected {least} {bound} {items}, found {ctx.get('actual_length')}"
    if kind == "finite_number":
        return f"expected a finite number, found {found!r}"
    if kind == "union_tag_invalid" and _tag_key(err):
        tags = [tag.strip("'") for tag in err["ctx"]["expected_tags"].split(", ")]
        close = difflib.get_close_matches(err["ctx"]["tag"], tags, n=1)
        hint = f"did you mean '{close[0]}'?; " if close else ""
        return f"unknown {_tag_key(err)[0]} {err['ctx']['tag']!r} ({hint}known: {', '.join(tags)})"
    if kind == "union_tag_not_found" and _tag_key(err):
        return "required key is missing"
    if kind.startswith("union_tag"):
        return err["msg"]
    msg = err["msg"][0].lower() + err["msg"][1:]
    if isinstance(found, (dict, list)):
        return f"{msg} (found a {type(found).__name__})"
    return f"{msg} (found {found!r})"


def _tag_key(err: ErrorDetails) -> list[str]:
    """The key a tagged union is told apart by (``step``), as a one-item path; none when the
    union is told apart by a function rather than a key."""
    key = err.get("ctx", {}).get("discriminator", "")
    return [key.strip("'")] if key.startswith("'") and key.endswith("'") else []


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'VDD'?)`` when a known name is close to ``name`` (the same but for
    case first: 'Vdd' is not close to 'VDD' letter by letter), else nothing."""
    known = list(known)
    close = [k for k in known if k.casefold() == name.casefold()]
    close = close or difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key_hint(key: str, known: Iterable[str]) -> str:
    """``unknown key 'pich' (did you mean 'pitch'?; known: count, pitch)``."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'?; " if close else ""
    return f"unknown key '{key}' ({hint}known: {', '.join(known)})"
