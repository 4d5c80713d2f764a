"""Benchmark the vectorised step runner: 10⁶ bump sites, each with its own opening diameters,
through the claim 1 flow (SM1, deposit, reflow, SM2, deposit, reflow, strip).

Compares ``masklayout.process.simulate`` on all rows at once with two per-site Python loops:
a plain scalar implementation of the same model with ``math`` (all sites, and checked to agree),
and the runner itself called one site at a time (on a subset, extrapolated).

Run on demand: ``python bench/bench_process.py [--sites N]``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from masklayout.process import plan_flow, simulate
from masklayout.process.runner import Geometry
from masklayout.spec import load

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "flow_c1_two_masks.yaml"
VERTICES = 192  # the layout's circle polygons


def polygon_area(diameter: np.ndarray) -> np.ndarray:
    """Area of the regular polygon (vertices on the circle) the layout writes for a circle."""
    r = diameter / 2
    return VERTICES / 2 * r * r * math.sin(2 * math.pi / VERTICES)


def per_site_inputs(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Per-site UBM and opening diameters around the sample's (e.g. a sizer's candidates)."""
    rng = np.random.default_rng(seed)
    ubm = rng.uniform(230, 270, n)
    sm1 = ubm + rng.uniform(20, 60, n)
    sm2 = sm1 + rng.uniform(30, 80, n)
    return {"ubm": ubm, "sm1": sm1, "sm2": sm2}


def geometry(
    inputs: dict[str, np.ndarray], thickness: tuple[float, float], theta: float
) -> Geometry:
    """Rows of the claim 1 stack: the wetted base is the UBM (inside both openings) with the
    masks standing and after the strip."""
    a1, a2 = polygon_area(inputs["sm1"]), polygon_area(inputs["sm2"])
    base = np.repeat(polygon_area(inputs["ubm"])[:, None], 3, axis=1)
    return Geometry(
        np.column_stack((a1, a2)),
        base,
        np.array(thickness, dtype=float),
        np.radians([theta, theta]),
        np.zeros(base.shape, dtype=int),
    )


def scalar_c1(
    ubm: float, sm1: float, sm2: float, t1: float, t2: float, phi: float
) -> tuple[float, float]:
    """One site, plain Python: (ball volume, widest diameter) of the claim 1 flow, as free caps
    (the runner agrees where no mask wall holds the body)."""
    vertices_factor = VERTICES / 2 * math.sin(2 * math.pi / VERTICES) / 4
    a1, a2 = vertices_factor * sm1 * sm1, vertices_factor * sm2 * sm2
    a = math.sqrt(min(vertices_factor * ubm * ubm, a1) / math.pi)
    body = a1 * t1 * phi  # deposit 1, reflow 1
    h = 2 * a * math.sinh(math.asinh(3 * body / (math.pi * a**3)) / 3)
    r = (a * a + h * h) / (2 * h)
    zc = h - r
    z = min(t1 + t2, h)
    inside = math.pi * (r * r * z - ((z - zc) ** 3 - (-zc) ** 3) / 3)
    paste = max(a1 * t1 + a2 * t2 - inside, 0.0)  # deposit 2
    volume = body + paste * phi  # reflow 2
    h = 2 * a * math.sinh(math.asinh(3 * volume / (math.pi * a**3)) / 3)
    r = (a * a + h * h) / (2 * h)
    return volume, (2 * r if h > a else 2 * a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1_000_000, help="number of sites")
    parser.add_argument(
        "--runner-loop", type=int, default=2_000, help="sites for the per-site runner loop"
    )
    args = parser.parse_args()

    design = load(SAMPLE)
    plan = plan_flow(design)
    t1, t2 = (design.spec.masks[m].thickness for m in plan.masks)
    solder = design.tech.solders["SAC305-paste-T6"]
    density = design.tech.alloys[solder.alloy].density
    w = solder.metal_wt / 100
    phi = (w / density) / (w / density + (1 - w) / solder.flux_density)
    inputs = per_site_inputs(args.sites)
    theta = design.tech.films[design.spec.masks[plan.masks[0]].film].contact_angle

    start = time.perf_counter()
    geo = geometry(inputs, (t1, t2), theta)
    sim = simulate(geo, plan, design.tech)
    volume, diameter = sim.volume, sim.diameter
    vectorised = time.perf_counter() - start

    ubm, sm1, sm2 = (inputs[k].tolist() for k in ("ubm", "sm1", "sm2"))
    start = time.perf_counter()
    scalar = [scalar_c1(u, s1, s2, t1, t2, phi) for u, s1, s2 in zip(ubm, sm1, sm2, strict=True)]
    plain = time.perf_counter() - start
    ref_volume = np.array([v for v, _ in scalar])
    ref_diameter = np.array([d for _, d in scalar])
    free = sim.shape.level < 0
    agree = max(
        float(np.max(np.abs(volume / ref_volume - 1)[free])),
        float(np.max(np.abs(diameter / ref_diameter - 1)[free])),
    )

    m = min(args.runner_loop, args.sites)
    start = time.perf_counter()
    for i in range(m):
        one = {k: v[i : i + 1] for k, v in inputs.items()}
        simulate(geometry(one, (t1, t2), theta), plan, design.tech).diameter  # noqa: B018
    runner_loop = (time.perf_counter() - start) / m * args.sites

    print(f"sites                                   {args.sites:,}")
    print(f"vectorised runner (all rows at once)    {vectorised:8.3f} s")
    print(
        f"plain per-site Python loop (math)       {plain:8.3f} s   ratio {plain / vectorised:6.1f}x"
    )
    print(
        f"runner called per site (from {m:,})      {runner_loop:8.1f} s   ratio "
        f"{runner_loop / vectorised:6.0f}x  (extrapolated)"
    )
    print(f"balls a mask wall holds (confined shapes)  {int((~free).sum()):,}")
    print(f"largest relative difference vectorised vs plain loop (free balls): {agree:.2e}")


if __name__ == "__main__":
    main()
