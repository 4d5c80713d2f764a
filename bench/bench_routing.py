"""Route realistic fan-in dies: time for the ~150-pad die, and growth with the number of nets.

Run: python bench/bench_routing.py [--large]   (--large adds a ~1,000-net die; minutes today)
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from masklayout.routing import route  # noqa: E402
from tests import fanin  # noqa: E402


def timed(case: fanin.Case) -> tuple[int, int, float]:
    fanin.CASES[case.name] = case
    p, _ = fanin.problem(case.name, "planned")
    t0 = time.perf_counter()
    result = route(p)
    return len(p.nets), len(result.routed), time.perf_counter() - t0


def main() -> None:
    sizes = [
        fanin.Case("6x6", 6, 400.0, 250.0, 32, 420.0, power_pads=4, power_bumps=2),
        fanin.Case("8x8", 8, 400.0, 250.0, 64, 420.0, power_pads=8, power_bumps=4),
        fanin.Case("10x10", 10, 400.0, 240.0, 112, 420.0, power_pads=16, power_bumps=6),
        fanin.CASES["12x12"],
    ]
    if "--large" in sys.argv:
        sizes.append(fanin.Case("34x34", 34, 400.0, 250.0, 1000, 420.0, 0, 0, 80, 30))
    rows = []
    print(f"{'die':>7} {'nets':>5} {'routed':>6} {'time s':>7}")
    for case in sizes:
        n, ok, t = timed(dataclasses.replace(case))
        rows.append((n, t))
        print(f"{case.name:>7} {n:5d} {ok:6d} {t:7.2f}")
    n, t = np.log([r[0] for r in rows]), np.log([r[1] for r in rows])
    slope = np.polyfit(n, t, 1)[0]
    print(f"growth exponent (fit of log t on log nets): {slope:.2f}")
    per = rows[-1][1] / rows[-1][0]
    print(
        f"~{per * 1000:.0f} ms per net at {rows[-1][0]} nets; 1,000 nets extrapolated: "
        f"{rows[-1][1] * math.exp(slope * math.log(1000 / rows[-1][0])):.0f} s"
    )


if __name__ == "__main__":
    main()
