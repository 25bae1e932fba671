"""Tier 2: the CBA view calls ``cba.analysis.run_cba`` and shows its figures; what-if recomputes at once.

The KPIs are hand-built for five schemes over the default day (a tiny case, not simulation output): the
view must show exactly what ``run_cba`` returns for them, and moving the what-if discount rate must give
exactly ``run_cba`` at that rate, while the study's own parameters stay unchanged until "Apply".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from coordstudio.simulation.kpis import SchemeKpis

#: scheme -> (activation EUR/day, aFRR EUR/day, overload MWh/day, curtailed MWh/day, losses MWh/day)
DAY = {
    "CMS": (52_000.0, 21_000.0, 4.0, 12.0, 30.0),
    "LMS": (47_000.0, 19_500.0, 1.0, 9.0, 28.0),
    "SBR": (49_000.0, 24_000.0, 1.5, 10.0, 29.0),
    "CM": (45_500.0, 19_000.0, 0.5, 8.0, 27.5),
    "IFM": (45_000.0, 18_800.0, 0.6, 8.5, 27.0),
}


def hand_kpis() -> list[SchemeKpis]:
    return [
        SchemeKpis(
            scheme=s,
            day="default",
            activation_cost_eur=a,
            afrr_energy_mwh=f / 100.0,
            afrr_cost_eur=f,
            congestion_hours_h=2 * o,
            overload_energy_mwh=o,
            voltage_violation_hours_h=0.0,
            curtailed_res_mwh=c,
            losses_mwh=loss,
            slack_energy_mwh=0.0,
            slack_cost_eur=0.0,
        )
        for s, (a, f, o, c, loss) in DAY.items()
    ]


@dataclass
class HandResult:
    """The parts of a StudyResult the CBA view reads."""

    kpis: list[SchemeKpis]
    ict: dict[str, Any] = field(default_factory=dict)


def test_cba_table_equals_run_cba_and_whatif_recomputes(window: Any, qtbot: Any) -> None:
    from coordstudio.cba.analysis import run_cba

    view = window.cba
    assert view.cba_result is None and "No simulation results" in view.status.text()
    kpis = hand_kpis()
    view.set_run_result(HandResult(kpis))
    study = window.doc.study
    ict = view._ict_for(study.cba)
    expected = run_cba(study.cba, kpis, ict)
    assert view.table.rowCount() == len(DAY)
    shown = {view.table.item(r, 1).text(): view.table.item(r, 2).text() for r in range(len(DAY))}
    for s in expected.schemes:
        assert shown[s.scheme] == f"{s.npv_eur / 1e6:,.2f}"
    assert view.table.item(0, 1).text() == expected.ranking[0]
    # the Study view summarises the same ranking for readers of the results
    best = expected.scheme(expected.ranking[0])
    expected_row = f"<b>{best.scheme}</b></td><td align=right>{best.npv_eur / 1e6:,.2f}"
    assert expected_row in window.overview.last_run.text()

    view.rate.setValue(8.0)  # %/a
    qtbot.waitUntil(
        lambda: view.cba_result is not None and abs(view.cba_result.discount_rate - 0.08) < 1e-12,
        timeout=5000,
    )
    at8 = run_cba(
        study.cba.model_copy(update={"discount_rate": 0.08}),
        kpis,
        view._ict_for(study.cba.model_copy(update={"discount_rate": 0.08})),
    )
    got = {s.scheme: s.npv_eur for s in view.cba_result.schemes}
    assert got == pytest.approx({s.scheme: s.npv_eur for s in at8.schemes}, rel=1e-12, abs=1e-6)
    assert study.cba.discount_rate == pytest.approx(0.04)  # not saved until applied
    assert view.last_compute_s < 2.0

    view.apply_whatif()
    assert window.doc.study.cba.discount_rate == pytest.approx(0.08)
    window.doc.undo_stack.undo()
    assert window.doc.study.cba.discount_rate == pytest.approx(0.04)


def test_export_charts_png_and_svg(window: Any, tmp_path: Path) -> None:
    """Every chart of the window is written as PNG and SVG (non-empty, right magic bytes)."""
    window.cba.set_run_result(HandResult(hand_kpis()))
    files = window.export_charts(tmp_path)
    pngs = [f for f in files if f.suffix == ".png"]
    svgs = [f for f in files if f.suffix == ".svg"]
    assert len(pngs) == len(svgs) == len(window.all_charts()) >= 10
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in pngs)
    assert all(b"<svg" in f.read_bytes()[:2000] for f in svgs)


def test_export_excel_writes_the_cba_as_shown(window: Any, tmp_path: Path, dialogs: Any) -> None:
    """File ▸ Export ▸ Excel report writes the workbook of ``cba.report_excel`` for the CBA on screen:
    with the what-if discount rate at 6 %, the Assumptions sheet's discount-rate input cell holds 0.06."""
    import openpyxl

    assert window.export_excel(tmp_path / "none.xlsx") is None  # no results yet: a dialog says so
    assert dialogs.errors and "run the study first" in dialogs.errors[-1][1]
    window.cba.set_run_result(HandResult(hand_kpis()))
    window.cba.rate.setValue(6.0)
    window.cba.recompute()
    path = window.export_excel(tmp_path / "report.xlsx")
    assert path is not None and path.exists()
    wb = openpyxl.load_workbook(path)
    assert {"Summary", "Assumptions", "Simulation KPIs", "ICT costs"} <= set(wb.sheetnames)
    ws = wb["Assumptions"]
    values: dict[Any, Any] = {}
    for r in range(5, 40):  # the first block lists every scalar input once (later blocks reuse names)
        values.setdefault(ws.cell(r, 1).value, ws.cell(r, 3).value)
    assert values["discount_rate"] == pytest.approx(0.06, abs=1e-12)
    assert values["horizon_years"] == window.doc.study.cba.horizon_years
    # the export carries the provenance `coordstudio run` writes (issue 19): the study's fingerprint
    from coordstudio.cba.fingerprint import study_fingerprint

    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Provenance" in cells and study_fingerprint(window.doc.study).study in cells


