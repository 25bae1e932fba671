"""Command line of the CBA: ``coordstudio cba STUDY --results DB --out DIR``.

Parses the arguments, calls :func:`cba.reappraisal.reappraise` (read the stored KPIs, re-run the CBA,
write the outputs through :mod:`cba.outputs`) and prints the ranking. Exit status 3
(:data:`cba.assessment.EXIT_NOT_ASSESSED`) when the outputs are written but a scheme is not assessed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coordstudio.simulation.cli_args import number

__all__ = ["register"]


def _cmd_cba(args: argparse.Namespace) -> int:
    from coordstudio.cba.assessment import EXIT_NOT_ASSESSED, not_assessed_line
    from coordstudio.cba.fileio import prepare_out_dir
    from coordstudio.cba.reappraisal import reappraise
    from coordstudio.cba.study_file import load_study

    prepare_out_dir(args.out)  # a bad --out fails before the CBA, with one line
    result, paths = reappraise(load_study(Path(args.study)), args.results, Path(args.out), args.samples)
    mc = result.monte_carlo
    print(f"{'rank':<5}{'scheme':<8}{'NPV EUR':>16}{'BCR':>8}{'IRR':>9}{'P(NPV<0)':>10}{'failed clr.':>13}")
    verdicts = {a.scheme: a for a in result.assessments}
    # assessed schemes by rank, then those not assessed (rank 0) in scheme order
    for s in sorted(result.schemes, key=lambda s: (not s.assessed, s.rank)):
        bcr = f"{s.bcr:8.2f}" if s.bcr is not None else f"{'n/a':>8}"
        irr = f"{s.irr:9.1%}" if s.irr is not None else f"{'n/a':>9}"
        a = verdicts.get(s.scheme)
        failed = "-" if a is None else f"{a.failed_clearings}" + (f"/{a.clearings}" if a.clearings else "")
        rank = str(s.rank) if s.assessed else "n/a"
        print(
            f"{rank:<5}{s.scheme:<8}{s.npv_eur:>16,.0f}{bcr}{irr}{mc.scheme(s.scheme).prob_npv_negative:>10.1%}"
            f"{failed + ('' if s.assessed else ' !'):>13}"
        )
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"\nwrote {', '.join(p.name for p in paths.values())} to {args.out}/")
    line = not_assessed_line(result.assessments)
    if line:
        print(f"warning: {line}", file=sys.stderr)
        return EXIT_NOT_ASSESSED
    return 0


def register(subparsers: Any) -> None:
    """Add the ``cba`` subcommand to ``main.py``'s argument parser."""
    p = subparsers.add_parser(
        "cba",
        help="re-run only the cost-benefit analysis on stored simulation results",
        description=(
            "Re-run the cost-benefit analysis of STUDY on stored simulation results, without "
            "re-simulating: recompute the ICT costs from the study's SGAM model, read the KPIs from "
            "--results, and write report.xlsx, recommendations.md, recommendations.docx, the chart PNGs "
            "and cba_result.json to --out. Edit the study's cba: section (discount rate, prices, day "
            "weights, distributions) and run this again to see the effect."
        ),
        epilog="Example:  coordstudio cba study.yaml --results out/results.sqlite --out out/cba",
    )
    p.add_argument("study", help="study file (YAML or JSON)")
    p.add_argument(
        "--results",
        required=True,
        metavar="DB",
        help="results database URL or SQLite file written by 'run', or its kpis.csv, or a JSON list of KPIs",
    )
    p.add_argument("--out", default="out", help="output folder (created if missing; default: out)")
    p.add_argument(
        "--samples",
        type=number(int, low=10, high=5_000_000),
        metavar="N",
        help="Monte Carlo samples (default: the study's cba.monte_carlo_samples)",
    )
    p.set_defaults(func=_cmd_cba)
