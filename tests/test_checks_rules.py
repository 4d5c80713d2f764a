"""Every rule of the deck catches one known violation, built in the test, at the right place;
clean layouts and the samples pass.

Geometric rules run on small GDS files written here with gdstk (a die cell placed twice, a bump
cell placed twice in it); the film, thickness and ball rules on specs."""

from __future__ import annotations

import math
from pathlib import Path

import gdstk
import pytest
from scipy.optimize import brentq

from masklayout import spec
from masklayout.checks import check_design, check_gds
from masklayout.process import run
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC, SAMPLES, SPEC_SAMPLES
from tests.process_specs import circle_area, exposed_width

TECH = load_tech("wlcsp-400")
DIE_ORIGIN = (-1540.0, 500.0)  # the first die's placement on the wafer
DIE_STEP = 3080.0


def circle(layer: str, diameter: float, at: tuple[float, float] = (0, 0)) -> gdstk.Polygon:
    tag = TECH.layer(layer)
    return gdstk.ellipse(at, diameter / 2, tolerance=0.01, layer=tag[0], datatype=tag[1])


def box(layer: str, at: tuple[float, float], size: tuple[float, float]) -> gdstk.Polygon:
    (x, y), (w, h), tag = at, size, TECH.layer(layer)
    return gdstk.rectangle((x - w / 2, y - h / 2), (x + w / 2, y + h / 2), *tag)


def base_die() -> list[gdstk.Polygon]:
    """A clean die: a routed pad (PAD, PI1, RDL capture and trace) to the first of two bumps."""
    rdl = TECH.layer("RDL")
    trace = gdstk.FlexPath([(-1000, 1000), (0, 1000), (0, 0)], 20, layer=rdl[0], datatype=rdl[1])
    return [
        box("DIE", (0, 0), (3000, 3000)),
        box("PAD", (-1000, 1000), (80, 80)),
        box("PI1", (-1000, 1000), (60, 60)),
        box("RDL", (-1000, 1000), (80, 80)),
        *trace.to_polygons(),
        circle("RDL", 270),
    ]


def base_bump() -> list[gdstk.Polygon]:
    return [circle("UBM", 250), circle("PI2", 220), circle("SM1", 270), circle("SM2", 350)]


def write_gds(
    path: Path, die_extra: list[gdstk.Polygon] = (), bump: list[gdstk.Polygon] | None = None
) -> Path:
    """TOP places DIE twice (DIE_STEP apart from DIE_ORIGIN); DIE places BUMP at (0, 0) and
    (400, 0). ``die_extra`` adds shapes to the die cell; ``bump`` replaces the bump's."""
    library = gdstk.Library(unit=1e-6, precision=1e-9)
    bump_cell = library.new_cell("BUMP").add(*(bump if bump is not None else base_bump()))
    die = library.new_cell("DIE").add(*base_die(), *die_extra)
    die.add(gdstk.Reference(bump_cell, (0, 0), columns=2, rows=1, spacing=(400, 0)))
    top = library.new_cell("TOP")
    top.add(gdstk.Reference(die, DIE_ORIGIN, columns=2, rows=1, spacing=(DIE_STEP, 0)))
    library.write_gds(path)
    return path


def violated(report) -> dict[str, int]:
    return {r.name: r.count for r in report.results if r.count}


def test_clean_gds_passes_and_names_what_it_cannot_check(tmp_path):
    report = check_gds(write_gds(tmp_path / "clean.gds"), TECH)
    assert violated(report) == {}
    skipped = {r.name for r in report.results if r.skipped}
    assert skipped == {
        "SM3.EN.SM2", "SM.AR:SM1", "SM.AR:SM2", "SM.PRINT:SM1", "SM.PRINT:SM2", "BALL.W", "BALL.GAP",
        "NET.OPEN", "NET.SHORT", "NET.WRONG",
    }  # fmt: skip
    assert not report.failed()


