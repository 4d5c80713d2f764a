"""A teardrop left out is reported: per net in `build --json` (``teardrops_skipped``) and as a
summary line; the terminals named are those where the GDS read back carries no drop."""

from __future__ import annotations

import json

import klayout.db as kdb
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import SAMPLES, GdsReader

NEAR = 100.0  # µm about a terminal's centre: its drop reaches in, a neighbour's (pitch 400) not


def _spec(tmp_path, teardrop: bool):
    text = (SAMPLES / "rdl_nets.yaml").read_text()
    assert "\n  rdl:\n" in text
    path = tmp_path / f"rdl_nets_{teardrop}.yaml"
    path.write_text(
        text.replace("\n  rdl:\n", f"\n  rdl:\n    teardrop: {str(teardrop).lower()}\n")
    )
    return path


def _build(tmp_path, teardrop: bool, *args: str):
    out = tmp_path / f"die_{teardrop}.gds"
    spec = _spec(tmp_path, teardrop)
    result = CliRunner().invoke(main, ["build", str(spec), "-o", str(out), "--die-only", *args])
    assert result.exit_code == 0, result.output
    return out, result


def _labels(gds: GdsReader) -> dict[str, tuple[float, float]]:
    layer = gds.layout.find_layer(*gds.layers["TEXT"])
    shapes = gds.top.begin_shapes_rec(layer)
    at = {}
    while not shapes.at_end():
        text = shapes.shape().dtext.transformed(shapes.dtrans())
        at[text.string] = (text.x, text.y)
        shapes.next()
    return at


def test_teardrops_left_out_are_named_per_net_and_carry_no_drop_in_the_gds(tmp_path):
    plain, _ = _build(tmp_path, False)
    dropped, result = _build(tmp_path, True, "--json")
    nets = json.loads(result.stdout)["nets"]
    skipped = {t for net in nets if net["routed"] for t in net["teardrops_skipped"]}
    assert skipped  # on this die some drops would come too near other metal or notch their own
    summary = _build(tmp_path, True)[1].output
    for net in nets:
        if net["routed"] and net["teardrops_skipped"]:
            line = f"teardrops skipped   {net['name']}: {', '.join(net['teardrops_skipped'])}"
            assert line in summary

    with_drops, without = GdsReader(dropped), GdsReader(plain)  # both alive: regions read lazily
    added = with_drops.region("RDL", flat=True) - without.region("RDL", flat=True)
    labels = _labels(with_drops)
    terminals = {t for net in nets if net["routed"] for t in net["terminals"]}
    drawn = set()
    for terminal in terminals:
        x, y = labels[terminal.split()[1]]
        n = with_drops.um(NEAR)
        box = kdb.Box(
            with_drops.um(x) - n, with_drops.um(y) - n, with_drops.um(x) + n, with_drops.um(y) + n
        )
        if not (added & kdb.Region(box)).is_empty():
            drawn.add(terminal)
    assert drawn  # teardrops are drawn on this die
    assert skipped <= terminals and not skipped & drawn


def test_a_spec_without_teardrops_reports_none(tmp_path):
    _, result = _build(tmp_path, False, "--json")
    assert all("teardrops_skipped" not in net for net in json.loads(result.stdout)["nets"])
    assert "teardrops skipped" not in _build(tmp_path, False)[1].output
