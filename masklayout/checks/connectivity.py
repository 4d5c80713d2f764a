"""Connectivity: the nets of a written die, extracted with KLayout, against the spec's nets.

The conductors are PAD, RDL and UBM. A PI1 opening joins a pad to the RDL over it; a PI2
opening joins the RDL under it to the UBM over it; a PI2 opening with no RDL under it (a bump on
its pad, claim 14) joins the pad under it to the UBM. ``KLayout``'s ``LayoutToNetlist`` extracts
the nets of the die cell with these connections (hierarchically, then flattened).

Terminals are found by geometry, not by names in the layout: a pad is the net of the PAD shape at
its centre, a bump the net of the UBM shape at its site. Then:

- ``NET.OPEN``: a spec net whose terminals lie in more than one extracted net (or on no metal);
- ``NET.SHORT``: an extracted net holding the terminals of two or more spec nets;
- ``NET.WRONG``: an extracted net joining terminals that are in no spec net to a spec net, or to
  each other.

Each is one finding with a marker in die-cell coordinates (dbu): for an open the box over its
pieces, for a short or a wrong connection the narrowest neck between its parts, also inside one
merged polygon (:mod:`masklayout.checks.necks`: a minimum cut on a raster of the net's metal,
where the walk out from one part's terminals meets the walk from the others'). A net that
is split because part of it went to the wrong place is reported once, by the short or wrong
connection, whose note names the terminals left apart (a pad wired to a bump of no net instead
of its own: one NET.WRONG, no NET.OPEN).
"""

from __future__ import annotations

from dataclasses import dataclass

import klayout.db as db

from masklayout.checks.necks import narrowest_cut
from masklayout.spec import Design

# (layer, layer) pairs that conduct into each other where they overlap; PI2_BARE is PI2 less RDL
CONNECTIONS = (
    ("PAD", "PI1"),
    ("PI1", "RDL"),
    ("RDL", "PI2"),
    ("PI2", "UBM"),
    ("PAD", "PI2_BARE"),
    ("PI2_BARE", "UBM"),
)
LAYERS = ("PAD", "PI1", "RDL", "PI2", "UBM")
MIN_PITCH = 0.5  # um: the finest pixel of the neck search (it coarsens on large nets)
NECK_PARTS = 8  # a short of more parts (a mesh) is marked by its box: one max flow per part
RULES = {
    "NET.OPEN": "spec net in one piece (pieces)",
    "NET.SHORT": "spec nets per extracted net",
    "NET.WRONG": "terminals of no spec net joined to a net",
}
LIMITS = {"NET.OPEN": 1, "NET.SHORT": 1, "NET.WRONG": 0}


def expected_nets(design: Design) -> dict[str, set[str]]:
    """The spec's nets, net name -> terminals ``"pad NAME"`` / ``"bump NAME"`` the layout must
    join (``Design.wired_nets``: the nets drawn in RDL, each pad with the bumps on it). Pads and
    bumps in none of them are to stay unconnected."""
    return design.wired_nets


@dataclass(frozen=True)
class Finding:
    """One connectivity defect: its rule, the measured count, a marker polygon (dbu, die-cell
    coordinates) and what is wrong in words."""

    rule: str
    value: int
    marker: db.Polygon
    note: str


def _terminals(design: Design, dbu: float) -> dict[str, tuple[str, db.Point]]:
    """Every pad and bump: name -> (layer it is probed on, its centre in dbu)."""
    out = {
        f"pad {pad.name}": ("PAD", db.Point(round(pad.at[0] / dbu), round(pad.at[1] / dbu)))
        for pad in design.spec.die.pads
    }
    for site in design.sites:
        out[f"bump {site.name}"] = ("UBM", db.Point(round(site.x / dbu), round(site.y / dbu)))
    return out


