"""RDL capture pads enclose PI1 and UBM by the tech rules (the routes themselves:
test_nets_build)."""

from __future__ import annotations

import pytest

from masklayout import loads
from masklayout.geometry.die import pad_capture, pi1_opening
from tests.helpers import BASE_SPEC


def test_capture_pad_encloses_the_pi1_opening_by_the_tech_rule():
    design = loads(BASE_SPEC)
    pad = design.pad("VDD")
    (x0, y0), (x1, y1) = pi1_opening(design, pad).bounding_box()
    (cx0, cy0), (cx1, cy1) = pad_capture(design, pad).bounding_box()
    assert x1 - x0 == pytest.approx(80 - 2 * 7.5)  # PAD.EN.PI1
    assert (x0 - cx0, y0 - cy0, cx1 - x1, cy1 - y1) == pytest.approx((10, 10, 10, 10))  # RDL.EN.PI1
