"""Grid paths to octilinear centrelines: merge collinear runs, shortcut staircases where legal."""

from __future__ import annotations

import numpy as np

from masklayout.routing.grid import disk_offsets, one_bend
from masklayout.routing.negotiate import Negotiator, NetState, Piece, line_cells


def corners(cells: np.ndarray) -> np.ndarray:
    """The path's end cells and the cells where its direction changes."""
    if len(cells) < 3:
        return cells
    d = np.diff(cells, axis=0)
    turn = np.any(d[1:] != d[:-1], axis=1)
    return np.concatenate([cells[:1], cells[1:-1][turn], cells[-1:]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.abs(v).max()


class Smoother:
    """Shortcuts a net's corners through cells that are free of walls and other nets."""

    def __init__(self, neg: Negotiator):
        self.neg = neg

    def smooth(self, st: NetState) -> None:
        neg = self.neg
        walls = neg.walls(st.index, st.net.width)
        occ = neg.occ[st.net.width]
        own = np.zeros(occ.size, bool)
        own[st.foot[st.net.width]] = True
        others = occ.reshape(-1) - own
        nx = neg.grid.nx
        disk = disk_offsets(st.net.width + neg.space, neg.grid.pitch)
        several = len(st.pieces) > 1
        stamps = [self._stamp(piece, disk) for piece in st.pieces] if several else []
        near = np.zeros(occ.size if several else 0, np.int32)  # the net's pieces near each cell
        for stamp in stamps:
            near[stamp] += 1

        def free(points: np.ndarray) -> bool:
            for a, b in zip(points[:-1], points[1:], strict=True):
                c = line_cells(a, b)
                flat = c[:, 0] * nx + c[:, 1]
                if walls[c[:, 0], c[:, 1]].any() or others[flat].any():
                    return False
                if several and near[flat].any():
                    return False
            return True

        junctions = {tuple(p.cells[0]) for p in st.pieces if p.start is None}
        pieces = []
        tree: list[np.ndarray] = [st.fixed_cells] if len(st.fixed_cells) else []
        for q, piece in enumerate(st.pieces):
            if several:  # a shortcut keeps its clearance from the net's other pieces
                near[stamps[q]] -= 1
            cells = piece.cells
            v = corners(cells)
            hits = np.flatnonzero([tuple(c) in junctions for c in cells])
            m = neg.clear_run(st.net.width)
            pinned = np.unique(
                np.clip(np.concatenate([hits - m, hits, hits + m]), 0, len(cells) - 1)
            )
            pinned = pinned if len(hits) else hits
            if len(pinned):
                v = np.unique(np.concatenate([v, cells[pinned]]), axis=0)
                order = {tuple(c): i for i, c in enumerate(cells)}
                v = np.array(sorted(v.tolist(), key=lambda c: order[tuple(c)]))
            pinned_set = {tuple(c) for c in cells[pinned]}
            stops = [k for k, c in enumerate(v) if tuple(c) in pinned_set]
            before = None
            if piece.start is not None:
                before = _unit(self._cell_dir(piece.start.leg[-1] - piece.start.leg[-2]))
            end = piece.end.leg
            after = _unit(self._cell_dir(end[-2] - end[-1]))
            start_behind = set(piece.start.behind) if piece.start is not None else set()
            end_behind = set(piece.end.behind)
            fixed_head = piece.start is None and len(v) > 2
            out = list(v[:2]) if fixed_head else [v[0]]
            i = 1 if fixed_head else 0
            if fixed_head:
                before = _unit(v[1] - v[0])
            while i < len(v) - 1:
                limit = min([k for k in stops if k > i], default=len(v) - 1)
                for j in range(limit, i, -1):
                    nxt = after if j == len(v) - 1 else _unit(v[j + 1] - v[j])
                    chosen: np.ndarray | None = None
                    for option in one_bend(v[i], v[j], st.diagonal, x_axis=1):
                        dirs = [_unit(q - p) for p, q in zip(option[:-1], option[1:], strict=True)]
                        seq = ([before] if before is not None else []) + dirs + [nxt]
                        ok_turns = all(p @ q >= 0 for p, q in zip(seq[:-1], seq[1:], strict=True))
                        ok_ports = (i > 0 or tuple(dirs[0]) not in start_behind) and (
                            j < len(v) - 1 or tuple(-dirs[-1]) not in end_behind
                        )
                        if ok_turns and ok_ports and (j == i + 1 or free(option)):
                            chosen = option
                            break
                    if chosen is not None or j == i + 1:
                        chosen = np.array([v[i], v[j]]) if chosen is None else chosen
                        out.extend(chosen[1:])
                        before = _unit(chosen[-1] - chosen[-2])
                        i = j
                        break
            cells = np.concatenate(
                [line_cells(a, b)[:-1] for a, b in zip(out[:-1], out[1:], strict=True)] + [out[-1:]]
            )
            pieces.append(Piece(start=piece.start, cells=cells, end=piece.end))
            if several:
                stamps[q] = self._stamp(pieces[-1], disk)
                near[stamps[q]] += 1
            tree.append(cells)
        neg.rip_up(st)
        st.pieces = pieces
        neg.place(st)

    def _stamp(self, piece: Piece, disk: np.ndarray) -> np.ndarray:
        """The cells (flat indices) closer than the disk's radius to the piece and its legs."""
        legs = [self.neg._leg_line(p) for p in (piece.start, piece.end) if p is not None]
        cells = np.concatenate([piece.cells, *legs])
        return self.neg._flat((cells[:, None, :] + disk[None]).reshape(-1, 2))

    def _cell_dir(self, v: np.ndarray) -> np.ndarray:
        """A leg direction (x, y in µm) as a (row, column) step."""
        return np.array([np.sign(round(v[1], 6)), np.sign(round(v[0], 6))])
