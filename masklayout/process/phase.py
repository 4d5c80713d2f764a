"""Phase equilibrium of solder mixes at a reflow peak, from binary phase diagrams by the lever rule.

A mix is reduced to the binary of its two main elements when the others add up to at most
``MINOR_LIMIT`` wt% (SAC's Ag and Cu in a Sn-Bi mix, say); the minor elements are counted with
the most abundant element, the matrix they sit in.
Mixes no table covers are reported as not covered instead of getting an invented number.

Each binary A-B is a eutectic system given in wt% of B at x (0 = pure A, 100 = pure B):

- the liquidus, two branches meeting at the eutectic;
- the boundary of the solid that forms on each side (a terminal solid solution whose composition
  moves from the pure metal at its melting point to its solubility limit at the eutectic, or a
  line compound such as Ag3Sn);
- in the two-phase field L + solid at a temperature T the lever rule gives the liquid's mass
  fraction ``fL = (x - xs) / (xl - xs)``, with ``xl`` the liquidus and ``xs`` the solid boundary
  at T.

Data (``SOURCES``): Sn-Pb liquidus points of DESIGN.md §7 (the ASM diagram), completed by the
catalogue's Pb95Sn5 and Pb90Sn10 liquidus and solidus; for the other systems the invariant points
of the assessed diagrams (ASM Alloy Phase Diagrams; NIST solder database; Ag-Sn from CompuTherm's
assessment), and between a pure metal and the eutectic the ideal-solution liquidus (Schröder-van
Laar) with an effective heat of fusion fitted so the branch passes through the eutectic. On Sn-Pb,
where points are tabulated, that construction is within 4 °C of the diagram on the Pb side and
8 °C on the Sn side: the stated error of the fitted branches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MINOR_LIMIT = 5.0  # wt%: elements beyond the two main ones that a binary may ignore
MOLAR_MASS = {"Sn": 118.71, "Pb": 207.2, "Bi": 208.98, "Ag": 107.87, "Cu": 63.55, "In": 114.82}
MELTING = {"Sn": 231.93, "Pb": 327.46, "Bi": 271.4, "Ag": 961.8, "Cu": 1084.6, "In": 156.6}
BRANCH_POINTS = 24  # points of a fitted liquidus branch
TOLERANCE = 1e-9  # °C: at the liquidus within this, all is liquid


@dataclass(frozen=True)
class Binary:
    """A binary eutectic diagram A-B, compositions in wt% B, temperatures in °C.

    ``liquidus``: (x, T) points from pure A to pure B through the eutectic (or up to
    ``covers``); ``solid_a`` / ``solid_b``: the boundary of the solid on each side, (x, T) from
    the eutectic temperature upwards."""

    a: str
    b: str
    eutectic: tuple[float, float]
    liquidus: tuple[tuple[float, float], ...]
    solid_a: tuple[tuple[float, float], ...]
    solid_b: tuple[tuple[float, float], ...]
    covers: float = 100.0  # the highest wt% B the diagram describes
    source: str = ""

    @property
    def name(self) -> str:
        return f"{self.a}-{self.b}"

    def liquidus_at(self, x: np.ndarray) -> np.ndarray:
        """Liquidus temperature of compositions ``x`` (wt% B)."""
        xs, ts = np.array(self.liquidus).T
        return np.interp(x, xs, ts)

    def solidus_at(self, x: np.ndarray) -> np.ndarray:
        """Temperature where melting starts: the solid boundary within a terminal solution's
        range, else the eutectic."""
        x = np.asarray(x, dtype=float)
        te = self.eutectic[1]
        xa, ta = np.array(self.solid_a).T
        xb, tb = np.array(self.solid_b).T
        on_a = x <= xa.max()
        on_b = x >= xb.min()
        result = np.full_like(x, te)
        # the boundary is tabulated from the eutectic upwards: interpolate along x
        result = np.where(on_a, np.interp(x, xa[::-1], ta[::-1]), result)
        return np.where(on_b, np.interp(x, xb, tb), result)

    def liquid_fraction(self, x: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
        """Mass fraction of liquid and its composition (wt% B) at ``temperature`` for overall
        compositions ``x``, by the lever rule."""
        x = np.asarray(x, dtype=float)
        xe, te = self.eutectic
        if temperature < te:
            return np.zeros_like(x), np.full_like(x, np.nan)
        above = temperature >= self.liquidus_at(x) - TOLERANCE
        # liquid composition on each branch at this temperature (the branch is monotonic)
        lx_a, lt_a = _branch(self.liquidus, 0.0, xe)
        lx_b, lt_b = _branch(self.liquidus, xe, self.covers)
        xl_a = np.interp(temperature, lt_a[::-1], lx_a[::-1])  # A side: T falls as x rises
        xl_b = np.interp(temperature, lt_b, lx_b)  # B side: T rises with x
        sx_a, st_a = np.array(self.solid_a).T
        sx_b, st_b = np.array(self.solid_b).T
        xs_a = np.interp(temperature, st_a, sx_a) if len(st_a) > 1 else sx_a[0]
        xs_b = np.interp(temperature, st_b, sx_b) if len(st_b) > 1 else sx_b[0]
        on_a = x < xe
        xl = np.where(on_a, xl_a, xl_b)
        xs = np.where(on_a, xs_a, xs_b)
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.clip((x - xs) / np.where(xl != xs, xl - xs, np.inf), 0.0, 1.0)
        fraction = np.where(above, 1.0, fraction)
        return fraction, np.where(above, x, xl)


def _branch(
    points: tuple[tuple[float, float], ...], low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    xs, ts = np.array(points).T
    keep = (xs >= low - 1e-9) & (xs <= high + 1e-9)
    return xs[keep], ts[keep]


def fitted_branch(
    solvent: str, solute: str, eutectic: tuple[float, float]
) -> list[tuple[float, float]]:
    """Liquidus points (wt% solute, °C) from the pure solvent to the eutectic: the ideal-solution
    (Schröder-van Laar) curve ``ln x_solvent = -k (1/T - 1/Tm)`` with ``k`` chosen so the curve
    passes through the eutectic."""
    xe, te = eutectic
    tm = MELTING[solvent] + 273.15
    mole_e = _mole_fraction(xe, solute, solvent)
    k = -math.log(1.0 - mole_e) / (1.0 / (te + 273.15) - 1.0 / tm)
    points = []
    for w in np.linspace(0.0, xe, BRANCH_POINTS):
        mole = _mole_fraction(float(w), solute, solvent)
        t = 1.0 / (1.0 / tm - math.log(1.0 - mole) / k) - 273.15
        points.append((float(w), t))
    points[-1] = (xe, te)
    return points


def _mole_fraction(wt: float, element: str, other: str) -> float:
    """Mole fraction of ``element`` in a binary of ``wt`` wt% of it."""
    a = wt / MOLAR_MASS[element]
    b = (100.0 - wt) / MOLAR_MASS[other]
    return a / (a + b)


def _from_b_side(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A branch fitted from the B side (in wt% A), turned into wt% B, ascending."""
    return sorted((100.0 - w, t) for w, t in points)


