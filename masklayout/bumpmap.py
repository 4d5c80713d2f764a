"""Bump maps in: bump sites read from a CSV file or an Amkor AIF die file.

A ``die.bumps`` entry ``{file: bumps.csv, format: csv, units: um, origin: center, mirror: false,
stack: std}`` imports every bump of the file as a site (path relative to the spec file).

Accepted formats (a malformed line is an error at ``file:line:column``; all are reported):

CSV
    A header line naming the columns, then one bump per line. Columns ``name``, ``x``, ``y``
    (required) and ``net``, ``stack`` (optional: cells may be empty, trailing ones left out; a
    net of ``-`` is no net, as in AIF), in
    any order, separated by commas (or semicolons or tabs, as the header uses). Blank lines and lines starting with
    ``#`` are skipped; a UTF-8 byte-order mark is ignored. The file states no units or origin:
    micrometres and the die centre unless the entry says otherwise.

AIF I (Amkor die netlist)
    Header lines ``KEY=value`` (``DIE_UNITS``, ``DIE_X``, ``DIE_Y`` are used; ``DIE_NAME``,
    ``DIE_PAD_SIZE`` and others are ignored), then rows ``die_pad_num x y net_name [ball_num]``
    separated by spaces or tabs, ``-`` for an unknown net or ball. Pad numbers are integers,
    each used once. ``;`` starts a comment.

AIF II
    Sections ``[DATABASE]`` (first; ``TYPE=AIF``, ``VERSION=2..``, ``UNITS=um|mm|cm|inch|mil``),
    ``[DIE]`` (``WIDTH``, ``HEIGHT``, optional ``CENTER=x y``), ``[PADS]`` (padstack names:
    ``DP60=SQUARE 60``) and ``[NETLIST]`` with die-pad rows ``NETNAME PAD# PADSTACK X Y [BALL]``.
    Rows whose pad is ``-`` (package balls with no die pad) are skipped, as are other sections
    (``[RINGS]``, ``[BGA]``, ...), as AIF readers do. Package netlists with finger and ball
    coordinates (more than six columns) are refused.

Bump names are the CSV ``name``, or for AIF the die pad number (``names: pad``) or the ball
name (``names: ball``). Coordinates are converted to µm (``units``, or the units the file
declares), moved so the die centre is at (0, 0) (``origin: center``, the AIF ``CENTER`` when
the file gives one, or ``lower_left``: the die size is the AIF die size, else die_step less
scribe), mirrored in x when ``mirror: true`` (a top-view map onto the bump side), and put on the
1 nm grid.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar

from masklayout.fields import MAX_LENGTH, StrictModel
from masklayout.reading import (
    MAX_BUMP_FILE_BYTES,
    MAX_SITES_PER_DIE,
    decode,
    read_bytes,
    text_problem,
)
from masklayout.source import Loc, Problem, SourceMap, SpecError

Units = Literal["nm", "um", "mm", "cm", "mil", "inch"]
UNIT_UM: dict[str, float] = {
    "nm": 1e-3,
    "um": 1.0,
    "mm": 1e3,
    "cm": 1e4,
    "mil": 25.4,
    "inch": 25400.0,
}
_UNIT_ALIASES = {"µm": "um", "micron": "um", "microns": "um", "in": "inch", "inches": "inch"}
NM_PER_UM = 1000
NO_NET = "-"  # a net cell of a bump on no net (AIF's unknown net, and CSV's the same)
CSV_COLUMNS = ("name", "x", "y", "net", "stack")


class BumpFile(StrictModel):
    """Bump sites imported from a bump map file (CSV or Amkor AIF; see :mod:`masklayout.bumpmap`).

    ``format`` defaults from the file suffix (.csv, .aif); ``units`` to the units the file
    declares, else um; ``origin`` to the die centre (or the AIF [DIE] CENTER); ``stack`` applies
    to rows that name none; ``names`` picks the AIF column that names the bumps.
    """

    file: str
    format: Literal["csv", "aif"] | None = None
    units: Units | None = None
    origin: Literal["center", "lower_left"] | None = None
    mirror: bool = False
    stack: str | None = None
    names: Literal["pad", "ball"] = "pad"


T = TypeVar("T")


@dataclass(frozen=True)
class Declared(Generic[T]):
    """A value the file itself states, with the line that states it."""

    value: T
    line: int


@dataclass(frozen=True)
class Row:
    """One bump as written in the file: coordinates in file units, and where it stands."""

    name: str
    x: float
    y: float
    net: str | None
    stack: str | None
    line: int
    stack_column: int | None = None


@dataclass(frozen=True)
class BumpMap:
    """A parsed bump map file: the rows read, what it declares about units and the die, and
    the lines that could not be read (``problems``; the rows hold the rest)."""

    file: str
    rows: tuple[Row, ...]
    problems: tuple[Problem, ...] = ()
    units: Declared[str] | None = None  # a key of UNIT_UM
    die_size: Declared[tuple[float, float]] | None = None  # (width, height) in file units
    center: Declared[tuple[float, float]] | None = None  # die centre (x, y) in file units


@dataclass(frozen=True)
class ImportedBump:
    """A bump site from a file, in µm on the die (centre origin, bump side), on the 1 nm grid."""

    name: str
    x: float
    y: float
    stack: str
    net: str | None
    line: int


# --------------------------------------------------------------------------- CSV
def parse_csv(text: str, file: str) -> BumpMap:
    """Parse a CSV bump map (header ``name,x,y[,net][,stack]``)."""
    problems: list[Problem] = []
    columns: dict[str, int] | None = None
    delimiter = ","
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if columns is None:
            delimiter = next((d for d in ",;\t" if d in line), ",")
            columns = _csv_header(_split(line, delimiter), file, number, problems)
            if columns is None:
                break
            continue
        fields = _split(line, delimiter)
        needed = 1 + max(columns[key] for key in ("name", "x", "y"))
        if not needed <= len(fields) <= len(columns):
            problems.append(
                Problem(
                    file,
                    number,
                    1,
                    "",
                    f"expected {len(columns)} fields ({', '.join(columns)}), found {len(fields)}",
                )
            )
            continue
        cell: dict[str, tuple[int | None, str]] = {
            key: fields[k] if k < len(fields) else (None, "") for key, k in columns.items()
        }
        name = cell["name"][1]
        if not name:
            problems.append(Problem(file, number, cell["name"][0], "", "empty bump name"))
            continue
        x = _number(cell["x"], "x", file, number, problems)
        y = _number(cell["y"], "y", file, number, problems)
        named = (cell["name"][0], name)
        if x is None or y is None or _duplicate(named, seen, file, number, problems):
            continue
        net = cell.get("net", (None, ""))[1]
        stack_col, stack = cell.get("stack", (None, ""))
        rows.append(
            Row(name, x, y, None if net in ("", NO_NET) else net, stack or None, number, stack_col)
        )
    if columns is None and not problems:
        problems.append(
            Problem(file, None, None, "", f"no header line (expected {','.join(CSV_COLUMNS)})")
        )
    return BumpMap(file, tuple(rows), tuple(problems))


def _split(line: str, delimiter: str) -> list[tuple[int, str]]:
    """Fields of a CSV line as read by :mod:`csv` (quoted fields, doubled quotes), each as
    (1-based column where it starts, value stripped)."""
    values = _csv_row(line, delimiter)
    # a delimiter ends a field where the line up to it has one field more than without it
    starts = [0] + [
        i + 1
        for i, char in enumerate(line)
        if char == delimiter
        and len(_csv_row(line[: i + 1], delimiter)) > max(1, len(_csv_row(line[:i], delimiter)))
    ]
    return [
        (start + 1 + _indent(line[start:]), value.strip())
        for start, value in zip(starts, values, strict=True)
    ]


def _csv_row(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])


def _indent(field: str) -> int:
    return len(field) - len(field.lstrip())


def _csv_header(
    fields: list[tuple[int, str]], file: str, line: int, problems: list[Problem]
) -> dict[str, int] | None:
    """Column name -> index, or None (with problems) when the header is not usable."""
    columns: dict[str, int] = {}
    for k, (col, raw) in enumerate(fields):
        key = raw.lower()
        if key not in CSV_COLUMNS:
            problems.append(
                Problem(
                    file,
                    line,
                    col,
                    "",
                    f"unknown column '{raw}' in the header (known: {', '.join(CSV_COLUMNS)}; "
                    "the first line that is not a comment is the header)",
                )
            )
        elif key in columns:
            problems.append(Problem(file, line, col, "", f"column '{key}' appears twice"))
        else:
            columns[key] = k
    missing = [key for key in ("name", "x", "y") if key not in columns]
    if missing:
        problems.append(Problem(file, line, 1, "", f"the header lacks column {', '.join(missing)}"))
    return None if problems else columns


# --------------------------------------------------------------------------- AIF
_SECTION_RE = re.compile(r"^\[\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*\]$")
AIF_UNITS = ("um", "mm", "cm", "inch", "mil")


def parse_aif(text: str, file: str, names: Literal["pad", "ball"] = "pad") -> BumpMap:
    """Parse an Amkor AIF die file (AIF I or AIF II)."""
    lines = [
        (number, line.split(";", 1)[0].strip())
        for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1)
    ]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        return BumpMap(file, (), (Problem(file, None, None, "", "empty AIF file: no die pads"),))
    if any(_SECTION_RE.match(line) for _, line in lines):
        return _parse_aif2(lines, file, names)
    return _parse_aif1(lines, file, names)


def _parse_aif1(lines: list[tuple[int, str]], file: str, names: str) -> BumpMap:
    problems: list[Problem] = []
    header: dict[str, tuple[str, int]] = {}
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number, line in lines:
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            header[key.upper()] = (value, number)
            continue
        fields = _words(line)
        if len(fields) not in (4, 5):
            problems.append(
                Problem(
                    file,
                    number,
                    1,
                    "",
                    "expected an AIF I die pad row 'die_pad_num x y net_name [ball_num]' "
                    f"or a KEY=value header line, found {len(fields)} fields",
                )
            )
            continue
        pad, x_field, y_field, net = fields[:4]
        ball = fields[4] if len(fields) == 5 else (0, "-")
        if not pad[1].isdigit():
            problems.append(
                Problem(
                    file, number, pad[0], "", f"die pad number must be an integer, found '{pad[1]}'"
                )
            )
            continue
        row = _aif_row(pad, x_field, y_field, net, ball, names, file, number, problems, seen)
        if row is not None:
            rows.append(row)
    units = _declared_units(header.get("DIE_UNITS"), file, problems)
    size = _declared_size(header.get("DIE_X"), header.get("DIE_Y"), file, problems)
    if not rows and not problems:
        problems.append(Problem(file, None, None, "", "no die pad rows in the AIF file"))
    return BumpMap(file, tuple(rows), tuple(problems), units, size)


def _parse_aif2(lines: list[tuple[int, str]], file: str, names: str) -> BumpMap:
    problems: list[Problem] = []
    sections: dict[str, list[tuple[int, str]]] = {}
    order: list[tuple[str, int]] = []
    current: list[tuple[int, str]] | None = None
    for number, line in lines:
        match = _SECTION_RE.match(line)
        if match:
            name = match.group(1).upper()
            current = sections.setdefault(name, [])
            order.append((name, number))
        elif current is None:
            problems.append(
                Problem(file, number, 1, "", "text before the first [SECTION] of an AIF II file")
            )
        else:
            current.append((number, line))
    if order and order[0][0] != "DATABASE":
        problems.append(
            Problem(file, order[0][1], 1, "", "an AIF II file starts with the [DATABASE] section")
        )
    for required in ("DATABASE", "NETLIST"):
        if required not in sections:
            problems.append(Problem(file, None, None, "", f"no [{required}] section"))
    if problems:
        return BumpMap(file, (), tuple(problems))

    database = _keys(sections["DATABASE"])
    kind = database.get("TYPE")
    if kind is None or kind[0].upper() != "AIF":
        where = kind[1] if kind else order[0][1]
        problems.append(Problem(file, where, 1, "", "[DATABASE] must say TYPE=AIF"))
    version = database.get("VERSION")
    if version is not None and not re.match(r"^[12](\.\d+)*$", version[0]):
        problems.append(
            Problem(file, version[1], 1, "", f"AIF version {version[0]} is not supported (1, 2)")
        )
    units = _declared_units(database.get("UNITS"), file, problems)
    die = _keys(sections.get("DIE", []))
    size = _declared_size(die.get("WIDTH"), die.get("HEIGHT"), file, problems)
    center = None
    if "CENTER" in die:
        value, number = die["CENTER"]
        xy = [_float(v) for v in value.replace(",", " ").split()]
        if len(xy) == 2 and xy[0] is not None and xy[1] is not None:
            center = Declared((xy[0], xy[1]), number)
        else:
            problems.append(
                Problem(file, number, 1, "", f"CENTER must be two numbers 'x y', found '{value}'")
            )
    padstacks = {line.split("=", 1)[0].strip() for _, line in sections.get("PADS", [])}

    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number, line in sections["NETLIST"]:
        fields = _words(line)
        if len(fields) not in (5, 6):
            problems.append(
                Problem(
                    file,
                    number,
                    1,
                    "",
                    "expected a die pad row 'NETNAME PAD# PADSTACK X Y [BALL]', found "
                    f"{len(fields)} fields (package netlists with fingers are not supported)",
                )
            )
            continue
        net, pad, padstack, x_field, y_field = fields[:5]
        if pad[1] == "-":  # a package ball with no die pad
            continue
        if "PADS" in sections and padstack[1] not in padstacks:
            problems.append(
                Problem(
                    file,
                    number,
                    padstack[0],
                    "",
                    f"padstack '{padstack[1]}' is not defined in [PADS] "
                    f"(defined: {', '.join(sorted(padstacks)) or 'none'}; names are case-sensitive)",
                )
            )
            continue
        ball = fields[5] if len(fields) == 6 else (0, "-")
        row = _aif_row(pad, x_field, y_field, net, ball, names, file, number, problems, seen)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem(file, None, None, "", "no die pad rows in [NETLIST]"))
    return BumpMap(file, tuple(rows), tuple(problems), units, size, center)


def _aif_row(
    pad: tuple[int, str],
    x_field: tuple[int, str],
    y_field: tuple[int, str],
    net: tuple[int, str],
    ball: tuple[int, str],
    names: str,
    file: str,
    line: int,
    problems: list[Problem],
    seen: dict[str, int],
) -> Row | None:
    x = _number(x_field, "x", file, line, problems)
    y = _number(y_field, "y", file, line, problems)
    if x is None or y is None:
        return None
    if names == "ball" and ball[1] == "-":
        problems.append(
            Problem(
                file, line, ball[0] or 1, "", f"die pad {pad[1]} has no ball name (names: ball)"
            )
        )
        return None
    named = ball if names == "ball" else pad
    if _duplicate(named, seen, file, line, problems, "ball" if names == "ball" else "die pad"):
        return None
    return Row(named[1], x, y, None if net[1] == NO_NET else net[1], None, line)


def _words(line: str) -> list[tuple[int, str]]:
    return [(m.start() + 1, m.group()) for m in re.finditer(r"\S+", line)]


def _keys(lines: list[tuple[int, str]]) -> dict[str, tuple[str, int]]:
    """``KEY=value`` lines of a section: upper-case key -> (value, line)."""
    return {
        key.strip().upper(): (value.strip(), number)
        for number, line in lines
        if "=" in line
        for key, value in [line.split("=", 1)]
    }


def _declared_units(
    entry: tuple[str, int] | None, file: str, problems: list[Problem]
) -> Declared[str] | None:
    if entry is None:
        return None
    value, line = entry
    unit = _UNIT_ALIASES.get(value.lower(), value.lower())
    if unit not in AIF_UNITS:
        problems.append(
            Problem(file, line, 1, "", f"unknown units '{value}' (known: {', '.join(AIF_UNITS)})")
        )
        return None
    return Declared(unit, line)


def _declared_size(
    width: tuple[str, int] | None,
    height: tuple[str, int] | None,
    file: str,
    problems: list[Problem],
) -> Declared[tuple[float, float]] | None:
    if width is None or height is None:
        return None
    sizes = []
    for (value, line), key in ((width, "width"), (height, "height")):
        number = _float(value)
        if number is None or number <= 0:
            problems.append(
                Problem(file, line, 1, "", f"die {key} must be a positive number, found '{value}'")
            )
        else:
            sizes.append(number)
    return Declared((sizes[0], sizes[1]), width[1]) if len(sizes) == 2 else None


# --------------------------------------------------------------------------- shared
def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _number(
    field: tuple[int | None, str], key: str, file: str, line: int, problems: list[Problem]
) -> float | None:
    value = _float(field[1])
    if value is None:
        problems.append(
            Problem(file, line, field[0], "", f"{key}: expected a number, found '{field[1]}'")
        )
    return value


def _duplicate(
    named: tuple[int | None, str],
    seen: dict[str, int],
    file: str,
    line: int,
    problems: list[Problem],
    what: str = "bump name",
) -> bool:
    """Whether the name (column, text) was used on an earlier line (a problem if so)."""
    col, name = named
    if name in seen:
        problems.append(
            Problem(file, line, col, "", f"{what} '{name}' is already used on line {seen[name]}")
        )
        return True
    seen[name] = line
    return False


def read(
    path: Path, format: Literal["csv", "aif"], names: Literal["pad", "ball"] = "pad"
) -> BumpMap:
    """Read and parse a bump map file (SpecError when it cannot be read, is too large, is not
    UTF-8 or has more lines than a die may have bump sites)."""
    data, file = read_bytes(path, MAX_BUMP_FILE_BYTES, "a bump map file")
    text = decode(data, file)
    if (problem := text_problem(text, file)) is not None:
        raise SpecError([problem])
    lines = text.count("\n")
    if lines > MAX_SITES_PER_DIE:
        raise SpecError(
            [
                Problem(
                    file,
                    None,
                    None,
                    "",
                    f"{lines:,} lines: more than the {MAX_SITES_PER_DIE:,} bump sites a die may have",
                )
            ]
        )
    return parse_csv(text, str(path)) if format == "csv" else parse_aif(text, str(path), names)


def file_format(entry: BumpFile) -> Literal["csv", "aif"] | None:
    """The entry's format, or the one its file suffix names (None when neither says)."""
    suffix = Path(entry.file).suffix.lower()
    return entry.format or ("csv" if suffix == ".csv" else "aif" if suffix == ".aif" else None)


