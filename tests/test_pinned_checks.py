"""Check behaviours pinned on a written layout, edited with klayout.db or checked against a spec
it was not built from: the second deliberate-bug sample of bench/mutants.md."""

from __future__ import annotations

from pathlib import Path

import klayout.db as kdb
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import base_spec_dies
from tests.test_checks_connectivity import PINNED_SPEC, TECH, built, checked, edit_die, net_markers

IO_PAD = "    - {name: IO, at: [1200, -1100], size: [260, 260]}\n"
X1 = "    - {name: X1, stack: std, on_pad: IO}\n"


def test_an_open_counts_each_terminal_on_no_metal_as_one_piece(tmp_path: Path):
    """The layout is checked against a spec that adds pad P9 at (0, -1150) with bump T9 on it:
    their net has both terminals on no metal, two pieces (not one for the missing metal plus
    one per terminal), marked where they should be."""
    _, gds = built(tmp_path)
    other = tmp_path / "other.yaml"
    pad = "    - {name: P9, at: [0, -1150], size: [260, 260]}\n"
    bump = "    - {name: T9, stack: std, on_pad: P9}\n"
    other.write_text(PINNED_SPEC.replace(IO_PAD, IO_PAD + pad).replace(X1, X1 + bump))
    code, report, _ = checked(other, gds, tmp_path)
    assert code == 1
    (open_,) = net_markers(report)["NET.OPEN"]
    assert (open_["value"], open_["at"]) == (2, [0.0, -1150.0])
    assert open_["note"] == "net P9 open in 2 pieces: pad P9, bump T9 (on no metal)"


def test_a_bond_pad_missing_under_its_pi1_opening_is_an_open(tmp_path: Path):
    """VDD's pad (-1300, 1200) deleted from PAD, its PI1 opening and RDL left: the RDL lands on
    no pad, the pad terminal is on no metal and the net is open in 2 pieces (the pad, the trace
    with A2)."""
    spec_path, gds = built(tmp_path)

    def delete_vdd_pad(layout: kdb.Layout, die: kdb.Cell) -> None:
        pads = die.shapes(layout.layer(*TECH.layer("PAD")))
        (pad,) = [s for s in pads.each() if s.polygon.inside(kdb.Point(-1300000, 1200000))]
        pads.erase(pad)

    edit_die(gds, delete_vdd_pad)
    code, report, _ = checked(spec_path, gds, tmp_path)
    assert code == 1
    (open_,) = net_markers(report)["NET.OPEN"]
    assert open_["value"] == 2
    assert open_["note"] == "net VDD open in 2 pieces: pad VDD (on no metal) | bump A2"


def test_the_check_table_counts_the_other_placements_of_a_die_cell_violation(tmp_path: Path):
    """The open of P9 lies in the die cell, placed once per full die (counted by brute force):
    the table names one place and the dies - 1 other placements."""
    _, gds = built(tmp_path)
    other = tmp_path / "other.yaml"
    pad = "    - {name: P9, at: [0, -1150], size: [260, 260]}\n"
    bump = "    - {name: T9, stack: std, on_pad: P9}\n"
    other.write_text(PINNED_SPEC.replace(IO_PAD, IO_PAD + pad).replace(X1, X1 + bump))
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", str(other)])
    assert result.exit_code == 1
    assert f"and {base_spec_dies() - 1} more placements: net P9 open in 2 pieces" in result.output
