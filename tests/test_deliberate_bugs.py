"""Behaviours that a sample of deliberate bugs (issue 9) showed no test pinned down. Each test
names the bug it kills; the expected values come from hand formulas and the phase diagram, not
from the code under test."""

from __future__ import annotations

import re
from pathlib import Path

import klayout.db as kdb
import numpy as np
import pytest

from masklayout import layout, spec
from masklayout.checks import check_design
from masklayout.process import run
from masklayout.process.solder import metal_fraction, solidus
from masklayout.source import SpecError
from masklayout.tech import Solder, load_tech
from tests.helpers import BASE_SPEC, GdsReader
from tests.process_specs import design, spec_text

TECH = load_tech("wlcsp-400")


# --------------------------------------------------------------------------- solder physics
def test_paste_metal_fraction_weighs_the_flux_by_its_own_density():
    """Bug: flux density used inverted (invisible at 1.0 g/cm³, so use 1.1)."""
    paste = Solder(alloy="SAC305", form="paste", metal_wt=90, flux_density=1.1)
    metal_cm3_per_g, flux_cm3_per_g = 0.90 / 7.38, 0.10 / 1.1
    expected = metal_cm3_per_g / (metal_cm3_per_g + flux_cm3_per_g)
    assert metal_fraction(paste, TECH.alloys["SAC305"]) == pytest.approx(expected, rel=1e-12)


def test_a_sn_pb_mix_of_two_high_solidus_alloys_starts_melting_at_the_eutectic():
    """Bug: the Sn-Pb eutectic solidus dropped. Pb95Sn5 (solidus 308) and Sn99.3Cu0.7 (227) mixed
    half and half by mass hold 52 wt% Sn of their Sn + Pb: inside the eutectic line (18.3-97.8
    wt% Sn), so the mix starts to melt at 183 °C, below both alloys' own solidus."""
    alloys = [TECH.alloys["Pb95Sn5"], TECH.alloys["Sn99.3Cu0.7"]]
    sn = 0.5 * 5 + 0.5 * 99.3
    pb = 0.5 * 95
    assert 18.3 < 100 * sn / (sn + pb) < 97.8
    assert solidus(np.array([[1.0, 1.0]]), alloys)[0] == pytest.approx(183.0)
    # below the eutectic line (almost pure Pb95Sn5) melting starts on the (Pb) solidus, here
    # between Pb95Sn5's 308 °C and Pb90Sn10's 268 °C (its 0.07 wt% Cu counted with the Pb)
    sn, rest = 5 + 0.001 * 99.3, 95 + 0.001 * 0.7
    x = 100 * sn / (sn + rest)
    assert solidus(np.array([[1.0, 0.001]]), alloys)[0] == pytest.approx(308 - 40 * (x - 5) / 5)


POWDER_FLOW = [
    "{step: form_mask, mask: SM1}",
    "{step: deposit, into: SM1, solder: SAC305-powder}",
    "{step: reflow, peak: 245}",
    "{step: strip, masks: [SM1]}",
]


def test_wafer_totals_weigh_only_the_metal_of_a_powder_bed():
    """Bug: a powder bed's voids weighed as flux in the wafer totals."""
    result = run(design(POWDER_FLOW, sm1=300, t1=100))
    solder = TECH.solders["SAC305-powder"]
    assert solder.packing is not None
    bed_mm3 = result.wafer.solder_mm3["SAC305-powder"]
    metal_g = bed_mm3 * solder.packing * TECH.alloys["SAC305"].density * 1e-3  # mm³ -> cm³
    assert result.wafer.solder_g["SAC305-powder"] == pytest.approx(metal_g, rel=1e-9)
    assert result.wafer.metal_mm3 == pytest.approx(bed_mm3 * solder.packing, rel=1e-9)


# --------------------------------------------------------------------------- the spec
def test_an_on_pad_bump_must_lie_over_its_pad():
    """Bug: on_pad accepted a bump a whole pad size off. IO is 260 x 260 at (1200, -1100):
    a bump 195 um right of its centre is off the pad."""
    text = BASE_SPEC.replace("{name: X1, stack: std, on_pad: IO}", "{name: X1, stack: std, on_pad: IO, at: [1395, -1100]}")  # fmt: skip
    with pytest.raises(SpecError, match=r"die\.bumps\[1\]\.at: bump at .* is not over pad 'IO'"):
        spec.loads(text, "spec.yaml")
    inside = text.replace("at: [1395, -1100]", "at: [1320, -1100]")  # 120 < 130: on the pad
    assert spec.loads(inside, "spec.yaml").site("X1").x == 1320


