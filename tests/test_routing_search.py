"""The grid search: walls are never entered, not even as the first cell of a path."""

from __future__ import annotations

import numpy as np
import pytest

from masklayout.routing.search import cheapest, cheapest_path


@pytest.mark.parametrize("wall", [-1.0, np.inf])
def test_a_start_on_a_wall_is_not_used_even_when_it_is_the_nearest(wall):
    """Two starts: (0, 4) beside the end but on a wall, (0, 0) four steps further. The path
    must leave from (0, 0): a port whose leg is blocked is walled this way, and a search that
    left from it put a trace across another net's metal."""
    costs = np.ones((3, 8))
    costs[0, 4] = wall
    path = cheapest_path(costs, np.array([[0, 4], [0, 0]]), np.array([[0, 6]]), diagonal=True)
    assert path is not None
    assert tuple(path[0]) == (0, 0)
    assert all(np.isfinite(costs[y, x]) and costs[y, x] >= 0 for y, x in path)


def test_only_walled_starts_find_no_path():
    costs = np.ones((2, 5))
    costs[0, 0] = -1.0
    assert cheapest(costs, np.array([[0, 0]]), np.array([[0, 4]]), diagonal=False) is None


def test_the_path_costs_its_length_times_the_price():
    """A straight run of five cells at price 2 from (1, 0) to (1, 4): four unit steps, each
    paying half of both cells' prices (scikit-image's MCP_Geometric), so 4 x 2 = 8."""
    costs = np.full((3, 5), 2.0)
    found = cheapest(costs, np.array([[1, 0]]), np.array([[1, 4]]), diagonal=False)
    assert found is not None
    path, cost = found
    assert [tuple(c) for c in path] == [(1, x) for x in range(5)]
    assert cost == pytest.approx(8.0)
