"""Excel round trip of the SGAM model for ICT architects.

:func:`export_workbook` writes one sheet per object kind (``actors``, ``events``, ``technologies``, ...)
plus a ``model`` sheet with the model-level settings. Row 1 holds the schema's field names; each header cell
has a comment with the field's description, unit, type and (for enumerations) the allowed values; enumeration
columns carry a data-validation drop-down list. Lists of ids are written comma-separated in one cell; an
empty cell means "empty" (empty text, empty list, or no limit for optional numbers).

:func:`import_workbook` reads such a workbook back (also after an edit in Excel or LibreOffice) and returns
the validated :class:`~sgam.model.SgamModel`; ``export`` then ``import`` gives back an equal model. Every
problem raises :class:`~sgam.errors.SgamImportError` naming the file, sheet, row and column.
"""

from __future__ import annotations

import enum
import types
import typing
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from coordstudio.sgam.errors import SgamImportError, SgamValidationError
from coordstudio.sgam.fileio import atomic_save
from coordstudio.sgam.model import ITEM_LISTS, SgamModel
from coordstudio.sgam.quoting import short

SETTINGS_SHEET = "model"
"""Sheet with the model-level scalar settings (one row per field: field, value, description)."""

_UNITS = {
    "_ms": "ms",
    "_s": "s",
    "_bytes": "bytes",
    "_kbps": "kbit/s",
    "_pct": "%",
    "_km": "km",
    "_eur": "EUR",
    "_eur_per_year": "EUR/a",
    "_eur_per_endpoint": "EUR per endpoint",
    "_eur_per_km": "EUR/km",
    "_eur_per_gateway": "EUR per gateway",
    "_eur_per_endpoint_year": "EUR per endpoint and year",
    "_eur_per_gateway_year": "EUR per gateway and year",
    "_eur_per_gb": "EUR/GB",
    "_eur_per_unit": "EUR per unit",
    "_eur_per_unit_year": "EUR per unit and year",
    "_years": "years",
}


def unit_of(field_name: str) -> str:
    """Unit implied by a field name's suffix (``latency_ms`` -> ``ms``), or ``""``."""
    best = ""
    for suffix in _UNITS:
        if field_name.endswith(suffix) and len(suffix) > len(best):
            best = suffix
    return _UNITS.get(best, "")


# ---- field type helpers
def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _enum_of(annotation: Any) -> type[enum.Enum] | None:
    base, _ = _strip_optional(annotation)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return base
    return None


def _to_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        for v in value:
            if "," in str(v):
                raise SgamValidationError(f"cannot export list item '{v}': ids must not contain a comma")
        return ", ".join(str(v) for v in value) if value else None
    if isinstance(value, str):
        return value if value != "" else None
    return value


