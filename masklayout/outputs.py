"""Files written next to the layout for people and tools: the KLayout layer-properties file
(``.lyp``), the bump map and the wafer map (CSV), and the atomic-write helper they all use.

Wafer maps count die positions on the grid through the wafer's grid offset: ``column`` from the
left, ``row`` from the bottom (notch or flat down), both 0 at the first position that touches
the wafer. Full dies carry their index in the layout (rows bottom to top, left to right, the
order of :attr:`DieGrid.centers`); partial dies (touching the wafer, not inside the usable area)
carry none. Coordinates are micrometres with 3 decimals (the 1 nm grid).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masklayout.files import atomic_write, klayout_error, tail_check
from masklayout.geometry.wafer import DieGrid
from masklayout.progress import SILENT, Progress
from masklayout.spec import Design, Site
from masklayout.tech import Tech

BUMPMAP_HEADER = (
    "die",
    "die_column",
    "die_row",
    "bump",
    "die_x_um",
    "die_y_um",
    "wafer_x_um",
    "wafer_y_um",
    "stack",
    "net",
)
WAFERMAP_HEADER = ("die", "column", "row", "x_um", "y_um", "status")


# --------------------------------------------------------------------------- layer properties
@dataclass(frozen=True)
class LayerStyle:
    """How KLayout draws a layer: colour (0xRRGGBB), built-in stipple index, frame width in
    pixels, and whether layers below show through."""

    color: int
    stipple: int
    width: int = 1
    transparent: bool = False


# KLayout built-in stipples: 0 solid, 1 hollow, 2 dotted, 3 coarsely dotted, 5 lightly
# left-hatched, 9 lightly right-hatched, 12 cross-hatched, 13 lightly cross-hatched.
# The solder masks are sparse hatches in three directions, drawn transparent, so a stack of
# openings reads as nested rings of distinct colours.
LAYER_STYLES: dict[str, LayerStyle] = {
    "WAFER": LayerStyle(0x303030, 1, width=2),
    "EXCLUSION": LayerStyle(0x2E8B57, 1, width=1),
    "DIE": LayerStyle(0x808080, 1, width=1),
    "PAD": LayerStyle(0xC9A227, 3),
    "PI1": LayerStyle(0xFF7F0E, 12, width=2),
    "RDL": LayerStyle(0xB87333, 3),
    "PI2": LayerStyle(0x8E44AD, 1, width=2, transparent=True),
    "UBM": LayerStyle(0x5D6D7E, 3, transparent=True),
    "SM1": LayerStyle(0xD62728, 5, width=2, transparent=True),
    "SM2": LayerStyle(0x1F5FD6, 9, width=2, transparent=True),
    "SM3": LayerStyle(0x1A9641, 13, width=2, transparent=True),
    "TEXT": LayerStyle(0x000000, 1),
}
# For layers a tech file adds beyond the default map: distinct colours, light hatches.
_EXTRA_COLORS = (0x17BECF, 0xE377C2, 0xBCBD22, 0x7F7F00, 0x9467BD, 0x8C564B)
_EXTRA_STIPPLES = (5, 9, 13, 3)


def layer_styles(tech: Tech) -> dict[str, LayerStyle]:
    """A style for every layer of the tech's layer map, in its order."""
    styles, extra = {}, 0
    for name in tech.layers:
        if name in LAYER_STYLES:
            styles[name] = LAYER_STYLES[name]
        else:
            styles[name] = LayerStyle(
                _EXTRA_COLORS[extra % len(_EXTRA_COLORS)],
                _EXTRA_STIPPLES[extra % len(_EXTRA_STIPPLES)],
                transparent=True,
            )
            extra += 1
    return styles


def layer_label(name: str, tag: tuple[int, int]) -> str:
    """The name a layer shows in KLayout's layer list: ``SM1 21/0``."""
    return f"{name} {tag[0]}/{tag[1]}"


