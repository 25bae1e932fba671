"""Cell formats, styles and helpers shared by the sheets of the Excel report (:mod:`cba.report_excel`).

Also :class:`Layout`, the record of where each input landed (the Assumptions cells, the KPI rows, the
ICT cost columns, each cash-flow sheet's result cells), so a sheet written later can point its formulas
at cells written earlier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from openpyxl.chart import BarChart, LineChart
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

__all__ = [
    "EUR", "EUR2", "FACTOR", "INPUT_FILL", "NUM", "PCT", "RATIO", "SECTION_FONT", "TITLE_FONT", "YEARS",
    "Layout", "axes_visible", "cash_flow_sheet_name", "column_range", "header", "keep_user_text_as_text",
    "ref", "section", "user_texts", "widths",
]

EUR = '#,##0;[Red]-#,##0'
EUR2 = '#,##0.00;[Red]-#,##0.00'
PCT = "0.00%"
RATIO = "0.000"
YEARS = "0.00"
NUM = "#,##0.###"
FACTOR = "0.000000"

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
ALERT_FILL = PatternFill("solid", fgColor="FF9999")
"""Red marker of a figure the result does not rest on: failed market clearings, a failed run, a scheme
not assessed (cba.assessment)."""
ALERT_FONT = Font(bold=True, color="9C0006")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)


def cash_flow_sheet_name(scheme: str) -> str:
    """Sheet name of a scheme's cash flows (Excel forbids some characters and > 31 characters)."""
    return ("CF " + re.sub(r"[\[\]:*?/\\']", "_", scheme))[:31]


def ref(sheet: str, cell: str) -> str:
    """Absolute reference to ``cell`` on ``sheet``, quoted when needed."""
    col, row = re.match(r"([A-Z]+)(\d+)", cell).groups()  # type: ignore[union-attr]
    name = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
    return f"{name}!${col}${row}"


def column_range(sheet: str, col: int, row0: int, row1: int) -> str:
    """Absolute reference to rows ``row0``..``row1`` of column ``col`` on ``sheet``."""
    letter = get_column_letter(col)
    name = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
    return f"{name}!${letter}${row0}:${letter}${row1}"


def user_texts(*inputs: object) -> frozenset[str]:
    """Every text of the user's inputs that a spreadsheet would take for a formula (starts with ``=``).

    Walks pydantic models, mappings (keys and values) and sequences. Only ``=`` matters for openpyxl,
    which makes any string starting with it a formula cell; ``+``, ``-`` and ``@`` stay string cells
    and LibreOffice and Excel open string cells as text.
    """
    found: set[str] = set()
    stack: list[object] = list(inputs)
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, str):
            if obj.startswith("="):
                found.add(obj)
            continue
        if not isinstance(obj, (BaseModel, Mapping, list, tuple, set, frozenset)) or id(obj) in seen:
            continue  # numbers, None, enums: nothing to quote
        seen.add(id(obj))
        if isinstance(obj, BaseModel):
            stack.extend(getattr(obj, name) for name in type(obj).model_fields)
        elif isinstance(obj, Mapping):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
    return frozenset(found)


def keep_user_text_as_text(workbook: Workbook, texts: frozenset[str]) -> int:
    """Turn every formula cell written from user text back into a string cell; return how many.

    Formula injection (issue 18, section 5): a study's source or description such as ``=HYPERLINK(...)``
    must not become a live formula in the report. The report's own formulas are never equal to a user's
    text (they reference the report's cells), so a formula cell is user text when its value is one of
    ``texts`` or starts with one of them followed by a space (a cell composed as ``"{role} -> ..."``).
    """
    if not texts:
        return 0
    changed = 0
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f" or not isinstance(cell.value, str):
                    continue
                value = cell.value
                if value in texts or any(value.startswith(t + " ") for t in texts):
                    cell.data_type = "s"
                    changed += 1
    return changed


def header(ws: Worksheet, row: int, titles: Sequence[object], col0: int = 1) -> None:
    """A row of table headers (white on blue, wrapped), from column ``col0``."""
    for j, title in enumerate(titles):
        cell = ws.cell(row=row, column=col0 + j, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[row].height = 42  # room for three wrapped lines of a header with its unit


def section(ws: Worksheet, row: int, text: str) -> None:
    """A section title in column A."""
    ws.cell(row=row, column=1, value=text).font = SECTION_FONT


def axes_visible(chart: BarChart | LineChart) -> None:
    """Show both axes (openpyxl >= 3.1 hides them by default) with category labels at the low end."""
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"


def widths(ws: Worksheet, column_widths: Mapping[int, float]) -> None:
    """Set column widths (characters) by column number."""
    for col, width in column_widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


@dataclass
class Layout:
    """Where the inputs live, so formulas elsewhere can point at them."""

    assumption: dict[str, str] = field(default_factory=dict)  # field -> absolute ref
    weights_range: str = ""
    kpi_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # scheme -> first, last row
    kpi_col: dict[str, int] = field(default_factory=dict)  # KPI field -> column
    kpi_scale_col: int = 0
    ict_first_row: int = 0
    ict_last_row: int = 0
    ict_year_col0: int = 0  # column of year 0
    ict_cols: dict[str, int] = field(default_factory=dict)
    ict_sheet: str = "ICT costs"  # title of the ICT cost sheet
    result_cells: dict[str, dict[str, str]] = field(default_factory=dict)  # scheme -> key -> ref
