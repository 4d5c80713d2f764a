"""Negotiated-congestion routing (PathFinder) of the signal nets on the grid.

Each net is grown as a tree: the cheapest path from the tree built so far to the nearest
unconnected terminal, until all are connected. Each trace width w' has its own occupancy: a net
of width w covers there every cell closer than ``w/2 + w'/2 + space`` to its centreline cells
(exactly, when that is a whole ``LATTICE_CELLS`` number of cells, else its halo); a net's cell
that another net covers in the occupancy of its own width is shared.
Nets pay ``(1 + history) · (1 + present · sharing)`` per unit length (a two-terminal net counts a
tree's cover at ``TREE_SHARE``: a tree can move a branch over); after each pass the nets that
still share cells are ripped up and rerouted with a higher present factor and the shared cells'
history raised, until no cell is shared. Nets still sharing after the last pass are dropped,
most-shared first; when only a few are, each is repaired by rip-up and reroute (routed across
no other net if it can, else across them; the nets in its way move over where they can), and
the rest are reported. Last, a tree's branches that went round other nets are regrown where
those nets have since left the die free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from masklayout.routing.grid import (
    Grid,
    crosses,
    disk_offsets,
    edges,
    halo,
    inside,
    polygon_distance,
    sample,
    segment_distance,
)
from masklayout.routing.model import Net, Terminal
from masklayout.routing.ports import Port, candidate_ports, centre
from masklayout.routing.search import cheapest, cheapest_path
from masklayout.routing.tree import Stubs, branch_costs, four_connected, near_tree, stubs
from masklayout.routing.tree import seed as tree_seed
from masklayout.routing.tree import window as box_window

# PathFinder schedule. The first pass already routes each net around those before it (a high
# present factor), so negotiation starts from a nearly legal routing; the present factor then
# grows gently and the history of every contested area grows each pass, so a net that can take
# a neighbouring channel leaves the full one to a net that cannot.
PASSES = 50
REROUTES_PER_NET = 8  # budget of reroutes for the whole negotiation, per net
PRESENT_START = 50.0
PRESENT_GROWTH = 1.5
HISTORY_STEP = 1.0
HISTORY_TRACKS = 6  # radius, in tracks (width + space), of the area a conflict makes dearer
TREE_PRESENT = 10.0  # least present factor for a tree branch that must cross other nets
CROSSING = 500.0  # price of a cell on another net's centreline, for a tree that cannot go around
SQUEEZE = 50.0  # price of a cell of another net's centreline that hugs a wall, for a tree
# A two-terminal net pays this fraction of the present price on cells a tree covers: a tree
# can move its branch (any port, any junction), a crossed signal cannot, so a signal squeezed
# between a bump and a tree's branch pushes the branch over instead of crossing its neighbour.
TREE_SHARE = 0.5
STRICT_REACH = 4  # a dropped net's strict retry searches within this many margins of its box
REPAIR_VICTIMS = 30  # most nets a dropped net's repair may rip up (see ``Negotiator._repair``)
REPAIR_DEPTH = 8  # ... and how many levels deep
REPAIR_TRIES = 3  # ... and how many ways for the dropped net
# ... and only when at most this many nets are dropped: a repair makes room for a few nets
# that cross others; on a die that loses a hundred it costs minutes and moves the loss about
REPAIR_FEW = 8
HUG = 2  # cells from a wall within which a centreline hugs it (see ``Negotiator._hard``)


@dataclass
class Piece:
    """One branch of a net's tree: grid cells from a start (port or tree cell) to a port."""

    start: Port | None
    cells: np.ndarray
    end: Port
    free: bool = True  # found through free cells only (a tree's branch may squeeze or cross)


class Footprints:
    """Which nets' footprints cover given cells: per trace width, one sorted index of every
    placed net's footprint (a lookup per query, not a search per pair of nets)."""

    def __init__(self, states: list[NetState], widths: tuple[float, ...]):
        self._index = {}
        for w in widths:
            placed = [(i, st.foot[w]) for i, st in enumerate(states) if st.foot]
            cells = np.concatenate([f for _, f in placed]) if placed else np.zeros(0, np.int64)
            owner = np.concatenate([np.full(len(f), i) for i, f in placed]) if placed else cells
            order = np.argsort(cells, kind="stable")
            self._index[w] = (cells[order], owner[order])

    def covering(self, cells: np.ndarray, width: float) -> set[int]:
        """The positions (in the states indexed) of the nets whose footprint in the occupancy
        of ``width`` holds any of ``cells`` (flat indices)."""
        index, owner = self._index[width]
        lo, hi = np.searchsorted(index, cells, "left"), np.searchsorted(index, cells, "right")
        count = hi - lo
        at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())
        return set(owner[at].tolist())


@dataclass
class NetState:
    """A net while it is being negotiated."""

    index: int
    net: Net
    ports: list[list[Port]]
    fixed_cells: np.ndarray
    fixed_terminals: frozenset[int]
    pieces: list[Piece] = field(default_factory=list)
    used: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    foot: dict[float, np.ndarray] = field(default_factory=dict)
    failure: tuple[tuple[float, float], str] | None = None
    shared: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hard: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    congested: bool = False

    @property
    def diagonal(self) -> bool:
        return self.net.style != "manhattan"

    @property
    def tree(self) -> bool:
        """More than two terminals: grown as a tree, branch by branch."""
        return len(self.net.terminals) > 2


# Whole numbers k of cells for which a lattice point at least k from both ends of an axis or
# diagonal grid step is at least k from the step (not 5: the point (4, -3) is 4.95 from the
# step (0, 0)-(1, 1)); checked in the tests.
LATTICE_CELLS = (3, 4, 6, 7, 8)


