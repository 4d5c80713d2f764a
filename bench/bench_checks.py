"""Check the full 300 mm wafer sample (samples/wlcsp_rdl_400.yaml: 3125 dies, 312 500 bumps)
with the whole rule deck, hierarchically.

Goal (issue 4): a few seconds, not the minutes of flattening every bump (measured: 0.26 s for check_design, 0.17 s for the deck; one rule flat: 163 s). ``--flat`` also times
one rule (the SM2 web) on a flattened copy, for the ratio.
Run: python bench/bench_checks.py [--flat]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import klayout.db as db

from masklayout import layout
from masklayout.checks import check_design, check_layout
from masklayout.spec import load

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "wlcsp_rdl_400.yaml"


def best(seconds: list[float]) -> str:
    return f"{min(seconds):.3f} s (best of {len(seconds)})"


def main(repeat: int = 3, flat: bool = False) -> None:
    design = load(SAMPLE)
    built = layout.build(design)
    whole, deck = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wafer.gds"
        layout.write(built, path)
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = check_design(design)
            whole.append(time.perf_counter() - t0)
            kl = db.Layout()
            kl.read(str(path))
            t0 = time.perf_counter()
            check_layout(kl, design.tech, design)
            deck.append(time.perf_counter() - t0)
        bumps = built.bumps_on_wafer
        print(f"wafer             {SAMPLE.name}: {built.dies.count} dies, {bumps} bumps")
        print(f"rules             {len(report.results)}, {report.errors} errors")
        print(f"check_design      {best(whole)}  (build, write, read, deck, step runner)")
        print(f"deck only         {best(deck)}")
        if flat:
            kl = db.Layout()
            kl.read(str(path))
            sm2 = db.Region(kl.top_cell().begin_shapes_rec(kl.find_layer(22, 0)))
            t0 = time.perf_counter()
            sm2.space_check(round(50 / kl.dbu))
            one_rule = time.perf_counter() - t0
            print(f"flat SM2 web      {one_rule:.3f} s for one rule on {sm2.count()} flat openings")
            print(f"ratio             one flat rule / whole hierarchical deck = {one_rule / min(deck):.0f}x")  # fmt: skip


if __name__ == "__main__":
    main(flat="--flat" in sys.argv)
