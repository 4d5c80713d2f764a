"""The spec in the README is what a new user copies first: it loads, builds, runs its flow
and passes the rule deck as written."""

from __future__ import annotations

import csv
import json
import re

import klayout.db as kdb
import pytest
import yaml
from click.testing import CliRunner

from masklayout import checks, loads, process
from masklayout.cli import main
from tests.helpers import ROOT, GdsReader


@pytest.fixture(scope="module")
def readme_design():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The spec\n\n```yaml\n(.*?)```", readme, re.S)
    assert block, "the README has no spec block under '## The spec'"
    return loads(block.group(1))


def test_readme_spec_passes_the_rule_deck(readme_design):
    report = checks.check_design(readme_design)
    assert not report.failed(True), checks.to_table(report)


def test_readme_spec_flow_makes_good_balls(readme_design):
    assert process.run(readme_design).ok


def test_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace('"samples/', f'"{ROOT}/samples/'), "README.md", "exec"), {})
    dies, bumps_per_die = capsys.readouterr().out.split()
    assert int(dies) > 0 and int(bumps_per_die) > 0
    assert (tmp_path / "out" / "wlcsp_rdl_400.gds").stat().st_size > 0


def _readme_nets_spec() -> str:
    """The spec of '## The spec' with its die replaced by the one of '### Nets and routing', as
    the README says to use it."""
    readme = (ROOT / "README.md").read_text()
    spec = re.search(r"## The spec\n\n```yaml\n(.*?)```", readme, re.S)
    die = re.search(r"### Nets and routing\n.*?```yaml\n(.*?)```", readme, re.S)
    assert spec and die, "the README lost its spec or its nets example"
    text, count = re.subn(
        r"^die:\n(?:  .*\n|\n)*?(?=^stacks:)", die.group(1), spec.group(1), flags=re.M
    )
    assert count == 1
    return text


def _readme_commands(prefix: str) -> list[list[str]]:
    """The README's `masklayout ...` commands on demo.yaml that start with ``prefix``."""
    readme = " ".join((ROOT / "README.md").read_text().split())  # commands wrap across lines
    found = re.findall(rf"`masklayout ({prefix} demo\.yaml[^`]*)`", readme)
    assert found, f"the README has no `masklayout {prefix} demo.yaml ...`"
    return [command.split() for command in found]


def _run_readme_nets(tmp_path, monkeypatch, text: str) -> dict:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo.yaml").write_text(text)
    (build,) = _readme_commands("build")
    result = CliRunner().invoke(main, build)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_readme_nets_example_routes_every_net_it_names(tmp_path, monkeypatch):
    text = _readme_nets_spec()
    report = _run_readme_nets(tmp_path, monkeypatch, text)
    die = yaml.safe_load(text)["die"]
    # every net the example names, counted from the YAML: the table, routes (named after their
    # pad), pads' and bumps' nets, the array's nets map
    names = set(die["nets"]) | {route["pad"] for route in die["rdl"]["routes"]}
    names |= {pad["net"] for pad in die["pads"] if "net" in pad}
    for entry in die["bumps"]:
        names |= {entry["net"]} if "net" in entry else set(entry.get("nets", {}).values())
    assert {net["name"] for net in report["nets"]} == names
    assert all(net["routed"] for net in report["nets"]), report["nets"]
    assert report["totals"]["routed"] == report["totals"]["to_route"] == len(names)

    pins = {row["bump"]: row for row in csv.DictReader((tmp_path / "out/pins.csv").open())}
    by_pad = {row["pad"]: bump for bump, row in pins.items() if row["pad"]}
    assert by_pad["CLK"] in die["nets"]["CLK"]["bumps"]["any"]
    assert {by_pad["VIO1"], by_pad["VIO2"], by_pad["T"]} <= {b for b, r in pins.items()}
    assert len({by_pad["VIO1"], by_pad["VIO2"], by_pad["T"], by_pad["CLK"]}) == 4

    # read back: each net is one RDL shape over its pads' and bumps' centres; keep-outs are bare
    gds = GdsReader(tmp_path / "out/demo.gds")
    rdl = gds.region("RDL", gds.cell("wlcsp_demo_DIE"), flat=True).merged()

    def dot(x: float, y: float) -> kdb.Region:
        return kdb.Region(kdb.Box(gds.um(x - 1), gds.um(y - 1), gds.um(x + 1), gds.um(y + 1)))

    pads = {pad["name"]: pad["at"] for pad in die["pads"]}
    bumps = {bump: (float(row["x"]), float(row["y"])) for bump, row in pins.items()}
    for net in report["nets"]:
        points = [pads[t[4:]] if t.startswith("pad ") else bumps[t[5:]] for t in net["terminals"]]
        shape = rdl.interacting(dot(*points[0]))
        assert shape.count() == 1, net["name"]
        assert all(shape.interacting(dot(*p)).count() == 1 for p in points), net["name"]
    for keepout in die["keepout"]:
        corners = keepout.get("polygon") or [
            (x, y) for x in (keepout["rect"][0][0], keepout["rect"][1][0])
            for y in (keepout["rect"][0][1], keepout["rect"][1][1])
        ]  # fmt: skip
        area = kdb.Region(
            kdb.Polygon([kdb.Point(gds.um(x), gds.um(y)) for x, y in corners])
            if "polygon" in keepout
            else kdb.Box(*(gds.um(v) for v in (*keepout["rect"][0], *keepout["rect"][1])))
        )
        assert (rdl & area).is_empty(), keepout

    (check,) = _readme_commands("check")
    checked = CliRunner().invoke(main, check)
    assert checked.exit_code == 0, checked.output
    assert re.search(r"NET\.OPEN .* ok", checked.output)


def test_readme_nets_example_pours_vss_as_a_plane(tmp_path, monkeypatch):
    text = _readme_nets_spec().replace("bumps: [E5]}", "bumps: [E5], plane: true}")
    assert "plane: true" in text
    _run_readme_nets(tmp_path, monkeypatch, text)


def test_readme_nets_example_with_teardrops_checks_clean(tmp_path, monkeypatch):
    text = _readme_nets_spec().replace("    width: 20 ", "    teardrop: true\n    width: 20 ")
    assert "teardrop: true" in text
    _run_readme_nets(tmp_path, monkeypatch, text)
    (check,) = _readme_commands("check")
    checked = CliRunner().invoke(main, check)
    assert checked.exit_code == 0, checked.output


def test_readme_nets_example_ships_as_a_sample():
    """samples/rdl_nets.yaml is the README's nets example as it says to use it: the README's
    die inside the README's spec (the name aside), so the two cannot drift apart."""
    sample = yaml.safe_load((ROOT / "samples" / "rdl_nets.yaml").read_text())
    readme = yaml.safe_load(_readme_nets_spec())
    assert sample.pop("name") == "rdl_nets"
    readme.pop("name")
    assert sample == readme
    assert "`samples/rdl_nets.yaml`" in (ROOT / "README.md").read_text()
