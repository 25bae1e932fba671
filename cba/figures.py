"""Every figure the desktop application shows, written to files (PNG and SVG) without a window.

The catalogue of figures (:func:`figure_jobs`) names each file and pairs it with the drawing function
the GUI calls too (:mod:`cba.figures_kpi`, :mod:`cba.figures_timeseries`, :mod:`cba.charts`), so a
figure in a file and the same figure on screen cannot drift apart. The inputs are those a study run
leaves in its output folder: ``kpis.csv`` (KPI charts), ``cba_result.json`` (cash flow, tornado, Monte
Carlo, actors, ICT cost) and the results database (time series); :func:`write_results_figures` reads
them back, so ``coordstudio figures DIR`` redraws a finished run without simulating again, and
``coordstudio run --out DIR`` calls the same function once its outputs are written. docs/figures.md
lists the files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coordstudio.cba.errors import CbaError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coordstudio.cba.analysis import CbaResult
    from coordstudio.cba.run_series import RunSeries
    from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "FORMATS",
    "FigureJob",
    "FigureSources",
    "figure_jobs",
    "parse_formats",
    "read_sources",
    "write_figures",
    "write_results_figures",
]

FORMATS = ("png", "svg")
"""File formats a figure is written in (matplotlib's writers; SVG keeps the text as text)."""

_DPI = 150
_WIDE = (9.0, 5.0)
_SMALL = (7.0, 4.2)


@dataclass(frozen=True)
class FigureJob:
    """One figure file: its stem (``kpi_congestion`` -> ``kpi_congestion.png``), size and drawing."""

    stem: str
    size_in: tuple[float, float]
    draw: Callable[[Figure], str]
    """Draws into the figure and returns its title (the GUI shows it above the canvas, a file on top)."""


@dataclass
class FigureSources:
    """What the figures are drawn from; a missing source only leaves its figures out."""

    kpis: list[SchemeKpis] = field(default_factory=list)
    result: CbaResult | None = None
    series: RunSeries | None = None
    day_weights: dict[str, float] = field(default_factory=dict)
    """Day id -> days a year it stands for, of a study of several representative days (the run's
    ``representative_days.csv`` or ``run_days``); empty for one simulated day."""
    notes: list[str] = field(default_factory=list)
    """Why some figures are left out (a missing file, a database that cannot be read)."""


def _kpi_jobs(kpis: Sequence[SchemeKpis], day_weights: Mapping[str, float]) -> list[FigureJob]:
    from coordstudio.cba.figures_kpi import KPI_CHARTS, draw_kpi_chart

    return [FigureJob(c[0], _SMALL, partial(draw_kpi_chart, kpis=kpis, chart=c, day_weights=day_weights))
            for c in KPI_CHARTS]


def _cba_jobs(result: CbaResult) -> list[FigureJob]:
    from coordstudio.cba.charts import (
        _focus,
        draw_actors,
        draw_annual_cash_flow,
        draw_cash_flow,
        draw_monte_carlo,
        draw_tornado,
    )
    from coordstudio.cba.figures_kpi import draw_ict_cost

    rows = sum(1 for e in result.tornado if e.scheme == _focus(result))
    return [
        FigureJob("chart_cash_flow", _WIDE, lambda fig: draw_cash_flow(fig, result)),
        FigureJob("chart_annual_cash_flow", _WIDE, lambda fig: draw_annual_cash_flow(fig, result)),
        FigureJob("chart_tornado", (9.0, max(3.0, 1.4 + 0.4 * rows)), lambda fig: draw_tornado(fig, result)),
        FigureJob("chart_monte_carlo", _WIDE, lambda fig: draw_monte_carlo(fig, result)),
        FigureJob("chart_actors", _WIDE, lambda fig: draw_actors(fig, result)),
        FigureJob(
            "ict_cost",
            _SMALL,
            lambda fig: draw_ict_cost(
                fig,
                {s.scheme: s.ict_capex_eur for s in result.schemes},
                {s.scheme: s.ict_opex_eur_per_year for s in result.schemes},
            ),
        ),
    ]


def _series_jobs(series: RunSeries) -> list[FigureJob]:
    from coordstudio.cba import figures_timeseries as ts
    from coordstudio.cba.price_components import COMPONENTS
    from coordstudio.simulation.kpis import SCHEME_IDS

    schemes = series.schemes(list(SCHEME_IDS))
    jobs = [FigureJob("ts_prices", _WIDE, lambda fig: ts.draw_price_bands(fig, series, schemes))]
    if ts.has_components(series):
        jobs += [
            FigureJob(f"ts_prices_{part}", _WIDE,
                      partial(ts.draw_price_bands, series=series, schemes=schemes, part=part))
            for part in COMPONENTS
        ]
        jobs.append(FigureJob("ts_price_components", _WIDE,
                              lambda fig: ts.draw_price_components(fig, series, schemes)))
    for scheme in schemes:
        jobs.append(FigureJob(f"ts_price_map_{scheme}", _WIDE,
                              partial(ts.draw_price_map, series=series, scheme=scheme)))
        if ts.has_components(series):
            jobs.append(FigureJob(f"ts_price_components_{scheme}", _WIDE,
                                  partial(ts.draw_price_components, series=series, schemes=schemes,
                                          scheme=scheme)))
    jobs += [
        FigureJob("ts_activations", _WIDE, lambda fig: ts.draw_activations(fig, series, schemes)),
        FigureJob("ts_clearing_costs", _WIDE, lambda fig: ts.draw_clearing_costs(fig, series, schemes)),
        FigureJob("ts_voltages", _WIDE, lambda fig: ts.draw_voltages(fig, series, schemes)),
    ]
    return jobs


def figure_jobs(sources: FigureSources) -> list[FigureJob]:
    """Every figure the sources allow, in the GUI's order: KPIs, CBA, time series."""
    jobs: list[FigureJob] = []
    if sources.kpis:
        jobs += _kpi_jobs(sources.kpis, sources.day_weights)
    if sources.result is not None:
        jobs += _cba_jobs(sources.result)
    if sources.series is not None and not sources.series.error and not sources.series.empty:
        jobs += _series_jobs(sources.series)
    return jobs


def parse_formats(text: str, option: str = "--format") -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")``, ``"none"`` -> ``()`` (no figure); an unknown format is
    refused in one line naming ``option``."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    if formats == ("none",):
        return ()
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise CbaError(f"{option} {text!r}: choose from {', '.join(FORMATS)} (comma-separated), or none")
    return formats


def ict_figure_jobs(costs: Mapping[str, Any], names: Mapping[str, str]) -> list[FigureJob]:
    """The ICT view's two charts from a study's costing (``sgam.costs.SchemeIctCost`` per scheme): CAPEX
    and OPEX per scheme (``ict_cost``) and CAPEX by technology and component (``ict_capex_by_technology``);
    ``names`` maps technology and component ids to display names. ``coordstudio ict`` writes them."""
    from coordstudio.cba.figures_kpi import draw_capex_by_technology, draw_ict_cost

    capex = {s: c.capex_eur for s, c in costs.items()}
    opex = {s: c.opex_eur_per_year for s, c in costs.items()}
    return [
        FigureJob("ict_cost", _SMALL, lambda fig: draw_ict_cost(fig, capex, opex)),
        FigureJob("ict_capex_by_technology", _WIDE, lambda fig: draw_capex_by_technology(fig, costs, names)),
    ]


def write_figures(
    sources: FigureSources, out_dir: Path | str, formats: Sequence[str] = FORMATS
) -> dict[str, Path]:
    """Every figure of :func:`figure_jobs` written by :func:`write_jobs`."""
    return write_jobs(figure_jobs(sources), out_dir, formats)


def write_jobs(
    jobs: Sequence[FigureJob], out_dir: Path | str, formats: Sequence[str] = FORMATS
) -> dict[str, Path]:
    """Draw each figure and write it in each format into ``out_dir`` (each file atomically); returns the
    paths by ``<stem>.<format>``.

    The figures are drawn with the GUI's style (:data:`cba.figure_style.FIGURE_STYLE`) in an
    ``rc_context``, so the caller's matplotlib settings are left as they were. SVG files carry no
    creation date, so the same results give the same file.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from coordstudio.cba.figure_style import FIGURE_STYLE
    from coordstudio.cba.fileio import atomic_write_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with matplotlib.rc_context(dict(FIGURE_STYLE)):  # type: ignore[arg-type]
        for job in jobs:
            fig = Figure(figsize=job.size_in, dpi=_DPI, layout="constrained")
            FigureCanvasAgg(fig)
            title = job.draw(fig)
            fig.suptitle(title, fontsize=10)
            for fmt in formats:
                buf = io.BytesIO()
                metadata = {"Date": None} if fmt == "svg" else {"Software": None}
                fig.savefig(buf, format=fmt, dpi=_DPI, metadata=metadata)
                name = f"{job.stem}.{fmt}"
                paths[name] = atomic_write_bytes(out / name, buf.getvalue())
    return paths


def _db_url(source: str) -> str:
    return source if "://" in source else f"sqlite:///{Path(source).resolve()}"


def read_sources(
    results: Path | str, db_url: str | None = None, run_days: Mapping[int, tuple[str, float]] | None = None,
) -> FigureSources:
    """The figures' inputs from a run's output folder (``kpis.csv``, ``cba_result.json``,
    ``results.sqlite``, or the database ``db_url``) or from a results database alone (a SQLite file or
    URL: KPIs and time series, no CBA figures). ``run_days`` (:func:`cba.price_components.run_day_weights`,
    a study of several representative days): only those runs' time series are read, the price components
    weighted by the days as the CBA weights them (as the GUI reads them); None reads every completed run."""
    from pydantic import ValidationError

    from coordstudio.cba.analysis import CbaResult
    from coordstudio.cba.reappraisal import load_kpis
    from coordstudio.cba.run_series import load_series
    from coordstudio.simulation.errors import SimulationError

    text = str(results)
    sources = FigureSources()
    folder = Path(text) if "://" not in text and Path(text).is_dir() else None
    if folder is None and "://" not in text and not Path(text).exists():
        raise CbaError(f"{text}: no such results folder or database")
    if folder is not None:
        kpis_csv = folder / "kpis.csv"
        if kpis_csv.exists():
            sources.kpis = _kpis(kpis_csv, load_kpis)
        else:
            sources.notes.append(f"{kpis_csv}: missing, no KPI charts")
        result_json = folder / "cba_result.json"
        if result_json.exists():
            try:
                sources.result = CbaResult.model_validate_json(result_json.read_bytes())
            except (OSError, ValidationError) as exc:
                raise CbaError(f"{result_json}: not a CBA result: {str(exc).splitlines()[0]}") from None
        else:
            sources.notes.append(f"{result_json}: missing, no CBA figures")
        days_csv = folder / "representative_days.csv"
        day_rows: list[dict[str, str]] = []
        if days_csv.exists():
            day_rows = _day_rows(days_csv)
            sources.day_weights = {r["day_id"]: float(r["weight_days_per_year"]) for r in day_rows}
        stored = folder / "results.sqlite"
        database = db_url or (str(stored) if stored.exists() else None)
    else:
        database = db_url or text
        try:
            sources.kpis = _kpis(database, load_kpis)
        except (CbaError, SimulationError) as exc:  # the time series may still be there
            sources.notes.append(f"no KPI charts: {exc}")
        sources.notes.append("no cba_result.json given (a database alone), no CBA figures")
    if database is None:
        sources.notes.append(f"{folder}/results.sqlite: missing, no time series")
        return sources
    if run_days:
        sources.day_weights = {d: float(w) for d, w in run_days.values()}
    elif folder is not None and len(day_rows) > 1:  # `figures DIR` has no study: the runs' day of year
        run_days = _folder_run_days(_db_url(database), day_rows)
        if not run_days:
            sources.notes.append(f"{days_csv}: the runs of its days are not told apart (several runs on one "
                                 "day of year); the time series pile every completed run")
    series = load_series(_db_url(database), run_days)
    if series.error:
        sources.notes.append(f"no time series: {series.error}")
    sources.series = series
    return sources


def _day_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a run's ``representative_days.csv`` (written by :mod:`cba.study`); one line naming the
    file and row when a day id, day of year or weight is missing or not a number."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows, start=2):
        try:
            ok = (bool(row["day_id"]) and float(row["weight_days_per_year"]) >= 0
                  and int(row["day_of_year"]) > 0)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise CbaError(f"{path}: row {i}: day_id, day_of_year or weight_days_per_year missing or not "
                           "a number")
    return rows


def _folder_run_days(db_url: str, day_rows: Sequence[Mapping[str, str]]) -> dict[int, tuple[str, float]]:
    """Run id -> (day id, days a year) for ``coordstudio figures DIR`` of several representative days,
    which has no study to match the runs by fingerprint (:func:`cba.price_components.run_day_weights`):
    each day is told by its day of year in the run's scenario (``profiles.day_of_year``), and the latest
    completed run of each scheme on it is taken (as the CBA takes the latest). Empty (every run read, as
    before) when the days cannot be told apart that way: seed replicates (a day of year twice) or a
    database that cannot be read."""
    import json

    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import SimulationError

    by_doy = {int(r["day_of_year"]): (r["day_id"], float(r["weight_days_per_year"])) for r in day_rows}
    if len(by_doy) != len(day_rows) or any(float(r.get("seed_offset") or 0) != 0 for r in day_rows):
        return {}
    try:
        runs = simdb.read_runs(db_url)
    except (SimulationError, OSError, ValueError):
        return {}
    latest: dict[tuple[str, int], int] = {}
    for r in runs:  # oldest first: a later run of the same scheme and day replaces an earlier one
        try:
            doy = json.loads(r.get("spec_json") or "{}").get("profiles", {}).get("day_of_year")
        except (ValueError, AttributeError):
            doy = None
        if r["status"] == "completed" and doy in by_doy:
            latest[(str(r["scheme"]), int(doy))] = int(r["run_id"])
    return {run_id: by_doy[doy] for (_scheme, doy), run_id in latest.items()}


def _kpis(source: Path | str, load: Callable[[str | Path], list[SchemeKpis]]) -> list[SchemeKpis]:
    try:
        return load(source)
    except CbaError as exc:
        raise CbaError(str(exc).replace("--results ", "", 1)) from None


def write_results_figures(
    results: Path | str, out_dir: Path | str | None = None, formats: Sequence[str] = FORMATS,
    db_url: str | None = None, run_days: Mapping[int, tuple[str, float]] | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Every figure of a finished run (:func:`read_sources`, ``run_days`` as there) into ``out_dir``
    (default: the results folder itself) in ``formats`` (none: nothing is read or written); returns the
    paths written and the notes on figures left out."""
    if not formats:
        return {}, []
    sources = read_sources(results, db_url, run_days)
    if out_dir is None:
        if not Path(str(results)).is_dir():
            raise CbaError(f"{results}: a database is not a folder, give --out DIR")
        out_dir = results
    return write_figures(sources, Path(out_dir), formats), sources.notes
