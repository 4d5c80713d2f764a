"""Flat per-mask export of a full wafer: time, peak memory and file sizes, streamed against
flattening in memory.

The wafer: 20 x 20 mm dies, an N x N bump array each (100 x 100 = 10^4 by default), every mask
layer the die draws (RDL captures, PI2, UBM, SM1, SM2) written flat, as drawn (no mirror, no
inversion), so every variant writes the same polygons:

- ``stream-oas``: ``split.write_flat_split`` to OASIS (repetitions, CBLOCKs), die by die;
- ``stream-gds``: the same to GDSII (a BOUNDARY per polygon);
- ``gdstk``: per layer, gdstk flattens the wafer's polygons of the layer into one cell and
  writes it (``Cell.get_polygons`` + ``Library.write_gds``), one layer at a time;
- ``klayout``: KLayout reads the hierarchical GDS, flattens the wafer and writes each layer
  as OASIS (``SaveLayoutOptions``: compression level 2, CBLOCKs).

Each variant runs in its own process, started by a measuring process that reads
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` once the variant has exited: the peak
resident memory of that variant alone (loading and building the spec included).

``--jobs N`` writes the masks of the streamed variants in N processes (``--jobs`` of the CLI;
the peak is then the largest of the processes, the time the wall-clock of the whole export).

Run: python bench/bench_export.py [--diameter 300] [--bumps 100] [--variants stream-oas,...]
                                  [--jobs 2]
     python bench/bench_export.py --compare-wafers    (200 vs 300 mm, streamed: peak memory)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("stream-oas", "stream-gds", "gdstk", "klayout")


def spec_text(diameter_mm: int, bumps: int) -> str:
    """A wafer of 20 x 20 mm dies with a ``bumps`` x ``bumps`` array at 190 um pitch."""
    return f"""
masklayout: 1
name: big
tech: wlcsp-400
wafer: {{diameter: {diameter_mm} mm, die_step: [20080, 20080], scribe: 80}}
die:
  bumps:
    - array: {{pitch: 190, count: [{bumps}, {bumps}]}}
stacks:
  std:
    ubm: {{diameter: 120}}
    pi2: {{diameter: 100}}
    openings: [{{mask: SM1, diameter: 140}}, {{mask: SM2, diameter: 170}}]
masks:
  SM1: {{thickness: 50}}
  SM2: {{thickness: 100, film: dry_film}}
"""


def worker(variant: str, diameter: int, bumps: int, out: Path, jobs: int = 1) -> dict:
    """Run one variant in this process; return its time and output size."""
    from masklayout import layout, loads, split
    from masklayout.geometry import marks
    from masklayout.tech import Exposure

    t0 = time.perf_counter()
    design = loads(spec_text(diameter, bumps))
    built = layout.build(design)
    t1 = time.perf_counter()
    cells = {cell.name: cell for cell in built.library.cells}
    layers = marks.mask_layers(design, cells["big_DIE"])
    if variant.startswith("stream"):
        fmt = variant.split("-")[1]
        manifest = split.write_flat_split(
            design, built.library, out, fmt, Exposure(mirror=False, tone="dark"), jobs
        )
        polygons = sum(m["counts"]["polygons"] for m in manifest["masks"])
    elif variant == "gdstk":
        import gdstk

        polygons = 0
        for name in layers:
            layer, datatype = design.tech.layer(name)
            flat = gdstk.Cell(f"big_{name}")
            flat.add(*built.top.get_polygons(layer=layer, datatype=datatype))
            polygons += len(flat.polygons)
            library = gdstk.Library("big", unit=1e-6, precision=1e-9)
            library.add(flat)
            out.mkdir(parents=True, exist_ok=True)
            library.write_gds(out / f"big_{name}.gds", max_points=8190)
            del flat, library
    else:
        import klayout.db as kdb

        layout.write(built, out.with_suffix(".gds"))  # KLayout's input, counted in export
        read = kdb.Layout()
        read.read(str(out.with_suffix(".gds")))
        out.with_suffix(".gds").unlink()
        top = read.top_cell()
        read.flatten(top.cell_index(), -1, True)
        out.mkdir(parents=True, exist_ok=True)
        polygons = 0
        for name in layers:
            index = read.find_layer(*design.tech.layer(name))
            polygons += top.shapes(index).size()
            options = kdb.SaveLayoutOptions()
            options.format = "OASIS"
            options.oasis_compression_level = 2
            options.oasis_write_cblocks = True
            options.deselect_all_layers()
            options.add_layer(index, read.get_info(index))
            read.write(str(out / f"big_{name}.oas"), options)
    t2 = time.perf_counter()
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "variant": variant
        if jobs == 1 or not variant.startswith("stream")
        else f"{variant} j{jobs}",
        "diameter_mm": diameter,
        "bumps_per_die": bumps * bumps,
        "dies": built.dies.count,
        "polygons": polygons,
        "build_s": round(t1 - t0, 2),
        "export_s": round(t2 - t1, 2),
        "bytes": size,
    }


def measure(variant: str, diameter: int, bumps: int, jobs: int = 1) -> dict:
    """Run one variant in a child process; its result with the child's peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", variant, "--diameter", str(diameter),
             "--bumps", str(bumps), "--jobs", str(jobs), "--out", str(Path(tmp) / "out")],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    result = json.loads(done.stdout)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return result


def isolated(variant: str, diameter: int, bumps: int, jobs: int = 1) -> dict:
    """:func:`measure` in a process of its own, so the children's peak is this variant's."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", variant, "--diameter", str(diameter),
         "--bumps", str(bumps), "--jobs", str(jobs)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def table(rows: list[dict]) -> None:
    print(
        f"{'variant':<14} {'wafer':>6} {'dies':>5} {'bumps/die':>9} {'polygons':>10} "
        f"{'build s':>8} {'export s':>9} {'peak MB':>8} {'MB out':>10}"
    )
    for r in rows:
        print(
            f"{r['variant']:<14} {r['diameter_mm']:>4}mm {r['dies']:>5} {r['bumps_per_die']:>9,} "
            f"{r['polygons']:>10,} {r['build_s']:>8.2f} {r['export_s']:>9.2f} "
            f"{r['peak_rss_mb']:>8} {r['bytes'] / 1e6:>10.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diameter", type=int, default=300, help="wafer diameter, mm")
    parser.add_argument("--bumps", type=int, default=100, help="bumps per die side")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--compare-wafers", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="processes for the streamed masks")
    parser.add_argument("--worker")
    parser.add_argument("--measure")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.diameter, args.bumps, args.out, args.jobs)))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.diameter, args.bumps, args.jobs)))
        return
    if args.compare_wafers:
        given = args.variants.split(",")
        variants = VARIANTS[:2] if given == list(VARIANTS) else given
        rows = [isolated(v, d, args.bumps) for v in variants for d in (200, 300)]
    else:
        variants = args.variants.split(",")
        rows = [isolated(v, args.diameter, args.bumps, args.jobs) for v in variants]
    table(rows)


if __name__ == "__main__":
    main()
