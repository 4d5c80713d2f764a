"""Mistakes a new bumping engineer makes in the nets and RDL of a spec (issue 8): each is a
located message naming the key, what was found and what would do; the build exits 2 writing
nothing. And what the tool then writes for the forms that are right: a route's ``bump: auto``,
the pin map's pads, ``--allow-unrouted``'s located report."""

from __future__ import annotations

import csv
import json

import klayout.db as kdb
import klayout.rdb as krdb
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from matplotlib.image import imread

from masklayout import layout, loads, preview
from masklayout.cli import main
from masklayout.outputs import write_layer_properties
from tests.helpers import BASE_SPEC, ROOT, GdsReader

RDL = "  rdl:\n    width: 20\n"
TP_PAD = "    - {name: TP, at: [0, 1200], size: [80, 80], net: PWRR}\n"
# Four walls around pad VDD (-1300, 1200): no way out of it for a 20 µm trace at RDL.S 10.
WALLS = (
    "  keepout:\n"
    "    - {rect: [[-1380, 1260], [-1220, 1280]]}\n"
    "    - {rect: [[-1380, 1120], [-1220, 1140]]}\n"
    "    - {rect: [[-1380, 1144], [-1360, 1256]]}\n"
    "    - {rect: [[-1240, 1144], [-1220, 1256]]}\n"
)


def _at(text: str, line_fragment: str, token: str) -> str:
    """``line:column`` of ``token`` on the first line of ``text`` holding ``line_fragment``."""
    k, line = next((k, line) for k, line in enumerate(text.splitlines()) if line_fragment in line)
    return f"{k + 1}:{line.index(token) + 1}"