def _lattice_reach(distance: float, pitch: float) -> float | None:
    """When ``distance`` is k cells (k in ``LATTICE_CELLS``), the footprint radius ``distance``
    itself (less 1 nm): two paths of grid steps whose cells all keep k cells apart then keep k
    cells apart along their steps too. Otherwise None (use the halo)."""
    k = distance / pitch
    if abs(k - round(k)) > 1e-9 or round(k) not in LATTICE_CELLS:
        return None
    return distance - 1e-3


def _cells(ports: list[Port]) -> np.ndarray:
    return np.array([p.cell for p in ports], np.int64).reshape(-1, 2)


def _heading(port: Port) -> tuple[float, float, int, int]:
    """The centre a port's leg leaves from and the direction it leaves in."""
    d = np.sign(np.round(port.leg[1] - port.leg[0], 6)).astype(int)
    return port.origin[0], port.origin[1], int(d[0]), int(d[1])


def _unique(flat: np.ndarray) -> np.ndarray:
    """The cell indices ``flat`` sorted, each once: ``np.unique`` by a sort and a comparison of
    neighbours (``np.unique`` hashes integers first, about 20 times slower for the thousands
    of cells of a footprint)."""
    cells = np.sort(flat)
    keep = np.ones(len(cells), bool)
    np.not_equal(cells[1:], cells[:-1], out=keep[1:])
    return cells[keep]


def _count(counts: np.ndarray, cells: np.ndarray, step: int) -> None:
    """Add ``step`` to ``counts`` at the flat indices ``cells``, each listed once (footprints
    and centrelines are unique cells: a plain indexed add, not the slower ``np.add.at``)."""
    counts.reshape(-1)[cells] += step


