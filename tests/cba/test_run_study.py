"""``run_study``: the whole chain on a shortened default study, as the CLI and the GUI run it.

References: the KPI table written to ``kpis.csv`` must equal the KPIs returned in memory (same run, two
channels); the report must carry the ICT-check sheet; progress must be monotone and end at 1; a
cancelled run raises ``RunCancelled`` and leaves a results database that says so.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, text

from coordstudio.cba.study import Study, run_study
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.progress import RecordingProgress, RunCancelled
from tests.one_day_study import one_day_default_study


def shortened(hours: float) -> Study:
    """The default study on its one day (not its representative days: tests/one_day_study.py), ``hours``
    long from 11:00."""
    study = one_day_default_study()
    timing = study.scenario.timing.model_copy(update={"duration_h": hours, "start_h": 11.0})
    scenario = study.scenario.model_copy(update={"timing": timing})
    return study.model_copy(update={"scenario": scenario})


@pytest.fixture(scope="module")
def two_scheme_run(tmp_path_factory) -> tuple[Path, object, RecordingProgress]:
    out = tmp_path_factory.mktemp("run")
    progress = RecordingProgress()
    result = run_study(shortened(2.0), progress, out_dir=out, schemes=["CMS", "CM"])
    return out, result, progress


def test_outputs_and_kpis_agree(two_scheme_run) -> None:
    out, result, _ = two_scheme_run
    for name in ("kpis.csv", "report.xlsx", "recommendations.md", "recommendations.docx",
                 "results.sqlite", "ict_check.csv", "ict_check.png"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader((out / "kpis.csv").open()))
    assert [r["scheme"] for r in rows] == ["CMS", "CM"]
    by_scheme = {k.scheme: k for k in result.kpis}
    for row in rows:
        k = by_scheme[row["scheme"]]
        assert float(row["activation_cost_eur"]) == pytest.approx(k.activation_cost_eur, rel=1e-12)
        assert float(row["duration_h"]) == pytest.approx(2.0)
    assert set(result.ict) == set(SCHEME_IDS)


def test_report_has_ict_check_sheet_and_summary(two_scheme_run) -> None:
    out, result, _ = two_scheme_run
    wb = openpyxl.load_workbook(out / "report.xlsx")
    assert "ICT check" in wb.sheetnames
    assert "Summary" in wb.sheetnames
    schemes_checked = {s.scheme for s in result.ict_check.schemes}
    assert {"CMS", "CM"} <= schemes_checked
    table = result.summary_table().splitlines()
    assert table[0].split()[0] == "scheme"
    assert [line.split()[0] for line in table[2:]] == ["CMS", "CM"]


def test_progress_is_monotone_and_completes(two_scheme_run) -> None:
    _, _, progress = two_scheme_run
    fractions = [f for f, _ in progress.reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and progress.reports[-1][1] == "done"


def test_run_writes_tidy_tables_time_series_and_provenance(two_scheme_run) -> None:
    """kpis.csv keeps its plain columns (read_csv without options) beside its provenance.json (this
    study's fingerprint); tables/ holds the run's time series, one row per clearing and quantity, as
    many clearings as the results database holds (issue 19 section 3; docs/outputs.md)."""
    import pandas as pd

    from coordstudio.cba.fingerprint import study_fingerprint
    from coordstudio.cba.provenance import read_provenance

    out, result, _ = two_scheme_run
    assert list(pd.read_csv(out / "kpis.csv")["scheme"]) == ["CMS", "CM"]
    prov = read_provenance((out / "provenance.json").read_text())
    assert prov.study_fingerprint == study_fingerprint(shortened(2.0)).study
    ts = pd.read_parquet(out / "tables" / "time_series.parquet")
    assert not ts.duplicated(["scheme", "day", "time_min", "quantity"]).any()
    engine = create_engine(f"sqlite:///{out / 'results.sqlite'}")
    with engine.connect() as conn:
        n = dict(conn.execute(text(
            "SELECT r.scheme, COUNT(*) FROM clearings c JOIN runs r ON r.run_id = c.run_id GROUP BY r.scheme"
        )).all())
    engine.dispose()
    cost = ts[ts["quantity"] == "activation_cost_eur"]
    assert cost.groupby("scheme").size().to_dict() == n and set(cost["unit"]) == {"EUR"}
    prices = pd.read_parquet(out / "tables" / "node_prices.parquet")
    assert {"scheme", "day", "clearing", "node", "step", "price_eur_per_mwh"} <= set(prices.columns)
    assert set(prices["scheme"]) == {"CMS", "CM"}
    # the report's ICT check and price components sheets, as tables too (same rows as the check's CSV)
    events = pd.read_csv(out / "tables" / "ict_check_events.csv")
    assert len(events) == len(result.ict_check.events) == len(pd.read_csv(out / "ict_check.csv"))
    components = pd.read_parquet(out / "tables" / "price_components.parquet")
    assert set(components["scheme"]) == {"CMS", "CM"}


class CancelMidSimulation(RecordingProgress):
    """Asks to stop once the simulation has cleared its second market step ("CMS: step 2/...")."""

    def cancelled(self) -> bool:
        return any(": step 2/" in m for _, m in self.reports)


def test_cancel_raises_and_database_says_cancelled(tmp_path: Path) -> None:
    progress = CancelMidSimulation()
    with pytest.raises(RunCancelled):
        run_study(shortened(2.0), progress, out_dir=tmp_path, schemes=["CMS"])
    engine = create_engine(f"sqlite:///{tmp_path / 'results.sqlite'}")
    with engine.connect() as conn:
        statuses = [r[0] for r in conn.execute(text("SELECT status FROM runs"))]
    assert statuses == ["cancelled"]


def test_unknown_scheme_is_a_study_error(tmp_path: Path) -> None:
    from coordstudio.cba.errors import StudyError

    with pytest.raises(StudyError, match="unknown scheme.*XYZ"):
        run_study(shortened(1.0), None, out_dir=tmp_path, schemes=["XYZ"])
