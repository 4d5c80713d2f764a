"""Pictures a person looks at instead of reading: the wafer map, the die, and a close-up of each
opening stack, as PNG.

- Wafer map (matplotlib): outline with notch or flat, usable area, full and partial dies, with
  the die count, die step and grid offset in the title.
- Die (KLayout): the die cell of the built GDS drawn with the ``.lyp`` colours, all levels of
  hierarchy shown; pad and bump names over it where they stay readable (else the bump rows and
  columns on the margins, as on a datasheet), the A1 corner marked with a triangle and named, the
  keep-outs (drawn in no layer) as dashed, hatched outlines.
- Bump close-up (matplotlib), one per stack: the stack in plan view with every shape's diameter,
  and its section through the centre with the mask thicknesses.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from masklayout import layout
from masklayout.files import atomic_write, tail_check
from masklayout.geometry import wafer as wafer_geometry
from masklayout.geometry.shapes import ShapeName, shape_points
from masklayout.geometry.wafer import DieGrid
from masklayout.outputs import LAYER_STYLES, layer_styles, write_layer_properties
from masklayout.progress import SILENT, Progress
from masklayout.routing.model import Unrouted
from masklayout.spec import Design, Stack

DIE_IMAGE_PIXELS = 1200  # longest side of the die picture
DPI = 150
FULL_COLOR, PARTIAL_COLOR = "#4C8BD6", "#F2B8A0"
A1_COLOR = "#D62728"  # the A1 corner triangle
UNROUTED_COLOR = "#E377C2"  # where a net that did not route got stuck
KEEPOUT_COLOR = "#555555"  # die.keepout outlines
PAD_LABEL_COLOR, BUMP_LABEL_COLOR = "#1A237E", "#202020"
MAX_LABELS = 400  # names per kind (pads, bumps) drawn at most; beyond, rows and columns only
LABEL_POINTS = (3.0, 7.0)  # smallest readable and largest font size of a name
A1_SIDE = 0.06  # the A1 triangle's legs, as a share of the die's shorter side


@dataclass(frozen=True)
class Previews:
    """The pictures written: wafer map, die, and one close-up per stack (by stack name)."""

    wafer: Path
    die: Path
    bumps: dict[str, Path] = field(default_factory=dict)
    unrouted: tuple[Unrouted, ...] = ()  # nets drawn where they got stuck (allow_unrouted)

    def as_dict(self) -> dict:
        return {
            "wafer": str(self.wafer),
            "die": str(self.die),
            "bumps": {name: str(path) for name, path in self.bumps.items()},
            "unrouted": [u.net for u in self.unrouted],
        }


def _hex(name: str) -> str:
    return f"#{LAYER_STYLES[name].color:06x}"


def _figure(width: float, height: float):  # -> matplotlib Figure
    """A figure on the Agg canvas: no display, no global pyplot state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


PNG_CHECK = tail_check(b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82", "PNG picture")  # signature, IEND


def _save(fig, path: Path) -> Path:
    with atomic_write(path, PNG_CHECK) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, facecolor="white")
    return path


# --------------------------------------------------------------------------- wafer map
def _die_boxes(centers: np.ndarray, size: tuple[float, float]) -> np.ndarray:
    """Boxes (n × 4 × 2, mm) of ``size`` (µm) around ``centers`` (µm)."""
    hw, hh = size[0] / 2, size[1] / 2
    corners = np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    return (centers.reshape(-1, 1, 2) + corners) / 1000


