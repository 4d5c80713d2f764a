"""``build --split DIR --flat``: each mask flat, in its exposure, checked against the combined
hierarchical GDS read back with KLayout (flattened and merged there, independently)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import gdstk
import klayout.db as kdb
import pytest
from click.testing import CliRunner

from masklayout import export, layout, spec, split
from masklayout.cli import main
from masklayout.geometry import wafer as wafer_geometry
from masklayout.source import SpecError
from masklayout.tech import Exposure, Plate
from tests.helpers import SAMPLES, GdsReader
from tests.test_marks_wafer import spec_text

AS_DRAWN = Exposure(mirror=False, tone="dark")


def shrunk(sample: Path, diameter: str = "30 mm") -> str:
    """A sample's spec on a smaller wafer: every die, stack, mark and label, fewer dies."""
    return re.sub(r"(\n  diameter:\s*)[^\n]+", rf"\g<1>{diameter}", sample.read_text(), count=1)


def build(tmp: Path, text: str, base: Path = SAMPLES) -> tuple[spec.Design, gdstk.Library, Path]:
    design = spec.loads(text, base=base)
    built = layout.build(design)
    combined = tmp / "combined.gds"
    layout.write(built, combined)
    return design, built.library, combined


def flat_region(path: Path, tag: tuple[int, int]) -> tuple[kdb.Layout, kdb.Region]:
    """A flat file read back: its layout and the region of ``tag``."""
    read = kdb.Layout()
    read.read(str(path))
    layer = read.find_layer(*tag)
    return read, kdb.Region(read.top_cell().begin_shapes_rec(layer))


def combined_layer(combined: GdsReader, name: str) -> kdb.Region:
    """A layer of the combined build, flattened and merged."""
    return combined.region(name, flat=True).merged()


