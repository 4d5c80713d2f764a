"""Command line: thin click commands over the Python API.

Exit codes: 0 success, 1 the checks or the process found a failure, 2 bad input or usage.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import Any

import click

from masklayout import files, layout, outputs, split
from masklayout import spec as spec_module
from masklayout.bumpmap import BumpFile
from masklayout.export import ExposureError
from masklayout.fields import UNITS_TEXT, length_um
from masklayout.geometry import marks as mark_geometry
from masklayout.geometry import rdl as rdl_geometry
from masklayout.progress import Progress
from masklayout.source import SpecError
from masklayout.tech import Exposure, tech_files

EXIT_FAILURE, EXIT_BAD_INPUT = 1, 2


def reports_bad_input(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SpecError (or a missing file, or an output that cannot be written) into its
    message on stderr and exit code 2.

    With ``--json`` the error is also printed on stdout as ``{"error": "..."}`` (usage errors
    too, before click reports them)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SpecError, FileNotFoundError, files.OutputError, ExposureError) as exc:
            if kwargs.get("as_json"):
                print_json({"error": str(exc)})
            click.echo(str(exc) if isinstance(exc, SpecError) else f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.UsageError as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.format_message()})
            raise

    return wrapper


def spec_inputs(design: spec_module.Design, spec_file: str) -> dict[str, Path]:
    """Every file a spec command reads, by what it is: the spec, its tech file and every one it
    extends (as the tech loader resolves them), its bump map files; no output may be one of
    them."""
    base = Path(spec_file).parent if spec_file != "-" else Path.cwd()
    found = {"the spec": Path(spec_file)}
    for k, path in enumerate(tech_files(design.spec.tech, base)):
        found["the tech file" if k == 0 else f"the tech file extended ({path})"] = path
    for i, entry in enumerate(design.spec.die.bumps):
        if isinstance(entry, BumpFile):
            found[f"the bump map die.bumps[{i}]"] = base / entry.file
    return found


def check_layout_output(output: str) -> None:
    """Refuse a layout output ``layout.write`` does not write: it writes GDSII, OASIS or
    gzipped GDSII, to a file (on stdout, binary would mix with the summary)."""
    supported = ", ".join(layout.LAYOUT_SUFFIXES)
    if output == "-":
        raise click.BadParameter(
            f"a layout is not written to standard output; give a file name ending {supported}",
            param_hint="-o/--output",
        )
    if layout.layout_format(output) is None:
        raise click.BadParameter(
            f"'{output}' is not a layout file name: it must end {supported} "
            "(GDSII, OASIS, gzipped GDSII)",
            param_hint="-o/--output",
        )


class LengthParam(click.ParamType):
    """A length option: a number in µm or with a unit (``0.5 mm``, ``16 mil``), finite and
    greater than 0."""

    name = "length"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        length = length_um(value)
        if length is None or not math.isfinite(length) or length <= 0:
            self.fail(
                f"expected a length greater than 0: a number in µm or with a unit ({UNITS_TEXT}), "
                f"found {value!r}",
                param,
                ctx,
            )
        return length


LENGTH = LengthParam()


def load_whole(spec_file: str) -> spec_module.Design:
    """Load a spec and validate its process flow's structure too: a command that makes files
    from a spec makes none from a spec that is wrong anywhere (SpecError)."""
    design = spec_module.load(spec_file)
    if design.spec.process:
        from masklayout.process.flow import plan_flow

        plan_flow(design)
    return design


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


class _Command(click.Command):
    """A command whose usage errors (a bad option, a missing value) with ``--json`` in its
    arguments are also ``{"error": "..."}`` on stdout."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        json_asked = "--json" in args  # before parsing, which consumes the list
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if json_asked:
                print_json({"error": exc.format_message()})
            raise


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="masklayout")
def main() -> None:
    """masklayout: wafer-level solder bumping mask sets from one YAML spec.

    SPEC is a YAML file, - for stdin. Exit codes: 0 success, 1 the checks or the process
    found a failure, 2 bad input or usage. 'masklayout COMMAND --help' for each.
    """


@main.command(short_help="The JSON Schema of the spec, for editors.")
def schema() -> None:
    """Print the JSON Schema of the spec, for editors to validate and complete specs."""
    print_json(spec_module.json_schema())


