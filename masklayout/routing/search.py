"""Shortest paths on the cost grid (scikit-image's compiled minimum-cost-path search)."""

from __future__ import annotations

import threading
from collections import OrderedDict

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
    mcp = _search(costs, diagonal, len(ends) > MANY_ENDS)
    if isinstance(mcp, _ToFirstEnd):
        # the search numbers cells column by column
        mcp.ends = frozenset((ends[:, 0] + ends[:, 1] * costs.shape[0]).tolist())
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
# of the window (about 30 ms for the 1,049 x 1,049 cells of the 12 x 12 fan-in die), and a
# tree's branches search the whole die hundreds of times. A search is built once per large
# window shape and kept: it reads its prices from the array it was built on (a column-ordered
# float64 array is not copied), so refilling that array re-prices it.
REUSE_CELLS = 100_000
_KEEP = 4  # window shapes kept (the largest windows are the die's, one or two widths)
_local = threading.local()  # each thread its own: a kept search is refilled for every search

Kept = OrderedDict[tuple[tuple[int, ...], bool, bool], tuple[np.ndarray, MCP_Geometric]]


def kept_searches() -> Kept:
    """This thread's kept searches, by window shape, connectivity and kind."""
    if not hasattr(_local, "kept"):
        _local.kept = OrderedDict()
    return _local.kept


def _search(costs: np.ndarray, diagonal: bool, many: bool) -> MCP_Geometric:
    """A search over the prices ``costs`` (in scikit-image's order), stopping by set lookup
    when ``many``: built anew for a small window, else kept for the window's shape."""
    kind = _ToFirstEnd if many else MCP_Geometric
    if costs.size < REUSE_CELLS:
        return kind(costs, fully_connected=diagonal)
    kept = kept_searches()
    key = (costs.shape, diagonal, many)
    if key in kept:
        kept.move_to_end(key)
    else:
        prices = np.empty(costs.shape[::-1]).T  # column order: the search's own prices
        kept[key] = (prices, kind(prices, fully_connected=diagonal))
        if len(kept) > _KEEP:
            kept.popitem(last=False)
    prices, mcp = kept[key]
    prices[...] = costs
    return mcp


def release_searches() -> None:
    """Forget this thread's kept searches (``route`` does when it is done)."""
    kept_searches().clear()
