"""Many violations of one rule in one cell: each violating shape one finding at its worst value,
whether the edge pairs are clustered in Python or, past ``REDUCED_ABOVE``, in KLayout; the worst
listed up to the cap and the rest counted. Expected gaps are computed here from the boxes drawn."""

from __future__ import annotations

import klayout.db as kdb
import numpy as np
import pytest

from masklayout.checks import engine
from masklayout.checks.clusters import worst_pairs
from masklayout.checks.engine import check_layout
from masklayout.checks.report import to_table
from masklayout.tech import load_tech

TECH = load_tech("wlcsp-400")
LIMIT = TECH.rules["UBM.EN.PI2"].value  # 15 um
UBM, PITCH = 250.0, 400.0


def _bumps(shifts: list[tuple[float, float, float]]) -> kdb.Layout:
    """One flat cell: per bump a UBM square 250 um wide around a PI2 square ``w`` wide shifted
    by (dx, dy) from its centre, 400 um apart in a row."""
    kl = kdb.Layout()
    kl.dbu = 0.001
    top = kl.create_cell("TOP")
    ubm, pi2 = (top.shapes(kl.layer(*TECH.layer(n))) for n in ("UBM", "PI2"))
    for k, (w, dx, dy) in enumerate(shifts):
        x = k * PITCH
        ubm.insert(kdb.DBox(x - UBM / 2, -UBM / 2, x + UBM / 2, UBM / 2))
        pi2.insert(kdb.DBox(x + dx - w / 2, dy - w / 2, x + dx + w / 2, dy + w / 2))
    return kl


def _gap(w: float, dx: float, dy: float) -> float:
    """The narrowest of the four margins of a square w wide, shifted by (dx, dy), in the UBM."""
    margin = (UBM - w) / 2
    return min(margin - dx, margin + dx, margin - dy, margin + dy)


def _shifts() -> list[tuple[float, float, float]]:
    rng = np.random.default_rng(11)
    out = []
    for _ in range(40):
        w = float(rng.choice([200.0, 230.0, 240.0]))  # margins 25 (passes), 10, 5
        dx, dy = (round(float(v), 3) for v in rng.uniform(-4, 4, size=2))
        out.append((w, dx, dy))
    return out


@pytest.mark.parametrize("reduced_above", [engine.REDUCED_ABOVE, 0])
def test_each_enclosure_violation_is_one_finding_at_its_narrowest_margin(
    monkeypatch: pytest.MonkeyPatch, reduced_above: int
) -> None:
    monkeypatch.setattr(engine, "REDUCED_ABOVE", reduced_above)
    shifts = _shifts()
    want = sorted(g for g in (_gap(*s) for s in shifts) if g < LIMIT)
    assert 10 < len(want) < len(shifts)  # some pass
    result = check_layout(_bumps(shifts), TECH).result("UBM.EN.PI2")
    assert result.count == len(want) and result.unlisted == 0
    assert sorted(v.value for v in result.violations) == pytest.approx(want, abs=1e-3)
    for v in result.violations:  # the marker at the bump it belongs to, on its narrowest side
        k = round(v.at[0] / PITCH)
        assert _gap(*shifts[k]) == pytest.approx(v.value, abs=1e-3)
        assert abs(v.at[0] - k * PITCH) <= UBM / 2 and abs(v.at[1]) <= UBM / 2


@pytest.mark.parametrize("reduced_above", [engine.REDUCED_ABOVE, 0])
def test_past_the_cap_the_least_bad_enclosures_are_counted(
    monkeypatch: pytest.MonkeyPatch, reduced_above: int
) -> None:
    monkeypatch.setattr(engine, "REDUCED_ABOVE", reduced_above)
    monkeypatch.setattr(engine, "MAX_LISTED", 4)
    shifts = _shifts()
    want = sorted(g for g in (_gap(*s) for s in shifts) if g < LIMIT)
    report = check_layout(_bumps(shifts), TECH)
    result = report.result("UBM.EN.PI2")
    assert result.count == len(want) and result.unlisted == len(want) - 4
    assert result.on_wafer == len(want)
    assert sorted(v.value for v in result.violations) == pytest.approx(want[:4], abs=1e-3)
    assert f"... and {len(want) - 4} less severe ones, not listed anywhere" in to_table(report)


def _brute(pairs: list[kdb.EdgePair], grow: int) -> list[int]:
    """Each group of pairs whose boxes grown by ``grow`` overlap or touch, at its smallest
    distance: all pairs against all."""
    boxes = [p.bbox().enlarged(grow, grow) for p in pairs]
    parent = list(range(len(pairs)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            a, b = boxes[i], boxes[j]
            if a.left <= b.right and b.left <= a.right and a.bottom <= b.top and b.bottom <= a.top:
                parent[root(i)] = root(j)
    worst: dict[int, int] = {}
    for i, p in enumerate(pairs):
        worst[root(i)] = min(p.distance(), worst.get(root(i), 1 << 40))
    return sorted(worst.values())


@pytest.mark.parametrize("seed", range(3))
def test_klayout_finds_the_worst_pair_of_each_cluster(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs = []
    for cx, cy in rng.integers(0, 30, size=(25, 2)) * 20_000:  # clusters of up to 40 pairs
        for _ in range(int(rng.integers(1, 40))):
            x, y = int(cx + rng.integers(0, 9000)), int(cy + rng.integers(0, 9000))
            w, d = (int(v) for v in rng.integers(1, 3000, size=2))
            pairs.append(kdb.EdgePair(kdb.Edge(x, y, x + w, y), kdb.Edge(x + w, y + d, x, y + d)))
    want = _brute(pairs, 500)
    keep = len(want) // 2
    found, more = worst_pairs(kdb.EdgePairs(pairs), 500, keep)
    assert sorted(p.distance() for p in found) == want[:keep]
    assert more == len(want) - keep
    everything, none = worst_pairs(kdb.EdgePairs(pairs), 500, len(want) + 5)
    assert sorted(p.distance() for p in everything) == want and none == 0