def flat_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a flat split: format, exposure overrides, processes."""
    options = [
        click.option(
            "--flat",
            is_flag=True,
            help="Write each mask flat (one cell), streamed die by die, in its exposure "
            "(mirror, tone, magnification, plate, image from the tech and spec).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["oas", "gds"]),
            default="oas",
            show_default=True,
            help="Flat file format: OASIS (repetitions, CBLOCKs) or GDSII (polygons split "
            "at 8190 vertices).",
        ),
        click.option(
            "--mirror/--no-mirror",
            default=None,
            help="Mirror about the y axis (right-reading through the glass), for every mask.",
        ),
        click.option(
            "--tone",
            type=click.Choice(["clear", "dark"]),
            help="Field tone for every mask: dark writes the openings, clear the field less "
            "the openings (default: each film's).",
        ),
        click.option(
            "--mag", type=float, help="Magnification for every mask (4 or 5 for a reticle)."
        ),
        click.option(
            "--image",
            type=click.Choice(["wafer", "die"]),
            help="What every mask images: the wafer (every die, marks, labels) or one die "
            "centred on the plate, as a stepper reticle (default: the tech's and spec's, "
            "else wafer).",
        ),
        click.option(
            "--jobs",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Processes writing flat masks side by side (same bytes as one).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def exposure_override(
    flat: bool, mirror: bool | None, tone: str | None, mag: float | None, image: str | None
) -> Exposure | None:
    """The command line's exposure keys (those given), or None."""
    pairs = (("mirror", mirror), ("tone", tone), ("magnification", mag), ("image", image))
    given = {key: value for key, value in pairs if value is not None}
    if given and not flat:
        raise click.UsageError(
            "--mirror, --tone, --mag and --image apply to a flat split: add --flat"
        )
    if mag is not None and not 0 < mag <= 10:
        raise click.BadParameter("a magnification in (0, 10]", param_hint="--mag")
    return Exposure(**given) if given else None


@main.command(short_help="The mask set as GDSII/OASIS, with its .lyp and maps.")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Layout to write: .gds (GDSII) or .oas (OASIS). Default: the spec's name + .gds.",
)
@click.option("--die-only", is_flag=True, help="Write the die cell alone, not the wafer.")
@click.option(
    "--bumpmap",
    type=click.Path(dir_okay=False),
    help="Also write every bump on the wafer (die, bump, die and wafer x/y, stack, net) as CSV.",
)
@click.option(
    "--wafermap",
    type=click.Path(dir_okay=False),
    help="Also write every die position (index, column, row, x/y, full or partial) as CSV.",
)
@click.option(
    "--split",
    "split_dir",
    type=click.Path(file_okay=False),
    help="Also write one GDSII file per mask layer and masks.json (the mask order) into DIR.",
)
@flat_options
@click.option(
    "--revision",
    default="A",
    show_default=True,
    help="Revision printed in each mask's label.",
)
@click.option(
    "--pinmap",
    type=click.Path(dir_okay=False),
    help="Also write the pin map (pad, bump, net, x, y of every bump on a net) as CSV.",
)
@click.option(
    "--allow-unrouted",
    is_flag=True,
    help="Write what routed when some nets do not, with a marker database of the rest "
    "(NAME.unrouted.lyrdb beside the layout), and exit 1.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on the terminal.")
