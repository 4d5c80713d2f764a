"""Mistakes a new user makes in a hand-written spec: each message is located, names the key,
says what was found and what would do, and the build exits 2 writing nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from masklayout.cli import main

# (replacement in the base spec, expected "line:column: key.path: ", expected words)
CASES = {
    "process step typo": (
        ("step: reflow, peak: 245}", "step: reflw, peak: 245}"),
        "38:6: process[2].step: ",
        ["unknown step 'reflw'", "did you mean 'reflow'?", "known: form_mask, deposit, reflow"],
    ),
    "process step without its kind": (
        ("step: reflow, peak: 245}", "peak: 245}"),
        "38:5: process[2].step: ",
        ["required key is missing"],
    ),
    "tab indentation": (
        ("    width: 20", "\twidth: 20"),
        "21:1: ",
        ["not valid YAML", "YAML indents with spaces, not tabs"],
    ),
    "key indented one space short": (
        ("    width: 20", "   width: 20"),
        "22:11: ",
        ["not valid YAML", "a key indented differently from the keys beside it"],
    ),
    "block indented one space deeper": (
        ("  pads:", "   pads:"),
        "15:3: ",
        ["not valid YAML", "indented differently from the lines before it"],
    ),
    "key without colon": (
        ("  rdl:", "  rdl"),
        "21:10: ",
        ["not valid YAML", "a key without ':'"],
    ),
    "inline list left open": (
        ("count: [6, 5]", "count: [6, 5"),
        "16:",
        ["not valid YAML", "an inline [...] list left open?"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_user_mistake_is_located_explained_and_writes_nothing(spec_file, tmp_path, case):
    replacement, where, words = case
    path = spec_file(replacement)
    out = tmp_path / "out" / "mask.gds"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{where}"), first
    for word in words:
        assert word in first, f"{word!r} not in {first!r}"
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
