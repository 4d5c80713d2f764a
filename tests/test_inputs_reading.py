"""Reading a spec: what cannot be read is one located error (exit 2), never a traceback, a hang
or a MemoryError; what YAML allows (merge keys) is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout import SpecError, load, reading
from masklayout.cli import main
from masklayout.reading import MAX_DEPTH
from masklayout.spec import loads
from tests.helpers import BASE_SPEC


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load(path)
    return str(info.value)


def test_a_byte_that_is_not_utf8_is_located_at_its_line_and_column(tmp_path):
    path = tmp_path / "latin1.yaml"
    # line 12 is "    - {name: VDD, ...": the ä follows "    - {name: VDD" (16 characters)
    path.write_bytes(BASE_SPEC.replace("{name: VDD,", "{name: VDDä,").encode("latin-1"))
    assert (
        _error(path)
        == f"{path}:12:17: not UTF-8 text: byte 0xe4 (save the file as UTF-8; a binary file?)"
    )


def test_a_layout_given_for_the_spec_is_named_a_layout_not_a_bad_byte(tmp_path):
    gds = tmp_path / "die.gds"
    built = CliRunner().invoke(
        main, ["build", "-", "-q", "--die-only", "-o", str(gds)], input=BASE_SPEC
    )
    assert built.exit_code == 0, built.output
    assert _error(gds) == f"{gds}: a layout (GDSII or OASIS), not a YAML file"
    result = CliRunner().invoke(main, ["check", str(gds), "--spec", str(gds)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"{gds}: a layout (GDSII or OASIS), not a YAML file")


def test_a_control_character_is_located(tmp_path):
    path = tmp_path / "ctrl.yaml"
    path.write_text(BASE_SPEC.replace("name: small", "name: sm\x07all"))
    assert _error(path).startswith(f"{path}:2:9: control character U+0007")


def test_a_nul_escaped_into_a_name_is_refused_at_the_name(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_text(BASE_SPEC.replace("{name: GND,", '{name: "G\\0ND",'))
    assert _error(path).startswith(f"{path}:13:14: die.pads[1].name: control character U+0000")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 2000])
def test_nesting_deeper_than_the_limit_is_refused(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text(BASE_SPEC + "deep: " + "[" * depth + "]" * depth + "\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in _error(path)


def test_nesting_up_to_the_limit_reaches_the_schema(tmp_path):
    # 'deep' is the document level 1; its value level 2: MAX_DEPTH - 1 brackets fit
    path = tmp_path / "deep.yaml"
    depth = MAX_DEPTH - 1
    path.write_text(BASE_SPEC + "deep: " + "[" * depth + "]" * depth + "\n")
    assert "unknown key 'deep'" in _error(path)


def test_a_complex_key_is_refused(tmp_path):
    path = tmp_path / "key.yaml"
    path.write_text(BASE_SPEC + "? {a: 1}\n: 1\n")
    assert (
        _error(path)
        == f"{path}:43:3: a key must be a plain name, found a mapping ('? ' complex key)"
    )


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 9)}]\n" for k in range(9)
    )
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    with pytest.raises(SpecError):
        load(path)


def test_dev_zero_is_refused_after_reading_the_cap():
    with pytest.raises(
        SpecError, match=r"^/dev/zero: a YAML file larger than 16,777,216 bytes: refused$"
    ):
        load("/dev/zero")


def test_a_file_one_byte_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path, monkeypatch):
    cap = len(BASE_SPEC) + 10
    monkeypatch.setattr(reading, "MAX_SPEC_BYTES", cap)
    path = tmp_path / "big.yaml"
    path.write_text(BASE_SPEC + "#" * 11)
    assert _error(path) == f"{path}: a YAML file larger than {cap:,} bytes: refused"
    path.write_text(BASE_SPEC + "#" * 10)
    assert load(path).spec.name == "small"


def test_binary_stdin_is_a_located_error_and_exit_2(tmp_path):
    result = CliRunner().invoke(
        main, ["build", "-", "-o", str(tmp_path / "x.gds")], input=b"\x89PNG\r\n\x1a\n\x00\xff"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:1:1: not UTF-8 text: byte 0x89")
    assert not list(tmp_path.iterdir())


def test_merge_keys_are_read_and_keys_beside_them_override():
    text = BASE_SPEC.replace(
        "  SM1: {thickness: 50, film: photoresist, apply: spin_coat}\n"
        "  SM2: {thickness: 100, film: dry_film, apply: laminate}",
        "  SM1: &film {thickness: 50, film: dry_film, apply: laminate}\n"
        "  SM2: {<<: *film, thickness: 100}",
    )
    masks = loads(text).spec.masks
    assert (masks["SM2"].thickness, masks["SM2"].film, masks["SM2"].apply) == (
        100.0,
        "dry_film",
        "laminate",
    )


def test_a_duplicate_key_beside_a_merge_is_still_refused():
    text = BASE_SPEC.replace(
        "  SM2: {thickness: 100, film: dry_film, apply: laminate}",
        "  SM2: {<<: {thickness: 90}, thickness: 100, thickness: 110, film: dry_film}",
    )
    with pytest.raises(SpecError, match="duplicate key 'thickness'"):
        loads(text)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("count: [6, 5]", "count: [yes, 5]", "16:35: die.bumps[0].array.count[0]"),
        ("count: [6, 5]", "count: [6, on]", "16:38: die.bumps[0].array.count[1]"),
    ],
)
def test_yaml_booleans_are_not_numbers(spec_file, old, new, where):
    path = spec_file((old, new))
    message = _error(path)
    assert message.startswith(f"{path}:{where}: expected a number, found True (YAML reads yes")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_fill_must_be_a_finite_number(spec_file, value):
    path = spec_file(("solder: SAC305-paste-T6}", f"solder: SAC305-paste-T6, fill: {value}}}"))
    assert "process[1].fill: expected a finite number" in _error(path)