def wafer_map(design: Design, grid: DieGrid, path: str | Path) -> Path:
    """Draw the wafer map: outline, usable area, full dies and partial (excluded) dies."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Polygon

    wafer, name = design.spec.wafer, design.spec.name
    fig = _figure(8, 8.6)
    ax = fig.add_axes((0.08, 0.06, 0.9, 0.82))
    outline = max(wafer_geometry.outline(wafer), key=lambda polygon: polygon.area())
    disc = ax.add_patch(
        Polygon(outline.points / 1000, facecolor="#F2F2F2", edgecolor="#303030", linewidth=1.2)
    )
    for polygon in wafer_geometry.usable_area(wafer):
        ax.add_patch(
            Polygon(
                polygon.points / 1000,
                fill=False,
                edgecolor=_hex("EXCLUSION"),
                linestyle="--",
                linewidth=1.2,
                zorder=3,
                label=f"usable area (edge exclusion {wafer.edge_exclusion / 1000:g} mm)",
            )
        )
    # dies drawn at the full step: the scribe is far below a pixel on a whole-wafer picture
    edge = 0.3 if grid.count + len(grid.partial) < 3000 else 0.15
    for centers, face, line, label in (
        (grid.centers, FULL_COLOR, "#1F3F66", f"full dies ({grid.count})"),
        (
            grid.partial,
            PARTIAL_COLOR,
            "#A0522D",
            f"partial dies, not written ({len(grid.partial)})",
        ),
    ):
        # an (n, 4, 2) array takes PolyCollection's fast path; its stubs ask for a Sequence
        dies = PolyCollection(
            _die_boxes(centers, grid.step),  # type: ignore[arg-type]
            facecolor=face,
            edgecolor=line,
            linewidth=edge,
            label=label,
        )
        ax.add_collection(dies)
        dies.set_clip_path(disc)
    r, bottom = wafer.diameter / 2000, outline.points[:, 1].min() / 1000
    ax.plot([0], [0], marker="+", color="#303030", markersize=12)
    if wafer.orientation != "none":
        ax.text(0, bottom - 0.02 * r, wafer.orientation, ha="center", va="top", fontsize=9)
    ax.set_xlim(-1.08 * r, 1.08 * r)
    ax.set_ylim(-1.12 * r, 1.08 * r)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    bumps = grid.count * len(design.sites)
    fig.suptitle(
        f"{name}: {grid.count} full dies, {bumps:,} bumps\n"
        f"wafer {wafer.diameter / 1000:g} mm, die step {grid.step[0]:g} × {grid.step[1]:g} µm, "
        f"grid offset ({grid.offset[0]:g}, {grid.offset[1]:g}) µm",
        fontsize=11,
    )
    return _save(fig, Path(path))


# --------------------------------------------------------------------------- die
def render_layout(gds: str | Path, lyp: str | Path, path: str | Path) -> tuple[float, ...]:
    """Render the top cell of ``gds``, all hierarchy levels, with the layer properties ``lyp``
    (KLayout, headless) as a PNG; return the drawn box (left, bottom, right, top) in µm."""
    import klayout.lay as lay

    view = lay.LayoutView()
    view.set_config("background-color", "#ffffff")
    view.set_config("grid-visible", "false")
    view.set_config("text-visible", "false")  # names are drawn over it where they fit
    view.load_layout(str(gds), False)
    view.load_layer_props(str(lyp))
    view.max_hier()
    view.zoom_fit()
    box = view.box()
    scale = DIE_IMAGE_PIXELS / max(box.width(), box.height())
    width, height = round(box.width() * scale), round(box.height() * scale)
    view.save_image_with_options(str(path), width, height, 0, 2, 0)  # 2× oversampled
    return (box.left, box.bottom, box.right, box.top)


def _layers_in(gds: str | Path, design: Design) -> list[str]:
    """Names of the tech layers that hold shapes in ``gds``."""
    import klayout.db as db

    found = db.Layout()
    found.read(str(gds))
    tags = {
        (info.layer, info.datatype)
        for index, info in zip(found.layer_indexes(), found.layer_infos(), strict=True)
        if not found.top_cell().begin_shapes_rec(index).at_end()
    }
    return [name for name, tag in design.tech.layers.items() if tag in tags]


def die_picture(
    design: Design,
    gds: str | Path,
    lyp: str | Path,
    path: str | Path,
    unrouted: Sequence[Unrouted] = (),
) -> Path:
    """The die as KLayout draws it with the ``.lyp`` colours, with axes in µm, a title, a
    legend of the layers it holds, pad and bump names, the A1 corner, the keep-outs, and a
    cross where each ``unrouted`` net got stuck."""
    return _save(die_figure(design, gds, lyp, unrouted), Path(path))


def die_figure(
    design: Design, gds: str | Path, lyp: str | Path, unrouted: Sequence[Unrouted] = ()
):  # -> matplotlib Figure
    """The figure :func:`die_picture` saves."""
    from matplotlib.patches import Patch

    fig = _figure(9.2, 8)
    ax = fig.add_axes((0.1, 0.08, 0.72, 0.83))
    with tempfile.TemporaryDirectory() as scratch:
        image = Path(scratch) / "die.png"
        left, bottom, right, top = render_layout(gds, lyp, image)
        from matplotlib.image import imread

        ax.imshow(imread(image), extent=(left, right, bottom, top), interpolation="antialiased")
    styles = layer_styles(design.tech)
    handles = [
        Patch(facecolor=f"#{styles[name].color:06x}", alpha=0.6 if name != "DIE" else 0.2,
              edgecolor=f"#{styles[name].color:06x}", label=name)
        for name in _layers_in(gds, design)
        if name != "TEXT"  # labels are not drawn
    ]  # fmt: skip
    handles += _draw_keepouts(ax, design)
    handles += _draw_unrouted(ax, unrouted)
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=9, frameon=False
    )
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    w, h = design.die_size
    fig.suptitle(
        f"{design.spec.name}: die {w:g} × {h:g} µm, {len(design.sites)} bumps, "
        f"{sum(net.routed for net in design.nets)} RDL nets",
        fontsize=11,
    )
    _label_die(ax, design)
    return fig


def _draw_keepouts(ax, design: Design) -> list:
    """The die's keep-outs (drawn in no layer) as dashed, hatched outlines, gid ``keepout I``;
    their legend entry, if any."""
    from matplotlib.patches import Polygon

    for i, keepout in enumerate(design.spec.die.keepout):
        ax.add_patch(
            Polygon(keepout.points(), closed=True, fill=False, hatch="xx", linestyle="--",
                    edgecolor=KEEPOUT_COLOR, linewidth=1, zorder=4, gid=f"keepout {i}")
        )  # fmt: skip
    if not design.spec.die.keepout:
        return []
    return [Polygon([(0, 0)], fill=False, hatch="xx", linestyle="--", edgecolor=KEEPOUT_COLOR,
                    label="keep-out")]  # fmt: skip


def _draw_unrouted(ax, unrouted: Sequence[Unrouted]) -> list:
    """A cross and the net's name where each unrouted net got stuck, gid ``unrouted NET``;
    their legend entry, if any."""
    import matplotlib.patheffects as effects
    from matplotlib.lines import Line2D

    halo = [effects.withStroke(linewidth=2, foreground="white")]
    for u in unrouted:
        ax.plot(*u.at, marker="X", markersize=10, color=UNROUTED_COLOR, markeredgecolor="white",
                zorder=7, gid=f"unrouted {u.net}")  # fmt: skip
        ax.annotate(f"{u.net} not routed", u.at, xytext=(6, 6), textcoords="offset points",
                    fontsize=7, color=UNROUTED_COLOR, zorder=7, path_effects=halo)  # fmt: skip
    if not unrouted:
        return []
    return [Line2D([], [], marker="X", linestyle="none", color=UNROUTED_COLOR,
                   label="net stuck here")]  # fmt: skip


def _points_per_um(ax) -> float:
    """Typographic points per µm on the drawn axes."""
    left, right = ax.get_xlim()
    return ax.get_window_extent().width / abs(right - left) * 72 / ax.figure.dpi


def _font_points(ax, xy: np.ndarray, longest: int) -> float:
    """A font size (pt) at which names ``longest`` characters long, centred on ``xy`` (µm), do
    not run into each other: from the nearest neighbour distance on the drawn axes; 0 when
    that is below :data:`LABEL_POINTS`'s smallest or there are more than :data:`MAX_LABELS`."""
    if len(xy) == 0 or len(xy) > MAX_LABELS:
        return 0.0
    if len(xy) == 1:
        return LABEL_POINTS[1]
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    size = float(gaps.min()) * _points_per_um(ax) / (0.62 * max(longest, 2))  # ~0.6 em glyphs
    size = min(size, LABEL_POINTS[1])
    return size if size >= LABEL_POINTS[0] else 0.0