# --------------------------------------------------------------------------- placing
def place(
    bump_map: BumpMap, entry: BumpFile, die_size: tuple[float, float]
) -> list[tuple[Row, float, float]]:
    """Every row with its die coordinates in µm: units, origin, mirror, 1 nm grid.

    Raises SpecError when the entry's options contradict what the file declares.
    """
    problems: list[Problem] = []
    declared = bump_map.units
    if entry.units and declared and declared.value != entry.units:
        problems.append(
            Problem(
                bump_map.file,
                declared.line,
                1,
                "",
                f"the file is in {declared.value} but the spec says units: {entry.units}",
            )
        )
    scale = UNIT_UM[entry.units or (declared.value if declared else "um")]
    if bump_map.die_size is not None:
        width, height = bump_map.die_size.value
        die_size = (width * scale, height * scale)
    centre = {"center": (0.0, 0.0), "lower_left": (die_size[0] / 2, die_size[1] / 2)}
    if bump_map.center is not None:
        cx, cy = bump_map.center.value
        stated = (cx * scale, cy * scale)
        expected = centre[entry.origin] if entry.origin else stated
        if abs(stated[0] - expected[0]) > 1e-3 or abs(stated[1] - expected[1]) > 1e-3:
            problems.append(
                Problem(
                    bump_map.file,
                    bump_map.center.line,
                    1,
                    "",
                    f"CENTER={cx:g} {cy:g} disagrees with origin: {entry.origin} "
                    f"(die centre at ({expected[0] / scale:g}, {expected[1] / scale:g}) "
                    "in file units)",
                )
            )
        origin = stated
    else:
        origin = centre[entry.origin or "center"]
    for row in bump_map.rows:
        for key, value in (("x", row.x), ("y", row.y)):
            if abs(value * scale) > MAX_LENGTH:
                problems.append(
                    Problem(
                        bump_map.file,
                        row.line,
                        1,
                        "",
                        f"{key} {value:g} {entry.units or (declared.value if declared else 'um')} "
                        f"is beyond ±{MAX_LENGTH / 1e6:g} m",
                    )
                )
    if problems:
        raise SpecError(problems)
    sign = -1.0 if entry.mirror else 1.0
    return [
        (row, _on_grid(sign * (row.x * scale - origin[0])), _on_grid(row.y * scale - origin[1]))
        for row in bump_map.rows
    ]


