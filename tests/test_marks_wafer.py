"""Alignment marks and mask labels on the wafer, read back from the written GDS with KLayout."""

from __future__ import annotations

from pathlib import Path

import klayout.db as kdb
import pytest

from masklayout import layout, spec
from masklayout.geometry import marks
from masklayout.source import SpecError
from tests.helpers import BASE_SPEC, GdsReader

# BASE_SPEC with a third solder mask, so every mask layer is drawn (PI1 RDL PI2 UBM SM1 SM2 SM3),
# and a 2 mm edge exclusion, so the ring beside the centre row of dies has room for the marks.
SMALL_SET = (
    ("edge_exclusion: 3 mm", "edge_exclusion: 2 mm"),
    ("      - {mask: SM2, diameter: 350}\n", "      - {mask: SM2, diameter: 350}\n      - {mask: SM3, diameter: 380}\n"),
    ("  SM2: {thickness: 100, film: dry_film, apply: laminate}\n", "  SM2: {thickness: 100, film: dry_film, apply: laminate}\n  SM3: {thickness: 50, film: dry_film, apply: laminate}\n"),
)  # fmt: skip
LAYERS = ("PI1", "RDL", "PI2", "UBM", "SM1", "SM2", "SM3")


def spec_text(*replacements: tuple[str, str]) -> str:
    text = BASE_SPEC
    for old, new in (*SMALL_SET, *replacements):
        assert old in text, f"test bug: {old!r} not in the base spec"
        text = text.replace(old, new, 1)
    return text


def built_gds(folder: Path, *replacements: tuple[str, str], revision: str = "A") -> GdsReader:
    design = spec.loads(spec_text(*replacements), base=folder)
    path = folder / "small.gds"
    layout.write(layout.build(design, revision=revision), path)
    return GdsReader(path)


@pytest.fixture(scope="module")
def gds(tmp_path_factory: pytest.TempPathFactory) -> GdsReader:
    return built_gds(tmp_path_factory.mktemp("marks"))


def mask_region(gds: GdsReader, layer: str) -> kdb.Region:
    """The layer's shapes in its mask cell (marks and label), flat."""
    return gds.region(layer, gds.cell(f"small_MASK_{layer}"), flat=True)


def mark_region(gds: GdsReader, layer: str) -> kdb.Region:
    """The layer's two alignment crosses: its mask-cell shapes on the row through y = 0."""
    row = kdb.Region(kdb.Box(-gds.um(60000), -gds.um(1000), gds.um(60000), gds.um(1000)))
    return mask_region(gds, layer).interacting(row)


def test_every_mask_layer_has_one_cross_left_and_one_right_of_the_centre(gds: GdsReader) -> None:
    for k, layer in enumerate(LAYERS):
        crosses = list(mark_region(gds, layer).each())
        assert len(crosses) == 2, layer
        assert sorted(c.bbox().center().x < 0 for c in crosses) == [False, True]
        length, width = gds.um(1000 - 20 * k), gds.um(300 - 20 * k)  # the tech's chain
        for c in crosses:
            assert c.num_points() == 12
            assert c.area() == 2 * length * width - width * width, layer


def test_each_layer_cross_nests_in_the_previous_layer_by_the_clearance(gds: GdsReader) -> None:
    clearance = gds.um(10)
    for outer_layer, inner_layer in zip(LAYERS[:-1], LAYERS[1:], strict=True):
        outer, inner = mark_region(gds, outer_layer), mark_region(gds, inner_layer)
        assert (inner.sized(clearance) - outer).is_empty(), (inner_layer, outer_layer)
        assert not (inner.sized(clearance + 1) - outer).is_empty(), "more than the clearance"


def test_marks_touch_no_die_and_keep_the_die_clearance(gds: GdsReader) -> None:
    dies = gds.region("DIE", flat=True)
    assert dies.count() > 500
    for layer in LAYERS:
        reach = mark_region(gds, layer).sized(gds.um(200) - 1)
        assert (reach & dies).is_empty(), layer


def test_marks_lie_in_the_usable_area_when_the_ring_has_room(gds: GdsReader) -> None:
    usable = gds.region("EXCLUSION", flat=True)
    for layer in LAYERS:
        assert (mark_region(gds, layer) - usable).is_empty(), layer