def _label_die(ax, design: Design) -> None:
    """Pad and bump names where they fit (else JEDEC rows and columns on the margins) and the
    A1 corner triangle, named "A1" inside it, or beside the corner outside the die where it is
    too small."""
    import matplotlib.patheffects as effects
    from matplotlib.patches import Polygon

    halo = [effects.withStroke(linewidth=1.5, foreground="white")]
    pads, sites = design.spec.die.pads, design.sites
    under = {s.on_pad for s in sites}  # a pad under its bump is named below it
    groups = (
        (
            [p.name for p in pads],
            np.array([p.at for p in pads], float),
            ["top" if p.name in under else "center" for p in pads],
            np.array([p.size[1] / 2 if p.name in under else 0.0 for p in pads]),
            PAD_LABEL_COLOR,
        ),
        (
            [s.name for s in sites],
            np.array([(s.x, s.y) for s in sites], float),
            ["center"] * len(sites),
            np.zeros(len(sites)),
            BUMP_LABEL_COLOR,
        ),
    )
    for names, xy, aligns, drops, color in groups:
        xy = xy.reshape(-1, 2)
        size = _font_points(ax, xy, max((len(n) for n in names), default=0))
        for name, (x, y), align, drop in zip(names, xy, aligns, drops, strict=True) if size else ():
            ax.text(x, y - drop, name, ha="center", va=align, fontsize=size, color=color,
                    path_effects=halo, gid=f"label {name}")  # fmt: skip
    if sites and not _font_points(ax, groups[1][1].reshape(-1, 2), max(len(s.name) for s in sites)):
        _margin_labels(ax, design)

    w, h = design.die_size
    a1 = next(((s.x, s.y) for s in sites if s.name == "A1"), None)  # else JEDEC's top left
    sx, sy = (1, -1) if a1 is None else ((1 if a1[0] < 0 else -1), (1 if a1[1] < 0 else -1))
    cx, cy = -sx * w / 2, -sy * h / 2  # the corner; (sx, sy) points inward from it
    leg = A1_SIDE * min(w, h)
    if a1 is not None:
        leg = min(leg, 0.5 * float(np.hypot(a1[0] - cx, a1[1] - cy)))  # clear of bump A1
    ax.add_patch(
        Polygon(
            [(cx, cy), (cx + sx * leg, cy), (cx, cy + sy * leg)],
            closed=True, facecolor=A1_COLOR, edgecolor="none", zorder=5, gid="A1 corner",
        )
    )  # fmt: skip
    if leg * _points_per_um(ax) >= 24:  # room for the name inside
        ax.text(cx + sx * leg * 0.25, cy + sy * leg * 0.25, "A1", ha="center", va="center",
                fontsize=6, color="white", fontweight="bold", zorder=6, gid="A1 label")  # fmt: skip
    else:  # outside the corner, diagonally off the die: clear of the margin's rows and columns
        ax.annotate("A1", (cx, cy), xytext=(-3 * sx, -3 * sy), textcoords="offset points",
                    ha="right" if sx > 0 else "left", va="top" if sy > 0 else "bottom",
                    fontsize=7, color=A1_COLOR, fontweight="bold", zorder=6, gid="A1 label",
                    annotation_clip=False)  # fmt: skip


