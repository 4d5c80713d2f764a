"""Build and write a full 300 mm wafer: 20 x 20 mm dies holding a 50 x 50 bump array.

Goal (issue 2): well under a second, and a GDS under 1 MB thanks to the hierarchy.
Run: python bench/bench_build.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from masklayout import layout, loads

SPEC = """
masklayout: 1
name: big
tech: wlcsp-400
wafer: {diameter: 300 mm, die_step: [20080, 20080], scribe: 80}
die:
  bumps:
    - array: {pitch: 380, count: [50, 50]}
stacks:
  std:
    ubm: {diameter: 250}
    pi2: {diameter: 220}
    openings: [{mask: SM1, diameter: 270}, {mask: SM2, diameter: 330}]
masks:
  SM1: {thickness: 50}
  SM2: {thickness: 100, film: dry_film}
"""


def main(repeat: int = 5) -> None:
    times = {"load": [], "build": [], "write": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.gds"
        for _ in range(repeat):
            t0 = time.perf_counter()
            design = loads(SPEC)
            t1 = time.perf_counter()
            built = layout.build(design)
            t2 = time.perf_counter()
            size = layout.write(built, path)
            t3 = time.perf_counter()
            for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[key].append(value)
    best = {key: min(values) for key, values in times.items()}
    print(
        f"dies {built.dies.count}, bumps per die {built.bumps_per_die}, bumps on the wafer {built.bumps_on_wafer:,}"
    )
    print(
        f"load {best['load'] * 1e3:.0f} ms, build {best['build'] * 1e3:.0f} ms, write {best['write'] * 1e3:.0f} ms "
        f"(best of {repeat}); total {sum(best.values()) * 1e3:.0f} ms"
    )
    print(f"GDS {size / 1024:.1f} KiB ({size / 1e6:.3f} MB)")


if __name__ == "__main__":
    main()
