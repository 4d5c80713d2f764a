"""Free assignment: every pad gets its own bump, no two straight pad-bump segments cross
(checked here with exact integer arithmetic, not the module's test), and the answer depends on
the geometry alone (not on the order the pads and bumps are given in)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from masklayout.routing.assign import assign_bumps


def _orient(p, q, r) -> int:
    value = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return (value > 0) - (value < 0)


def _cross(a, b, c, d) -> bool:
    """Segments ab and cd cross properly or touch (shared end points excepted)."""
    if {tuple(a), tuple(b)} & {tuple(c), tuple(d)}:
        return False
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if o1 != o2 and o3 != o4:
        return True

    def on(p, q, r) -> bool:  # r on segment pq, collinear
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    return any(
        o == 0 and on(p, q, r)
        for o, p, q, r in ((o1, a, b, c), (o2, a, b, d), (o3, c, d, a), (o4, c, d, b))
    )


def _crossings(pads, bumps, chosen) -> list[tuple[int, int]]:
    segments = [(tuple(map(int, pads[i])), tuple(map(int, bumps[k]))) for i, k in enumerate(chosen)]
    return [
        (i, j)
        for (i, s), (j, t) in itertools.combinations(enumerate(segments), 2)
        if _cross(*s, *t)
    ]


def _periphery(n_side: int, half: float, pitch: float) -> np.ndarray:
    """Pads on the four sides of a square die, ``n_side`` per side, centred on each side."""
    offsets = (np.arange(n_side) - (n_side - 1) / 2) * pitch
    sides = [
        [(x, half) for x in offsets],
        [(half, -y) for y in offsets],
        [(-x, -half) for x in offsets],
        [(-half, y) for y in offsets],
    ]
    return np.array([p for side in sides for p in side], dtype=float)


def _array(n: int, pitch: float) -> np.ndarray:
    c = (np.arange(n) - (n - 1) / 2) * pitch
    return np.array([(x, y) for y in c[::-1] for x in c], dtype=float)


@pytest.mark.parametrize(
    ("n_side", "n_array", "seed"), [(25, 10, 0), (20, 10, 1), (9, 6, 2), (12, 8, 3)]
)
def test_assignment_is_planar_and_uses_each_bump_once(n_side, n_array, seed):
    pads = _periphery(n_side, 2150, 90)
    bumps = _array(n_array, 400)
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.permutation(len(bumps))[: max(len(pads), len(bumps) * 9 // 10)])
    bumps = bumps[keep] if len(keep) >= len(pads) else bumps
    chosen = assign_bumps(pads, bumps)
    assert len(chosen) == len(pads)
    assert len(set(chosen)) == len(pads)
    assert _crossings(pads, bumps, chosen) == []


def test_assignment_uncrosses_what_the_angular_match_leaves_crossed():
    # Two pads side by side near one bump pair placed so that matching by angle alone crosses.
    pads = np.array([(0.0, 1000.0), (100.0, 1000.0), (-1000.0, 0.0)])
    bumps = np.array([(400.0, 600.0), (-300.0, 700.0), (-600.0, -100.0), (0.0, -900.0)])
    chosen = assign_bumps(pads, bumps)
    assert _crossings(pads, bumps, chosen) == []


def test_assignment_depends_on_the_geometry_not_the_input_order():
    pads, bumps = _periphery(10, 1500, 100), _array(7, 400)
    chosen = assign_bumps(pads, bumps)
    pad_perm = np.random.default_rng(5).permutation(len(pads))
    bump_perm = np.random.default_rng(6).permutation(len(bumps))
    shuffled = assign_bumps(pads[pad_perm], bumps[bump_perm])
    by_xy = {tuple(pads[i]): tuple(bumps[k]) for i, k in enumerate(chosen)}
    again = {tuple(pads[pad_perm][i]): tuple(bumps[bump_perm][k]) for i, k in enumerate(shuffled)}
    assert by_xy == again
    assert assign_bumps(pads, bumps) == chosen


def test_a_full_ring_matches_each_pad_to_the_bump_in_front_of_it():
    # 8 pads on a circle of radius 2000 and 8 bumps on a circle of radius 1000 at the same
    # angles, the bumps given rotated by three places: each pad gets the bump at its own angle.
    angles = np.arange(8) * np.pi / 4
    pads = 2000 * np.c_[np.cos(angles), np.sin(angles)]
    bumps = np.roll(1000 * np.c_[np.cos(angles), np.sin(angles)], 3, axis=0)
    chosen = assign_bumps(pads, bumps)
    np.testing.assert_allclose(bumps[chosen] * 2, pads, atol=1e-9)


def test_more_pads_than_bumps_is_refused():
    with pytest.raises(ValueError, match="3 pads and only 2 bumps"):
        assign_bumps(np.zeros((3, 2)), np.ones((2, 2)))


def test_the_cyclic_rotation_of_least_length_wins_across_the_angle_cut():
    # Pads at 170°, 125°, 80°, ...; each pad's own bump 15° further round, so the bump of the
    # pad at 170° sits at 185° = -175°, first in angular order while its pad is last: matching
    # the sorted lists without rotating would hand every pad its neighbour's bump.
    pad_angles = np.radians(170 - 45 * np.arange(8))
    bump_angles = pad_angles + np.radians(15)
    pads = 2000 * np.c_[np.cos(pad_angles), np.sin(pad_angles)]
    bumps = 1000 * np.c_[np.cos(bump_angles), np.sin(bump_angles)]
    assert assign_bumps(pads, bumps) == list(range(8))