# (rule, shapes added to the die cell, where the violation is in the die cell, its value)
DIE_CASES = [
    ("PI1.W", [box("PAD", (1000, -1000), (80, 80)), box("PI1", (1000, -1000), (30, 30))], (1000, -1000), 30),
    ("PI1.S", [box("PAD", (1000, -1000), (200, 80)), box("PI1", (950, -1000), (40, 40)), box("PI1", (1005, -1000), (40, 40))], (977.5, -1000), 15),
    ("PAD.EN.PI1", [box("PAD", (1000, -1000), (70, 70)), box("PI1", (1000, -1000), (60, 60))], (1000, -1000), 5),
    ("PAD.EN.PI1", [box("PAD", (1000, -1000), (80, 80)), box("PI1", (1030, -1000), (60, 60))], (1050, -1000), -20),
    ("RDL.W", [box("RDL", (1000, -1300), (400, 8))], (1000, -1300), 8),
    ("RDL.S", [box("RDL", (1000, -1300), (400, 20)), box("RDL", (1000, -1274), (400, 20))], (1000, -1287), 6),
    ("RDL.EN.PI1", [box("PAD", (1000, -1000), (80, 80)), box("PI1", (1000, -1000), (60, 60)), box("RDL", (1000, -1000), (66, 66))], (1000, -1000), 3),
    ("PI2.W", [circle("UBM", 250, (-1000, -1000)), circle("PI2", 150, (-1000, -1000))], (-1000, -1000), 150),
    ("UBM.W", [circle("UBM", 210, (-1000, -1000))], (-1000, -1000), 210),
    ("UBM.EN.PI2", [circle("UBM", 250, (-1000, -1000)), circle("PI2", 240, (-1000, -1000))], (-1000, -1000), 5),
    ("RDL.EN.UBM", [circle("RDL", 256, (-1000, -1000)), circle("UBM", 250, (-1000, -1000))], (-1000, -1000), 3),
    ("PI1.S.UBM", [circle("UBM", 250, (-1000, -1000)), box("PAD", (-1000, -840), (80, 80)), box("PI1", (-1000, -840), (60, 60))], (-1000, -872.5), 5),
    ("UBM.EDGE", [circle("UBM", 250, (1348, -1000))], (1348, -1000), 152),
    ("BUMP.EDGE", [circle("UBM", 330, (1320, -1000))], (1485, -1000), 15),
    ("BUMP.EDGE", [circle("UBM", 340, (1345, -1000))], (1500, -1000), -15),
    ("RDL.EDGE", [box("RDL", (1400, -1300), (180, 20))], (1490, -1300), 10),
    ("RDL.EDGE", [box("RDL", (1400, -1300), (240, 20))], (1500, -1300), -20),
    ("SM2.EN.SM1", [circle("SM1", 300, (-1000, -1000)), circle("SM2", 310, (-1000, -1000))], (-1000, -1000), 5),
    ("SM3.EN.SM2", [circle("SM2", 300, (-1000, -1000)), circle("SM3", 340, (-970, -1000))], (-1000, -1000), -10),
    ("SM.WEB:SM2", [circle("SM2", 200, (-1000, -1000)), circle("SM2", 200, (-760, -1000))], (-880, -1000), 40),
    ("SM.WEB:SM2", [circle("SM2", 200, (-1000, -1000)), circle("SM2", 200, (-820, -1000))], (-910, -1000), -20),
    ("BUMP.PITCH", [circle("UBM", 250, (-1000, -1000)), circle("UBM", 250, (-610, -1000))], (-805, -1000), 390),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "shapes", "where", "value"), DIE_CASES)
def test_one_violation_in_the_die_is_caught_where_it_is(tmp_path, rule, shapes, where, value):
    report = check_gds(write_gds(tmp_path / "bad.gds", shapes), TECH)
    assert violated(report) == {rule: 1}
    (v,) = report.result(rule).violations
    assert v.cell == "DIE" and v.placements == 2
    assert v.value == pytest.approx(value, abs=0.1)
    # the marker lies on the defect (on a shape of at most 170 um radius around it)
    assert math.hypot(v.at[0] - where[0], v.at[1] - where[1]) <= 180
    assert v.wafer_at == pytest.approx((v.at[0] + DIE_ORIGIN[0], v.at[1] + DIE_ORIGIN[1]))
    assert report.result(rule).on_wafer == 2
    assert report.failed()


def test_a_violation_in_the_bump_cell_counts_once_with_all_its_placements(tmp_path):
    bump = [circle("UBM", 250), circle("PI2", 240), circle("SM1", 270), circle("SM2", 350)]
    report = check_gds(write_gds(tmp_path / "bad.gds", bump=bump), TECH)
    assert violated(report) == {"UBM.EN.PI2": 1}
    result = report.result("UBM.EN.PI2")
    assert result.by_cell == {"BUMP": (1, 4)}
    assert result.on_wafer == 4
    assert result.worst == pytest.approx(5, abs=0.05)