def test_an_opening_must_contain_the_one_below_not_only_be_wider():
    """Bug: the containment check of stacked openings removed. A 300 um square's corners reach
    150 * sqrt(2) = 212 um from the centre: outside a 400 um circle (radius 200) although 400 >
    300; inside a 440 um one."""
    text = spec_text(sm1=300, sm2=400).replace(
        "      - {mask: SM1, diameter: 300}", "      - {mask: SM1, diameter: 300, shape: square}"
    )
    with pytest.raises(SpecError, match=r"stacks\.std\.openings\[1\]\.diameter: circle 400 must be larger than and contain"):  # fmt: skip
        spec.loads(text, "spec.yaml")
    spec.loads(text.replace("diameter: 400", "diameter: 440"), "spec.yaml")


# --------------------------------------------------------------------------- layout and checks
def test_the_pad_capture_follows_the_techs_rdl_enclosure_rule(tmp_path: Path):
    """Bug: the RDL capture pad ignored RDL.EN.PI1 (drawn with the built-in 10 um). With the rule
    at 16 um the capture is the PI1 opening (80 - 2 x 7.5 = 65 um) grown by 16 on every side."""
    tech = tmp_path / "wide.yaml"
    tech.write_text(
        "name: wide\nextends: wlcsp-400\nrules:\n"
        "  RDL.EN.PI1: {check: enclosure, outer: RDL, inner: PI1, value: 16, scope: interacting}\n"
    )
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(BASE_SPEC.replace("tech: wlcsp-400", f"tech: {tech}"))
    design_ = spec.load(spec_path)
    gds = tmp_path / "die.gds"
    layout.write(layout.build(design_, die_only=True), gds)
    reader = GdsReader(gds)
    rdl, pi1 = reader.region("RDL", flat=True), reader.region("PI1", flat=True)
    assert not pi1.is_empty()
    grown = pi1.sized(reader.um(16 - 0.01))
    assert (grown - rdl).is_empty(), "the capture does not enclose PI1 by the rule"
    # and not by much more: every PI1 opening grown by 16.5 um pokes out of the RDL somewhere
    for opening in pi1.each():
        assert not (kdb.Region(opening).sized(reader.um(16.5)) - rdl).is_empty()
    report = check_design(design_)
    assert report.result("RDL.EN.PI1").count == 0


def test_printability_is_checked_only_where_solder_is_printed():
    """Bug: the area ratio checked on a mask that receives no deposit. SM2 (360 um in 300 um of
    resist: area ratio 360 / (4 x 300) = 0.30 < 0.66) is formed but nothing is printed into it."""
    no_print = [
        "{step: form_mask, mask: SM1}",
        "{step: deposit, into: SM1, solder: SAC305-paste-T6}",
        "{step: reflow, peak: 245}",
        "{step: form_mask, mask: SM2}",
        "{step: strip, masks: [SM1, SM2]}",
    ]
    quiet = check_design(design(no_print, t2=300, pitch=800))
    assert {r.name: r.count for r in quiet.results}.get("SM.PRINT:SM2", 0) == 0
    printed = [*no_print[:4], "{step: deposit, into: SM2, solder: SAC305-paste-T6}", "{step: reflow, peak: 245}", no_print[4]]  # fmt: skip
    loud = check_design(design(printed, t2=300, pitch=800))
    assert loud.result("SM.PRINT:SM2").count >= 1


def test_the_sizer_states_the_ipc_area_ratio_of_its_solution():
    """Bug: the sizer's printability ratio doubled. A circle of diameter D in resist t has the
    IPC-7525 area ratio (pi D² / 4) / (pi D t) = D / 4t."""
    from masklayout.sizing import size

    d = design(t2=300, pitch=800)
    result = size(d, "std", "height", 330.0, mask="SM2")
    ratio = result.diameter_um / (4 * 300)
    assert ratio < 0.66
    (warning,) = [w for w in result.warnings if "area ratio" in w]
    stated = float(re.search(r"area ratio ([0-9.]+)", warning).group(1))
    assert stated == pytest.approx(ratio, abs=0.006)
