"""Simulation helper commands (``main.py run`` runs the whole chain; these run only the simulation).

* ``main.py simulate [STUDY] --out DIR [--schemes CMS,CM] [--db URL] [--hours H]``: simulate the study's
  scenario (default: the embedded default scenario) and write ``results.sqlite`` (or the database at
  URL) and ``kpis.csv``; print the KPI table.
* ``main.py runs DB``: list the runs of a results database (scheme, status, fingerprint, clearings).
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from coordstudio.simulation.fileio import atomic_write_text, prepare_out_dir
from coordstudio.simulation.kpis import SchemeKpis

KPI_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resource_cost_eur", "resource EUR"),
    ("activation_cost_eur", "paid EUR"),
    ("afrr_energy_mwh", "aFRR MWh"),
    ("afrr_cost_eur", "aFRR EUR"),
    ("congestion_hours_h", "congest. h"),
    ("overload_energy_mwh", "overload MWh"),
    ("voltage_violation_hours_h", "V-viol. h"),
    ("curtailed_res_mwh", "curtail MWh"),
    ("losses_mwh", "losses MWh"),
    ("slack_energy_mwh", "slack MWh"),
    ("lines_tripped", "trips"),
)


def kpi_table(kpis: dict[str, SchemeKpis]) -> str:
    """A fixed-width text table of the main KPIs, one row per scheme."""
    head = f"{'scheme':6s} " + " ".join(f"{label:>13s}" for _, label in KPI_COLUMNS)
    lines = [head, "-" * len(head)]
    for scheme, k in kpis.items():
        cells = []
        for name, _ in KPI_COLUMNS:
            v = getattr(k, name)
            cells.append(f"{v:13d}" if isinstance(v, int) else f"{v:13.2f}")
        lines.append(f"{scheme:6s} " + " ".join(cells))
    return "\n".join(lines)


def write_kpis_csv(kpis: dict[str, SchemeKpis], path: Path) -> None:
    """``kpis.csv``: one row per scheme with every scalar KPI (atomic write)."""
    names = [n for n, f in SchemeKpis.model_fields.items() if f.annotation in (str, float, int)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(names)
    for k in kpis.values():
        w.writerow([getattr(k, n) for n in names])
    atomic_write_text(path, buf.getvalue())


class _ConsoleProgress:
    def __init__(self) -> None:
        self._last = -1

    def report(self, fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct // 5 != self._last // 5:
            print(f"  {pct:3d} %  {message}", flush=True)
            self._last = pct

    def cancelled(self) -> bool:
        return False


def _scenario_of_study(path: Path) -> Any:
    """The ``scenario:`` section of a study file (the study format itself belongs to ``cba``)."""
    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.safe_yaml import read_data_file

    data = read_data_file(path)
    if not isinstance(data, dict) or "scenario" not in data:
        raise ScenarioError(f"{path}: has no 'scenario' section")
    return _validated_spec(data["scenario"], str(path), "scenario.")


def _validated_spec(data: Any, source: str, prefix: str = "") -> Any:
    """A :class:`ScenarioSpec` from ``data``; the first problem as one :class:`ScenarioError` line."""
    from pydantic import ValidationError

    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.scenario import ScenarioSpec

    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        msg = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        where = f"{prefix}{loc}".rstrip(".") or "scenario"
        raise ScenarioError(f"{source}: {where}: {msg}") from None


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate the scenario of a study (or the default scenario); write the database and kpis.csv."""
    from coordstudio.simulation.db import default_sqlite_url
    from coordstudio.simulation.progress import SignalCancel
    from coordstudio.simulation.scenario import default_scenario_spec
    from coordstudio.simulation.simulate import simulate

    spec = _scenario_of_study(Path(args.study)) if args.study else default_scenario_spec()
    if args.hours is not None:
        data = spec.model_dump(mode="json")
        data["timing"]["duration_h"] = args.hours
        spec = _validated_spec(data, f"--hours {args.hours:g}")
    schemes = [s.strip() for s in args.schemes.split(",")] if args.schemes else None
    out = prepare_out_dir(args.out)  # a bad --out fails now, not after the simulation
    url = args.db or default_sqlite_url(out)
    with SignalCancel(_ConsoleProgress()) as progress:  # Ctrl-C: runs marked cancelled, exit 130
        kpis = simulate(spec, schemes, url, progress).kpis
    write_kpis_csv(kpis, out / "kpis.csv")
    print()
    print(kpi_table(kpis))
    print(f"\nresults database: {url}\nKPIs: {out / 'kpis.csv'}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """List the runs of a results database (opened read-only: nothing is created or changed).

    ``status`` is the stored one, except that a pending or running run whose process is gone reads
    ``cancelled*`` (see :func:`simulation.db.read_runs`)."""
    from coordstudio.simulation.db import read_runs

    url = args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}"
    rows: list[dict[str, Any]] = read_runs(url)
    print(f"{'run':>4s} {'scheme':6s} {'status':11s} {'clearings':>9s} {'started':20s} "
          f"{'finished':20s} {'scenario fp':16s} study fp")
    for r in rows:
        status = f"{r['status']}{'*' if r['interrupted'] else ''}"
        print(
            f"{r['run_id']:4d} {r['scheme']:6s} {status:11s} {r['n_clearings']:9d} "
            f"{str(r['started_at'])[:19]:20s} {str(r['finished_at'] or '-')[:19]:20s} "
            f"{r['fingerprint'][:16]:16s} {(r['study_fingerprint'] or '-')[:16]}"
        )
    if any(r["interrupted"] for r in rows):
        print("* its process ended without finishing the run (killed): resume it with 'run --resume'")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``simulate`` and ``runs`` subcommands."""
    from coordstudio.simulation.cli_args import number
    from coordstudio.simulation.kpis import SCHEME_IDS

    p = subparsers.add_parser(
        "simulate",
        help="simulate the schemes over the scenario's day (no ICT cost, no CBA)",
        description="Simulate the scenario of STUDY (default: the embedded default scenario) for each scheme "
        "and write the results database and kpis.csv to DIR.",
    )
    p.add_argument("study", nargs="?", help="study file (.yaml, .json); default: the embedded default study")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--schemes", help=f"comma-separated schemes (default: all of {', '.join(SCHEME_IDS)})")
    p.add_argument("--db", help="SQLAlchemy URL of the results database (default: DIR/results.sqlite)")
    p.add_argument(
        "--hours",
        type=number(float, low=0.0, low_open=True, high=24.0 * 7),
        help="simulate only this many hours from the scenario's start (a whole number of clearing "
        "periods, at most 168)",
    )
    p.set_defaults(func=cmd_simulate)

    r = subparsers.add_parser("runs", help="list the runs of a results database")
    r.add_argument("db", help="SQLite file or SQLAlchemy URL")
    r.set_defaults(func=cmd_runs)
