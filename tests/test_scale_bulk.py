"""The steps that grow with the bumps on a die, made O(n log n): each fast path against an
independent brute-force computation on a small case."""

from __future__ import annotations

import gdstk
import klayout.db as kdb
import numpy as np
import pytest
import yaml

from masklayout import SpecError, bulk_yaml, load
from masklayout.checks import engine
from masklayout.checks.clusters import box_groups
from masklayout.checks.engine import check_layout
from masklayout.checks.report import to_table
from masklayout.geometry import wafer as wafer_geometry
from masklayout.geometry.marks import _disjoint, _within
from masklayout.geometry.overlaps import connected_count, overlapping_pairs
from masklayout.geometry.shapes import shape, shape_points
from masklayout.process import ball_diameters, run
from masklayout.process.summary import nearest_spaces
from masklayout.sizing import _web_bound
from masklayout.source import SourceMap
from masklayout.spec import Wafer
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC, SAMPLES


def _marks(node: yaml.Node) -> list[tuple[str, int, int]]:
    """(kind, line, column) of every node of a tree, depth first."""
    kind = next(k for k in ("Mapping", "Sequence", "Scalar") if isinstance(node, getattr(yaml, k + "Node")))  # fmt: skip
    out = [(kind, node.start_mark.line, node.start_mark.column)]
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            out += _marks(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _marks(key) + _marks(value)
    return out


def test_spec_parsed_once_gives_the_pure_python_loaders_data_and_positions() -> None:
    source = SourceMap(BASE_SPEC, "spec.yaml")
    assert source.data == yaml.load(BASE_SPEC, Loader=yaml.SafeLoader)
    assert _marks(source.node) == _marks(yaml.compose(BASE_SPEC, Loader=yaml.SafeLoader))


@pytest.mark.parametrize(
    "text", ["a: 1\n  b: 2\n", "a: [1, 2\n", "a:\n\t- 1\n"], ids=["indent", "open list", "tab"]
)
def test_yaml_errors_keep_the_pure_python_loaders_messages(text: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as expected:
        yaml.load(text, Loader=yaml.SafeLoader)
    mark = expected.value.problem_mark
    with pytest.raises(SpecError) as got:
        SourceMap(text, "x.yaml")
    assert str(got.value).startswith(f"x.yaml:{mark.line + 1}:{mark.column + 1}: not valid YAML: ")
    assert expected.value.problem in str(got.value)


def test_duplicate_keys_still_refused() -> None:
    with pytest.raises(SpecError, match=r"x.yaml:2:1: not valid YAML: duplicate key 'a'"):
        SourceMap("a: 1\na: 2\n", "x.yaml")


# --------------------------------------------------------------------------- neighbours
def _brute_spaces(xy: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(dist, np.inf)
    return dist.min(axis=1), (dist - (d[:, None] + d[None, :]) / 2).min(axis=1)


@pytest.mark.parametrize("seed", range(6))
def test_nearest_spaces_match_all_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    if seed % 3 == 0:  # a grid: ties everywhere
        side = int(np.ceil(np.sqrt(n)))
        xy = np.array([(400.0 * (k % side), 400.0 * (k // side)) for k in range(n)])
    else:
        xy = rng.uniform(-5000, 5000, size=(n, 2))
    if seed == 4:
        xy[1] = xy[0]  # two bumps on one spot
    d = rng.choice([250.0, 180.0, 300.0], size=n) if seed % 2 else np.full(n, 250.0)
    pitch, space = nearest_spaces(xy, d)
    want_pitch, want_space = _brute_spaces(xy, d)
    np.testing.assert_allclose(pitch, want_pitch, rtol=0, atol=1e-9)
    np.testing.assert_allclose(space, want_space, rtol=0, atol=1e-9)


def test_check_asks_the_flow_for_the_same_ball_diameters_as_run() -> None:
    design = load(SAMPLES / "flow_c1_two_masks.yaml")
    assert ball_diameters(design) == {s.name: s.ball.diameter_um for s in run(design).stacks}


# --------------------------------------------------------------------------- UBM overlaps
def _brute_overlaps(xy, kind, specs) -> set[tuple[int, int]]:
    out = set()
    for i in range(len(xy)):
        for j in range(i + 1, len(xy)):
            a = shape(*specs[kind[i]], tuple(xy[i]))
            b = shape(*specs[kind[j]], tuple(xy[j]))
            if sum(p.area() for p in gdstk.boolean(a, b, "and")) > 1e-6:
                out.add((i, j))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_overlapping_pairs_match_polygon_booleans(seed: int) -> None:
    rng = np.random.default_rng(seed)
    specs = [("circle", 250.0), ("octagon", 200.0), ("square", 150.0)]
    n = 120
    xy = np.round(rng.uniform(-1500, 1500, size=(n, 2)), 3)
    kind = rng.integers(0, len(specs), size=n)
    xy[1] = xy[0] + (250.0, 0.0)  # touching circles or squares do not overlap
    kind[:2] = 0
    xy[3] = xy[2] + (150.0, 0.0)
    kind[2:4] = 2
    outlines = [shape_points(s, d) for s, d in specs]
    got = overlapping_pairs(xy, kind, outlines)
    assert got.complete
    pairs = list(zip(got.i.tolist(), got.j.tolist(), strict=True))
    assert pairs == sorted(pairs)
    assert set(pairs) == _brute_overlaps(xy, kind, specs)
    assert (0, 1) not in pairs and (2, 3) not in pairs


def test_a_pile_of_overlapping_bumps_is_reported_per_entry_with_a_cap(spec_file) -> None:
    bumps = "".join(
        f"    - {{name: P{k}, stack: std, at: [{k % 7}, {k // 7}]}}\n" for k in range(60)
    )
    path = spec_file(("  bumps:\n", "  bumps:\n" + bumps))
    with pytest.raises(SpecError) as exc:
        load(path)
    text = str(exc.value)
    overlaps = [p for p in exc.value.problems if "overlaps the UBM" in p.message]
    assert len(overlaps) == 20  # entries 1..20 each overlap the bumps listed before them
    # bump P5 (entry 5) overlaps all of P0..P4: its first pair is with P0, then 4 more
    assert (
        "UBM of bump P5 at (5, 0) overlaps the UBM of bump P0 at (0, 0) (4 more overlapping pairs)"
        in text
    )
    # entries 21..59 and the array and the bump on a pad below them: one line
    rest = [p for p in exc.value.problems if p.message.endswith("have overlapping UBMs")]
    # P21..P59 and the array (its site at (100, 0) covers P0); not X1 on its pad
    assert [p.message for p in rest] == ["and 40 more bump entries have overlapping UBMs"]
    assert rest[0].path == "die.bumps"


def test_a_pile_of_overlapping_pads_is_reported_up_to_the_cap_then_counted(spec_file) -> None:
    # 8 more pads, 80 um square, 10 um apart in a row at y = -1200: each overlaps the 7 after
    # it, 28 pairs; 20 are reported at the later pad, the other 8 counted at die.pads
    pads = "".join(
        f"    - {{name: Q{k}, at: [{10 * k}, -1200], size: [80, 80]}}\n" for k in range(8)
    )
    path = spec_file(("  pads:\n", "  pads:\n" + pads))
    with pytest.raises(SpecError) as exc:
        load(path)
    overlaps = [p for p in exc.value.problems if "overlaps pad" in p.message]
    assert len(overlaps) == 20
    rest = [p for p in exc.value.problems if p.message.endswith("overlapping pads")]
    assert [(p.path, p.message) for p in rest] == [("die.pads", "and 8 more overlapping pads")]


def test_past_the_pair_budget_each_shape_is_tested_against_its_nearest() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 300, size=(80, 2))
    kind = np.zeros(80, dtype=np.int64)
    got = overlapping_pairs(xy, kind, [shape_points("circle", 250.0)], max_pairs=10)
    assert not got.complete
    nearest = [tuple(sorted((k, int(np.argsort(np.hypot(*(xy - xy[k]).T))[1])))) for k in range(80)]
    assert set(zip(got.i.tolist(), got.j.tolist(), strict=True)) == set(nearest)


# --------------------------------------------------------------------------- sizer
def _web_violated(design, stack_name: str, level: int, diameter: float, web: float) -> bool:
    """KLayout's own space check on the mask's openings (this die and its eight neighbours),
    with the openings of ``stack_name`` drawn ``diameter`` wide: is any web below ``web``?"""
    spec = design.spec
    mask = spec.stacks[stack_name].openings[level].mask
    sx, sy = spec.wafer.die_step
    region, count = kdb.Region(), 0
    for site in design.sites:
        stack = spec.stacks[site.stack]
        k = next((i for i, o in enumerate(stack.openings) if o.mask == mask), None)
        if k is None:
            continue
        d = diameter if site.stack == stack_name else stack.openings[k].diameter
        for dx in (-sx, 0, sx):
            for dy in (-sy, 0, sy):
                pts = shape_points(stack.opening_shape(k), d, (site.x + dx, site.y + dy))
                region.insert(kdb.Polygon([kdb.Point(round(x * 1000), round(y * 1000)) for x, y in pts]))  # fmt: skip
                count += 1
    merged = region.merged()
    return merged.count() < count or not merged.space_check(round(web * 1000)).is_empty()


def test_web_bound_is_where_klayouts_space_check_starts_to_fail(spec_file) -> None:
    path = spec_file(
        ("{name: X1, stack: std, on_pad: IO}", "{name: X1, stack: oct, on_pad: IO}"),
        (
            "stacks:\n",
            "stacks:\n  oct:\n    ubm: {shape: octagon, diameter: 250}\n    pi2: {diameter: 220}\n"
            "    openings: [{mask: SM1, diameter: 270}, {mask: SM2, diameter: 440}]\n",
        ),
    )
    design = load(path)
    web = 50.0
    bound, pitch = _web_bound(design, "std", 1, web)
    assert pitch == pytest.approx(400.0)
    assert bound < 320.0  # the octagon beside the array binds, not the array's own pitch
    assert not _web_violated(design, "std", 1, bound - 0.02, web)
    assert _web_violated(design, "std", 1, bound + 0.02, web)


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize("orientation", ["notch", "flat"])
def test_label_tests_glyph_by_glyph_agree_with_one_boolean_of_all(orientation: str) -> None:
    wafer = Wafer(diameter=100_000, orientation=orientation, die_step=(5000, 5000))
    usable, outline = wafer_geometry.usable_area(wafer), wafer_geometry.outline(wafer)
    glyphs = gdstk.text("MASK SM1 REV A", 800, (0, 0))
    seen = set()
    for x, y in [(0, 46_000), (-3000, 47_500), (-3000, -48_500), (-3000, -48_200), (0, 52_000)]:
        for margin in (0.0, 500.0, 1500.0):
            moved = [gdstk.Polygon(g.points + (x, y)) for g in glyphs]
            want_disjoint = not gdstk.boolean(moved, usable, "and")
            want_within = not gdstk.boolean(gdstk.offset(moved, margin), outline, "not")
            assert _disjoint(moved, usable) == want_disjoint, (x, y)
            assert _within(moved, margin, outline) == want_within, (x, y, margin)
            seen.add((want_disjoint, want_within))
    assert seen == {(True, True), (True, False), (False, True)}


# --------------------------------------------------------------------------- check markers
def _brute_components(boxes: np.ndarray) -> list[set[int]]:
    """Groups of boxes joined by overlapping or touching, over all pairs."""
    n = len(boxes)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            a, b = boxes[i], boxes[j]
            if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                parent[root(i)] = root(j)
    groups: dict[int, set[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), set()).add(i)
    return sorted(groups.values(), key=min)


def _groups(labels: np.ndarray) -> list[set[int]]:
    out: dict[int, set[int]] = {}
    for i, k in enumerate(labels.tolist()):
        out.setdefault(k, set()).add(i)
    return sorted(out.values(), key=min)


@pytest.mark.parametrize("seed", range(3))
def test_marker_clusters_are_the_groups_of_overlapping_boxes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # defects far apart (100 um), each a few hundred markers strewn over ~20 um, a few of them
    # long (a 60 um box among 1 um ones: another size class of the k-d trees)
    centres = rng.integers(0, 40, size=(12, 2)) * 100_000
    centres = np.unique(centres, axis=0)
    boxes, defect = [], []
    for k, (cx, cy) in enumerate(centres):
        for _ in range(int(rng.integers(1, 300))):
            defect.append(k)
            x, y = cx + rng.integers(-10_000, 10_000), cy + rng.integers(-10_000, 10_000)
            w, h = rng.integers(500, 8000, size=2) * (12 if rng.random() < 0.02 else 1)
            boxes.append((x - w // 2, y - h // 2, x + w // 2, y + h // 2))
    boxes.append((0, -5, 10, 0))  # touching the next one along an edge: one group
    boxes.append((10, -9, 20, -5))
    boxes = np.array(boxes, dtype=np.int64)
    want = _brute_components(boxes)
    assert len(want) > len(centres)
    assert _groups(box_groups(boxes)) == want


def test_a_rule_lists_its_worst_violations_and_counts_the_rest(monkeypatch) -> None:
    tech = load_tech("wlcsp-400")
    kl = kdb.Layout()
    kl.dbu = 0.001
    top = kl.create_cell("TOP")
    pi1 = kl.layer(*tech.layer("PI1"))
    widths = [30.0, 12.0, 25.0, 5.0, 33.0]  # PI1.W is 35: five narrow openings, far apart
    for k, w in enumerate(widths):
        top.shapes(pi1).insert(kdb.DBox(k * 1000, 0, k * 1000 + w, 200))
    full = check_layout(kl, tech).result("PI1.W")
    monkeypatch.setattr(engine, "MAX_LISTED", 2)
    capped = check_layout(kl, tech).result("PI1.W")
    assert full.count == capped.count == 5 and full.unlisted == 0
    assert sorted(v.value for v in full.violations) == pytest.approx(sorted(widths))
    assert [v.value for v in capped.violations] == pytest.approx([12.0, 5.0])  # by place
    assert capped.unlisted == 3 and capped.on_wafer == 5
    assert capped.worst == pytest.approx(5.0)
    assert "... and 3 less severe ones, not listed anywhere" in to_table(check_layout(kl, tech))


# --------------------------------------------------------------------------- listed bumps
def _listed(n: int, extra: str = "") -> str:
    rows = "".join(
        f"    - {{name: B{k}, at: [{k * 400 - 20_000}, -1.5]{extra}}}\n" for k in range(n)
    )
    return BASE_SPEC.replace("  bumps:\n", "  bumps:\n" + rows, 1)


def _block(n: int, extra: str = "") -> str:
    """``_listed`` with each bump a block mapping: ``- name: Bk`` and ``at:`` under it."""
    rows = "".join(
        f"    - name: B{k}\n      at: [{k * 400 - 20_000}, -1.5]\n{extra}" for k in range(n)
    )
    return BASE_SPEC.replace("  bumps:\n", "  bumps:\n" + rows, 1)


@pytest.mark.parametrize(
    "text",
    [
        _listed(200),
        _block(200),
        _block(200, "      stack: std\n      net: N1\n"),
        _block(100).replace("      at: [2400, -1.5]", "      at:\n        - 2400\n        - -1.5"),
        _block(100).replace("    - name: B7\n", "    - name: B7\n\n"),
        _block(100).replace("    - name: B9\n      at:", "    -   name: B9\n        at:"),
        _listed(200, ", stack: std, net: N1"),
        _listed(100).replace("name: B7,", "name: yes,").replace("[2400,", "[0x10,"),
        "notes: |\n" + "".join(f"  - {{name: B{k}, at: [1, 2]}}\n" for k in range(100)),
        "a: &list\n"
        + "".join(f"  - {{name: B{k}, at: [1, 2]}}\n" for k in range(100))
        + "b: *list\n",
    ],
    ids=[
        "bumps",
        "block",
        "block, stack and net",
        "block, nested",
        "block, blank line",
        "block, deeper dash",
        "stack and net",
        "yaml 1.1 scalars",
        "in a block scalar",
        "aliased",
    ],
)
def test_long_entry_lists_read_as_the_pure_python_loader_reads_them(text: str) -> None:
    source = SourceMap(text, "spec.yaml")
    assert source.data == yaml.load(text, Loader=yaml.SafeLoader)
    assert _marks(source.node) == _marks(yaml.compose(text, Loader=yaml.SafeLoader))


def test_block_entries_are_taken_by_the_fast_path_up_to_one_it_cannot_read() -> None:
    lines = _block(200).split("\n")
    first = next(k for k, line in enumerate(lines) if line == "    - name: B0")
    (run,) = bulk_yaml._runs(lines, yaml.SafeLoader)
    assert (run.first, run.end, len(run.data)) == (first, first + 400, 200)
    assert run.data[7] == {"name": "B7", "at": [-17200, -1.5]}
    # B150's point as a block list: B0-B149 stay a run, B151-B199 (49) are too few for one
    nested = _block(200).replace(
        "      at: [40000, -1.5]", "      at:\n        - 40000\n        - -1.5"
    )
    runs = bulk_yaml._runs(nested.split("\n"), yaml.SafeLoader)
    assert [(r.first, len(r.data)) for r in runs] == [(first, 150)]


@pytest.mark.parametrize("style", ["flow", "block"])
def test_a_bad_entry_in_a_long_list_is_located_at_its_line(tmp_path, style: str) -> None:
    text = _listed(500).replace(
        "{name: B321, at: [108400, -1.5]}", "{name: B321, at: [108400, -1.5], nte: x}"
    )
    if style == "block":
        text = _block(500).replace(
            "      at: [108400, -1.5]\n", "      at: [108400, -1.5]\n      nte: x\n"
        )
    line = next(k for k, row in enumerate(text.splitlines(), start=1) if "nte: x" in row)
    column = text.splitlines()[line - 1].index("nte") + 1
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as exc:
        load(path)
    assert f"spec.yaml:{line}:{column}: die.bumps[321].nte: unknown key 'nte'" in str(exc.value)


# --------------------------------------------------------------------------- split counts
@pytest.mark.parametrize("seed", range(4))
def test_connected_shapes_counted_as_merging_them_all_would(seed: int) -> None:
    rng = np.random.default_rng(seed)
    polygons = [
        gdstk.Polygon(
            shape_points(
                str(rng.choice(["circle", "octagon", "square"])),
                float(rng.uniform(20, 120)),
                tuple(rng.uniform(0, 1500, 2)),
            )
        )  # fmt: skip
        for _ in range(150)
    ]
    polygons += [gdstk.rectangle((2000, 0), (2100, 100)), gdstk.rectangle((2100, 0), (2200, 50))]
    polygons += [gdstk.rectangle((2000, 500), (2100, 600)), gdstk.rectangle((2100, 600), (2200, 700))]  # fmt: skip
    polygons += [gdstk.rectangle((0, 3000), (3000, 3010))]  # long and thin, over nothing
    assert connected_count(polygons) == len(gdstk.boolean(polygons, [], "or"))
