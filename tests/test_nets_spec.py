"""Nets in the spec: the nets table, a pad's and a bump's net, an array's nets map, routes as
one-pad one-bump nets, bumps on pads, free assignment; errors located with 'did you mean'."""

from __future__ import annotations

import pytest

from masklayout import SpecError, load, loads
from tests.helpers import BASE_SPEC

RDL = "  rdl:\n    width: 20\n"


def _spec(*replacements: tuple[str, str]) -> str:
    text = BASE_SPEC
    for old, new in replacements:
        assert old in text, f"test bug: {old!r} not in the base spec"
        text = text.replace(old, new, 1)
    return text


def _nets(*replacements: tuple[str, str]) -> dict[str, tuple[set[str], set[str]]]:
    design = loads(_spec(*replacements))
    return {net.name: (set(net.pads), set(net.bumps)) for net in design.nets}


def _error(*replacements: tuple[str, str]) -> str:
    with pytest.raises(SpecError) as caught:
        loads(_spec(*replacements), file="spec.yaml")
    return str(caught.value)


def _line_of(text: str, fragment: str) -> int:
    """1-based line of the first line holding ``fragment``."""
    return next(k + 1 for k, line in enumerate(text.splitlines()) if fragment in line)


def test_old_routes_are_one_pad_one_bump_nets_named_after_the_pad():
    assert _nets() == {
        "VDD": ({"VDD"}, {"A2"}),
        "GND": ({"GND"}, {"A6"}),
        "IO": ({"IO"}, {"X1"}),  # the bump on the pad joins the pad's net
    }


def test_route_takes_the_net_of_its_pad_and_the_table_adds_bumps():
    nets = _nets(
        ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
        (RDL, "  nets:\n    PWR: {bumps: [B2, C2], width: 30}\n" + RDL),
    )
    assert nets["PWR"] == ({"VDD"}, {"A2", "B2", "C2"})
    assert "VDD" not in nets
    design = loads(
        _spec(
            ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
            (RDL, "  nets:\n    PWR: {bumps: [B2, C2], width: 30}\n" + RDL),
        )
    )
    assert design.net("PWR").width == 30
    assert design.net("GND").width == 20  # rdl.width


def test_two_routes_to_one_bump_join_two_pads_in_one_net():
    nets = _nets(("{pad: GND, bump: A6}", "{pad: GND, bump: A2}"))
    assert nets["VDD"] == ({"VDD", "GND"}, {"A2"})


def test_array_nets_map_and_bump_net_make_a_multi_bump_net():
    nets = _nets(
        ("      skip: [A1]\n", "      skip: [A1]\n      nets: {B3: GND, C3: GND}\n"),
    )
    assert nets["GND"] == ({"GND"}, {"A6", "B3", "C3"})


def test_a_net_with_bumps_and_no_pad_is_not_routed():
    design = loads(_spec(("      skip: [A1]\n", "      skip: [A1]\n      nets: {B3: VSS}\n")))
    assert not design.net("VSS").routed
    assert design.net("VDD").routed


def test_per_route_width_sets_the_net_width():
    design = loads(_spec(("{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, width: 40}")))
    assert design.net("VDD").width == 40


def test_unknown_pad_in_the_nets_table_is_located_with_a_suggestion():
    text = _spec((RDL, "  nets:\n    PWR: {pads: [VDDD]}\n" + RDL))
    message = _error((RDL, "  nets:\n    PWR: {pads: [VDDD]}\n" + RDL))
    assert f"spec.yaml:{_line_of(text, 'PWR:')}:" in message
    assert "die.nets.PWR.pads[0]: unknown pad 'VDDD' (did you mean 'VDD'?)" in message


def test_unknown_bump_in_the_nets_table_is_located():
    message = _error((RDL, "  nets:\n    PWR: {bumps: [A22]}\n" + RDL))
    assert "die.nets.PWR.bumps[0]: unknown bump 'A22' (did you mean 'A2'?)" in message


