"""How build, run, check and size grow with the bumps on a die (issue 10, point 4).

A 300 mm wafer of square dies holding an n x n array of bumps at 400 um pitch (the die grows
with n: 2,500 bumps on a 20 mm die, 40,000 on an 80 mm die), the two-mask flow of claim 1.
Each step runs in a fresh process, timed, with its peak RSS (``ru_maxrss``); then the growth
exponent between the sizes (time ~ n^k). Steps:

- load-array: validate the spec with the bumps as one ``array`` entry;
- load-list:  the same bumps as an explicit list (``- {name: A1, at: [x, y]}``);
- load-block: the same list in block style (``- name: A1`` and ``at: [x, y]`` under it);
- load-csv:   the same bumps from a CSV bump map file;
- build:      load + build + write the GDS;
- run / check / size: the step runner, the whole deck (with balls), the inverse sizer;
- bumpmap:    ``--bumpmap`` of 10 mm dies with n/16 small bumps each (~600 x n/16 lines);
- check-web:  (only when named: ``--steps check-web 100 400``) the deck on an array at 48 um
              pitch that violates SM.WEB everywhere (a space check made ~490,000 edge
              pairs per 100 bumps; the web check makes one per pair of openings);
- check-many: (only when named) a flat layout from another tool: n square bumps at 400 um
              pitch on one die cell, each a UBM 210 um wide (UBM.W >= 215) around a PI2 opening
              200 um wide (UBM.EN.PI2 >= 15): 2 n violations, 10^5 at n = 50,000.

Goal: a 40,000-bump die builds, runs, checks and sizes in a few seconds each, under 500 MB.
Run: python bench/bench_scale.py [2500 10000 40000 ...] [--steps load-list,run] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = (
    "load-array",
    "load-list",
    "load-block",
    "load-csv",
    "build",
    "run",
    "check",
    "size",
    "bumpmap",
)
PITCH = 400.0

STACKS = """
stacks:
  std:
    ubm: {diameter: 250}
    pi2: {diameter: 220}
    openings: [{mask: SM1, diameter: 300}, {mask: SM2, diameter: 360}]
masks:
  SM1: {thickness: 40, film: dry_film, apply: laminate}
  SM2: {thickness: 120}
process:
  - {step: form_mask, mask: SM1}
  - {step: deposit, into: SM1, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: form_mask, mask: SM2}
  - {step: deposit, into: SM2, solder: SAC305-paste-T6}
  - {step: reflow, peak: 245}
  - {step: strip, masks: [SM1, SM2]}
