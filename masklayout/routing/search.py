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
    """The cheapest path from any start cell to the nearest end cell, as (k, 2) cells, or None.

    ``costs`` holds the price of entering each cell per unit length; negative or infinite cells
    are walls. Steps are 8-connected (``diagonal``) or 4-connected and cost their length.
    """
    mcp = MCP_Geometric(costs, fully_connected=diagonal)
    cumulative, _ = mcp.find_costs(
        [tuple(s) for s in starts], [tuple(e) for e in ends], find_all_ends=False
    )
    reached = np.isfinite(cumulative[ends[:, 0], ends[:, 1]])
    if not reached.any():
        return None
    end = ends[int(np.argmax(reached))]
    return np.asarray(mcp.traceback(tuple(end)), dtype=np.int64)