def test_a_circle_drawn_at_the_rule_passes(tmp_path):
    """Flats of a drawn circle sit inside the nominal one: 215 um passes UBM.W 215, and an
    enclosure drawn at exactly 15 passes UBM.EN.PI2 15."""
    shapes = [circle("UBM", 215, (-1000, -1000)), circle("UBM", 250, (1000, -1000)), circle("PI2", 220, (1000, -1000))]  # fmt: skip
    assert violated(check_gds(write_gds(tmp_path / "edge.gds", shapes), TECH)) == {}


def test_an_on_pad_ubm_needs_no_rdl_but_a_pi2_needs_its_ubm(tmp_path):
    on_pad = [box("PAD", (-1000, -1000), (240, 240)), circle("UBM", 250, (-1000, -1000))]
    assert violated(check_gds(write_gds(tmp_path / "pad.gds", on_pad), TECH)) == {}
    stray = [circle("PI2", 220, (-1000, -1000))]
    report = check_gds(write_gds(tmp_path / "stray.gds", stray), TECH)
    assert violated(report) == {"UBM.EN.PI2": 1}
    assert report.result("UBM.EN.PI2").worst < 0


def test_marks_outside_the_dies_are_not_bump_geometry(tmp_path):
    """A small alignment mark on SM1 in the top cell breaks no web, width or aspect rule."""
    path = write_gds(tmp_path / "marks.gds")
    library = gdstk.read_gds(path)
    top = next(c for c in library.cells if c.name == "TOP")
    top.add(box("SM1", (40000, 0), (5, 100)), box("UBM", (40000, 0), (5, 100)))
    library.write_gds(path)
    assert violated(check_gds(path, TECH)) == {}


# --------------------------------------------------------------------------- from a spec
def design(*replacements: tuple[str, str], text: str = BASE_SPEC) -> spec.Design:
    for old, new in replacements:
        assert old in text, f"test bug: {old!r} not in the spec"
        text = text.replace(old, new, 1)
    return spec.loads(text)


def test_base_spec_is_clean():
    report = check_design(design())
    assert violated(report) == {}
    assert report.result("BALL.W").skipped is None


@pytest.mark.parametrize("sample", [p.name for p in SPEC_SAMPLES], ids=lambda name: name)
def test_samples_are_clean(sample):
    report = check_design(spec.load(SAMPLES / sample))
    assert violated(report) == {}, [r for r in report.results if r.count]


def test_web_depends_on_the_film():
    """SM2 360 at 400 pitch leaves 40 um of resist: enough for photoresist (30), not for dry
    film (50); the violation is in the die cell, once per pair of neighbouring bumps."""
    wide = ("{mask: SM2, diameter: 350}", "{mask: SM2, diameter: 360}")
    photo = design(wide, ("SM2: {thickness: 100, film: dry_film", "SM2: {thickness: 100, film: photoresist"))  # fmt: skip
    assert "SM.WEB:SM2" not in violated(check_design(photo))
    result = check_design(design(wide)).result("SM.WEB:SM2")
    assert result.limit == 50 and result.worst == pytest.approx(40, abs=0.05)
    assert set(result.by_cell) == {"small_DIE"}


def test_aspect_ratio_is_caught_in_the_stack_cell():
    report = check_design(design(("SM1: {thickness: 60", "SM1: {thickness: 280")))
    result = report.result("SM.AR:SM1")
    (v,) = result.violations
    assert v.cell == "small_STACK_std" and v.at == pytest.approx((0, 0), abs=1)
    assert v.value == pytest.approx(280 / 270, abs=0.01)
    assert v.placements == report.result("SM.AR:SM1").on_wafer > 1000


def test_printability_is_a_warning():
    report = check_design(design(("SM1: {thickness: 60", "SM1: {thickness: 110")))
    result = report.result("SM.PRINT:SM1")
    assert result.severity == "warning" and result.count == 1
    assert result.worst == pytest.approx(270 / (4 * 110), abs=0.01)
    assert report.errors == 0 and not report.failed() and report.failed(strict=True)


PAIR_SPEC = """\
masklayout: 1
name: pair
tech: wlcsp-400
wafer: {diameter: 100 mm, die_step: [3080, 2680], scribe: 80}
die:
  bumps:
    - {name: A1, at: [-150, 0]}
    - {name: A2, at: [150, 0]}
stacks:
  std:
    ubm: {shape: circle, diameter: 250}
    pi2: {diameter: 220}
    openings:
      - {mask: SM1, diameter: 270}
      - {mask: SM2, diameter: 350}
masks:
  SM1: {thickness: 50, film: photoresist}
  SM2: {thickness: 100, film: dry_film}
process:
  - {step: form_mask, mask: SM1}
  - {step: deposit, into: SM1, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: form_mask, mask: SM2}
  - {step: deposit, into: SM2, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: strip, masks: [SM1, SM2]}
"""


