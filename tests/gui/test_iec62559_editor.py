"""The IEC 62559-2 use-case editor: a KPI and a step requirement entered in the tables, the study saved and
read back; the template exported from the view shows them, and a public filled-in template (Platone UC-GR-2,
tests/sgam/data) imported through the view is one undo step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coordstudio.cba.study import load_study
from coordstudio.sgam.iec62559 import read_sheets

PLATONE = Path(__file__).resolve().parents[1] / "sgam" / "data" / "iec62559_platone_uc_gr_2.xlsx"


def test_enter_a_kpi_and_a_step_requirement_save_read_back_and_import_a_template(
    window: Any, dialogs: Any, tmp_path: Path
) -> None:
    ict = window.ict
    assert window.navigate(("sgam", "kpis"))  # the explorer's path opens the nested tab
    kpis = ict.editors["kpis"]
    assert ict.tabs.currentWidget() is ict.use_case_panel and ict.use_case_tabs.currentWidget() is kpis
    titles = [ict.use_case_tabs.tabText(i) for i in range(ict.use_case_tabs.count())]
    assert titles[:3] == ["Use cases", "1.2 Versions", "1.5 KPIs"]

    # Add (a copy of the last KPI with a fresh id), then type its name and objective reference
    n = len(window.doc.study.sgam.kpis)
    kpis.duplicate_selected()
    model = kpis.model
    row = model.rowCount() - 1
    assert model.setData(model.index(row, model.column_of("id")), "UC-CM-CLEAR-KPI4")
    assert model.setData(model.index(row, model.column_of("name")), "Unserved ICT events")
    assert model.setData(model.index(row, model.column_of("objectives_reference")), "O2")
    assert len(window.doc.study.sgam.kpis) == n + 1

    # a requirement per step: R-OPS added to step 4 of the common market's clearing
    steps = ict.editors["steps"].model
    srow = steps.row_of(lambda s: s.id == "UC-CM-CLEAR-1-04")
    assert steps.setData(steps.index(srow, steps.column_of("requirement_ids")), "R-MKT, R-OPS")
    path = tmp_path / "study.yaml"
    assert window._save_to(path)

    back = load_study(path).sgam
    kpi = back.get("kpis", "UC-CM-CLEAR-KPI4")
    assert (kpi.use_case_id, kpi.name, kpi.objectives_reference) == (
        "UC-CM-CLEAR",
        "Unserved ICT events",
        "O2",
    )
    assert back.get("steps", "UC-CM-CLEAR-1-04").requirement_ids == ["R-MKT", "R-OPS"]

    # the template written from the view carries both, in sections 1.5 and 4.2
    ict.template_box.setCurrentIndex(ict.template_box.findData("UC-CM-CLEAR"))
    out = tmp_path / "uc.xlsx"
    assert ict.export_template(str(ict.template_box.currentData()), out)
    sheets = read_sheets(out)
    assert ["UC-CM-CLEAR-KPI4", "Unserved ICT events", kpi.description, "O2"] in sheets["1 Description"]
    assert any(r[:1] == ["4"] and r[-1] == "R-MKT, R-OPS" for r in sheets["4 Step by step analysis"])

    # a public filled-in template imported through the view: one undo step
    before = window.doc.study.sgam.model_copy(deep=True)
    assert ict.import_template(PLATONE)
    sgam = window.doc.study.sgam
    assert sgam.get("use_cases", "UC-GR-2").name == "PMU data integration into SE tool"
    assert ict.template_box.findData("UC-GR-2") >= 0
    assert not ict.template_notes.isHidden() and "placeholders" in ict.template_notes.text()
    assert ict.editors["kpis"].model.row_of(lambda k: k.id == "KPI-GR-2-1") >= 0
    window.doc.undo_stack.undo()
    assert window.doc.study.sgam == before
    # a file that is no template: a dialog names it, the model is unchanged
    assert not ict.import_template(Path(__file__))
    assert dialogs.errors and "cannot read the workbook" in dialogs.errors[-1][1]
    assert window.doc.study.sgam == before