def _from_cell(value: Any, info: FieldInfo) -> tuple[bool, Any]:
    """Convert a cell value for a field; ``(False, None)`` means 'leave the field at its default'."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if _is_list(info.annotation):
            return True, []
        return False, None
    base, _ = _strip_optional(info.annotation)
    if _is_list(base):
        return True, [part.strip() for part in str(value).split(",") if part.strip()]
    if base is str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return True, str(value)
    if _enum_of(base) is not None:
        return True, str(value).strip()
    return True, value


def _comment(name: str, info: FieldInfo) -> str:
    parts = [info.description or name]
    unit = unit_of(name)
    if unit:
        parts.append(f"Unit: {unit}.")
    enum_cls = _enum_of(info.annotation)
    base, optional = _strip_optional(info.annotation)
    if enum_cls is not None:
        parts.append("One of: " + ", ".join(str(m.value) for m in enum_cls) + ".")
    elif _is_list(base):
        parts.append("Comma-separated ids.")
    elif base in (int, float):
        parts.append("Number." if base is float else "Whole number.")
    if optional:
        parts.append("Empty: no limit.")
    elif info.is_required():
        parts.append("Required.")
    return " ".join(parts)


# ---- export
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _write_header(ws: Worksheet, fields: dict[str, FieldInfo]) -> None:
    for col, (name, info) in enumerate(fields.items(), start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.comment = Comment(_comment(name, info), "Coordination Studio", width=320, height=140)
        ws.column_dimensions[get_column_letter(col)].width = max(12, min(40, len(name) + 4))
    ws.freeze_panes = "B2"


def _set(ws: Worksheet, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col, value=_to_cell(value))
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # text that looks like a formula stays text


def build_workbook(model: SgamModel) -> Workbook:
    """The workbook :func:`export_workbook` writes (for callers that add sheets of their own)."""
    wb = Workbook()
    ws0 = wb.active
    assert ws0 is not None
    ws0.title = SETTINGS_SHEET
    for col, name in enumerate(("field", "value", "description"), start=1):
        ws0.cell(row=1, column=col, value=name).font = _HEADER_FONT
    row = 2
    for name, info in SgamModel.model_fields.items():
        if name in ITEM_LISTS:
            continue
        ws0.cell(row=row, column=1, value=name)
        _set(ws0, row, 2, getattr(model, name))
        unit = unit_of(name)
        ws0.cell(row=row, column=3, value=(info.description or "") + (f" Unit: {unit}." if unit else ""))
        row += 1
    ws0.column_dimensions["A"].width = 28
    ws0.column_dimensions["B"].width = 40
    ws0.column_dimensions["C"].width = 80

    for kind, cls in ITEM_LISTS.items():
        ws = wb.create_sheet(kind)
        fields = dict(cls.model_fields)
        _write_header(ws, fields)
        items = getattr(model, kind)
        for r, item in enumerate(items, start=2):
            for c, name in enumerate(fields, start=1):
                _set(ws, r, c, getattr(item, name))
        last = max(len(items) + 1, 1000)
        for c, (name, info) in enumerate(fields.items(), start=1):
            enum_cls = _enum_of(info.annotation)
            if enum_cls is None:
                continue
            letter = get_column_letter(c)
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(str(m.value) for m in enum_cls) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=name,
                error="Choose one of: " + ", ".join(str(m.value) for m in enum_cls),
            )
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    return wb


def export_workbook(model: SgamModel, path: str | Path) -> Path:
    """Write ``model`` to an ``.xlsx`` workbook at ``path`` atomically; return the path."""
    path = Path(path)
    wb = build_workbook(model)
    return atomic_save(path, wb.save)


# ---- import
def _where(path: Path, sheet: str, row: int | None = None, col: int | None = None, field: str = "") -> str:
    out = f"{path.name}: sheet '{sheet}'"
    if row is not None:
        out += f", row {row}"
    if col is not None:
        out += f", column {get_column_letter(col)}"
        if field:
            out += f" ({field})"
    return out


def _uncomputed_formulas(path: Path, values: Workbook, formulas: Workbook) -> list[str]:
    """A problem for every formula cell that has no computed (cached) value in the file.

    openpyxl cannot compute formulas; it reads the value the spreadsheet program stored with each formula.
    A workbook saved by Excel or LibreOffice has those values and they are imported; one written by a
    script (or openpyxl) has none, and such a cell would silently read as empty, so it is refused with its
    sheet and cell.
    """
    problems: list[str] = []
    for ws in formulas.worksheets:
        if ws.title not in values.sheetnames:
            continue
        cached = values[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and cached[cell.coordinate].value is None:
                    problems.append(
                        f"{path.name}: sheet '{ws.title}', cell {cell.coordinate}: a formula "
                        f"({short(str(cell.value))}) with no computed value; open and save the workbook in "
                        "Excel or LibreOffice, or type the value"
                    )
    return problems


def import_workbook(path: str | Path) -> SgamModel:
    """Read a workbook written by :func:`export_workbook` (possibly edited) back into a validated model.

    Raises
    ------
    SgamImportError
        If the file cannot be read, a sheet or header is unknown or missing, a cell has a wrong value, or a
        reference does not resolve; the message names file, sheet, row and column of every problem.
    """
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=True)
        with_formulas = load_workbook(path, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise SgamImportError(f"{path}: cannot read the workbook: {short(exc)}") from exc

    problems: list[str] = _uncomputed_formulas(path, wb, with_formulas)
    data: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    if SETTINGS_SHEET in wb.sheetnames:
        ws0 = wb[SETTINGS_SHEET]
        for r, row_cells in enumerate(ws0.iter_rows(min_row=2, max_col=2, values_only=True), start=2):
            name, value = row_cells[0], row_cells[1]
            if name is None:
                continue
            name = str(name).strip()
            if name not in SgamModel.model_fields or name in ITEM_LISTS:
                problems.append(f"{_where(path, SETTINGS_SHEET, r, 1)}: unknown setting '{name}'")
                continue
            ok, converted = _from_cell(value, SgamModel.model_fields[name])
            if ok:
                data[name] = converted
            settings_rows[name] = r
    else:
        problems.append(f"{path.name}: sheet '{SETTINGS_SHEET}' is missing")

    # row of each (kind, id) for locating reference errors
    rows_of: dict[tuple[str, str], int] = {}
    columns_of: dict[str, dict[str, int]] = {}
    for kind, cls in ITEM_LISTS.items():
        if kind not in wb.sheetnames:
            problems.append(f"{path.name}: sheet '{kind}' is missing")
            continue
        ws = wb[kind]
        fields = cls.model_fields
        header = [c for c in next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())]
        col_of: dict[str, int] = {}
        for c, name in enumerate(header, start=1):
            if name is None or str(name).strip() == "":
                continue
            key = str(name).strip()
            if key not in fields:
                problems.append(f"{_where(path, kind, 1, c)}: unknown column '{key}'")
            elif key in col_of:
                problems.append(f"{_where(path, kind, 1, c)}: column '{key}' appears twice")
            else:
                col_of[key] = c
        columns_of[kind] = col_of
        items: list[Any] = []
        for r, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            raw: dict[str, Any] = {}
            for key, c in col_of.items():
                value = values[c - 1] if c - 1 < len(values) else None
                ok, converted = _from_cell(value, fields[key])
                if ok:
                    raw[key] = converted
            try:
                item = cls.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    key = str(err["loc"][0]) if err["loc"] else ""
                    c_idx = col_of.get(key)
                    if c_idx is None:
                        problems.append(f"{_where(path, kind, r)}: column '{key}' is missing: {err['msg']}")
                    else:
                        problems.append(f"{_where(path, kind, r, c_idx, key)}: {err['msg']}")
                continue
            rows_of.setdefault((kind, item.id), r)
            items.append(item)
        data[kind] = items

    if problems:
        raise SgamImportError("; ".join(problems))
    try:
        return SgamModel.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            if len(loc) >= 3 and str(loc[0]) in ITEM_LISTS:
                kind, item_id, key = str(loc[0]), str(loc[1]), str(loc[2])
                at_row = rows_of.get((kind, item_id))
                c_idx = columns_of.get(kind, {}).get(key)
                problems.append(f"{_where(path, kind, at_row, c_idx, key)} (id '{item_id}'): {err['msg']}")
            elif len(loc) >= 1 and str(loc[0]) in settings_rows:
                problems.append(
                    f"{_where(path, SETTINGS_SHEET, settings_rows[str(loc[0])], 2)}: {err['msg']}"
                )
            else:
                problems.append(f"{path.name}: {'.'.join(str(x) for x in loc)}: {err['msg']}")
        raise SgamImportError("; ".join(problems)) from None