def _on_grid(value: float) -> float:
    return round(value * NM_PER_UM) / NM_PER_UM


def import_bumps(
    entry: BumpFile,
    base: Path,
    die_size: tuple[float, float],
    stacks: Collection[str],
    source: SourceMap,
    loc: Loc,
) -> tuple[list[ImportedBump], list[Problem]]:
    """The bump sites of a ``die.bumps`` file entry (those read) and the problems found.

    Problems with the entry itself (missing file, unknown format or stack) are located at its
    key in the spec; problems inside the file at ``file:line:column``.
    """
    known = ", ".join(sorted(stacks)) or "none defined"
    if entry.stack is not None and entry.stack not in stacks:
        return [], [
            source.problem([*loc, "stack"], f"unknown stack '{entry.stack}' (known: {known})")
        ]
    fmt = file_format(entry)
    if fmt is None:
        return [], [
            source.problem(
                [*loc, "file"],
                f"cannot tell the format of '{entry.file}' from its suffix: add format: csv or aif",
            )
        ]
    if fmt == "csv" and entry.names != "pad":
        return [], [
            source.problem([*loc, "names"], "names applies to AIF files (CSV has a name column)")
        ]
    path = base / entry.file
    try:
        bump_map = read(path, fmt, entry.names)
        placed = place(bump_map, entry, die_size)
    except SpecError as exc:
        return [], exc.problems
    except OSError as exc:
        return [], [source.problem([*loc, "file"], f"cannot read '{path}': {exc.strerror or exc}")]

    default = entry.stack or (next(iter(stacks)) if len(stacks) == 1 else None)
    unstacked = [row for row, _, _ in placed if row.stack is None]
    if default is None and unstacked:
        return [], [
            source.problem(
                [*loc, "stack"],
                f"stack is required when there are several (known: {known}): "
                f"{len(unstacked)} rows of '{path}' name no stack (first on line {unstacked[0].line})",
            )
        ]
    bumps, problems = [], list(bump_map.problems)
    for row, x, y in placed:
        stack = row.stack or default
        assert stack is not None, "rows without a stack and no default were reported above"
        bumps.append(ImportedBump(row.name, x, y, stack, row.net, row.line))
        if stack not in stacks:  # its bump still counts as a name, for the routes
            problems.append(
                Problem(
                    str(path),
                    row.line,
                    row.stack_column,
                    "",
                    f"unknown stack '{stack}' (known: {known})",
                )
            )
    return bumps, problems
