"""Shortest paths on the cost grid (scikit-image's compiled minimum-cost-path search)."""

from __future__ import annotations

import numpy as np
from skimage.graph import MCP_Geometric


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
    mcp = MCP_Geometric(costs, fully_connected=diagonal)
    cumulative, _ = mcp.find_costs(
        [tuple(s) for s in starts.tolist()], [tuple(e) for e in ends.tolist()], find_all_ends=False
    )
    reached = cumulative[ends[:, 0], ends[:, 1]]
    if not np.isfinite(reached).any():
        return None
    k = int(np.argmin(reached))
    return np.asarray(mcp.traceback(tuple(ends[k].tolist())), dtype=np.int64), float(reached[k])
