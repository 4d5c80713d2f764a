"""Reports of a variation run: a terminal table, a JSON document, a per-die CSV and the wafer
heat maps (mean ball height and coplanarity per die)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from masklayout.files import write_bytes
from masklayout.spec import Wafer
from masklayout.table import format_table
from masklayout.variation.montecarlo import VariationResult, Worst

PPM = 1e6


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a Cpk of a spread-free process is null (its sigma says 0)."""
    return value if value is not None and math.isfinite(value) else None


def _worst(w: Worst | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"value_um": w.value, "die": w.die, "x_um": float(w.x), "y_um": float(w.y),
            "sample": w.sample}  # fmt: skip


def to_json(result: VariationResult) -> dict[str, Any]:
    """The run as plain data."""
    return {
        "name": result.name,
        "samples": result.samples,
        "seed": result.seed,
        "dies": result.dies,
        "sites_per_die": result.sites_per_die,
        "site_samples": result.site_samples,
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "site_samples_per_cpu_second": _finite(result.rate),
        "limits_from": result.limits_from,
        "stacks": {
            s.name: {
                "site_samples": s.site_samples,
                "height_um": {
                    "nominal": s.nominal_height,
                    "mean": s.mean_height,
                    "sigma": s.sigma_height,
                    "min": s.min_height,
                    "max": s.max_height,
                },
                "diameter_um": {
                    "nominal": s.nominal_diameter,
                    "mean": s.mean_diameter,
                    "sigma": s.sigma_diameter,
                    "min": s.min_diameter,
                    "max": s.max_diameter,
                },
                "limits_um": list(s.limits) if s.limits else None,
                "cpk": _finite(s.cpk),
                "outside_limits": s.outside,
            }  # fmt: skip
            for s in result.stacks
        },
        "coplanarity_um": {
            "mean": result.coplanarity_mean,
            "sigma": result.coplanarity_sigma,
            "worst": _worst(result.coplanarity_worst),
            "limit": result.coplanarity_limit,
            "die_samples_over_limit": result.coplanarity_over,
        },
        "bridging": {
            "gap_min_um": result.gap_min,
            "neighbour_pairs_per_die": result.pairs_per_die,
            "pair_samples_bridged": result.bridges,
            "pair_probability": result.bridge_probability,
            "die_probability": result.die_bridge_probability,
            "narrowest_gap": _worst(result.narrowest_gap),
        },
        "wall_touch": [
            {
                "step": t.step,
                "label": t.label,
                "masks": list(t.masks),
                "site_samples": t.site_samples,
                "touched": t.touched,
                "probability": t.probability,
                "by_stack": {
                    name: {"touched": hit, "site_samples": n, "probability": hit / n}
                    for name, (hit, n) in t.by_stack.items()
                },
                "by_mask": t.by_mask,
                "nominal_touching": list(t.nominal),
            }
            for t in result.wall_touch
        ],
    }


def to_table(result: VariationResult) -> str:
    """A readable report: the run, the balls per stack, coplanarity, bridging."""
    r = result
    lines = [
        f"variation: {r.samples} sample{'s' if r.samples > 1 else ''} × {r.dies:,} dies × "
        f"{r.sites_per_die:,} bumps = {r.site_samples:,} site-samples (seed {r.seed}) in "
        f"{r.seconds:.2f} s ({r.cpu_seconds:.2f} s of processor: "
        f"{r.rate / 1e6:.2f} M site-samples/s)",
        "",
    ]
    rows = [("stack", "", "nominal", "mean", "σ", "min", "max", "limits", "Cpk", "outside")]
    for s in r.stacks:
        limits = f"{s.limits[0]:.1f} – {s.limits[1]:.1f}" if s.limits else ""
        cpk = "" if s.cpk is None else ("∞" if math.isinf(s.cpk) else f"{s.cpk:.2f}")
        outside = f"{s.outside / s.site_samples * PPM:,.0f} ppm" if s.limits else ""
        rows.append((s.name, "height µm", f"{s.nominal_height:.2f}", f"{s.mean_height:.2f}",
                     f"{s.sigma_height:.2f}", f"{s.min_height:.2f}", f"{s.max_height:.2f}",
                     limits, cpk, outside))  # fmt: skip
        rows.append(("", "Ø µm", f"{s.nominal_diameter:.2f}", f"{s.mean_diameter:.2f}",
                     f"{s.sigma_diameter:.2f}", f"{s.min_diameter:.2f}", f"{s.max_diameter:.2f}",
                     "", "", ""))  # fmt: skip
    lines += format_table(rows, right={2, 3, 4, 5, 6, 8, 9})
    if r.limits_from:
        lines.append(f"height limits from the {r.limits_from}")
    w = r.coplanarity_worst
    die_samples = r.dies * r.samples
    lines += [
        "",
        f"coplanarity per die (highest less lowest ball): mean {r.coplanarity_mean:.2f} µm, "
        f"σ {r.coplanarity_sigma:.2f} µm; worst {w.value:.2f} µm on die {w.die} at "
        f"({w.x / 1000:.2f}, {w.y / 1000:.2f}) mm, sample {w.sample}",
    ]
    if r.coplanarity_limit is not None:
        lines.append(
            f"  limit {r.coplanarity_limit:g} µm (tech): {r.coplanarity_over:,} of "
            f"{die_samples:,} die-samples over ({r.coplanarity_over / die_samples * PPM:,.0f} ppm)"
        )
    lines.append(
        f"bridging (neighbour balls, molten at a reflow's peak or cooled, closer than "
        f"{r.gap_min:g} µm, BALL.GAP): "
        f"{r.bridges:,} of {r.pairs_per_die * die_samples:,} pair-samples "
        f"(p = {r.bridge_probability:.3g}); dies with a bridge: "
        f"{r.die_bridge_probability:.3g}"
    )
    if r.narrowest_gap is not None:
        g = r.narrowest_gap
        lines.append(
            f"  narrowest gap {g.value:.1f} µm on die {g.die} at ({g.x / 1000:.2f}, "
            f"{g.y / 1000:.2f}) mm, sample {g.sample}"
        )
    for t in r.wall_touch:
        stacks = ", ".join(f"{n} {hit / total:.3g}" for n, (hit, total) in t.by_stack.items())
        nominal = ", ".join(t.nominal) if t.nominal else "none"
        lines.append(
            f"melt against a mask wall at the peak of process[{t.step}] ({t.label}; "
            f"{' '.join(t.masks)} standing): {t.touched:,} of {t.site_samples:,} site-samples "
            f"(p = {t.probability:.3g}; by stack: {stacks}); nominal melts against it: {nominal}"
        )
    return "\n".join(lines)


