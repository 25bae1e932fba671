"""Command line of sweeps over a study: ``sweep STUDY --over schemes,days,variants --workers N``.

It lives in ``cba`` because it reads the study file (:mod:`cba.study_file`) and ends with the
cost-benefit analysis of each variant (:mod:`cba.sweep_cba`); the sweep engine itself is
:mod:`simulation.sweep` (Dask). Also ``study-from-scenario``, which wraps a generated or imported scenario
file into a study with the default SGAM model and CBA parameters
(:func:`cba.study_file.study_from_scenario_file`), so ``coordstudio run`` can take it end to end.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from coordstudio.cba.errors import StudyError
from coordstudio.cba.study_file import load_study_or_scenario, study_from_scenario_file
from coordstudio.simulation.cli_args import number

__all__ = ["cmd_study_from_scenario", "cmd_sweep", "register", "study_from_scenario_file"]


def register(subparsers: Any) -> None:
    """Add ``sweep`` and ``study-from-scenario`` to the main parser's subcommands."""
    p = subparsers.add_parser(
        "sweep",
        help="run schemes x representative days x scenario variants on a Dask cluster",
        description=(
            "Run the grid of simulations of STUDY over the dimensions named in --over (schemes, days, "
            "variants) on a Dask LocalCluster of --workers processes, or on an existing Dask cluster "
            "(--scheduler tcp://host:8786). Every run writes into one results database (--db: SQLite file "
            "or postgresql+psycopg://... URL for a shared one). A failing run is retried once and reported; "
            "re-running the same command resumes without recomputing finished runs. Ends with the CBA "
            "of each variant over the days, written to --out."
        ),
    )
    p.add_argument("study", help="study file (YAML/JSON), or a scenario file (wrapped in the default study)")
    p.add_argument("--over", default="schemes", help="dimensions to sweep: any of schemes,days,variants")
    p.add_argument(
        "--workers", type=number(int, low=0, high=512), default=2,
        help="LocalCluster worker processes; 0 runs serially")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", type=_scheduler_address,
        help="address of an existing Dask cluster's scheduler, e.g. tcp://10.0.0.5:8786 (docs/scale.md: "
             "dask-jobqueue, Kubernetes, SSH); its workers need the same coordstudio install")
    p.add_argument("--db", metavar="URL", help="results database URL (default: sweep.sqlite in --out)")
    p.add_argument("--out", default="sweep-out", help="output folder (default: sweep-out)")
    p.add_argument("--schemes", help="comma-separated schemes (default: the study's)")
    p.add_argument(
        "--days",
        help="days as ID:DAY_OF_YEAR,..., or N: the study's N representative days of the year (tsam, "
             "weighted; default with 'days': the study's profiles.representative_days, else 4)",
    )
    p.add_argument(
        "--variants",
        metavar="FILE",
        help="YAML/JSON list of {variant_id, overrides: {dotted.path: value}} (default with "
        "'variants': base, forecast-error-x2, lines-90pct)",
    )
    p.add_argument("--no-cba", action="store_true", help="skip the CBA of each variant")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar or lines: stdout holds the summary only")
    p.set_defaults(func=cmd_sweep)

    s = subparsers.add_parser(
        "study-from-scenario",
        help="wrap a scenario file into a study (default SGAM model and CBA parameters)",
        description="Write a study whose scenario is SCENARIO (from 'scenario generate' or 'scenario "
        "import'), with the default SGAM/ICT model and CBA parameters (one day of 365 days/a).",
    )
    s.add_argument("scenario", help="scenario file (YAML/JSON)")
    s.add_argument("--out", required=True, help="study file to write (.yaml or .json)")
    s.set_defaults(func=cmd_study_from_scenario)


