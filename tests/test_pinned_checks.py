"""Check behaviours pinned on a written layout, edited with klayout.db or checked against a spec
it was not built from: the second deliberate-bug sample of bench/mutants.md."""

from __future__ import annotations

from pathlib import Path

from tests.test_checks_connectivity import PINNED_SPEC, built, checked, net_markers

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
