"""Shortest paths on the cost grid (scikit-image's compiled minimum-cost-path search)."""

from __future__ import annotations

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
    if len(ends) > MANY_ENDS:
        mcp = _ToFirstEnd(costs, ends, diagonal)
        cumulative, _ = mcp.find_costs(from_starts)
    else:
        mcp = MCP_Geometric(costs, fully_connected=diagonal)
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
    """The search that stops at the first of ``ends`` it settles, found by a set lookup."""

    def __init__(self, costs: np.ndarray, ends: np.ndarray, diagonal: bool) -> None:
        super().__init__(costs, fully_connected=diagonal)
        # the search numbers cells column by column
        self.ends = frozenset((ends[:, 0] + ends[:, 1] * costs.shape[0]).tolist())

    def goal_reached(self, index: int, cumcost: float) -> int:
        """2 (stop) at an end, else 0 (go on)."""
        return 2 if index in self.ends else 0
