"""Solder physics (DESIGN.md §7): metal in a deposit, the reflowed spherical cap, composition
and liquidus of a mix. Pure functions; the array ones broadcast over any number of rows.

Units: µm, µm³, °C, g/cm³, wt%.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from masklayout.process.phase import equilibria, equilibrium
from masklayout.tech import Alloy, Solder

ABSOLUTE_ZERO = -273.15  # °C: a temperature to read a mix's liquidus and solidus at
UM3_TO_CM3 = 1e-12
# Assumption for an alloy the tech gives no liquid_density: the melt 5 % lighter than the solid
# (Sn 4.3 %, Pb 6.0 %, In 4.0 %; Bi alloys barely change: give those their own number).
LIQUID_TO_SOLID = 0.95


# --------------------------------------------------------------------------- the deposit
def metal_fraction(
    solder: Solder, alloy: Alloy, metal_wt: np.ndarray | None = None
) -> float | np.ndarray:
    """Volume fraction of metal in a deposit: the powder's packing, or for a paste of metal
    weight fraction w, ``(w/ρm) / (w/ρm + (1-w)/ρf)``; ``metal_wt`` (per row) in place of the
    paste's own."""
    if solder.form == "powder":
        assert solder.packing is not None
        return solder.packing
    assert solder.metal_wt is not None
    w = (solder.metal_wt if metal_wt is None else metal_wt) / 100.0
    metal = w / alloy.density
    return metal / (metal + (1.0 - w) / solder.flux_density)


def liquid_density(alloy: Alloy) -> float:
    """Density of the alloy's melt near its liquidus (g/cm³): the tech's ``liquid_density``, else
    :data:`LIQUID_TO_SOLID` times the solid's."""
    return alloy.liquid_density or LIQUID_TO_SOLID * alloy.density


