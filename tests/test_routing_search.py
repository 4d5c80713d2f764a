"""The grid search (walls never entered, not even as a path's first cell) and the index of
the nets' footprints that negotiation and diagnosis ask which nets cover a cell."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from masklayout.routing import Net, RoutingProblem, route, search
from masklayout.routing.negotiate import Footprints
from masklayout.routing.search import MANY_ENDS, REUSE_CELLS, cheapest, cheapest_path
from tests.test_routing_router import S, W, box, bump, pad


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


def test_footprints_finds_exactly_the_nets_covering_the_cells():
    """The sorted index answers as a search of every net's footprint would (np.isin per net),
    per trace width, on random footprints, nets without a footprint never answering."""
    rng = np.random.default_rng(7)
    widths = (10.0, 30.0)
    states = [
        SimpleNamespace(foot={w: np.unique(rng.integers(0, 400, 30)) for w in widths})
        if k % 5
        else SimpleNamespace(foot={})
        for k in range(40)
    ]
    feet = Footprints(states, widths)
    for w in widths:
        for _ in range(20):
            cells = np.unique(rng.integers(0, 400, rng.integers(0, 6)))
            expected = {
                i for i, st in enumerate(states) if st.foot and np.isin(cells, st.foot[w]).any()
            }
            assert feet.covering(cells, w) == expected


@pytest.mark.parametrize("tall", [True, False])
@pytest.mark.parametrize("count", [10, MANY_ENDS + 50])
def test_the_search_stops_at_the_nearest_of_many_ends(count, tall):
    """From (0, 0) on a 600 x 4 grid at price 1 to a column of ``count`` ends in column 3 from
    row 150 on (or all of it transposed): three diagonal steps, then 147 straight, to (150, 3).
    Past ``MANY_ENDS`` the search finds its ends another way; the array is not square, so
    cells numbered in the wrong order would stop it near the start in one of the two."""
    costs = np.ones((600, 4))
    ends = np.array([(150 + k, 3) for k in range(count)])
    nearest = (150, 3)
    if not tall:
        costs, ends, nearest = costs.T, ends[:, ::-1], nearest[::-1]
    found = cheapest(costs, np.array([[0, 0]]), ends, diagonal=True)
    assert found is not None
    path, cost = found
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == nearest
    assert cost == pytest.approx(3 * np.sqrt(2) + 147)


@pytest.mark.parametrize("many", [False, True])
def test_searches_of_one_large_window_each_see_their_own_prices_and_ends(many):
    """Large windows reuse one search per shape (``REUSE_CELLS``), so each search of the same
    shape must read its own prices and ends. A 500 x 250 grid at price 1 with a wall across
    column 120 but for one gap, from (250, 0) to column 249 (one end in row 250, or every cell
    of the column, past ``MANY_ENDS``), 4-connected: 249 steps across plus the way to the gap,
    and back for one end. First the ends in column 60, before the wall (60 steps); then in
    column 249 with the gap in row 10 (249 + 240 or 2 x 240), then in row 200 (249 + 50 or
    2 x 50): a search that kept the last prices, or stopped at the last ends, fails one."""
    assert REUSE_CELLS <= 500 * 250 and (not many or MANY_ENDS < 500)
    rows = np.arange(500) if many else np.array([250])

    def search(gap: int, column: int) -> float:
        costs = np.ones((500, 250))
        costs[:, 120] = -1.0
        costs[gap, 120] = 1.0
        ends = np.stack([rows, np.full(len(rows), column)], axis=1)
        found = cheapest(costs, np.array([[250, 0]]), ends, diagonal=False)
        assert found is not None
        path, cost = found
        assert tuple(path[0]) == (250, 0) and path[-1][1] == column
        return cost

    back = 1 if many else 2
    assert search(200, 60) == pytest.approx(60)
    assert search(10, 249) == pytest.approx(249 + back * 240)
    assert search(200, 249) == pytest.approx(249 + back * 50)


def test_a_large_window_searched_after_a_larger_one_sees_none_of_its_cells():
    """Large windows are searched on one kept grid as large as the largest window yet, the
    rest walls: the cells a larger window filled before must be walls again, past its rows
    and past its columns. After a 600 x 400 window at price 1, a 500 x 250 window walled
    across column 120 has no path from column 0 to column 249 (with the old rows 500-599
    open, one would go round); after a 400 x 600 one, a 250 x 500 window walled across row
    120 none from row 0 to row 249."""
    assert REUSE_CELLS <= 500 * 250
    walled = np.ones((500, 250))
    walled[:, 120] = -1.0
    for costs, start, end in (
        (walled, [[250, 0]], [[250, 249]]),
        (walled.T.copy(), [[0, 250]], [[249, 250]]),
    ):
        larger = np.ones((costs.shape[0] + 100, costs.shape[1] + 150))
        assert cheapest(larger, np.array(start), np.array(end), diagonal=True) is not None
        assert cheapest(costs, np.array(start), np.array(end), diagonal=True) is None
        search.release_searches()


def test_routing_lets_go_of_the_searches_it_kept():
    """Kept searches hold several arrays of the die's size; a script that routes die after die
    must not keep them: ``route`` forgets them when it returns (here, one kept before it)."""
    cheapest(np.ones((500, 250)), np.array([[0, 0]]), np.array([[499, 249]]), diagonal=True)
    assert search.kept_searches()
    net = Net(name="A", terminals=(pad("P", 100, 300), bump("B", 700, 300)), width=W)
    p = RoutingProblem(outline=box(0, 0, 1000, 600), edge_clearance=20.0, space=S, nets=(net,))
    assert len(route(p).routed) == 1
    assert not search.kept_searches()


def test_a_search_with_many_ends_stops_at_the_first_end_it_settles():
    """Past ``MANY_ENDS`` the search stops by its own test, not scikit-image's: it must stop
    where the first end is settled, not settle the whole window (the path would be the same,
    only slower). From (0, 0) on a 2,000 x 4 grid to ends in rows 150-599 of column 3: the
    first end is reached at cost 3√2 + 147, so no cell from row 200 on is settled."""
    costs = np.ones((2000, 4))
    ends = np.array([(150 + k, 3) for k in range(MANY_ENDS + 50)])
    mcp, _ = search._search(costs.T, True, True)
    assert isinstance(mcp, search._ToFirstEnd)
    mcp.ends = frozenset((ends[:, 1] + ends[:, 0] * 4).tolist())  # column by column of costs.T
    cumulative, _ = mcp.find_costs([(0, 0)])
    assert cumulative[3, 150] == pytest.approx(3 * np.sqrt(2) + 147)
    assert np.isinf(cumulative[:, 200:]).all()


def test_each_thread_keeps_its_own_searches():
    """A kept search is refilled with each search's prices: two threads routing at once must
    not share one. A search kept in this thread is not seen from another, and one kept there
    is not seen here."""
    cheapest(np.ones((500, 250)), np.array([[0, 0]]), np.array([[499, 249]]), diagonal=True)
    here = {id(k) for k in search.kept_searches().values()}
    there: list[set] = []

    def other() -> None:
        there.append({id(k) for k in search.kept_searches().values()})
        cheapest(np.ones((400, 300)), np.array([[0, 0]]), np.array([[399, 299]]), diagonal=True)
        there.append({id(k) for k in search.kept_searches().values()})

    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    assert here and there[0] == set() and there[1] and not there[1] & here
    assert {id(k) for k in search.kept_searches().values()} == here
    search.release_searches()
