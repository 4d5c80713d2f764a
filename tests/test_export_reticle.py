"""Exposure ``image: die``: a stepper reticle's flat mask holds one die, centred on the plate,
magnified and mirrored, read back with KLayout and checked against the spec's own numbers."""

from __future__ import annotations

import json
from pathlib import Path

import gdstk
import klayout.db as kdb
import pytest
from click.testing import CliRunner

from masklayout import export, spec, split
from masklayout.cli import main
from masklayout.source import SpecError
from masklayout.tech import Exposure, Plate
from tests.helpers import GdsReader
from tests.test_export_flat import build, flat_region, small_text, with_mask_keys
from tests.test_marks_wafer import spec_text

SIX_INCH = Plate(size=152_400.0)
# the small spec's die, by hand: a 6 x 5 array at 400 µm pitch centred on (-100, 0), A1 (top
# left) skipped, X1 on the IO pad at (1200, -1100); SM1 openings 270 µm; a 3080 x 2680 step
PITCH, COLUMNS, ROWS, CENTER = 400.0, 6, 5, (-100.0, 0.0)
A1 = (CENTER[0] - (COLUMNS - 1) / 2 * PITCH, (ROWS - 1) / 2 * PITCH)
X1 = (1200.0, -1100.0)
SM1_DIAMETER = 270.0
STEP = (3080.0, 2680.0)


def bump_centres() -> list[tuple[float, float]]:
    """Every bump of the small spec's die, about its centre (µm)."""
    out = [
        (CENTER[0] + (i - (COLUMNS - 1) / 2) * PITCH, CENTER[1] + (j - (ROWS - 1) / 2) * PITCH)
        for i in range(COLUMNS)
        for j in range(ROWS)
    ]
    out.remove(A1)
    return [*out, X1]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[spec.Design, gdstk.Library, Path]:
    folder = tmp_path_factory.mktemp("reticle")
    return build(folder, small_text(), base=folder)


@pytest.mark.parametrize("fmt", ["oas", "gds"])
@pytest.mark.parametrize("mirror", [False, True], ids=["right", "mirrored"])
@pytest.mark.parametrize("mag", [4.0, 5.0])
def test_die_image_is_the_die_scaled_about_its_centre_and_mirrored(
    small: tuple[spec.Design, gdstk.Library, Path],
    tmp_path: Path,
    fmt: str,
    mirror: bool,
    mag: float,
) -> None:
    design, library, combined_path = small
    exposure = Exposure(mirror=mirror, tone="dark", magnification=mag, image="die", plate=SIX_INCH)
    manifest = split.write_flat_split(design, library, tmp_path, fmt, exposure)  # type: ignore[arg-type]
    mask = next(m for m in manifest["masks"] if m["name"] == "SM1")
    read, region = flat_region(tmp_path / mask["file"], design.tech.layer("SM1"))
    sign = -1.0 if mirror else 1.0
    expected = sorted((sign * x * mag, y * mag) for x, y in bump_centres())
    found = sorted(
        ((p.bbox().left + p.bbox().right) / 2000, (p.bbox().bottom + p.bbox().top) / 2000)
        for p in region.each()
    )
    assert len(found) == len(expected) == 30
    for (fx, fy), (ex, ey) in zip(found, expected, strict=True):
        assert fx == pytest.approx(ex, abs=0.01) and fy == pytest.approx(ey, abs=0.01)
    for polygon in region.each():  # a circle of 270 µm drawn as a polygon, magnified
        assert polygon.bbox().width() / 1000 == pytest.approx(SM1_DIAMETER * mag, rel=2e-3)
    # the die cell's shapes, read back independently, transformed by hand: equal exactly
    combined = GdsReader(combined_path)
    die = combined.region("SM1", combined.cell("small_DIE"), flat=True)
    if mirror:
        die = die.transformed(kdb.Trans(kdb.Trans.M90))
    assert (region ^ die.transformed(kdb.ICplxTrans(mag))).is_empty()
    # one die only: nothing outside the magnified die step (no wafer marks, no label polygons)
    half = kdb.Box(
        -round(STEP[0] * mag * 500), -round(STEP[1] * mag * 500),
        round(STEP[0] * mag * 500), round(STEP[1] * mag * 500),
    )  # fmt: skip
    assert (region - kdb.Region(half)).is_empty()
    assert read.cells() == 1
    texts = {
        s.text_string: (s.text_pos.x / 1000, s.text_pos.y / 1000)
        for s in read.top_cell().each_shape(read.find_layer(*design.tech.layer("TEXT")))
    }
    assert texts[mask["label"]] == (0, 0), "the mask's label at the plate's centre"
    a2 = (A1[0] + PITCH, A1[1])  # die labels kept: bump A2, pad IO
    assert texts["A2"] == pytest.approx((sign * a2[0] * mag, a2[1] * mag))
    assert texts["IO"] == pytest.approx((sign * X1[0] * mag, X1[1] * mag))


