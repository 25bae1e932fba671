"""The Excel report: structure, and its live formulas recalculated by LibreOffice against Python.

LibreOffice (``soffice``, Debian package ``libreoffice-calc-nogui``) is the independent spreadsheet
engine: it recalculates every formula of the workbook, and the NPV, PV, BCR, IRR and payback cells
must equal the Python results within 1e-9 relative, also after the discount-rate cell (and a price) is
changed in the workbook. The recalculation tests skip when soffice is missing locally, but fail under
CI (``CI=true``), where the Makefile installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from cba_fixtures import make_ict, make_kpis, make_params

from coordstudio.cba.analysis import CbaResult, run_cba
from coordstudio.cba.parameters import SCALAR_PARAMETERS, CbaParameters
from coordstudio.cba.report_excel import LABELS, cash_flow_sheet_name, write_report

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REL = 1e-9


def _need_soffice() -> str:
    if SOFFICE is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice (soffice) is required under CI: install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed here; CI installs libreoffice-calc-nogui")
    return SOFFICE


def _recalculate(path: Path, workdir: Path) -> Path:
    """Let LibreOffice open, recalculate and re-save ``path``; return the recalculated copy."""
    soffice = _need_soffice()
    out = workdir / "recalculated"
    out.mkdir(exist_ok=True)
    profile = (workdir / "lo-profile").resolve().as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--calc", "--convert-to", "xlsx",
         "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )
    return out / path.name


def _results_in_sheet(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, object]:
    labels = {v: k for k, v in LABELS.items()}
    found = {}
    for row in ws.iter_rows(min_row=1, max_row=20, max_col=2, values_only=True):
        if row[0] in labels:
            found[labels[row[0]]] = row[1]
    return found


def _assert_matches(got: object, expected: float | None, what: str) -> None:
    if expected is None:
        assert got in ("n/a", "none", "never"), f"{what}: {got!r} where Python has none"
        return
    assert isinstance(got, int | float), f"{what}: {got!r}"
    assert got == pytest.approx(expected, rel=REL, abs=1e-6), what


def _compare(book: Path, result: CbaResult) -> None:
    wb = openpyxl.load_workbook(book, data_only=True)
    for s in result.schemes:
        cells = _results_in_sheet(wb[cash_flow_sheet_name(s.scheme)])
        _assert_matches(cells["npv"], s.npv_eur, f"{s.scheme} NPV")
        _assert_matches(cells["pv_benefits"], s.pv_benefits_eur, f"{s.scheme} PV benefits")
        _assert_matches(cells["pv_costs"], s.pv_costs_eur, f"{s.scheme} PV costs")
        _assert_matches(cells["bcr"], s.bcr, f"{s.scheme} BCR")
        _assert_matches(cells["irr"], s.irr, f"{s.scheme} IRR")
        _assert_matches(cells["payback"], s.discounted_payback_years, f"{s.scheme} payback")


def _set_assumption(path: Path, name: str, value: float) -> None:
    """Change the value cell of input ``name`` on the Assumptions sheet, as a user would."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Assumptions"]
    for row in ws.iter_rows(min_row=1, max_col=3):
        if row[0].value == name:
            row[2].value = value
            wb.save(path)
            return
    raise AssertionError(f"{name} not on the Assumptions sheet")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CbaParameters, CbaResult]:
    params = make_params(monte_carlo_samples=2000)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    path = tmp_path_factory.mktemp("report") / "report.xlsx"
    write_report(path, params, kpis, ict, result)
    return path, params, result


def test_sheets_inputs_formulas_and_charts(report: tuple[Path, CbaParameters, CbaResult]) -> None:
    path, params, result = report
    wb = openpyxl.load_workbook(path)
    expected = ["Summary", "Assumptions", "Simulation KPIs", "ICT costs"]
    expected += [cash_flow_sheet_name(s.scheme) for s in result.schemes]
    expected += ["Sensitivity", "Monte Carlo", "Actors"]
    assert wb.sheetnames == expected
    names = {row[0] for row in wb["Assumptions"].iter_rows(values_only=True)}
    for name in [*SCALAR_PARAMETERS, "horizon_years", "reference_scheme", "price_basis", "ict_cost_basis",
                 *params.day_weights_days_per_year]:
        assert name in names, name
    cf = wb[cash_flow_sheet_name("LMS")]
    cells = _results_in_sheet(cf)
    for key in ("npv", "bcr", "irr"):
        assert isinstance(cells[key], str) and cells[key].startswith("="), key
    assert "Assumptions!$C$5" in str(cells["npv"])  # the discount-rate cell
    # openpyxl does not read charts back, so check the written parts of the package instead.
    import zipfile

    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        xml = "".join(z.read(n).decode() for n in charts)
    assert len(charts) == len(result.schemes) + 2  # one per cash-flow sheet, tornado, histogram
    assert '<barDir val="bar"/>' in xml and '<barDir val="col"/>' in xml