def _sn_bi() -> Binary:
    e = (57.0, 139.0)
    side_sn = fitted_branch("Sn", "Bi", e)
    side_bi = _from_b_side(fitted_branch("Bi", "Sn", (100.0 - e[0], e[1])))
    return Binary(
        "Sn", "Bi", e, tuple(side_sn + side_bi[1:]),
        solid_a=((21.0, 139.0), (0.0, MELTING["Sn"])),
        solid_b=((99.9, 139.0), (100.0, MELTING["Bi"])),
        source="eutectic 139 °C at 57 wt% Bi, (Sn) dissolves 21 wt% Bi (ASM; NIST solder database)",
    )  # fmt: skip


def _sn_ag() -> Binary:
    e = (3.5, 221.0)
    return Binary(
        "Sn", "Ag", e, tuple(fitted_branch("Sn", "Ag", e) + [(49.0, 481.3)]),
        solid_a=((0.1, 221.0), (0.0, MELTING["Sn"])),
        solid_b=((73.2, 221.0),),  # Ag3Sn, a line compound
        covers=49.0,
        source="eutectic 221 °C at 3.5 wt% Ag into (Sn) + Ag3Sn (73.2 wt% Ag); L + Ag4Sn -> Ag3Sn at 481 °C with L at 49 wt% Ag (CompuTherm Ag-Sn)",
    )  # fmt: skip


