"""Property-based: random and broken specs load or fail with a located SpecError, never crash."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from masklayout import SpecError, layout, loads
from masklayout.fields import parse_length
from tests.helpers import BASE_SPEC

BASE = yaml.safe_load(BASE_SPEC)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["12 mm", "-3 um", "5 furlongs", "circle", "SM1", "A2"]),
    st.lists(st.integers(-5000, 5000), max_size=3),
    st.dictionaries(st.sampled_from(["pitch", "bogus", "name"]), st.integers(0, 500), max_size=2),
)


def _replace(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=VALUES)
@example(path=("die", "bumps", 0, "array", "count"), value=[2, 421])  # row_name IndexError
@example(path=("die", "bumps", 0, "array", "count"), value=[True, 5])  # a boolean as a count
def test_a_broken_value_gives_a_located_error_or_a_valid_design(path, value):
    data = yaml.safe_load(BASE_SPEC)
    _replace(data, path, value)
    try:
        design = loads(yaml.safe_dump(data, sort_keys=False), file="broken.yaml")
        layout.build(design)
    except SpecError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == "broken.yaml"
            assert problem.line is not None and problem.line >= 1
            assert str(problem).startswith(f"broken.yaml:{problem.line}:")


@settings(max_examples=100, deadline=None)
@given(
    value=st.floats(0.001, 1000.0), unit=st.sampled_from([("nm", 1e-3), ("um", 1.0), ("mm", 1e3)])
)
def test_lengths_with_units_are_micrometres(value, unit):
    name, factor = unit
    assert abs(parse_length(f"{value!r} {name}") - value * factor) <= 1e-9 * value * factor


@settings(max_examples=40, deadline=None)
@given(
    pitch=st.integers(200, 800),
    columns=st.integers(1, 8),
    rows=st.integers(1, 8),
    ubm=st.integers(100, 400),
)
def test_random_arrays_load_when_they_fit_and_fail_located_when_they_do_not(
    pitch, columns, rows, ubm
):
    text = BASE_SPEC.replace(
        "pitch: 400, count: [6, 5]", f"pitch: {pitch}, count: [{columns}, {rows}]"
    )
    text = (
        text.replace("      skip: [A1]\n", "")
        .replace("    - {name: X1, stack: std, on_pad: IO}\n", "")
        .replace("{shape: circle, diameter: 250}", f"{{shape: circle, diameter: {ubm}}}")
    )
    text = text.replace(
        "      - {pad: VDD, bump: A2}\n      - {pad: GND, bump: A6}\n", "      []\n"
    ).replace("    routes:\n      []\n", "    routes: []\n")
    half_w, half_h = 1500, 1300
    fits = (columns - 1) * pitch / 2 + 100 + ubm / 2 <= half_w and (
        rows - 1
    ) * pitch / 2 + ubm / 2 <= half_h
    overlaps = ubm > pitch and columns * rows > 1
    try:
        design = loads(text, file="s.yaml")
    except SpecError as exc:
        assert not fits or overlaps or "diameter" in str(exc), str(exc)
        return
    assert fits and not overlaps
    assert len(design.sites) == columns * rows
