"""The neck search behind the connectivity markers, fed plain regions on a coarse raster.

Geometry in um on a 1 nm grid, searched at a 10 um pitch (the finest pixel asked for; the grid's
origin is the lower left of the metal): necks narrower than a pixel, metal of one net closer than
two pixels but not touching. Where the cut must be comes from the boxes drawn here."""

from __future__ import annotations

import klayout.db as kdb

from masklayout.checks.connectivity import CONNECTIONS
from masklayout.checks.necks import narrowest_cut

UM = 1000
PITCH = 10 * UM


def region(*boxes: tuple[float, float, float, float]) -> kdb.Region:
    out = kdb.Region()
    for box in boxes:
        out.insert(kdb.Box(*(round(v * UM) for v in box)))
    return out


def within(cut: kdb.Box, box: tuple[float, float, float, float], margin: float) -> bool:
    """``cut`` (dbu) inside ``box`` (um) grown by ``margin`` um."""
    x0, y0, x1, y1 = (v * UM for v in box)
    m = margin * UM
    return x0 - m <= cut.left <= cut.right <= x1 + m and y0 - m <= cut.bottom <= cut.top <= y1 + m


def test_of_two_necks_inside_one_pixel_row_the_narrower_metal_is_cut():
    """A (seeded) -> an 8 um neck -> block M -> a 2 um neck -> B (seeded), both necks inside
    the pixel row y 40-50: each is one pixel wide on the grid, so only the metal across the
    pixel sides (8 against 2 um) tells them apart; the walk from A would stop at the first."""
    first, second = (100, 41, 200, 49), (300, 44, 400, 46)
    a, b = (0, 0, 100, 100), (400, 0, 500, 100)
    rdl = region(a, first, (200, 0, 300, 100), second, b)
    cut = narrowest_cut({"RDL": rdl}, [{"RDL": region(a)}, {"RDL": region(b)}], CONNECTIONS, PITCH)
    assert within(cut, second, 10)


def test_metal_of_the_net_a_pixel_apart_is_not_joined_on_the_grid():
    """A 22 um trace (seeded at its pad, the lower left of the metal at (-60, -35)) runs 500 um
    along a block (seeded) 12 um away, joined only by a 6 um bridge at the right end: pixels of
    row y 15-25 hold trace and those of row 25-35 block, side by side, yet no metal crosses
    between them, so the cut is the bridge, not a seam along the whole gap."""
    pad, bridge = (-60, -35, 0, 22), (490, 22, 496, 34)
    rdl = region(pad, (0, 0, 500, 22), (0, 34, 500, 200), bridge)
    seeds = [{"RDL": region(pad)}, {"RDL": region((200, 150, 300, 200))}]
    cut = narrowest_cut({"RDL": rdl}, seeds, CONNECTIONS, PITCH)
    assert within(cut, bridge, 10)


def test_a_neck_between_stacked_layers_is_found_through_the_via():
    """Group A holds a PAD; a PI1 opening joins it to an RDL bar whose 4 um neck leads to an RDL
    block; a PI2 opening joins the block to group B's UBM: the cut is the RDL neck."""
    neck = (200, 48, 300, 52)
    layers = {
        "PAD": region((0, 0, 100, 100)),
        "PI1": region((20, 20, 80, 80)),
        "RDL": region((10, 10, 200, 90), neck, (300, 0, 500, 100)),
        "PI2": region((380, 30, 420, 70)),
        "UBM": region((350, 0, 450, 100)),
    }
    seeds = [{"PAD": region((0, 0, 100, 100))}, {"UBM": region((350, 0, 450, 100))}]
    cut = narrowest_cut(layers, seeds, CONNECTIONS, PITCH)
    assert within(cut, neck, 10)
