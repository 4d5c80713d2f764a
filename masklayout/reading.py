"""Reading input files safely: a size cap, UTF-8 decoding with the place of a bad byte, and the
limits a YAML document must keep (nesting depth, plain keys, no control characters in values),
each a located :class:`~masklayout.source.Problem` instead of a traceback or a hang."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from masklayout.source import Loc, Problem, SpecError, format_path

MiB = 1024 * 1024
MAX_SPEC_BYTES = 16 * MiB  # a spec or a tech file: far beyond any hand-written one
MAX_BUMP_FILE_BYTES = 256 * MiB  # a bump map: millions of rows
MAX_DEPTH = 64  # nesting levels of a YAML document; a spec needs about 8
MAX_SITES_PER_DIE = 1_000_000  # bump sites on one die, counted before they are made
MAX_SITES_PER_WAFER = 1e9  # bump sites on a wafer: sites per die x dies that fit
# how layouts begin: a GDSII HEADER record, OASIS's magic, gzip's (a .gds.gz)
LAYOUT_STARTS = (b"\x00\x06\x00\x02", b"%SEMI-OASIS", b"\x1f\x8b")


def read_bytes(path: str | Path, cap: int, what: str = "file") -> tuple[bytes, str]:
    """The bytes of ``path`` (``-``: standard input) and the name to report it by; at most
    ``cap + 1`` bytes are read, and a larger input, or a layout, is a SpecError (``/dev/zero``
    ends too). OSError when the file cannot be read."""
    if str(path) == "-":
        data, name = sys.stdin.buffer.read(cap + 1), "<stdin>"
    else:
        name = str(path)
        with open(path, "rb") as stream:
            data = stream.read(cap + 1)
    if data.startswith(LAYOUT_STARTS):
        raise SpecError([Problem(name, None, None, "", f"a layout (GDSII or OASIS), not {what}")])
    if len(data) > cap:
        raise SpecError(
            [Problem(name, None, None, "", f"{what} larger than {cap:,} bytes: refused")]
        )
    return data, name


def decode(data: bytes, file: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped); a byte that is not UTF-8 is an error
    at its line and column."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise SpecError(
            [
                Problem(
                    file,
                    line,
                    column,
                    "",
                    f"not UTF-8 text: byte 0x{bad} (save the file as UTF-8; a binary file?)",
                )
            ]
        ) from None


def reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """PyYAML's refusal of a character (a control character in the file), located."""
    line = text.count("\n", 0, exc.position) + 1
    column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    return Problem(
        file,
        line,
        column,
        "",
        f"control character {_codepoint(chr(exc.character) if isinstance(exc.character, int) else exc.character)} "
        "in the text (only tab and line breaks are allowed)",
    )


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}" if char else "?"


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Unicode's Cc less tab, LF, CR


def control_character(text: str) -> str | None:
    """The first control character (other than tab and line breaks) in ``text``, as U+XXXX."""
    found = _CONTROL.search(text)
    return _codepoint(found.group()) if found else None


def text_problem(text: str, file: str) -> Problem | None:
    """A control character in a text file (a bump map), at its line and column."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    start = found.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Problem(
        file,
        line,
        column,
        "",
        f"control character {_codepoint(found.group())} in the text (only tab and line breaks are allowed)",
    )


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def document_problems(root: yaml.Node | None, file: str) -> list[Problem]:
    """What a parsed YAML document may not hold: nesting deeper than :data:`MAX_DEPTH`, keys
    that are lists or mappings, control characters in values (``"\\0"`` escapes). Aliased nodes
    are visited once, so an alias bomb costs no time."""
    problems: list[Problem] = []
    seen: set[int] = set()
    for node, loc, depth in _walk(root, seen):
        line, column = _mark(node)
        where = format_path(loc)
        if depth > MAX_DEPTH:
            problems.append(
                Problem(file, line, column, where, f"nested deeper than {MAX_DEPTH} levels")
            )
            break
        if isinstance(node, yaml.MappingNode):
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    kind = "mapping" if isinstance(key, yaml.MappingNode) else "list"
                    problems.append(
                        Problem(
                            file,
                            *_mark(key),
                            where,
                            f"a key must be a plain name, found a {kind} ('? ' complex key)",
                        )
                    )
        elif isinstance(node, yaml.ScalarNode) and (bad := control_character(node.value)):
            problems.append(
                Problem(
                    file,
                    line,
                    column,
                    where,
                    f"control character {bad} in the value (only tab and line breaks are allowed)",
                )
            )
    return problems


def _walk(root: yaml.Node | None, seen: set[int]) -> Iterator[tuple[yaml.Node, Loc, int]]:
    """Every node once, with its key path and depth, without recursion."""
    stack: list[tuple[yaml.Node, list[str | int], int]] = [] if root is None else [(root, [], 1)]
    while stack:
        node, loc, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node, loc, depth
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, [*loc, str(name)], depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for k in reversed(range(len(node.value))):
                stack.append((node.value[k], [*loc, k], depth + 1))
