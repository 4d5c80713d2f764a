"""The solder model's closed forms against independent calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from masklayout.process.phase import SYSTEMS
from masklayout.process.solder import (
    cap_height,
    cap_radius_max,
    cap_volume,
    cap_volume_below,
    composition_wt,
    liquidus,
    metal_fraction,
    widest_diameter,
)
from masklayout.tech import load_tech
from tests.process_specs import bisect_cap_height

TECH = load_tech("wlcsp-400")


def test_sac305_paste_at_88_wt_percent_is_half_metal_by_volume():
    solder = TECH.solders["SAC305-paste-T6"]
    assert metal_fraction(solder, TECH.alloys["SAC305"]) == pytest.approx(0.50, abs=0.005)


def test_powder_metal_fraction_is_its_packing():
    solder = TECH.solders["SAC305-powder"]
    assert metal_fraction(solder, TECH.alloys["SAC305"]) == 0.6


@pytest.mark.parametrize(
    ("volume", "a"), [(1e3, 100.0), (1.4e6, 125.0), (8.4e6, 125.0), (5e7, 90.0), (2e5, 300.0)]
)
def test_cap_height_matches_bisection(volume, a):
    assert float(cap_height(volume, a)) == pytest.approx(bisect_cap_height(volume, a), rel=1e-9)


def test_cap_volume_round_trips_through_height():
    rng = np.random.default_rng(3)
    a = rng.uniform(50, 200, 1000)
    h = rng.uniform(0.01, 400, 1000)
    np.testing.assert_allclose(cap_height(cap_volume(h, a), a), h, rtol=1e-10)


def test_hemisphere_is_as_high_as_its_base_radius_and_twice_as_wide():
    a = 120.0
    v = 2 / 3 * math.pi * a**3
    assert float(cap_height(v, a)) == pytest.approx(a, rel=1e-12)
    assert float(widest_diameter(a, a)) == pytest.approx(2 * a)


def test_more_than_a_hemisphere_is_wider_than_its_base():
    a, h = 100.0, 180.0
    r = (a * a + h * h) / (2 * h)
    assert float(widest_diameter(h, a)) == pytest.approx(2 * r)


def test_cap_volume_below_a_height_of_a_hemisphere():
    a, z = 100.0, 40.0
    by_hand = math.pi * (a * a * z - z**3 / 3)  # sphere centred on the base
    assert float(cap_volume_below(z, a, a)) == pytest.approx(by_hand, rel=1e-12)
    assert float(cap_volume_below(500.0, a, a)) == pytest.approx(2 / 3 * math.pi * a**3)


def test_widest_radius_of_a_cap_between_two_heights():
    a, h = 100.0, 180.0
    r = (a * a + h * h) / (2 * h)
    zc = h - r
    assert float(cap_radius_max(0.0, 300.0, h, a)) == pytest.approx(r)  # the equator is inside
    assert float(cap_radius_max(0.0, zc / 2, h, a)) == pytest.approx(
        math.sqrt(r * r - (zc / 2 - zc) ** 2)
    )
    assert float(cap_radius_max(h + 1, h + 50, h, a)) == 0.0  # above the cap


def _alloys(*names: str):
    return [TECH.alloys[n] for n in names]


def test_equal_mass_of_high_lead_and_eutectic_is_34_wt_percent_tin_liquidus_about_250():
    alloys = _alloys("Pb95Sn5", "Sn63Pb37")
    mass = np.array([[1.0, 1.0]])
    comp = composition_wt(mass, alloys, ("Sn", "Pb"))[0]
    assert comp[0] == pytest.approx(34.0)
    assert comp[1] == pytest.approx(66.0)
    # between the diagram's 30 -> 255 and 35 -> 247 points
    assert float(liquidus(mass, alloys)[0]) == pytest.approx(255 - 4 / 5 * 8)
    assert float(liquidus(mass, alloys)[0]) == pytest.approx(250, abs=3)


@pytest.mark.parametrize(("sn", "celsius"), [(61.9, 183), (40, 238), (90, 213), (0, 327.5)])
def test_sn_pb_liquidus_passes_through_the_phase_diagram_points(sn, celsius):
    assert float(SYSTEMS[frozenset(("Pb", "Sn"))].liquidus_at(sn)) == pytest.approx(
        celsius, abs=0.05
    )


def test_a_single_alloy_keeps_its_own_liquidus():
    for name in ("Sn63Pb37", "Pb95Sn5", "SAC305"):
        assert float(liquidus(np.array([[2.0]]), _alloys(name))[0]) == TECH.alloys[name].liquidus


def test_a_lead_free_mix_is_not_read_off_the_tin_lead_diagram():
    value = float(liquidus(np.array([[1.0, 1.0]]), _alloys("SAC305", "Sn96.5Ag3.5"))[0])
    # read off Sn-Ag at 3.25 wt% Ag (its Cu counted with Sn): between the Sn-Ag eutectic and
    # pure Sn; the real Sn-Ag-Cu ternary melts a few degrees lower (217 °C eutectic)
    assert 221 <= value <= 223
