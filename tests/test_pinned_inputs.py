"""Input behaviours (spec, units, reading, bulk YAML, tech) pinned against hand arithmetic:
the second deliberate-bug sample of bench/mutants.md."""

from __future__ import annotations

import pytest

from masklayout import spec, split
from masklayout.source import SpecError
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC

# BASE_SPEC's die: step 3080 x 2680 less the 80 um scribe = 3000 x 2600, centred at (0, 0).
HALF_W, HALF_H = 1500.0, 1300.0
IO_PAD = "    - {name: IO, at: [1200, -1100], size: [260, 260]}\n"
EXTRA = "    - {name: X1, stack: std, on_pad: IO}\n"


def _with_pad(x: float, y: float, w: float, h: float) -> str:
    return BASE_SPEC.replace(IO_PAD, IO_PAD + f"    - {{name: P9, at: [{x:g}, {y:g}], size: [{w:g}, {h:g}]}}\n")  # fmt: skip


@pytest.mark.parametrize(
    ("x", "y"),
    [(0, HALF_H - 10), (0, -(HALF_H - 10)), (HALF_W - 10, 0), (-(HALF_W - 10), 0)],
)
def test_a_pad_reaching_past_any_die_edge_is_refused(x: float, y: float):
    """An 80 um pad centred 10 um inside an edge reaches 30 um past it (10 - 40)."""
    with pytest.raises(SpecError, match=r"die\.pads\[3\]\.at: pad 'P9' .* reaches outside the die"):
        spec.loads(_with_pad(x, y, 80, 80), "spec.yaml")


@pytest.mark.parametrize(("x", "y"), [(0, HALF_H - 40), (0, -(HALF_H - 40)), (HALF_W - 40, 0)])
def test_a_pad_ending_on_the_die_edge_is_accepted(x: float, y: float):
    """1260 + 40 = 1300: the pad ends exactly on the edge."""
    assert spec.loads(_with_pad(x, y, 80, 80), "spec.yaml").spec.die.pads[3].at == (x, y)


def _on_wide_pad(at: tuple[float, float]) -> str:
    """A 400 x 100 pad W at (0, -1150) and bump T1 on it at ``at``."""
    text = BASE_SPEC.replace(IO_PAD, IO_PAD + "    - {name: W, at: [0, -1150], size: [400, 100]}\n")  # fmt: skip
    bump = f"    - {{name: T1, stack: std, on_pad: W, at: [{at[0]:g}, {at[1]:g}]}}\n"
    return text.replace(EXTRA, EXTRA + bump)


def test_a_bump_on_a_pad_must_lie_within_the_pads_height_as_well_as_its_width():
    """The 400 x 100 pad spans x -200..200, y -1200..-1100: 150 um right of its centre is on
    it, 60 um above (y -1090) is not, though 60 < 200, half its width."""
    assert spec.loads(_on_wide_pad((150, -1150)), "spec.yaml").site("T1").x == 150
    with pytest.raises(SpecError, match=r"die\.bumps\[2\]\.at: bump at .* is not over pad 'W'"):
        spec.loads(_on_wide_pad((0, -1090)), "spec.yaml")


def test_a_ring_counts_its_depth_on_both_sides_towards_the_wafer_limit():
    """A 1000 x 1000 ring of depth 2 has 2 * 2 * (1000 + 1000) - 4 * 2 * 2 = 7984 sites (two rows
    top and bottom, two columns left and right, the 4 corner squares counted twice). On a
    300 mm wafer of 600 x 600 steps, about pi * 150000^2 / 600^2 dies: over 1e9 sites."""
    ring = "    - {ring: {pitch: 1, count: [1000, 1000], depth: 2}, stack: std}\n"
    text = BASE_SPEC.replace(EXTRA, ring).replace("100 mm", "300 mm")
    text = text.replace("die_step: [3080, 2680]", "die_step: [600, 600]")
    sites = 2 * 2 * (1000 + 1000) - 4 * 2 * 2
    dies = 3.141592653589793 * 150000.0**2 / 600.0**2
    with pytest.raises(SpecError) as error:
        spec.loads(text.replace("    - array: {pitch: 400, count: [6, 5], center: [-100, 0]}\n      stack: std\n      skip: [A1]\n", ""), "spec.yaml")  # fmt: skip
    assert f"{sites:,} bump sites per die on about {dies:,.0f} dies" in str(error.value)


def test_a_tech_of_its_own_gives_each_film_the_mask_polarity_its_chemistry_needs(tmp_path):
    """A tech file that extends nothing and gives no mask_set: a positive photoresist dissolves
    where exposed (the openings clear: dark field); a dry film and a photosensitive polyimide
    are negative, they stay where exposed (the openings chrome: clear field)."""
    (tmp_path / "bare.yaml").write_text("name: bare\n")
    tech = load_tech("bare.yaml", tmp_path)
    fields = {film: split.polarity(tone)[0] for film, tone in tech.mask_set.tones.items()}
    assert fields == {
        "photoresist": "dark_field",
        "dry_film": "clear_field",
        "polyimide": "clear_field",
    }
