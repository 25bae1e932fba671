"""A failed market clearing is never hidden (issue 18, section 1; docs/reliability.md, section 1).

End to end through ``main.py run`` on a small study built here (case30 + one case33bw feeder, one hour,
schemes CMS and LMS):

* every clearing of LMS fails as an infeasible market does (the market layer's own
  :class:`InfeasibleMarketError`, injected into the clearer): ``run`` exits 3 with one warning line, the
  printed table and ``kpis.csv`` show "1/1" failed clearings, ``report.xlsx``'s KPI and Summary sheets
  carry the column and the red fill, the draft opens with the warning block and ranks only CMS;
* a need far beyond every bid (a system imbalance of 10^7 MW): the market clears with slack, and the
  transmission power flow then does not converge: both runs fail by name, the reference is not assessed,
  nothing is ranked, exit 3.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from coordstudio import main
from coordstudio.cba.assessment import EXIT_NOT_ASSESSED
from coordstudio.cba.report_excel_cells import ALERT_FILL
from coordstudio.cba.study import Study, default_study, save_study
from coordstudio.simulation.errors import InfeasibleMarketError
from tests.simulation.sim_fixtures import small_spec


def small_study(std_mw: float | None = None) -> Study:
    """The default study's SGAM model and CBA on a one-hour small scenario of CMS and LMS."""
    study = default_study()
    spec = small_spec(1.0).model_copy(update={"name": study.scenario.name, "schemes": ["CMS", "LMS"]})
    if std_mw is not None:
        imbalance = spec.imbalance.model_copy(update={"std_mw": std_mw, "daily_amplitude_mw": std_mw})
        spec = spec.model_copy(update={"imbalance": imbalance})
    cba = study.cba.model_copy(update={"monte_carlo_samples": 200})
    return study.model_copy(update={"scenario": spec, "cba": cba})


def _run_captured(tmp: Path, study: Study) -> tuple[int, str, str, Path]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        path = tmp / "study.yaml"
        save_study(study, path)
        folder = tmp / "out"
        code = main.main(["run", str(path), "--out", str(folder), "--quiet"])
    return code, out.getvalue(), err.getvalue(), folder


@pytest.fixture(scope="module")
def lms_fails(tmp_path_factory: Any) -> tuple[int, str, str, Path]:
    from coordstudio.simulation.clearing_stage import SessionClearer

    original = SessionClearer.clear

    def clear(self: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        if str(case.name).startswith("LMS"):
            raise InfeasibleMarketError(
                f"{case.name}: the clearing is infeasible even with slack (kInfeasible)"
            )
        return original(self, case, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SessionClearer, "clear", clear)
        return _run_captured(tmp_path_factory.mktemp("lms-fails"), small_study())


def test_exit_status_and_one_line_message(lms_fails: tuple[int, str, str, Path]) -> None:
    code, _out, err, _folder = lms_fails
    assert code == EXIT_NOT_ASSESSED == main.EXIT_NOT_ASSESSED == 3
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        "warning: not assessed: LMS (1 of 1 market clearings failed (1 infeasible))"
    ], err
    assert "Traceback" not in err


def test_printed_table_shows_failed_count_and_no_rank(lms_fails: tuple[int, str, str, Path]) -> None:
    _code, out, _err, _folder = lms_fails
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["CMS"], ["LMS"])}
    assert "failed clr." in out
    assert "0/1" in rows["CMS"] and rows["CMS"].rstrip().endswith("1")
    assert "1/1 !" in rows["LMS"] and rows["LMS"].rstrip().endswith("n/a")
    assert "! LMS is not assessed (not ranked): 1 of 1 market clearings failed (1 infeasible)." in out


def test_kpis_csv_shows_the_failed_count(lms_fails: tuple[int, str, str, Path]) -> None:
    folder = lms_fails[3]
    with (folder / "kpis.csv").open(newline="") as fh:
        rows = {r["scheme"]: r for r in csv.DictReader(fh)}
    assert rows["LMS"]["failed_clearings"] == "1" and rows["LMS"]["clearings"] == "1"
    assert rows["LMS"]["infeasible_clearings"] == "1"
    assert rows["CMS"]["failed_clearings"] == "0" and rows["CMS"]["clearings"] == "1"
    assert rows["CMS"]["run_failed"] == "0" and rows["CMS"]["run_failure"] == ""


