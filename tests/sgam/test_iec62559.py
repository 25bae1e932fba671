"""The IEC 62559-2 use-case template: a public filled-in use case imported and exported back section by
section, the library's use cases through the template and back to an equal model, the layout against the
standard's section list, and bad templates named by sheet and row.

The filled-in template is Platone's UC-GR-2 "PMU data integration into SE tool" (H2020 project Platone,
version 0.1 of 17 June 2020) from the public use-case repository
https://smart-grid-use-cases.github.io/docs/usecases/platone/ , laid out cell by cell by
``tests/sgam/data/make_iec62559_platone.py`` independently of ``sgam.iec62559``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coordstudio.sgam.errors import SgamImportError
from coordstudio.sgam.iec62559 import SECTION_SHEETS, export_use_case, import_use_case, read_sheets
from coordstudio.sgam.library import default_model

PLATONE = Path(__file__).resolve().parent / "data" / "iec62559_platone_uc_gr_2.xlsx"

#: The numbered headings of the IEC 62559-2:2015 template, sheet by sheet, in the standard's order (typed
#: here from the standard's table of contents, not taken from sgam.iec62559).
STANDARD_HEADINGS: dict[str, list[str]] = {
    "1 Description": ["1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"],
    "2 Diagrams": ["2"],
    "3 Technical details": ["3", "3.1", "3.2"],
    "4 Step by step analysis": ["4", "4.1", "4.2"],
    "5 Information exchanged": ["5"],
    "6 Requirements": ["6"],
    "7 Common terms": ["7"],
    "8 Custom information": ["8"],
}


def _headings(rows: list[list[str]]) -> list[str]:
    return [
        m.group(1) for row in rows if len(row) == 1 for m in [re.match(r"^(\d+(?:\.\d+)*)\.? ", row[0])] if m
    ]


def test_public_filled_in_template_imports_and_exports_back_section_by_section(tmp_path: Path) -> None:
    """Platone UC-GR-2 read into an empty model and written back: each of the eight section sheets holds
    the same cells as the hand-laid-out original; its KPI, step requirement and terms are in the model."""
    model, notes = import_use_case(PLATONE)
    out = export_use_case(model, "UC-GR-2", tmp_path / "uc.xlsx")
    original, exported = read_sheets(PLATONE), read_sheets(out)
    assert list(exported)[:8] == list(SECTION_SHEETS) == list(original)
    for sheet in SECTION_SHEETS:
        assert exported[sheet] == original[sheet], sheet

    uc = model.get("use_cases", "UC-GR-2")
    assert uc.name == "PMU data integration into SE tool"
    assert uc.relation_to_other_use_cases == "Associate with UC-GR-6"
    assert [(k.id, k.name) for k in model.kpis] == [("KPI-GR-2-1", "State estimation accuracy")]
    assert [c.prerequisite[:10] for c in model.use_case_conditions] == ["DSO system"]
    steps = {s.step_no: s for s in model.steps}
    assert steps[1].requirement_ids == ["R-1"] and steps[3].requirement_ids == []
    assert steps[1].information_object_ids == ["I-01", "I-03"]
    assert model.get("information_objects", "I-03").requirement_ids == ["R-1"]
    assert [t.term for t in model.terms] == ["Phasor measurement", "Pseudo-measurement"]
    # 4 actors and 3 information objects are new, each with one note naming its placeholders
    assert len(notes) == 7 and all("placeholders" in n for n in notes)
    assert model.get("endpoint_counts", "one").count == 1


@pytest.fixture(scope="module")
def library() -> object:
    return default_model()


def test_every_library_use_case_goes_through_the_template_and_back_unchanged(
    library: object, tmp_path: Path
) -> None:
    """Export then import (into the same model) gives back an equal model for every use case: what the
    template has no column for travels on the SGAM mapping sheet."""
    from coordstudio.sgam.model import SgamModel

    assert isinstance(library, SgamModel)
    for uc in library.use_cases:
        path = export_use_case(library, uc.id, tmp_path / f"{uc.id}.xlsx")
        back, notes = import_use_case(path, library)
        assert notes == []
        assert back == library, uc.id


def test_filled_library_use_case_follows_the_standard_layout(library: object, tmp_path: Path) -> None:
    """UC-CM-CLEAR (CM.yaml, from the seed document) fills every section; the workbook has the standard's
    numbered headings in the standard's order, KPIs under 1.5, R-IDs per step under 4.2."""
    from coordstudio.sgam.model import SgamModel

    assert isinstance(library, SgamModel)
    sheets = read_sheets(export_use_case(library, "UC-CM-CLEAR", tmp_path / "cm.xlsx"))
    for sheet, headings in STANDARD_HEADINGS.items():
        assert _headings(sheets[sheet]) == headings, sheet
    desc = sheets["1 Description"]
    kpi_at = desc.index(["1.5 Key performance indicators (KPI)"])
    assert desc[kpi_at + 1] == ["ID", "Name", "Description", "Reference to mentioned use case objectives"]
    assert [r[0] for r in desc[kpi_at + 2 : kpi_at + 5]] == [f"UC-CM-CLEAR-KPI{i}" for i in (1, 2, 3)]
    steps = sheets["4 Step by step analysis"]
    header = steps.index(
        [
            "Step No.",
            "Event",
            "Name of process / activity",
            "Description of process / activity",
            "Service",
            "Information producer (actor)",
            "Information receiver (actor)",
            "Information exchanged (IDs)",
            "Requirement, R-IDs",
        ]
    )
    assert steps[header + 1][0] == "1" and steps[header + 1][-1] == "R-DAILY"
    # every section of the template holds something for this use case (2 to 8 have data rows)
    for sheet in SECTION_SHEETS[1:]:
        assert len(sheets[sheet]) > 2 + (sheet.startswith(("3", "4")) * 2), sheet
    assert sheets["SGAM mapping"][2][:3] == ["1.1", "UC-CM-CLEAR", "schemes"]


def test_bad_template_is_refused_naming_sheet_and_row(tmp_path: Path) -> None:
    """A step whose producer is in no actor table, and a template without its sixth sheet."""
    bad = tmp_path / "bad.xlsx"
    shutil.copy(PLATONE, bad)
    wb = load_workbook(bad)
    ws = wb["4 Step by step analysis"]
    ws["F9"] = "Nobody"
    wb.save(bad)
    with pytest.raises(SgamImportError, match=r"sheet '4 Step by step analysis', row 9 .*'Nobody'"):
        import_use_case(bad)
    del wb["6 Requirements"]
    wb.save(bad)
    with pytest.raises(SgamImportError, match=r"bad.xlsx: sheet '6 Requirements' is missing"):
        import_use_case(bad)