@pytest.mark.parametrize(
    ("entry", "key", "what"),
    [
        (
            "{pads: [VDD, VDD]}",
            "pads[1]",
            "pad 'VDD' is listed twice on net 'PWR' (first as pads[0])",
        ),
        (
            "{pads: [VDD], bumps: [A2, B2, A2]}",
            "bumps[2]",
            "bump 'A2' is listed twice on net 'PWR' (first as bumps[0])",
        ),
    ],
)
def test_a_terminal_listed_twice_on_one_net_is_an_error_at_the_repeat(entry, key, what):
    # a repeat in a list is a typo for another terminal, not a second connection
    message = _error((RDL, f"  nets:\n    PWR: {entry}\n" + RDL))
    assert f"die.nets.PWR.{key}: {what}" in message


def test_a_pad_on_two_nets_is_an_error_at_the_second():
    text = _spec(
        ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
        (RDL, "  nets:\n    CORE: {pads: [VDD]}\n" + RDL),
    )
    message = _error(
        ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
        (RDL, "  nets:\n    CORE: {pads: [VDD]}\n" + RDL),
    )
    assert f"spec.yaml:{_line_of(text, 'net: PWR')}:" in message
    assert "die.pads[0].net: pad VDD is already on net 'CORE'" in message


def test_a_route_joining_two_named_nets_is_an_error():
    message = _error(
        ("{name: VDD, at:", "{name: VDD, net: PWR, at:"),
        ("      skip: [A1]\n", "      skip: [A1]\n      nets: {A2: SIG}\n"),
    )
    assert "die.rdl.routes[0]: route VDD -> A2 joins net 'PWR'" in message
    assert "net 'SIG'" in message


def test_nets_map_naming_a_skipped_or_missing_site_is_an_error():
    message = _error(("      skip: [A1]\n", "      skip: [A1]\n      nets: {A1: X, Z9: Y}\n"))
    assert "die.bumps[0].nets.A1: 'A1' is skipped" in message
    assert "die.bumps[0].nets.Z9: 'Z9' is not a site of this array" in message


def test_free_assignment_gives_each_pad_a_distinct_free_bump():
    design = loads(
        _spec(
            ("      - {pad: VDD, bump: A2}\n", ""),
            (RDL, "  nets:\n    VDD: {pads: [VDD], bumps: auto}\n" + RDL),
        )
    )
    (pad, bump), *rest = design.net("VDD").assigned
    assert (pad, rest) == ("VDD", [])
    assert bump not in {"A6", "X1"}  # on other nets
    assert bump == "A2"  # the nearest in angle around the die centre


def test_free_assignment_among_listed_bumps_and_too_few():
    design = loads(
        _spec(
            ("      - {pad: VDD, bump: A2}\n", ""),
            (RDL, "  nets:\n    VDD: {pads: [VDD], bumps: {any: [E5, E6]}}\n" + RDL),
        )
    )
    assert design.net("VDD").bumps[0] in {"E5", "E6"}
    message = _error(
        ("    routes:\n      - {pad: VDD, bump: A2}\n      - {pad: GND, bump: A6}\n", ""),
        (RDL, "  nets:\n    P: {pads: [VDD, GND], bumps: {any: [E5]}}\n" + RDL),
    )
    assert "die.nets.P.bumps: 2 pads of net P need a bump each; 1 free bump to choose from" in (
        message
    )


def test_free_bumps_all_taken_say_which_net_has_each():
    # E5 is put on net PWR by the table, E6 by a route from GND (its net named after the pad)
    message = _error(
        ("      - {pad: VDD, bump: A2}\n", ""),
        ("{pad: GND, bump: A6}", "{pad: GND, bump: E6}"),
        (
            RDL,
            "  nets:\n    PWR: {bumps: [E5]}\n    P: {pads: [VDD], bumps: {any: [E6, E5]}}\n" + RDL,
        ),
    )
    assert (
        "die.nets.P.bumps: 1 pad of net P needs a bump; 0 free bumps to choose from: "
        "E5 is on net PWR, E6 on net GND"
    ) in message


