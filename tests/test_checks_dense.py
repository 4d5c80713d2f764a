"""Bump pitch on many bumps: found by a k-d tree per die cell, one violation per group of bumps
too close together, the worst listed first up to the cap and the rest counted, in the report
and in the marker database read back with ``klayout.rdb``. Expected groups and distances come
from a brute-force all-pairs count written here."""

from __future__ import annotations

import math
from pathlib import Path

import gdstk
import klayout.rdb as rdb
import numpy as np
import pytest

from masklayout.checks import check_gds, engine, write_rdb
from masklayout.checks.engine import _close_groups
from tests.test_checks_rules import TECH, box, circle

PITCH = TECH.rules["BUMP.PITCH"].value  # 400 um


def _groups(centres: list[tuple[float, float]], limit: float = PITCH) -> list[float]:
    """Brute force: the groups of bumps linked by centre distances under ``limit``, each as its
    smallest distance."""
    n = len(centres)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    closest: dict[tuple[int, int], float] = {}
    for i in range(n):
        for j in range(i + 1, n):
            d = math.dist(centres[i], centres[j])
            if d < limit:
                parent[root(i)] = root(j)
                closest[(i, j)] = d
    worst: dict[int, float] = {}
    for (i, _), d in closest.items():
        worst[root(i)] = min(d, worst.get(root(i), math.inf))
    return sorted(worst.values())


def _clusters_of_bumps() -> list[tuple[float, float]]:
    """Pairs and triples of bumps too close together, each group 1.2 mm from the next, and
    single bumps at the pitch between them: 36 groups on a 14 mm die."""
    rng = np.random.default_rng(7)
    centres: list[tuple[float, float]] = []
    for gx in range(6):
        for gy in range(6):
            x0, y0 = -6000 + gx * 2400, -6000 + gy * 2400
            centres.append((x0, y0))
            for _ in range(int(rng.integers(1, 3))):  # 1 or 2 more, 260-399 um away
                angle, d = rng.uniform(0, math.pi / 2), rng.uniform(260, 399)
                last = centres[-1]
                centres.append((round(last[0] + d * math.cos(angle), 3), round(last[1] + d * math.sin(angle), 3)))  # fmt: skip
            centres.append((x0 + 1200, y0))  # alone: 1.2 mm from its group
    return centres


def _write(tmp_path: Path, centres: list[tuple[float, float]]) -> Path:
    """TOP places a 16 mm DIE twice, 16.1 mm apart; the die holds the bumps' UBM circles."""
    library = gdstk.Library(unit=1e-6, precision=1e-9)
    die = library.new_cell("DIE").add(box("DIE", (0, 0), (16_000, 16_000)))
    die.add(*(circle("UBM", 250, c) for c in centres))
    top = library.new_cell("TOP")
    top.add(gdstk.Reference(die, (0, 0), columns=2, rows=1, spacing=(16_100, 0)))
    library.write_gds(tmp_path / "dense.gds")
    return tmp_path / "dense.gds"


@pytest.mark.parametrize("layout", ["scattered", "grid", "row"])
def test_close_groups_are_the_brute_force_groups_at_their_closest_pair(layout: str) -> None:
    rng = np.random.default_rng(3)
    if layout == "scattered":
        points = rng.uniform(0, 6000, size=(300, 2)).round(3)
    elif layout == "grid":  # cocircular: every distance ties
        points = np.array([(x * 48.0, y * 48.0) for x in range(12) for y in range(12)])
    else:  # collinear: no triangulation
        points = np.array([(x * 300.0, 0.0) for x in range(10)] + [(5000.0, 0.0), (5350.0, 0.0)])
    limit = 400.0 if layout != "grid" else 60.0
    pairs = _close_groups(points, limit)
    want = sorted(_groups([tuple(p) for p in points.tolist()], limit))
    got = sorted(math.dist(points[i], points[j]) for i, j in pairs)
    assert got == pytest.approx(want)
    assert (pairs[:, 0] < pairs[:, 1]).all()


def test_pitch_violations_are_the_groups_of_bumps_too_close(tmp_path: Path) -> None:
    centres = _clusters_of_bumps()
    want = _groups(centres)
    assert len(want) == 36
    result = check_gds(_write(tmp_path, centres), TECH).result("BUMP.PITCH")
    assert result.count == len(want) and result.unlisted == 0
    assert result.by_cell == {"DIE": (36, 2)} and result.on_wafer == 72
    assert sorted(v.value for v in result.violations) == pytest.approx(want, abs=0.01)


def test_pitch_violations_past_the_cap_are_counted_in_the_marker_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    centres = _clusters_of_bumps()
    want = _groups(centres)
    monkeypatch.setattr(engine, "MAX_LISTED", 5)
    gds = _write(tmp_path, centres)
    report = check_gds(gds, TECH)
    result = report.result("BUMP.PITCH")
    assert result.count == 36 and result.unlisted == 31 and result.on_wafer == 72
    assert sorted(v.value for v in result.violations) == pytest.approx(want[:5], abs=0.01)
    database = rdb.ReportDatabase("")
    database.load(str(write_rdb(report, tmp_path / "dense.lyrdb", str(gds))))
    category = next(c for c in database.each_category() if c.name() == "BUMP.PITCH")
    assert category.num_items() == 5
    assert "31 more, less severe, not listed (62 on the wafer)" in category.description