def test_clear_die_image_is_the_die_step_less_the_openings(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, combined_path = small
    mag = 5.0
    exposure = Exposure(tone="clear", magnification=mag, image="die", plate=SIX_INCH)
    manifest = split.write_flat_split(design, library, tmp_path, exposure=exposure)
    combined = GdsReader(combined_path)
    for mask in manifest["masks"]:
        _, region = flat_region(tmp_path / mask["file"], (mask["layer"], mask["datatype"]))
        openings = combined.region(mask["name"], combined.cell("small_DIE"), True).merged()
        expected_um2 = (STEP[0] * STEP[1] - openings.area() / 1e6) * mag**2
        assert region.area() / 1e6 == pytest.approx(expected_um2, rel=1e-9), mask["name"]
        half = [STEP[0] * mag / 2, STEP[1] * mag / 2]
        assert mask["bounding_box_um"] == [[-half[0], -half[1]], half]


def test_manifest_records_the_die_image(
    small: tuple[spec.Design, gdstk.Library, Path], tmp_path: Path
) -> None:
    design, library, _ = small
    exposure = Exposure(mirror=True, tone="dark", magnification=5, image="die", plate=SIX_INCH)
    manifest = split.write_flat_split(design, library, tmp_path / "die", exposure=exposure)
    assert json.loads((tmp_path / "die" / split.MANIFEST).read_text()) == manifest
    for mask in manifest["masks"]:
        assert mask["exposure"]["image"] == "die"
        assert mask["exposure"]["magnification"] == 5 and mask["exposure"]["mirror"] is True
        assert mask["exposure"]["plate"]["size_um"] == SIX_INCH.size
        counts = mask["counts"]
        assert counts["dies"] == 1 and counts["mark_and_label_polygons"] == 0
        assert counts["polygons"] == counts["die_polygons"] == counts["polygons_per_die"]
        assert mask["alignment_mark"] is None, "the file holds no wafer mark"
        _, region = flat_region(tmp_path / "die" / mask["file"], (mask["layer"], mask["datatype"]))
        assert region.count() == counts["polygons"]
        box = region.bbox()
        assert mask["bounding_box_um"] == [
            [box.left / 1000, box.bottom / 1000],
            [box.right / 1000, box.top / 1000],
        ]
    wafer = split.write_flat_split(design, library, tmp_path / "wafer")
    assert {m["exposure"]["image"] for m in wafer["masks"]} == {"wafer"}


def test_image_from_tech_then_mask_then_command_line(tmp_path: Path) -> None:
    tech = tmp_path / "t.yaml"
    tech.write_text(
        "name: t\nextends: wlcsp-400\nmask_set:\n"
        "  exposure: {image: die, magnification: 5}\n  exposures: {SM2: {image: wafer}}\n"
    )
    text = spec_text().replace("tech: wlcsp-400", f"tech: {tech}")
    text = with_mask_keys(text, "SM1", "exposure: {image: wafer}")
    design = spec.loads(text, base=tmp_path)
    assert export.settings(design, "UBM", None, "positive").image == "die"
    assert export.settings(design, "SM1", None, "positive").image == "wafer"
    assert export.settings(design, "SM2", None, "negative").image == "wafer"
    assert export.settings(design, "SM2", Exposure(image="die"), "negative").image == "die"


def test_an_unknown_image_is_a_located_error(tmp_path: Path) -> None:
    text = with_mask_keys(small_text(), "SM1", "exposure: {image: reticle}")
    line = next(k for k, row in enumerate(text.splitlines(), 1) if row.startswith("  SM1: {"))
    with pytest.raises(SpecError) as caught:
        spec.loads(text, file="s.yaml", base=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"s.yaml:{line}:")
    assert "masks.SM1.exposure.image" in message and "'reticle'" in message
    assert "'wafer'" in message and "'die'" in message
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(small_text())
    result = CliRunner().invoke(
        main, ["build", str(spec_file), "--split", str(tmp_path / "m"), "--flat", "--image", "x"]
    )
    assert result.exit_code == 2 and "--image" in result.output
    assert not (tmp_path / "m").exists()


def test_a_5x_die_fits_a_6_inch_plate_where_the_5x_wafer_does_not(tmp_path: Path) -> None:
    text = with_mask_keys(small_text(), "SM1", "exposure: {plate: {size: 6 inch}}")
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(text)
    runner = CliRunner()

    def flat(folder: str, *extra: str) -> tuple[int, str]:
        result = runner.invoke(
            main, ["build", str(spec_file), "-o", str(tmp_path / f"{folder}.gds"), "--split",
                   str(tmp_path / folder), "--flat", "--mag", "5", "-q", *extra],
        )  # fmt: skip
        return result.exit_code, result.output

    code, output = flat("wafer")
    # the 50 mm wafer at 5x is 250 mm across against 152.4 mm
    assert code == 2, output
    assert "mask SM1: the wafer image at 5x reaches 250 mm across" in output
    assert "152.4 mm" in output and "image: die" in output
    assert not (tmp_path / "wafer").exists()
    code, output = flat("die", "--image", "die")
    assert code == 0, output
    manifest = json.loads((tmp_path / "die" / split.MANIFEST).read_text())
    sm1 = next(m for m in manifest["masks"] if m["name"] == "SM1")
    assert sm1["exposure"]["image"] == "die" and sm1["exposure"]["plate"]["size_um"] == 152_400
    (x0, y0), (x1, y1) = sm1["bounding_box_um"]
    assert max(x1 - x0, y1 - y0) <= 152_400 and (tmp_path / "die" / sm1["file"]).exists()
