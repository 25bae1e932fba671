"""Outputs an analyst can load and trust (issue 19 section 3): tidy tables, provenance, cached values.

One set of CBA outputs on the hand-built inputs of ``cba_fixtures`` (no simulation, ~2 s), written by
:func:`cba.outputs.cba_outputs` as the ``cba`` command writes them, then read back the way a notebook
reads them (``pandas.read_csv``, ``pandas.read_parquet``, ``pyarrow``'s metadata, ``pandas.read_excel``,
python-docx). References:

* tables: the CBA result in memory (same run, two channels), and textbook identities checked by hand:
  NPV = sum over the years of the discounted net cash flow; the Monte Carlo summary recomputed with
  numpy from the written samples equals the result's (same draws);
* provenance: the record built once, compared field by field in every place it is written;
* cached values: LibreOffice (an independent spreadsheet) recalculating the same workbook with its
  values stripped; every formula cell's cached value equals LibreOffice's within 1e-6 relative.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cba_fixtures import make_ict, make_kpis, make_params

from coordstudio.cba.analysis import CbaResult, run_cba
from coordstudio.cba.fingerprint import study_fingerprint
from coordstudio.cba.outputs import cba_outputs
from coordstudio.cba.provenance import (
    PARQUET_KEY,
    PROVENANCE_FILE,
    Provenance,
    build_provenance,
    read_provenance,
)
from coordstudio.cba.study import default_study

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
COMMAND = ["coordstudio", "cba", "study.yaml", "--results", "kpis.json", "--out", "out dir"]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CbaResult, Provenance, Any]:
    params = make_params(monte_carlo_samples=500)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    prov = build_provenance(study_fingerprint(default_study()), command_line=COMMAND)
    out = tmp_path_factory.mktemp("outputs")
    cba_outputs(params, kpis, ict, out, result=result, provenance=prov)
    return out, result, prov, (params, kpis, ict)


def test_provenance_record_names_tool_study_solver_libraries_date_and_command() -> None:
    from importlib.metadata import version

    import highspy  # noqa: F401 - installed: its version is the solver's

    from coordstudio import main

    fp = study_fingerprint(default_study())
    prov = build_provenance(fp, command_line=COMMAND)
    assert prov.tool_version == main.__version__
    assert prov.study_fingerprint == fp.study and len(prov.study_fingerprint) == 64
    assert prov.section_fingerprints == {"scenario": fp.scenario, "cba": fp.cba, "sgam": fp.sgam}
    assert (prov.solver, prov.solver_version) == ("highs", version("highspy"))
    for lib in ("pandas", "numpy", "pyomo", "pandapower", "tsam", "pyarrow"):
        assert prov.library_versions[lib] == version(lib), lib
    assert prov.command_line == "coordstudio cba study.yaml --results kpis.json --out 'out dir'"
    assert prov.created_utc.endswith("Z") and pd.Timestamp(prov.created_utc).tzinfo is not None


def test_provenance_is_in_every_output(written: tuple[Path, CbaResult, Provenance, Any]) -> None:
    """Sidecar, Parquet metadata (raw key and DataFrame.attrs), cba_result.json, the Assumptions sheet
    and both drafts' footers all hold the one record."""
    out, _, prov, _ = written
    assert read_provenance((out / PROVENANCE_FILE).read_text()) == prov
    assert read_provenance((out / "tables" / PROVENANCE_FILE).read_text()) == prov
    parquets = sorted((out / "tables").glob("*.parquet"))
    assert len(parquets) >= 12
    for path in parquets:
        meta = pq.read_metadata(path).metadata
        assert read_provenance(meta[PARQUET_KEY.encode()]) == prov, path.name
        assert pd.read_parquet(path).attrs["provenance"] == prov.model_dump(), path.name
    assert CbaResult.model_validate_json((out / "cba_result.json").read_text()).provenance == prov
    # the Assumptions sheet: the section's key/value rows, read as a notebook reads the workbook
    sheet = pd.read_excel(out / "report.xlsx", sheet_name="Assumptions", header=None)
    keys = sheet[0].astype(str).tolist()
    top = keys.index("Provenance")
    rows = {sheet.iat[i, 0]: sheet.iat[i, 2] for i in range(top + 3, len(sheet))}
    assert rows == prov.flat()
    md = (out / "recommendations.md").read_text()
    assert md.rstrip().endswith(prov.footer_text())
    assert prov.study_fingerprint[:12] in prov.footer_text() and "highs 1." in prov.footer_text()
    footer = docx.Document(str(out / "recommendations.docx")).sections[0].footer
    assert footer.paragraphs[0].text == prov.footer_text()


