"""``main.py clear CASE --scheme NAME --out DIR [--solver NAME]``: clear one market case file."""

from __future__ import annotations

import argparse
from pathlib import Path

from coordstudio.simulation.cli_args import number


def cmd_clear(args: argparse.Namespace) -> int:
    """Clear the case and write activations.csv, prices.csv, slack.csv, interface.csv, summary.json."""
    from coordstudio.simulation.fileio import prepare_out_dir
    from coordstudio.simulation.market.case import ClearingOptions
    from coordstudio.simulation.market.casefile import load_case
    from coordstudio.simulation.market.clearing import clear
    from coordstudio.simulation.market.solvers import silence_highs_banner

    silence_highs_banner()  # the summary line is this command's output
    prepare_out_dir(args.out)  # a bad --out fails before the clearing, with one line
    case = load_case(Path(args.case))
    opts = ClearingOptions(
        solver=args.solver,
        cone_tolerance=args.cone_tolerance,
        compute_prices=not args.no_prices,
        time_limit_s=args.time_limit,
    )
    res = clear(case, args.scheme, opts)
    res.write(Path(args.out))
    print(
        f"{case.name} [{args.scheme}]: {res.status}, objective {res.objective_eur:.2f} EUR, "
        f"slack {res.slack_energy_mwh:.4f} MWh, cone violation {res.max_cone_violation:.1e}, "
        f"{res.wall_time_s:.2f} s -> {args.out}"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``clear`` subcommand."""
    from coordstudio.simulation.market.case import SCHEMES
    from coordstudio.simulation.market.solvers import DEFAULT_SOLVER, SOLVER_NAMES

    p = subparsers.add_parser(
        "clear",
        help="clear one real-time AS market case under a coordination scheme",
        description="Clear the market case CASE (JSON/YAML: grid references, bids, needs, timing; see "
        "docs/market.md) under SCHEME and write activations.csv, prices.csv (node, step, "
        "EUR/MWh), slack.csv, interface.csv and summary.json to DIR.",
    )
    p.add_argument("case", help="market case file (.json, .yaml)")
    p.add_argument("--scheme", required=True, choices=SCHEMES, help="coordination scheme")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--solver",
        default=DEFAULT_SOLVER,
        help=f"one of {', '.join(SOLVER_NAMES)} (default {DEFAULT_SOLVER})",
    )
    p.add_argument(
        "--cone-tolerance",
        type=number(float, low=0.0, high=1.0),
        default=1e-6,
        help="largest accepted cone violation, per unit",
    )
    p.add_argument(
        "--time-limit",
        type=number(float, low=0.0, low_open=True, high=1e6),
        default=None,
        help="solver time limit per solve, s",
    )
    p.add_argument("--no-prices", action="store_true", help="skip the pricing re-solve (no LMPs)")
    p.set_defaults(func=cmd_clear)
