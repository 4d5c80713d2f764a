"""The datasheet check of issue 11: published WLCSP balls (DESIGN.md §7) are reachable with
`size`, and the ball it reports is the closed-form cap within the model's stated error."""

from __future__ import annotations

import math

import pytest

from masklayout.sizing import size
from tests.process_specs import C1_FLOW, design

# claim 1, then the masks stripped and the balls reflowed once more on the whole UBM
C1_THEN_FREE = [*C1_FLOW, "{step: reflow, peak: 245}"]


def free_cap_height(diameter: float, base: float) -> float:
    """Height of a sphere of ``diameter`` standing on a circular base of diameter ``base``."""
    r, a = diameter / 2, base / 2
    return r + math.sqrt(r * r - a * a)


@pytest.mark.parametrize(
    ("pitch", "ubm", "t2", "ball", "heights"),
    [
        (400, 220, 150, 255, (175, 200)),  # 0.4 mm pitch: Ø 0.25-0.26 mm, h 0.175-0.20 mm
        (500, 290, 180, 320, (220, 240)),  # 0.5 mm pitch: Ø 0.32 mm, h 0.23 mm
    ],
)
def test_a_datasheet_ball_is_reachable_and_its_height_is_the_free_cap(
    pitch, ubm, t2, ball, heights
):
    spec = design(C1_THEN_FREE, ubm=ubm, sm1=ubm + 20, sm2=ubm + 60, pitch=pitch, t2=t2)
    result = size(spec, "std", "diameter", ball)
    assert result.ball.diameter_um == pytest.approx(ball, abs=1.0)
    expected = free_cap_height(result.ball.diameter_um, ubm)  # the drawn 192-gon: 0.02 % less area
    assert result.ball.height_um == pytest.approx(expected, rel=0.005)
    assert heights[0] <= result.ball.height_um <= heights[1]
