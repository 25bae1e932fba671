"""``ict-check STUDY --results DB --out DIR``: check the ICT design against the simulated message log.

Parses the arguments, calls :func:`cba.ictcheck.ict_check` and :func:`cba.outputs.write_ict_check_outputs`,
and prints the verdicts. Heavy modules (pandas, sqlalchemy, sgam matching, matplotlib) are imported inside
the handler so that the command line starts fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from coordstudio.simulation.cli_args import number


def register(subparsers: Any) -> None:
    """Add the ``ict-check`` subcommand to the main parser's subparsers."""
    p = subparsers.add_parser(
        "ict-check",
        help="check the study's ICT requirements against the messages the simulation exchanged",
        description=(
            "Map every simulated message type (sender role, receiver role, information object) to the SGAM "
            "interaction event it realises, measure rates, payloads, peak data rates, late messages and "
            "link loads per event and scheme, give a verdict (consistent / under-specified / "
            "over-specified / not observed) and the ICT cost of re-matching the technologies on the "
            "measured figures. Writes ict_check.csv (+ schemes, links and message-type tables) and "
            "ict_check.png into DIR."
        ),
    )
    p.add_argument("study", help="study file (YAML or JSON)")
    p.add_argument(
        "--results", required=True, metavar="DB",
        help="results database of a run of this study: an SQLite file or a SQLAlchemy URL",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the table and the chart")
    p.add_argument(
        "--tolerance", type=number(float, low=0.0, high=10.0), default=None, metavar="FRAC",
        help="relative deviation still called consistent (default 0.10)",
    )
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the check and write its outputs; return the exit code (0)."""
    from pathlib import Path

    from coordstudio.cba.fileio import prepare_out_dir
    from coordstudio.cba.ictcheck import IctCheckOptions, ict_check
    from coordstudio.cba.ictcheck_output import ict_check_paragraph
    from coordstudio.cba.outputs import write_ict_check_outputs
    from coordstudio.cba.study_file import load_study

    prepare_out_dir(args.out)  # a bad --out fails before the check, with one line
    study = load_study(Path(args.study))
    opts = IctCheckOptions() if args.tolerance is None else IctCheckOptions(tolerance_frac=args.tolerance)
    result = ict_check(study, args.results, opts)
    files = write_ict_check_outputs(result, Path(args.out))
    print(f"{'scheme':<7}{'events':>7}{'under':>7}{'over':>6}{'ok':>5}{'unseen':>8}"
          f"{'ICT PV stated EUR':>20}{'measured EUR':>16}{'change':>10}")
    for s in result.schemes:
        c = s.counts
        print(f"{s.scheme:<7}{sum(c.values()):>7}{c.get('under_specified', 0):>7}"
              f"{c.get('over_specified', 0):>6}{c.get('consistent', 0):>5}{c.get('not_observed', 0):>8}"
              f"{s.stated_pv_eur:>20,.0f}{s.measured_pv_eur:>16,.0f}{s.delta_frac:>+10.3%}")
    if result.schemes_not_simulated:
        print(f"not simulated in {result.results_db} (no rows for them): "
              f"{', '.join(result.schemes_not_simulated)}")
    if result.unmatched_messages:
        print(f"{len(result.unmatched_messages)} simulated message type(s) realise no SGAM event:")
        for t in result.unmatched_messages:
            print(f"  {t.scheme}: {t.sender_role} -> {t.receiver_role} {t.information_object} "
                  f"({t.n_messages} messages)")
    paragraph = ict_check_paragraph(result)
    if paragraph:
        print(paragraph)
    for path in files.values():
        print(f"wrote {path}")
    return 0