def _sn_cu() -> Binary:
    e = (0.7, 227.0)
    return Binary(
        "Sn", "Cu", e, tuple(fitted_branch("Sn", "Cu", e)),
        solid_a=((0.01, 227.0), (0.0, MELTING["Sn"])),
        solid_b=((39.1, 227.0),),  # Cu6Sn5
        covers=0.7,  # the Cu6Sn5 liquidus beyond the eutectic is not tabulated here
        source="eutectic 227 °C at 0.7 wt% Cu into (Sn) + Cu6Sn5 (ASM); hypereutectic Sn-Cu not covered",
    )  # fmt: skip


def _in_sn() -> Binary:
    e = (48.0, 118.0)  # wt% Sn: In-48Sn
    side_in = fitted_branch("In", "Sn", e)
    side_sn = _from_b_side(fitted_branch("Sn", "In", (100.0 - e[0], e[1])))
    return Binary(
        "In", "Sn", e, tuple(side_in + side_sn[1:]),
        solid_a=((44.8, 118.0), (0.0, MELTING["In"])),  # beta (In-rich)
        solid_b=((77.6, 118.0), (100.0, MELTING["Sn"])),  # gamma and (Sn) lumped
        source="eutectic 118 °C at 48 wt% Sn into beta (44.8) + gamma (77.6 wt% Sn) (ASM); beta and gamma treated as terminal solutions: approximate",
    )  # fmt: skip


def _pb_sn() -> Binary:
    liquidus = (
        (0.0, MELTING["Pb"]), (5.0, 312.0), (10.0, 302.0), (30.0, 255.0), (35.0, 247.0),
        (40.0, 238.0), (45.0, 227.0), (50.0, 216.0), (60.0, 190.0), (61.9, 183.0),
        (90.0, 213.0), (100.0, MELTING["Sn"]),
    )  # fmt: skip
    return Binary(
        "Pb", "Sn", (61.9, 183.0), liquidus,
        solid_a=((18.3, 183.0), (10.0, 268.0), (5.0, 308.0), (0.0, MELTING["Pb"])),
        solid_b=((97.8, 183.0), (100.0, MELTING["Sn"])),
        source="DESIGN.md §7 liquidus points (ASM Pb-Sn); (Pb) solidus through the catalogue's Pb90Sn10 and Pb95Sn5; solubility limits 18.3 and 97.8 wt% Sn",
    )  # fmt: skip


SYSTEMS: dict[frozenset[str], Binary] = {
    frozenset((s.a, s.b)): s for s in (_pb_sn(), _sn_bi(), _sn_ag(), _sn_cu(), _in_sn())
}


@dataclass(frozen=True)
class Equilibrium:
    """A mix at a temperature: its binary (``None`` when no diagram covers it), the liquid's
    mass fraction, and the mix's liquidus and solidus on that diagram (°C)."""

    system: str | None
    liquid_fraction: float
    liquidus: float
    solidus: float
    note: str = ""


@dataclass(frozen=True)
class Equilibria:
    """Mixes at a temperature, per row: covered by a diagram (or one pure element), the liquid's
    mass fraction, liquidus and solidus (°C; NaN where not covered); for a binary its main
    elements ``first``/``second`` (indices into the names, by weight), ``minor`` (wt% of the
    others) and, where a diagram of the two exists, ``x`` (wt% of its B element, the minor ones
    counted with the matrix)."""

    covered: np.ndarray
    liquid_fraction: np.ndarray
    liquidus: np.ndarray
    solidus: np.ndarray
    first: np.ndarray
    second: np.ndarray
    minor: np.ndarray
    x: np.ndarray


