"""Outputs of the ICT check: CSV, chart, Excel sheet, recommendations paragraph and the CLI.

Reference: the hand-built case of ``ictcheck_fixtures.py`` / ``test_ictcheck.py`` (scheme delta -200 EUR
on a stated present value of 640 + 44 a = 1237.97 EUR, a = 13.590326).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from ictcheck_fixtures import small_study

from coordstudio.cba.ictcheck import IctCheckOptions, ict_check
from coordstudio.cba.ictcheck_output import (
    EVENT_COLUMNS,
    ict_check_paragraph,
    write_ict_check_chart,
    write_ict_check_csv,
    write_ict_check_sheet,
)


def test_csv_has_one_row_per_event_with_the_verdicts(results_db: Callable[..., str], tmp_path: Path) -> None:
    """ict_check.csv: header = EventCheckRow fields, rows E1/E2/E3 with the hand verdicts."""
    study = small_study()
    files = write_ict_check_csv(ict_check(study, results_db(study)), tmp_path / "out")
    with files["events"].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == EVENT_COLUMNS
    assert {r["event_id"]: r["verdict"] for r in rows} == {
        "E1": "under_specified", "E2": "over_specified", "E3": "not_observed",
    }
    with files["schemes"].open(newline="") as fh:
        (cms,) = list(csv.DictReader(fh))
    assert float(cms["delta_pv_eur"]) == pytest.approx(-200.0, abs=1e-6)


def test_chart_is_a_png_of_the_expected_size(results_db: Callable[..., str], tmp_path: Path) -> None:
    """15 in wide at 110 dpi -> 1650 px; height max(6, 0.22 x 3 + 2.5) = 6 in -> 660 px."""
    from matplotlib.image import imread

    study = small_study()
    path = write_ict_check_chart(ict_check(study, results_db(study)), tmp_path / "c.png")
    img = imread(path)
    assert img.shape[:2] == (660, 1650)


def test_excel_sheet_has_live_difference_formulas(results_db: Callable[..., str]) -> None:
    """One sheet 'ICT check': the scheme row's difference is the formula =C5-B5 over the two PVs, and
    evaluating it by hand gives -200 EUR; the event table lists E1-E3 with their verdicts."""
    from openpyxl import Workbook

    study = small_study()
    wb = Workbook()
    ws = write_ict_check_sheet(wb, ict_check(study, results_db(study)))
    assert ws.title == "ICT check" and "ICT check" in wb.sheetnames
    assert ws["A5"].value == "CMS"
    assert ws["D5"].value == "=C5-B5"
    assert ws["C5"].value - ws["B5"].value == pytest.approx(-200.0, abs=0.02)
    header_row = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "scheme"
                      and ws.cell(row=r, column=2).value == "event_id")
    verdict_col = EVENT_COLUMNS.index("verdict") + 1
    verdicts = {
        ws.cell(row=header_row + i, column=2).value: ws.cell(row=header_row + i, column=verdict_col).value
        for i in (1, 2, 3)
    }
    assert verdicts == {"E1": "under_specified", "E2": "over_specified", "E3": "not_observed"}
    write_ict_check_sheet(wb, ict_check(study, results_db(study, name="again.sqlite")))
    assert wb.sheetnames.count("ICT check") == 1


def test_paragraph_only_when_the_change_is_material(results_db: Callable[..., str]) -> None:
    """-16.2 % is material at the 5 % default (paragraph names the scheme, both PVs and the link moves);
    with a 20 % threshold nothing is material and the paragraph is None."""
    study = small_study()
    url = results_db(study)
    text = ict_check_paragraph(ict_check(study, url))
    assert text is not None
    assert "CMS: 1,238 EUR on stated figures, 1,038 EUR on measured ones (-16.2%)" in text
    assert "L1 slow -> mid" in text and "L2 mid -> slow" in text
    quiet = ict_check(study, url, IctCheckOptions(material_change_frac=0.20))
    assert ict_check_paragraph(quiet) is None


def test_cli_writes_table_and_chart(results_db: Callable[..., str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``ict-check STUDY --results DB --out DIR`` through the registered parser: exit 0, files written,
    the summary line shows the -200 / 1237.97 = -16.155 % change."""
    from coordstudio.cba.ictcheck_cli import register
    from coordstudio.cba.study import save_study

    study = small_study()
    study_path = tmp_path / "study.yaml"
    save_study(study, study_path)
    url = results_db(study)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["ict-check", str(study_path), "--results", url, "--out", str(tmp_path / "o")])
    assert args.func(args) == 0
    assert (tmp_path / "o" / "ict_check.csv").is_file()
    assert (tmp_path / "o" / "ict_check.png").is_file()
    out = capsys.readouterr().out
    assert "-16.155%" in out and "weather" in out