def _margin_labels(ax, design: Design) -> None:
    """Row letters left of the die and column numbers above it, at the bump rows and columns
    (JEDEC names: letters then digits), for a die with too many bumps to name each."""
    import re

    rows: dict[str, list[float]] = {}
    columns: dict[str, list[float]] = {}
    for site in design.sites:
        match = re.fullmatch(r"([A-Z]+)(\d+)", site.name)
        if match:
            rows.setdefault(match[1], []).append(site.y)
            columns.setdefault(match[2], []).append(site.x)
    if not rows:
        return
    w, h = design.die_size
    step = max(1, round(max(len(rows), len(columns)) / 40))  # at most ~40 per side
    for k, (row, ys) in enumerate(sorted(rows.items(), key=lambda item: -np.mean(item[1]))):
        if k % step == 0:
            ax.text(-w / 2, float(np.mean(ys)), f"{row} ", ha="right", va="center",
                    fontsize=5, color=BUMP_LABEL_COLOR, gid=f"row {row}")  # fmt: skip
    for k, (column, xs) in enumerate(sorted(columns.items(), key=lambda item: np.mean(item[1]))):
        if k % step == 0:
            ax.text(float(np.mean(xs)), h / 2, column, ha="center", va="bottom", rotation=90,
                    fontsize=5, color=BUMP_LABEL_COLOR, gid=f"column {column}")  # fmt: skip


