"""The die's nets, resolved from everything in a spec that names one.

A net gathers pads and bumps from ``die.nets`` (its table), ``die.pads[i].net``, a bump's ``net``
(explicit, an array's or ring's ``nets`` map, a bump file's net column), the pad under an
``on_pad`` bump, and ``die.rdl.routes`` (a route joins its pad and its bump; the net is named
after the pad unless one of them has a net). Nets whose table says ``bumps: auto`` or
``bumps: {any: [...]}``, and routes with ``bump: auto``, get one free bump per pad, chosen by
:func:`assign.assign_bumps`.
Terminals are named ``pad NAME`` and ``bump NAME``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from masklayout.routing.assign import assign_bumps
from masklayout.source import did_you_mean, format_path

AUTO = "auto"  # a route's bump chosen by the tool
FREE_FORMS = {AUTO: AUTO, "any": "{any: [names]}"}  # a net's free bumps, by their keyword

if TYPE_CHECKING:
    from masklayout.source import Loc
    from masklayout.spec import Route, Site, Spec, _Problems


@dataclass(frozen=True)
class DieNet:
    """One net of the die. ``pairs`` are the pad-bump pairings known (routes, bumps on pads,
    free assignment), ``assigned`` those the tool chose; ``fixed`` the centrelines of routes
    with ``via`` waypoints, ``fixed_routes`` their index in ``die.rdl.routes``; ``loc`` the key path where the net is first named."""

    name: str
    pads: tuple[str, ...]
    bumps: tuple[str, ...]
    width: float
    style: str
    plane: bool = False
    fixed: tuple[tuple[tuple[float, float], ...], ...] = ()
    fixed_routes: tuple[int, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    assigned: tuple[tuple[str, str], ...] = ()
    loc: tuple[str | int, ...] = ()
    rdl_pads: tuple[str, ...] = ()
    rdl_bumps: tuple[str, ...] = ()

    @property
    def routed(self) -> bool:
        """Whether the net is drawn in RDL: it has a pad and another terminal to reach (pads
        under an ``on_pad`` bump and those bumps are joined without RDL)."""
        return bool(self.rdl_pads) and len(self.rdl_pads) + len(self.rdl_bumps) >= 2

    @property
    def terminals(self) -> set[str]:
        """``pad NAME`` and ``bump NAME`` of every pad and bump on the net."""
        return {f"pad {p}" for p in self.pads} | {f"bump {b}" for b in self.bumps}


class _Union:
    """Union-find over terminal keys (``pad X``, ``bump Y``) and net names (``net Z``); each
    component knows its net's name, if it has one."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def find(self, key: str) -> str:
        if key not in self.parent:
            self.parent[key] = key
            if key.startswith("net "):
                self.names[key] = key[4:]
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def name(self, key: str) -> str | None:
        return self.names.get(self.find(key))

    def net(self, key: str) -> str:
        """The name of the net of ``key``, which is known to be on a named net."""
        name = self.name(key)
        assert name is not None, f"{key} is on no named net"
        return name

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            keep, other = min(ra, rb), max(ra, rb)
            self.parent[other] = keep
            if keep not in self.names and other in self.names:
                self.names[keep] = self.names[other]


