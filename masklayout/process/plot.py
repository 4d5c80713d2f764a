"""Cross-section pictures: one PNG per stack per step, to scale — masks with their openings,
unreflowed paste, the pre-solder body or ball (and a solid core), labelled.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state, no display).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from masklayout.files import write_bytes
from masklayout.process.results import Cap, RunResult, StackResult, StepResult
from masklayout.spec import Design, Mask, Stack

FILM_COLOURS = {"photoresist": "#e8a0c8", "dry_film": "#9fd39f"}
PASTE_COLOURS = ("#c9b27a", "#b59b5a", "#a3894a")
BALL_COLOUR, CORE_COLOUR, UBM_COLOUR = "#9aa4b1", "#5b6472", "#c8842a"


def plot_run(design: Design, result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write every stack's cross-sections into ``out_dir``: ``<stack>_<NN>_<step>.png``."""
    paths = []
    for stack in result.stacks:
        paths += plot_stack(stack, design.spec.stacks[stack.name], design.spec.masks, out_dir)
    return paths


def plot_stack(
    result: StackResult, stack: Stack, masks: Mapping[str, Mask], out_dir: str | Path
) -> list[Path]:
    """One PNG per step of one stack."""
    out = Path(out_dir)
    paths = []
    for n, step in enumerate(result.steps, start=1):
        png = cross_section(result.name, step, stack, masks)
        paths.append(write_bytes(out / f"{result.name}_{n:02d}_{step.step}.png", png))
    return paths


def cross_section(name: str, step: StepResult, stack: Stack, masks: Mapping[str, Mask]) -> bytes:
    """The PNG of one stack after one step."""
    level_of = {o.mask: k for k, o in enumerate(stack.openings)}
    thickness = [masks[o.mask].thickness for o in stack.openings]
    top = np.cumsum(thickness)
    half = [o.diameter / 2 for o in stack.openings]
    width = max(half) + 80.0
    height = max([top[-1], *(c.height_um for c in (step.cap, step.peak) if c)]) + 40.0

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.add_patch(Rectangle((-width, -12), 2 * width, 12, color="#d9d9d9", lw=0))
    ax.add_patch(
        Rectangle((-stack.ubm.diameter / 2, -4), stack.ubm.diameter, 4, color=UBM_COLOUR, lw=0)
    )
    ax.text(
        0, -14, f"UBM {stack.ubm.shape} {stack.ubm.diameter:g}", ha="center", va="top", fontsize=7
    )

    for mask in step.masks:
        k = level_of[mask]
        z0 = top[k] - thickness[k]
        film = masks[mask].film
        for x0, x1 in ((-width, -half[k]), (half[k], width)):
            ax.add_patch(
                Rectangle((x0, z0), x1 - x0, thickness[k], color=FILM_COLOURS[film], lw=0.5, ec="k")
            )
        ax.text(
            -width + 6, z0 + thickness[k] / 2, f"{mask} ({film}, {thickness[k]:g})",
            va="center", fontsize=7,
        )  # fmt: skip

    for i, layer in enumerate(sorted(step.paste, key=lambda p: -p.level)):
        outline = _staircase(half[: layer.level + 1], top[: layer.level + 1])
        ax.add_patch(
            Polygon(outline, closed=True, color=PASTE_COLOURS[i % 3], lw=0, hatch="..", alpha=0.9)
        )
        ax.text(
            half[layer.level] - 4, top[layer.level] - 6,
            f"{layer.solder}\n{layer.paste_volume_um3:,.0f} µm³", ha="right", va="top", fontsize=6,
        )  # fmt: skip

    if step.cap is not None:
        ax.add_patch(Polygon(_outline(step.cap), closed=True, color=BALL_COLOUR, ec="k", lw=0.8))
        if step.core is not None:
            ax.add_patch(Polygon(_outline(step.core), closed=True, color=CORE_COLOUR, lw=0))
        cap, peak = step.cap, step.peak
        if peak is not None:  # the molten body at the peak, dashed over the cooled one
            ax.add_patch(Polygon(_outline(peak), closed=True, fill=False, ec="#b03030", lw=0.8, ls="--"))  # fmt: skip
        ax.text(
            0, max(cap.height_um, peak.height_um if peak else 0.0) + 6,
            f"h {cap.height_um:.1f}  Ø {cap.diameter_um:.1f}  V {cap.volume_um3:,.0f} µm³"
            + (f"\nconfined by {step.confined_by} ({cap.regime})" if step.confined_by else "")
            + (
                f"\nat peak (dashed) h {peak.height_um:.1f}  Ø {peak.diameter_um:.1f}, "
                + (f"{peak.regime} in {step.peak_confined_by}" if step.peak_confined_by else "free")
                if peak is not None
                else ""
            )
            + ("\nsolid core" if step.core is not None else ""),
            ha="center", va="bottom", fontsize=7,
        )  # fmt: skip

    ax.set_xlim(-width, width)
    ax.set_ylim(-32, height + 30)
    ax.set_aspect("equal")
    ax.set_xlabel("µm")
    ax.set_ylabel("height above UBM, µm")
    ax.set_title(f"stack {name} after process[{step.index}]: {step.label}", fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _staircase(half: list[float], top: np.ndarray) -> np.ndarray:
    """Outline of the cavity of the first openings: each level as wide as its opening."""
    right = []
    z0 = 0.0
    for h, z1 in zip(half, top, strict=True):
        right += [(h, z0), (h, z1)]
        z0 = z1
    left = [(-x, z) for x, z in reversed(right)]
    return np.array(right + left)


def _outline(cap: Cap, points: int = 64) -> np.ndarray:
    """The body's profile mirrored about the axis: the shape the model gives (a free cap, or
    the confined profile against the walls)."""
    assert cap.shape is not None
    right = cap.shape.outline(points)
    left = np.column_stack((-right[::-1, 0], right[::-1, 1]))
    return np.concatenate([right, left])
