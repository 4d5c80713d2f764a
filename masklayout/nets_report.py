"""What the router made of the nets: a JSON report per net, the pin map as CSV, and a KLayout
marker database of the nets that did not route."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import klayout.db as db
import klayout.rdb as rdb

from masklayout.files import atomic_write, write_bytes
from masklayout.geometry.rdl import Routing, points, unrouted_message
from masklayout.layout import MaskLayout
from masklayout.outputs import layer_properties_path
from masklayout.spec import Design

PINMAP_COLUMNS = ("pad", "bump", "net", "x", "y")
MARKER_HALF = 10.0  # µm: half the side of the square marking where a net got stuck


def nets_json(
    design: Design, routing: Routing, teardrops_skipped: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    """Per net: routed or not (and where it got stuck), length, bends, width, terminals, the
    bumps the tool assigned, with ``rdl.teardrop`` the terminals whose teardrop was left out
    (``teardrops_skipped``); then totals."""
    routed = {net.name: net for net in routing.result.routed}
    stuck = {u.net: u for u in routing.result.unrouted}
    nets = []
    for net in design.nets:
        entry: dict[str, Any] = {
            "name": net.name,
            "routed": net.name in routed,
            "width": net.width,
            "style": net.style,
            "plane": net.plane,
            "terminals": sorted(net.terminals),
            "assigned": [{"pad": p, "bump": b} for p, b in net.assigned],
        }
        if net.name in routed:
            done = routed[net.name]
            entry |= {"length": round(float(done.length), 3), "bends": int(done.bends)}
            if design.spec.die.rdl.teardrop:
                entry["teardrops_skipped"] = list(teardrops_skipped.get(net.name, ()))
        elif net.name in stuck:
            x, y = stuck[net.name].at
            entry |= {"stuck_at": [float(x), float(y)], "reason": stuck[net.name].reason}
        else:
            entry["routed"] = None  # nothing to route: no pad, or a single terminal
        nets.append(entry)
    return {
        "nets": nets,
        "totals": {
            "nets": len(design.nets),
            "to_route": len(routing.problem.nets),
            "routed": len(routed),
            "unrouted": len(stuck),
            "length": round(float(sum(n.length for n in routed.values())), 3),
            "bends": int(sum(n.bends for n in routed.values())),
            "bumps_on_no_net": len(bumps_on_no_net(design)),
            "nets_of_one_pad": len(nets_of_one_pad(design)),
        },
    }


def bumps_on_no_net(design: Design) -> list[str]:
    """The bumps of no net, in bump order: each keeps its capture pad, joined to nothing."""
    return [s.name for s in design.sites if design.net_of(f"bump {s.name}") is None]


def nets_of_one_pad(design: Design) -> list[str]:
    """The nets of one pad and no bump, in net order: named, but with nothing to route to (a
    net's forgotten bumps)."""
    return [net.name for net in design.nets if len(net.pads) == 1 and not net.bumps]


def pin_map_rows(design: Design) -> list[tuple[str, str, str, float, float]]:
    """(pad, bump, net, bump x, bump y) of every bump on a net, in bump order; the pad is the one
    the bump is routed to, sits on or was assigned, else the net's only pad; empty when the net
    has several pads and pairs none with the bump (a power net's bumps)."""
    partner = {b: p for net in design.nets for p, b in net.pairs}
    rows = []
    for site in design.sites:
        net = design.net_of(f"bump {site.name}")
        if net is not None:
            only = net.pads[0] if len(net.pads) == 1 else ""
            rows.append((partner.get(site.name, only), site.name, net.name, site.x, site.y))
    return rows


def write_pinmap(design: Design, path: str | Path) -> Path:
    """Write the pin map (``pad,bump,net,x,y``, µm from the die centre) as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PINMAP_COLUMNS)
    for pad, bump, net, x, y in pin_map_rows(design):
        writer.writerow((pad, bump, net, f"{x:.3f}", f"{y:.3f}"))
    return write_bytes(path, buffer.getvalue())


def unrouted_rdb_path(layout_path: str | Path) -> Path:
    """The marker database beside a layout, same stem as its ``.lyp``: ``die.gds`` (or
    ``die.gds.gz``) -> ``die.unrouted.lyrdb``."""
    return layer_properties_path(layout_path).with_suffix(".unrouted.lyrdb")


def write_unrouted_rdb(
    design: Design, built: MaskLayout, path: str | Path, layout_file: str | None = None
) -> Path:
    """Write a KLayout marker database of the nets that did not route: per net, a square where
    it got stuck and its terminals, in the die cell (placed at the first die of the wafer)."""
    assert built.routing is not None
    database = rdb.ReportDatabase(f"masklayout unrouted nets {design.spec.name}")
    database.generator = "masklayout build --allow-unrouted"
    database.top_cell_name = built.top.name
    if layout_file is not None:
        database.original_file = layout_file
    die_name = f"{design.spec.name}_DIE"
    cell = database.create_cell(die_name)
    if built.top.name != die_name:
        top = database.create_cell(built.top.name)
        x, y = built.dies.centers[0] if built.dies.count else (0.0, 0.0)
        cell.add_reference(rdb.RdbReference(db.DCplxTrans(float(x), float(y)), top.rdb_id()))
    category = database.create_category("unrouted")
    category.description = "nets the router could not complete"
    terminals = {net.name: net.terminals for net in built.routing.problem.nets}
    for unrouted in built.routing.result.unrouted:
        x, y = unrouted.at
        item = database.create_item(cell.rdb_id(), category.rdb_id())
        item.add_value(db.DBox(x - MARKER_HALF, y - MARKER_HALF, x + MARKER_HALF, y + MARKER_HALF))
        for terminal in terminals.get(unrouted.net, ()):
            item.add_value(db.DPolygon([db.DPoint(px, py) for px, py in points(terminal.polygon)]))
        item.add_value(unrouted_message(unrouted))
    with atomic_write(path) as tmp:
        database.save(str(tmp))
    return Path(path)