# --------------------------------------------------------------------------- bump close-up
def _stack_layers(stack: Stack) -> list[tuple[str, ShapeName, float]]:
    """(layer, shape, diameter) of a stack's shapes, from the bottom up."""
    return [
        ("UBM", stack.ubm.shape, stack.ubm.diameter),
        ("PI2", stack.pi2.shape, stack.pi2.diameter),
        *(
            (opening.mask, stack.opening_shape(k), opening.diameter)
            for k, opening in enumerate(stack.openings)
        ),
    ]


def bump_closeup(design: Design, stack_name: str, path: str | Path) -> Path:
    """Draw one stack: plan view with each shape's diameter, and its section through the centre
    with the solder-mask thicknesses (UBM and PI2 drawn thin, not to scale)."""
    from matplotlib.patches import Polygon

    stack = design.spec.stacks[stack_name]
    layers = _stack_layers(stack)
    styles = layer_styles(design.tech)
    color = {name: f"#{styles[name].color:06x}" for name, _, _ in layers}
    widest = max(d for _, _, d in layers)
    fig = _figure(12, 5.6)
    plan = fig.add_axes((0.05, 0.1, 0.36, 0.75))
    section = fig.add_axes((0.47, 0.1, 0.51, 0.75))

    for name, kind, diameter in sorted(layers, key=lambda item: -item[2]):
        points = shape_points(kind, diameter)
        plan.add_patch(Polygon(points, facecolor=color[name], alpha=0.15, edgecolor="none"))
        plan.add_patch(
            Polygon(
                points,
                fill=False,
                edgecolor=color[name],
                linewidth=1.8,
                label=f"{name}  {kind} {diameter:g}",
            )
        )
    plan.plot([0], [0], marker="+", color="#303030")
    span = 0.62 * widest
    plan.set_xlim(-span, span)
    plan.set_ylim(-span, span)
    plan.set_aspect("equal")
    plan.legend(loc="upper left", fontsize=8, framealpha=0.9, handlelength=1.2)
    plan.set_title("plan view (µm)", fontsize=10)

    _draw_section(section, design, stack, color, reach=0.62 * widest)
    count = sum(site.stack == stack_name for site in design.sites)
    fig.suptitle(f"{design.spec.name}: stack {stack_name} ({count} bumps per die)", fontsize=11)
    return _save(fig, Path(path))