def resolve_nets(
    spec: Spec, sites: Sequence[Site], pads: dict[str, int], problems: _Problems
) -> tuple[DieNet, ...]:
    """The die's nets, in the order they are first named; problems are added to ``problems``."""
    named = {site.name: site for site in sites}
    explicit = _explicit(spec, sites, pads, named, problems)
    union = _Union()
    for key, (net, _) in explicit.items():
        union.join(key, f"net {net}")

    def join(a: str, b: str, loc: Loc, what: str) -> bool:
        na, nb = union.name(a), union.name(b)
        if na is not None and nb is not None and na != nb:
            problems.add(loc, f"{what} joins net '{na}' ({a}) and net '{nb}' ({b})")
            return False
        union.join(a, b)
        return True

    for site in sites:
        if site.on_pad is not None and site.on_pad in pads:
            join(f"bump {site.name}", f"pad {site.on_pad}", ["die", "bumps", site.entry], "on_pad")
    routed: list[tuple[int, str, str]] = []
    free: list[tuple[int, str]] = []  # routes with bump: auto
    for i, route in enumerate(spec.die.rdl.routes):
        if route.bump == AUTO:
            if route.pad in pads:
                free.append((i, route.pad))
            continue
        if route.pad not in pads or route.bump not in named or named[route.bump].on_pad:
            continue  # reported by the route checks
        a, b = f"pad {route.pad}", f"bump {route.bump}"
        if join(a, b, ["die", "rdl", "routes", i], f"route {route.pad} -> {route.bump}"):
            routed.append((i, route.pad, route.bump))
    # unnamed: after the first route's pad (the same name, the same net)
    for pad in [pad for _, pad, _ in routed] + [pad for _, pad in free]:
        if union.name(f"pad {pad}") is None:
            union.join(f"pad {pad}", f"net {pad}")
    for site in sites:
        if site.on_pad is not None and union.name(f"bump {site.name}") is None:
            union.join(f"bump {site.name}", f"net {site.on_pad}")

    first_loc: dict[str, Loc] = {name: ["die", "nets", name] for name in spec.die.nets}
    for net, loc in explicit.values():
        first_loc.setdefault(net, loc)
    for i, pad in [(i, pad) for i, pad, _ in routed] + free:
        first_loc.setdefault(union.net(f"pad {pad}"), ["die", "rdl", "routes", i])
    for site in sites:
        if site.on_pad is not None and site.on_pad in pads:
            first_loc.setdefault(union.net(f"bump {site.name}"), ["die", "bumps", site.entry])
    members: dict[str, list[str]] = {}
    for key in list(union.parent):
        name = union.name(key)
        if name is not None and not key.startswith("net "):
            members.setdefault(name, []).append(key)
    for name in spec.die.nets:
        members.setdefault(name, [])

    pairs: dict[str, list[tuple[str, str]]] = {}
    fixed: dict[str, list[tuple[tuple[float, float], ...]]] = {}
    fixed_routes: dict[str, list[int]] = {}
    for i, pad, bump in routed:
        route, site, net = spec.die.rdl.routes[i], named[bump], union.net(f"pad {pad}")
        pairs.setdefault(net, []).append((pad, bump))
        if route.via:
            at = spec.die.pads[pads[pad]].at
            fixed.setdefault(net, []).append((at, *route.via, (site.x, site.y)))
            fixed_routes.setdefault(net, []).append(i)
    for site in sites:
        if site.on_pad is not None and site.on_pad in pads:
            pairs.setdefault(union.net(f"bump {site.name}"), []).append((site.on_pad, site.name))
    paired = {pad for net_pairs in pairs.values() for pad, _ in net_pairs}
    auto_pads = [(union.net(f"pad {pad}"), pad) for _, pad in free]
    assigned = _assign(spec, named, pads, members, paired, auto_pads, problems)

    on_pad = {site.on_pad: site.name for site in sites if site.on_pad is not None}
    net_routes: dict[str, list[Route]] = {}
    for i, pad in [(i, pad) for i, pad, _ in routed] + free:
        net_routes.setdefault(union.net(f"pad {pad}"), []).append(spec.die.rdl.routes[i])
    nets = []
    order = {name: k for k, name in enumerate(first_loc)}
    for name in sorted(members, key=lambda n: order.get(n, len(order))):
        keys = members[name]
        entry = spec.die.nets.get(name)
        routes = net_routes.get(name, [])
        widths = [r.width for r in routes if r.width is not None]
        style = next((r.style for r in routes if r.style is not None), None)
        chosen = assigned.get(name, [])
        bumps = {k[5:] for k in keys if k.startswith("bump ")} | {b for _, b in chosen}
        net_pads = sorted(k[4:] for k in keys if k.startswith("pad "))
        carried = [p for p in net_pads if p in on_pad]
        rdl_pads = tuple(p for p in net_pads if p not in on_pad)
        rdl_bumps = tuple(sorted(b for b in bumps if named[b].on_pad is None))
        if carried and (rdl_pads or rdl_bumps):
            problems.add(
                first_loc.get(name, ["die"]),
                f"net '{name}': pad {carried[0]} carries bump {on_pad[carried[0]]} (on_pad) and "
                "cannot also reach the net's other pads and bumps in RDL",
            )
        nets.append(
            DieNet(
                name=name,
                pads=tuple(net_pads),
                bumps=tuple(sorted(bumps)),
                width=(entry.width if entry else None)
                or (max(widths) if widths else spec.die.rdl.width),
                style=(entry.style if entry else None) or style or spec.die.rdl.style,
                plane=bool(entry and entry.plane),
                fixed=tuple(fixed.get(name, ())),
                fixed_routes=tuple(fixed_routes.get(name, ())),
                pairs=tuple(pairs.get(name, [])) + tuple(chosen),
                assigned=tuple(chosen),
                loc=tuple(first_loc.get(name, ("die",))),
                rdl_pads=rdl_pads,
                rdl_bumps=rdl_bumps,
            )
        )
    _check_idle_nets(spec, nets, problems)
    return tuple(nets)