def line_cells(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cells of the octilinear run from cell a to cell b, both included."""
    d = b - a
    n = int(np.abs(d).max())
    if n == 0:
        return a[None].copy()
    return a[None] + np.arange(n + 1)[:, None] * (d // n)[None]


class Negotiator:
    """The PathFinder loop over the signal nets of one problem."""

    def __init__(
        self,
        grid: Grid,
        space: float,
        blocked: dict[float, np.ndarray],
        fixed_owner: dict[float, np.ndarray],
        statics: list[tuple[str, np.ndarray, int]],
        outline: np.ndarray,
        edge_clearance: float,
        widths: tuple[float, ...],
    ):
        self.grid = grid
        self.space = space
        self.blocked = blocked
        self.fixed_owner = fixed_owner
        self._any_fixed = any(bool((o != -1).any()) for o in fixed_owner.values())
        self.statics = statics
        self.outline = outline
        self.edge_clearance = edge_clearance
        self.occ = {w: np.zeros((grid.ny, grid.nx), np.int16) for w in widths}
        self.tree_occ = {w: np.zeros((grid.ny, grid.nx), np.int16) for w in widths}
        self.hist = np.zeros((grid.ny, grid.nx), np.float32)
        self.present = PRESENT_START
        self.disks: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
        for a in widths:
            for b in widths:
                d = a / 2 + b / 2 + space
                reach = halo(d, grid.pitch)
                self.disks[a, b] = (
                    disk_offsets(_lattice_reach(d, grid.pitch) or reach, grid.pitch),
                    disk_offsets(reach + grid.pitch * math.sqrt(0.5), grid.pitch),
                )
        lo = np.array([p.min(0) for _, p, _ in statics]).reshape(-1, 2)
        hi = np.array([p.max(0) for _, p, _ in statics]).reshape(-1, 2)
        self.static_lo, self.static_hi = lo, hi
        self._walls: dict[int, np.ndarray] = {}
        self._legs: dict[object, tuple[Port, np.ndarray]] = {}
        self.port_price: dict[int, float] = {}
        self._blur: dict[float, np.ndarray] = {}
        self.lines = np.zeros((grid.ny, grid.nx), np.int16)
        self.hard = np.zeros((grid.ny, grid.nx), np.int16)
        self.trees = False  # any multi-terminal net: keep the centreline grids for them
        self._hugs: dict[float, np.ndarray] = {}
        self.fence: np.ndarray | None = None  # more walls, for the repair of a dropped net

    # -- setup -------------------------------------------------------------------------------

    def walls(self, k: int, width: float) -> np.ndarray:
        """Cells net k may not use: the static mask for its width and other nets' fixed traces."""
        if k not in self._walls:
            owner = self.fixed_owner[width]
            foreign = (owner != -1) & (owner != k) if self._any_fixed else None
            self._walls[k] = (
                self.blocked[width] | foreign
                if foreign is not None and foreign.any()
                else self.blocked[width]
            )
        return self._walls[k]

    def state(
        self,
        k: int,
        net: Net,
        fixed_cells: np.ndarray,
        fixed_terms: frozenset[int],
        members: tuple[tuple[Terminal, ...], ...],
    ):
        """Net k ready to route: the ports of each terminal are its members' legal ports (a
        terminal that groups several pads is left through any of them)."""
        self.trees |= len(net.terminals) > 2
        walls = self.walls(k, net.width)
        ports: list[list[Port]] = []
        for t, parts in enumerate(members):
            ports.append([])
            for part in parts:
                candidates = [
                    p
                    for p in candidate_ports(
                        t, part.polygon, net.width, self.space, self.grid, net.style != "manhattan"
                    )
                    if not walls[p.cell]
                ]
                ports[t] += self._legal(candidates, k, part.name, net)
        return NetState(
            index=k, net=net, ports=ports, fixed_cells=fixed_cells, fixed_terminals=fixed_terms
        )

    def _legal(self, ports: list[Port], k: int, own: str, net: Net) -> list[Port]:
        """The ports whose legs keep ``width/2 + space`` from every static shape that is not
        the terminal they leave (named ``own``) or the net's own fixed trace, and inside the
        die-edge clearance (all legs of a terminal start near its centre: one set of nearby
        shapes serves them all)."""
        if not ports:
            return []
        need = net.width / 2 + self.space - 1e-6
        every = np.concatenate([p.leg for p in ports])
        lo, hi = every.min(0) - need, every.max(0) + need
        near = np.flatnonzero(np.all(self.static_lo <= hi, 1) & np.all(self.static_hi >= lo, 1))
        shapes = [
            polygon
            for name, polygon, owner in (self.statics[i] for i in near)
            if not (owner == k and (name == own or name.startswith("fixed")))
        ]
        starts = np.array([p.leg[0] for p in ports])
        covered = np.zeros(len(ports), bool)
        for polygon in shapes:
            covered |= inside(starts, polygon)
        pa = np.concatenate([edges(q)[0] for q in shapes]) if shapes else np.zeros((0, 2))
        pb = np.concatenate([edges(q)[1] for q in shapes]) if shapes else np.zeros((0, 2))
        corners = np.concatenate(shapes) if shapes else np.zeros((0, 2))
        inner = self.edge_clearance + net.width / 2 - 1e-6
        out = []
        for port in (p for p, no in zip(ports, covered, strict=True) if not no):
            leg = port.leg
            la, lb = leg[:-1], leg[1:]
            if len(pa) and (
                segment_distance(leg, pa, pb).min() < need
                or segment_distance(corners, la, lb).min() < need
                or crosses(la, lb, pa, pb)
            ):
                continue
            if np.all(polygon_distance(leg, self.outline) == 0) and (
                segment_distance(leg, *edges(self.outline)).min() >= inner
            ):
                out.append(port)
        return out

    # -- footprints --------------------------------------------------------------------------

    def _flat(self, cells: np.ndarray) -> np.ndarray:
        g = self.grid
        ok = (cells[:, 0] >= 0) & (cells[:, 0] < g.ny) & (cells[:, 1] >= 0) & (cells[:, 1] < g.nx)
        cells = cells[ok]
        return _unique(cells[:, 0] * g.nx + cells[:, 1])

    def leg_cells(self, port: Port, width: float, polygon: np.ndarray) -> np.ndarray:
        """Cells along a leg where its metal reaches outside its terminal."""
        key = id(port)
        if key not in self._legs:
            self._legs[key] = (port, self._leg_cells(port, width, polygon))
        return self._legs[key][1]

    def _leg_cells(self, port: Port, width: float, polygon: np.ndarray) -> np.ndarray:
        return self.grid.nearest(self.leg_tail(port, width, polygon))

    def leg_tail(self, port: Port, width: float, polygon: np.ndarray) -> np.ndarray:
        """Points along a leg, half a cell apart, where its metal reaches outside its
        terminal (µm)."""
        key = ("tail", id(port))
        if key not in self._legs:
            pts = sample(port.leg, self.grid.pitch / 2)
            deep = polygon_distance(pts, polygon) == 0
            deep[deep] = segment_distance(pts[deep], *edges(polygon)) >= width / 2
            self._legs[key] = (port, pts[~deep])
        return self._legs[key][1]

    def _clear_of(self, st: NetState, port: Port, tree_xy: np.ndarray) -> bool:
        """Whether the port's leg, where it leaves its terminal, keeps ``width + space`` from
        the tree's cells (their centres ``tree_xy``, µm; else its metal notches against the
        tree's)."""
        net, clear = st.net, st.net.width + self.space
        tail = self.leg_tail(port, net.width, net.terminals[port.terminal].polygon)
        if len(tail) < 2 or not len(tree_xy):
            return True
        near = np.all((tree_xy > tail.min(0) - clear) & (tree_xy < tail.max(0) + clear), 1)
        xy = tree_xy[near]
        return not len(xy) or segment_distance(xy, tail[:-1], tail[1:]).min() >= clear - 1e-6

    def footprint(self, st: NetState) -> tuple[np.ndarray, dict[float, np.ndarray]]:
        """The net's used cells and its footprint in each width's occupancy, as flat indices."""
        net = st.net
        cells = [p.cells for p in st.pieces]
        legs = []
        for p in st.pieces:
            for port in (p.start, p.end):
                if port is not None:
                    legs.append(
                        self.leg_cells(port, net.width, net.terminals[port.terminal].polygon)
                    )
        grid_cells = np.concatenate(cells) if cells else np.zeros((0, 2), np.int64)
        leg_cells = np.concatenate(legs) if legs else np.zeros((0, 2), np.int64)
        used = self._flat(np.concatenate([grid_cells, leg_cells]))
        feet = {}
        for other in self.occ:
            disk, leg_disk = self.disks[net.width, other]
            foot = [self._flat((grid_cells[:, None, :] + disk[None]).reshape(-1, 2))]
            if len(leg_cells):
                foot.append(self._flat((leg_cells[:, None, :] + leg_disk[None]).reshape(-1, 2)))
            feet[other] = _unique(np.concatenate(foot))
        return used, feet

    def place(self, st: NetState) -> None:
        st.used, st.foot = self.footprint(st)
        for w, foot in st.foot.items():
            _count(self.occ[w], foot, 1)
            if st.tree:
                _count(self.tree_occ[w], foot, 1)
        if not self.trees:
            return
        st.line = self.centreline(st)
        st.hard = self._hard(st, st.line)
        _count(self.lines, st.line, 1)
        _count(self.hard, st.hard, 1)

    def rip_up(self, st: NetState) -> None:
        for w, foot in st.foot.items():
            _count(self.occ[w], foot, -1)
            if st.tree:
                _count(self.tree_occ[w], foot, -1)
        _count(self.lines, st.line, -1)
        _count(self.hard, st.hard, -1)
        st.used, st.foot = np.zeros(0, np.int64), {}
        st.line, st.hard = np.zeros(0, np.int64), np.zeros(0, np.int64)

    def _hard(self, st: NetState, line: np.ndarray) -> np.ndarray:
        """The cells that stand for the net's centreline as a barrier to trees: the centreline,
        except where it hugs a wall (a pad, a bump, the edge) away from the net's own terminals;
        there it is pushed ``HUG`` cells off the wall, so a tree on the wall's side can pass
        between wall and net (once the net moves over) but not cross the net."""
        grid, width = self.grid, st.net.width
        if width not in self._hugs:
            self._hugs[width] = ndimage.binary_dilation(
                self.blocked[width], structure=np.ones((2 * HUG + 1, 2 * HUG + 1), bool)
            ).reshape(-1)
        hug = self._hugs[width][line]
        xy = grid.xy(line // grid.nx, line % grid.nx)
        reach: dict[tuple[float, float], float] = {}  # the longest leg from each leg start
        for port in (p for ports in st.ports for p in ports):
            at = port.origin
            reach[at] = max(reach.get(at, 0.0), float(np.hypot(*(port.leg[-1] - port.leg[0]))))
        for at, leg in reach.items():
            hug &= np.hypot(*(xy - np.array(at)).T) >= leg + 2 * grid.pitch
        if not hug.any():
            return line
        cells = np.stack([line[hug] // grid.nx, line[hug] % grid.nx], axis=1)
        pushed = self._flat((cells[:, None, :] + disk_offsets(HUG + 1.5, 1.0)[None]).reshape(-1, 2))
        pushed = pushed[~self._hugs[width][pushed]]
        return _unique(np.concatenate([line[~hug], pushed]))

    def centreline(self, st: NetState) -> np.ndarray:
        """The cells of the net's centrelines, legs included, 4-connected (flat indices): a
        path of grid steps that crosses the net enters one of them."""
        runs = [four_connected(p.cells) for p in st.pieces]
        for piece in st.pieces:
            for port in (piece.start, piece.end):
                if port is not None:
                    runs.append(self._leg_line(port))
        return self._flat(np.concatenate(runs)) if runs else np.zeros(0, np.int64)

    def _leg_line(self, port: Port) -> np.ndarray:
        key = ("line", id(port))
        if key not in self._legs:
            line = four_connected(self.grid.nearest(sample(port.leg, self.grid.pitch / 2)))
            self._legs[key] = (port, line)
        return self._legs[key][1]

    def shared_cells(self, st: NetState) -> np.ndarray:
        """The net's used cells that another net's footprint covers."""
        return st.used[self.occ[st.net.width].reshape(-1)[st.used] > 1]

    # -- one net -----------------------------------------------------------------------------

    def route(self, st: NetState, strict: bool = False) -> None:
        """(Re)build the net's tree against the present occupancy (rip it up first)."""
        net = st.net
        last, st.pieces, st.failure = st.pieces, [], None
        if len(net.terminals) - len(st.fixed_terminals) <= 0 or (
            len(net.terminals) == 1 and not len(st.fixed_cells)
        ):
            return
        for t, ports in enumerate(st.ports):
            if not ports and t not in st.fixed_terminals:
                term = net.terminals[t]
                st.failure = (
                    tuple(np.round(term.polygon.mean(0), 3).tolist()),
                    f"no way out of {term.name}: every straight exit from its centre, "
                    f"{net.width:g} µm wide, comes within {self.space:g} µm of other metal, a "
                    "keep-out or the die edge",
                )
                return
        walls = self.walls(st.index, net.width)
        if st.tree:
            if not self._grow_tree(st, walls, strict, last):
                self._no_path(st, strict)
            return
        every = np.array([p.cell for ports in st.ports for p in ports])
        lo, hi = every.min(0), every.max(0)
        if len(st.fixed_cells):
            lo, hi = np.minimum(lo, st.fixed_cells.min(0)), np.maximum(hi, st.fixed_cells.max(0))
        margin = max(10, int(0.25 * (hi - lo).max()))
        # the strict retry of a dropped net (no cell of another net) stays near its terminals:
        # a legal way around a whole large die is no way a designer wants, and each costs seconds
        for window in (margin, STRICT_REACH * margin if strict else None):
            if window is None:
                rows, cols = slice(0, self.grid.ny), slice(0, self.grid.nx)
            else:
                rows = slice(max(0, lo[0] - window), min(self.grid.ny, hi[0] + window + 1))
                cols = slice(max(0, lo[1] - window), min(self.grid.nx, hi[1] + window + 1))
            if self._grow(st, walls, rows, cols, strict):
                return
        self._no_path(st, strict)

    def _no_path(self, st: NetState, strict: bool) -> None:
        net = st.net
        st.pieces = []
        if not strict:
            names = " and ".join(t.name for t in net.terminals)
            st.failure = (
                tuple(np.round(net.terminals[-1].polygon.mean(0), 3).tolist()),
                f"no path joins {names}: they are walled apart by other nets' pads and bumps, "
                "keep-outs or the die edge",
            )

    def _costs(
        self,
        st: NetState,
        walls: np.ndarray,
        rows: slice,
        cols: slice,
        strict: bool,
        present: float | None = None,
        ports: list[Port] | None = None,
    ):
        """Price per unit length of each cell of the window for this net, -1 for walls. A port
        cell also carries the price of its leg (the leg's cells lie off the searched paths): a
        search starts or ends there, paying half the cell's price, so the cell gets twice the
        leg's; in a strict search a port whose leg meets another net is a wall."""
        occ = self.occ[st.net.width][rows, cols]
        present = self.present if present is None else max(present, self.present)
        crowd = occ
        if self.trees and not st.tree:
            crowd = occ - (1.0 - TREE_SHARE) * self.tree_occ[st.net.width][rows, cols]
        costs = (1.0 + self.hist[rows, cols]) * (1.0 + present * crowd)
        costs[walls[rows, cols]] = -1.0
        if self.fence is not None:
            costs[self.fence[rows, cols]] = -1.0
        if strict:
            costs[occ > 0] = -1.0
        h, w = costs.shape
        if ports is None:
            ports = [p for ps in st.ports for p in ps]
        keep: dict[tuple[int, int], float] = {}
        for p in ports:
            y, x = p.cell[0] - rows.start, p.cell[1] - cols.start
            leg = self.port_price[id(p)] = self._leg_price(st, p, strict, present)
            if 0 <= y < h and 0 <= x < w and costs[y, x] >= 0 and math.isfinite(leg):
                keep[y, x] = min(keep.get((y, x), math.inf), costs[y, x] + 2 * leg)
        for p in ports:
            for dy, dx in p.behind:
                y, x = p.cell[0] + dy - rows.start, p.cell[1] + dx - cols.start
                if 0 <= y < h and 0 <= x < w:
                    costs[y, x] = -1.0
        for y, x in {(p.cell[0] - rows.start, p.cell[1] - cols.start) for p in ports}:
            if 0 <= y < h and 0 <= x < w:
                costs[y, x] = keep.get((y, x), -1.0)
        return costs

    def _leg_price(self, st: NetState, port: Port, strict: bool, present: float) -> float:
        """What the port's leg adds to the net's cost: its cells' congestion and history
        (infinite in a strict search when another net covers any of them)."""
        cells = self.leg_cells(port, st.net.width, st.net.terminals[port.terminal].polygon)
        if not len(cells):
            return 0.0
        flat = cells[:, 0] * self.grid.nx + cells[:, 1]
        occ = self.occ[st.net.width].reshape(-1)[flat]
        fenced = self.fence is not None and self.fence.reshape(-1)[flat].any()
        if (strict and occ.any()) or fenced:
            return math.inf
        hist = self.hist.reshape(-1)[flat]
        return float(((1.0 + hist) * (1.0 + present * occ) - 1.0).sum())

    def _grow(self, st, walls, rows, cols, strict) -> bool:
        net = st.net
        base = self._costs(st, walls, rows, cols, strict)
        shape = np.array(base.shape)
        off = np.array([rows.start, cols.start])
        connected = set(st.fixed_terminals)
        tree: list[np.ndarray] = [st.fixed_cells] if len(st.fixed_cells) else []
        first = not tree
        if first:
            connected.add(0)
        while len(connected) < len(net.terminals):
            costs, junction = base, {}
            if first:
                start_ports = st.ports[0]
                starts = np.array([p.cell for p in start_ports]) - off
            else:
                paths = [p.cells for p in st.pieces]
                costs, starts, junction = self._branch_starts(base, paths, off, net.width)
                if len(st.fixed_cells):
                    starts = np.concatenate([starts, st.fixed_cells - off])
            targets = [p for t, ps in enumerate(st.ports) if t not in connected for p in ps]
            ends = np.array([p.cell for p in targets]) - off
            inside = np.all((ends >= 0) & (ends < shape), 1)
            sinside = np.all((starts >= 0) & (starts < shape), 1)
            if not inside.any() or not sinside.any():
                return False
            path = cheapest_path(costs, starts[sinside], ends[inside], st.diagonal)
            if path is None:
                return False
            end = self._cheapest(targets, path[-1] + off)
            start = None
            if first:
                start = self._cheapest(start_ports, path[0] + off)
            elif tuple(path[0]) in junction:
                path = np.concatenate([junction[tuple(path[0])], path])
            path = path + off
            st.pieces.append(Piece(start=start, cells=path, end=end))
            tree.append(path)
            connected.add(end.terminal)
            first = False
        return True

    def _grow_tree(self, st: NetState, walls: np.ndarray, strict: bool, last: list[Piece]) -> bool:
        """(Re)grow a multi-terminal net's tree branch by branch (see ``tree``), keeping the
        branches of its last tree that no other net uses now."""
        net, grid = st.net, self.grid
        count, shape = len(net.terminals), (grid.ny, grid.nx)
        full = (slice(0, grid.ny), slice(0, grid.nx))
        centres = np.array([centre(t.polygon) for t in net.terminals])
        ports = [np.array([p.cell for p in ps], np.int64).reshape(-1, 2) for ps in st.ports]
        st.pieces = self._kept(st, last)
        connected = set(st.fixed_terminals) | {p.end.terminal for p in st.pieces}
        seed = None
        if not len(st.fixed_cells):
            first = st.pieces[0].start if st.pieces else None
            seed = first.terminal if first is not None else tree_seed(net.terminals)
            connected.add(seed)
        clear, run = net.width + self.space, self.clear_run(net.width)
        tree = np.concatenate([st.fixed_cells, *(p.cells for p in st.pieces)])
        origin = np.zeros(2, np.int64)
        walled = near_tree(tree, origin, shape, clear, grid.pitch)  # walls for every branch
        parts = [stubs(p.cells, run, clear, grid.pitch) for p in st.pieces]
        home = tree if len(tree) or seed is None else ports[seed]
        free = self._costs(st, walls, *full, True, ports=[]) >= 0
        around = (self._costs(st, walls, *full, False, ports=[]) >= 0) & (self.hard == 0)
        labels = {}
        for mode, open_cells in (("free", free), ("around", around)):
            label = ndimage.label(open_cells, structure=np.ones((3, 3)))[0]
            labels[mode] = (label, set(label[home[:, 0], home[:, 1]].tolist()) - {0})
        dist = np.full(count, np.inf)
        near = np.zeros((count, 2), np.int64)

        def approach(cells: np.ndarray) -> None:
            xy = grid.xy(cells[:, 0], cells[:, 1])
            for t in range(count):
                if t not in connected:
                    d = np.hypot(*(xy - centres[t]).T)
                    j = int(np.argmin(d))
                    if d[j] < dist[t]:
                        dist[t], near[t] = d[j], cells[j]

        approach(home)
        while len(connected) < count:
            t = min((u for u in range(count) if u not in connected), key=lambda u: (dist[u], u))
            lo = np.minimum(ports[t].min(0), near[t])
            hi = np.maximum(ports[t].max(0), near[t])
            modes = [
                m
                for m in (["free"] if strict else ["free", "around"])
                if labels[m][1] & {int(labels[m][0][p.cell]) for p in self._open(st, t, m)}
            ]
            piece = None
            for mode in [*modes, "across"]:
                if mode == "across" and strict:
                    break
                margin = max(8, math.ceil(dist[t] / grid.pitch / 2))
                while piece is None:
                    # a free path is searched in a window grown until one is found; squeezing
                    # or crossing costs 50-500 per cell, so a windowed "around" or "across"
                    # path was never provably cheaper than one leaving the window (12x12
                    # fan-in: 0 of 380 searches): those search the whole die at once
                    rows, cols = full if mode != "free" else box_window(lo, hi, shape, margin)
                    piece = self._branch(
                        st, walls, t, seed, tree, walled, parts, rows, cols, mode, set()
                    )
                    if (rows, cols) == full:
                        break
                    margin *= 3
                if piece is not None:
                    break
            if piece is None:  # boxed in by the tree: meet it at a terminal it joins
                mode = "free" if strict else "across"
                piece = self._branch(
                    st, walls, t, seed, tree, walled, parts, *full, mode, connected
                )
            if piece is None:
                return False
            st.pieces.append(piece)
            connected.add(t)
            tree = np.concatenate([tree, piece.cells])
            walled |= near_tree(piece.cells, origin, shape, clear, grid.pitch)
            parts.append(stubs(piece.cells, run, clear, grid.pitch))
            for label, reach in labels.values():
                reach |= set(label[piece.cells[:, 0], piece.cells[:, 1]].tolist()) - {0}
            approach(piece.cells)
        return True

    def _kept(self, st: NetState, last: list[Piece]) -> list[Piece]:
        """The branches of the net's last tree that no other net's footprint covers now, less
        every branch that hangs (directly or not) from a branch that goes."""
        nx, width = self.grid.nx, st.net.width
        occ = self.occ[width].reshape(-1)
        hold = set((st.fixed_cells[:, 0] * nx + st.fixed_cells[:, 1]).tolist())
        joined = set(st.fixed_terminals)
        kept: list[Piece] = []
        for i, piece in enumerate(last):
            flat = piece.cells[:, 0] * nx + piece.cells[:, 1]
            legs = [
                self.leg_cells(port, width, st.net.terminals[port.terminal].polygon)
                for port in (piece.start, piece.end)
                if port is not None
            ]
            used = self._flat(np.concatenate([piece.cells, *legs]))
            hangs = (
                int(flat[0]) in hold
                if piece.start is None
                else i == 0 or piece.start.terminal in joined
            )
            if not hangs or occ[used].any():
                if i == 0 and piece.start is not None:
                    return []
                continue
            kept.append(piece)
            hold.update(flat.tolist())
            joined |= {port.terminal for port in (piece.start, piece.end) if port is not None}
        return kept

    def _open(self, st: NetState, t: int, mode: str) -> list[Port]:
        """Terminal t's ports whose legs no other net uses (``mode`` "free") or
        crosses ("around": they may pass where a net hugs the terminal); all for "across".
        """
        out = []
        for port in st.ports[t]:
            if mode == "free":
                polygon = st.net.terminals[t].polygon
                cells = self.leg_cells(port, st.net.width, polygon)
                busy = self.occ[st.net.width][cells[:, 0], cells[:, 1]].any()
            elif mode == "around":
                cells = self._leg_line(port)
                busy = self.hard[cells[:, 0], cells[:, 1]].any()
            else:
                busy = False
            if not busy:
                out.append(port)
        return out

    def _branch(self, st, walls, t, seed, tree, near, parts, rows, cols, mode, connected):
        """The cheapest branch in the window from terminal t's ports to the tree (or the seed
        terminal): through free cells only (``mode`` "free"), around other nets' centrelines
        ("around") or, failing all else, across them at a price ("across"). The tree is met
        at a stub or at a free port of a terminal it already joins (:meth:`_joints`); the cells
        ``near`` the tree (a mask of the die, kept up to date as the tree grows) are walls.
        Returns the piece from the tree to the port, or None."""
        first = not st.pieces and seed is not None
        tree_xy = self.grid.xy(tree[:, 0], tree[:, 1])
        joints = [] if first else self._joints(st, connected, mode, tree_xy)
        used = [p for u in ([t, seed] if first else [t]) for p in self._open(st, u, mode)]
        used += joints
        base = self._costs(st, walls, rows, cols, mode == "free", TREE_PRESENT, used)
        if mode != "free":
            lines = (self.lines[rows, cols] > 0) & (base >= 0)
            if mode == "around":
                base[lines] += SQUEEZE
                base[self.hard[rows, cols] > 0] = -1.0
            else:
                base[lines] += CROSSING
        off = np.array([rows.start, cols.start])
        shape = np.array(base.shape)

        def within(cells: np.ndarray) -> np.ndarray:
            local = cells - off
            return local[np.all((local >= 0) & (local < shape), 1)]

        clear = [p for p in self._open(st, t, mode) if self._clear_of(st, p, tree_xy)]
        starts = within(_cells(clear))
        idx = np.zeros(0, np.int64)
        joined = Stubs.none()
        if not st.pieces and seed is not None:
            costs, ends = base, within(_cells(self._open(st, seed, mode)))
        else:
            joined = Stubs.join(parts)
            costs, ends, idx = branch_costs(base, near[rows, cols], joined, off)
            ends = np.concatenate([ends, within(st.fixed_cells), within(_cells(joints))])
            if not len(ends) and (rows.stop - rows.start, cols.stop - cols.start) == (
                self.grid.ny,
                self.grid.nx,
            ):
                costs, ends = base, within(tree)
        if not len(starts) or not len(ends):
            return None
        found = cheapest(costs, starts, ends, st.diagonal)
        if found is None:
            return None
        path = found[0][::-1]
        end = self._cheapest(self._open(st, t, mode), path[-1] + off)
        start = None
        if not st.pieces and seed is not None:
            start = self._cheapest(self._open(st, seed, mode), path[0] + off)
        cells = path + off
        hit = np.flatnonzero(np.all(ends[: len(idx)] == path[0], axis=1))
        if len(hit):
            i = idx[hit[0]]
            cells = np.concatenate([joined.cells[i, : joined.lengths[i] - 1], cells])
        elif any(p.cell == tuple(cells[0].tolist()) for p in joints):
            start = self._cheapest(joints, cells[0])
        return Piece(start=start, cells=cells, end=end, free=mode == "free")

    def _joints(
        self, st: NetState, connected: set[int], mode: str, tree_xy: np.ndarray
    ) -> list[Port]:
        """The ports of the terminals the tree joins that a branch may end at: open in this
        ``mode``, with a leg clear of the tree (:meth:`_clear_of`) that leaves its terminal in
        a direction none of the tree's legs there takes."""
        taken = {
            (port.terminal, *_heading(port))
            for piece in st.pieces
            for port in (piece.start, piece.end)
            if port is not None
        }
        return [
            port
            for u in sorted(connected)
            for port in self._open(st, u, mode)
            if (u, *_heading(port)) not in taken and self._clear_of(st, port, tree_xy)
        ]

    def _cheapest(self, ports: list[Port], cell: np.ndarray) -> Port:
        """The port at the cell whose leg costs least (as priced by the last ``_costs``)."""
        at = [p for p in ports if p.cell == tuple(cell)]
        return min(at, key=lambda p: self.port_price[id(p)])

    def clear_run(self, width: float) -> int:
        """Cells a junction keeps from any bend of the trunk, so branch and bend do not notch."""
        return int(math.ceil((width + self.space) / self.grid.pitch)) + 1

    def _branch_starts(self, base: np.ndarray, tree: list[np.ndarray], off, width: float):
        """Costs and start cells for a branch that leaves the tree square: each start ends a
        stub drawn across a straight run of the tree (clear of its bends) long enough to clear
        ``width + space``; the cells closer than that to the tree are walls, so the branch can
        neither hug the tree nor fold back onto it (see ``tree.branch_costs``)."""
        clear, pitch = width + self.space, self.grid.pitch
        cells = np.concatenate(tree) if tree else np.zeros((0, 2), np.int64)
        parts = Stubs.join([stubs(c, self.clear_run(width), clear, pitch) for c in tree])
        near = near_tree(cells, off, base.shape, clear, pitch)
        costs, ends, idx = branch_costs(base, near, parts, off)
        if not len(ends):
            return base, cells - off, {}
        junction = {
            tuple(e.tolist()): parts.cells[i, : parts.lengths[i] - 1] - off
            for e, i in zip(ends, idx, strict=True)
        }
        return costs, ends, junction

    # -- the loop ----------------------------------------------------------------------------

    def negotiate(self, states: list[NetState]) -> None:
        """Route every net, then rip up and reroute the sharing ones until none share, for
        ``PASSES`` passes or until the reroutes would pass ``REROUTES_PER_NET`` per net (a
        tangled pin map); then drop the fewest nets that leave the others clear."""
        self._negotiate(states)
        self._mend_detours(states)

    def _negotiate(self, states: list[NetState]) -> None:
        for st in states:
            self.route(st)
            self.place(st)
        budget = REROUTES_PER_NET * len(states)
        for _ in range(PASSES):
            sharing = [st for st in states if len(self.shared_cells(st))]
            if not sharing:
                return
            budget -= len(sharing)
            if budget < 0:
                break
            for st in sharing:
                self._blame(st)
            self.present *= PRESENT_GROWTH
            for st in sharing:
                self.rip_up(st)
                self.route(st)
                self.place(st)
        self._drop(states)

    def _blame(self, st: NetState) -> None:
        """Raise the history of the cells within ``HISTORY_TRACKS`` tracks of the net's shared
        cells: the whole contested area grows dear, not only the cells where the nets met this
        time (those move from pass to pass, and history spread over them never adds up)."""
        w = st.net.width
        if w not in self._blur:
            self._blur[w] = disk_offsets(HISTORY_TRACKS * (w + self.space), self.grid.pitch)
        g = self.grid
        cells = np.stack(np.divmod(self.shared_cells(st), g.nx), axis=1)
        near = (cells[:, None, :] + self._blur[w][None]).reshape(-1, 2)
        near = near[
            (near[:, 0] >= 0) & (near[:, 0] < g.ny) & (near[:, 1] >= 0) & (near[:, 1] < g.nx)
        ]
        hit = _unique(near[:, 0] * g.nx + near[:, 1])  # each cell once, however many shared
        self.hist.reshape(-1)[hit] += HISTORY_STEP

    def _rivals(self, states: list[NetState]) -> dict[int, set[int]]:
        """For each position in ``states``, the positions of the nets whose footprints cover
        its shared cells."""
        feet = Footprints(states, tuple(self.occ))
        return {
            i: feet.covering(self.shared_cells(st), st.net.width) - {i}
            for i, st in enumerate(states)
        }

    def _drop(self, states: list[NetState]) -> None:
        """Drop as few nets as leave none sharing (greedily, the net that meets the most
        others first; ties to the later net in routing order), then retry each dropped net
        where no other net is, keeping it when it fits; when few are left dropped
        (``REPAIR_FEW``), make room for each by moving the nets in its way (:meth:`_repair`)."""
        rivals = self._rivals(states)
        dropped = []
        while any(rivals.values()):
            i = max(rivals, key=lambda j: (len(rivals[j]), j))
            st = states[i]
            st.shared = self.shared_cells(st)
            self.rip_up(st)
            dropped.append(st)
            del rivals[i]
            for others in rivals.values():
                others.discard(i)
        for st in dropped:
            keep = st.pieces
            self.route(st, strict=True)
            if st.pieces and not st.failure:
                self.place(st)
                st.shared = np.zeros(0, np.int64)
            else:
                st.pieces = keep
                st.congested = True
        lost = [st for st in dropped if st.congested]
        if len(lost) <= REPAIR_FEW:
            for st in lost:
                self._repair(st, states)

    def _mend_detours(self, states: list[NetState]) -> None:
        """Regrow, where no other net is, each tree's branches that squeezed past or crossed
        other nets (and those hanging from them): those nets may have moved away since, and
        the branch's detour round them stayed. Kept when the new tree is whole and no longer."""
        for st in states:
            if not st.tree or st.congested or st.failure is not None:
                continue
            if all(p.free for p in st.pieces):
                continue
            keep = st.pieces
            self.rip_up(st)
            st.pieces = [p for p in keep if p.free]
            self.route(st, strict=True)
            if (
                not st.pieces
                or st.failure is not None
                or sum(len(p.cells) for p in st.pieces) > sum(len(p.cells) for p in keep)
            ):
                st.pieces, st.failure = keep, None
            self.place(st)

    def _repair(self, st: NetState, states: list[NetState]) -> None:
        """Rip up and reroute around a dropped net (:meth:`_ripple`). First the net is routed
        across no other net, squeezing past them where it must (a net whose way winds round a
        bump past other nets' pads then leaves each of them a way to its bump); then at the
        present prices and, when that fails, again with the nets its path met walled off, so
        that it takes another way (``REPAIR_TRIES`` ways at most)."""
        if self._ripple(st, states, [], self._barriers(st, states)) is None:
            return
        banned: list[NetState] = []
        for _ in range(REPAIR_TRIES):
            hit = self._ripple(st, states, banned)
            if not hit:  # None: it fits; []: it has no way at all
                return
            banned += hit

    def _barriers(self, st: NetState, states: list[NetState]) -> np.ndarray:
        """Every other placed net's centreline as a barrier (see :meth:`_hard`), as a mask."""
        mask = np.zeros((self.grid.ny, self.grid.nx), bool)
        for v in states:
            if v is not st and v.foot:
                hard = v.hard if self.trees else self._hard(v, self.centreline(v))
                mask.reshape(-1)[hard] = True
        return mask

    def _ripple(
        self,
        st: NetState,
        states: list[NetState],
        banned: list[NetState],
        around: np.ndarray | None = None,
    ) -> list[NetState] | None:
        """Route the dropped net at the present prices clear of the ``banned`` nets (and of the
        cells ``around`` marks), rip up the nets its path meets and place it; reroute each of
        those where no other net is or else, clear of the dropped net, the same way in turn
        (``REPAIR_DEPTH`` levels deep, ``REPAIR_VICTIMS`` rip-ups at most). Returns None when
        every net fits (the dropped net is routed); else puts all back as it was and returns
        the nets the dropped net's path met."""
        saved = {st.index: (st, st.pieces)}  # every net the repair moves, as it was
        queue = [(st, REPAIR_DEPTH)]
        first: list[NetState] = []
        budget = REPAIR_VICTIMS
        while queue:
            net, depth = queue.pop(0)
            if net is not st:
                self.route(net, strict=True)
                if net.pieces and net.failure is None:
                    self.place(net)
                    continue
            if depth == 0:
                break
            width = net.net.width
            self.fence = self._fenced(banned if net is st else [st], width)
            if net is st and around is not None:
                self.fence |= around
            self.route(net)
            self.fence = None
            if not net.pieces or net.failure is not None:
                break
            self.place(net)
            covering = Footprints(states, (width,)).covering(net.used, width)
            hit = [states[i] for i in sorted(covering) if states[i] is not net]
            hit.sort(key=lambda v: not v.tree)  # trees first: they have the more ways
            if net is st:
                first = hit
            budget -= len(hit)
            if budget < 0:
                break
            for v in hit:
                saved.setdefault(v.index, (v, v.pieces))
                self.rip_up(v)
                queue.append((v, depth - 1))
        else:
            st.congested, st.shared = False, np.zeros(0, np.int64)
            return None
        for net, pieces in saved.values():
            if net.foot:
                self.rip_up(net)
            net.pieces, net.failure = pieces, None
            if net is not st:  # every other net was placed before the repair
                self.place(net)
        return first

    def _fenced(self, nets: list[NetState], width: float) -> np.ndarray:
        """The cells the placed ``nets`` cover in the occupancy of ``width``, as a mask."""
        fence = np.zeros((self.grid.ny, self.grid.nx), bool)
        for n in nets:
            if n.foot:
                fence.reshape(-1)[n.foot[width]] = True
        return fence