def test_tables_read_back_tidy_and_equal_the_result(written: tuple[Path, CbaResult, Provenance, Any]) -> None:
    out, result, _, (params, kpis, ict) = written
    tables = out / "tables"
    names = {p.stem for p in tables.glob("*.csv")}
    assert {"kpis", "scheme_results", "benefits", "cash_flows", "ict_costs", "tornado", "switching_values",
            "monte_carlo_summary", "monte_carlo_histogram", "monte_carlo_samples", "monte_carlo_inputs",
            "actors", "liquidity"} <= names
    for name in names:  # the CSV (no options; read_csv parses to 1e-15) and the Parquet: the same table
        csv_df = pd.read_csv(tables / f"{name}.csv", keep_default_na=False, na_values=[""])
        pq_df = pd.read_parquet(tables / f"{name}.parquet")
        assert list(csv_df.columns) == list(pq_df.columns), name
        assert len(csv_df) == len(pq_df), name
        for col in pq_df.columns:
            if pd.api.types.is_numeric_dtype(pq_df[col]) and not pd.api.types.is_bool_dtype(pq_df[col]):
                np.testing.assert_allclose(csv_df[col].astype(float), pq_df[col].astype(float),
                                           rtol=1e-14, err_msg=f"{name}.{col}")
    # long tables: one observation per row, its key unique
    long_keys = {"kpis": ["scheme", "day", "quantity"], "cash_flows": ["scheme", "year", "quantity"],
                 "scheme_results": ["scheme", "quantity"], "benefits": ["scheme", "category", "quantity"],
                 "monte_carlo_summary": ["scheme", "quantity"]}
    for name, key in long_keys.items():
        df = pd.read_parquet(tables / f"{name}.parquet")
        assert list(df.columns) == [*key, "value", "unit"], name
        assert not df.duplicated(key).any(), name
        assert df["unit"].notna().all() and (df["unit"] != "").all(), name
    k = pd.read_parquet(tables / "kpis.parquet").set_index(["scheme", "day", "quantity"])
    first = kpis[0]
    assert k.loc[(first.scheme, first.day, "activation_cost_eur"), "value"] == first.activation_cost_eur
    assert k.loc[(first.scheme, first.day, "activation_cost_eur"), "unit"] == "EUR"
    assert k.loc[(first.scheme, first.day, "congestion_hours_h"), "unit"] == "h"
    # NPV = sum_t discounted net cash flow (hand identity), and equals the result's NPV
    cf = pd.read_parquet(tables / "cash_flows.parquet")
    npv = cf[cf["quantity"] == "discounted_net"].groupby("scheme")["value"].sum()
    for s in result.schemes:
        assert npv[s.scheme] == pytest.approx(s.npv_eur, rel=1e-9, abs=1e-6), s.scheme
    # ICT costs: the lines' CAPEX per scheme is the scheme's
    lines = pd.read_parquet(tables / "ict_costs.parquet")
    for scheme, cost in ict.items():
        assert lines.loc[lines["scheme"] == scheme, "capex_eur"].sum() == pytest.approx(
            sum(li.capex_eur for li in cost.lines), rel=1e-12)


def test_monte_carlo_samples_reproduce_the_summary(written: tuple[Path, CbaResult, Provenance, Any]) -> None:
    """numpy on the written samples gives the result's mean, percentiles, P(NPV<0) and P(first): the
    samples are the draws the CBA summarised."""
    out, result, _, (params, _, _) = written
    samples = pd.read_parquet(out / "tables" / "monte_carlo_samples.parquet")
    inputs = pd.read_parquet(out / "tables" / "monte_carlo_inputs.parquet")
    mc = result.monte_carlo
    assert len(inputs) == mc.samples and list(inputs.columns) == ["sample", *mc.inputs]
    wide = samples.pivot(index="sample", columns="scheme", values="npv_eur")
    assert wide.shape == (mc.samples, len(mc.schemes))
    best = wide.idxmax(axis=1)
    for s in mc.schemes:
        v = wide[s.scheme].to_numpy()
        assert v.mean() == pytest.approx(s.mean_npv_eur, rel=1e-12)
        assert np.percentile(v, 5.0) == pytest.approx(s.p05_npv_eur, rel=1e-12)
        assert np.mean(v < 0) == s.prob_npv_negative
        assert np.mean(best == s.scheme) == pytest.approx(s.prob_rank_first, abs=1e-12)
    hist = pd.read_parquet(out / "tables" / "monte_carlo_histogram.parquet")
    assert hist.groupby("scheme")["samples"].sum().eq(mc.samples).all()