def _check_idle_nets(spec: Spec, nets: list[DieNet], problems: _Problems) -> None:
    """Nets that would silently do nothing: one of one terminal named outside the nets table,
    close to a table net's name (a typo); a table net of no pad or bump; a plane of no pad."""
    for net in nets:
        if not net.terminals:
            problems.add(
                net.loc,
                f"net '{net.name}' has no pad or bump (give it pads: [...] and bumps: [...], "
                "or name it in a pad's or bump's net:)",
            )
            continue
        if net.plane and not net.pads:
            problems.add(
                [*net.loc, "plane"],
                f"net '{net.name}' has bumps and no pad: nothing is poured (a net without a "
                "pad is not routed; give it pads: [...])",
            )
        if net.name in spec.die.nets or len(net.terminals) != 1:
            continue
        hint = did_you_mean(net.name, spec.die.nets)
        if hint:
            (terminal,) = net.terminals
            problems.add(
                net.loc,
                f"net '{net.name}' has only {terminal} and joins nothing{hint} "
                f"(known in die.nets: {', '.join(spec.die.nets)}; a net of one terminal on "
                "purpose is listed there)",
            )


def _explicit(
    spec: Spec,
    sites: Sequence[Site],
    pads: dict[str, int],
    named: dict[str, Site],
    problems: _Problems,
) -> dict[str, tuple[str, Loc]]:
    """Terminal key -> (net, where it is named) from the nets table, pads' and bumps' ``net``;
    a terminal named on two different nets is an error."""
    found: dict[str, tuple[str, Loc]] = {}

    def put(key: str, net: str, loc: Loc, line: str = "") -> None:
        """Put terminal ``key`` on ``net``, named at ``loc`` (``line``: where in a bump file)."""
        if key in found and found[key][0] != net:
            other, where = found[key]
            problems.add(
                loc,
                f"{key}{line} is already on net '{other}' ({format_path(where)}), and here on "
                f"net '{net}'; a terminal has one net",
            )
            return
        found.setdefault(key, (net, loc))

    from masklayout.spec import BumpFile, _known, _summary

    def listed(net: str, kind: str, names: Sequence[str], known, unknown: str) -> None:
        """A net's pads or bumps (``kind``): each put on the net, or an error where it is
        repeated or unknown (``unknown``: the error's text after the name)."""
        for k, item in enumerate(names):
            loc: Loc = ["die", "nets", net, f"{kind}s", k]
            if item in names[:k]:
                problems.add(
                    loc,
                    f"{kind} '{item}' is listed twice on net '{net}' (first as {kind}s"
                    f"[{names.index(item)}]): a typo for another {kind}?",
                )
            elif item not in known:
                free = FREE_FORMS.get(item.lower()) if kind == "bump" else None
                hint = f"; for a free bump write bumps: {free}, not in a list" if free else ""
                problems.add(
                    loc, f"unknown {kind} '{item}'{did_you_mean(item, known)}{unknown}{hint}"
                )
            else:
                put(f"{kind} {item}", net, loc)

    for name, entry in spec.die.nets.items():
        listed(name, "pad", entry.pads, pads, f" (known: {_known(pads)})")
        if isinstance(entry.bumps, list):
            listed(name, "bump", entry.bumps, named, f" (known: {_summary(named)})")
    for i, die_pad in enumerate(spec.die.pads):
        if die_pad.net is not None:
            put(f"pad {die_pad.name}", die_pad.net, ["die", "pads", i, "net"])
    for site in sites:
        if site.net is not None:
            bump_entry = spec.die.bumps[site.entry]
            loc: Loc = ["die", "bumps", site.entry]
            if getattr(bump_entry, "nets", None):
                loc = [*loc, "nets", site.name]
            elif getattr(bump_entry, "net", None):
                loc = [*loc, "net"]
            line = ""
            if isinstance(bump_entry, BumpFile):
                line = f" ({bump_entry.file} line {site.line})"
            put(f"bump {site.name}", site.net, loc, line)
    return found