class _Extraction:
    """The nets of one die cell: LayoutToNetlist over the connections, netlist flattened."""

    def __init__(self, layout: db.Layout, cell: db.Cell, layers: dict[str, int | None]):
        self.l2n = db.LayoutToNetlist(db.RecursiveShapeIterator(layout, cell, []))
        self.dbu = layout.dbu
        self.l2n.threads = 0
        self.l2n.include_floating_subcircuits = True  # a bump with no trace is still a net
        self.regions: dict[str, db.Region] = {}
        for name in LAYERS:
            index = layers.get(name)
            self.regions[name] = self.l2n.make_layer(
                index if index is not None else layout.layer(), name
            )
        self.regions["PI2_BARE"] = self.regions["PI2"] - self.regions["RDL"]
        self.l2n.register(self.regions["PI2_BARE"], "PI2_BARE")
        for region in self.regions.values():
            self.l2n.connect(region)
        for a, b in CONNECTIONS:
            self.l2n.connect(self.regions[a], self.regions[b])
        self.l2n.extract_netlist()
        self.l2n.netlist().flatten()
        self.nets: dict[int, db.Net] = {}

    def probe(self, layer: str, point: db.Point) -> int | None:
        """The id of the net at ``point`` on ``layer`` (None: no metal there)."""
        net = self.l2n.probe_net(self.regions[layer], point)
        if net is None:
            return None
        self.nets[net.cluster_id] = net
        return net.cluster_id

    def shapes(self, net: int) -> list[tuple[str, db.Polygon]]:
        """The net's shapes, each with its layer name, in die-cell coordinates."""
        return [
            (name, polygon)
            for name, region in self.regions.items()
            for polygon in self.l2n.shapes_of_net(self.nets[net], region, True).each()
        ]


def find(
    layout: db.Layout, cell: db.Cell, layers: dict[str, int | None], design: Design
) -> list[Finding]:
    """Compare the nets extracted from die ``cell`` (``layers``: tech layer name -> layout layer
    index, None when absent) with the spec's nets; one finding per defect."""
    expected = expected_nets(design)
    net_of = {t: name for name, terminals in expected.items() for t in terminals}
    extraction = _Extraction(layout, cell, layers)
    where = _terminals(design, layout.dbu)
    on_metal = _on_their_layer(cell, layers, where)
    found = {
        t: extraction.probe(layer, point) if t in on_metal else None
        for t, (layer, point) in where.items()
    }
    members: dict[int, list[str]] = {}
    for terminal, net in found.items():
        if net is not None:
            members.setdefault(net, []).append(terminal)

    findings, explained = [], set()
    for net, terminals in sorted(members.items(), key=lambda item: _order(min(item[1]))):
        spec_nets = sorted({net_of[t] for t in terminals if t in net_of})
        loose = sorted((t for t in terminals if t not in net_of), key=_order)
        apart = sorted((t for n in spec_nets for t in expected[n] if found[t] != net), key=_order)
        tail = f"; apart from it: {', '.join(apart)}" if apart else ""
        if len(spec_nets) >= 2:
            groups = {n: [t for t in terminals if net_of.get(t) == n] for n in spec_nets}
            text = " with ".join(f"net {n} ({', '.join(sorted(groups[n], key=_order))})"
                                 for n in spec_nets)  # fmt: skip
            findings.append(_joined(extraction, "NET.SHORT", len(spec_nets), net, terminals,
                                    net_of, where, f"short: {text}{tail}"))  # fmt: skip
        elif loose and (spec_nets or len(loose) >= 2):
            if spec_nets:
                note = f"net {spec_nets[0]} also connects {', '.join(loose)} (in no net){tail}"
            else:
                note = f"{', '.join(loose)} connected, though in no net"
            findings.append(_joined(extraction, "NET.WRONG", len(loose), net,
                                    terminals, net_of, where, note))  # fmt: skip
        else:
            continue
        explained.update(spec_nets)
    for name, net_terminals in expected.items():
        pieces: dict[int | None, list[str]] = {}
        for terminal in sorted(net_terminals, key=_order):
            pieces.setdefault(found[terminal], []).append(terminal)
        if (len(pieces) > 1 or None in pieces) and name not in explained:
            findings.append(_open(extraction, name, pieces, where))
    return findings


