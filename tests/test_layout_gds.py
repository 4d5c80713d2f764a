"""The written GDS, read back with KLayout: counts, containment, enclosure, connectivity, areas,
hierarchy and byte-for-byte determinism."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import klayout.db as kdb
import pytest

from masklayout import layout, load, loads
from masklayout.geometry.shapes import MAX_CIRCLE_VERTICES
from masklayout.geometry.wafer import usable_radius
from tests.helpers import BASE_SPEC, SAMPLES, GdsReader

LAYOUT_SAMPLES = ["wlcsp_rdl_400", "wlcsp_on_pad", "three_masks_300mm"]


@pytest.fixture(scope="module", params=LAYOUT_SAMPLES)
def built(request, tmp_path_factory):
    design = load(SAMPLES / f"{request.param}.yaml")
    result = layout.build(design)
    path = tmp_path_factory.mktemp("gds") / f"{request.param}.gds"
    layout.write(result, path)
    return design, result, GdsReader(path, design.spec.tech)


def test_every_site_of_every_die_has_each_stack_layer(built):
    design, result, gds = built
    expected = result.dies.count * len(design.sites)
    assert result.dies.count > 0
    layers = ["UBM", "PI2", *{o.mask for s in design.spec.stacks.values() for o in s.openings}]
    for name in layers:
        assert gds.on_dies(name).count() == expected, name


def test_each_opening_contains_the_one_below_with_the_specified_margin(built):
    design, _, gds = built
    die = gds.cell(f"{design.spec.name}_DIE")
    for stack in design.spec.stacks.values():
        for below, above in zip(stack.openings, stack.openings[1:], strict=False):
            inner, outer = gds.region(below.mask, die), gds.region(above.mask, die)
            assert (inner - outer).is_empty(), f"{below.mask} sticks out of {above.mask}"
            margin = (above.diameter - below.diameter) / 2
            # chords of the polygonal circles sit cos(pi/n) closer; 2 nm for the grid
            slack = margin * (1 - math.cos(math.pi / MAX_CIRCLE_VERTICES)) + 0.002
            assert outer.enclosing_check(inner, gds.um(margin - slack)).is_empty()
            assert not outer.enclosing_check(inner, gds.um(margin + 0.01)).is_empty()


def test_every_die_lies_inside_the_usable_radius(built):
    design, result, gds = built
    dies, usable = gds.region("DIE"), gds.region("EXCLUSION")
    assert dies.count() == result.dies.count
    assert (dies - usable).is_empty()
    r = usable_radius(design.spec.wafer)
    box = dies.bbox()
    corners = [
        (box.left, box.bottom),
        (box.right, box.top),
        (box.left, box.top),
        (box.right, box.bottom),
    ]
    # the grid is symmetric only in its usable circle: no die corner is farther than r
    for polygon in dies.each():
        for point in polygon.each_point_hull():
            assert math.hypot(point.x, point.y) * gds.layout.dbu <= r
    assert all(math.hypot(x, y) * gds.layout.dbu > r / 2 for x, y in corners)


def test_rdl_connects_each_routed_pad_to_its_ubm(built):
    design, _, gds = built
    die = gds.cell(f"{design.spec.name}_DIE")
    rdl = gds.region("RDL", die, flat=True).merged()
    pads = {p.name: p for p in design.spec.die.pads}
    for route in design.spec.die.rdl.routes:
        pad, site = pads[route.pad], design.site(route.bump)
        pad_box = kdb.Region(
            kdb.Box(
                *(gds.um(v) for v in (pad.at[0] - 1, pad.at[1] - 1, pad.at[0] + 1, pad.at[1] + 1))
            )
        )
        ubm_point = kdb.Region(
            kdb.Box(*(gds.um(v) for v in (site.x - 1, site.y - 1, site.x + 1, site.y + 1)))
        )
        net = rdl.interacting(pad_box)
        assert net.count() == 1, f"no RDL on pad {pad.name}"
        assert not (net & ubm_point).is_empty(), f"RDL from {pad.name} does not reach {site.name}"
        assert not (gds.region("UBM", die, flat=True) & net).is_empty()


def test_ubm_and_opening_areas_match_the_spec_within_the_polygon_approximation(built):
    design, _, gds = built
    stack_name, stack = next(iter(design.spec.stacks.items()))
    cell = gds.cell(f"{design.spec.name}_STACK_{stack_name}")
    nominal = {
        "circle": lambda d: math.pi * d * d / 4,
        "square": lambda d: d * d,
        "octagon": lambda d: 2 * (math.sqrt(2) - 1) * d * d,
    }
    shapes = [("UBM", stack.ubm.shape, stack.ubm.diameter)]
    shapes += [(o.mask, stack.opening_shape(k), o.diameter) for k, o in enumerate(stack.openings)]
    for layer, kind, diameter in shapes:
        area = gds.region(layer, cell).area() * gds.layout.dbu**2
        # an inscribed 192-gon has (sin(2pi/n) n / 2pi) of the circle's area: -0.018 %
        assert area == pytest.approx(nominal[kind](diameter), rel=2e-4), layer


def test_regular_arrays_and_die_rows_are_arefs(built):
    design, result, _ = built
    die = result.library[f"{design.spec.name}_DIE"]
    arrays = [ref for ref in die.references if ref.repetition.size > 1]
    assert sum(ref.repetition.size for ref in die.references) == len(design.sites)
    if any(getattr(entry, "array", None) for entry in design.spec.die.bumps):
        assert arrays, "a bump array was written as single references"
    rows = [ref for ref in result.top.references if ref.repetition.size > 1]
    assert sum(ref.repetition.size for ref in result.top.references) == result.dies.count
    assert len(rows) < result.dies.count / 4


def test_no_polygon_has_more_than_199_vertices(built):
    _, result, _ = built
    for cell in result.library.cells:
        for polygon in cell.polygons:
            assert len(polygon.points) <= 199, cell.name


def test_two_builds_write_identical_bytes(tmp_path):
    design = loads(BASE_SPEC)
    a, b = tmp_path / "a.gds", tmp_path / "b.gds"
    layout.write(layout.build(design), a)
    layout.write(layout.build(loads(BASE_SPEC)), b)
    assert a.read_bytes() == b.read_bytes()


def test_die_only_writes_the_die_cell_as_top(tmp_path):
    design = loads(BASE_SPEC)
    path = tmp_path / "die.gds"
    layout.write(layout.build(design, die_only=True), path)
    gds = GdsReader(path)
    assert gds.top.name == "small_DIE"
    assert gds.region("UBM").count() == len(design.sites)
    assert gds.region("WAFER").is_empty()


def test_oasis_output_holds_the_same_geometry(tmp_path):
    design = loads(BASE_SPEC)
    built = layout.build(design)
    layout.write(built, tmp_path / "a.gds")
    layout.write(built, tmp_path / "a.oas")
    gds, oas = GdsReader(tmp_path / "a.gds"), GdsReader(tmp_path / "a.oas")
    for name in ("UBM", "SM2", "RDL", "DIE"):
        assert (gds.region(name) ^ oas.region(name)).is_empty(), name


def test_bump_on_pad_has_no_rdl_and_no_pi1(tmp_path):
    design = loads(BASE_SPEC)
    path = tmp_path / "a.gds"
    layout.write(layout.build(design, die_only=True), path)
    gds = GdsReader(path)
    x1 = design.site("X1")
    spot = kdb.Region(kdb.Box(*(gds.um(v) for v in (x1.x - 1, x1.y - 1, x1.x + 1, x1.y + 1))))
    assert not (gds.region("UBM") & spot).is_empty()
    assert (gds.region("RDL") & spot).is_empty()
    assert gds.region("PI1").count() == 2  # the two routed pads only


def test_write_leaves_no_partial_file_when_it_fails(tmp_path):
    built = layout.build(loads(BASE_SPEC))
    target = tmp_path / "out.gds"

    class FullDisk:
        def write_gds(self, path, **kwargs):
            Path(path).write_bytes(b"half a file")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        layout.write(dataclasses.replace(built, library=FullDisk()), target)
    assert list(tmp_path.iterdir()) == []