def _scheduler_address(text: str) -> str:
    """argparse type of ``--scheduler``: a malformed address is one line and exit code 2 before the study
    is read (:func:`simulation.sweep.check_scheduler_address`)."""
    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.sweep import check_scheduler_address

    try:
        return check_scheduler_address(text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--scheduler: ")) from None


def _parse_days(text: str | None, spec: Any = None) -> list[Any]:
    """The swept days: ``--days ID:DOY,...`` (equal weights); ``--days N`` or none: the study's
    representative days (N, else its ``profiles.representative_days``, else 4) with their weights."""
    from coordstudio.simulation.sweep import DEFAULT_DAYS, SweepDay

    n_days = int(text) if text and text.strip().isdigit() else None
    if n_days is not None and not 1 <= n_days <= 365:
        raise StudyError(f"--days {text}: expected 1 to 365 representative days, or ID:DAY_OF_YEAR,...")
    if not text or n_days is not None:
        if spec is None or spec.profiles.source != "simbench":
            if n_days is not None:
                raise StudyError(
                    f"--days {text}: representative days need the study's profiles.source simbench "
                    f"(it is {getattr(getattr(spec, 'profiles', None), 'source', None)!r}); give "
                    "ID:DAY_OF_YEAR,... instead"
                )
            return list(DEFAULT_DAYS)
        from coordstudio.simulation.scenario.representative_days import select_representative_days

        n = n_days or spec.profiles.representative_days or 4
        return [
            SweepDay(day_id=d.day_id, day_of_year=d.day_of_year, weight_days=d.weight_days,
                     ambient_temp_c=d.ambient_temp_c)
            for d in select_representative_days(spec, n)
        ]
    days = []
    for item in text.split(","):
        day_id, _, doy = item.strip().partition(":")
        if not doy.strip().isdigit() or not day_id.strip() or not 1 <= int(doy) <= 365:
            raise StudyError(
                f"--days: item {item[:40]!r}: expected ID:DAY_OF_YEAR with a day 1 to 365, e.g. summer:196"
            )
        days.append(SweepDay(day_id=day_id.strip(), day_of_year=int(doy)))
    return days


def _parse_variants(path: str | None) -> list[Any]:
    from pydantic import ValidationError

    from coordstudio.cba.safe_yaml import read_data_file
    from coordstudio.simulation.sweep import DEFAULT_VARIANTS, SweepVariant

    if not path:
        return list(DEFAULT_VARIANTS)
    raw = read_data_file(Path(path))
    if not isinstance(raw, list):
        raise StudyError(f"{path}: expected a list of variants ({{variant_id, overrides}})")
    out = []
    for k, item in enumerate(raw):
        try:
            out.append(SweepVariant.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise StudyError(
                f"{path}: variant [{k}]: field {'.'.join(map(str, err['loc']))}: "
                f"{' '.join(str(err['msg']).split())}"
            ) from None
    return out


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep, write ``sweep.csv`` and per-variant CBA figures, print a summary."""
    from coordstudio.cba.study import ConsoleProgress
    from coordstudio.cba.sweep_cba import cba_per_variant, write_sweep_table
    from coordstudio.simulation.sweep import DIMENSIONS, run_sweep

    over = [d.strip() for d in args.over.split(",") if d.strip()]
    bad = [d for d in over if d not in DIMENSIONS]
    if bad:
        raise StudyError(f"--over: unknown dimension(s) {bad}; expected any of {', '.join(DIMENSIONS)}")
    study = load_study_or_scenario(args.study)
    spec = study.scenario
    schemes = [s.strip() for s in args.schemes.split(",")] if args.schemes else None
    if "schemes" not in over and schemes is None:
        schemes = [study.cba.reference_scheme]
    days = _parse_days(args.days, spec) if "days" in over else None
    variants = _parse_variants(args.variants) if "variants" in over else None
    from coordstudio.cba.fileio import prepare_out_dir

    out = prepare_out_dir(args.out)  # a bad --out fails before the sweep, with one line
    db_url = args.db or f"sqlite:///{(out / 'sweep.sqlite').resolve()}"
    with ConsoleProgress(quiet=args.quiet) as console:  # one bar for the sweep's runs on a terminal
        res = run_sweep(spec, schemes, days, variants, db_url=db_url, workers=args.workers,
                        scheduler=args.scheduler, progress=console)
    write_sweep_table(res, out)
    print(
        f"sweep {res.sweep_id}: {len(res.tasks)} runs, {len(res.kpis) - len(res.resumed)} computed, "
        f"{len(res.resumed)} resumed, {len(res.retried)} retried, {len(res.failed)} failed, "
        f"{res.elapsed_s:.1f} s; database {db_url}"
    )
    for key, err in res.failed.items():
        print(f"  FAILED {key}: {err.splitlines()[0] if err else ''}")
    if not args.no_cba:
        for variant, ranking in cba_per_variant(study, res, out).items():
            print(f"  variant {variant}: ranking {' > '.join(ranking)}")
    print(f"outputs written to {out}/")
    return 0 if not res.failed else 3


def cmd_study_from_scenario(args: argparse.Namespace) -> int:
    """Write the study around a scenario file."""
    from coordstudio.cba.study_file import save_study

    study = study_from_scenario_file(args.scenario)
    save_study(study, Path(args.out))
    print(f"wrote {args.out} (scenario {study.scenario.name!r}); run it with: coordstudio run {args.out}")
    return 0