def _on_their_layer(
    cell: db.Cell, layers: dict[str, int | None], where: dict[str, tuple[str, db.Point]]
) -> set[str]:
    """The terminals whose centre lies on a shape of the layer they are probed on. KLayout's
    ``probe_net`` also answers with the net of a connected layer's shape at the point (the PI1
    opening and RDL over a pad missing from PAD), which is not the terminal's metal."""
    out: set[str] = set()
    for terminal, (name, point) in where.items():
        index = layers.get(name)
        if index is None:
            continue
        box = db.Box(point, point)
        shapes = cell.begin_shapes_rec_touching(index, box)
        while not shapes.at_end():
            polygon = shapes.shape().polygon
            if polygon is not None and polygon.transformed(shapes.trans()).inside(point):
                out.add(terminal)
                break
            shapes.next()
    return out


def _order(terminal: str) -> tuple[int, str]:
    return (0 if terminal.startswith("pad") else 1, terminal)


def _open(
    extraction: _Extraction,
    name: str,
    pieces: dict[int | None, list[str]],
    where: dict[str, tuple[str, db.Point]],
) -> Finding:
    """An open net: marker over all its pieces (and its terminals that sit on no metal)."""
    box = db.Box()
    for net, terminals in pieces.items():
        for terminal in terminals:
            box += where[terminal][1]
        if net is not None:
            for _, polygon in extraction.shapes(net):
                box += polygon.bbox()
    parts = " | ".join(
        ", ".join(terminals) + (" (on no metal)" if net is None else "")
        for net, terminals in pieces.items()
    )
    count = len(pieces) if None not in pieces else len(pieces) - 1 + len(pieces[None])
    return Finding(
        "NET.OPEN", count, db.Polygon(box), f"net {name} open in {count} pieces: {parts}"
    )


def _joined(
    extraction: _Extraction,
    rule: str,
    value: int,
    net: int,
    terminals: list[str],
    net_of: dict[str, str],
    where: dict[str, tuple[str, db.Point]],
    note: str,
) -> Finding:
    """A short or wrong connection: marker at the narrowest neck between its parts (else, or
    past ``NECK_PARTS`` parts, the box of the net)."""
    shapes = extraction.shapes(net)
    layers: dict[str, db.Region] = {}
    for name, polygon in shapes:
        layers.setdefault(name, db.Region()).insert(polygon)
    pitch = max(1, round(MIN_PITCH / extraction.dbu))
    parts = {net_of.get(t, t) for t in terminals}
    contact = db.Box()
    if len(parts) <= NECK_PARTS:
        seeds = _seeds(layers, terminals, net_of, where)
        contact = narrowest_cut(layers, seeds, CONNECTIONS, pitch)
    if contact.empty():
        for _, polygon in shapes:
            contact += polygon.bbox()
    return Finding(rule, value, db.Polygon(contact), note)


def _seeds(
    layers: dict[str, db.Region],
    terminals: list[str],
    net_of: dict[str, str],
    where: dict[str, tuple[str, db.Point]],
) -> list[dict[str, db.Region]]:
    """Per part of the net (a spec net, or a terminal of none), where its terminals hold the
    metal: the shapes of their layer under their centres, or only the centre where such a shape
    also holds another part's terminal (a pad merged with the bar that shorts it)."""
    label = {t: net_of.get(t, t) for t in terminals}
    dots = {t: db.Region(db.Box(where[t][1] - db.Vector(1, 1), where[t][1] + db.Vector(1, 1)))
            for t in terminals}  # fmt: skip
    others: dict[tuple[str, str], db.Region] = {}  # (layer, part) -> other parts' centres on it
    for layer, part in {(where[t][0], label[t]) for t in terminals}:
        others[layer, part] = db.Region()
        for u in terminals:
            if label[u] != part and where[u][0] == layer:
                others[layer, part].insert(dots[u])
    seeds: dict[str, dict[str, db.Region]] = {}
    for terminal in sorted(terminals, key=_order):
        layer, part = where[terminal][0], label[terminal]
        held = layers.get(layer, db.Region()).interacting(dots[terminal])
        if not held.interacting(others[layer, part]).is_empty():
            held = dots[terminal]
        seeds.setdefault(part, {}).setdefault(layer, db.Region()).insert(held)
    return list(seeds.values())
