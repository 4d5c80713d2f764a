"""Geometry behaviours pinned against hand computations (deliberate-bug sample, bench/mutants.md)."""

from __future__ import annotations

import itertools
import math

import gdstk
import klayout.db as kdb
import numpy as np
import pytest

from masklayout import layout, spec
from masklayout.geometry.overlaps import connected_count
from masklayout.geometry.rdl import Routing, teardrops
from masklayout.geometry.shapes import shape_points
from masklayout.geometry.wafer import place_dies
from masklayout.routing import Net, RoutedNet, RoutingProblem, RoutingResult, Terminal
from tests.helpers import BASE_SPEC, GdsReader, full_dies


def _full_dies(usable: float, step: tuple[float, float], die: tuple[float, float], offset) -> set:
    """Centres of the dies of the grid through ``offset`` whose four corners lie in the usable
    circle, by brute force over every grid position."""
    (sx, sy), (w, h), found = step, die, set()
    for i, j in itertools.product(range(-30, 31), repeat=2):
        cx, cy = i * sx + offset[0], j * sy + offset[1]
        corners = [(cx + dx, cy + dy) for dx in (-w / 2, w / 2) for dy in (-h / 2, h / 2)]
        if all(math.hypot(x, y) <= usable for x, y in corners):
            found.add((round(cx, 3), round(cy, 3)))
    return found


def test_auto_grid_offset_picks_the_best_of_die_and_street_centred_per_axis():
    """A 5 x 3 mm step on a 100 mm wafer without notch (usable radius 50 - 3 = 47 mm): of the
    four placements (0 or half the x step) x (0 or half the y step) the street-centred one on
    both axes holds the most full dies; the x choice must use the x step, not the y step."""
    text = BASE_SPEC.replace("orientation: notch", "orientation: none").replace(
        "die_step: [3080, 2680]", "die_step: [5000, 3000]"
    )
    wafer = spec.loads(text, "spec.yaml").spec.wafer
    step, die = (5000.0, 3000.0), (4920.0, 2920.0)
    options = list(itertools.product((0.0, step[0] / 2), (0.0, step[1] / 2)))
    counts = {o: len(_full_dies(47000.0, step, die, o)) for o in options}
    best = max(options, key=lambda o: counts[o])
    assert best == (2500.0, 1500.0) and counts[best] > max(
        c for o, c in counts.items() if o != best
    )
    grid = place_dies(wafer)
    assert tuple(grid.offset) == best
    assert {(round(x, 3), round(y, 3)) for x, y in grid.centers} == _full_dies(
        47000.0, step, die, best
    )


def _rotated_routing(quarter_turns: int, half: float) -> tuple[Routing, RoutedNet]:
    """A two-capture net 500 um long leaving the die centre towards one die edge (0: +x, 1: +y,
    2: -x, 3: -y); the far capture (80 um square) ends 5 um from the die edge less 25 um
    RDL.EDGE when ``half`` is 545."""
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns]
    turn = np.array([(c, -s), (s, c)], dtype=float)
    square = np.array([(-40.0, -40.0), (40.0, -40.0), (40.0, 40.0), (-40.0, 40.0)])
    far_centre = turn @ np.array([500.0, 0.0])
    line = np.array([(0.0, 0.0), tuple(far_centre)])
    near, far = square, square + far_centre
    net = Net(name="N", terminals=(Terminal("pad P", near), Terminal("pad Q", far)), width=20.0)
    routed = RoutedNet(
        name="N", centrelines=(line,), polygons=(near, far), length=500.0, bends=0, width=20.0
    )
    outline = np.array([(-half, -half), (half, -half), (half, half), (-half, half)])
    problem = RoutingProblem(outline=outline, edge_clearance=25.0, space=10.0, nets=(net,), obstacles=())  # fmt: skip
    return Routing(problem=problem, result=RoutingResult(routed=(routed,), unrouted=())), routed


@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
def test_a_teardrop_keeps_rdl_edge_from_every_die_edge(quarter_turns: int):
    """The far drop's tip would reach 40 x 1.5 = 60 um past the far capture's centre, 560 from
    the die centre, inside the die (545) but within RDL.EDGE (25) of it: left out, towards any
    of the four edges; the near drop (at the centre) is kept."""
    routing, net = _rotated_routing(quarter_turns, half=545.0)
    drops = teardrops(routing, net)
    assert len(drops) == 1
    assert np.abs(drops[0]).max() <= 60.0  # the one kept is the near one, around the centre
    routing, net = _rotated_routing(quarter_turns, half=2000.0)
    assert len(teardrops(routing, net)) == 2  # far from the edge both drops are drawn