SAMPLE_FILES = sorted(SAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_flat_masks_xor_equal_the_layers_of_the_combined_build(
    sample: Path, tmp_path: Path
) -> None:
    try:
        design, library, combined_path = build(tmp_path, shrunk(sample))
    except SpecError as exc:  # the samples that build, as the issue asks; say which does not
        pytest.skip(f"{sample.name} does not build: {str(exc).splitlines()[0]}")
    manifest = split.write_flat_split(design, library, tmp_path / "flat", exposure=AS_DRAWN)
    combined = GdsReader(combined_path)
    masks = {m["name"]: m for m in manifest["masks"]}
    assert {"UBM", "SM1", "SM2"} <= set(masks)
    for name in ("SM1", "SM2", "SM3", "UBM"):
        if name not in masks:
            continue
        read, region = flat_region(tmp_path / "flat" / masks[name]["file"], design.tech.layer(name))
        assert read.cells() == 1, "flat: one cell, no references"
        assert (region ^ combined_layer(combined, name)).is_empty(), name
        drawn = {
            (info.layer, info.datatype)
            for index, info in zip(read.layer_indexes(), read.layer_infos(), strict=True)
            if not read.top_cell().shapes(index).is_empty()
        }
        assert drawn == {design.tech.layer(name), design.tech.layer("TEXT")}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[spec.Design, gdstk.Library, Path]:
    """The small spec on a 50 mm wafer."""
    folder = tmp_path_factory.mktemp("small")
    return build(folder, small_text(), base=folder)


def small_text() -> str:
    return spec_text(("diameter: 100 mm", "diameter: 50 mm"))


def with_mask_keys(text: str, mask: str, keys: str) -> str:
    """``text`` with ``keys`` added to the flow-style entry of ``mask`` under ``masks:``."""
    line = re.search(rf"^  {mask}: {{(.*)}}$", text, re.MULTILINE)
    assert line, f"test bug: no masks.{mask} entry"
    return text.replace(line.group(0), f"  {mask}: {{{line.group(1)}, {keys}}}", 1)


def test_gdsii_on_request_xor_equal_with_polygons_within_8190_vertices(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, combined_path = small
    manifest = split.write_flat_split(design, library, tmp_path, "gds", AS_DRAWN)
    combined = GdsReader(combined_path)
    for mask in manifest["masks"]:
        assert mask["file"].endswith(".gds") and mask["format"] == "GDSII"
        _, region = flat_region(tmp_path / mask["file"], (mask["layer"], mask["datatype"]))
        assert (region ^ combined_layer(combined, mask["name"])).is_empty(), mask["name"]


def dense_spec(bumps: int = 12) -> str:
    """The small spec on a 50 mm wafer with a dense bump array: one die's SM1 openings exceed
    8190 vertices."""
    return spec_text(
        ("diameter: 100 mm", "diameter: 50 mm"),
        (
            "array: {pitch: 400, count: [6, 5], center: [-100, 0]}",
            f"array: {{pitch: 200, count: [{bumps}, {bumps}], center: [-100, 0]}}",
        ),
        ("skip: [A1]", "skip: []"),
        ("{shape: circle, diameter: 250}", "{shape: circle, diameter: 150}"),
        ("{diameter: 220}", "{diameter: 120}"),
        ("{mask: SM1, diameter: 270}", "{mask: SM1, diameter: 170}"),
        ("{mask: SM2, diameter: 350}", "{mask: SM2, diameter: 180}"),
        ("{mask: SM3, diameter: 380}", "{mask: SM3, diameter: 190}"),
        (
            "    routes:\n      - {pad: VDD, bump: A2}\n      - {pad: GND, bump: A6}\n",
            "    routes: []\n",
        ),
    )


def test_an_inverted_tile_in_one_piece_is_split_for_gdsii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no sub-tiles, a die's tile less its openings is one polygon with holes far past
    the GDSII limit: written cut open and broken into pieces of at most 8190 vertices."""
    monkeypatch.setattr(export, "OPENINGS_PER_SUBTILE", 10**9)
    design, library, combined_path = build(tmp_path, dense_spec(), base=tmp_path)
    plate = Plate(size=60_000)
    manifest = split.write_flat_split(
        design, library, tmp_path / "flat", "gds", Exposure(mirror=False, tone="clear", plate=plate)
    )
    combined = GdsReader(combined_path)
    mask = next(m for m in manifest["masks"] if m["name"] == "SM1")
    read, region = flat_region(tmp_path / "flat" / mask["file"], design.tech.layer("SM1"))
    sizes = [p.num_points() for p in region.each()]
    assert max(sizes) <= 8190 < 150 * 192, "the die's holes alone exceed the limit"
    assert all(p.holes() == 0 for p in region.each())
    field = kdb.Region(kdb.Box(-30_000_000, -30_000_000, 30_000_000, 30_000_000))
    expected = field - combined_layer(combined, "SM1")
    # breaking cuts through openings, each cut snapped to the 1 nm grid: slivers under 1 nm
    assert (region ^ expected).sized(-1).is_empty()
    assert region.area() == pytest.approx(expected.area(), rel=1e-9)
    assert mask["counts"]["max_vertices"] == max(sizes)


def test_mirrored_openings_are_at_the_mirrored_places(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, combined_path = small
    manifest = split.write_flat_split(
        design, library, tmp_path, exposure=Exposure(mirror=True, tone="dark")
    )
    combined = GdsReader(combined_path)
    mask = next(m for m in manifest["masks"] if m["name"] == "SM1")
    _, region = flat_region(tmp_path / mask["file"], design.tech.layer("SM1"))
    drawn = combined_layer(combined, "SM1")
    assert (region ^ drawn.transformed(kdb.Trans(kdb.Trans.M90))).is_empty()
    assert not (region ^ drawn).is_empty(), "the layer is not symmetric: mirroring shows"
    # one opening by hand: bump B2 of the first die, at (-x, y) on the mask
    site = design.site("B2")
    center = wafer_geometry.place_dies(design.spec.wafer).centers[0]
    x, y = combined.um(center[0] + site.x), combined.um(center[1] + site.y)
    assert not (kdb.Region(kdb.Box(-x - 1, y - 1, -x + 1, y + 1)) & region).is_empty()
    assert (kdb.Region(kdb.Box(x - 1, y - 1, x + 1, y + 1)) & region).is_empty()
    assert mask["exposure"]["mirror"] is True and mask["exposure"]["mirror_axis"] == "y"
    assert mask["bounding_box_um"][0][0] == pytest.approx(-drawn.bbox().right / 1000)


@pytest.mark.parametrize("outline", [False, True])
def test_clear_field_is_the_plate_less_the_openings(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path, outline: bool
) -> None:
    design, library, combined_path = small
    side, frame = 63_500.0, 2_000.0  # a 2.5" plate, a 2 mm frame
    plate = Plate(size=side, outline=outline, frame=frame)
    manifest = split.write_flat_split(
        design, library, tmp_path, exposure=Exposure(mirror=False, tone="clear", plate=plate)
    )
    combined = GdsReader(combined_path)
    for mask in manifest["masks"]:
        _, region = flat_region(tmp_path / mask["file"], (mask["layer"], mask["datatype"]))
        openings = combined_layer(combined, mask["name"])
        frame_area = 4 * frame * (side - frame) if outline else 0.0
        expected_um2 = side * side - openings.area() / 1e6 - frame_area
        assert region.area() / 1e6 == pytest.approx(expected_um2, rel=1e-12, abs=1.0)
        assert all(p.holes() == 0 for p in region.each())
        assert mask["exposure"]["inverted"] and mask["exposure"]["field"] == "clear_field"
        edge = side / 2 - (frame if outline else 0.0)  # a frame is chrome
        assert mask["bounding_box_um"] == [[-edge, -edge], [edge, edge]]


def test_clear_field_without_a_plate_is_the_wafer_less_the_openings(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, combined_path = small
    manifest = split.write_flat_split(
        design, library, tmp_path, exposure=Exposure(mirror=False, tone="clear")
    )
    combined = GdsReader(combined_path)
    wafer = combined.region("WAFER", flat=True)
    for mask in manifest["masks"]:
        _, region = flat_region(tmp_path / mask["file"], (mask["layer"], mask["datatype"]))
        expected = wafer - combined_layer(combined, mask["name"])
        # the wafer's edge and the labels are cut at tile edges, each cut snapped to the 1 nm
        # grid: what differs is slivers under 1 nm wide
        assert (region ^ expected).sized(-1).is_empty(), mask["name"]
        assert region.area() == pytest.approx(expected.area(), rel=1e-8), mask["name"]


def test_magnification_scales_every_coordinate(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, combined_path = small
    manifest = split.write_flat_split(
        design, library, tmp_path, exposure=Exposure(mirror=False, tone="dark", magnification=2)
    )
    combined = GdsReader(combined_path)
    for mask in manifest["masks"]:
        _, region = flat_region(tmp_path / mask["file"], (mask["layer"], mask["datatype"]))
        expected = combined_layer(combined, mask["name"]).transformed(kdb.ICplxTrans(2.0))
        assert (region ^ expected).is_empty(), mask["name"]
        assert mask["exposure"]["magnification"] == 2


def test_default_tone_follows_the_film_and_the_manifest_records_it(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, _ = small
    manifest = split.write_flat_split(design, library, tmp_path)
    for mask in manifest["masks"]:
        field = "dark_field" if mask["tone"] == "positive" else "clear_field"
        assert mask["exposure"]["field"] == mask["polarity"] == field
        assert mask["exposure"]["matches_film"] is True
        assert mask["flat"] is True and mask["format"] == "OASIS"
        assert mask["exposure"]["mirror"] is False and mask["exposure"]["magnification"] == 1


def test_manifest_counts_box_and_hash_are_those_of_the_files(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, _ = small
    manifest = split.write_flat_split(design, library, tmp_path, exposure=AS_DRAWN)
    assert json.loads((tmp_path / split.MANIFEST).read_text()) == manifest
    for mask in manifest["masks"]:
        path = tmp_path / mask["file"]
        data = path.read_bytes()
        assert mask["sha256"] == hashlib.sha256(data).hexdigest()
        assert mask["bytes"] == len(data)
        assert gdstk.oas_validate(str(path))[0], "the END record's CRC32 holds"
        read, region = flat_region(path, (mask["layer"], mask["datatype"]))
        counts = mask["counts"]
        assert region.count() == counts["polygons"]
        assert counts["polygons"] == counts["die_polygons"] + counts["mark_and_label_polygons"]
        assert counts["dies"] == manifest["dies"]
        box = region.bbox()
        assert mask["bounding_box_um"] == [
            [box.left / 1000, box.bottom / 1000],
            [box.right / 1000, box.top / 1000],
        ]
        texts = [s.text_string for s in read.top_cell().each_shape(read.find_layer(63, 0))]
        assert texts == [mask["label"]]


def test_jobs_write_the_same_bytes_as_one_process(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, _ = small
    exposure = Exposure(mirror=True)
    one = split.write_flat_split(design, library, tmp_path / "one", exposure=exposure)
    two = split.write_flat_split(design, library, tmp_path / "two", exposure=exposure, jobs=2)
    assert [m["sha256"] for m in one["masks"]] == [m["sha256"] for m in two["masks"]]
    for mask in one["masks"]:
        assert (tmp_path / "one" / mask["file"]).read_bytes() == (
            tmp_path / "two" / mask["file"]
        ).read_bytes()


def test_exposure_order_tech_then_mask_then_command_line(tmp_path: Path) -> None:
    tech = tmp_path / "t.yaml"
    tech.write_text(
        "name: t\nextends: wlcsp-400\nmask_set:\n"
        "  exposure: {mirror: true, magnification: 4}\n"
        "  exposures: {SM1: {tone: dark}, SM2: {magnification: 5}}\n"
    )
    text = spec_text().replace("tech: wlcsp-400", f"tech: {tech}")
    text = with_mask_keys(text, "SM2", "exposure: {mirror: false}")
    design = spec.loads(text, base=tmp_path)
    sm1 = export.settings(design, "SM1", None, "positive")
    sm2 = export.settings(design, "SM2", None, "negative")
    assert (sm1.mirror, sm1.tone, sm1.magnification) == (True, "dark", 4)
    assert (sm2.mirror, sm2.tone, sm2.magnification) == (False, "clear", 5)
    cli = export.settings(design, "SM2", Exposure(tone="dark"), "negative")
    assert (cli.mirror, cli.tone, cli.magnification) == (False, "dark", 5)


def test_cli_flat_split_from_build_and_from_the_gds_are_the_same_bytes(tmp_path: Path) -> None:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(small_text())
    runner = CliRunner()
    gds = tmp_path / "small.gds"
    args = ["--flat", "--format", "gds", "--no-mirror", "--tone", "dark", "-q"]
    built = runner.invoke(
        main, ["build", str(spec_file), "-o", str(gds), "--split", str(tmp_path / "a"), *args]
    )
    assert built.exit_code == 0, built.output
    again = runner.invoke(
        main, ["split", str(gds), "--spec", str(spec_file), str(tmp_path / "b"), *args]
    )
    assert again.exit_code == 0, again.output
    a = json.loads((tmp_path / "a" / split.MANIFEST).read_text())
    b = json.loads((tmp_path / "b" / split.MANIFEST).read_text())
    assert a == b
    assert [m["file"] for m in a["masks"]][0].endswith(".gds")


def test_cli_rejects_a_plate_too_small_and_writes_nothing(tmp_path: Path) -> None:
    text = with_mask_keys(small_text(), "SM1", "exposure: {plate: {size: 70 mm}}")
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(text)
    result = CliRunner().invoke(
        main, ["build", str(spec_file), "-o", str(tmp_path / "s.gds"), "--split",
               str(tmp_path / "m"), "--flat", "--mag", "2", "-q"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "mask SM1" in result.output and "70 mm" in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mirror"], "--flat"),
        (["--flat"], "--split"),
        (["--flat", "--mag", "0", "--split", "m"], "--mag"),
    ],
)
def test_cli_flat_options_need_their_context(tmp_path: Path, args: list[str], message: str) -> None:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(small_text())
    result = CliRunner().invoke(main, ["build", str(spec_file), "-q", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("flat", [[], ["--flat"]], ids=["hierarchical", "flat"])
def test_cli_split_reads_a_gzipped_gds_as_build_split_wrote_it(
    tmp_path: Path, flat: list[str]
) -> None:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(small_text())
    runner = CliRunner()
    packed = tmp_path / "small.gds.gz"
    built = runner.invoke(
        main, ["build", str(spec_file), "-o", str(packed), "--split", str(tmp_path / "a"), *flat, "-q"]
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert packed.read_bytes()[:2] == b"\x1f\x8b"  # gzip, not a plain GDSII
    again = runner.invoke(
        main, ["split", str(packed), "--spec", str(spec_file), str(tmp_path / "b"), *flat, "-q"]
    )
    assert again.exit_code == 0, again.output
    a = json.loads((tmp_path / "a" / split.MANIFEST).read_text())
    b = json.loads((tmp_path / "b" / split.MANIFEST).read_text())
    assert a == b and len(a["masks"]) >= 2
    for mask in a["masks"]:
        assert (tmp_path / "a" / mask["file"]).read_bytes() == (
            tmp_path / "b" / mask["file"]
        ).read_bytes()


@pytest.mark.parametrize("name", ["bad.gds", "bad.gds.gz", "bad.oas"])
def test_cli_split_of_an_unreadable_layout_is_bad_input(tmp_path: Path, name: str) -> None:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(small_text())
    bad = tmp_path / name
    bad.write_bytes(b"\x1f\x8b not a layout" if name.endswith(".gz") else b"not a layout")
    result = CliRunner().invoke(
        main, ["split", str(bad), "--spec", str(spec_file), str(tmp_path / "m")]
    )
    assert result.exit_code == 2, result.output
    assert f"{bad}: cannot read it as GDSII or OASIS" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "m").exists()