def test_export_recommendations_draft(window: Any, tmp_path: Path) -> None:
    """The draft is written as Markdown and DOCX side by side and names the top-ranked scheme."""
    window.cba.set_run_result(HandResult(hand_kpis()))
    path = window.export_recommendations(tmp_path / "reco.md")
    assert path is not None
    md = (tmp_path / "reco.md").read_text(encoding="utf-8")
    assert window.cba.cba_result.ranking[0] in md
    assert (tmp_path / "reco.docx").read_bytes()[:2] == b"PK"  # a DOCX is a zip file
    from coordstudio.cba.fingerprint import study_fingerprint  # the footer names the study (issue 19)

    assert study_fingerprint(window.doc.study).study[:12] in md.strip().splitlines()[-1]


def test_day_weights_are_applied_together_and_validated(window: Any) -> None:
    """Two representative days: 300 + 60 = 360 d/a is refused (the CBA needs 365 or 366) with the field
    named; 250 + 115 = 365 is stored in one undoable step."""
    from PySide6.QtWidgets import QTableWidgetItem

    view = window.cba
    messages: list[str] = []
    view.message.connect(messages.append)
    view._add_day()
    view.weights.setItem(0, 1, QTableWidgetItem("300"))
    view.weights.setItem(1, 1, QTableWidgetItem("60"))
    assert view.apply_weights() is False
    assert "day_weights_days_per_year" in messages[-1] and "365" in messages[-1]
    assert window.doc.study.cba.day_weights_days_per_year == {"default": 365.0}
    view.weights.setItem(0, 1, QTableWidgetItem("250"))
    view.weights.setItem(1, 1, QTableWidgetItem("115"))
    assert view.apply_weights() is True
    assert window.doc.study.cba.day_weights_days_per_year == {"default": 250.0, "day2": 115.0}
    window.doc.undo_stack.undo()
    assert window.doc.study.cba.day_weights_days_per_year == {"default": 365.0}
    assert view.weights.rowCount() == 1  # the table follows the study


def test_the_days_note_says_which_days_a_run_weights(window: Any) -> None:
    """The default study simulates its representative days, so the weights table (the one-day study's)
    is marked as not used, with the study's own N; set to ``representative_days: 0`` (an undoable edit
    of the scenario) the note says the table's weights make the year."""
    n = window.doc.study.scenario.profiles.representative_days
    assert n > 0
    note = window.cba.days_note.text()
    assert f"simulates {n} representative days" in note and "apply only with representative_days 0" in note
    window.doc.set_fields(("scenario", "profiles"), {"representative_days": 0})
    assert "its one day" in window.cba.days_note.text()
    window.doc.undo_stack.undo()
    assert f"simulates {n} representative days" in window.cba.days_note.text()


def test_results_table_names_each_day_of_a_run_of_several_days(window: Any) -> None:
    """A run of two representative days (hand-built KPIs, five schemes x two days): one column per scheme
    and day, named "CMS d015" as the KPI charts name their bars, and the header counts 5 schemes, not 10
    columns."""
    from types import SimpleNamespace

    kpis = [k.model_copy(update={"day": day}) for day in ("d015", "d200") for k in hand_kpis()]
    window.results.show_result(SimpleNamespace(kpis=kpis, cba=None))
    table = window.results.table
    names = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert names == [f"{k.scheme} {k.day}" for k in kpis] and names[0] == "CMS d015"
    assert "5 scheme(s) simulated, day(s) d015, d200" in window.results.header.text()


def test_whatif_recompute_keeps_the_runs_stress_coverage_in_the_exported_draft(
    window: Any, tmp_path: Path
) -> None:
    """A run whose days miss the stress stratum (its CBA carries ``stress_coverage``, cba.stress_coverage):
    the view's what-if CBA (recomputed, the run's parameters not given) keeps it, so the draft exported
    from the GUI (File > Export recommendations) says the days do not sample the most loaded evenings, as
    the run's own draft does. Hand-built coverage: 8 days, none of 18 stratum days."""
    from types import SimpleNamespace

    from coordstudio.cba.stress_coverage import StressCoverage

    coverage = StressCoverage(stress_days=0, stress_share_frac=0.05, stratum_days=18, simulated_days=8,
                              in_stratum={})
    window.cba.set_run_result(SimpleNamespace(kpis=hand_kpis(), ict={},
                                              cba=SimpleNamespace(stress_coverage=coverage)))
    assert window.cba.cba_result.stress_coverage == coverage
    assert window.export_recommendations(tmp_path / "reco.md") is not None
    md = " ".join((tmp_path / "reco.md").read_text(encoding="utf-8").split())
    assert ("None of the 8 simulated days is among the year's 18 days of the highest mean load 17:00-21:00"
            in md)