def _header_col(ws: Any, row: int, title: str) -> int:
    for cell in ws[row]:
        if cell.value == title:
            return int(cell.column)
    raise AssertionError(f"no column {title!r} in row {row} of {ws.title}")


def _is_red(cell: Any) -> bool:
    return cell.fill is not None and cell.fill.fgColor.rgb == ALERT_FILL.fgColor.rgb


def test_report_marks_the_scheme_in_red(lms_fails: tuple[int, str, str, Path]) -> None:
    wb = openpyxl.load_workbook(lms_fails[3] / "report.xlsx")
    kpi_sheet = next(ws for ws in wb.worksheets if "Simulation KPIs" in str(ws["A1"].value))
    col = _header_col(kpi_sheet, 4, "Failed market clearings (count)")
    by_scheme = {kpi_sheet.cell(row=r, column=1).value: r for r in range(5, kpi_sheet.max_row + 1)}
    lms, cms = by_scheme["LMS"], by_scheme["CMS"]
    assert kpi_sheet.cell(row=lms, column=col).value == 1 and _is_red(kpi_sheet.cell(row=lms, column=col))
    assert kpi_sheet.cell(row=cms, column=col).value == 0 and not _is_red(kpi_sheet.cell(row=cms, column=col))
    summary = wb["Summary"]
    head = next(r for r in range(1, 30) if summary.cell(row=r, column=2).value == "Scheme")
    col = _header_col(summary, head, "Failed market clearings (count)")
    rows = {summary.cell(row=r, column=2).value: r for r in range(head + 1, head + 3)}
    assert summary.cell(row=rows["LMS"], column=1).value == "not assessed"
    assert _is_red(summary.cell(row=rows["LMS"], column=1))
    assert summary.cell(row=rows["LMS"], column=col).value == 1
    assert _is_red(summary.cell(row=rows["LMS"], column=col))
    assessment = summary.cell(row=rows["LMS"], column=_header_col(summary, head, "Assessment")).value
    assert assessment == "not assessed: 1 of 1 market clearings failed (1 infeasible)"
    assert str(summary.cell(row=rows["CMS"], column=1).value).startswith("=RANK(")
    assert not _is_red(summary.cell(row=rows["CMS"], column=col))


def test_draft_warns_and_ranks_only_the_assessed_scheme(lms_fails: tuple[int, str, str, Path]) -> None:
    md = (lms_fails[3] / "recommendations.md").read_text()
    assert "## Warning: not every scheme was assessed" in md
    assert (
        "> **Warning:** LMS is not assessed (not ranked): 1 of 1 market clearings failed (1 infeasible)."
        in md
    )
    table = md.split("## 1.", 1)[1].split("\n\n")
    ranking_rows = [line for block in table for line in block.splitlines() if line.startswith("| ")]
    assert not any("| LMS |" in line for line in ranking_rows[:4]), ranking_rows[:4]
    assert "Schemes: CMS centralized AS market." in md
    assert "Not assessed, and not ranked: LMS (local AS market)" in md
    assert "First-ranked scheme: CMS (centralized AS market)" in md
    import docx

    text = "\n".join(p.text for p in docx.Document(str(lms_fails[3] / "recommendations.docx")).paragraphs)
    assert "Warning: LMS is not assessed (not ranked)" in text


def test_need_far_beyond_every_bid_fails_by_name_and_ranks_nothing(tmp_path: Path) -> None:
    code, out, err, folder = _run_captured(tmp_path, small_study(std_mw=1e7))
    assert code == EXIT_NOT_ASSESSED
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("warning: not assessed: CMS (the run failed: physical step 0, ")
    assert "grid transmission: power flow failed (LoadflowNotConverged" in lines[0]
    assert "the reference scheme CMS is not assessed" in lines[0]
    assert "! The reference scheme CMS is not assessed: no scheme is ranked." in out
    assert "run failed" in next(line for line in out.splitlines() if line.startswith("CMS "))
    with (folder / "kpis.csv").open(newline="") as fh:
        rows = {r["scheme"]: r for r in csv.DictReader(fh)}
    assert rows["CMS"]["run_failed"] == "1" and "did not converge" in rows["CMS"]["run_failure"]
    assert float(rows["CMS"]["slack_energy_mwh"]) > 0 and rows["CMS"]["slack_clearings"] == "1"
    md = (folder / "recommendations.md").read_text()
    assert "No scheme is ranked, and the draft recommends none" in md
    assert "First-ranked" not in md
