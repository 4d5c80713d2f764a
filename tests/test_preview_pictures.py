"""The pictures of `masklayout preview`: wafer map, die (KLayout) and stack close-ups."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from masklayout import preview, spec
from masklayout.cli import main
from masklayout.outputs import LAYER_STYLES
from tests.helpers import BASE_SPEC, SAMPLES


def _pixels(path) -> np.ndarray:
    """RGB pixels (h × w × 3) as 0-255 integers."""
    return np.rint(imread(path)[..., :3] * 255).astype(int)


def _has_colour(
    pixels: np.ndarray, colour: int | str, tolerance: int = 12, least: int = 50
) -> bool:
    """At least ``least`` pixels within ``tolerance`` of ``colour`` in every channel."""
    value = int(colour.lstrip("#"), 16) if isinstance(colour, str) else colour
    rgb = np.array([(value >> 16) & 255, (value >> 8) & 255, value & 255])
    return int((np.abs(pixels - rgb).max(axis=-1) <= tolerance).sum()) >= least


def _non_white_share(pixels: np.ndarray) -> float:
    return float((pixels.min(axis=-1) < 240).mean())


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """The base spec drawn by the CLI from stdin, with the JSON list of files."""
    out = tmp_path_factory.mktemp("preview")
    result = CliRunner().invoke(main, ["preview", "-", "-o", str(out), "--json"], input=BASE_SPEC)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_preview_writes_the_wafer_map_the_die_and_one_closeup_per_stack(pictures):
    assert set(pictures) == {"wafer", "die", "bumps"}
    assert list(pictures["bumps"]) == ["std"]
    for path in (pictures["wafer"], pictures["die"], pictures["bumps"]["std"]):
        assert path.endswith(".png")
        height, width, _ = imread(path).shape
        assert width >= 1000 and height >= 800


def test_the_wafer_map_shows_full_and_partial_dies_in_their_colours(pictures):
    pixels = _pixels(pictures["wafer"])
    assert _has_colour(pixels, preview.FULL_COLOR, least=10_000)
    assert _has_colour(pixels, preview.PARTIAL_COLOR, least=1_000)
    assert 0.2 < _non_white_share(pixels) < 0.9


def test_the_die_is_drawn_in_the_layer_property_colours(pictures):
    pixels = _pixels(pictures["die"])
    for layer in ("SM1", "SM2", "PI1"):
        assert _has_colour(pixels, LAYER_STYLES[layer].color, tolerance=40), layer
    assert 0.05 < _non_white_share(pixels) < 0.9


def test_the_closeup_draws_every_shape_of_the_stack_in_its_layer_colour(pictures):
    pixels = _pixels(pictures["bumps"]["std"])
    for layer in ("UBM", "PI2", "SM1", "SM2"):
        assert _has_colour(pixels, LAYER_STYLES[layer].color), layer
    assert not _has_colour(pixels, LAYER_STYLES["SM3"].color)  # the stack has no third mask


def test_a_three_mask_stack_closeup_shows_the_third_mask(tmp_path):
    design = spec.load(SAMPLES / "three_masks_300mm.yaml")
    path = preview.bump_closeup(design, "tall", tmp_path / "tall.png")
    assert _has_colour(_pixels(path), LAYER_STYLES["SM3"].color)


@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.yaml")))
def test_every_sample_draws_a_wafer_map(sample, tmp_path):
    design = spec.load(SAMPLES / f"{sample}.yaml")
    from masklayout.geometry.wafer import place_dies

    path = preview.wafer_map(design, place_dies(design.spec.wafer), tmp_path / "w.png")
    pixels = _pixels(path)
    assert _has_colour(pixels, preview.FULL_COLOR, least=1_000)
    assert 0.1 < _non_white_share(pixels) < 0.95


def test_a_bad_spec_draws_nothing(tmp_path):
    result = CliRunner().invoke(
        main, ["preview", "-", "-o", str(tmp_path / "out")], input=BASE_SPEC.replace("std:", "sdt:")
    )
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()
