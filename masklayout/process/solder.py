"""Solder physics (DESIGN.md §7): metal in a deposit, the reflowed spherical cap, composition
and liquidus of a mix. Pure functions; the array ones broadcast over any number of rows.

Units: µm, µm³, °C, g/cm³, wt%.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from masklayout.tech import Alloy, Solder

# Sn-Pb liquidus, wt% Sn -> °C: the phase diagram points of DESIGN.md §7, with pure Sn (231.9).
SN_PB_LIQUIDUS = (
    (0.0, 327.5), (30.0, 255.0), (35.0, 247.0), (40.0, 238.0), (45.0, 227.0), (50.0, 216.0),
    (60.0, 190.0), (61.9, 183.0), (90.0, 213.0), (100.0, 231.9),
)  # fmt: skip
SN_PB_SHARE = 0.95  # a mix whose Sn + Pb is at least this mass share follows the Sn-Pb diagram
UM3_TO_CM3 = 1e-12


# --------------------------------------------------------------------------- the deposit
def metal_fraction(solder: Solder, alloy: Alloy) -> float:
    """Volume fraction of metal in a deposit: the powder's packing, or for a paste of metal
    weight fraction w, ``(w/ρm) / (w/ρm + (1-w)/ρf)``."""
    if solder.form == "powder":
        assert solder.packing is not None
        return solder.packing
    assert solder.metal_wt is not None
    w = solder.metal_wt / 100.0
    metal = w / alloy.density
    return metal / (metal + (1.0 - w) / solder.flux_density)


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


def sn_pb_liquidus(sn_wt: np.ndarray | float) -> np.ndarray:
    """Liquidus of a binary Sn-Pb alloy of ``sn_wt`` wt% Sn, from the phase diagram points."""
    x, t = zip(*SN_PB_LIQUIDUS, strict=True)
    return np.interp(np.asarray(sn_wt, dtype=float), x, t)


def liquidus(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Liquidus (°C) of mixes given as mass per alloy (rows × alloys): a single alloy's own; a
    leaded mix that is mostly Sn + Pb from the Sn-Pb phase diagram; any other mix the mass-weighted
    mean of its alloys' (an estimate). NaN for an empty row."""
    mass = np.atleast_2d(np.asarray(mass, dtype=float))
    own = np.array([a.liquidus for a in alloys])
    total = mass.sum(axis=1)
    used = np.flatnonzero(mass.any(axis=0))
    if len(used) == 1:  # one alloy on every row: its own liquidus, no mixing to work out
        return np.where(total > 0, own[used[0]], np.nan)
    single = (mass > 0).sum(axis=1) <= 1
    sn_pb = _sn_pb_mass(mass, alloys)
    safe_total = np.where(total > 0, total, 1.0)
    snpb_total = sn_pb.sum(axis=1)
    sn_pct = 100.0 * sn_pb[:, 0] / np.where(snpb_total > 0, snpb_total, 1.0)
    leaded = (sn_pb[:, 1] > 0) & (snpb_total >= SN_PB_SHARE * total)
    mixed = np.where(leaded, sn_pb_liquidus(sn_pct), (mass @ own) / safe_total)
    result = np.where(single, own[np.argmax(mass, axis=1)], mixed)
    return np.where(total > 0, result, np.nan)


def solidus(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Solidus (°C) of mixes: a single alloy's own, else the lowest of its alloys' (Sn-Pb mixes
    between 18.3 and 97.8 wt% Sn: the 183 °C eutectic)."""
    mass = np.atleast_2d(np.asarray(mass, dtype=float))
    own = np.array([a.solidus for a in alloys])
    lowest = np.where(mass > 0, own, np.inf).min(axis=1)
    sn_pb = _sn_pb_mass(mass, alloys)
    snpb_total = sn_pb.sum(axis=1)
    sn_pct = 100.0 * sn_pb[:, 0] / np.where(snpb_total > 0, snpb_total, 1.0)
    leaded = (sn_pb[:, 1] > 0) & (snpb_total >= SN_PB_SHARE * mass.sum(axis=1))
    eutectic = leaded & (sn_pct >= 18.3) & (sn_pct <= 97.8)
    result = np.where(eutectic & ((mass > 0).sum(axis=1) > 1), np.minimum(lowest, 183.0), lowest)
    return np.where(np.isfinite(lowest), result, np.nan)


def _sn_pb_mass(mass: np.ndarray, alloys: Sequence[Alloy]) -> np.ndarray:
    """Mass of Sn and of Pb per row (rows × 2)."""
    return mass @ composition_matrix(alloys, ("Sn", "Pb"))


def is_sn_pb(alloy: Alloy) -> bool:
    """A leaded tin alloy (Sn-Pb)."""
    return alloy.composition.get("Sn", 0) > 0 and alloy.composition.get("Pb", 0) > 0


def has_bismuth(alloy: Alloy) -> bool:
    return alloy.composition.get("Bi", 0) > 0