def _assign(
    spec: Spec,
    named: dict[str, Site],
    pads: dict[str, int],
    members: dict[str, list[str]],
    paired: set[str],
    auto_pads: list[tuple[str, str]],
    problems: _Problems,
) -> dict[str, list[tuple[str, str]]]:
    """(pad, bump) chosen for every pad of the nets whose bumps are ``auto`` or ``{any: ...}``
    that has no bump yet (``paired``: routed or carrying one), and for the (net, pad) of the
    routes with ``bump: auto``: the nets drawing from the same candidates are assigned
    together, in table order, the routes' pads with ``auto``."""
    from masklayout.spec import _summary

    owner = {k[5:]: net for net, keys in members.items() for k in keys if k.startswith("bump ")}
    taken = set(owner)
    groups: dict[tuple[str, ...] | None, list[str]] = {}
    for name, entry in spec.die.nets.items():
        if isinstance(entry.bumps, list):
            continue
        if entry.bumps == "auto":
            groups.setdefault(None, []).append(name)
            continue
        known = True
        for k, bump in enumerate(entry.bumps.any):
            loc: Loc = ["die", "nets", name, "bumps", "any", k]
            if bump not in named:
                problems.add(
                    loc,
                    f"unknown bump '{bump}'{did_you_mean(bump, named)} (known: {_summary(named)})",
                )
                known = False
            elif named[bump].on_pad is not None:
                problems.add(loc, f"bump '{bump}' sits on pad '{named[bump].on_pad}'")
                known = False
        if known:
            groups.setdefault(tuple(sorted(set(entry.bumps.any))), []).append(name)
    if auto_pads:
        groups.setdefault(None, [])
    chosen: dict[str, list[tuple[str, str]]] = {}
    for candidates, nets in groups.items():
        pool = [
            site
            for site in named.values()
            if site.on_pad is None
            and site.name not in taken
            and (candidates is None or site.name in candidates)
        ]
        wanting = [
            (net, pad)
            for net in nets
            for pad in sorted(k[4:] for k in members[net] if k.startswith("pad "))
            if pad not in paired
        ]
        if candidates is None:
            wanting += [
                (net, pad)
                for net, pad in auto_pads
                if (net, pad) not in wanting and pad not in paired
            ]
        if len(wanting) > len(pool):
            names = list(dict.fromkeys(net for net, _ in wanting))
            problems.add(
                ["die", "nets", nets[0], "bumps"] if nets else ["die", "rdl", "routes"],
                f"{_plural(len(wanting), 'pad')} of net{'s' if len(names) > 1 else ''} "
                f"{', '.join(names)} "
                f"{'needs a bump' if len(wanting) == 1 else 'need a bump each'}; "
                f"{_plural(len(pool), 'free bump')} to choose from"
                f"{_owners(candidates or (), owner)}",
            )
            continue
        if not wanting:
            continue
        pad_xy = np.array([spec.die.pads[pads[pad]].at for _, pad in wanting], dtype=float)
        bump_xy = np.array([(s.x, s.y) for s in pool], dtype=float)
        for (net, pad), k in zip(wanting, assign_bumps(pad_xy, bump_xy), strict=True):
            chosen.setdefault(net, []).append((pad, pool[k].name))
            taken.add(pool[k].name)
            owner[pool[k].name] = net
    return chosen


def _owners(candidates: Sequence[str], owner: dict[str, str], most: int = 4) -> str:
    """``: B2 is on net VDD, C1 on net P4`` for the listed bumps another net has, else nothing."""
    busy = [bump for bump in candidates if bump in owner]
    if not busy:
        return ""
    rest = "".join(f", {bump} on net {owner[bump]}" for bump in busy[1:most])
    more = f" and {len(busy) - most} more" if len(busy) > most else ""
    return f": {busy[0]} is on net {owner[busy[0]]}{rest}{more}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