"""


def spec_text(
    n: int, form: str, folder: Path, die_um: float | None = None, pitch: float = PITCH
) -> str:
    """A spec with an n x n bump array (``form``: array, list or csv)."""
    side = int(round(math.sqrt(n)))
    step = die_um if die_um is not None else side * pitch + 80
    head = (
        "masklayout: 1\nname: scale\ntech: wlcsp-400\n"
        f"wafer: {{diameter: 300 mm, die_step: [{step:g}, {step:g}], scribe: 80}}\n"
        "die:\n  bumps:\n"
    )
    coords = [
        (f"B{r}_{c}", (c - (side - 1) / 2) * pitch, ((side - 1) / 2 - r) * pitch)
        for r in range(side)
        for c in range(side)
    ]
    if form == "array":
        bumps = f"    - array: {{pitch: {pitch:g}, count: [{side}, {side}]}}\n"
    elif form == "list":
        bumps = "".join(f"    - {{name: {b}, at: [{x:g}, {y:g}]}}\n" for b, x, y in coords)
    elif form == "block":
        bumps = "".join(f"    - name: {b}\n      at: [{x:g}, {y:g}]\n" for b, x, y in coords)
    else:
        csv = folder / "bumps.csv"
        csv.write_text("name,x,y\n" + "".join(f"{b},{x:g},{y:g}\n" for b, x, y in coords))
        bumps = f"    - {{file: {csv.name}}}\n"
    return head + bumps + STACKS


def many_violations(n: int, path: Path) -> Path:
    """A flat die of n square bumps (UBM 210 um around PI2 200 um, 400 um pitch), written as GDS
    with the layers of wlcsp-400."""
    import klayout.db as db

    from masklayout.tech import load_tech

    tech = load_tech("wlcsp-400")
    side = int(round(math.sqrt(n)))
    kl = db.Layout()
    kl.dbu = 0.001
    die = kl.create_cell("DIE")
    half = side * PITCH / 2 + 200
    die.shapes(kl.layer(*tech.layer("DIE"))).insert(db.DBox(-half, -half, half, half))
    ubm, pi2 = (die.shapes(kl.layer(*tech.layer(name))) for name in ("UBM", "PI2"))
    for r in range(side):
        for c in range(side):
            x, y = (c - (side - 1) / 2) * PITCH, (r - (side - 1) / 2) * PITCH
            ubm.insert(db.DBox(x - 105, y - 105, x + 105, y + 105))
            pi2.insert(db.DBox(x - 100, y - 100, x + 100, y + 100))
    kl.write(str(path))
    return path


def one(step: str, n: int) -> dict:
    """Run one step in this process; seconds of the step itself (the load excluded after the
    load steps) and peak RSS of the whole process."""
    from masklayout import layout
    from masklayout.spec import load

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        form = {"load-list": "list", "load-block": "block", "load-csv": "csv"}.get(step, "array")
        if step == "check-web":  # 48 um pitch against a 30/50 um web: every neighbour too close
            side = int(round(math.sqrt(n)))
            text = spec_text(side**2, "array", folder, die_um=max(5000, side * 48 + 200), pitch=48)
            for old, new in (("250}", "30}"), ("220}", "25}"), ("300}", "35}"), ("360}", "40}")):
                text = text.replace(f"diameter: {old}", f"diameter: {new}")
            text = text[: text.index("process:")]
        elif step == "bumpmap":  # small bumps: 10 mm dies, n / 16 bumps each
            side = int(round(math.sqrt(n // 16)))
            text = spec_text(side**2, "array", folder, die_um=10_000, pitch=9000 / side)
            for old, new in (("250}", "20}"), ("220}", "15}"), ("300}", "25}"), ("360}", "30}")):
                text = text.replace(f"diameter: {old}", f"diameter: {new}")
        else:
            text = spec_text(n, form, folder)
        spec = folder / "spec.yaml"
        spec.write_text(text)
        t0, c0 = time.perf_counter(), time.process_time()
        design = load(spec)
        if step == "build":
            layout.write(layout.build(design), folder / "out.gds")
        elif step == "run":
            from masklayout.process import run

            t0, c0 = time.perf_counter(), time.process_time()
            run(design)
        elif step in ("check", "check-web"):
            from masklayout.checks import check_design

            t0, c0 = time.perf_counter(), time.process_time()
            check_design(design)
        elif step == "check-many":
            from masklayout.checks import check_gds

            t0, c0 = time.perf_counter(), time.process_time()
            report = check_gds(many_violations(n, folder / "many.gds"), design.tech)
            found = sum(r.count for r in report.results)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"seconds": seconds, "cpu": cpu, "rss_mb": rss}
    if step == "check-many":
        out["violations"] = found
    return out


def measure(step: str, n: int, timeout: float) -> dict | None:
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--one", step, str(n)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        return {"error": exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[2500, 10000, 40000])
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--one", nargs=2, metavar=("STEP", "N"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    print("wall/CPU seconds of the step, peak RSS of its process; exponent k of CPU ~ n^k")
    print(f"{'step':<11}" + "".join(f"{n:>22,}" for n in args.sizes) + "   exponent")
    for step in args.steps.split(","):
        cells, points = [], []
        for n in args.sizes:
            got = measure(step, n, args.timeout)
            if got is None:
                cells.append(f"> {args.timeout:g} s")
                break
            if "error" in got:
                cells.append(got["error"][:22])
                break
            cells.append(f"{got['seconds']:.2f}/{got['cpu']:.2f} s {got['rss_mb']:.0f} MB")
            points.append((n, got["cpu"]))
            if "violations" in got:
                print(f"{step} {n:,}: {got['violations']:,} violations", flush=True)
        cells += [""] * (len(args.sizes) - len(cells))
        slope = ""
        if len(points) >= 2 and min(s for _, s in points[-2:]) > 0:
            (n0, s0), (n1, s1) = points[-2:]
            slope = f"{math.log(s1 / s0) / math.log(n1 / n0):.2f}"
        print(f"{step:<11}" + "".join(f"{c:>22}" for c in cells) + f"   {slope}", flush=True)


if __name__ == "__main__":
    main()