@reports_bad_input
def build(
    spec_file: str,
    output: str | None,
    die_only: bool,
    bumpmap: str | None,
    wafermap: str | None,
    split_dir: str | None,
    flat: bool,
    fmt: str,
    mirror: bool | None,
    tone: str | None,
    mag: float | None,
    image: str | None,
    jobs: int,
    revision: str,
    pinmap: str | None,
    allow_unrouted: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Build the mask set of SPEC (a YAML file, - for stdin) as a hierarchical layout, with its
    KLayout layer properties (same name, .lyp) beside it.

    Nets that do not route are all reported, and nothing is written (exit 2); with
    --allow-unrouted the routed part is written with a marker database of the rest (exit 1).

    With --split DIR --flat, each mask is written flat for the mask shop: OASIS by default,
    mirrored, toned and magnified as the tech and the spec's masks say (or as given here);
    with --image die, one die centred on the plate (a stepper reticle) instead of the wafer."""
    from masklayout import nets_report

    if die_only and (bumpmap or wafermap):
        raise click.UsageError("--bumpmap and --wafermap need the wafer; drop --die-only")
    if die_only and split_dir:
        raise click.UsageError("--split needs the wafer; drop --die-only")
    if flat and not split_dir:
        raise click.UsageError("--flat writes the masks of --split DIR: add --split")
    override = exposure_override(flat, mirror, tone, mag, image)
    if not mark_geometry.REVISION.fullmatch(revision):
        raise click.BadParameter(mark_geometry.REVISION_HELP, param_hint="--revision")
    if output is not None:
        check_layout_output(output)
    progress = Progress.for_terminal(quiet)
    design = load_whole(spec_file)
    path = output or f"{design.spec.name}.gds"
    out = files.OutputSet(spec_inputs(design, spec_file))
    out.add(path, "-o", "the layout output")
    lyp = out.add(outputs.layer_properties_path(path), "", "the layer properties beside -o")
    markers = nets_report.unrouted_rdb_path(path)
    if allow_unrouted:  # refused before the routing, which may take minutes
        out.add(markers, "", "the unrouted nets' markers beside -o")
    if bumpmap:
        out.add(bumpmap, "--bumpmap", "the bump map output")
    if wafermap:
        out.add(wafermap, "--wafermap", "the wafer map output")
    if split_dir:
        out.add(split_dir, "--split", "the mask set folder", directory=True)
    if pinmap:
        out.add(pinmap, "--pinmap", "the pin map output")
    with progress.step("building the layout"):
        built = layout.build(
            design, die_only=die_only, revision=revision, allow_unrouted=allow_unrouted
        )
    routing = built.routing
    assert routing is not None  # a layout built (not read back) always carries its routing
    unrouted_rdb = markers if routing.result.unrouted else None
    with out:
        with progress.step(f"writing {path}"):
            size = layout.write(built, out.temporary(path))
        outputs.write_layer_properties(design.tech, out.temporary(lyp))
        if bumpmap:
            outputs.write_bumpmap(design, built.dies, out.temporary(bumpmap), progress)
        if wafermap:
            outputs.write_wafermap(built.dies, out.temporary(wafermap))
        if pinmap:
            nets_report.write_pinmap(design, out.temporary(pinmap))
        if unrouted_rdb:
            nets_report.write_unrouted_rdb(design, built, out.temporary(unrouted_rdb), str(path))
        masks = None
        if split_dir and flat:
            masks = split.write_flat_split(
                design,
                built.library,
                out.temporary(split_dir),
                fmt,  # type: ignore[arg-type]
                override,
                jobs,
                progress,
            )
        elif split_dir:
            masks = split.write_split(design, built, out.temporary(split_dir), progress)
    # an earlier build's markers, not this build's other output of that name
    stale = unrouted_rdb is None and (allow_unrouted or not out.declares(markers))
    if stale and markers.is_file():
        click.echo(
            f"note: {markers} is from an earlier build: every net routes now, so its markers "
            "are stale (delete it)",
            err=True,
        )
    summary = {
        "output": str(path),
        "top_cell": built.top.name,
        "dies": None if die_only else built.dies.count,
        "grid_offset_um": None if die_only else list(built.dies.offset),
        "bumps_per_die": built.bumps_per_die,
        "bumps_on_wafer": None if die_only else built.bumps_on_wafer,
        "layers": list(built.layers),
        "file_bytes": size,
        "layer_properties": str(lyp),
        "bumpmap": bumpmap,
        "wafermap": wafermap,
        "split": str(Path(split_dir, split.MANIFEST)) if split_dir else None,
        "pinmap": pinmap,
        "unrouted_markers": None if unrouted_rdb is None else str(unrouted_rdb),
        **nets_report.nets_json(design, routing, built.teardrops_skipped),
    }
    if as_json:
        print_json(summary)
        if unrouted_rdb:
            sys.exit(EXIT_FAILURE)
        return
    if not die_only:
        click.echo(
            f"dies on the wafer   {built.dies.count} (grid offset {built.dies.offset[0]:g}, {built.dies.offset[1]:g} µm)"
        )
    click.echo(f"bumps per die       {built.bumps_per_die}")
    if not die_only:
        click.echo(f"bumps on the wafer  {built.bumps_on_wafer}")
    click.echo(f"layers              {', '.join(built.layers)}")
    totals = summary["totals"]
    if totals["to_route"]:
        click.echo(
            f"RDL nets            {totals['routed']} of {totals['to_route']} routed, "
            f"{totals['length'] / 1000:.2f} mm, {totals['bends']} bends"
        )
        if totals["bumps_on_no_net"]:
            loose = nets_report.bumps_on_no_net(design)
            click.echo(f"bumps on no net     {len(loose)} ({_some(loose)}): capture pad only")
    if totals["nets_of_one_pad"]:
        alone = nets_report.nets_of_one_pad(design)
        click.echo(f"nets of one pad     {len(alone)} ({_some(alone)}): no bump, nothing routed")
    for net in design.nets:
        if net.assigned:
            pins = ", ".join(f"{pad} -> {bump}" for pad, bump in net.assigned)
            click.echo(f"bumps chosen        {net.name}: {pins}")
    for name, terminals in built.teardrops_skipped.items():
        if terminals:
            left = ", ".join(terminals)
            click.echo(f"teardrops skipped   {name}: {left} (RDL.S to other metal, edge or notch)")
    click.echo(f"wrote               {path} ({size / 1024:.1f} KiB, top cell {built.top.name})")
    for written in (lyp, bumpmap, wafermap, pinmap, unrouted_rdb):
        if written:
            click.echo(f"                    {written}")
    if masks is not None:
        names = ", ".join(mask["name"] for mask in masks["masks"])
        click.echo(f"masks               {names} in {split_dir} (+ {split.MANIFEST})")
        if not masks["alignment_marks"]["inside_usable_area"]:
            click.echo(
                "warning: no room for the alignment marks in the usable area free of dies; "
                "they sit past the dies, in the edge exclusion",
                err=True,
            )
    if unrouted_rdb:
        click.echo(str(rdl_geometry.unrouted_error(design, routing.result.unrouted)), err=True)
        count = len(routing.result.unrouted)
        click.echo(
            f"{count} net{'' if count == 1 else 's'} not routed: the layout lacks "
            f"{'it' if count == 1 else 'them'} "
            f"(markers in {unrouted_rdb})",
            err=True,
        )
        sys.exit(EXIT_FAILURE)


def _some(names: list[str], most: int = 6) -> str:
    """The first ``most`` names, comma-separated, and "..." when there are more."""
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


@main.command("split", short_help="The mask order from a built GDS/OASIS: a file per mask.")
@click.argument("layout_file", metavar="GDS", type=click.Path(exists=True, dir_okay=False))
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--spec",
    "spec_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The spec GDS was built from (films, tones, exposures, critical dimensions).",
)
@flat_options
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on the terminal.")
@reports_bad_input
def split_command(
    layout_file: str,
    directory: str,
    spec_file: str,
    flat: bool,
    fmt: str,
    mirror: bool | None,
    tone: str | None,
    mag: float | None,
    image: str | None,
    jobs: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Split GDS (a wafer layout built from SPEC, GDSII or OASIS) into one file per mask layer
    and masks.json in DIR: hierarchical GDSII, or with --flat each mask flat in its exposure,
    as 'build --split DIR [--flat]' writes them."""
    override = exposure_override(flat, mirror, tone, mag, image)
    progress = Progress.for_terminal(quiet)
    design = spec_module.load(spec_file)
    with progress.step(f"reading {layout_file}"):
        try:
            library = layout.read(layout_file)
        except (OSError, EOFError, RuntimeError) as exc:  # gdstk (GDSII, OASIS), gzip
            raise click.BadParameter(
                f"{layout_file}: cannot read it as GDSII or OASIS ({exc})", param_hint="GDS"
            ) from None
    if design.spec.name not in {cell.name for cell in library.cells}:
        raise click.BadParameter(
            f"{layout_file} has no cell {design.spec.name}: not a wafer built from {spec_file}",
            param_hint="GDS",
        )
    out = files.OutputSet({"GDS": layout_file, "--spec": spec_file})
    out.add(directory, "DIR", "the mask set folder", directory=True)
    with out:
        if flat:
            masks = split.write_flat_split(
                design,
                library,
                out.temporary(directory),
                fmt,  # type: ignore[arg-type]
                override,
                jobs,
                progress,
            )
        else:
            built = layout.from_library(design, library)
            masks = split.write_split(design, built, out.temporary(directory), progress)
    if as_json:
        print_json(masks)
        return
    for mask in masks["masks"]:
        click.echo(f"wrote {Path(directory, mask['file'])}")
    click.echo(f"wrote {Path(directory, split.MANIFEST)}")


@main.command(short_help="PNG pictures: wafer map, die, each opening stack.")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Directory to write the pictures into.",
)
@click.option(
    "--allow-unrouted",
    is_flag=True,
    help="Draw what routed when some nets do not, each marked where it got stuck, and exit 1.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on the terminal.")
