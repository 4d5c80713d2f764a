"""A check report as a terminal table, as JSON for flows, and as a KLayout marker database
(``.lyrdb``) that opens over the GDS in KLayout's marker browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import klayout.db as db
import klayout.rdb as rdb

from masklayout.checks.results import CheckReport, RuleResult, Violation
from masklayout.files import atomic_write, klayout_error, tail_check
from masklayout.table import format_table

SHOWN_PER_RULE = 5
# A rule's unit as the engine and the JSON name it ("um"), as people read it.
_UNIT_SHOWN = {"um": "µm"}


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text} {_UNIT_SHOWN.get(unit, unit)}".rstrip() if unit else text


def limit_text(result: RuleResult) -> str:
    """``>= 35 µm``, ``<= 0.8``."""
    return f"{result.relation} {_num(result.limit, result.unit)}"


def _where(result: RuleResult) -> str:
    return ", ".join(f"{n} in {cell} x{p}" for cell, (n, p) in result.by_cell.items())


def to_table(report: CheckReport, shown: int = SHOWN_PER_RULE) -> str:
    """The rules as a table (rule, what, limit, violations, on the wafer, worst case), then the
    first violations of each violated rule with their location, then a summary line."""
    header = ("rule", "checks", "limit", "found", "on wafer", "worst", "status")
    rows = [header]
    for r in report.results:
        found = "-" if r.skipped else str(r.count)
        on_wafer = "-" if r.skipped else str(r.on_wafer)
        status = f"skipped: {r.skipped}" if r.skipped else r.status
        rows.append((r.name, r.what, limit_text(r), found, on_wafer, _num(r.worst, r.unit), status))
    lines = format_table(rows)
    lines.insert(1, "-" * len(lines[0]))  # as wide as the header, up to its last column
    for r in report.results:
        if not r.violations:
            continue
        lines.append("")
        lines.append(f"{r.name} ({r.severity}): {r.count} found, {_where(r)}")
        for v in r.violations[:shown]:
            lines.append(
                f"  {_num(v.value, r.unit)} at ({_num(v.at[0])}, {_num(v.at[1])}) in {v.cell}, "
                f"on the wafer at ({_num(v.wafer_at[0])}, {_num(v.wafer_at[1])})"
                + (f" and {v.placements - 1} more placements" if v.placements > 1 else "")
                + (f": {v.note}" if v.note else "")
            )
        listed = len(r.violations)
        if listed > shown:
            lines.append(f"  ... {listed - shown} more (all in --json and the marker database)")
        if r.unlisted:
            lines.append(f"  ... and {r.unlisted} less severe ones, not listed anywhere")
    lines.append("")
    lines.append(summary(report))
    return "\n".join(lines)


def summary(report: CheckReport) -> str:
    """One line: the deck's tech, clean or how many errors and warnings, and how they are
    counted."""
    skipped = sum(1 for r in report.results if r.skipped)
    tail = f"; {_count(skipped, 'rule')} skipped" if skipped else ""
    head = f"{report.top} (tech {report.tech})"
    if not report.errors and not report.warnings:
        return f"{head}: clean, {_count(len(report.results) - skipped, 'rule')} checked{tail}"
    on_wafer = sum(r.on_wafer for r in report.results)
    return (
        f"{head}: {_count(report.errors, 'error')}, {_count(report.warnings, 'warning')} "
        f"(counted once per cell; {on_wafer} on the whole wafer){tail}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _violation_json(v: Violation) -> dict[str, Any]:
    return {
        "cell": v.cell,
        "value": v.value,
        "at": list(v.at),
        "wafer_at": list(v.wafer_at),
        "placements": v.placements,
        "first_placement": v.placement,
        "marker": v.kind,
        "points": [list(p) for p in v.points],
        "note": v.note,
    }


def to_json(report: CheckReport) -> dict[str, Any]:
    """The report as plain data: per rule its limit, counts, worst case and every violation."""
    return {
        "source": report.source,
        "top_cell": report.top,
        "tech": report.tech,
        "errors": report.errors,
        "warnings": report.warnings,
        "counting": "violations are counted once per cell they lie in; on_wafer multiplies "
        "each by the number of placements of its cell",
        "rules": [
            {
                "name": r.name,
                "rule": r.rule,
                "check": r.check,
                "what": r.what,
                "limit": r.limit,
                "relation": r.relation,
                "unit": r.unit,
                "severity": r.severity,
                "status": r.status,
                "skipped": r.skipped,
                "violations": r.count,
                "on_wafer": r.on_wafer,
                "unlisted": r.unlisted,
                "worst": r.worst,
                "cells": [
                    {"cell": cell, "violations": n, "placements": p}
                    for cell, (n, p) in r.by_cell.items()
                ],
                "markers": [_violation_json(v) for v in r.violations],
            }
            for r in report.results
        ],
    }


def marker_database(report: CheckReport, layout_file: str | None = None) -> rdb.ReportDatabase:
    """The report as a KLayout marker database: a category per rule, markers in the cells they
    lie in (µm), each cell referenced at its first placement in the top cell."""
    database = rdb.ReportDatabase(f"masklayout check {report.top}")
    database.generator = "masklayout check"
    database.description = f"rule deck {report.tech} on {report.source}"
    database.top_cell_name = report.top
    if layout_file is not None:
        database.original_file = layout_file
    top = database.create_cell(report.top)
    cells: dict[str, rdb.RdbCell] = {report.top: top}
    for r in report.results:
        category = database.create_category(r.name)
        status = f"skipped: {r.skipped}" if r.skipped else r.status
        if r.unlisted:
            status += f"; {r.unlisted} more, less severe, not listed ({r.unlisted_on_wafer} on the wafer)"  # fmt: skip
        category.description = f"{r.what} {limit_text(r)} ({status})"
        for v in r.violations:
            if v.cell not in cells:
                cells[v.cell] = database.create_cell(v.cell)
                cells[v.cell].add_reference(
                    rdb.RdbReference(db.DCplxTrans.from_s(v.placement), top.rdb_id())
                )
            item = database.create_item(cells[v.cell].rdb_id(), category.rdb_id())
            item.add_value(_marker(v))
            item.add_value(f"{r.name}: {_num(v.value, r.unit)} (limit {limit_text(r)})")
            if v.note:
                item.add_value(v.note)
    return database


def _marker(v: Violation) -> db.DEdgePair | db.DPolygon:
    points = [db.DPoint(x, y) for x, y in v.points]
    if v.kind == "edge_pair":
        return db.DEdgePair(db.DEdge(points[0], points[1]), db.DEdge(points[2], points[3]))
    return db.DPolygon(points)


def write_rdb(report: CheckReport, path: str | Path, layout_file: str | None = None) -> Path:
    """Write the marker database atomically (a temporary file renamed at the end, its head and
    tail read back first)."""
    with atomic_write(path, RDB_CHECK) as tmp:
        try:
            marker_database(report, layout_file).save(str(tmp))
        except RuntimeError as exc:
            raise klayout_error(exc) from None
    return Path(path)


RDB_CHECK = tail_check(b"<?xml", b"</report-database>\n", "marker database")
