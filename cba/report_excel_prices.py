"""The "Price components" sheet of the Excel report: what each scheme's nodal prices are made of.

Day means over every clearing's firm step (:mod:`cba.price_components`): first one row per scheme (the
mean over its nodes) with a stacked bar chart, then one row per scheme and node. With several
representative days the means are weighted as the CBA weights the days (the sheet's third line names
the days and their weights), and a last section gives each scheme's mean on each day. The components sum to
the price: energy (the reference bus's price), transmission congestion (branch-limit duals through the
PTDF), and the distribution feeders' losses, current (ampacity) and voltage components (from the
DistFlow constraints' duals); ``docs/market.md`` gives the maths.
"""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from coordstudio.cba.price_components import COMPONENTS, PriceComponentRow, PriceComponentTable
from coordstudio.cba.report_excel_cells import EUR2, TITLE_FONT, axes_visible, header, section, widths

SHEET = "Price components"
"""The sheet's name."""


def write_price_components(ws: Worksheet, table: PriceComponentTable) -> None:
    """Fill ``ws`` with the scheme means, their chart and the per-node means of ``table``."""
    title = "day mean" if not table.day_weights_days_per_year else "weighted mean of the representative days"
    ws["A1"] = f"Nodal price components ({title} over the firm steps, EUR/MWh)"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = (
        "price = energy + congestion + losses + current + voltage. Energy: price at the reference bus "
        "(a feeder cleared on its own: its root). Congestion: transmission branch limits (PTDF x duals). "
        "Losses, current, voltage: the distribution feeders' losses, ampacity and voltage limits "
        f"(DistFlow duals). Read from {table.source}."
    )
    ws["A3"] = f"Days: {table.days_note()}."
    titles = ["Scheme", "Node", "Price", *(c.capitalize() for c in COMPONENTS), "Prices averaged (count)"]
    schemes = [r for r in table.rows if not r.node]
    row = 5
    section(ws, row - 1, "Per scheme (mean over its nodes)")
    header(ws, row, titles)
    first = row + 1
    for r in schemes:
        row += 1
        _write_row(ws, row, r)
    last = row
    if schemes:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = "Price components per scheme (" + (
            "day mean)" if not table.day_weights_days_per_year else "weighted mean of the days)")
        chart.y_axis.title = "EUR/MWh"
        data = Reference(ws, min_col=4, max_col=3 + len(COMPONENTS), min_row=first - 1, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        axes_visible(chart)
        chart.height, chart.width = 8, 16
        ws.add_chart(chart, f"K{first - 1}")
    row = max(last, first + 16) + 3
    section(ws, row - 1, "Per scheme and node")
    header(ws, row, titles)
    for r in table.rows:
        if r.node:
            row += 1
            _write_row(ws, row, r)
    per_day = [r for r in table.rows if r.day]
    if per_day:
        row += 3
        section(ws, row - 1, "Per scheme and representative day (each day's mean, unweighted; "
                             "the rows above weight them by the days a year each stands for)")
        header(ws, row, ["Scheme", "Day", *titles[2:]])
        for r in per_day:
            row += 1
            _write_row(ws, row, r)
    widths(ws, {1: 10, 2: 16, **{c: 12 for c in range(3, 9)}, 9: 14})
    ws.freeze_panes = "A6"


def _write_row(ws: Worksheet, row: int, r: PriceComponentRow) -> None:
    values: list[object] = [
        r.scheme,
        r.day or r.node or "(all nodes)",
        r.price_eur_per_mwh,
        *(getattr(r, f"{c}_eur_per_mwh") for c in COMPONENTS),
        r.n_values,
    ]
    for j, v in enumerate(values, start=1):
        cell = ws.cell(row=row, column=j, value=v)
        if 3 <= j <= 3 + len(COMPONENTS):
            cell.number_format = EUR2


__all__ = ["SHEET", "write_price_components"]