@reports_bad_input
def preview(
    spec_file: str, directory: str, allow_unrouted: bool, as_json: bool, quiet: bool
) -> None:
    """Draw SPEC (a YAML file, - for stdin) as PNG pictures: the wafer map, the die (KLayout,
    with the .lyp colours) and a close-up of each opening stack.

    Nets that do not route are all reported, and nothing is drawn (exit 2); with
    --allow-unrouted the die shows what routed and a cross where each other net got stuck
    (exit 1)."""
    from masklayout import preview as pictures

    design = load_whole(spec_file)
    out = files.OutputSet(spec_inputs(design, spec_file))
    folder = out.add(directory, "-o", "the picture folder", directory=True)
    with out:
        staged = pictures.write_previews(
            design, out.temporary(folder), Progress.for_terminal(quiet), allow_unrouted
        )
    written = pictures.Previews(
        wafer=folder / staged.wafer.name,
        die=folder / staged.die.name,
        bumps={stack: folder / p.name for stack, p in staged.bumps.items()},
        unrouted=staged.unrouted,
    )
    if as_json:
        print_json(written.as_dict())
    else:
        for path in (written.wafer, written.die, *written.bumps.values()):
            click.echo(f"wrote {path}")
    if written.unrouted:
        click.echo(str(rdl_geometry.unrouted_error(design, written.unrouted)), err=True)
        count = len(written.unrouted)
        click.echo(
            f"{count} net{'' if count == 1 else 's'} not routed: marked where "
            f"{'it' if count == 1 else 'they'} got stuck in {written.die}",
            err=True,
        )
        sys.exit(EXIT_FAILURE)