def equilibria(wt: np.ndarray, names: Sequence[str], temperature: float) -> Equilibria:
    """The phase equilibrium of mixes given as rows of wt% of the elements ``names`` at
    ``temperature`` (°C), vectorised: each row is reduced to its two main elements, and the rows
    of one binary are read off its diagram together."""
    wt = np.atleast_2d(np.asarray(wt, dtype=float))
    n, k = wt.shape
    total = wt.sum(axis=1, keepdims=True)
    w = np.where(wt > 0, wt * 100.0 / np.where(total > 0, total, 1.0), 0.0)
    # by weight, then by name (both descending): the order of sorted((w, name), reverse=True)
    by_name = np.argsort(np.array(names))[::-1]
    order = by_name[np.argsort(-w[:, by_name], axis=1, kind="stable")]
    ranked = np.take_along_axis(w, order, axis=1)
    first = order[:, 0]
    second = order[:, 1] if k > 1 else np.zeros(n, dtype=int)
    w1 = ranked[:, 0]
    w2 = ranked[:, 1] if k > 1 else np.zeros(n)
    minor = 100.0 - w1 - w2
    nan = np.full(n, np.nan)
    fraction, liquidus, solidus, x = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    covered = np.zeros(n, dtype=bool)
    pure = (w2 <= 0) | (w1 >= 100.0 - 1e-9)
    melting = np.array([MELTING.get(e, math.nan) for e in names])[first]
    fraction[pure] = np.where(temperature >= melting[pure], 1.0, 0.0)
    liquidus[pure] = solidus[pure] = melting[pure]
    covered[pure] = True
    pair = first * k + second
    for key in np.unique(pair[~pure]):
        e1, e2 = names[key // k], names[key % k]
        system = SYSTEMS.get(frozenset((e1, e2)))
        if system is None:
            continue
        rows = ~pure & (pair == key)
        b_wt = np.where(e1 == system.b, w1 + minor, w2)  # w1 + w2 + minor = 100
        x[rows] = b_wt[rows]
        rows &= (minor <= MINOR_LIMIT) & (b_wt <= system.covers)
        fraction[rows] = system.liquid_fraction(b_wt[rows], temperature)[0]
        liquidus[rows] = system.liquidus_at(b_wt[rows])
        solidus[rows] = system.solidus_at(b_wt[rows])
        covered[rows] = True
    return Equilibria(covered, fraction, liquidus, solidus, first, second, minor, x)


def equilibrium(composition: dict[str, float], temperature: float) -> Equilibrium:
    """The phase equilibrium of a mix given in wt% per element at ``temperature`` (°C), with a
    note of the diagram read or of why none covers it."""
    names = list(composition)
    state = equilibria(np.array([list(composition.values())]), names, temperature)
    fraction, liquidus, solidus = (
        float(a[0]) for a in (state.liquid_fraction, state.liquidus, state.solidus)
    )
    e1, e2 = names[int(state.first[0])], names[int(state.second[0])]
    minor, x = float(state.minor[0]), float(state.x[0])
    system = SYSTEMS.get(frozenset((e1, e2)))
    if not state.covered[0]:
        if system is None:
            why = f"no {e1}-{e2} diagram"
        elif minor > MINOR_LIMIT:
            why = f"{minor:.1f} wt% beyond {e1}-{e2}"
        else:
            why = f"{x:.1f} wt% {system.b} is beyond the {system.name} data ({system.covers:g})"
        return Equilibrium(None, math.nan, math.nan, math.nan, f"not covered: {why}")
    if system is None or np.isnan(x):  # one element
        return Equilibrium(e1, fraction, liquidus, solidus)
    note = f"{system.name} at {x:.1f} wt% {system.b}"
    if minor > 0:
        note += f" ({minor:.1f} wt% other elements counted with {e1})"
    return Equilibrium(system.name, fraction, liquidus, solidus, note)