def test_marks_move_past_the_dies_when_the_usable_area_has_no_room(tmp_path: Path) -> None:
    (tmp_path / "tight.yaml").write_text(
        "name: tight\nextends: wlcsp-400\n"
        "mask_set:\n  marks: {length: 600, width: 160, clearance: 10, die_clearance: 1500}\n"
    )
    design = spec.loads(spec_text(("tech: wlcsp-400", "tech: tight.yaml")), base=tmp_path)
    built = layout.build(design)
    sites = marks.mark_sites(design.spec.wafer, built.dies, design.tech.mask_set.marks)
    assert not sites.inside_usable
    layout.write(built, tmp_path / "small.gds")
    gds = GdsReader(tmp_path / "small.gds")
    dies, usable = gds.region("DIE", flat=True), gds.region("EXCLUSION", flat=True)
    all_marks = kdb.Region()
    for layer in LAYERS:
        all_marks += mark_region(gds, layer)
    assert all_marks.count() == 2 * len(LAYERS)
    assert (all_marks.sized(gds.um(1500) - 1) & dies).is_empty()
    assert not (all_marks - usable).is_empty()


def test_labels_are_polygon_text_in_the_edge_exclusion_and_gds_text(gds: GdsReader) -> None:
    usable, wafer = gds.region("EXCLUSION", flat=True), gds.region("WAFER", flat=True)
    text_layer = gds.layout.find_layer(*gds.layers["TEXT"])
    for layer in LAYERS:
        label = mask_region(gds, layer) - mark_region(gds, layer)
        assert label.count() >= 10, layer  # about a shape per character
        assert (label & usable).is_empty(), layer
        assert (label - wafer).is_empty(), layer
        cell = gds.cell(f"small_MASK_{layer}")
        texts = [s.text_string for s in cell.shapes(text_layer).each() if s.is_text()]
        assert texts == [f"small {layer} REV A"]


def test_labels_of_the_masks_do_not_overlap(gds: GdsReader) -> None:
    labels = [mask_region(gds, layer) - mark_region(gds, layer) for layer in LAYERS]
    for k, a in enumerate(labels):
        for b in labels[k + 1 :]:
            assert (a.extents() & b.extents()).is_empty()


def test_labels_go_outside_the_wafer_when_the_edge_exclusion_is_too_narrow(tmp_path: Path) -> None:
    gds = built_gds(tmp_path, ("edge_exclusion: 2 mm", "edge_exclusion: 0.5 mm"))
    wafer = gds.region("WAFER", flat=True)
    for layer in LAYERS:
        label = mask_region(gds, layer) - mark_region(gds, layer)
        assert not label.is_empty()
        assert (label & wafer).is_empty(), layer


def test_the_revision_is_printed_in_every_label(tmp_path: Path) -> None:
    gds = built_gds(tmp_path, revision="C2")
    text_layer = gds.layout.find_layer(*gds.layers["TEXT"])
    texts = {
        s.text_string
        for layer in LAYERS
        for s in gds.cell(f"small_MASK_{layer}").shapes(text_layer).each()
    }
    assert texts == {f"small {layer} REV C2" for layer in LAYERS}


@pytest.mark.parametrize("revision", ["", "A B", "Ä", "X" * 17])
def test_a_revision_that_cannot_be_printed_is_refused(revision: str) -> None:
    with pytest.raises(ValueError, match="a revision is"):
        marks.label_text("small", "SM1", revision)


@pytest.mark.parametrize("sample", ["wlcsp_rdl_400", "wlcsp_on_pad", "three_masks_300mm"])
def test_solder_mask_crosses_are_wide_enough_to_open_through_their_film(sample: str) -> None:
    design = spec.load(Path(__file__).parent.parent / "samples" / f"{sample}.yaml")
    die = layout.build(design, die_only=True).top
    aspect = design.tech.rules["SM.AR"]
    for cross in marks.cross_chain(marks.mask_layers(design, die), design.tech.mask_set.marks):
        mask = design.spec.masks.get(cross.layer)
        if mask is not None:
            assert mask.thickness / cross.width <= aspect.for_film(mask.film), cross


def test_only_the_layers_the_die_draws_get_marks(tmp_path: Path) -> None:
    design = spec.load(Path(__file__).parent.parent / "samples" / "wlcsp_on_pad.yaml")
    built = layout.build(design)
    names = sorted(c.name for c in built.library.cells if "_MASK_" in c.name)
    assert names == sorted(f"wlcsp_on_pad_MASK_{n}" for n in ("PI2", "UBM", "SM1", "SM2"))


def test_a_mark_chain_that_cannot_nest_seven_layers_is_a_located_tech_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nextends: wlcsp-400\nmask_set:\n  marks: {width: 100, clearance: 10}\n"
    )
    with pytest.raises(SpecError) as error:
        spec.loads(spec_text(("tech: wlcsp-400", "tech: bad.yaml")), base=tmp_path)
    message = str(error.value)
    assert "bad.yaml:4" in message and "mask_set.marks" in message
    assert "width 100 must exceed 120" in message