# (replacements in the base spec, (line fragment, token) where the error points, key path,
# words the message holds)
CASES = {
    "net names a pad that does not exist": (
        [(RDL, "  nets:\n    PWR: {pads: [VDD, VDX], bumps: [B2]}\n" + RDL)],
        ("PWR: {pads", "VDX"),
        "die.nets.PWR.pads[1]",
        ["unknown pad 'VDX'", "did you mean 'VDD'?", "known: GND, IO, VDD"],
    ),
    "one pad in two nets": (
        [(RDL, "  nets:\n    P: {pads: [GND]}\n    Q: {pads: [GND], bumps: [B3]}\n" + RDL)],
        ("Q: {pads", "GND"),
        "die.nets.Q.pads[0]",
        ["pad GND is already on net 'P'", "die.nets.P.pads[0]", "a terminal has one net"],
    ),
    "a net's width under the tech's minimum": (
        [(RDL, "  nets:\n    GND: {width: 5}\n" + RDL)],
        ("GND: {width", "width"),
        "die.nets.GND.width",
        ["trace width 5 µm is under the tech's RDL.W minimum of 10 µm", "tech wlcsp-400"],
    ),
    "the default trace width under the tech's minimum": (
        [(RDL, "  rdl:\n    width: 8\n")],
        ("    width: 8", "width"),
        "die.rdl.width",
        ["trace width 8 µm is under the tech's RDL.W minimum of 10 µm"],
    ),
    "a route's width under the tech's minimum": (
        [("{pad: GND, bump: A6}", "{pad: GND, bump: A6, width: 9.5}")],
        ("{pad: GND, bump: A6", "width"),
        "die.rdl.routes[1].width",
        ["trace width 9.5 µm is under the tech's RDL.W minimum of 10 µm"],
    ),
    "a keep-out off the die": (
        [(RDL, "  keepout:\n    - {rect: [[1600, 0], [1900, 300]]}\n" + RDL)],
        ("- {rect: [[1600", "rect"),
        "die.keepout[0].rect",
        ["the keep-out lies outside the die", "x 1600 to 1900", "x ±1500, y ±1300"],
    ),
    "a typo'd key under nets": (
        [(RDL, "  nets:\n    PWR: {pads: [VDD], widht: 30}\n" + RDL)],
        ("PWR: {pads", "widht"),
        "die.nets.PWR.widht",
        ["unknown key 'widht'", "did you mean 'width'?", "known: bumps, pads, plane"],
    ),
    "a pad's net name typo'd": (
        [
            ("  bumps:\n", TP_PAD + "  bumps:\n"),
            (RDL, "  nets:\n    PWR: {pads: [VDD], bumps: [B2]}\n" + RDL),
        ],
        ("name: TP", "net"),
        "die.pads[3].net",
        ["net 'PWRR' has only pad TP and joins nothing", "did you mean 'PWR'?"],
    ),
    "a pad's net named like a table net but for case": (
        [
            ("  bumps:\n", TP_PAD.replace("PWRR", "Pwr") + "  bumps:\n"),
            (RDL, "  nets:\n    PWR: {pads: [VDD], bumps: [B2]}\n" + RDL),
        ],
        ("name: TP", "net"),
        "die.pads[3].net",
        ["net 'Pwr' has only pad TP and joins nothing", "did you mean 'PWR'?"],
    ),
    "a net's pad named but for case": (
        [(RDL, "  nets:\n    PWR: {pads: [vdd], bumps: [B2]}\n" + RDL)],
        ("PWR: {pads", "vdd"),
        "die.nets.PWR.pads[0]",
        ["unknown pad 'vdd'", "did you mean 'VDD'?"],
    ),
    "a free bump that does not exist": (
        [(RDL, "  nets:\n    P: {pads: [VDD], bumps: {any: [B2, Z9]}}\n" + RDL)],
        ("P: {pads", "Z9"),
        "die.nets.P.bumps.any[1]",
        ["unknown bump 'Z9'", "known: A2, A3"],
    ),
    "bump: auto on a route through waypoints": (
        [("{pad: GND, bump: A6}", "{pad: GND, bump: auto, via: [[1300, 800]]}")],
        ("{pad: GND, bump: auto", "via"),
        "die.rdl.routes[1].via",
        ["a route through waypoints ends at a bump it names (found bump: auto)"],
    ),
    # bump A2 (-700, 800) of net VDD: capture pad radius 125 + 10 (RDL.EN.UBM); the keep-out's
    # corner (-800, 900) is 141.4 µm from its centre, 6.4 µm from the pad: under RDL.S 10
    "a keep-out within RDL.S of a routed capture pad": (
        [(RDL, "  keepout:\n    - {rect: [[-1000, 900], [-800, 1100]]}\n" + RDL)],
        ("- {rect: [[-1000", "{rect"),
        "die.keepout[0]",
        ["comes within 10 µm (rule RDL.S) of the RDL capture pad of bump A2 (net VDD)"],
    ),
    "a net of no pad or bump": (
        [(RDL, "  nets:\n    SPARE: {width: 30}\n" + RDL)],
        ("SPARE: {width", "SPARE"),
        "die.nets.SPARE",
        ["net 'SPARE' has no pad or bump"],
    ),
    "a plane of bumps and no pad": (
        [(RDL, "  nets:\n    VSS: {bumps: [C2, C3], plane: true}\n" + RDL)],
        ("VSS: {bumps", "plane"),
        "die.nets.VSS.plane",
        ["net 'VSS' has bumps and no pad: nothing is poured"],
    ),
    "bumps: [auto] as a list": (
        [(RDL, "  nets:\n    P: {pads: [VDD], bumps: [auto]}\n" + RDL)],
        ("P: {pads", "auto"),
        "die.nets.P.bumps[0]",
        ["unknown bump 'auto'", "; for a free bump write bumps: auto, not in a list"],
    ),
    "bumps: [any] as a list": (
        [(RDL, "  nets:\n    P: {pads: [VDD], bumps: [any]}\n" + RDL)],
        ("P: {pads", "any"),
        "die.nets.P.bumps[0]",
        ["unknown bump 'any'", "; for a free bump write bumps: {any: [names]}, not in a list"],
    ),
    "a route listed twice": (
        [
            (
                "{pad: GND, bump: A6}\n",
                "{pad: GND, bump: A6}\n      - {pad: GND, bump: A6, width: 30}\n",
            )
        ],
        ("{pad: GND, bump: A6, width: 30}", "{pad"),
        "die.rdl.routes[2]",
        ["route GND -> A6 is listed twice (first as die.rdl.routes[1]): a copy left unedited?"],
    ),
    "a route's bump: Auto": (
        [("{pad: GND, bump: A6}", "{pad: GND, bump: Auto}")],
        ("{pad: GND, bump: Auto", "bump"),
        "die.rdl.routes[1].bump",
        ["unknown bump 'Auto'", "; a route's free bump is bump: auto"],
    ),
    "bumps: any without the list": (
        [(RDL, "  nets:\n    P: {pads: [VDD], bumps: any}\n" + RDL)],
        ("P: {pads", "bumps"),
        "die.nets.P.bumps",
        ["(found 'any'; {any: [names]} lists the bumps to choose from)"],
    ),
    "a net too wide to leave its pad, the width in the nets table": (
        [(RDL, "  nets:\n    VDD:\n      width: 5000\n" + RDL)],
        ("width: 5000", "width"),
        "die.nets.VDD.width",
        ["net VDD: stuck at (-1300, 1200): no way out of pad VDD", "5000 µm wide"],
    ),
    "a net too wide to leave its pad, the width on its route": (
        [("{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, width: 4000}")],
        ("{pad: VDD, bump: A2, width", "width"),
        "die.rdl.routes[0].width",
        ["no way out of pad VDD", "4000 µm wide"],
    ),
    "a net that cannot be routed": (
        [(RDL, WALLS + RDL)],
        ("{pad: VDD, bump: A2}", "{pad"),
        "die.rdl.routes[0]",
        [
            "net VDD: stuck at (-1300, 1200): no way out of pad VDD: every straight exit from "
            "its centre, 20 µm wide, comes within 10 µm of other metal"
        ],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rdl_mistake_is_located_explained_and_writes_nothing(spec_file, tmp_path, case):
    replacements, (fragment, token), key, words = case
    path = spec_file(*replacements)
    out = tmp_path / "out" / "die.gds"
    pins = tmp_path / "out" / "pins.csv"
    result = CliRunner().invoke(
        main, ["build", str(path), "-o", str(out), "--die-only", "--pinmap", str(pins)]
    )
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{_at(path.read_text(), fragment, token)}: {key}: "), first
    for word in words:
        assert word in first, f"{word!r} not in {first!r}"
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_pinmap_onto_the_spec_is_refused_and_the_spec_kept(spec_file, tmp_path):
    path = spec_file()
    result = CliRunner().invoke(
        main, ["build", str(path), "-o", str(tmp_path / "die.gds"), "--pinmap", str(path)]
    )
    assert result.exit_code == 2, result.output
    assert f"--pinmap {path} is also the spec" in result.stderr
    assert path.read_text() == BASE_SPEC
    assert not (tmp_path / "die.gds").exists()


def test_allow_unrouted_names_each_net_where_the_spec_does_and_exits_1(spec_file, tmp_path):
    path = spec_file((RDL, WALLS + RDL))
    out = tmp_path / "die.gds"
    result = CliRunner().invoke(
        main, ["build", str(path), "-o", str(out), "--die-only", "--allow-unrouted"]
    )
    assert result.exit_code == 1, result.output
    where = _at(path.read_text(), "{pad: VDD, bump: A2}", "{pad")
    assert f"{path}:{where}: die.rdl.routes[0]: net VDD: stuck at" in result.stderr
    assert "1 net not routed: the layout lacks it" in result.stderr
    database = krdb.ReportDatabase("")
    database.load(str(tmp_path / "die.unrouted.lyrdb"))
    (item,) = database.each_item()
    assert any("net VDD: stuck at" in v.string() for v in item.each_value())
    gds = GdsReader(out)
    rdl = gds.region("RDL", flat=True).merged()
    gnd_to_a6 = rdl.interacting(
        kdb.Region(kdb.Box(gds.um(1299), gds.um(1199), gds.um(1301), gds.um(1201)))
    )
    assert gnd_to_a6.count() == 1  # GND's trace is there, and reaches bump A6 (900, 800)
    assert (
        gnd_to_a6.interacting(
            kdb.Region(kdb.Box(gds.um(899), gds.um(799), gds.um(901), gds.um(801)))
        ).count()
        == 1
    )


def test_a_build_routing_every_net_says_the_markers_left_by_an_earlier_one_are_stale(
    spec_file, tmp_path
):
    out = tmp_path / "die.gds"
    markers = tmp_path / "die.unrouted.lyrdb"
    walled = spec_file((RDL, WALLS + RDL), name="walled.yaml")
    first = CliRunner().invoke(
        main, ["build", str(walled), "-o", str(out), "--die-only", "--allow-unrouted"]
    )
    assert first.exit_code == 1 and markers.is_file(), first.output
    earlier = markers.read_bytes()
    for extra in ([], ["--allow-unrouted"], ["--allow-unrouted", "--json"]):
        result = CliRunner().invoke(
            main, ["build", str(spec_file()), "-o", str(out), "--die-only", *extra]
        )
        assert result.exit_code == 0, result.output
        assert f"note: {markers} is from an earlier build: every net routes now" in result.stderr
        assert markers.read_bytes() == earlier  # named, not deleted
    markers.unlink()
    result = CliRunner().invoke(main, ["build", str(spec_file()), "-o", str(out), "--die-only"])
    assert result.exit_code == 0 and "note:" not in result.stderr, result.output


def test_an_output_onto_the_unrouted_markers_is_refused_before_the_routing(
    spec_file, tmp_path, monkeypatch
):
    def no_build(*args, **kwargs):
        raise AssertionError("routed before the outputs were checked")

    monkeypatch.setattr(layout, "build", no_build)
    path = spec_file((RDL, WALLS + RDL))
    markers = tmp_path / "out" / "die.unrouted.lyrdb"
    result = CliRunner().invoke(
        main,
        ["build", str(path), "-o", str(tmp_path / "out" / "die.gds"), "--die-only",
         "--allow-unrouted", "--pinmap", str(markers)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"--pinmap {markers} is also the unrouted nets' markers beside -o" in result.stderr
    assert not (tmp_path / "out").exists()


def test_route_with_bump_auto_gets_a_free_bump_routed_and_in_the_pin_map(spec_file, tmp_path):
    path = spec_file(("{pad: GND, bump: A6}", "{pad: GND, bump: auto}"))
    out, pins = tmp_path / "die.gds", tmp_path / "pins.csv"
    result = CliRunner().invoke(
        main, ["build", str(path), "-o", str(out), "--die-only", "--pinmap", str(pins)]
    )
    assert result.exit_code == 0, result.output
    rows = {row["bump"]: row for row in csv.DictReader(pins.open())}
    (chosen,) = [bump for bump, row in rows.items() if row["pad"] == "GND"]
    assert rows[chosen]["net"] == "GND"
    x, y = float(rows[chosen]["x"]), float(rows[chosen]["y"])
    # the free bump nearest GND (1300, 1200) in angle about the die centre: the array's top
    # row is at y 800, columns at x -1100 + 400 k; A6 (900, 800) is free again
    assert (x, y) == (900.0, 800.0)
    gds = GdsReader(out)
    rdl = gds.region("RDL", flat=True).merged()

    def dot(px: float, py: float) -> kdb.Region:
        return kdb.Region(kdb.Box(gds.um(px - 1), gds.um(py - 1), gds.um(px + 1), gds.um(py + 1)))

    net = rdl.interacting(dot(1300, 1200))
    assert net.count() == 1 and net.interacting(dot(x, y)).count() == 1


def test_pinmap_names_the_pad_of_a_one_pad_net_and_none_for_a_power_net(spec_file, tmp_path):
    path = spec_file(
        ("      - {pad: GND, bump: A6}\n", ""),
        (RDL, "  nets:\n    SIG: {pads: [GND], bumps: [A6]}\n    PWR: {pads: [VDD, TP],"
         " bumps: [A3, A4]}\n" + RDL),
        ("    routes:\n      - {pad: VDD, bump: A2}\n", ""),
        ("  bumps:\n", TP_PAD.replace(", net: PWRR", "") + "  bumps:\n"),
    )  # fmt: skip
    pins = tmp_path / "pins.csv"
    result = CliRunner().invoke(
        main,
        ["build", str(path), "-o", str(tmp_path / "die.gds"), "--die-only", "--pinmap", str(pins)],
    )
    assert result.exit_code == 0, result.output
    rows = {row["bump"]: (row["pad"], row["net"]) for row in csv.DictReader(pins.open())}
    assert rows == {"A3": ("", "PWR"), "A4": ("", "PWR"), "A6": ("GND", "SIG"), "X1": ("IO", "IO")}


@pytest.mark.parametrize("tech", ["wlcsp-400", "wlcsp-500"])
def test_the_starter_states_the_techs_trace_width_minimum_and_keeps_to_it(tmp_path, tech):
    rules = yaml.safe_load((ROOT / "tech" / f"{tech}.yaml").read_text()).get("rules", {})
    base = yaml.safe_load((ROOT / "tech" / "wlcsp-400.yaml").read_text())["rules"]
    least = (rules.get("RDL.W") or base["RDL.W"])["value"]  # wlcsp-500 may inherit it
    text = CliRunner().invoke(main, ["init", "-", "--tech", tech]).stdout
    (line,) = [line for line in text.splitlines() if line.strip().startswith("width:")]
    assert f"at least the tech's RDL.W ({least:g} µm)" in line
    assert float(line.split(":")[1].split("#")[0]) >= least
    assert "README's 'Nets and routing'" in text


def test_preview_allow_unrouted_draws_the_die_and_marks_where_the_net_got_stuck(
    spec_file, tmp_path
):
    path = spec_file((RDL, WALLS + RDL))
    out = tmp_path / "pictures"
    refused = CliRunner().invoke(main, ["preview", str(path), "-o", str(out)])
    assert refused.exit_code == 2 and not out.exists()
    result = CliRunner().invoke(
        main, ["preview", str(path), "-o", str(out), "--allow-unrouted", "--json"]
    )
    assert result.exit_code == 1, result.output
    written = json.loads(result.stdout)
    assert written["unrouted"] == ["VDD"]
    where = _at(path.read_text(), "{pad: VDD, bump: A2}", "{pad")
    assert f"{path}:{where}: die.rdl.routes[0]: net VDD: stuck at" in result.stderr
    assert "1 net not routed: marked where it got stuck in" in result.stderr
    # the mark is drawn over the stuck point, pad VDD (-1300, 1200), in its colour
    design = loads(path.read_text())
    gds, lyp = tmp_path / "die.gds", tmp_path / "die.lyp"
    built = layout.build(design, die_only=True, allow_unrouted=True)
    layout.write(built, gds)
    write_layer_properties(design.tech, lyp)
    fig = preview.die_figure(design, gds, lyp, built.routing.result.unrouted)
    (ax,) = [a for a in fig.axes if a.texts]
    (mark,) = [line for line in ax.lines if line.get_gid() == "unrouted VDD"]
    assert (float(mark.get_xdata()[0]), float(mark.get_ydata()[0])) == (-1300.0, 1200.0)
    pixels = np.rint(imread(written["die"])[..., :3] * 255).astype(int)
    rgb = int(preview.UNROUTED_COLOR.lstrip("#"), 16)
    target = np.array([(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255])
    assert int((np.abs(pixels - target).max(axis=-1) <= 12).sum()) >= 20


def test_a_keepout_just_past_rdl_s_from_a_capture_pad_routes_around_it(spec_file, tmp_path):
    # between bumps A2 (-700, 800) of net VDD and A3 (-300, 800), capture radius 135: the
    # keep-out's sides 147 µm from their centres, 12 µm from the pads (over RDL.S 10)
    keepout = "  keepout:\n    - {rect: [[-553, 700], [-447, 900]]}\n"
    path = spec_file((RDL, keepout + RDL))
    out = tmp_path / "die.gds"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out), "--die-only"])
    assert result.exit_code == 0, result.output
    gds = GdsReader(out)
    rdl = gds.region("RDL", flat=True).merged()
    area = kdb.Region(kdb.Box(gds.um(-553), gds.um(700), gds.um(-447), gds.um(900)))
    assert (rdl & area).is_empty()


def test_build_counts_the_bumps_on_no_net_so_a_forgotten_one_shows(spec_file, tmp_path):
    """BASE_SPEC: a 6 x 5 array less A1 and X1 on pad IO; routes VDD -> A2, GND -> A6, and X1
    is on IO's net: 30 bumps, 3 on nets."""
    path = spec_file()
    args = ["build", str(path), "-o", str(tmp_path / "die.gds"), "--die-only"]
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0, shown.output
    first = [f"{row}{col}" for row in "AB" for col in range(1, 7)][1:]  # row A less A1, row B
    loose = [name for name in first if name not in ("A2", "A6")][:6]
    assert f"bumps on no net     27 ({', '.join(loose)}, ...): capture pad only" in shown.output
    report = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert report["totals"]["bumps_on_no_net"] == 27


def test_build_counts_the_nets_of_one_pad_so_forgotten_bumps_show(spec_file, tmp_path):
    """A table net naming a pad and no bump is allowed (a pad on a net on purpose) but routes
    nothing: build names it, as it counts the bumps on no net."""
    path = spec_file(
        ("  bumps:\n", "    - {name: TP, at: [0, 1200], size: [80, 80]}\n  bumps:\n"),
        (RDL, "  nets:\n    SIG: {pads: [TP]}\n" + RDL),
    )
    args = ["build", str(path), "-o", str(tmp_path / "die.gds"), "--die-only"]
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0, shown.output
    assert "nets of one pad     1 (SIG): no bump, nothing routed" in shown.output
    report = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert report["totals"]["nets_of_one_pad"] == 1
    assert [n["routed"] for n in report["nets"] if n["name"] == "SIG"] == [None]
    plain = CliRunner().invoke(main, ["build", str(spec_file()), "-o", str(tmp_path / "b.gds")])
    assert plain.exit_code == 0 and "nets of one pad" not in plain.output


@pytest.mark.parametrize("name", ["die.gds", "die.oas", "die.gds.gz"])
def test_the_unrouted_markers_take_the_layouts_stem_as_its_lyp_does(spec_file, tmp_path, name):
    path = spec_file((RDL, WALLS + RDL))
    args = ["build", str(path), "-o", str(tmp_path / name), "--die-only", "--allow-unrouted"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    stem = name.split(".")[0]  # every suffix off: die.gds.gz is a die
    beside = sorted(p.name for p in tmp_path.iterdir() if p.name != path.name)
    assert beside == sorted([name, f"{stem}.lyp", f"{stem}.unrouted.lyrdb"])