def molten_volume(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Volume (µm³) of mixes given as mass per alloy (rows × alloys, µm³ · g/cm³) when molten,
    by ideal mixing ``Σ m_s / ρl_s``: 4-6 % more than the solid volume ``Σ m_s / ρ_s`` the runner
    carries. A molten cap's reach against a mask wall is that of this volume."""
    rho = np.array([liquid_density(a) for a in alloys], dtype=float)
    return np.asarray(mass, dtype=float) @ (1.0 / rho) if len(alloys) else np.zeros(len(mass))


def equal_area_radius(area: np.ndarray | float) -> np.ndarray:
    """Radius of the circle of the same area (square side s -> 0.564 s)."""
    return np.sqrt(np.asarray(area, dtype=float) / np.pi)


# --------------------------------------------------------------------------- the cap
def cap_volume(height: np.ndarray | float, base_radius: np.ndarray | float) -> np.ndarray:
    """Volume of a spherical cap: ``π h (3a² + h²) / 6``."""
    h, a = np.asarray(height, dtype=float), np.asarray(base_radius, dtype=float)
    return np.pi * h * (3 * a * a + h * h) / 6


def cap_height(volume: np.ndarray | float, base_radius: np.ndarray | float) -> np.ndarray:
    """Height of the spherical cap of ``volume`` on a base of radius ``a``: the one real root of
    ``h³ + 3a²h - 6V/π = 0``, in closed form ``h = 2a sinh(asinh(3V/(πa³))/3)`` (no cancellation
    for small volumes), polished by one Newton step."""
    v, a = np.asarray(volume, dtype=float), np.asarray(base_radius, dtype=float)
    h = 2 * a * np.sinh(np.arcsinh(3 * v / (np.pi * a**3)) / 3)
    slope = np.pi * (a * a + h * h) / 2  # dV/dh
    return np.maximum(h - (cap_volume(h, a) - v) / np.where(slope > 0, slope, 1.0), 0.0)


def sphere_radius(height: np.ndarray | float, base_radius: np.ndarray | float) -> np.ndarray:
    """Radius of the sphere the cap belongs to: ``(a² + h²) / 2h`` (infinite for h = 0)."""
    h, a = np.asarray(height, dtype=float), np.asarray(base_radius, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(h > 0, (a * a + h * h) / np.where(h > 0, 2 * h, 1.0), np.inf)


def widest_diameter(height: np.ndarray | float, base_radius: np.ndarray | float) -> np.ndarray:
    """Widest diameter of the cap: the sphere's ``2R`` when it is more than a hemisphere
    (``h > a``), else the base ``2a``."""
    h, a = np.asarray(height, dtype=float), np.asarray(base_radius, dtype=float)
    return np.where(h > a, 2 * sphere_radius(h, a), 2 * a)


def cap_volume_below(
    z: np.ndarray | float, height: np.ndarray | float, base_radius: np.ndarray | float
) -> np.ndarray:
    """Volume of the cap between its base (z = 0) and height ``z``."""
    h, a = np.asarray(height, dtype=float), np.asarray(base_radius, dtype=float)
    z = np.clip(np.asarray(z, dtype=float), 0.0, h)
    r = sphere_radius(np.where(h > 0, h, 1.0), a)
    zc = np.where(h > 0, h - r, 0.0)  # height of the sphere's centre
    below = np.pi * (r * r * z - ((z - zc) ** 3 - (-zc) ** 3) / 3)
    return np.where(h > 0, below, 0.0)


def cap_radius_max(
    low: np.ndarray | float,
    high: np.ndarray | float,
    height: np.ndarray | float,
    base_radius: np.ndarray | float,
) -> np.ndarray:
    """Widest radius of the cap between heights ``low`` and ``high`` (0 where the cap does not
    reach ``low``)."""
    h, a = np.asarray(height, dtype=float), np.asarray(base_radius, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.minimum(np.asarray(high, dtype=float), h)
    r = sphere_radius(np.where(h > 0, h, 1.0), a)
    zc = h - r
    z = np.clip(zc, low, high)
    radius = np.sqrt(np.maximum(r * r - (z - zc) ** 2, 0.0))
    return np.where((h > 0) & (low < h), radius, 0.0)


# --------------------------------------------------------------------------- mixes
def elements(alloys: Sequence[Alloy]) -> tuple[str, ...]:
    """The chemical elements of some alloys, in first-seen order."""
    seen: dict[str, None] = {}
    for alloy in alloys:
        seen.update(dict.fromkeys(alloy.composition))
    return tuple(seen)


def composition_matrix(alloys: Sequence[Alloy], names: Sequence[str]) -> np.ndarray:
    """Mass fractions (alloys × elements)."""
    return np.array([[a.composition.get(e, 0.0) / 100.0 for e in names] for a in alloys]).reshape(
        len(alloys), len(names)
    )


def composition_wt(mass: np.ndarray, alloys: Sequence[Alloy], names: Sequence[str]) -> np.ndarray:
    """Element wt% of mixes given as mass per alloy (rows × alloys): ``x_i = Σ m_s x_si / Σ m_s``."""
    element_mass = np.asarray(mass, dtype=float) @ composition_matrix(alloys, names)
    total = element_mass.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * element_mass / np.where(total > 0, total, 1.0), 0.0)


def liquidus(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Liquidus (°C) of mixes given as mass per alloy (rows × alloys): a single alloy's own; a
    mix's from its phase diagram (:mod:`masklayout.process.phase`); a mix no diagram covers, the
    highest of its alloys' (all is molten there; :func:`mix_notes` says so). NaN for an empty
    row."""
    return _mix_temperature(mass, alloys, "liquidus")


def solidus(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Solidus (°C) of mixes: a single alloy's own; a mix's from its phase diagram (Sn-Pb
    between 18.3 and 97.8 wt% Sn: the 183 °C eutectic); uncovered, the lowest of its alloys'."""
    return _mix_temperature(mass, alloys, "solidus")


def liquid_fraction(mass: np.ndarray, alloys: Sequence[Alloy], temperature: float) -> np.ndarray:
    """Equilibrium mass fraction of liquid of mixes of several alloys at ``temperature`` (°C),
    by the lever rule on their phase diagram; NaN for rows of one alloy and for mixes no diagram
    covers."""
    mass = np.atleast_2d(np.asarray(mass, dtype=float))
    result = np.full(len(mass), np.nan)
    mixed = _mixed(mass)
    if len(mixed):
        names = elements(alloys)
        wt = composition_wt(mass[mixed], alloys, names)
        result[mixed] = equilibria(wt, names, temperature).liquid_fraction
    return result


def mix_notes(mass: np.ndarray, alloys: Sequence[Alloy]) -> list[str]:
    """What the phase diagrams could not cover among these mixes, one note per distinct mix."""
    notes = []
    for composition, _ in _distinct_mixes(np.atleast_2d(np.asarray(mass, dtype=float)), alloys):
        state = equilibrium(composition, ABSOLUTE_ZERO)
        if state.system is None:
            mix = " ".join(f"{e}{w:.3g}" for e, w in composition.items() if w > 0)
            notes.append(
                f"mix {mix} wt%: {state.note}; its melting range is bounded by its alloys'"
            )
    return notes


def _mix_temperature(mass: np.ndarray, alloys: Sequence[Alloy], which: str) -> np.ndarray:
    mass = np.atleast_2d(np.asarray(mass, dtype=float))
    own = np.array([getattr(a, which) for a in alloys])
    count = (mass > 0).sum(axis=1)
    result = np.where(count == 1, own[np.argmax(mass, axis=1)], np.nan)
    mixed = _mixed(mass)
    if len(mixed):
        names = elements(alloys)
        wt = composition_wt(mass[mixed], alloys, names)
        value = getattr(equilibria(wt, names, ABSOLUTE_ZERO), which)
        # not covered: bounded by the alloys present (highest liquidus, lowest solidus)
        present = np.where(mass[mixed] > 0, own, np.nan)
        bound = np.nanmax(present, axis=1) if which == "liquidus" else np.nanmin(present, axis=1)
        result[mixed] = np.where(np.isnan(value), bound, value)
    return result


def _mixed(mass: np.ndarray) -> np.ndarray:
    """The rows that mix several alloys."""
    return np.flatnonzero((mass > 0).sum(axis=1) > 1)


def _distinct_mixes(
    mass: np.ndarray, alloys: Sequence[Alloy]
) -> list[tuple[dict[str, float], np.ndarray]]:
    """The distinct compositions (element wt%) of the rows that mix several alloys, each with
    its rows: one note per mix."""
    mixed = _mixed(mass)
    if not len(mixed):
        return []
    names = elements(alloys)
    wt = composition_wt(mass[mixed], alloys, names)
    unique, inverse = np.unique(np.round(wt, 9), axis=0, return_inverse=True)
    return [
        (dict(zip(names, row, strict=True)), mixed[inverse.ravel() == k])
        for k, row in enumerate(unique)
    ]


def is_sn_pb(alloy: Alloy) -> bool:
    """A leaded tin alloy (Sn-Pb)."""
    return alloy.composition.get("Sn", 0) > 0 and alloy.composition.get("Pb", 0) > 0


def has_bismuth(alloy: Alloy) -> bool:
    return alloy.composition.get("Bi", 0) > 0