def _is_na_text(value: Any) -> bool:
    """What ``pandas.read_excel`` turns into NaN although the cell holds a value: an empty text or one
    of pandas' default NA strings (the report writes "n/a" where a BCR does not exist)."""
    return value in (None, "", "n/a", "N/A", "NA")


def test_formula_cells_carry_libreoffice_s_values(
    written: tuple[Path, CbaResult, Provenance, Any], tmp_path: Path
) -> None:
    """pandas.read_excel shows a number in every formula cell with a numeric value, and each cached
    value equals LibreOffice's recalculation of the same formulas without values (1e-6 relative)."""
    out, _, _, _ = written
    report = out / "report.xlsx"
    formulas = openpyxl.load_workbook(report)
    stripped = tmp_path / "in" / "report.xlsx"
    stripped.parent.mkdir()
    formulas.save(stripped)  # openpyxl drops the cached values: LibreOffice must compute every cell
    if SOFFICE is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice (soffice) is required under CI: install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed here")
    profile = (tmp_path / "lo-profile").resolve().as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--calc", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "lo"), str(stripped)],
                   check=True, capture_output=True, timeout=180)
    lo = openpyxl.load_workbook(tmp_path / "lo" / "report.xlsx", data_only=True)
    cached = openpyxl.load_workbook(report, data_only=True)
    frames = pd.read_excel(report, sheet_name=None, header=None)
    checked = numbers = 0
    for ws in formulas.worksheets:
        frame = frames[ws.title]
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                checked += 1
                theirs, mine = lo[ws.title][c.coordinate].value, cached[ws.title][c.coordinate].value
                seen = frame.iat[c.row - 1, c.column - 1]
                where = f"{ws.title}!{c.coordinate} {c.value}"
                if isinstance(theirs, int | float) and not isinstance(theirs, bool):
                    numbers += 1
                    assert isinstance(seen, int | float | np.number) and not pd.isna(seen), where
                    assert math.isclose(float(seen), theirs, rel_tol=1e-6, abs_tol=1e-9), (where, seen, theirs)
                elif _is_na_text(theirs):
                    assert _is_na_text(mine), (where, mine)
                else:
                    assert mine == theirs and seen == theirs, (where, mine, theirs)
    assert checked > 1000 and numbers > 0.9 * checked


def test_formula_interpreter_by_hand() -> None:
    """Hand-computed values of the interpreter's rules: precedence (-2^2 = 4, as in Excel), IRR of
    (-100, 110) = 10 %, NPV at 10 % of (110, 121) = 200, SUMIF, MATCH/INDEX and INDEX:INDEX ranges,
    IFERROR on #DIV/0!, an unknown function (raised when strict, left out otherwise)."""
    from openpyxl import Workbook

    from coordstudio.cba.report_excel_values import UnsupportedFormula, XlError, evaluate_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "My sheet"
    for i, (name, value) in enumerate([("a", -100.0), ("b", 110.0), ("a", 121.0)], start=1):
        ws.cell(row=i, column=1, value=name)
        ws.cell(row=i, column=2, value=value)
    formulas = {
        "D1": ("=-2^2", 4.0), "D2": ("=IRR(B1:B2)", 0.1), "D3": ("=NPV(10%,B2:B3)", 200.0),
        "D4": ('=SUMIF(A1:A3,"A",B1:B3)', 21.0), "D5": ('=INDEX(B1:B3,MATCH("b",A1:A3,0))', 110.0),
        "D6": ("=SUM(INDEX(B1:B3,2):INDEX(B1:B3,3))", 231.0), "D7": ('=IFERROR(1/0,"none")', "none"),
        "D8": ("='My sheet'!B1&\"x\"", "-100x"), "D9": ("=RANK(B2,B1:B3)", 2.0), "D10": ("=1/0", None),
    }
    for cell, (text, _) in formulas.items():
        ws[cell] = text
    values = evaluate_workbook(wb)
    for cell, (text, expected) in formulas.items():
        got = values[("My sheet", cell)]
        if expected is None:
            assert isinstance(got, XlError) and got.code == "#DIV/0!", text
        elif isinstance(expected, float):
            assert got == pytest.approx(expected, rel=1e-12), text
        else:
            assert got == expected, text
    ws["E1"] = "=FOO(1)"
    ws["E2"] = "=E1+1"
    with pytest.raises(UnsupportedFormula, match="FOO"):
        evaluate_workbook(wb)
    lenient = evaluate_workbook(wb, strict=False)
    assert ("My sheet", "E1") not in lenient and ("My sheet", "E2") not in lenient
    assert lenient[("My sheet", "D6")] == 231.0
