"""Route realistic fan-in dies: time for the ~150-pad die, and growth with the number of nets.

Run: python bench/bench_routing.py [--large] [--signal] [--clockwise | --auto]
  --large      adds a 1,000-pad die (50 x 50 bumps at 0.4 mm, pads at 80.6 µm, 1,000 signal nets)
  --signal     routes the signal nets only (leaves out the two power nets VDD and VSS)
  --clockwise  the plain clockwise pin map instead of the planned one (see tests/fanin.py)
  --auto       the signals' bumps chosen by the tool's free assignment (``bump: auto``)
Prints per die the nets, the nets routed and the seconds, the time of the 150-pad die against
the issue's 2 s target, and the growth exponent (least-squares slope of log time on log nets).
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

TARGET_PADS, TARGET_SECONDS = 150, 2.0


def timed(case: fanin.Case, signal: bool, order: str) -> tuple[int, int, float]:
    """Nets, nets routed and seconds to route the case with the pin map of that order."""
    fanin.CASES[case.name] = case
    p, _ = fanin.problem(case.name, order)
    if signal:
        p = dataclasses.replace(p, nets=tuple(n for n in p.nets if n.name not in ("VDD", "VSS")))
    t0 = time.perf_counter()
    result = route(p)
    return len(p.nets), len(result.routed), time.perf_counter() - t0


def main() -> None:
    signal = "--signal" in sys.argv
    order = next(
        (o for o in ("clockwise", "auto") if f"--{o}" in sys.argv),
        "planned",
    )
    sizes = [
        fanin.Case("6x6", 6, 400.0, 250.0, 32, 420.0, power_pads=4, power_bumps=2),
        fanin.Case("8x8", 8, 400.0, 250.0, 64, 420.0, power_pads=8, power_bumps=4),
        fanin.CASES["10x10"],
        fanin.CASES["12x12"],
    ]
    if "--large" in sys.argv:
        sizes.append(fanin.Case("50x50", 50, 400.0, 250.0, 1000, 420.0))  # 1,000 signal nets
    rows = []
    print(f"{'die':>7} {'pads':>5} {'nets':>5} {'routed':>6} {'time s':>7}", flush=True)
    for case in sizes:
        n, ok, t = timed(dataclasses.replace(case), signal, order)
        rows.append((case, n, t))
        print(f"{case.name:>7} {case.pads:5d} {n:5d} {ok:6d} {t:7.2f}", flush=True)
    target = next(r for r in rows if r[0].pads == TARGET_PADS)
    print(
        f"{TARGET_PADS}-pad die ({target[1]} nets): {target[2]:.2f} s "
        f"(target < {TARGET_SECONDS:g} s on one core)"
    )
    n, t = np.log([r[1] for r in rows]), np.log([r[2] for r in rows])
    slope = float(np.polyfit(n, t, 1)[0])
    print(f"growth exponent (fit of log t on log nets): {slope:.2f}")
    last = rows[-1]
    if last[1] < 1000:
        print(
            f"1,000 nets extrapolated from {last[1]}: "
            f"{last[2] * math.exp(slope * math.log(1000 / last[1])):.0f} s"
        )


if __name__ == "__main__":
    main()
