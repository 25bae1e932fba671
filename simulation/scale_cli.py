"""Command line of the scale features: ``scenario generate`` and ``scenario import``.

``main.py`` calls :func:`register` to add the subcommands. Heavy modules (pandapower, SimBench) are
imported inside the handlers so that start-up stays fast. Bad input raises
:class:`simulation.errors.ScenarioError` naming the file, object and field; ``main.py`` prints it as
one line and exits with code 2. The ``sweep`` command needs the study file, so it lives in
``cba/sweep_cli.py`` (``simulation`` never imports ``cba``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from coordstudio.simulation.cli_args import number


def register(subparsers: Any) -> None:
    """Add ``scenario generate`` and ``scenario import`` to the main parser's subcommands."""
    p = subparsers.add_parser(
        "scenario",
        help="generate an Italian-scale scenario or import real grids (SimBench, pandapower, MATPOWER)",
        description="Generate a scenario from a preset at the seed's scale, or import grid data into one.",
    )
    sub = p.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)

    g = sub.add_parser(
        "generate",
        help="generate a scenario from a preset (italy-2030, denmark-like, spain-like)",
        description=(
            "Generate PRESET on real grid data: a PEGASE transmission grid reduced to the target bus count, "
            "distribution nodes at its load buses, the most DG- and flexibility-rich ones as SimBench MV "
            "grids, and the preset's device counts allocated by population-like weights. Writes the "
            "scenario (YAML, or JSON for .json; JSON is much faster at full scale) and the grid files "
            "next to it. italy-2030 reproduces the seed's counts exactly (3,648 transmission nodes, "
            "2,410 distribution nodes, 50 detailed, 655,323 PV, ...)."
        ),
    )
    g.add_argument("preset", help="italy-2030, denmark-like or spain-like")
    g.add_argument("--out", required=True, help="scenario file to write (.json or .yaml)")
    g.add_argument(
        "--seed", type=number(int, low=0, high=2**32 - 1), default=20190601,
        help="random seed (same seed, same scenario)")
    g.add_argument(
        "--scale",
        type=number(float, low=0.0, low_open=True, high=100.0),
        default=1.0,
        help="multiply every count by this factor (e.g. 0.01 for a quick test; default 1)",
    )
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser(
        "import",
        help="make a scenario from a SimBench code, or put a pandapower JSON / MATPOWER case into one",
        description=(
            "simbench CODE: any SimBench code (offline) becomes a scenario: EHV/HV codes as the transmission "
            "grid, MV/LV codes as a detailed distribution grid with their generators, storage and loads as "
            "devices and their profiles.  grid FILE: a pandapower JSON (.json) or MATPOWER (.m/.mat) case "
            "becomes the transmission grid (--as transmission) or one more detailed distribution grid "
            "(--as feeder) of --into SCENARIO (default: the embedded default scenario)."
        ),
    )
    i.add_argument("kind", choices=["simbench", "grid"], help="simbench (a SimBench code) or grid (a file)")
    i.add_argument("source", help="SimBench code (e.g. 1-MV-rural--0-sw) or grid file")
    i.add_argument("--out", required=True, help="scenario file to write (.json or .yaml)")
    i.add_argument(
        "--as",
        dest="role",
        choices=["transmission", "feeder"],
        default="feeder",
        help="role of a grid file (default: feeder)",
    )
    i.add_argument(
        "--into", help="scenario or study file to add the grid to (default: the embedded scenario)"
    )
    i.add_argument(
        "--interface-bus",
        type=number(int, low=0),
        help="transmission bus the distribution grid connects to (default: largest load bus)",
    )
    i.add_argument(
        "--transmission-case",
        default="case118",
        help="pandapower case a SimBench MV/LV grid is attached to (default: case118)",
    )
    i.add_argument("--feeder-id", help="id of the imported distribution grid (default: F<n>)")
    i.set_defaults(func=cmd_import)


def cmd_generate(args: argparse.Namespace) -> int:
    """``scenario generate PRESET --out FILE [--seed N] [--scale F]``."""
    from coordstudio.simulation.fileio import prepare_out_dir
    from coordstudio.simulation.generator import generate_scenario
    from coordstudio.simulation.imports import write_spec

    out = Path(args.out)
    prepare_out_dir(out.parent if str(out.parent) else Path("."))
    t0 = time.perf_counter()
    gen = generate_scenario(
        args.preset, out.parent if str(out.parent) else Path("."), seed=args.seed, scale=args.scale
    )
    write_spec(gen.spec, out)
    dt = time.perf_counter() - t0
    print(
        f"wrote {out} ({gen.transmission_nodes} transmission nodes, {gen.distribution_nodes} distribution "
        f"nodes of which {gen.detailed_grids} detailed, {sum(gen.counts.values()):,} devices) in {dt:.1f} s"
    )
    for kind, n in gen.counts.items():
        print(f"  {kind:<20} {n:>10,}")
    for note in gen.notes:
        print(f"  note: {note}")
    print("  grid files: " + ", ".join(str(f) for f in gen.files), file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``scenario import simbench CODE --out FILE`` or ``scenario import grid FILE --as ROLE --out FILE``."""
    from pydantic import ValidationError

    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.fileio import prepare_out_dir
    from coordstudio.simulation.grid_files import PANDAPOWER_CASES
    from coordstudio.simulation.imports import import_grid, import_simbench, read_spec, write_spec

    out = Path(args.out)
    if args.transmission_case not in PANDAPOWER_CASES:
        raise ScenarioError(
            f"--transmission-case: unknown pandapower grid {args.transmission_case[:60]!r}; known: "
            f"{', '.join(PANDAPOWER_CASES)}"
        )
    out_dir = prepare_out_dir(out.parent if str(out.parent) else Path("."))
    try:
        if args.kind == "simbench":
            spec = import_simbench(
                args.source,
                out_dir,
                transmission_case=args.transmission_case,
                interface_bus=args.interface_bus,
            )
        else:
            base = read_spec(args.into) if args.into else None
            spec = import_grid(
                args.source,
                args.role,
                base=base,
                out_dir=out_dir,
                feeder_id=args.feeder_id,
                interface_bus=args.interface_bus,
            )
    except ValidationError as exc:  # the imported grid gives a spec the schema refuses (e.g. a bus index)
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        msg = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        raise ScenarioError(f"{args.source}: the imported scenario is invalid: {loc}: {msg}") from None
    write_spec(spec, out)
    n_dev = sum(g.count for g in spec.device_groups)
    print(
        f"wrote {out}: transmission {spec.transmission.grid_file or spec.transmission.case_name}, "
        f"{len(spec.feeders)} detailed distribution grid(s), {len(spec.copper_plate_nodes)} copper-plate "
        f"node(s), {n_dev:,} devices in {len(spec.device_groups)} groups"
    )
    return 0
