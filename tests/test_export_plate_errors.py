"""An image that does not fit its plate is located at the key that set the plate or the
magnification (the spec's mask, the tech's common or per-mask exposure, or --mag by name):
exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from masklayout.cli import main
from tests.test_export_flat import small_text, with_mask_keys

PLATE = "{size: 6 inch}"  # 152.4 mm: the 50 mm wafer fits at 1x, not at 5x (250 mm)


def _flat(tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(text)
    out = tmp_path / "small.gds"
    result = CliRunner().invoke(
        main, ["build", str(spec_file), "-o", str(out), "--split", str(tmp_path / "m"), "--flat",
               "-q", *extra],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "m").exists() and not out.exists()
    assert not list(tmp_path.glob("small*.lyp"))
    return result.exit_code, result.output


def _at(text: str, line_start: str, key: str) -> tuple[int, int]:
    """(line, column), 1-based, of ``key`` on the line starting ``line_start``."""
    k, row = next((k, r) for k, r in enumerate(text.splitlines(), 1) if r.startswith(line_start))
    return k, row.index(key) + 1


def _tech(tmp_path: Path, mask_set: str) -> tuple[Path, str]:
    tech = tmp_path / "t.yaml"
    tech.write_text(f"name: t\nextends: wlcsp-400\nmask_set:\n{mask_set}")
    return tech, small_text().replace("tech: wlcsp-400", f"tech: {tech}")


def test_a_plate_too_small_in_the_spec_is_located_at_the_masks_plate(tmp_path: Path) -> None:
    text = with_mask_keys(small_text(), "SM1", f"exposure: {{magnification: 5, plate: {PLATE}}}")
    _, output = _flat(tmp_path, text)
    line, col = _at(text, "  SM1: {", "plate:")
    assert f"small.yaml:{line}:{col}: masks.SM1.exposure.plate: mask SM1: " in output
    assert "250 mm across" in output and "152.4 mm" in output


def test_a_plate_too_small_in_the_techs_common_exposure_is_located_there(tmp_path: Path) -> None:
    tech, text = _tech(tmp_path, f"  exposure: {{plate: {PLATE}, magnification: 5}}\n")
    _, output = _flat(tmp_path, text)
    line, col = _at(tech.read_text(), "  exposure:", "plate:")
    assert f"t.yaml:{line}:{col}: mask_set.exposure.plate: mask " in output


def test_a_magnification_in_the_techs_per_mask_exposure_is_located_there(tmp_path: Path) -> None:
    tech, text = _tech(
        tmp_path, f"  exposure: {{plate: {PLATE}}}\n  exposures:\n    SM2: {{magnification: 5}}\n"
    )
    _, output = _flat(tmp_path, text)
    line, col = _at(tech.read_text(), "    SM2:", "magnification:")
    assert f"t.yaml:{line}:{col}: mask_set.exposures.SM2.magnification: mask SM2: " in output


def test_a_magnification_from_the_command_line_is_named_by_its_option(tmp_path: Path) -> None:
    text = with_mask_keys(small_text(), "SM1", f"exposure: {{plate: {PLATE}}}")
    _, output = _flat(tmp_path, text, "--mag", "5")
    line, col = _at(text, "  SM1: {", "plate:")
    assert f"small.yaml:{line}:{col}: masks.SM1.exposure.plate: mask SM1: " in output
    assert "magnification 5 from --mag" in output
