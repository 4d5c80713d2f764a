"""SM.WEB on many openings: one violation per group of openings too close, at the narrowest
web, measured vertex-exact on the written polygons (192-gons with a vertex facing the
neighbour, so the web is pitch − diameter); a web drawn at the rule passes; past the cap the
rest is counted. Pairs found by the k-d tree match a brute-force all-pairs distance."""

from __future__ import annotations

import math
from pathlib import Path

import gdstk
import klayout.rdb as rdb
import numpy as np
import pytest

from masklayout.checks import check_gds, engine, write_rdb
from masklayout.checks.webs import narrow_webs
from tests.test_checks_rules import TECH, box

WEB = max(TECH.rules["SM.WEB"].value.values())  # 50 um: no spec, the stricter film
DIAMETER = 200.0
SIDES = 192


def opening(centre: tuple[float, float], diameter: float = DIAMETER) -> gdstk.Polygon:
    """A 192-gon on SM2 with its vertices on the circle, one at angle 0 (and so at 45°, 90°...)."""
    layer, datatype = TECH.layer("SM2")
    angles = 2 * math.pi * np.arange(SIDES) / SIDES
    r = diameter / 2
    points = [(centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)) for a in angles]
    return gdstk.Polygon(points, layer=layer, datatype=datatype)


def _write(tmp_path: Path, openings: list[gdstk.Polygon]) -> Path:
    """TOP places a 16 mm DIE twice; the die holds the openings."""
    library = gdstk.Library(unit=1e-6, precision=1e-9)
    die = library.new_cell("DIE").add(box("DIE", (0, 0), (16_000, 16_000)), *openings)
    top = library.new_cell("TOP")
    top.add(gdstk.Reference(die, (0, 0), columns=2, rows=1, spacing=(16_100, 0)))
    library.write_gds(tmp_path / "webs.gds")
    return tmp_path / "webs.gds"


def _pairs() -> tuple[list[gdstk.Polygon], list[float]]:
    """36 pairs of openings 1.5 mm apart, each pair's web (pitch − diameter, along x or along
    the diagonal, where both polygons have a vertex) 20 to 45 um."""
    shapes, webs = [], []
    for k in range(36):
        x0, y0 = -6000 + (k % 6) * 1500, -6000 + (k // 6) * 1500
        web = 20 + 25 * k / 35
        pitch = DIAMETER + web
        if k % 2:
            other = (x0 + pitch, y0)
        else:
            other = (x0 + pitch / math.sqrt(2), y0 + pitch / math.sqrt(2))
        shapes += [opening((x0, y0)), opening(other)]
        webs.append(web)
    return shapes, sorted(webs)


def test_each_pair_too_close_is_one_violation_at_its_web(tmp_path: Path) -> None:
    shapes, webs = _pairs()
    result = check_gds(_write(tmp_path, shapes), TECH).result("SM.WEB:SM2")
    assert result.count == 36 and result.unlisted == 0
    assert result.by_cell == {"DIE": (36, 2)} and result.on_wafer == 72
    assert sorted(v.value for v in result.violations) == pytest.approx(webs, abs=0.003)


def test_a_web_drawn_at_the_rule_passes_and_just_under_it_does_not(tmp_path: Path) -> None:
    at_rule = [opening((0, 0)), opening((DIAMETER + WEB, 0))]
    assert check_gds(_write(tmp_path, at_rule), TECH).result("SM.WEB:SM2").count == 0
    under = [opening((0, 0)), opening((DIAMETER + WEB - 0.1, 0))]
    (v,) = check_gds(_write(tmp_path, under), TECH).result("SM.WEB:SM2").violations
    assert v.value == pytest.approx(WEB - 0.1, abs=0.002)


def test_a_row_of_openings_too_close_is_one_violation_at_its_narrowest_web(tmp_path: Path) -> None:
    xs = [0.0, DIAMETER + 40, 2 * DIAMETER + 40 + 30, 3 * DIAMETER + 40 + 30 + 45]
    (v,) = (
        check_gds(_write(tmp_path, [opening((x, 0)) for x in xs]), TECH)
        .result("SM.WEB:SM2")
        .violations
    )
    assert v.value == pytest.approx(30, abs=0.002)


def test_webs_past_the_cap_are_counted_in_the_marker_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes, webs = _pairs()
    monkeypatch.setattr(engine, "MAX_LISTED", 5)
    gds = _write(tmp_path, shapes)
    report = check_gds(gds, TECH)
    result = report.result("SM.WEB:SM2")
    assert result.count == 36 and result.unlisted == 31 and result.on_wafer == 72
    assert sorted(v.value for v in result.violations) == pytest.approx(webs[:5], abs=0.003)
    database = rdb.ReportDatabase("")
    database.load(str(write_rdb(report, tmp_path / "webs.lyrdb", str(gds))))
    category = next(c for c in database.each_category() if c.name() == "SM.WEB:SM2")
    assert category.num_items() == 5
    assert "31 more, less severe, not listed (62 on the wafer)" in category.description


def _brute_force(shapes: list[np.ndarray], minimum: float) -> dict[tuple[int, int], float]:
    """Every pair's distance: each vertex against each edge of the other, both ways."""

    def point_segment(p: np.ndarray, e: np.ndarray) -> float:
        a, b = e[:2], e[2:]
        t = np.clip(np.dot(p - a, b - a) / max(np.dot(b - a, b - a), 1e-12), 0, 1)
        return float(np.hypot(*(p - (a + t * (b - a)))))

    out = {}
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            d = min(
                min(point_segment(e[:2], f) for e in shapes[i] for f in shapes[j]),
                min(point_segment(f[:2], e) for e in shapes[i] for f in shapes[j]),
            )
            if d < minimum:
                out[(i, j)] = d
    return out


def _ring(points: list[tuple[float, float]]) -> np.ndarray:
    p = np.array(points, dtype=float)
    return np.hstack((p, np.roll(p, -1, axis=0)))


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_narrow_webs_are_the_brute_force_pairs(seed: int) -> None:
    """Squares, 12-gons and one long slot (a shape much larger than the others, outside the
    k-d tree's reach) at random places; the closest edges returned are that far apart."""
    rng = np.random.default_rng(seed)
    shapes = [_ring([(0, -5), (2000, -5), (2000, 5), (0, 5)])]  # the slot
    for _ in range(40):
        x, y = rng.uniform(0, 2000), rng.uniform(10, 400)
        if rng.random() < 0.5:
            s = rng.uniform(10, 40)
            shapes.append(_ring([(x, y), (x + s, y), (x + s, y + s), (x, y + s)]))
        else:
            r, a = rng.uniform(10, 30), 2 * math.pi * np.arange(12) / 12 + rng.uniform(0, 1)
            shapes.append(_ring(list(zip(x + r * np.cos(a), y + r * np.sin(a), strict=True))))
    want = _brute_force(shapes, 50.0)
    found = narrow_webs(shapes, 50.0)
    got = {(i, j): d for i, j, d, *_ in found}
    assert len(want) > 20 and any(i == 0 for i, _ in want)
    assert got.keys() == want.keys()
    assert [got[k] for k in want] == pytest.approx(list(want.values()))
    for *_, d, first, second in found:
        between = _brute_force([first[None], second[None]], math.inf)[(0, 1)]
        assert between == pytest.approx(d)
