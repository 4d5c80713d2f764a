"""The build command: summary, JSON, OASIS, stdin, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from masklayout.cli import main
from tests.helpers import BASE_BUMPS_PER_DIE, BASE_SPEC, GdsReader, base_spec_dies


def test_build_prints_dies_bumps_layers_and_file_size(spec_file, tmp_path):
    out = tmp_path / "m.gds"
    result = CliRunner().invoke(main, ["build", str(spec_file()), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"dies on the wafer   {base_spec_dies()}" in result.stdout
    assert f"bumps per die       {BASE_BUMPS_PER_DIE}" in result.stdout
    assert f"bumps on the wafer  {base_spec_dies() * BASE_BUMPS_PER_DIE}" in result.stdout
    assert "UBM, SM1, SM2" in result.stdout
    assert out.exists() and f"{out.stat().st_size / 1024:.1f} KiB" in result.stdout


def test_build_json_summary_matches_the_written_gds(spec_file, tmp_path):
    out = tmp_path / "m.gds"
    result = CliRunner().invoke(main, ["build", str(spec_file()), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["file_bytes"] == out.stat().st_size
    assert summary["dies"] * summary["bumps_per_die"] == summary["bumps_on_wafer"]
    assert GdsReader(out).on_dies("UBM").count() == summary["bumps_on_wafer"]
    assert set(summary["layers"]) >= {
        "WAFER",
        "EXCLUSION",
        "DIE",
        "PAD",
        "PI1",
        "RDL",
        "PI2",
        "UBM",
        "SM1",
        "SM2",
    }


def test_build_reads_the_spec_from_stdin(tmp_path):
    out = tmp_path / "m.oas"
    result = CliRunner().invoke(main, ["build", "-", "-o", str(out)], input=BASE_SPEC)
    assert result.exit_code == 0, result.output
    assert GdsReader(out).on_dies("UBM").count() == base_spec_dies() * BASE_BUMPS_PER_DIE


def test_build_without_output_writes_the_spec_name(spec_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", str(spec_file())])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "small.gds").exists()


@pytest.mark.parametrize("args", [["build"], ["build", "a.yaml", "--bogus"], ["nonsense"]])
def test_usage_errors_exit_2(args):
    assert CliRunner().invoke(main, args).exit_code == 2


def test_every_command_has_help():
    for command in main.commands:
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_schema_is_a_json_schema_of_the_spec():
    schema = json.loads(CliRunner().invoke(main, ["schema"]).stdout)
    assert set(schema["required"]) >= {"masklayout", "name", "wafer", "die", "stacks", "masks"}
    assert schema["additionalProperties"] is False
