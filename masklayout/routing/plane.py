"""Power planes: a net marked ``plane`` is poured over the free area after the signal nets."""

from __future__ import annotations

import klayout.db as kdb
import numpy as np

from masklayout.routing.model import Net
from masklayout.routing.shapes import DBU, polygon_region


def pour(
    net: Net,
    fixed: kdb.Region,
    foreign: kdb.Region,
    inner: kdb.Region,
    space: float,
) -> tuple[kdb.Region, tuple[tuple[float, float], str] | None]:
    """The net's pour and terminals as one region, or the reason it does not connect.

    The pour is the die inside its edge clearance less all foreign metal grown by ``space``,
    opened by the net's width (so no neck is narrower than the width), keeping the pieces that
    touch the net's terminals.
    """
    s = int(round(space / DBU)) + 50  # 50 nm over: sizing approximates round corners
    half = int(round(net.width / 2 / DBU))
    free = inner - foreign.sized(s)
    opened = free.sized(-half, -half, 0).sized(half, half, 0)  # mode 0: every corner cut
    terminals = polygon_region([t.polygon for t in net.terminals]) + fixed
    metal = (opened + terminals).merged()
    metal = metal.interacting(terminals)
    pieces = list(metal.each())
    if len(pieces) > 1:
        home = kdb.Region(pieces[0])
        apart = [
            t for t in net.terminals if not polygon_region([t.polygon]).interacting(home).count()
        ]
        names = ", ".join(t.name for t in apart)
        at = np.round(apart[0].polygon.mean(0), 3)
        return metal, (
            (float(at[0]), float(at[1])),
            f"plane splits into {len(pieces)} pieces: {names} cut off from {net.terminals[0].name} "
            f"(no passage at least {net.width:g} µm wide with {space:g} µm space to other metal)",
        )
    return metal, None
