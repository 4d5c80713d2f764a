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
from tests.helpers import BASE_SPEC, SAMPLES, SPEC_SAMPLES


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
    assert set(pictures) == {"wafer", "die", "bumps", "unrouted"}
    assert pictures["unrouted"] == []
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


@pytest.mark.parametrize("sample", [p.stem for p in SPEC_SAMPLES])
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


JEDEC_ROWS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IOQSXZ"]


def _die_figure(text: str, tmp_path):
    """The die figure of a spec, drawn from its die-only GDS as ``preview`` draws it."""
    from masklayout import layout
    from masklayout.outputs import write_layer_properties

    design = spec.loads(text)
    gds, lyp = tmp_path / "die.gds", tmp_path / "die.lyp"
    layout.write(layout.build(design, die_only=True), gds)
    write_layer_properties(design.tech, lyp)
    return design, preview.die_figure(design, gds, lyp)


def test_the_die_names_every_pad_and_bump_and_marks_the_a1_corner(tmp_path):
    """BASE_SPEC: pads VDD, GND, IO; a 6 x 5 array, rows A-E and columns 1-6, less A1, and X1
    on pad IO. Die 3000 x 2600 um: A1 (skipped, so JEDEC's top left) is the corner (-1500, 1300);
    the triangle there is drawn in A1_COLOR."""
    _, fig = _die_figure(BASE_SPEC, tmp_path)
    (ax,) = [a for a in fig.axes if a.texts]
    names = {t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label ")}
    bumps = {f"{row}{col}" for row in "ABCDE" for col in range(1, 7)} - {"A1"} | {"X1"}
    assert names == {"VDD", "GND", "IO"} | bumps
    assert all(3 <= t.get_fontsize() <= 7 for t in ax.texts if t.get_text() in names)
    (corner,) = [p for p in ax.patches if p.get_gid() == "A1 corner"]
    xy = corner.get_xy()
    assert (-1500, 1300) in {tuple(np.round(v, 6)) for v in xy}
    inner = (-1500 + 0.1 * 156, 1300 - 0.6 * 156)  # inside the 156 um (6 % of 2600) triangle
    assert corner.get_path().contains_point(inner)
    png = tmp_path / "die.png"
    fig.savefig(png, format="png", dpi=preview.DPI, facecolor="white")
    pixels = _pixels(png)
    x, y = ax.transData.transform(inner)
    red = int(preview.A1_COLOR.lstrip("#"), 16)
    pixel = pixels[pixels.shape[0] - int(round(y)), int(round(x))]
    assert np.abs(pixel - [(red >> 16) & 255, (red >> 8) & 255, red & 255]).max() <= 12


def test_a_die_of_900_bumps_names_rows_and_columns_on_the_margins_instead(tmp_path):
    """flow_c1's 5 x 5 array grown to 30 x 30 at 400 um: rows A..Y (20 JEDEC letters), then
    AA..AK; columns 1..30; no bump named on the die."""
    text = (SAMPLES / "flow_c1_two_masks.yaml").read_text()
    text = text.replace("count: [5, 5]", "count: [30, 30]")
    text = text.replace("die_step: [2480, 2480]", "die_step: [12480, 12480]")
    _, fig = _die_figure(text, tmp_path)
    (ax,) = [a for a in fig.axes if a.texts]
    gids = [t.get_gid() or "" for t in ax.texts]
    assert not [g for g in gids if g.startswith("label ")]
    rows = JEDEC_ROWS + [f"A{c}" for c in JEDEC_ROWS[:10]]
    assert [g[4:] for g in gids if g.startswith("row ")] == rows
    assert [g[7:] for g in gids if g.startswith("column ")] == [str(c) for c in range(1, 31)]


def test_a_large_die_names_its_a1_corner_beside_it_clear_of_the_margin_names(tmp_path):
    """The 900-bump die (12480 um step): the triangle is too small to hold the name, so "A1" is
    written just outside the top-left corner (-w/2, h/2), in A1_COLOR, overlapping no row or
    column name and inside the picture."""
    text = (SAMPLES / "flow_c1_two_masks.yaml").read_text()
    text = text.replace("count: [5, 5]", "count: [30, 30]")
    text = text.replace("die_step: [2480, 2480]", "die_step: [12480, 12480]")
    design, fig = _die_figure(text, tmp_path)
    (ax,) = [a for a in fig.axes if a.texts]
    (label,) = [t for t in ax.texts if t.get_gid() == "A1 label"]
    assert label.get_text() == "A1" and label.get_visible() and label.get_fontsize() >= 6
    assert label.get_color() == preview.A1_COLOR
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = label.get_window_extent(renderer)
    w, h = design.die_size
    corner = ax.transData.transform((-w / 2, h / 2))
    assert box.x1 <= corner[0] and box.y0 >= corner[1]  # up and left of the corner, off the die
    assert np.hypot(box.x1 - corner[0], box.y0 - corner[1]) < 10  # beside it (pixels)
    margin = [t for t in ax.texts if (t.get_gid() or "").startswith(("row ", "column "))]
    assert margin and not [t for t in margin if t.get_window_extent(renderer).overlaps(box)]
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)


def test_the_base_die_names_its_a1_corner_beside_it_clear_of_the_bump_names(tmp_path):
    """BASE_SPEC (3000 x 2600 um, A1 skipped: JEDEC's top left, the corner (-1500, 1300))."""
    _, fig = _die_figure(BASE_SPEC, tmp_path)
    (ax,) = [a for a in fig.axes if a.texts]
    (label,) = [t for t in ax.texts if t.get_gid() == "A1 label"]
    assert label.get_text() == "A1"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = label.get_window_extent(renderer)
    x, y = ax.transData.transform((-1500, 1300))
    assert np.hypot((box.x0 + box.x1) / 2 - x, (box.y0 + box.y1) / 2 - y) < 30  # pixels
    names = [t for t in ax.texts if (t.get_gid() or "").startswith("label ")]
    assert names and not [t for t in names if t.get_window_extent(renderer).overlaps(box)]


def test_the_die_draws_each_keepout_where_the_spec_puts_it(tmp_path):
    """Keep-outs are drawn in no layer of the GDS: the die picture outlines them, in their own
    colour, and names them in the legend."""
    keepouts = (
        "  keepout:\n"
        "    - {rect: [[-300, -900], [300, -700]]}\n"
        "    - {polygon: [[1000, 0], [1400, 0], [1400, 400]], layers: [RDL]}\n"
    )
    _, fig = _die_figure(BASE_SPEC.replace("  rdl:\n", keepouts + "  rdl:\n", 1), tmp_path)
    (ax,) = [a for a in fig.axes if a.texts]
    drawn = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("keepout")}
    assert set(drawn) == {"keepout 0", "keepout 1"}
    corners = {tuple(np.round(v, 6)) for v in drawn["keepout 0"].get_xy()}
    assert corners >= {(-300, -900), (300, -900), (300, -700), (-300, -700)}
    assert drawn["keepout 1"].get_path().contains_point((1300, 100))  # inside the triangle
    assert not drawn["keepout 1"].get_path().contains_point((1100, 300))  # past its hypotenuse
    assert "keep-out" in [t.get_text() for t in ax.get_legend().get_texts()]
    png = tmp_path / "die.png"
    fig.savefig(png, format="png", dpi=preview.DPI, facecolor="white")
    assert _has_colour(_pixels(png), preview.KEEPOUT_COLOR, tolerance=20)
