"""``build --split``: one GDSII per mask layer and masks.json, checked against the combined GDS
read back with KLayout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import klayout.db as kdb
import pytest
from click.testing import CliRunner

from masklayout import layout, spec, split
from masklayout.cli import main
from tests.helpers import GdsReader
from tests.test_marks_wafer import LAYERS, spec_text


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The combined GDS and the split of the three-mask small spec: (folder, manifest)."""
    folder = tmp_path_factory.mktemp("split")
    design = spec.loads(spec_text(), base=folder)
    built = layout.build(design)
    layout.write(built, folder / "small.gds")
    return folder, split.write_split(design, built, folder / "masks")


def masks_by_name(manifest: dict) -> dict[str, dict]:
    return {mask["name"]: mask for mask in manifest["masks"]}


def test_one_file_per_mask_layer_and_the_manifest(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    assert [m["name"] for m in manifest["masks"]] == list(LAYERS)
    files = sorted(p.name for p in (folder / "masks").iterdir())
    assert files == sorted([*(f"small_{n}.gds" for n in LAYERS), "masks.json"])
    assert json.loads((folder / "masks" / "masks.json").read_text()) == manifest


def test_split_files_xor_equal_to_the_layers_of_the_combined_gds(
    written: tuple[Path, dict],
) -> None:
    folder, manifest = written
    combined = GdsReader(folder / "small.gds")
    for mask in manifest["masks"]:
        part = GdsReader(folder / "masks" / mask["file"])
        xor = combined.region(mask["name"]) ^ part.region(mask["name"])
        assert xor.is_empty(), mask["name"]
        assert not part.region(mask["name"]).is_empty()


def test_a_split_file_holds_only_its_layer_and_its_label(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    for mask in manifest["masks"]:
        part = GdsReader(folder / "masks" / mask["file"])
        drawn = {
            (info.layer, info.datatype)
            for index, info in zip(
                part.layout.layer_indexes(), part.layout.layer_infos(), strict=True
            )
            if not part.top.begin_shapes_rec(index).at_end()
        }
        assert drawn == {(mask["layer"], mask["datatype"]), tuple(part.layers["TEXT"])}
        texts = [
            it.shape().text_string
            for it in part.top.begin_shapes_rec(part.layout.find_layer(*part.layers["TEXT"]))
        ]
        assert texts == [mask["label"]] == [f"small {mask['name']} REV A"]


def children(gds: GdsReader, cell: kdb.Cell) -> set[str]:
    return {gds.layout.cell(index).name for index in cell.each_child_cell()}


def test_a_split_file_keeps_the_wafer_hierarchy(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    combined = GdsReader(folder / "small.gds")
    die = combined.cell("small_DIE")
    for mask in manifest["masks"]:
        part = GdsReader(folder / "masks" / mask["file"])
        assert part.top.name == "small"
        part_die = part.cell("small_DIE")
        arrays = [
            (i.na, i.nb, i.is_regular_array())
            for i in part.top.each_inst()
            if i.cell.name == "small_DIE"
        ]
        assert arrays == [
            (i.na, i.nb, i.is_regular_array())
            for i in combined.top.each_inst()
            if i.cell.name == "small_DIE"
        ]
        kept = children(part, part_die)
        assert kept <= children(combined, die)
        assert bool(kept) == (mask["name"] != "PI1"), "stack cells kept where they draw the layer"
        assert any(regular for _, _, regular in arrays)


def test_manifest_counts_match_the_shapes_read_back(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    for mask in manifest["masks"]:
        part = GdsReader(folder / "masks" / mask["file"])
        counts = mask["counts"]
        die = part.cell("small_DIE")
        assert part.region(mask["name"], die, flat=True).merged().count() == counts["per_die"]
        placed = sum(inst.size() for inst in part.top.each_inst() if inst.cell.name == "small_DIE")
        assert placed == counts["dies"] == manifest["dies"]
        assert counts["on_wafer"] == counts["per_die"] * counts["dies"]
        own = part.region(mask["name"], part.cell(f"small_MASK_{mask['name']}"), flat=True)
        assert own.merged().count() == counts["alignment_marks"] + counts["label_shapes"]
        placed_cells = {i.cell.name for i in part.top.each_inst()}
        assert placed_cells == {"small_DIE", f"small_MASK_{mask['name']}"}
        layer = part.layout.find_layer(mask["layer"], mask["datatype"])
        assert part.top.shapes(layer).is_empty()  # nothing else on the wafer


def test_manifest_sha256_and_size_are_those_of_the_files(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    for mask in manifest["masks"]:
        data = (folder / "masks" / mask["file"]).read_bytes()
        assert mask["sha256"] == hashlib.sha256(data).hexdigest()
        assert mask["bytes"] == len(data)


def test_manifest_bounding_boxes_are_those_of_the_files(written: tuple[Path, dict]) -> None:
    folder, manifest = written
    for mask in manifest["masks"]:
        part = GdsReader(folder / "masks" / mask["file"])
        box = part.region(mask["name"]).bbox().to_dtype(part.layout.dbu)
        (x0, y0), (x1, y1) = mask["bounding_box_um"]
        assert [x0, y0, x1, y1] == pytest.approx(
            [box.left, box.bottom, box.right, box.top], abs=1e-3
        )


def test_film_tone_and_polarity_per_mask(written: tuple[Path, dict]) -> None:
    masks = masks_by_name(written[1])
    expected = {
        "PI1": ("polyimide", "negative", "clear_field", "chrome"),
        "RDL": ("photoresist", "positive", "dark_field", "clear"),
        "PI2": ("polyimide", "negative", "clear_field", "chrome"),
        "UBM": ("photoresist", "positive", "dark_field", "clear"),
        "SM1": ("photoresist", "positive", "dark_field", "clear"),  # the spec's films
        "SM2": ("dry_film", "negative", "clear_field", "chrome"),
        "SM3": ("dry_film", "negative", "clear_field", "chrome"),
    }
    for name, (film, tone, field, drawn) in expected.items():
        mask = masks[name]
        assert (mask["film"], mask["tone"], mask["polarity"], mask["drawn_on_mask"]) == (
            film,
            tone,
            field,
            drawn,
        ), name


def test_critical_dimensions_list_the_opening_sizes(written: tuple[Path, dict]) -> None:
    masks = masks_by_name(written[1])

    def sizes(name: str) -> list[tuple]:
        return [
            (cd["feature"], cd["shape"], cd["size_um"], cd["per_die"])
            for cd in masks[name]["critical_dimensions"]
        ]

    assert sizes("SM1") == [("opening", "circle", 270.0, 30)]  # 29 array sites + X1 on its pad
    assert sizes("SM3") == [("opening", "circle", 380.0, 30)]
    assert sizes("PI1") == [("opening over bond pad", "square", 65.0, 2)]  # 80 less 2 x 7.5
    assert ("trace", "line", 20.0, 2) in sizes("RDL")
    assert ("capture under UBM", "circle", 270.0, 29) in sizes("RDL")  # X1 sits on its pad
    assert masks["SM1"]["min_feature_um"] == 220.0  # the SM1 cross is narrower than its openings
    assert masks["SM2"]["alignment_mark"] == {
        "aligns_to": "SM1",
        "shape": "cross",
        "length_um": 900.0,
        "width_um": 200.0,
    }


def test_the_same_spec_gives_the_same_bytes(tmp_path: Path, written: tuple[Path, dict]) -> None:
    folder, _ = written
    design = spec.loads(spec_text(), base=tmp_path)
    split.write_split(design, layout.build(design), tmp_path / "again")
    for path in (folder / "masks").iterdir():
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_failure_while_writing_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = spec.loads(spec_text(), base=tmp_path)
    built = layout.build(design)
    calls = []

    def failing(data: bytes) -> hashlib._Hash:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return hashlib.new("sha256", data)

    monkeypatch.setattr(split.hashlib, "sha256", failing)
    with pytest.raises(OSError, match="disk full"):
        split.write_split(design, built, tmp_path / "masks")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "small_SM1.gds").write_bytes(b"old")
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        split.write_split(design, built, tmp_path / "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]  # no staging left behind
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["small_SM1.gds"]
    assert (tmp_path / "old" / "small_SM1.gds").read_bytes() == b"old"


def test_a_new_split_directory_gets_the_usual_mode_not_the_temporary_0700(tmp_path: Path) -> None:
    design = spec.loads(spec_text(), base=tmp_path)
    split.write_split(design, layout.build(design), tmp_path / "masks")
    made = tmp_path / "made"
    made.mkdir()
    assert (tmp_path / "masks").stat().st_mode == made.stat().st_mode


def test_a_split_into_an_existing_directory_replaces_its_files(tmp_path: Path) -> None:
    design = spec.loads(spec_text(), base=tmp_path)
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "small_SM1.gds").write_bytes(b"old")
    (tmp_path / "masks" / "notes.txt").write_text("kept")
    split.write_split(design, layout.build(design), tmp_path / "masks")
    assert (tmp_path / "masks" / "small_SM1.gds").read_bytes() != b"old"
    assert (tmp_path / "masks" / "notes.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks"]


def test_cli_build_split_writes_the_mask_set(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(spec_text())
    result = CliRunner().invoke(
        main,
        ["build", str(tmp_path / "small.yaml"), "-o", str(tmp_path / "small.gds"), "--split",
         str(tmp_path / "masks"), "--revision", "B", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["split"] == str(tmp_path / "masks" / "masks.json")
    manifest = json.loads((tmp_path / "masks" / "masks.json").read_text())
    assert [m["label"] for m in manifest["masks"]] == [f"small {n} REV B" for n in LAYERS]


def test_cli_split_needs_the_wafer(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(spec_text())
    result = CliRunner().invoke(
        main, ["build", str(tmp_path / "small.yaml"), "--die-only", "--split", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "--split needs the wafer" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_klayout_reads_every_split_file_without_warnings(
    written: tuple[Path, dict], capfd: pytest.CaptureFixture[str]
) -> None:
    folder, manifest = written
    for mask in manifest["masks"]:
        read = kdb.Layout()
        read.read(str(folder / "masks" / mask["file"]))
        assert read.top_cell().name == "small"
    assert "warning" not in capfd.readouterr().err.lower()