# --------------------------------------------------------------------------- sample 2
def test_every_circle_keeps_its_chords_within_the_tolerance_of_the_arc():
    """A circle of radius r drawn with n vertices on it strays r (1 - cos(pi / n)) from the arc
    between two vertices: at most TOLERANCE (0.01 um), unless the vertex cap (192) is reached."""
    for r in (3.0, 5.0, 20.0, 35.0, 50.0, 61.0, 73.0, 100.0):
        points = shape_points("circle", 2 * r)
        n = len(points)
        assert np.allclose(np.hypot(*points.T), r, atol=0.001)  # the vertices are on the circle
        assert n % 8 == 0 and (r * (1 - math.cos(math.pi / n)) <= 0.01 or n == 192), (r, n)
        assert r * (1 - math.cos(math.pi / (n - 8))) > 0.01 or n == 8  # and no more than needed


def test_a_rectangular_pad_is_written_its_width_across_and_its_height_high(tmp_path):
    """A 300 x 60 pad P9 at (0, -1150): read back, its PAD shape spans x -150..150, y -1180..-1120."""
    pads = "    - {name: IO, at: [1200, -1100], size: [260, 260]}\n"
    text = BASE_SPEC.replace(pads, pads + "    - {name: P9, at: [0, -1150], size: [300, 60]}\n")
    path = tmp_path / "die.gds"
    layout.write(layout.build(spec.loads(text, "spec.yaml"), die_only=True), path)
    read = GdsReader(path)
    boxes = {(b.left, b.bottom, b.right, b.top) for b in (p.bbox() for p in read.region("PAD", flat=True).each())}  # fmt: skip
    assert (read.um(-150), read.um(-1180), read.um(150), read.um(-1120)) in boxes


def _exact_usable_points(wafer: spec.Wafer) -> list[tuple[float, float]]:
    """Points on the boundary of the exact usable area: the circle of the radius less the
    exclusion, above the flat's exclusion line (flat wafers), every 0.1 degree."""
    r = wafer.diameter / 2 - wafer.edge_exclusion
    cut = -math.inf
    if wafer.orientation == "flat":  # SEMI 100 mm flat: 32.5 mm long
        cut = -math.sqrt((wafer.diameter / 2) ** 2 - 16250.0**2) + wafer.edge_exclusion
    points = [(r * math.cos(t), r * math.sin(t)) for t in np.radians(np.arange(0, 360, 0.1))]
    return [(x, y) for x, y in points if y > cut + 1.0]


@pytest.mark.parametrize("orientation", ["none", "flat"])
def test_the_drawn_usable_area_holds_the_exact_one(orientation: str, tmp_path):
    """The EXCLUSION outline read back holds every point of the exact usable circle (its edges
    lie outside it, a polygon through points on the circle would cut inside)."""
    text = BASE_SPEC.replace("orientation: notch", f"orientation: {orientation}")
    design = spec.loads(text, "spec.yaml")
    path = tmp_path / "wafer.gds"
    layout.write(layout.build(design), path)
    read = GdsReader(path)
    drawn = read.region("EXCLUSION", cell=read.top, flat=True).merged()
    assert drawn.count() == 1
    polygon = next(drawn.each())
    outside = [
        (x, y)
        for x, y in _exact_usable_points(design.spec.wafer)
        if not polygon.inside(kdb.Point(read.um(x), read.um(y)))
    ]
    assert not outside


@pytest.mark.parametrize(
    ("step", "die"),
    [((6080.0, 1580.0), (6000.0, 1500.0)), ((1580.0, 6080.0), (1500.0, 6000.0))],
)
def test_dies_near_the_notch_keep_the_exclusion_from_it_for_wide_and_tall_dies(step, die):
    """Long thin dies on a notched 100 mm wafer with 500 um exclusion, at four offsets: the full
    dies are those the brute-force counter finds (corners in the circle, at least the exclusion
    from the SEMI notch triangle)."""
    for offset in itertools.product((0.0, step[0] / 2, step[0] / 4), (0.0, step[1] / 2)):
        wafer = spec.Wafer(
            diameter=100000.0, edge_exclusion=500.0, die_step=step, scribe=80.0,
            grid_offset=offset, orientation="notch",
        )  # fmt: skip
        assert place_dies(wafer).count == full_dies(50000.0, 500.0, step, die, offset, notch=True)


@pytest.mark.parametrize(
    ("second", "pieces"),
    [
        ((10, 0), 1),  # sharing the edge x = 10
        ((10, 10), 2),  # meeting at the corner (10, 10) only: two pieces in the union
        ((10.001, 0), 2),  # one grid step apart
        ((5, 5), 1),  # overlapping
    ],
)
def test_shapes_that_touch_count_as_one_shape(second, pieces):
    """Two 10 um squares, the second moved by ``second``: the pieces their union makes
    (gdstk's boolean of the two, counted independently) are the shapes counted."""
    a = gdstk.rectangle((0, 0), (10, 10))
    b = gdstk.rectangle(second, (second[0] + 10, second[1] + 10))
    assert len(gdstk.boolean(a, b, "or")) == pieces
    assert connected_count([a, b]) == pieces