@main.command(short_help="The process flow: solder volumes, balls, composition.")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table."
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False),
    help="Also write one row per stack (ball, composition, checks, deposits) to this CSV file.",
)
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False),
    help="Also write a cross-section PNG per stack per step into this directory.",
)
@click.option(
    "--variation",
    "variation_file",
    type=click.Path(dir_okay=False),
    help="Process variation (YAML): a Monte Carlo over every bump of every die; the report, "
    "--json, --csv (one row per die) and --plot (wafer heat maps) are then of it.",
)
@click.option(
    "--height-limits",
    type=(float, float),
    metavar="LO HI",
    help="With --variation: ball height limits (µm) for Cpk, in place of the tech's.",
)
@reports_bad_input
def run(
    spec_file: str,
    as_json: bool,
    csv_file: str | None,
    plot_dir: str | None,
    variation_file: str | None,
    height_limits: tuple[float, float] | None,
) -> None:
    """Play the process flow of SPEC (a YAML file, - for stdin) on every opening stack: the
    solder each deposit puts in, what each reflow makes of it, the final balls.

    Exit 1 when the balls bridge or solder never melts, 2 when the spec or flow is wrong."""
    from masklayout import process
    from masklayout.process import report

    if height_limits is not None and variation_file is None:
        raise click.UsageError("--height-limits needs --variation")
    if height_limits is not None and height_limits[0] >= height_limits[1]:
        raise click.BadParameter("LO must be below HI", param_hint="--height-limits")
    design = spec_module.load(spec_file)
    out = files.OutputSet({**spec_inputs(design, spec_file), "the variation file": variation_file})
    if csv_file:
        out.add(csv_file, "--csv", "the CSV output")
    if plot_dir:
        out.add(plot_dir, "--plot", "the plot folder", directory=True)
    result = process.run(design)
    if variation_file is not None:
        _run_variation(
            design, result.ok, variation_file, height_limits, as_json, csv_file, plot_dir, out
        )
        return
    with out:
        if csv_file:
            files.write_bytes(out.temporary(csv_file), report.to_csv(result))
        if plot_dir:
            from masklayout.process.plot import plot_run

            plot_run(design, result, out.temporary(plot_dir))
    if as_json:
        print_json(report.to_json(result))
    else:
        click.echo(report.to_table(result))
    if not result.ok:
        sys.exit(EXIT_FAILURE)


