"""The second deliberate-bug sample (bench/mutants.md, "Sample 2"): 40 small slips, each applied
alone to a copy of the package and the tests of its area run against it.

    python bench/mutants_sample.py ROOT [ID ...] [--wide] [--tests=FILE[::TEST],...]

ROOT is a copy of the repository (``git archive HEAD | tar -x -C ROOT``), never the worktree:
each slip is written into ROOT's source, the tests run with ROOT first on the import path (and
on PYTHONPATH, for the CLI subprocesses), and the file restored. Prints one line per slip:
id, killed/survived, the first failing test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 300  # s: a slip that makes a test hang is reported as such

# (id, file, old text, new text, area tests, wider tests)
MUTANTS: list[tuple[str, str, str, str, str, str]] = [
    # ---- spec / fields / reading / bulk_yaml
    (
        "N01",
        "masklayout/spec.py",
        "if abs(x) + w / 2 > half_w or abs(y) + h / 2 > half_h:",
        "if abs(x) + w / 2 > half_w or abs(y) - h / 2 > half_h:",
        "tests/test_spec_errors.py tests/test_pinned_spec.py",
        "tests/test_inputs_build.py tests/test_nets_spec.py tests/test_spec_die_size.py",
    ),
    (
        "N02",
        "masklayout/spec.py",
        "if abs(at[0] - pad.at[0]) > pad.size[0] / 2 or abs(at[1] - pad.at[1]) > pad.size[1] / 2:",
        "if abs(at[0] - pad.at[0]) > pad.size[0] / 2 or abs(at[1] - pad.at[1]) > pad.size[0] / 2:",
        "tests/test_spec_errors.py tests/test_pinned_spec.py tests/test_bump_sites.py",
        "tests/test_inputs_build.py tests/test_nets_spec.py",
    ),
    (
        "N03",
        "masklayout/spec.py",
        "per_die += nx * ny - max(nx - 2 * depth, 0) * max(ny - 2 * depth, 0)",
        "per_die += nx * ny - max(nx - depth, 0) * max(ny - depth, 0)",
        "tests/test_inputs_limits.py tests/test_spec_errors.py",
        "tests/test_inputs_build.py tests/test_bump_sites.py",
    ),
    (
        "N04",
        "masklayout/fields.py",
        '"mil": 25.4,',
        '"mil": 2.54,',
        "tests/test_inputs_units.py tests/test_units_text.py",
        "tests/test_spec_errors.py tests/test_inputs_build.py",
    ),
    (
        "N05",
        "masklayout/fields.py",
        "    if length <= 0:",
        "    if length < 0:",
        "tests/test_inputs_units.py tests/test_spec_errors.py",
        "tests/test_units_text.py tests/test_inputs_build.py tests/test_spec_properties.py",
    ),
    (
        "N06",
        "masklayout/reading.py",
        '        column = exc.start - (data.rfind(b"\\n", 0, exc.start) + 1) + 1\n',
        '        column = exc.start - (data.rfind(b"\\n", 0, exc.start) + 1)\n',
        "tests/test_inputs_reading.py",
        "tests/test_inputs_limits.py tests/test_bumpmap_errors.py tests/test_usability_messages.py",
    ),
    (
        "N07",
        "masklayout/bulk_yaml.py",
        "flow, column = match.group(2), len(match.group(1)) + 2",
        "flow, column = match.group(2), len(match.group(1)) + 1",
        "tests/test_scale_bulk.py",
        "tests/test_inputs_corpus.py tests/test_spec_errors.py",
    ),
    (
        "N08",
        "masklayout/bulk_yaml.py",
        "if tag == _INT_TAG and _INT.fullmatch(token):",
        "if tag == _INT_TAG:",
        "tests/test_scale_bulk.py",
        "tests/test_inputs_corpus.py tests/test_spec_errors.py",
    ),
    # ---- tech
    (
        "N09",
        "masklayout/tech.py",
        "return min(values) if rule.check in MAXIMUM_CHECKS else max(values)",
        "return max(values) if rule.check in MAXIMUM_CHECKS else min(values)",
        "tests/test_inputs_tech.py tests/test_usability_init_and_tech.py",
        "tests/test_checks_rules.py tests/test_sizing_solve.py tests/test_pinned_sizing.py",
    ),
    (
        "N10",
        "masklayout/tech.py",
        '{"photoresist": "positive", "dry_film": "negative", "polyimide": "negative"}',
        '{"photoresist": "positive", "dry_film": "positive", "polyimide": "negative"}',
        "tests/test_inputs_tech.py tests/test_split_masks.py",
        "tests/test_export_flat.py tests/test_outputs_layer_properties.py",
    ),
    (
        "N11",
        "masklayout/tech.py",
        "{**base[key], **value}",
        "{**value, **base[key]}",
        "tests/test_inputs_tech.py tests/test_usability_init_and_tech.py",
        "tests/test_checks_rules.py tests/test_outputs_safety.py",
    ),
    # ---- geometry
    (
        "N12",
        "masklayout/geometry/shapes.py",
        "max(8, 8 * math.ceil(needed / 8))",
        "max(8, 8 * math.floor(needed / 8))",
        "tests/test_layout_gds.py tests/test_pinned_geometry.py",
        "tests/test_checks_rules.py tests/test_process_shapes.py",
    ),
    (
        "N13",
        "masklayout/geometry/die.py",
        "stack.ubm.shape, stack.ubm.diameter + 2 * grow, center,",
        "stack.ubm.shape, stack.ubm.diameter + grow, center,",
        "tests/test_layout_gds.py tests/test_nets_build.py",
        "tests/test_checks_rules.py tests/test_rdl_routing.py tests/test_nets_teardrops.py",
    ),
    (
        "N14",
        "masklayout/geometry/die.py",
        "    return gdstk.rectangle(\n        (x - w / 2, y - h / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype\n    )\n\n\ndef pi1",
        "    return gdstk.rectangle(\n        (x - w / 2, y - w / 2), (x + w / 2, y + h / 2), layer=layer, datatype=datatype\n    )\n\n\ndef pi1",
        "tests/test_layout_gds.py tests/test_nets_build.py",
        "tests/test_checks_rules.py tests/test_checks_connectivity.py tests/test_rdl_routing.py",
    ),
    (
        "N15",
        "masklayout/geometry/wafer.py",
        "apex, half = -wafer.diameter / 2 + NOTCH_DEPTH, 2 * NOTCH_DEPTH",
        "apex, half = -wafer.diameter / 2 + NOTCH_DEPTH, NOTCH_DEPTH",
        "tests/test_wafer_grid.py tests/test_pinned_geometry.py",
        "tests/test_layout_gds.py tests/test_marks_wafer.py",
    ),
    (
        "N16",
        "masklayout/geometry/wafer.py",
        "radius = usable_radius(wafer) / math.cos(math.pi / vertices) + DRAWN_MARGIN",
        "radius = usable_radius(wafer) * math.cos(math.pi / vertices) + DRAWN_MARGIN",
        "tests/test_wafer_grid.py tests/test_pinned_geometry.py",
        "tests/test_layout_gds.py tests/test_marks_wafer.py tests/test_checks_rules.py",
    ),
    (
        "N17",
        "masklayout/geometry/wafer.py",
        "excess = np.maximum(np.abs(tri[None, :, :] - centers[:, None, :]) - (hw, hh), 0.0)",
        "excess = np.maximum(np.abs(tri[None, :, :] - centers[:, None, :]) - (hh, hw), 0.0)",
        "tests/test_wafer_grid.py tests/test_pinned_geometry.py",
        "tests/test_layout_gds.py tests/test_outputs_maps.py",
    ),
    (
        "N18",
        "masklayout/geometry/marks.py",
        "inner_left = min(float(np.min(row[:, 0] - hw, initial=math.inf)) - reach, -half)",
        "inner_left = min(float(np.min(row[:, 0] + hw, initial=math.inf)) - reach, -half)",
        "tests/test_marks_wafer.py",
        "tests/test_split_masks.py tests/test_layout_gds.py",
    ),
    (
        "N19",
        "masklayout/geometry/overlaps.py",
        "near = (np.abs(centre[i] - centre[j]) <= half[i] + half[j] + GRID).all(axis=1)",
        "near = (np.abs(centre[i] - centre[j]) < half[i] + half[j]).all(axis=1)",
        "tests/test_split_masks.py tests/test_pinned_geometry.py",
        "tests/test_layout_gds.py tests/test_spec_errors.py",
    ),
    # ---- layout
    (
        "N20",
        "masklayout/layout.py",
        "routed = {p for net in design.nets if net.name in routed_nets for p in net.rdl_pads}",
        "routed = {p for net in design.nets for p in net.rdl_pads}",
        "tests/test_layout_gds.py tests/test_pinned_layout.py tests/test_nets_build.py",
        "tests/test_cli_build.py tests/test_rdl_routing.py tests/test_routing_fanin.py",
    ),
    # ---- outputs: export / split / streams
    (
        "N21",
        "masklayout/export.py",
        "out = out * np.array([-1, 1], dtype=np.int64)",
        "out = out * np.array([1, -1], dtype=np.int64)",
        "tests/test_export_flat.py",
        "tests/test_split_masks.py tests/test_cli_build.py",
    ),
    (
        "N22",
        "masklayout/export.py",
        "        exposure = override.over(exposure)",
        "        exposure = exposure.over(override)",
        "tests/test_export_flat.py",
        "tests/test_split_masks.py tests/test_cli_build.py",
    ),
    (
        "N23",
        "masklayout/export.py",
        "side = plate.size - (2 * plate.frame if plate.outline else 0.0)",
        "side = plate.size - (plate.frame if plate.outline else 0.0)",
        "tests/test_export_flat.py",
        "tests/test_split_masks.py",
    ),
    (
        "N24",
        "masklayout/streams.py",
        "second = (np.abs(dy) << 1) | (dy < 0).astype(np.int64)",
        "second = (np.abs(dy) << 1) | (dy > 0).astype(np.int64)",
        "tests/test_export_flat.py",
        "tests/test_split_masks.py tests/test_cli_build.py",
    ),
    # ---- checks
    (
        "N25",
        "masklayout/checks/engine.py",
        '        worst_first = 1 if relation == ">=" else -1',
        '        worst_first = -1 if relation == ">=" else 1',
        "tests/test_checks_rules.py tests/test_checks_report.py",
        "tests/test_checks_connectivity.py tests/test_usability_check.py",
    ),
    (
        "N26",
        "masklayout/checks/engine.py",
        "stricter = min if rule.check in MAXIMUM_CHECKS else max",
        "stricter = max if rule.check in MAXIMUM_CHECKS else min",
        "tests/test_checks_rules.py tests/test_checks_report.py",
        "tests/test_usability_check.py tests/test_inputs_tech.py",
    ),
    (
        "N27",
        "masklayout/checks/connectivity.py",
        "count = len(pieces) if None not in pieces else len(pieces) - 1 + len(pieces[None])",
        "count = len(pieces) if None not in pieces else len(pieces) + len(pieces[None])",
        "tests/test_checks_connectivity.py",
        "tests/test_checks_rules.py tests/test_checks_report.py tests/test_usability_check.py",
    ),
    (
        "N28",
        "masklayout/checks/report.py",
        "return f\"{head}: clean, {_count(len(report.results) - skipped, 'rule')} checked{tail}\"",
        "return f\"{head}: clean, {_count(len(report.results), 'rule')} checked{tail}\"",
        "tests/test_checks_report.py tests/test_checks_rules.py",
        "tests/test_usability_check.py tests/test_outputs_api_doc.py tests/test_usability_readme.py",
    ),
    # ---- process
    (
        "N29",
        "masklayout/process/solder.py",
        "return metal / (metal + (1.0 - w) / solder.flux_density)",
        "return metal / (metal + (1.0 - w) * solder.flux_density)",
        "tests/test_process_solder.py tests/test_process_deposit.py tests/test_pinned_process.py",
        "tests/test_process_flow.py tests/test_process_runner.py tests/test_process_cli.py",
    ),
    (
        "N30",
        "masklayout/process/summary.py",
        "sites @ (rec.metal_volume * density + (rec.paste_volume - rec.metal_volume) * flux)",
        "sites @ (rec.metal_volume * density + rec.paste_volume * flux)",
        "tests/test_process_runner.py tests/test_process_cli.py tests/test_pinned_process.py",
        "tests/test_process_flow.py tests/test_process_deposit.py tests/test_process_datasheet.py",
    ),
    (
        "N31",
        "masklayout/process/summary.py",
        "UM3_PER_MM3 = 1e9",
        "UM3_PER_MM3 = 1e6",
        "tests/test_process_runner.py tests/test_process_cli.py tests/test_pinned_process.py",
        "tests/test_process_flow.py tests/test_process_deposit.py tests/test_process_datasheet.py",
    ),
    (
        "N32",
        "masklayout/process/runner.py",
        "            key = (ubm, *openings[:m])\n            if key not in wetted:\n                wetted[key] = wetted_area(ubm, openings[:m])",
        "            key = (ubm, *openings[: m + 1])\n            if key not in wetted:\n                wetted[key] = wetted_area(ubm, openings[: m + 1])",
        "tests/test_process_runner.py tests/test_process_shapes.py tests/test_pinned_process.py",
        "tests/test_process_flow.py tests/test_process_deposit.py tests/test_sizing_solve.py",
    ),
    (
        "N33",
        "masklayout/process/phase.py",
        "fraction = np.clip((x - xs) / np.where(xl != xs, xl - xs, np.inf), 0.0, 1.0)",
        "fraction = np.clip((xl - x) / np.where(xl != xs, xl - xs, np.inf), 0.0, 1.0)",
        "tests/test_process_phase.py tests/test_pinned_process.py",
        "tests/test_process_runner.py tests/test_process_flow.py",
    ),
    (
        "N34",
        "masklayout/process/shapes.py",
        "    return cap_volume(r * np.tan(np.asarray(angle, dtype=float) / 2), r)",
        "    return cap_volume(r * np.tan(np.asarray(angle, dtype=float)), r)",
        "tests/test_process_shapes.py tests/test_pinned_process.py",
        "tests/test_process_runner.py tests/test_process_flow.py tests/test_process_deposit.py",
    ),
    # ---- variation
    (
        "N35",
        "masklayout/variation/montecarlo.py",
        "area[:, level] = area[:, level] * scale * scale",
        "area[:, level] = area[:, level] * scale",
        "tests/test_process_variation.py",
        "tests/test_process_cli.py",
    ),
    (
        "N36",
        "masklayout/variation/montecarlo.py",
        "return mean, math.sqrt(max(squares - n * mean * mean, 0.0) / (n - 1))",
        "return mean, math.sqrt(max(squares - n * mean * mean, 0.0) / n)",
        "tests/test_process_variation.py",
        "tests/test_process_cli.py",
    ),
    (
        "N37",
        "masklayout/variation/montecarlo.py",
        'power = 2 if p.shape == "quadratic" else 1',
        'power = 1 if p.shape == "quadratic" else 2',
        "tests/test_process_variation.py",
        "tests/test_process_cli.py",
    ),
    # ---- sizing
    (
        "N38",
        "masklayout/sizing.py",
        "copies = [base + (dx, dy, 0.0) for dx in (-sx, 0.0, sx) for dy in (-sy, 0.0, sy)]",
        "copies = [base + (dx, dy, 0.0) for dx in (-sx, 0.0, sx) for dy in (-sx, 0.0, sx)]",
        "tests/test_sizing_solve.py tests/test_pinned_sizing.py",
        "tests/test_process_cli.py",
    ),
    (
        "N39",
        "masklayout/sizing.py",
        "mask.thickness / ratio,\n",
        "mask.thickness * ratio,\n",
        "tests/test_sizing_solve.py tests/test_pinned_sizing.py",
        "tests/test_process_cli.py",
    ),
    (
        "N40",
        "masklayout/sizing.py",
        "ratio = opening.diameter / (4 * mask.thickness)",
        "ratio = opening.diameter / (2 * mask.thickness)",
        "tests/test_sizing_solve.py tests/test_pinned_sizing.py",
        "tests/test_process_cli.py",
    ),
    # ---- routing
    (
        "N41",
        "masklayout/routing/plane.py",
        "s = int(round(space / DBU)) + 50",
        "s = int(round(space / DBU)) - 50",
        "tests/test_rdl_routing.py tests/test_routing_router.py",
        "tests/test_nets_build.py tests/test_checks_rules.py",
    ),
    (
        "N42",
        "masklayout/routing/diagnose.py",
        "has = max(0, math.floor((gap - space) / (width + space) + 1e-9))",
        "has = max(0, math.floor(gap / (width + space) + 1e-9))",
        "tests/test_routing_router.py tests/test_rdl_routing.py",
        "tests/test_routing_fanin.py tests/test_nets_build.py",
    ),
    (
        "N43",
        "masklayout/routing/shapes.py",
        "            (boxes[:, 0] <= b[2] + s)\n            & (boxes[:, 2] >= b[0] - s)\n            & (boxes[:, 1] <= b[3] + s)\n            & (boxes[:, 3] >= b[1] - s)",
        "            (boxes[:, 0] <= b[2])\n            & (boxes[:, 2] >= b[0])\n            & (boxes[:, 1] <= b[3])\n            & (boxes[:, 3] >= b[1])",
        "tests/test_routing_router.py tests/test_rdl_routing.py",
        "tests/test_routing_fanin.py tests/test_nets_build.py",
    ),
    (
        "N44",
        "masklayout/routing/ports.py",
        "    c = ((p + q) * cross[:, None]).sum(0) / (6.0 * area)",
        "    c = ((p + q) * cross[:, None]).sum(0) / (3.0 * area)",
        "tests/test_routing_router.py tests/test_rdl_routing.py",
        "tests/test_routing_fanin.py tests/test_nets_build.py",
    ),
    # ---- files / cli
    (
        "N45",
        "masklayout/files.py",
        "            for folder in reversed(out.made):",
        "            for folder in out.made:",
        "tests/test_outputs_safety.py",
        "tests/test_usability_outputs.py tests/test_cli_build.py",
    ),
    (
        "N46",
        "masklayout/cli.py",
        "        print_json(summary)\n        if unrouted_rdb:\n            sys.exit(EXIT_FAILURE)\n",
        "        print_json(summary)\n",
        "tests/test_cli_build.py tests/test_rdl_routing.py",
        "tests/test_usability_outputs.py tests/test_routing_fanin.py tests/test_nets_build.py",
    ),
    # ---- late additions (chosen after part of the suite had been read for the tests above)
    (
        "N47",
        "masklayout/outputs.py",
        "index -= index.min(axis=0) if len(index) else 0",
        "index -= index.min() if len(index) else 0",
        "tests/test_outputs_maps.py",
        "tests/test_cli_build.py tests/test_usability_outputs.py",
    ),
    (
        "N48",
        "masklayout/split.py",
        '"label_shapes": _shapes(copies[own].polygons) - 2,',
        '"label_shapes": _shapes(copies[own].polygons) - 1,',
        "tests/test_split_masks.py",
        "tests/test_export_flat.py tests/test_marks_wafer.py",
    ),
    (
        "N49",
        "masklayout/cli.py",
        "f\"{totals['length'] / 1000:.2f} mm, {totals['bends']} bends\"",
        "f\"{totals['length'] / 100:.2f} mm, {totals['bends']} bends\"",
        "tests/test_cli_build.py tests/test_nets_build.py",
        "tests/test_usability_outputs.py tests/test_usability_readme.py tests/test_rdl_routing.py",
    ),
    (
        "N50",
        "masklayout/checks/report.py",
        'f" and {v.placements - 1} more placements"',
        'f" and {v.placements} more placements"',
        "tests/test_checks_report.py tests/test_checks_rules.py",
        "tests/test_usability_check.py tests/test_checks_connectivity.py",
    ),
    (
        "N51",
        "masklayout/files.py",
        "    return 0o666 & ~_umask()\n",
        "    return 0o644\n",
        "tests/test_outputs_safety.py",
        "tests/test_usability_outputs.py tests/test_split_masks.py",
    ),
]


def run(root: Path, ids: list[str], wide: bool, only: str = "") -> None:
    env = {**os.environ, "PYTHONPATH": str(root)}
    for mid, file, old, new, area, wider in MUTANTS:
        if ids and mid not in ids:
            continue
        path = root / file
        text = path.read_text()
        if text.count(old) != 1:
            print(f"{mid} NOT APPLIED ({text.count(old)} matches)", flush=True)
            continue
        path.write_text(text.replace(old, new))
        try:
            tests = only.replace(",", " ") or ((area + " " + wider) if wide else area)
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                 *tests.split()],
                cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            print(f"{mid} timeout (over {TIMEOUT} s)", flush=True)
            continue
        finally:
            path.write_text(text)
        failed = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")), "")
        verdict = "survived" if proc.returncode == 0 else "killed"
        print(f"{mid} {verdict} {failed or proc.stdout.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    only = next((a.split("=", 1)[1] for a in args if a.startswith("--tests=")), "")
    run(Path(args[0]), [a for a in args[1:] if not a.startswith("--")], "--wide" in args, only)
