"""Benchmark the process-variation Monte Carlo: site-samples per second over every bump of
every die of a 300 mm wafer, through the step runner, with mask thickness, CD, fill and metal
content drawn per row (samples/variation_400.yaml's distributions).

Reports the processor time (one core: numpy runs the runner on one thread) and the wall clock,
for a few chunk sizes. Run on demand: ``python bench/bench_variation.py [--samples N]
[--spec SPEC] [--variation VAR]``. The default's balls are free caps; for the slower paths give
``--spec samples/flow_confined_sm1.yaml`` (balls confined by SM1 at the last reflow) or
``samples/flow_c4_composite.yaml`` (two alloys: each row its own mix on the phase diagram).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from masklayout.process.flow import plan_flow
from masklayout.spec import load
from masklayout.variation import load as load_variation
from masklayout.variation import monte_carlo
from masklayout.variation.montecarlo import CHUNK_ROWS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(SAMPLES / "wlcsp_rdl_400.yaml"))
    parser.add_argument("--variation", default=str(SAMPLES / "variation_400.yaml"))
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()

    design = load(args.spec)
    variation = load_variation(args.variation, design, plan_flow(design)).variation
    variation = variation.model_copy(update={"samples": args.samples})
    print(f"{design.spec.name}: {len(design.sites)} bumps per die, {args.samples} samples")
    for chunk in (CHUNK_ROWS // 4, CHUNK_ROWS, CHUNK_ROWS * 4):
        start, cpu = time.perf_counter(), time.process_time()
        result = monte_carlo(design, variation, chunk_rows=chunk)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        n = result.site_samples
        print(
            f"chunk {chunk:>7,} rows: {n:,} site-samples ({result.dies:,} dies): "
            f"Monte Carlo {result.cpu_seconds:.2f} s processor = {result.rate / 1e6:.2f} M/s, "
            f"{result.seconds:.2f} s wall = {n / result.seconds / 1e6:.2f} M/s; "
            f"with the nominal run {cpu:.2f} s processor, {wall:.2f} s wall"
        )
    s = result.stacks[0]
    print(
        f"height {s.mean_height:.2f} ± {s.sigma_height:.2f} µm (nominal {s.nominal_height:.2f}), "
        f"coplanarity mean {result.coplanarity_mean:.2f} µm, worst "
        f"{result.coplanarity_worst.value:.2f} µm, P(bridge) {result.bridge_probability:.3g}"
    )


if __name__ == "__main__":
    main()