def to_csv(result: VariationResult) -> str:
    """One row per die: index (as the wafer map's), centre, mean height, mean and worst
    coplanarity, samples with a bridge."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["die", "x_um", "y_um", "mean_height_um", "coplanarity_mean_um",
                     "coplanarity_max_um", "samples_bridged"])  # fmt: skip
    for i, (x, y) in enumerate(result.die_centers.tolist()):
        writer.writerow([i, f"{x:.3f}", f"{y:.3f}", f"{result.die_mean_height[i]:.6g}",
                         f"{result.die_coplanarity[i]:.6g}", f"{result.die_coplanarity_max[i]:.6g}",
                         int(result.die_bridged[i])])  # fmt: skip
    return out.getvalue()


# --------------------------------------------------------------------------- heat maps
HEIGHT_PNG, COPLANARITY_PNG = "variation_height.png", "variation_coplanarity.png"


def plot_maps(result: VariationResult, wafer: Wafer, out_dir: str | Path) -> list[Path]:
    """Write the wafer heat maps of mean ball height and of mean coplanarity per die."""
    worst = result.coplanarity_worst
    return [
        write_bytes(
            Path(out_dir, HEIGHT_PNG),
            heat_map(result, wafer, result.die_mean_height, "mean ball height per die, µm"),
        ),
        write_bytes(
            Path(out_dir, COPLANARITY_PNG),
            heat_map(
                result,
                wafer,
                result.die_coplanarity,
                "coplanarity per die (mean over samples), µm",
                mark=(worst.x, worst.y, f"worst {worst.value:.1f} µm"),
            ),
        ),
    ]


def heat_map(
    result: VariationResult,
    wafer: Wafer,
    values: np.ndarray,
    title: str,
    mark: tuple[float, float, str] | None = None,
) -> bytes:
    """A PNG of the wafer with each full die filled by its value's colour."""
    fig = Figure(figsize=(7, 6.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    mm = 1e-3
    radius = wafer.diameter / 2 * mm
    ax.add_patch(Circle((0, 0), radius, fill=False, lw=1.0, ec="k"))
    w, h = wafer.die_step[0] * mm, wafer.die_step[1] * mm  # the step: no seams between dies
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    colours = colormaps["viridis"]((values - low) / span)
    for (x, y), colour in zip(result.die_centers * mm, colours, strict=True):
        ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, color=colour, lw=0, antialiased=False))
    mappable = ScalarMappable(norm=Normalize(low, low + span), cmap="viridis")
    fig.colorbar(mappable, ax=ax, shrink=0.85)
    if mark is not None:
        ax.plot(mark[0] * mm, mark[1] * mm, marker="x", color="red", ms=10, mew=2)
        ax.annotate(mark[2], (mark[0] * mm, mark[1] * mm), xytext=(6, 6),
                    textcoords="offset points", color="red", fontsize=8)  # fmt: skip
    ax.set_xlim(-radius * 1.05, radius * 1.05)
    ax.set_ylim(-radius * 1.05, radius * 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel("x, mm")
    ax.set_ylabel("y, mm (notch at -y)")
    ax.set_title(
        f"{result.name}: {title}\n{result.samples} sample(s), {result.dies} dies, "
        f"{result.sites_per_die} bumps each",
        fontsize=9,
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
