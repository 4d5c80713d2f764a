"""The KLayout layer-properties file written beside every layout, and the atomic writes."""

from __future__ import annotations

import os
import stat

import klayout.db as kdb
import klayout.lay as lay
import pytest
from click.testing import CliRunner

from masklayout import files, outputs
from masklayout.cli import main
from masklayout.tech import load_tech
from tests.helpers import SAMPLES


def _layer_props(path, gds=None) -> dict[tuple[int, int], lay.LayerPropertiesNode]:
    """The layer properties KLayout shows for ``path``, over ``gds`` (or an empty layout)."""
    view = lay.LayoutView()
    if gds is None:
        view.create_layout(False)
    else:
        view.load_layout(str(gds), False)
    view.load_layer_props(str(path))
    props = {}
    it = view.begin_layers()
    while not it.at_end():
        node = it.current()
        props[(node.source_layer, node.source_datatype)] = node
        it.next()
    return props


def _gds_layers(path) -> set[tuple[int, int]]:
    layout = kdb.Layout()
    layout.read(str(path))
    return {(info.layer, info.datatype) for info in layout.layer_infos()}


@pytest.mark.parametrize("sample", ["wlcsp_rdl_400", "three_masks_300mm", "wlcsp_on_pad"])
def test_build_writes_a_lyp_that_klayout_loads_and_that_names_every_gds_layer(sample, tmp_path):
    out = tmp_path / f"{sample}.gds"
    result = CliRunner().invoke(main, ["build", str(SAMPLES / f"{sample}.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lyp = tmp_path / f"{sample}.lyp"
    props = _layer_props(lyp, out)
    tech = load_tech("wlcsp-500" if sample == "three_masks_300mm" else "wlcsp-400")
    names = {tag: name for name, tag in tech.layers.items()}
    gds_layers = _gds_layers(out)
    assert gds_layers, "the layout holds no layers"
    for tag in gds_layers:
        assert tag in props, f"layer {tag} of the GDS has no layer properties"
        assert props[tag].name == f"{names[tag]} {tag[0]}/{tag[1]}"


def test_every_layer_has_its_own_colour_and_the_solder_masks_let_layers_below_show(tmp_path):
    lyp = outputs.write_layer_properties(load_tech("wlcsp-400"), tmp_path / "m.lyp")
    props = _layer_props(lyp)
    colours = [node.fill_color & 0xFFFFFF for node in props.values()]
    assert len(set(colours)) == len(colours) == 12
    masks = [props[(layer, 0)] for layer in (21, 22, 23)]
    assert all(node.transparent for node in masks)
    assert len({node.dither_pattern for node in masks}) == 3
    assert all(node.dither_pattern not in (0, 1) for node in masks)  # neither solid nor hollow


def test_a_renumbered_tech_layer_is_named_at_its_new_number(tmp_path):
    tech_file = tmp_path / "renumbered.yaml"
    tech_file.write_text(
        "name: renumbered\nextends: wlcsp-400\nlayers:\n  SM1: [41, 7]\n  BUMPCAP: [50, 0]\n"
    )
    tech = load_tech(str(tech_file))
    props = _layer_props(outputs.write_layer_properties(tech, tmp_path / "r.lyp"))
    assert props[(41, 7)].name == "SM1 41/7"
    assert (21, 0) not in props
    assert props[(50, 0)].name == "BUMPCAP 50/0"
    assert props[(50, 0)].fill_color not in {n.fill_color for t, n in props.items() if t != (50, 0)}


def test_the_lyp_goes_beside_the_layout_with_its_stem():
    assert outputs.layer_properties_path("out/wafer.oas") == outputs.Path("out/wafer.lyp")


def test_atomic_write_leaves_the_old_file_and_no_temporary_when_the_writer_fails(tmp_path):
    target = tmp_path / "m.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), files.atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]


def test_atomic_write_gives_a_new_file_the_usual_mode_not_the_temporary_0600(tmp_path):
    umask = os.umask(0o022)
    try:
        with files.atomic_write(tmp_path / "new.csv") as tmp:
            assert tmp.suffix == ".csv"  # writers that go by the extension see the right one
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644
