"""A tech file is validated as strictly as a spec, its errors located in the tech file; its
``extends`` is resolved in its own folder; a rule given per film is honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from masklayout import SpecError, load
from masklayout.cli import main
from masklayout.tech import load_tech
from tests.helpers import BASE_SPEC


def _tech(folder: Path, body: str, name: str = "custom.yaml") -> Path:
    path = folder / name
    path.write_text("name: custom\nextends: wlcsp-400\n" + body)
    return path


def _tech_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_tech(str(path))
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "rules:\n  X.W: {check: width, layer: FOO, value: 10}\n",
            "4:23: rules.X.W.layer: unknown layer 'FOO' (known: WAFER, EXCLUSION, DIE",
        ),
        (
            "rules:\n  X.W: {check: width, value: 10}\n",
            "4:3: rules.X.W.layer: required key is missing",
        ),
        (
            "rules:\n  X.E: {check: enclosure, outer: UBM, value: 10}\n",
            "4:3: rules.X.E.inner: required key is missing",
        ),
        (
            "rules:\n  X.W: {check: widht, layer: UBM, value: 10}\n",
            "4:9: rules.X.W.check: unknown check 'widht' (did you mean 'width'?",
        ),
        (
            "rules:\n  X.W: {check: width, layer: UBM, outer: PI2, value: 10}\n",
            "4:35: rules.X.W.outer: unknown key 'outer' (known: check, doc, layer, severity, value)",
        ),
        (
            "rules:\n  SM.WEB: {check: web, layers: [SM1, SM4], value: 30}\n",
            "4:38: rules.SM.WEB.layers[1]: unknown layer 'SM4'",
        ),
        (
            "rules:\n  SM.AR: {check: aspect_ratio, value: {photoresist: 0, dry_film: 1}}\n",
            "4:3: rules.SM.AR: value: aspect_ratio needs a value greater than 0 (found 0)",
        ),
        (
            "layers:\n  TEXT: [65536, 0]\n",
            "4:10: layers.TEXT[0]: input should be less than or equal to 65535",
        ),
        (
            "layers:\n  TEXT: [-1, 0]\n",
            "4:10: layers.TEXT[0]: input should be greater than or equal to 0",
        ),
        ("layers:\n  TEXT: [true, 0]\n", "4:10: layers.TEXT[0]: expected a number, found True"),
        ("layers:\n  TEXT: [21, 0]\n", "4:3: layers.TEXT: layer TEXT is [21, 0], as is layer SM1"),
        (
            "alloys:\n  A: {composition: {Sn: 100}, solidus: 1, liquidus: 2, density: -8}\n",
            "4:56: alloys.A.density: input should be greater than 0 (found -8)",
        ),
        (
            "alloys:\n  A: {composition: {Sn: 100}, solidus: 1, liquidus: 2, density: .nan}\n",
            "4:56: alloys.A.density: expected a finite number, found nan",
        ),
        (
            "alloys:\n  A: {composition: {Sn: 60, Pb: 40.02}, solidus: 1, liquidus: 2, density: 8}\n",
            "4:3: alloys.A: composition must add up to 100 wt% (adds up to 100.02)",
        ),
        (
            "alloys:\n  A: {composition: {Sn: 101, Pb: -1}, solidus: 1, liquidus: 2, density: 8}\n",
            "4:30: alloys.A.composition.Pb: input should be greater than 0 (found -1)",
        ),
        (
            "solders:\n  S: {alloy: Unobtainium, form: powder, packing: 0.6}\n",
            "4:7: solders.S.alloy: unknown alloy 'Unobtainium'",
        ),
        ("rulez: {}\n", "3:1: rulez: unknown key 'rulez' (did you mean 'rules'?"),
    ],
)
def test_a_bad_tech_file_is_located_in_the_tech_file(tmp_path, body, expected):
    path = _tech(tmp_path, body)
    message = _tech_error(path)
    assert message.startswith(f"{path}:{expected}"), message


def test_composition_within_the_tolerance_and_layer_65535_are_accepted(tmp_path):
    path = _tech(
        tmp_path,
        "layers:\n  TEXT: [65535, 65535]\n"
        "alloys:\n  A: {composition: {Sn: 60, Pb: 40.01}, solidus: 1, liquidus: 2, density: 8}\n",
    )
    tech = load_tech(str(path))
    assert tech.layers["TEXT"] == (65535, 65535)
    assert sum(tech.alloys["A"].composition.values()) == pytest.approx(100.01)


def test_extends_is_resolved_in_the_tech_files_own_folder(tmp_path):
    techs = tmp_path / "techs"
    techs.mkdir()
    base = (Path(__file__).parent.parent / "tech" / "wlcsp-400.yaml").read_text()
    (techs / "base.yaml").write_text(base.replace("name: wlcsp-400", "name: base"))
    (techs / "child.yaml").write_text("name: child\nextends: base.yaml\n")
    (tmp_path / "base.yaml").write_text("not: a tech file\n")  # beside the spec: a decoy
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_SPEC.replace("tech: wlcsp-400", "tech: techs/child.yaml"))
    design = load(spec)
    assert design.tech.name == "child"
    assert design.tech.rules["BUMP.PITCH"].value == 400


def test_a_missing_tech_file_is_located_at_the_specs_tech_line(spec_file):
    path = spec_file(("tech: wlcsp-400", "tech: techs/none.yaml"))
    with pytest.raises(SpecError) as info:
        load(path)
    assert (
        str(info.value)
        == f"{path}:3:1: tech: no tech file '{path.parent / 'techs/none.yaml'}' (a path relative to {path.parent})"
    )


def test_extends_cycle_through_files_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\nextends: a.yaml\n")
    assert "extends itself" in _tech_error(tmp_path / "a.yaml")


def _run_gap(tmp_path: Path, gap: str, sm2_film: str = "dry_film") -> dict:
    tech = _tech(tmp_path, f"rules:\n  BALL.GAP: {{check: bridging, value: {gap}}}\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        BASE_SPEC.replace("tech: wlcsp-400", f"tech: {tech.name}").replace(
            "SM2: {thickness: 100, film: dry_film", f"SM2: {{thickness: 100, film: {sm2_film}"
        )
    )
    result = CliRunner().invoke(main, ["run", str(spec), "--json"])
    assert result.exit_code in (0, 1), result.output
    return {"exit": result.exit_code, **json.loads(result.stdout)}


def test_ball_gap_given_per_film_is_honoured_in_run(tmp_path):
    # The 400 µm pitch and a ball of about 263 µm leave about 137 µm: a 150 µm gap for the
    # dry film in use bridges; the photoresist's 10 µm alone would not.
    both = _run_gap(tmp_path, "{photoresist: 10, dry_film: 150}")
    std = both["stacks"]["std"]
    assert 400 - std["ball"]["diameter_um"] < 150
    assert both["exit"] == 1 and std["bridging"] is True and both["bridging_gap_um"] == 150
    resist_only = _run_gap(tmp_path, "{photoresist: 10, dry_film: 150}", sm2_film="photoresist")
    std = resist_only["stacks"]["std"]
    assert resist_only["exit"] == 0 and std["bridging"] is False
    assert resist_only["bridging_gap_um"] == 10
