"""Command line of the headless figures: ``coordstudio figures RESULTS [--out DIR] [--format png,svg]``.

Parses the arguments, calls :func:`cba.figures.write_results_figures` and prints what it wrote.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def _cmd_figures(args: argparse.Namespace) -> int:
    from coordstudio.cba.figures import parse_formats, write_results_figures
    from coordstudio.cba.fileio import prepare_out_dir

    formats = parse_formats(args.format)
    if args.out is not None:
        prepare_out_dir(args.out)  # a --out that is a file or read-only fails now, in one line
    paths, notes = write_results_figures(args.results, args.out, formats, args.db)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    folder = args.out or args.results
    print(f"wrote {len(paths)} figure files to {folder}/")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``figures`` subcommand to ``main.py``'s argument parser."""
    p = subparsers.add_parser(
        "figures",
        help="write every chart of the desktop application as PNG/SVG from a finished run",
        description=(
            "Draw every figure the desktop application shows (KPI bars, ICT cost, cash flows, tornado, "
            "Monte Carlo, actors, nodal prices, price maps and components, activations, clearing cost, "
            "voltages) from the outputs of a finished run, without simulating again: RESULTS is the "
            "folder 'run --out' wrote (kpis.csv, cba_result.json, results.sqlite) or a results database "
            "(SQLite file or URL: no CBA figures then). The figure files are listed in docs/figures.md."
        ),
        epilog="Example:  coordstudio figures out --out out/figures --format svg",
    )
    p.add_argument("results", help="output folder of 'run', or a results database (SQLite file or URL)")
    p.add_argument("--out", default=None, help="folder to write to (default: RESULTS when it is a folder)")
    p.add_argument("--format", default="png,svg", help="comma-separated formats: png, svg (default: png,svg)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="results database of the run when it is not RESULTS/results.sqlite")
    p.set_defaults(func=_cmd_figures)