def test_formulas_recalculated_by_libreoffice_equal_python(
    report: tuple[Path, CbaParameters, CbaResult], tmp_path: Path
) -> None:
    path, _, result = report
    _compare(_recalculate(path, tmp_path), result)


def test_changing_the_discount_rate_cell_gives_the_python_result_for_that_rate(
    report: tuple[Path, CbaParameters, CbaResult], tmp_path: Path
) -> None:
    path, params, _ = report
    edited = tmp_path / "edited.xlsx"
    shutil.copy(path, edited)
    _set_assumption(edited, "discount_rate", 0.074)
    _set_assumption(edited, "curtailed_res_price_eur_per_mwh", 95.0)
    expected = run_cba(
        params.model_copy(update={"discount_rate": 0.074, "curtailed_res_price_eur_per_mwh": 95.0}),
        make_kpis(), make_ict(), monte_carlo_samples=100,
    )
    base = {s.scheme: s.npv_eur for s in report[2].schemes}
    assert expected.scheme("CM").npv_eur != pytest.approx(base["CM"], rel=1e-3)  # the edit matters
    _compare(_recalculate(edited, tmp_path), expected)


def test_nominal_basis_and_full_costs_recalculate_too(tmp_path: Path) -> None:
    """The escalation and cost-basis switches are formulas as well."""
    params = make_params(price_basis="nominal", escalation_rate=0.025, discount_rate=0.06,
                         ict_cost_basis="full", horizon_years=12, monte_carlo_samples=500)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    path = tmp_path / "nominal.xlsx"
    write_report(path, params, kpis, ict, result)
    _compare(_recalculate(path, tmp_path), result)


# ---------------------------------------------------------------- every invited edit (issue 17, item 5)


def _recalculate_many(paths: list[Path], workdir: Path) -> dict[Path, Path]:
    """One LibreOffice run recalculating every workbook in ``paths``; returns original -> recalculated."""
    soffice = _need_soffice()
    out = workdir / "recalculated"
    out.mkdir(exist_ok=True)
    profile = (workdir / "lo-profile").resolve().as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--calc", "--convert-to", "xlsx",
         "--outdir", str(out), *map(str, paths)],
        check=True, capture_output=True, timeout=900,
    )
    return {p: out / p.name for p in paths}


def _input_cells(path: Path) -> list[tuple[str, str, int, int]]:
    """Every cell the workbook invites the user to edit (yellow): (sheet, label in column A, row, col)."""
    from coordstudio.cba.report_excel_cells import INPUT_FILL

    wb = openpyxl.load_workbook(path)
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yellow = cell.fill is not None and cell.fill.fill_type == "solid" and \
                    cell.fill.fgColor.rgb == INPUT_FILL.fgColor.rgb
                if yellow:
                    label = str(ws.cell(row=cell.row, column=1).value)
                    found.append((ws.title, label, cell.row, cell.column))
    return found