def test_keepout_is_a_rect_or_a_polygon_on_known_layers():
    message = _error((RDL, "  keepout:\n    - {rect: [[0, 0], [10, 10]], layers: [RDLL]}\n" + RDL))
    assert "die.keepout[0].layers[0]: unknown layer 'RDLL' (did you mean 'RDL'?)" in message
    message = _error((RDL, "  keepout:\n    - {layers: [RDL]}\n" + RDL))
    assert "die.keepout[0]" in message and "either 'rect" in message
    message = _error((RDL, "  keepout:\n    - {polygon: [[0, 0], [10, 0], [20, 0]]}\n" + RDL))
    assert "die.keepout[0]: a keep-out must enclose an area" in message


def test_shipped_route_lists_mean_what_they_meant():
    from masklayout import load
    from tests.helpers import SAMPLES

    design = load(SAMPLES / "wlcsp_rdl_400.yaml")
    routes = design.spec.die.rdl.routes
    assert design.wired_nets == {r.pad: {f"pad {r.pad}", f"bump {r.bump}"} for r in routes}
    for route in routes:
        net = design.net(route.pad)
        expected = [(tuple(design.pad(route.pad).at), *map(tuple, route.via))] if route.via else []
        assert [line[:-1] for line in net.fixed] == expected
        assert net.width == 20 and net.style == "manhattan"


def test_bump_map_nets_name_routed_nets_and_bump_only_nets_join_nothing():
    from masklayout import load
    from tests.helpers import SAMPLES

    design = load(SAMPLES / "bumps_from_csv.yaml")
    assert design.wired_nets["IO1"] == {"pad PA1", "bump A1"}  # CSV: A1 is on net IO1
    assert "VSS" not in design.wired_nets  # eight VSS bumps and no pad: not routed
    assert len(design.net("VSS").bumps) == 8


def test_bump_map_net_against_the_table_names_the_file_line_and_both_nets(tmp_path):
    from tests.helpers import SAMPLES

    rows = (SAMPLES / "bumps_from_csv.csv").read_text().splitlines()
    line = next(k + 1 for k, row in enumerate(rows) if row.startswith("A1,"))
    csv_net = rows[line - 1].split(",")[3]
    (tmp_path / "bumps_from_csv.csv").write_text("\n".join(rows) + "\n")
    text = (SAMPLES / "bumps_from_csv.yaml").read_text()
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.replace("  rdl:\n", "  nets:\n    IOX: {bumps: [A1]}\n  rdl:\n", 1))
    with pytest.raises(SpecError) as caught:
        load(spec)
    assert (
        f"die.bumps[0]: bump A1 (bumps_from_csv.csv line {line}) is already on net 'IOX' "
        f"(die.nets.IOX.bumps[0]), and here on net '{csv_net}'; a terminal has one net"
    ) in str(caught.value)


@pytest.mark.parametrize(
    ("bumps", "expected"),
    [
        ("autoo", "die.nets.P.bumps: bumps is a list of bump names, 'auto' or {any: [names]} "
         "(found 'autoo'; did you mean 'auto'?)"),
        ("{anyy: [A2]}", "die.nets.P.bumps.anyy: unknown key 'anyy' (did you mean 'any'?"),
        ("{any: A3}", "die.nets.P.bumps.any: input should be a valid list"),
        ("{any: []}", "die.nets.P.bumps.any: expected at least 1 item, found 0"),
        ("{any: [A22]}", "die.nets.P.bumps.any[0]: unknown bump 'A22' (did you mean 'A2'?)"),
        ("{any: [X1]}", "die.nets.P.bumps.any[0]: bump 'X1' sits on pad 'IO'"),
    ],
)  # fmt: skip
def test_free_assignment_forms_are_checked(bumps, expected):
    assert expected in _error((RDL, f"  nets:\n    P: {{pads: [VDD], bumps: {bumps}}}\n" + RDL))


def test_a_routed_pad_gets_no_second_bump_from_auto():
    design = loads(_spec((RDL, "  nets:\n    P: {pads: [VDD, GND], bumps: auto}\n" + RDL)))
    assert design.net("P").assigned == ()
    assert set(design.net("P").bumps) == {"A2", "A6"}


def test_a_pad_carrying_a_bump_cannot_also_be_routed_to_its_net():
    message = _error(("{name: IO, at:", "{name: IO, net: VDD, at:"))
    assert "net 'VDD': pad IO carries bump X1 (on_pad) and cannot also reach" in message
