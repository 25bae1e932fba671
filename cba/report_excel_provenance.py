"""The "Provenance" section at the foot of the report's Assumptions sheet (:mod:`cba.provenance`).

Written last, below every other block of the sheet, so no cell another sheet's formula points at moves.
One row per key of :meth:`cba.provenance.Provenance.flat`: ``Key`` in column A, ``Value`` in column C
(the column of the inputs' values), as text.
"""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from coordstudio.cba.provenance import Provenance
from coordstudio.cba.report_excel_cells import header, section

__all__ = ["PROVENANCE_SECTION", "write_provenance"]

PROVENANCE_SECTION = "Provenance"
"""Title of the section (column A)."""


def write_provenance(ws: Worksheet, provenance: Provenance) -> int:
    """Append the section below the sheet's last row; returns the row of its title."""
    top = ws.max_row + 2
    section(ws, top, PROVENANCE_SECTION)
    ws.cell(row=top + 1, column=1, value="Which tool, study, solver and libraries made this report, when, "
                                          "and with which command (also in provenance.json).")
    header(ws, top + 2, ["Key", "", "Value"])
    for i, (key, value) in enumerate(provenance.flat().items(), start=top + 3):
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=3, value=value).data_type = "s"  # text, even where it looks like a number
    return top