def _edit_for(
    cell: tuple[str, str, int, int], params: CbaParameters, kpis: list, ict: dict, wb: openpyxl.Workbook,
) -> tuple[dict[tuple[str, int, int], object], CbaParameters, dict]:
    """The workbook edit of one input cell and the same edit made to the tool's inputs."""
    sheet, label, row, col = cell
    ws = wb[sheet]
    if sheet == "Assumptions" and label in params.day_weights_days_per_year:
        days = list(params.day_weights_days_per_year)
        other = days[(days.index(label) + 1) % len(days)]
        weights = dict(params.day_weights_days_per_year)
        weights[label] += 40.0
        weights[other] -= 40.0  # the weights must still make a year
        other_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == other)
        edits = {(sheet, row, col): weights[label], (sheet, other_row, col): weights[other]}
        return edits, params.model_copy(update={"day_weights_days_per_year": weights}), ict
    if sheet == "Assumptions":
        special = {"reference_scheme": "LMS", "price_basis": "nominal", "ict_cost_basis": "full",
                   "discount_rate": 0.062, "escalation_rate": 0.035}
        base = getattr(params, label)
        value: object = special[label] if label in special else (base * 1.5 if base else 80.0)
        return {(sheet, row, col): value}, params.model_copy(update={label: value}), ict
    if sheet == "ICT costs":
        scheme, link = label, ws.cell(row=row, column=2).value
        field = {8: "capex_eur", 9: "opex_eur_per_year", 10: "lifetime_years"}[col]
        base = ws.cell(row=row, column=col).value
        value = {"lifetime_years": 7.0}.get(field, float(base) * 1.7 + 1000.0)
        lines = [line.model_copy(update={field: value}) if line.link_id == link else line
                 for line in ict[scheme].lines]
        edited = dict(ict)
        edited[scheme] = ict[scheme].model_copy(update={"lines": lines})
        return {(sheet, row, col): value}, params, edited
    raise AssertionError(f"yellow cell {sheet}!{row},{col} ({label}) has no known edit: add one to this test")


def test_every_input_cell_recalculates_to_the_tools_result_for_the_same_edit(tmp_path: Path) -> None:
    """Each yellow cell, changed with openpyxl and recalculated by LibreOffice, gives the NPV, PV, BCR,
    IRR and payback of every scheme that the tool computes for the same edit. The reference-scheme cell
    re-bases the benefits on the new reference; IRRs include negative ones. Cells the formulas do not
    read (horizon, Monte Carlo settings) are not yellow. Every Assumptions cell is edited on its own; of
    the ICT sheet's lines (all alike: CAPEX, OPEX, lifetime) the first of the reference scheme and the
    first of another scheme, each column on its own (LibreOffice takes ~5 s per workbook here)."""
    from coordstudio.cba.report_excel_inputs import FIXED_AT_RUN

    _need_soffice()
    params = make_params(monte_carlo_samples=50, benefit_factor=0.4)  # some IRRs are negative
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    assert any(s.irr is not None and s.irr < 0 for s in result.schemes)
    path = tmp_path / "report.xlsx"
    write_report(path, params, kpis, ict, result)
    cells = _input_cells(path)
    labels = {c[1] for c in cells if c[0] == "Assumptions"}
    assert "reference_scheme" in labels and "discount_rate" in labels
    assert not labels & set(FIXED_AT_RUN)
    ict_cells = [c for c in cells if c[0] == "ICT costs"]
    assert {c[3] for c in ict_cells} == {8, 9, 10}  # CAPEX, OPEX, lifetime
    first_rows = {}
    for c in ict_cells:
        first_rows.setdefault(c[1], c[2])
    other = next(s for s in first_rows if s != params.reference_scheme)
    keep = {first_rows[params.reference_scheme], first_rows[other]}
    cells = [c for c in cells if c[0] != "ICT costs" or c[2] in keep]
    expected: dict[Path, CbaResult] = {}
    base_wb = openpyxl.load_workbook(path)
    for i, cell in enumerate(cells):
        edits, edited_params, edited_ict = _edit_for(cell, params, kpis, ict, base_wb)
        wb = openpyxl.load_workbook(path)
        for (sheet, row, col), value in edits.items():
            wb[sheet].cell(row=row, column=col).value = value
        target = tmp_path / f"edit{i:03d}.xlsx"
        wb.save(target)
        expected[target] = run_cba(edited_params, kpis, edited_ict, monte_carlo_samples=10)
    recalculated = _recalculate_many(list(expected), tmp_path)
    for target, tool in expected.items():
        try:
            _compare(recalculated[target], tool)
        except AssertionError as exc:
            raise AssertionError(f"{cells[int(target.stem[4:])]}: {exc}") from exc


def test_a_stated_system_recalculates_too(tmp_path: Path) -> None:
    """With a stated system (cba.system_scale) the run writes the ICT lines of that system and the
    benefits formulas multiply by its scale factor, so the workbook still equals the tool."""
    from coordstudio.cba.system_scale import scale_ict

    params = make_params(system={"scale_factor": 4.0, "platform_share": 0.25}, monte_carlo_samples=50)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    path = tmp_path / "system.xlsx"
    write_report(path, params, kpis, scale_ict(ict, params.system), result)
    _compare(_recalculate(path, tmp_path), result)