def write_layer_properties(tech: Tech, path: str | Path) -> Path:
    """Write a KLayout layer-properties file naming and styling every layer of ``tech``."""
    import klayout.lay as lay  # the layout view is only needed here

    view = lay.LayoutView()
    for name, style in layer_styles(tech).items():
        tag = tech.layer(name)
        props = lay.LayerPropertiesNode()
        props.name = layer_label(name, tag)
        props.source_layer, props.source_datatype = tag
        props.frame_color = props.fill_color = style.color
        props.dither_pattern = style.stipple
        props.width = style.width
        props.transparent = style.transparent
        view.insert_layer(view.end_layers(), props)
    with atomic_write(path, LYP_CHECK) as tmp:
        try:
            view.save_layer_props(str(tmp))
        except RuntimeError as exc:
            raise klayout_error(exc) from None
    return Path(path)


LYP_CHECK = tail_check(b"<?xml", b"</layer-properties>\n", "layer properties file")


def layer_properties_path(layout_path: str | Path) -> Path:
    """Where the ``.lyp`` of a layout goes: beside it, same stem (``x.gds.gz`` -> ``x.lyp``)."""
    path = Path(layout_path)
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    return path.with_suffix(".lyp")


# --------------------------------------------------------------------------- wafer map
@dataclass(frozen=True)
class DiePositions:
    """Every grid position touching the wafer: full dies first (die index order), then partial."""

    x: np.ndarray
    y: np.ndarray
    column: np.ndarray
    row: np.ndarray
    full: np.ndarray

    @property
    def count(self) -> int:
        return len(self.x)


def die_positions(grid: DieGrid) -> DiePositions:
    """Grid positions with their column and row (0 at the leftmost column and bottom row)."""
    centers = np.concatenate((grid.centers, grid.partial)).reshape(-1, 2)
    index = np.rint((centers - np.asarray(grid.offset)) / np.asarray(grid.step)).astype(np.int64)
    index -= index.min(axis=0) if len(index) else 0
    full = np.arange(len(centers)) < grid.count
    return DiePositions(centers[:, 0], centers[:, 1], index[:, 0], index[:, 1], full)


def write_wafermap(grid: DieGrid, path: str | Path) -> int:
    """Write every die position on the wafer (index, column, row, centre, full or partial) as
    CSV; return the number of positions written."""
    dies = die_positions(grid)
    with atomic_write(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(WAFERMAP_HEADER)
        for i, (x, y, col, row, full) in enumerate(
            zip(
                dies.x.tolist(),
                dies.y.tolist(),
                dies.column.tolist(),
                dies.row.tolist(),
                dies.full.tolist(),
                strict=True,
            )
        ):
            writer.writerow(
                (i if full else "", col, row, f"{x:.3f}", f"{y:.3f}", "full" if full else "partial")
            )
    return dies.count


# --------------------------------------------------------------------------- bump map
def site_net(design: Design, site: Site) -> str:
    """A bump's net (given in the spec, else named after the bond pad it sits on or is routed
    to), or nothing."""
    return _site_nets(design, [site])[0]


def _site_nets(design: Design, sites: Sequence[Site]) -> list[str]:
    """:func:`site_net` of each of ``sites``."""
    nets = (design.net_of(f"bump {s.name}") for s in sites)
    return [net.name if net else "" for net in nets]


def _csv_fields(*fields: str) -> str:
    """Fields as one CSV fragment, quoted where needed."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def write_bumpmap(
    design: Design, grid: DieGrid, path: str | Path, progress: Progress = SILENT
) -> int:
    """Write every bump of every full die as CSV (die index, column and row, bump, die and wafer
    coordinates, stack, net); return the number of bumps written."""
    dies = die_positions(grid)
    xy = np.array([(s.x, s.y) for s in design.sites], dtype=float).reshape(-1, 2)
    site_fields = [
        (_csv_fields(s.name, f"{s.x:.3f}", f"{s.y:.3f}"), _csv_fields(s.stack, net))
        for s, net in zip(design.sites, _site_nets(design, design.sites), strict=True)
    ]
    with atomic_write(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        out.write(",".join(BUMPMAP_HEADER) + "\n")
        for die in progress.track(range(grid.count), "bump map", length=grid.count):
            prefix = f"{die},{dies.column[die]},{dies.row[die]},"
            wafer = grid.centers[die] + xy  # one die at a time: memory does not grow with dies
            out.writelines(
                f"{prefix}{site},{x:.3f},{y:.3f},{tail}\n"
                for (site, tail), x, y in zip(
                    site_fields, wafer[:, 0].tolist(), wafer[:, 1].tolist(), strict=True
                )
            )
    return grid.count * len(design.sites)
