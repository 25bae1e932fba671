"""Excel round trip: identity, an edit made by LibreOffice, and import errors naming sheet, row and column."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coordstudio.sgam.errors import SgamImportError
from coordstudio.sgam.excel import export_workbook, import_workbook
from coordstudio.sgam.library import default_model
from coordstudio.sgam.model import ITEM_LISTS, SgamModel


def test_export_import_identity(tmp_path: Path) -> None:
    """export -> import gives back an equal model, for the default library and an empty model."""
    for model in (default_model(), SgamModel()):
        path = export_workbook(model, tmp_path / "m.xlsx")
        back = import_workbook(path)
        assert back == model
        assert back.model_dump(mode="json") == model.model_dump(mode="json")


def test_workbook_layout_headers_comments_and_enum_lists(tmp_path: Path) -> None:
    """One sheet per kind, headers = schema field names, comments with description and unit, enum lists."""
    path = export_workbook(default_model(), tmp_path / "m.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["model", *ITEM_LISTS]
    ws = wb["technologies"]
    header = [c.value for c in ws[1]]
    assert header == list(ITEM_LISTS["technologies"].model_fields)
    latency = ws.cell(row=1, column=header.index("latency_ms") + 1)
    assert latency.comment is not None and "Unit: ms." in latency.comment.text
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert '"low,medium,high,very_high"' in lists


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "LibreOffice (soffice) is required in CI: install the Debian package libreoffice-calc-nogui"
            )
        pytest.skip("LibreOffice (soffice) is not installed")
    return exe


def _convert(exe: str, src: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def _q(prefix: str, name: str) -> str:
    return "{" + _NS[prefix] + "}" + name


def _split_repeated(elements: list, index: int, attr: str):  # type: ignore[no-untyped-def]
    """Return the element covering position ``index`` (0-based), splitting a repeated run around it."""
    pos = 0
    for el in elements:
        rep = int(el.get(attr, "1"))
        if pos + rep > index:
            if rep > 1:
                before, after = index - pos, pos + rep - index - 1
                parent = el.getparent()
                target = copy.deepcopy(el)
                target.attrib.pop(attr, None)
                parent.insert(parent.index(el) + 1, target)
                if after:
                    tail = copy.deepcopy(el)
                    tail.set(attr, str(after))
                    parent.insert(parent.index(target) + 1, tail)
                if before:
                    el.set(attr, str(before))
                else:
                    parent.remove(el)
                return target
            return el
        pos += rep
    raise AssertionError(f"position {index} not found")


def _set_number_in_fods(fods: Path, sheet: str, row: int, col: int, value: float) -> None:
    """Type ``value`` into cell (row, col) (1-based) of ``sheet`` in a flat ODS file, as a user would."""
    from lxml import etree

    tree = etree.parse(str(fods))
    table = next(t for t in tree.iter(_q("table", "table")) if t.get(_q("table", "name")) == sheet)
    rows = [r for r in table.iter(_q("table", "table-row"))]
    row_el = _split_repeated(rows, row - 1, _q("table", "number-rows-repeated"))
    cells = [c for c in row_el if c.tag in (_q("table", "table-cell"), _q("table", "covered-table-cell"))]
    cell = _split_repeated(cells, col - 1, _q("table", "number-columns-repeated"))
    for key in list(cell.attrib):
        if key.endswith("value-type") or key.endswith("}value") or key.endswith("string-value"):
            del cell.attrib[key]
    cell.set(_q("office", "value-type"), "float")
    cell.set(_q("office", "value"), repr(value))
    for child in list(cell):
        cell.remove(child)
    p = etree.SubElement(cell, _q("text", "p"))
    p.text = repr(value)
    tree.write(str(fods), xml_declaration=True, encoding="UTF-8")


def test_cell_edited_by_libreoffice_is_imported(tmp_path: Path) -> None:
    """LibreOffice opens the exported workbook, one cell is changed, LibreOffice saves it as .xlsx again.

    The workbook goes xlsx -> LibreOffice -> flat ODS, where the cell 'opex_eur_per_endpoint_year' of
    technology 'lte' gets 75.5 (was 60), then flat ODS -> LibreOffice -> xlsx. The import must return the
    original model with exactly that field changed.
    """
    exe = _soffice()
    model = default_model()
    src = export_workbook(model, tmp_path / "sgam.xlsx")
    profile = tmp_path / "lo-profile"
    fods = _convert(exe, src, "fods", tmp_path / "fods", profile)
    fields = list(ITEM_LISTS["technologies"].model_fields)
    row = 2 + [t.id for t in model.technologies].index("lte")
    col = 1 + fields.index("opex_eur_per_endpoint_year")
    _set_number_in_fods(fods, "technologies", row, col, 75.5)
    edited = _convert(exe, fods, "xlsx:Calc MS Excel 2007 XML", tmp_path / "xlsx", profile)

    back = import_workbook(edited)
    expected = default_model()
    expected.get("technologies", "lte").opex_eur_per_endpoint_year = 75.5
    assert back == expected
    assert back != model


def test_import_errors_name_sheet_row_and_column(tmp_path: Path) -> None:
    """A negative cost, a dangling actor reference and an unknown enum value, each located exactly."""
    model = default_model()
    path = export_workbook(model, tmp_path / "m.xlsx")
    wb = load_workbook(path)
    tech_fields = list(ITEM_LISTS["technologies"].model_fields)
    ws = wb["technologies"]
    ws.cell(row=3, column=1 + tech_fields.index("capex_eur_per_km"), value=-10)
    wb.save(path)
    with pytest.raises(SgamImportError) as info:
        import_workbook(path)
    msg = str(info.value)
    col = chr(ord("A") + tech_fields.index("capex_eur_per_km"))
    assert f"sheet 'technologies', row 3, column {col} (capex_eur_per_km)" in msg
    assert "greater than or equal to 0" in msg

    path = export_workbook(model, tmp_path / "m2.xlsx")
    wb = load_workbook(path)
    ev_fields = list(ITEM_LISTS["events"].model_fields)
    ws = wb["events"]
    ws.cell(row=5, column=1 + ev_fields.index("producer_id"), value="ghost")
    ws.cell(row=6, column=1 + ev_fields.index("trigger"), value="weekly")
    wb.save(path)
    with pytest.raises(SgamImportError) as info:
        import_workbook(path)
    msg = str(info.value)
    # row 6's bad enum is found while reading the row; the dangling reference only after all rows are read,
    # so the first error stops the import before reference checks: fix the enum and retry.
    assert f"sheet 'events', row 6, column {chr(ord('A') + ev_fields.index('trigger'))} (trigger)" in msg
    ws.cell(row=6, column=1 + ev_fields.index("trigger"), value="daily")
    wb.save(path)
    with pytest.raises(SgamImportError) as info:
        import_workbook(path)
    msg = str(info.value)
    event_id = model.events[3].id
    assert (
        f"sheet 'events', row 5, column {chr(ord('A') + ev_fields.index('producer_id'))} (producer_id) "
        f"(id '{event_id}'): 'ghost' is not the id of any of the actors" in msg
    )


def test_import_rejects_unknown_column_and_missing_sheet(tmp_path: Path) -> None:
    path = export_workbook(default_model(), tmp_path / "m.xlsx")
    wb = load_workbook(path)
    wb["actors"].cell(row=1, column=30, value="colour")
    del wb["links"]
    wb.save(path)
    with pytest.raises(SgamImportError) as info:
        import_workbook(path)
    msg = str(info.value)
    assert "sheet 'actors', row 1, column AD: unknown column 'colour'" in msg
    assert "sheet 'links' is missing" in msg
