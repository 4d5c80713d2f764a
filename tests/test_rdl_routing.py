"""Automatic RDL routes: Manhattan falls back to the other leg order, diagonal makes a 45° leg,
waypoints are followed, capture pads enclose PI1 and UBM by the tech rules."""

from __future__ import annotations

import numpy as np
import pytest

from masklayout import loads
from masklayout.geometry.die import pad_capture, pi1_opening, route_traces
from tests.helpers import BASE_SPEC


def _traces(*replacements):
    text = BASE_SPEC
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return {t.bump: t for t in route_traces(loads(text))}


def test_manhattan_route_goes_horizontal_first_when_that_is_free():
    trace = _traces()["A2"]
    np.testing.assert_allclose(trace.centerline, [(-1300, 1200), (-700, 1200), (-700, 800)])


def test_manhattan_route_takes_vertical_first_when_horizontal_first_is_blocked():
    # to C1 (-1100, 0): horizontal first would come down column 1 through B1 (-1100, 400)
    trace = _traces(("bump: A2}", "bump: C1}"))["C1"]
    np.testing.assert_allclose(trace.centerline, [(-1300, 1200), (-1300, 0), (-1100, 0)])


def test_diagonal_style_makes_a_45_degree_leg():
    trace = _traces(("  rdl:\n    width: 20\n", "  rdl:\n    width: 20\n    style: diagonal\n"))[
        "A2"
    ]
    legs = np.diff(trace.centerline, axis=0)
    assert any(abs(dx) == pytest.approx(abs(dy)) and dx != 0 for dx, dy in legs)
    np.testing.assert_allclose(trace.centerline[[0, -1]], [(-1300, 1200), (-700, 800)])


def test_route_follows_its_waypoints():
    trace = _traces(
        ("{pad: VDD, bump: A2}", "{pad: VDD, bump: A2, via: [[-900, 1200], [-900, 1000]]}")
    )["A2"]
    np.testing.assert_allclose(
        trace.centerline, [(-1300, 1200), (-900, 1200), (-900, 1000), (-700, 800)]
    )


def test_capture_pad_encloses_the_pi1_opening_by_the_tech_rule():
    design = loads(BASE_SPEC)
    pad = design.pad("VDD")
    (x0, y0), (x1, y1) = pi1_opening(design, pad).bounding_box()
    (cx0, cy0), (cx1, cy1) = pad_capture(design, pad).bounding_box()
    assert x1 - x0 == pytest.approx(80 - 2 * 7.5)  # PAD.EN.PI1
    assert (x0 - cx0, y0 - cy0, cx1 - x1, cy1 - y1) == pytest.approx((10, 10, 10, 10))  # RDL.EN.PI1
