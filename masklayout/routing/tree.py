"""Multi-terminal nets (power and ground): a tree grown one short branch at a time.

The tree starts at the terminal nearest the centroid of the net's terminals. Then, repeatedly,
the unconnected terminal nearest (in a straight line) to the tree is joined to it by the cheapest
path from the terminal's ports to a junction on the tree. A branch first keeps off every other
net's footprint, searched in a window around the two that widens only when no path is found
there, and pays the negotiated congestion prices (over the whole die) only when no free path
exists: a tree that spans many pads goes around the signal traces between them (between the
signal wedges, not along the pad row across other nets' pads), and the signals keep their way
out.

A branch meets the tree square, at the end of a stub drawn across a straight run of the tree
clear of its bends (``stubs``); the cells closer than ``width + space`` to the tree are walls, so
a branch neither hugs the tree nor folds back onto it (no notch, no acute join).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from masklayout.routing.grid import disk_offsets
from masklayout.routing.ports import centre

_RING = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


@dataclass(frozen=True)
class Stubs:
    """Ways off a path: stub ``i`` runs ``cells[i, :lengths[i]]`` from a path cell out to the
    junction ``ends[i]`` (its last cell) along ``dirs[i]``."""

    ends: np.ndarray
    dirs: np.ndarray
    cells: np.ndarray
    lengths: np.ndarray

    @staticmethod
    def none() -> Stubs:
        z = np.zeros((0, 2), np.int64)
        return Stubs(ends=z, dirs=z, cells=np.zeros((0, 1, 2), np.int64), lengths=z[:, 0])

    @staticmethod
    def join(parts: list[Stubs]) -> Stubs:
        parts = [s for s in parts if len(s.ends)]
        if not parts:
            return Stubs.none()
        n = max(s.cells.shape[1] for s in parts)
        cells = [
            np.concatenate([s.cells, np.repeat(s.cells[:, -1:], n - s.cells.shape[1], 1)], 1)
            for s in parts
        ]
        return Stubs(
            ends=np.concatenate([s.ends for s in parts]),
            dirs=np.concatenate([s.dirs for s in parts]),
            cells=np.concatenate(cells),
            lengths=np.concatenate([s.lengths for s in parts]),
        )


def stubs(path: np.ndarray, clear_run: int, clear: float, pitch: float) -> Stubs:
    """The stubs square across the straight runs of a path of grid cells: from each cell at least
    ``clear_run`` cells from the path's ends and bends, both ways, ``clear`` µm long (rounded up
    to whole steps), in path order."""
    n, m = len(path), clear_run
    if n < 2 * m + 1:
        return Stubs.none()
    d = np.diff(path, axis=0)
    turn = np.flatnonzero(np.any(d[1:] != d[:-1], axis=1)) + 1
    near = np.zeros(n + 1, np.int64)
    np.add.at(near, np.maximum(0, turn - m), 1)
    np.add.at(near, np.minimum(n, turn + m + 1), -1)
    ok = np.cumsum(near)[:n] == 0
    ok[:m] = ok[n - m :] = False
    k = np.flatnonzero(ok)
    if not len(k):
        return Stubs.none()
    t = d[k]
    left = np.stack([-t[:, 1], t[:, 0]], axis=1)
    dirs = np.stack([left, -left], axis=1).reshape(-1, 2)
    root = np.repeat(path[k], 2, axis=0)
    steps = np.ceil(clear / (pitch * np.hypot(dirs[:, 0], dirs[:, 1])) - 1e-9).astype(np.int64)
    i = np.minimum(np.arange(steps.max() + 1)[None], steps[:, None])
    cells = root[:, None, :] + i[..., None] * dirs[:, None, :]
    return Stubs(
        ends=cells[np.arange(len(steps)), steps], dirs=dirs, cells=cells, lengths=steps + 1
    )


def near_tree(
    tree: np.ndarray, off: np.ndarray, shape: tuple[int, int], clear: float, pitch: float
) -> np.ndarray:
    """The cells of the window of ``shape`` whose cell (0, 0) is ``off`` that lie within
    ``clear`` of a tree cell, as a boolean mask (a tree that grows adds its new cells' mask)."""
    mask = np.zeros(shape, bool)
    disk = disk_offsets(clear, pitch)
    size = np.array(shape)
    local = tree - off
    local = local[np.all((local >= disk.min(0)) & (local < size + disk.max(0)), 1)]
    if len(local):
        ring = (local[:, None, :] + disk[None]).reshape(-1, 2)
        ring = ring[np.all((ring >= 0) & (ring < size), 1)]
        mask[ring[:, 0], ring[:, 1]] = True
    return mask


def branch_costs(
    base: np.ndarray,
    near: np.ndarray,
    tree_stubs: Stubs,
    off: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Costs for a branch to the tree in the window ``base`` (whose cell (0, 0) is ``off``): the
    cells ``near`` the tree (a mask of the window, see ``near_tree``) are walls, each usable
    stub end is open and reached only from its far side. Returns the costs, the usable stub
    ends (window cells) and their indices in ``tree_stubs``."""
    shape = np.array(base.shape)
    costs = base.copy()
    costs[near] = -1.0
    none = np.zeros((0, 2), np.int64)
    cells = tree_stubs.cells - off
    idx = np.flatnonzero(np.all((cells >= 0) & (cells < shape), axis=(1, 2)))
    if len(idx):
        c = cells[idx]
        idx = idx[np.all(base[c[..., 0], c[..., 1]] >= 0, axis=1)]
    if not len(idx):
        return costs, none, idx
    ends = tree_stubs.ends[idx] - off
    _, first = np.unique(ends[:, 0] * shape[1] + ends[:, 1], return_index=True)
    idx, ends = idx[np.sort(first)], ends[np.sort(first)]
    behind = (_RING @ tree_stubs.dirs[idx].T < 0).T  # (ends, 9)
    ring = (ends[:, None, :] + _RING[None])[behind]
    ring = ring[np.all((ring >= 0) & (ring < shape), 1)]
    costs[ring[:, 0], ring[:, 1]] = -1.0
    costs[ends[:, 0], ends[:, 1]] = base[ends[:, 0], ends[:, 1]]
    return costs, ends, idx


def seed(terminals) -> int:
    """The terminal nearest the centroid of all the terminals' centres (lowest index on ties)."""
    c = np.array([centre(t.polygon) for t in terminals])
    return int(np.argmin(np.hypot(*(c - c.mean(0)).T)))


def window(
    lo: np.ndarray, hi: np.ndarray, shape: tuple[int, int], margin: int | None = None
) -> tuple[slice, slice]:
    """The cells lo..hi grown by ``margin`` (default: a quarter of the larger side, at least 10),
    clipped to the grid, as (rows, columns) slices."""
    if margin is None:
        margin = max(10, int(0.25 * (hi - lo).max()))
    return (
        slice(max(0, int(lo[0]) - margin), min(shape[0], int(hi[0]) + margin + 1)),
        slice(max(0, int(lo[1]) - margin), min(shape[1], int(hi[1]) + margin + 1)),
    )


def four_connected(cells: np.ndarray) -> np.ndarray:
    """A path of cells with steps of at most one cell each way, with the corner cell of each
    diagonal step added: no path of grid steps crosses it without entering one of its cells."""
    cells = np.asarray(cells, np.int64).reshape(-1, 2)
    step = np.diff(cells, axis=0)
    diagonal = np.all(step != 0, axis=1)
    corners = np.stack([cells[:-1][diagonal, 0], cells[1:][diagonal, 1]], axis=1)
    return np.concatenate([cells, corners])
