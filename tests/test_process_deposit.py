"""The deposit model and the process sanity checks (issue 11, points 4 and 5): the fill by
deposit method, the paste's metal by its own flux density, the melt's density; a print through
an upper mask, a reflow above a film's limit and a strip over unreflowed powder refused at the
step's line (a strip over unreflowed paste warned there)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from masklayout.cli import main
from masklayout.process import plan_flow, run
from masklayout.process.solder import metal_fraction, molten_volume
from masklayout.source import SpecError
from masklayout.tech import load_tech
from tests.process_specs import (
    DISPENSE_FILL,
    PRINT_FILL,
    circle_area,
    design,
    sac305_fraction,
    spec_text,
    step_line,
)

TECH = load_tech("wlcsp-400")
GRID = 1e-5  # relative: written vertices sit on the 1 nm grid
FORM1, FORM2 = "{step: form_mask, mask: SM1}", "{step: form_mask, mask: SM2}"
DEP1 = "{step: deposit, into: SM1, solder: SAC305-paste-T6}"
DEP2 = "{step: deposit, into: SM2, solder: SAC305-paste-T6}"
POWDER2 = "{step: deposit, into: SM2, solder: SAC305-powder}"
REFLOW = "{step: reflow, peak: 245}"
STRIP1, STRIP = "{step: strip, masks: [SM1]}", "{step: strip, masks: [SM1, SM2]}"

# (flow, index of the step named, words the message must contain); SM1 is a dry film, SM2 a
# photoresist (tests/process_specs.py), both 260 °C in the tech's film_limits
BAD = {
    "print into SM1 through SM2 (claim 15)": (
        [FORM1, FORM2, DEP1, DEP2, REFLOW, STRIP],
        2,
        "a squeegee cannot print into SM1 through SM2's opening: dispense it (method: dispense) "
        "or print before forming SM2",
    ),
    "print named explicitly through SM2": (
        [FORM1, FORM2, DEP1.replace("}", ", method: print}"), DEP2, REFLOW, STRIP],
        2,
        "a squeegee cannot print into SM1 through SM2's opening",
    ),
    "reflow above the dry film's limit": (
        [FORM1, DEP1, "{step: reflow, peak: 261}", STRIP1],
        2,
        "reflow peak 261 °C with SM1 (dry_film) on the wafer: above the 260 °C the film stands",
    ),
    "reflow above the photoresist's limit": (
        [FORM1, DEP1, REFLOW, FORM2, DEP2, "{step: reflow, peak: 300}", STRIP],
        5,
        "reflow peak 300 °C with SM2 (photoresist) on the wafer: above the 260 °C the film stands",
    ),
    "strip over unreflowed powder": (
        [FORM1, DEP1, REFLOW, FORM2, POWDER2, STRIP, REFLOW],
        5,
        "strip SM1, SM2 over unreflowed SAC305-powder from process[4] (line",
    ),
    "a powder printed": (
        [FORM1, DEP1, REFLOW, FORM2, POWDER2.replace("}", ", method: print}"), REFLOW, STRIP],
        4,
        "SAC305-powder is a powder: it cannot be deposited by print (method: powder)",
    ),
    "a paste swept in as a powder": (
        [FORM1, DEP1.replace("}", ", method: powder}"), REFLOW, STRIP1],
        1,
        "SAC305-paste-T6 is a paste: it cannot be deposited by powder (method: print or dispense)",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_process_is_refused_at_its_step_line(case: str):
    flow, index, words = BAD[case]
    text = spec_text(flow)
    with pytest.raises(SpecError) as err:
        plan_flow(design(flow))
    hit = [str(p) for p in err.value.problems if words in str(p)]
    assert hit, f"no message with {words!r} in {[str(p) for p in err.value.problems]}"
    assert hit[0].startswith(f"spec.yaml:{step_line(text, index)}:"), hit[0]
    assert f"process[{index}]" in hit[0]


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_process_exits_2_and_writes_nothing(case: str, tmp_path: Path):
    flow, _, words = BAD[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(flow))
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["run", str(spec), "--csv", str(out)])
    assert result.exit_code == 2
    assert words in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_a_strip_over_unreflowed_paste_is_a_warning_at_its_line():
    flow = [FORM1, DEP1, REFLOW, FORM2, DEP2, STRIP, REFLOW]
    text = spec_text(flow)
    plan = plan_flow(design(flow))
    (warning,) = [w for w in plan.warnings if "over unreflowed" in w]
    assert warning.startswith(f"spec.yaml:{step_line(text, 5)}:")
    assert "strip SM1, SM2 over unreflowed SAC305-paste-T6 from process[4]" in warning
    assert "may slump or wash off" in warning


def test_dispensing_under_an_upper_mask_and_a_mask_rated_hotter_are_accepted():
    dispensed = DEP1.replace("}", ", method: dispense}")
    plan_flow(design([FORM1, FORM2, dispensed, DEP2, REFLOW, STRIP]))
    plan_flow(design([FORM1, DEP1, "{step: reflow, peak: 260}", STRIP1]))  # at the limit
    rated = design([FORM1, DEP1, "{step: reflow, peak: 340}", STRIP1], max_temperature=350)
    plan_flow(rated)


ONE_MASK = [FORM1, DEP1, REFLOW, STRIP1]


def _deposit(extra: str, solder: str = "SAC305-paste-T6"):
    flow = list(ONE_MASK)
    flow[1] = f"{{step: deposit, into: SM1, solder: {solder}{extra}}}"
    step = next(s for s in run(design(flow, t1=40)).stacks[0].steps if s.index == 1)
    return step.paste_volume_um3, step.metal_volume_um3


def test_the_deposit_method_scales_the_deposited_volume_by_its_fill():
    cavity = circle_area(300) * 40  # SM1 300 µm across, 40 µm thick, by hand
    printed, _ = _deposit("")
    dispensed, _ = _deposit(", method: dispense")
    assert printed == pytest.approx(PRINT_FILL * cavity, rel=GRID)
    assert dispensed == pytest.approx(DISPENSE_FILL * cavity, rel=GRID)
    assert dispensed / printed == pytest.approx(0.97 / 0.93, rel=1e-12)
    assert _deposit(", method: dispense, fill: 0.8")[0] == pytest.approx(0.8 * cavity, rel=GRID)
    powder, metal = _deposit("", solder="SAC305-powder")  # a dry bed fills, packs 0.6
    assert powder == pytest.approx(cavity, rel=GRID)
    assert metal == pytest.approx(0.6 * cavity, rel=GRID)


def test_a_wafer_bumping_paste_carries_its_metal_by_its_own_flux_density():
    metal, flux = 0.92 / 7.38, 0.08 / 1.08  # cm³ per g of SAC305 at 92 wt% in flux of 1.08
    phi = metal / (metal + flux)
    paste = TECH.solders["SAC305-bump-92"]
    assert metal_fraction(paste, TECH.alloys["SAC305"]) == pytest.approx(phi, rel=1e-12)
    deposited, carried = _deposit("", solder="SAC305-bump-92")
    assert carried == pytest.approx(deposited * phi, rel=1e-12)
    assert phi > 1.25 * sac305_fraction()  # 63 vol% metal against the T6 paste's 50


def test_the_wafer_bumping_pastes_are_above_90_wt_percent_in_both_techs():
    for tech in ("wlcsp-400", "wlcsp-500"):
        solders = load_tech(tech).solders
        wanted = {"SAC305-bump-90": 90, "SAC305-bump-92": 92, "Sn63Pb37-bump-91": 91,
                  "Pb95Sn5-bump-92": 92}  # fmt: skip
        for name, wt in wanted.items():
            assert solders[name].metal_wt == wt and solders[name].form == "paste"
            assert 1.05 <= solders[name].flux_density <= 1.10 and solders[name].source
    shown = CliRunner().invoke(main, ["tech", "wlcsp-500", "--json"])
    data = json.loads(shown.stdout)
    assert data["solders"]["Pb95Sn5-bump-92"]["metal_wt"] == 92
    assert data["deposit_methods"]["print"]["fill"] == PRINT_FILL
    assert data["film_limits"]["dry_film"]["max_temperature"] == 260


LIQUID = {"Sn": 7.00, "Pb": 10.67, "Ag": 9.32, "Cu": 8.00, "Bi": 10.05, "In": 7.02}


@pytest.mark.parametrize("name", list(TECH.alloys))
def test_each_melt_is_the_ideal_mixture_of_its_liquid_elements(name: str):
    alloy = TECH.alloys[name]
    by_hand = 1 / sum(w / 100 / LIQUID[e] for e, w in alloy.composition.items())
    assert alloy.liquid_density == pytest.approx(by_hand, abs=0.006)
    shrink = 1 - alloy.liquid_density / alloy.density
    assert (0.0 < shrink < 0.01) if "Bi" in alloy.composition else (0.035 < shrink < 0.06)


def test_the_molten_volume_of_a_mix_is_its_masses_over_the_melt_densities():
    alloys = (TECH.alloys["Pb95Sn5"], TECH.alloys["Sn63Pb37"])
    solid = np.array([[1.0e6, 2.0e6]])  # µm³ of each, solid
    mass = solid * np.array([11.03, 8.40])
    expected = 1.0e6 * 11.03 / 10.40 + 2.0e6 * 8.40 / 8.02
    assert molten_volume(mass, alloys)[0] == pytest.approx(expected, rel=1e-12)
    assert molten_volume(mass, alloys)[0] > solid.sum()


def test_a_tech_overriding_one_method_keeps_the_others_and_one_without_them_is_refused(
    tmp_path: Path,
):
    over = tmp_path / "over.yaml"
    over.write_text("name: over\nextends: wlcsp-400\ndeposit_methods: {print: {fill: 0.9}}\n")
    tech = load_tech(str(over))
    assert tech.deposit_methods["print"].fill == 0.9
    assert tech.deposit_methods["dispense"].fill == DISPENSE_FILL  # merged from the base
    alone = tmp_path / "alone.yaml"
    alone.write_text("name: alone\ndeposit_methods: {print: {fill: 0.9}}\n")
    with pytest.raises(SpecError, match="deposit_methods: missing dispense, powder"):
        load_tech(str(alone))


@pytest.mark.parametrize(
    ("composition", "measured"),
    [({"Sn": 60, "Pb": 40}, 8.15), ({"Sn": 43, "Bi": 57}, 8.51)],  # J. Electron. Mater. 34 (2005)
)
def test_ideal_mixing_of_the_liquid_elements_meets_measured_melts(composition, measured):
    """The assumption behind the tech's liquid densities, against melts measured at their
    melting points: within 0.6 %."""
    ideal = 1 / sum(w / 100 / LIQUID[e] for e, w in composition.items())
    assert ideal == pytest.approx(measured, rel=0.006)
