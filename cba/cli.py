"""Command line of the CBA: ``coordstudio cba STUDY --results DB --out DIR``, and the outputs writer.

:func:`cba_outputs` is the one place that turns CBA inputs into files: ``report.xlsx``,
``recommendations.md``, ``recommendations.docx``, the chart PNGs and ``cba_result.json``. Both
``run_study`` (the whole chain) and the ``cba`` subcommand (re-running only the CBA on stored simulation
results) call it.

The ``cba`` subcommand reads the simulation KPIs from ``--results``, which may be

* a results database: a SQLAlchemy URL (``sqlite:///out/results.sqlite``,
  ``postgresql+psycopg://...``) or the path of a SQLite file; the latest completed run of each scheme
  is used;
* the ``kpis.csv`` that ``run`` writes beside the report;
* a JSON list of KPI records (the fields of :class:`simulation.kpis.SchemeKpis`).

The ICT costs are recomputed from the study's SGAM model (fast and deterministic), so an edited study
(prices, discount rate, ICT catalogue) is re-appraised without re-simulating.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cba.errors import CbaError

if TYPE_CHECKING:  # heavy imports stay out of the CLI's start-up
    from cba.analysis import CbaResult
    from cba.ictcheck import IctCheckResult
    from cba.parameters import CbaParameters
    from sgam.costs import SchemeIctCost
    from simulation.kpis import SchemeKpis

__all__ = ["OUTPUT_FILES", "cba_outputs", "load_kpis", "register"]

#: Files :func:`cba_outputs` writes, by key.
OUTPUT_FILES = {
    "report": "report.xlsx",
    "recommendations_md": "recommendations.md",
    "recommendations_docx": "recommendations.docx",
    "cba_result": "cba_result.json",
    "chart_cash_flow": "chart_cash_flow.png",
    "chart_tornado": "chart_tornado.png",
    "chart_monte_carlo": "chart_monte_carlo.png",
}


def cba_outputs(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    out_dir: str | Path,
    result: CbaResult | None = None,
    ict_check: IctCheckResult | None = None,
) -> dict[str, Path]:
    """Run the CBA (unless ``result`` is given) and write every output file into ``out_dir``.

    With ``ict_check``, the report gains its "ICT check" sheet and the draft its paragraph when a
    scheme's ICT cost changes materially on measured traffic.

    Returns
    -------
    dict
        Path of each file by key (:data:`OUTPUT_FILES`).
    """
    from cba.analysis import run_cba
    from cba.charts import write_charts
    from cba.fileio import atomic_write_text
    from cba.recommendations import write_recommendations
    from cba.report_excel import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if result is None:
        result = run_cba(params, kpis, ict)
    paths: dict[str, Path] = {}
    try:
        paths["report"] = write_report(out / OUTPUT_FILES["report"], params, kpis, ict, result, ict_check)
        md, docx = write_recommendations(
            out / OUTPUT_FILES["recommendations_md"],
            out / OUTPUT_FILES["recommendations_docx"],
            params,
            kpis,
            dict(ict),
            result,
            ict_check,
        )
        paths["recommendations_md"], paths["recommendations_docx"] = md, docx
        paths["cba_result"] = atomic_write_text(
            out / OUTPUT_FILES["cba_result"], result.model_dump_json(indent=1) + "\n"
        )
        paths.update(write_charts(result, out))
    except OSError as exc:
        raise CbaError(f"{out}: cannot write the CBA outputs: {exc.strerror or exc}") from exc
    return paths


# ------------------------------------------------------------------------------------- KPI input

_DICT_KEY = re.compile(r"^(?P<field>[a-z_]+)\[(?P<key>.*)\]$")


def _kpis_from_flat(flat: Mapping[str, float], scheme: str, day: str, where: str) -> SchemeKpis:
    """A :class:`SchemeKpis` from the flat ``name -> value`` rows of the results database.

    Dictionary fields are stored as ``field[key]`` (``bids_submitted_by_area[dso_1]``).
    """
    from pydantic import ValidationError

    from simulation.kpis import SchemeKpis

    data: dict[str, Any] = {"scheme": scheme, "day": day}
    fields = SchemeKpis.model_fields
    for name, value in flat.items():
        match = _DICT_KEY.match(name)
        if match and match["field"] in fields:
            data.setdefault(match["field"], {})[match["key"]] = int(round(value))
        elif name in fields and name not in ("scheme", "day"):
            data[name] = int(round(value)) if fields[name].annotation is int else value
    try:
        return SchemeKpis.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CbaError(f"{where}: KPI '{field}' of scheme {scheme}: {first['msg']}") from None


def _kpis_from_db(url: str, day: str) -> list[SchemeKpis]:
    from simulation.db import read_kpis, read_runs
    from simulation.errors import SimulationError

    try:
        runs = read_runs(url)
    except SimulationError:
        raise
    except Exception as exc:  # SQLAlchemy errors: not a database, missing tables, ...
        raise CbaError(f"--results {url}: not a readable results database ({type(exc).__name__})") from None
    latest: dict[str, int] = {}
    for run in runs:
        if run.get("status") == "completed":
            latest[str(run["scheme"])] = int(run["run_id"])
    if not latest:
        raise CbaError(f"--results {url}: the results database holds no completed run")
    return [
        _kpis_from_flat(read_kpis(url, run_id), scheme, day, f"--results {url} run {run_id}")
        for scheme, run_id in latest.items()
    ]


def load_kpis(source: str | Path, day: str = "default") -> list[SchemeKpis]:
    """Read simulation KPIs from a results database URL or SQLite file, a ``kpis.csv`` or a JSON list.

    ``day`` names the representative day of database runs (which simulate one day each).

    Raises
    ------
    CbaError
        If the source cannot be read or a KPI is missing or invalid (the message names the field).
    """
    from pydantic import ValidationError

    from simulation.kpis import SchemeKpis

    text = str(source)
    if "://" in text:
        return _kpis_from_db(text, day)
    path = Path(text)
    if not path.exists():
        raise CbaError(f"--results {path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                records: list[Any] = list(csv.DictReader(fh))
        elif suffix == ".json":
            records = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(records, list):
                raise CbaError(f"--results {path}: expected a JSON list of KPI records")
        else:
            return _kpis_from_db(f"sqlite:///{path.resolve()}", day)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CbaError(f"--results {path}: cannot read: {exc}") from None
    out = []
    for i, record in enumerate(records):
        try:
            out.append(
                SchemeKpis.model_validate({k: v for k, v in dict(record).items() if v not in ("", None)})
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise CbaError(f"--results {path}: record {i + 1}, field '{field}': {first['msg']}") from None
    return out


# ------------------------------------------------------------------------------------- command


def _cmd_cba(args: argparse.Namespace) -> int:
    from cba.study import load_study
    from sgam.matching import ict_costs
    from simulation.scenario import endpoint_counts

    study = load_study(Path(args.study))
    params = study.cba
    if args.samples is not None:
        params = params.model_copy(update={"monte_carlo_samples": args.samples})
    weights = params.day_weights_days_per_year
    day = next(iter(weights)) if len(weights) == 1 else "default"
    kpis = load_kpis(args.results, day)
    ict = ict_costs(study.sgam, endpoint_counts(study.scenario), params.horizon_years, params.discount_rate)
    from cba.analysis import run_cba

    result = run_cba(params, kpis, ict)
    paths = cba_outputs(params, kpis, ict, Path(args.out), result=result)
    mc = result.monte_carlo
    print(f"{'rank':<5}{'scheme':<8}{'NPV EUR':>16}{'BCR':>8}{'IRR':>9}{'P(NPV<0)':>10}")
    for s in sorted(result.schemes, key=lambda s: s.rank):
        bcr = f"{s.bcr:8.2f}" if s.bcr is not None else f"{'n/a':>8}"
        irr = f"{s.irr:9.1%}" if s.irr is not None else f"{'n/a':>9}"
        print(
            f"{s.rank:<5}{s.scheme:<8}{s.npv_eur:>16,.0f}{bcr}{irr}{mc.scheme(s.scheme).prob_npv_negative:>10.1%}"
        )
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"\nwrote {', '.join(p.name for p in paths.values())} to {args.out}/")
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
        type=int,
        metavar="N",
        help="Monte Carlo samples (default: the study's cba.monte_carlo_samples)",
    )
    p.set_defaults(func=_cmd_cba)