def _draw_section(ax, design: Design, stack: Stack, color: dict[str, str], reach: float) -> None:
    """The stack cut through its centre: PI2 and UBM as thin layers, then each solder mask with
    its opening, thickness and film."""
    from matplotlib.patches import Rectangle

    masks = design.spec.masks
    thin = 0.06 * sum(masks[o.mask].thickness for o in stack.openings)
    pi2, ubm = stack.pi2.diameter / 2, stack.ubm.diameter / 2
    for x0, x1 in ((-reach, -pi2), (pi2, reach)):
        ax.add_patch(Rectangle((x0, -thin), x1 - x0, thin, facecolor=color["PI2"], alpha=0.45))
    ax.add_patch(Rectangle((-ubm, 0), 2 * ubm, 0.5 * thin, facecolor=color["UBM"]))
    ax.add_patch(Rectangle((-pi2, -thin), 2 * pi2, thin, facecolor=color["UBM"]))
    ax.text(reach, -0.5 * thin, " PI2", va="center", fontsize=9, color=color["PI2"])
    ax.text(ubm, 0.5 * thin, " UBM", va="bottom", fontsize=9, color=color["UBM"])
    z = 0.0
    for opening in stack.openings:
        mask, half, tone = masks[opening.mask], opening.diameter / 2, color[opening.mask]
        middle = z + mask.thickness / 2
        for x0 in (-reach, half):
            ax.add_patch(
                Rectangle(
                    (x0, z), reach - half, mask.thickness, facecolor=tone, alpha=0.3, edgecolor=tone
                )
            )
        ax.annotate(
            "",
            (-half, middle),
            (half, middle),
            arrowprops={"arrowstyle": "<->", "color": tone, "linewidth": 0.9},
        )
        ax.text(0, middle, f"{opening.mask} Ø {opening.diameter:g}", ha="center", va="bottom",
                fontsize=9, color=tone)  # fmt: skip
        film = mask.film.replace("_", " ")
        ax.text(reach, middle, f" {opening.mask}: {mask.thickness:g} µm {film}", va="center",
                fontsize=9, color=tone)  # fmt: skip
        z += mask.thickness
    ax.set_xlim(-reach, 1.75 * reach)
    ax.set_ylim(-2 * thin, z * 1.08)
    ax.set_title("section through the centre (µm; UBM and PI2 not to scale)", fontsize=10)


# --------------------------------------------------------------------------- all of them
def write_previews(
    design: Design,
    directory: str | Path,
    progress: Progress = SILENT,
    allow_unrouted: bool = False,
) -> Previews:
    """Write the wafer map, the die and one close-up per stack into ``directory`` as
    ``NAME_wafer.png``, ``NAME_die.png``, ``NAME_bump_STACK.png``. Nets that do not route
    raise :class:`SpecError`, or with ``allow_unrouted`` are marked on the die where they got
    stuck."""
    directory, name = Path(directory), design.spec.name
    with progress.step("wafer map"):
        wafer = wafer_map(
            design, wafer_geometry.place_dies(design.spec.wafer), directory / f"{name}_wafer.png"
        )
    with progress.step("die"), tempfile.TemporaryDirectory() as scratch:
        gds, lyp = Path(scratch) / f"{name}.gds", Path(scratch) / f"{name}.lyp"
        built = layout.build(design, die_only=True, allow_unrouted=allow_unrouted)
        layout.write(built, gds)
        write_layer_properties(design.tech, lyp)
        unrouted = built.routing.result.unrouted if built.routing is not None else ()
        die = die_picture(design, gds, lyp, directory / f"{name}_die.png", unrouted)
    bumps = {
        stack: bump_closeup(design, stack, directory / f"{name}_bump_{stack}.png")
        for stack in progress.track(design.spec.stacks, "bump close-ups")
    }
    return Previews(wafer, die, bumps, tuple(unrouted))
