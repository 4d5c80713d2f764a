"""Planes and teardrops on the README's nets die, read back from the written GDS with KLayout:
other nets keep RDL.S, the plane is nowhere narrower than its width, each net is one shape."""

from __future__ import annotations

import klayout.db as kdb
import pytest
import yaml
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import ROOT, GdsReader

SPACE = 10.0  # RDL.S of wlcsp-400 (the README's tech)
SAMPLE = (ROOT / "samples" / "rdl_nets.yaml").read_text()


def _build(tmp_path, monkeypatch, text: str) -> tuple[GdsReader, dict]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "die.yaml").write_text(text)
    result = CliRunner().invoke(main, ["build", "die.yaml", "-o", "out/die.gds"])
    assert result.exit_code == 0, result.output
    return GdsReader(tmp_path / "out/die.gds"), yaml.safe_load(text)["die"]


def _rdl(gds: GdsReader) -> kdb.Region:
    (die,) = [c for c in gds.layout.each_cell() if c.name.endswith("_DIE")]
    return gds.region("RDL", die, flat=True).merged()


def _dot(gds: GdsReader, x: float, y: float) -> kdb.Region:
    return kdb.Region(kdb.Box(gds.um(x - 1), gds.um(y - 1), gds.um(x + 1), gds.um(y + 1)))


@pytest.mark.parametrize(
    "edit",
    [
        ("bumps: [E5]}", "bumps: [E5], plane: true}"),
        ("    width: 20 ", "    teardrop: true\n    width: 20 "),
    ],
    ids=["plane", "teardrop"],
)
def test_nets_keep_space_width_and_one_shape_read_back(tmp_path, monkeypatch, edit):
    text = SAMPLE.replace(*edit)
    assert text != SAMPLE
    gds, die = _build(tmp_path, monkeypatch, text)
    rdl = _rdl(gds)
    # KLayout's own space check over all RDL: between shapes (nets) and within one (notches)
    assert rdl.space_check(gds.um(SPACE)).is_empty()
    pads = {pad["name"]: pad for pad in die["pads"]}
    vss = [pads[name]["at"] for name in die["nets"]["VSS"]["pads"]]
    shape = rdl.interacting(_dot(gds, *vss[0]))
    assert shape.count() == 1
    assert all(shape.interacting(_dot(gds, *at)).count() == 1 for at in vss)
    if "plane" in edit[1]:
        width = float(die["rdl"]["width"])
        assert shape.width_check(gds.um(width) - 2).is_empty()
        # a pour, not a trace: far more metal than a tree of traces of that width would have
        assert shape.area() * gds.layout.dbu**2 > 1e6