def _run_variation(
    design: spec_module.Design,
    nominal_ok: bool,
    variation_file: str,
    height_limits: tuple[float, float] | None,
    as_json: bool,
    csv_file: str | None,
    plot_dir: str | None,
    out: files.OutputSet,
) -> None:
    """``run --variation``: the Monte Carlo and its reports; exit 1 as the nominal run would."""
    from masklayout import variation
    from masklayout.process.flow import plan_flow
    from masklayout.variation import report

    loaded = variation.load(variation_file, design, plan_flow(design))
    result = variation.monte_carlo(design, loaded.variation, height_limits)
    with out:
        if csv_file:
            files.write_bytes(out.temporary(csv_file), report.to_csv(result))
        if plot_dir:
            report.plot_maps(result, design.spec.wafer, out.temporary(plot_dir))
    if as_json:
        print_json({**report.to_json(result), "nominal_ok": nominal_ok})
    else:
        click.echo(report.to_table(result))
        if not nominal_ok:
            click.echo("FAIL: the nominal run fails (masklayout run without --variation says why)")
    if not nominal_ok:
        sys.exit(EXIT_FAILURE)


@main.command(short_help="The tech's rule deck with KLayout, and the ball rules.")
@click.argument("input_file", metavar="SPEC|GDS", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--tech",
    help="Tech whose layer map and rule deck read a GDS (default: the tech the GDS records, "
    "written by build); a spec names its own.",
)
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(dir_okay=False),
    help="With a GDS: the spec it was built from (mask films and thicknesses, ball rules, nets).",
)
@click.option("--top", help="Top cell of a GDS that has several.")
@click.option(
    "-o",
    "--rdb",
    "rdb_file",
    type=click.Path(dir_okay=False),
    help="Write every violation to a KLayout marker database (.lyrdb) to open over the GDS.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Fail on warnings (printability) too.")
@reports_bad_input
def check(
    input_file: str,
    tech: str | None,
    spec_file: str | None,
    top: str | None,
    rdb_file: str | None,
    as_json: bool,
    strict: bool,
) -> None:
    """Check SPEC (built in memory) or a GDS/OASIS layout against the tech's rule deck with
    KLayout, hierarchically: widths, spaces, enclosures, webs, pitch, aspect ratio,
    printability, and (from a spec) ball width and bridging, and the nets: the connections
    KLayout extracts (pad, PI1, RDL, PI2, UBM) against the spec's (opens, shorts, wrong ones).

    Violations are counted once per cell they lie in; 'on wafer' multiplies by the cell's
    placements. Exit 1 on a violation (a warning only with --strict), 2 on bad input."""
    from masklayout import checks

    out = files.OutputSet(
        {
            "the file checked": input_file,
            "the spec --spec": spec_file,
            "the tech file --tech": tech if tech and Path(tech).is_file() else None,
        }
    )
    if rdb_file:
        if not rdb_file.lower().endswith(".lyrdb"):
            raise click.BadParameter(
                f"'{rdb_file}' is not a marker database name: it must end .lyrdb",
                param_hint="-o/--rdb",
            )
        out.add(rdb_file, "-o", "the marker database output")
    report = checks.check_file(input_file, tech, spec_file, top)
    with out:
        if rdb_file:
            layout_file = input_file if checks.is_layout_file(input_file) else None
            checks.write_rdb(report, out.temporary(rdb_file), layout_file)
    if as_json:
        print_json({**checks.to_json(report), "failed": report.failed(strict)})
    else:
        click.echo(checks.to_table(report))
        if rdb_file:
            click.echo(f"markers written to {rdb_file}")
    if report.failed(strict):
        sys.exit(EXIT_FAILURE)


