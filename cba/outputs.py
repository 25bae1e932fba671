"""The files a study run writes: KPI table, Excel report, recommendations draft, charts, ICT-check tables.

This is the one place that turns results into files. ``run_study`` (the whole chain), the ``cba``
subcommand (re-running only the CBA on stored simulation results) and the ``ict-check`` subcommand all
call it, so the command-line modules only parse arguments and print.

Heavy writers (openpyxl, python-docx, matplotlib) are imported inside the functions so that importing
this module (and :mod:`cba.study`) stays cheap.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coordstudio.cba.fileio import OutputSet, atomic_write_text, output_set

if TYPE_CHECKING:
    import pandas as pd

    from coordstudio.cba.analysis import CbaResult
    from coordstudio.cba.ictcheck_data import IctCheckResult
    from coordstudio.cba.parameters import CbaParameters
    from coordstudio.cba.price_components import PriceComponentTable
    from coordstudio.cba.provenance import Provenance
    from coordstudio.sgam.costs import SchemeIctCost
    from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "KPIS_FILE",
    "OUTPUT_FILES",
    "cba_outputs",
    "write_ict_check_outputs",
    "write_kpis_csv",
    "write_study_outputs",
]

#: File name of the simulation KPI table (one row per scheme and day, scalar KPIs only).
KPIS_FILE = "kpis.csv"

#: Files :func:`cba_outputs` writes, by key.
OUTPUT_FILES = {
    "report": "report.xlsx",
    "recommendations_md": "recommendations.md",
    "recommendations_docx": "recommendations.docx",
    "cba_result": "cba_result.json",
    "chart_cash_flow": "chart_cash_flow.png",
    "chart_tornado": "chart_tornado.png",
    "chart_monte_carlo": "chart_monte_carlo.png",
    "provenance": "provenance.json",
}


def write_kpis_csv(kpis: Sequence[SchemeKpis], path: Path) -> Path:
    """The scalar KPIs of each scheme and day as CSV (what ``coordstudio cba --results`` reads back)."""
    from coordstudio.simulation.kpis import SchemeKpis

    scalar = [name for name, info in SchemeKpis.model_fields.items() if info.annotation in (str, float, int)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(scalar)
    for k in kpis:
        writer.writerow([getattr(k, name) for name in scalar])
    return atomic_write_text(path, buf.getvalue())


def cba_outputs(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    out_dir: str | Path,
    result: CbaResult | None = None,
    ict_check: IctCheckResult | None = None,
    provenance: Provenance | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Run the CBA (unless ``result`` is given) and write every CBA output file into ``out_dir``.

    With ``ict_check``, the report gains its "ICT check" sheet and the draft its paragraph when a
    scheme's ICT cost changes materially on measured traffic. ``provenance`` (default: made now, without
    a study fingerprint) goes into every file; ``extra_tables`` join the tidy tables (``tables/``): the
    Monte Carlo samples (:func:`cba.tables.monte_carlo_samples`) are drawn here when not given and
    ``params.system`` is the identity (else the caller, who holds the simulated grid's ICT cost, must).

    Returns
    -------
    dict
        Path of each file by key (:data:`OUTPUT_FILES`).
    """
    from coordstudio.cba.analysis import run_cba

    if result is None:
        result = run_cba(params, kpis, ict)
    with output_set(out_dir) as stage:  # all files or none (docs/reliability.md, section 4)
        paths = _write_cba_files(stage.staging, params, kpis, ict, result, ict_check,
                                 provenance=provenance, extra_tables=extra_tables)
    return _final_paths(paths, stage)


def _final_paths(paths: Mapping[str, Path], stage: OutputSet) -> dict[str, Path]:
    """Where the staged files ended up after :meth:`OutputSet.commit`."""
    return {key: stage.out / path.relative_to(stage.staging) for key, path in paths.items()}


def _write_cba_files(
    out: Path,
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
    ict_check: IctCheckResult | None,
    price_components: PriceComponentTable | None = None,
    provenance: Provenance | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Write the CBA files of :data:`OUTPUT_FILES` and the tidy tables (``tables/``, keys
    ``table_<name>_csv``/``_parquet``) into the (staging) folder ``out``, each with ``provenance``."""
    from coordstudio.cba.charts import write_charts
    from coordstudio.cba.provenance import build_provenance
    from coordstudio.cba.recommendations import write_recommendations
    from coordstudio.cba.report_excel import write_report
    from coordstudio.cba.system_scale import is_identity
    from coordstudio.cba.tables import TABLES_DIR, monte_carlo_samples, tidy_tables, write_tables

    prov = provenance if provenance is not None else build_provenance()
    extra = dict(extra_tables or {})
    if "monte_carlo_samples" not in extra and is_identity(params.system):
        extra.update(monte_carlo_samples(params, kpis, ict, result))
    paths: dict[str, Path] = {}
    paths["report"] = write_report(
        out / OUTPUT_FILES["report"], params, kpis, ict, result, ict_check, price_components, prov
    )
    md, docx = write_recommendations(
        out / OUTPUT_FILES["recommendations_md"],
        out / OUTPUT_FILES["recommendations_docx"],
        params,
        kpis,
        dict(ict),
        result,
        ict_check,
        provenance=prov,
    )
    paths["recommendations_md"], paths["recommendations_docx"] = md, docx
    stamped = result.model_copy(update={"provenance": prov})
    paths["cba_result"] = atomic_write_text(
        out / OUTPUT_FILES["cba_result"], stamped.model_dump_json(indent=1) + "\n"
    )
    paths["provenance"] = atomic_write_text(out / OUTPUT_FILES["provenance"], prov.to_json() + "\n")
    paths.update(write_charts(result, out))
    tables = tidy_tables(params, kpis, ict, result, extra, ict_check, price_components)
    paths.update(write_tables(tables, out / TABLES_DIR, prov))
    return paths


def write_ict_check_outputs(check: IctCheckResult, out_dir: str | Path) -> dict[str, Path]:
    """The ICT check's CSV tables and its chart (key ``ict_check_chart``) in ``out_dir``, as one set."""
    with output_set(out_dir) as stage:
        paths = _write_ict_check_files(check, stage.staging)
    return _final_paths(paths, stage)


def _write_ict_check_files(check: IctCheckResult, out: Path) -> dict[str, Path]:
    from coordstudio.cba.ictcheck_output import write_ict_check_chart, write_ict_check_csv

    paths = dict(write_ict_check_csv(check, out))
    paths["ict_check_chart"] = write_ict_check_chart(check, out / "ict_check.png")
    return paths


def write_study_outputs(
    out_dir: Path,
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
    ict_check: IctCheckResult | None,
    price_components: PriceComponentTable | None = None,
    provenance: Provenance | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Every file of a study run: ``kpis.csv``, the CBA outputs and (with a check) the ICT-check files;
    ``price_components`` (read from the results database) add the report's "Price components" sheet.
    ``provenance`` and ``extra_tables``: as :func:`cba_outputs`; ``provenance.json`` beside ``kpis.csv``
    is the provenance of ``kpis.csv`` (a sidecar: the CSV keeps its columns and reads without options)."""
    with output_set(out_dir) as stage:  # one set: a failure leaves the previous run's files untouched
        paths = {"kpis": write_kpis_csv(kpis, stage.path(KPIS_FILE))}
        paths.update(_write_cba_files(stage.staging, params, kpis, ict, result, ict_check, price_components,
                                      provenance=provenance, extra_tables=extra_tables))
        if ict_check is not None:
            paths.update(_write_ict_check_files(check=ict_check, out=stage.staging))
    return _final_paths(paths, stage)
