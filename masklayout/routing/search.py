"""Shortest paths on the cost grid (scikit-image's compiled minimum-cost-path search)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from skimage.graph import MCP_Geometric

# scikit-image tests every cell its search settles against each end in turn: with a tree's
# thousands of junctions as ends that test outweighed the search (12 x 12 fan-in: 16 of 21 s
# in 426 searches with over 1,000 ends). Past this many ends a set lookup per settled cell,
# called from the search, is the cheaper test (about 0.15 µs a cell, break-even near 400).
MANY_ENDS = 400


def cheapest_path(
    costs: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    diagonal: bool,
) -> np.ndarray | None:
    """The cheapest path from any start cell to the cheapest end cell, as (k, 2) cells, or None.

    ``costs`` holds the price of entering each cell per unit length; negative or infinite cells
    are walls, and so are never a path's first or last cell. Steps are 8-connected (``diagonal``) or 4-connected and cost their length.
    """
    found = cheapest(costs, starts, ends, diagonal)
    return None if found is None else found[0]


def cheapest(
    costs: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    diagonal: bool,
) -> tuple[np.ndarray, float] | None:
    """``cheapest_path`` and its cost. A start on a wall is no start (the search would leave
    from it all the same)."""
    if len(starts):
        first = costs[starts[:, 0], starts[:, 1]]
        starts = starts[np.isfinite(first) & (first >= 0)]
    if not len(starts):
        return None
    # scikit-image numbers the cells column by column and copies the prices so; searching the
    # transpose (a view, rows and columns swapped back on the way out) spares that copy of the
    # whole window for every search (1,000 x 1,000 cells: set-up 31 -> 18 ms)
    costs, starts, ends = costs.T, starts[:, ::-1], ends[:, ::-1]
    from_starts = [tuple(s) for s in starts.tolist()]
    mcp, column = _search(costs, diagonal, len(ends) > MANY_ENDS)
    if isinstance(mcp, _ToFirstEnd):
        # the search numbers cells column by column, ``column`` cells to a column
        mcp.ends = frozenset((ends[:, 0] + ends[:, 1] * column).tolist())
        cumulative, _ = mcp.find_costs(from_starts)
    else:
        cumulative, _ = mcp.find_costs(
            from_starts, [tuple(e) for e in ends.tolist()], find_all_ends=False
        )
    reached = cumulative[ends[:, 0], ends[:, 1]]
    if not np.isfinite(reached).any():
        return None
    k = int(np.argmin(reached))
    path = np.asarray(mcp.traceback(tuple(ends[k].tolist())), dtype=np.int64)
    return np.ascontiguousarray(path[:, ::-1]), float(reached[k])


class _ToFirstEnd(MCP_Geometric):
    """The search that stops at the first of ``ends`` (cells numbered column by column) it
    settles, found by a set lookup."""

    ends: frozenset[int] = frozenset()

    def goal_reached(self, index: int, cumcost: float) -> int:
        """2 (stop) at an end, else 0 (go on)."""
        return 2 if index in self.ends else 0


# Building a search costs more than many a search: scikit-image maps the borders of every cell
# of the grid it is given (about 30 ms for the 1,049 x 1,049 cells of the 12 x 12 fan-in die),
# and a tree's branches search large windows of ever new shapes hundreds of times. So a large
# window is searched on a kept grid at least its size, the window in its first rows and
# columns and walls elsewhere: walls are never entered, so the search and its path are those
# of the window alone. One grid is kept per connectivity and kind, grown to the largest window
# seen; it reads its prices from the array it was built on (a column-ordered float64 array is
# not copied), so refilling the window's part of that array re-prices it.
REUSE_CELLS = 100_000
_local = threading.local()  # each thread its own: a kept search is refilled for every search


@dataclass
class Kept:
    """A search kept for large windows: its prices and the extent the last window filled."""

    prices: np.ndarray
    mcp: MCP_Geometric
    used: tuple[int, int]


def kept_searches() -> dict[tuple[bool, bool], Kept]:
    """This thread's kept searches, by connectivity and kind."""
    if not hasattr(_local, "kept"):
        _local.kept = {}
    return _local.kept


def _search(costs: np.ndarray, diagonal: bool, many: bool) -> tuple[MCP_Geometric, int]:
    """A search over the prices ``costs`` (in scikit-image's order), stopping by set lookup
    when ``many``, and the number of cells in a column of its grid: built anew for a small
    window, else a kept one refilled (grown first if the window does not fit)."""
    kind = _ToFirstEnd if many else MCP_Geometric
    if costs.size < REUSE_CELLS:
        return kind(costs, fully_connected=diagonal), costs.shape[0]
    kept = kept_searches()
    key = (diagonal, many)
    h, w = costs.shape
    old = kept.get(key)
    if old is None or old.prices.shape[0] < h or old.prices.shape[1] < w:
        shape = (
            (h, w) if old is None else (max(h, old.prices.shape[0]), max(w, old.prices.shape[1]))
        )
        prices = np.full(shape[::-1], -1.0).T  # column order: the search's own prices
        kept[key] = Kept(prices=prices, mcp=kind(prices, fully_connected=diagonal), used=(0, 0))
    k = kept[key]
    a, b = k.used
    k.prices[h:a, :b] = -1.0  # the last window's cells outside this one are walls again
    k.prices[:h, w:b] = -1.0
    k.prices[:h, :w] = costs
    k.used = (h, w)
    return k.mcp, k.prices.shape[0]


def release_searches() -> None:
    """Forget this thread's kept searches (``route`` does when it is done)."""
    kept_searches().clear()