@main.command(short_help="The opening that gives a target ball height or diameter.")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--stack", "stack_name", required=True, help="The opening stack to size.")
@click.option("--height", type=LENGTH, help="Target ball height (µm, or with a unit: 0.2 mm).")
@click.option("--diameter", type=LENGTH, help="Target ball diameter (µm, or with a unit).")
@click.option("--mask", help="Size this mask's opening (default: the stack's largest, its last).")
@click.option("--grid", type=LENGTH, default=1.0, show_default=True, help="Snap the diameter to this grid (µm, or with a unit).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the solution as JSON.")
@reports_bad_input
def size(
    spec_file: str,
    stack_name: str,
    height: float | None,
    diameter: float | None,
    mask: str | None,
    grid: float,
    as_json: bool,
) -> None:
    """Solve the opening of a stack in SPEC that gives a ball of this height or diameter,
    within the rule deck (web at the pitch, alignment enclosure, aspect ratio, bridging).

    Prints the solution, its ball, the rules that bound it and the solved stack as YAML to
    paste into the spec. Exit 1 when no opening reaches the target (the limiting rule is
    named), 2 on bad input."""
    from masklayout import sizing

    if (height is None) == (diameter is None):
        raise click.UsageError("give one target: --height or --diameter")
    design = spec_module.load(spec_file)
    target: sizing.Target = "height" if height is not None else "diameter"
    value = height if height is not None else diameter
    assert value is not None  # one of the two, checked above
    try:
        result = sizing.size(design, stack_name, target, value, mask, grid)
    except sizing.Unreachable as exc:
        if as_json:
            print_json({"error": str(exc), "limiting_rule": exc.rule})
        else:
            click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    if as_json:
        print_json(sizing.to_json(result))
    else:
        click.echo(sizing.to_text(result))


@main.command(short_help="Write a starter spec to edit (builds, runs and checks clean).")
@click.argument("path", metavar="PATH", default="spec.yaml", type=click.Path(dir_okay=False, allow_dash=True))  # fmt: skip
@click.option("--tech", "tech_name", default="wlcsp-400", show_default=True, help="Built-in tech the spec names ('masklayout tech' lists them).")  # fmt: skip
@click.option("--name", default="my_wlcsp", show_default=True, help="The design's name (top cell).")
@reports_bad_input
def init(path: str, tech_name: str, name: str) -> None:
    """Write a starter spec to PATH (default spec.yaml; - prints it): a wafer of small dies with
    a bump array at the tech's pitch, two routed pads, two solder masks and a claim-1 flow,
    commented key by key. An existing file is never overwritten."""
    from masklayout.starter import starter_spec
    from masklayout.tech import builtin_techs

    if tech_name not in builtin_techs():
        raise click.BadParameter(
            f"unknown tech '{tech_name}' (built in: {', '.join(builtin_techs())})",
            param_hint="--tech",
        )
    text = starter_spec(name, tech_name)
    if path == "-":
        click.echo(text, nl=False)
        return
    if Path(path).exists():
        click.echo(f"error: {path} exists; masklayout init writes new files only", err=True)
        sys.exit(EXIT_BAD_INPUT)
    files.write_bytes(path, text)
    click.echo(f"wrote {path}: try 'masklayout build {path}', 'run', 'check', 'preview'")


@main.command(short_help="The built-in techs, or one tech's layers, solders and rules.")
@click.argument("tech_ref", metavar="TECH", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@reports_bad_input
def tech(tech_ref: str | None, as_json: bool) -> None:
    """Without TECH: the built-in technologies. With TECH (a built-in name or a tech file):
    its layer map, alloys, paste and powder solders, and its rule deck."""
    from masklayout import catalogue
    from masklayout.tech import builtin_techs, load_tech

    if tech_ref is None:
        if as_json:
            print_json({"builtin": builtin_techs()})
        else:
            click.echo(catalogue.builtin_table())
        return
    loaded = load_tech(tech_ref, Path.cwd())
    if as_json:
        print_json(catalogue.describe(loaded))
    else:
        click.echo(catalogue.tech_tables(loaded))


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP unwind like an error: the temporaries of the outputs are removed."""
    raise SystemExit(128 + signum)


def entry_point() -> None:
    """The ``masklayout`` command: :func:`main` with SIGTERM and SIGHUP turned into SystemExit
    (SIGINT is already KeyboardInterrupt), so that no temporary file outlives the command."""
    for number in files.STOP_SIGNALS:
        if number != signal.SIGINT:
            signal.signal(number, _terminate)
    main()