@pytest.mark.parametrize("thickness", [100, 250])
def test_bridging_balls_are_caught_between_the_two_bumps(thickness):
    pair = design(("SM2: {thickness: 100", f"SM2: {{thickness: {thickness}"), text=PAIR_SPEC)
    stack = run(pair).stacks[0]
    ball = stack.ball
    if thickness == 250:  # SM1's hole full, the ball a cap pinned on its top edge (docs/model.md)
        w = math.sqrt(circle_area(270) / math.pi)
        hc = brentq(
            lambda h: (
                math.pi * w * w * 50 + math.pi * h * (3 * w * w + h * h) / 6 - ball.volume_um3
            ),
            1.0,
            5 * w,
        )
        # less the small void at the wall's foot (UBM 250 in SM1 270), which this leaves out
        assert ball.diameter_um == pytest.approx((w * w + hc * hc) / hc, rel=2e-3)
    report = check_design(pair)
    (v,) = report.result("BALL.GAP").violations
    assert v.cell == "pair_DIE" and v.at == pytest.approx((0, 0), abs=5)
    # neighbours bridge while molten, by what of the melt stands above the masks at the peak:
    # the sphere's equator if above their top, else its chord there (none below it); the
    # cooled balls, free once stripped, are paired whole
    widths = [ball.diameter_um]
    peaks = [step.peak for step in stack.steps if step.peak is not None]
    for peak, plane in zip(peaks, (50.0, 50.0 + thickness), strict=True):  # masks' tops
        widths.append(exposed_width(peak.shape, plane))
    widths = [w for w in widths if not math.isnan(w)]
    assert v.value == pytest.approx(300 - max(widths), abs=0.1)


def test_a_small_ball_is_caught_in_its_stack_cell():
    report = check_design(design(("SM2: {thickness: 100", "SM2: {thickness: 40"), ("[-150, 0]", "[-200, 0]"), ("[150, 0]", "[200, 0]"), text=PAIR_SPEC))  # fmt: skip
    assert violated(report) == {"BALL.W": 1}
    (v,) = report.result("BALL.W").violations
    assert v.cell == "pair_STACK_std" and v.value == pytest.approx(250, abs=0.1)


def test_a_spec_without_a_flow_skips_the_ball_rules():
    text = PAIR_SPEC[: PAIR_SPEC.index("process:")]
    report = check_design(spec.loads(text))
    assert report.result("BALL.W").skipped == "no process flow in the spec"


def pi1_above(gap: float) -> list[gdstk.Polygon]:
    """A bump at (-1000, -1000) (UBM 250 over PI2 220) and a 60 um PI1 in an 80 um pad above
    it, ``gap`` from the PI2 (and gap - 15 from the UBM)."""
    y = -1000 + 110 + gap + 30
    return [
        circle("UBM", 250, (-1000, -1000)),
        circle("PI2", 220, (-1000, -1000)),
        box("PAD", (-1000, y), (80, 80)),
        box("PI1", (-1000, y), (60, 60)),
    ]


def test_pi1_to_pi2_spacing_is_caught_below_25_um(tmp_path):
    """At 20 um the PI1 is also 5 um from the UBM (which encloses the PI2 by 15): both rules
    fire, PI1.S.PI2 with the 20 um it measures, between the two openings."""
    report = check_gds(write_gds(tmp_path / "bad.gds", pi1_above(20)), TECH)
    assert violated(report) == {"PI1.S.PI2": 1, "PI1.S.UBM": 1}
    (v,) = report.result("PI1.S.PI2").violations
    assert v.value == pytest.approx(20, abs=0.1)
    assert v.at == pytest.approx((-1000, -1000 + 110 + 10), abs=31)


def test_edge_and_pi1_to_pi2_rules_pass_at_the_rule(tmp_path):
    """A 330 um UBM whose edge is 25 um inside the die edge, an RDL bar 25 um inside it and a
    PI1 25 um from a PI2 break no rule."""
    shapes = [
        circle("UBM", 330, (1500 - 25 - 165, -1000)),
        box("RDL", (1500 - 25 - 90, -1300), (180, 20)),
        *pi1_above(25),
    ]
    assert violated(check_gds(write_gds(tmp_path / "at.gds", shapes), TECH)) == {}
