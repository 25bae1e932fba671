"""The cash-flow sheet of each scheme in the Excel report: live formulas over the input sheets.

Yearly benefits per category are formulas over the KPIs, the day weights and the prices; the yearly
table books ICT investment (with replacements), OPEX and the residual value; NPV, PV of benefits and
costs, BCR, IRR and discounted payback are formulas over that table and the Assumptions sheet, so a
changed discount rate or price moves them. The arithmetic is that of :mod:`cba.finance`.
"""

from __future__ import annotations

from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from coordstudio.cba.benefits import CATEGORY_KPIS, CATEGORY_QUANTITY_UNITS
from coordstudio.cba.parameters import BENEFIT_CATEGORIES, BENEFIT_LABELS, CbaParameters
from coordstudio.cba.report_excel_cells import (
    EUR,
    EUR2,
    FACTOR,
    PCT,
    RATIO,
    TITLE_FONT,
    YEARS,
    Layout,
    axes_visible,
    column_range,
    header,
    ref,
    section,
    widths,
)

__all__ = ["IRR_GUESSES", "LABELS", "write_cash_flows"]

#: Labels of the result cells of each cash-flow sheet (column A), value in column B.
LABELS = {
    "npv": "NPV (EUR)",
    "pv_benefits": "PV of benefits (EUR)",
    "pv_costs": "PV of costs (EUR)",
    "bcr": "Benefit-cost ratio (-)",
    "irr": "IRR (fraction/a)",
    "payback": "Discounted payback (years)",
}


#: Starting guesses of the spreadsheet's IRR search besides the tool's own root (fractions per year).
IRR_GUESSES: tuple[float, ...] = (-0.9, -0.6, -0.3, -0.1, 0.0, 0.1, 0.3, 0.6, 1.0, 2.0)
_IRR_COL, _IRR_COL_ABS = "P", "Q"

#: First row of the results block (rows 4-9, filled once the yearly table's rows are known) and the header
#: row of the benefits table.
_RESULTS_ROW = 4
_BENEFITS_ROW = 12

_YEARLY_TITLES = [
    "Year t", "Discount factor (1+r)^-t", "Escalation factor", "Benefits (EUR)",
    "ICT CAPEX incl. replacements (EUR)", "ICT OPEX (EUR)", "Residual value (EUR)", "Costs (EUR)",
    "Net cash flow (EUR)", "Discounted net (EUR)", "Cumulative discounted (EUR)", "Payback crossing (years)",
]


def write_cash_flows(
    ws: Worksheet, params: CbaParameters, scheme: str, layout: Layout, kpi_sheet: str, ict_sheet: str,
    irr_guess: float,
) -> None:
    """The cash-flow sheet of ``scheme``; records its result cells in ``layout.result_cells``.

    ``irr_guess`` (the Python IRR) starts the spreadsheet's IRR iteration, so it finds the same root.
    """
    ws["A1"] = (f'="Cash flows of {scheme} relative to "&{layout.assumption["reference_scheme"]}'
                '&" (live formulas over the Assumptions sheet)"')
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Benefits are the reference scheme's yearly KPI minus this scheme's, times the price; ICT "
                "costs are the scheme's (minus the reference's when the ICT cost basis is incremental).")
    total_row = _write_benefits(ws, params, scheme, layout, kpi_sheet)
    trow = total_row + 3
    first, last = _write_yearly_table(ws, params, scheme, layout, ict_sheet, f"$E${total_row}", trow)
    layout.result_cells[scheme] = _write_results(ws, layout.assumption["discount_rate"], first, last,
                                                 irr_guess)
    _add_chart(ws, scheme, trow, first, last)
    widths(ws, {1: 30, 2: 20, 3: 12, 4: 18, 5: 18, 6: 16, 7: 16, 8: 16, 9: 18, 10: 18, 11: 20, 12: 14})


def _write_benefits(
    ws: Worksheet, params: CbaParameters, scheme: str, layout: Layout, kpi_sheet: str
) -> int:
    """Yearly benefit per category: (reference's yearly KPI - scheme's) x price. Returns the Total row.

    A yearly KPI is ``SUMPRODUCT(day weights, KPI per day, 24 h scale per day)`` over the KPI sheet. The
    reference's rows are found from the reference-scheme cell of the Assumptions sheet (``MATCH`` of its
    id in the KPI sheet's scheme column; each scheme has one row per day, in the order of the weights),
    so changing that cell re-bases every benefit on the new reference. The reduction is multiplied by the
    stated system's scale factor (cba.system_scale), as the CBA's quantities are.
    """
    a = layout.assumption
    section(ws, _BENEFITS_ROW - 1, "Yearly benefits at base-year prices")
    header(ws, _BENEFITS_ROW, ["Benefit category", "Yearly KPI reduction", "Unit", "Price (EUR per unit)",
                               "Benefit (EUR/a)"])
    price_formula = {
        "activation": "1",
        "afrr": "1",
        "congestion": f"={a['unresolved_congestion_price_eur_per_mwh']}",
        "voltage": f"={a['voltage_violation_price_eur_per_bus_hour']}",
        "curtailment": f"={a['curtailed_res_price_eur_per_mwh']}",
        "losses": f"={a['losses_price_eur_per_mwh']}",
        "co2": f"={a['emission_factor_t_per_mwh']}*{a['co2_price_eur_per_t']}",
        "unserved_need": f"={a['unserved_need_price_eur_per_mwh']}",
        "energy_not_served": f"={a['energy_not_served_price_eur_per_mwh']}",
    }
    own_rows = layout.kpi_rows[scheme]
    all_rows = (min(r[0] for r in layout.kpi_rows.values()), max(r[1] for r in layout.kpi_rows.values()))
    days = own_rows[1] - own_rows[0] + 1
    match = f"MATCH({a['reference_scheme']},{column_range(kpi_sheet, 1, *all_rows)},0)"

    def reference_rows(col: int) -> str:
        whole = column_range(kpi_sheet, col, *all_rows)
        return f"INDEX({whole},{match}):INDEX({whole},{match}+{days - 1})"

    def yearly(rows: tuple[int, int] | None, category: str) -> str:
        def rng(col: int) -> str:
            return reference_rows(col) if rows is None else column_range(kpi_sheet, col, *rows)

        parts = [
            f"SUMPRODUCT({layout.weights_range},{rng(layout.kpi_col[f])},{rng(layout.kpi_scale_col)})"
            for f in CATEGORY_KPIS[category]
        ]
        return "(" + "+".join(parts) + ")"

    row = _BENEFITS_ROW + 1
    first_benefit = row
    for category in BENEFIT_CATEGORIES:
        ws.cell(row=row, column=1, value=BENEFIT_LABELS[category])
        ws.cell(row=row, column=2,
                value=f"=({yearly(None, category)}-{yearly(own_rows, category)})*{a['system_scale_factor']}"
                ).number_format = EUR2
        ws.cell(row=row, column=3, value=CATEGORY_QUANTITY_UNITS[category])
        price = price_formula[category]
        value: str | float = float(price) if not price.startswith("=") else price
        ws.cell(row=row, column=4, value=value).number_format = EUR2
        ws.cell(row=row, column=5, value=f"=B{row}*D{row}").number_format = EUR
        row += 1
    last_benefit = row - 1
    ws.cell(row=row, column=1, value="Total").font = Font(bold=True)
    ws.cell(row=row, column=5, value=f"=SUM(E{first_benefit}:E{last_benefit})").number_format = EUR
    return row


def _write_yearly_table(
    ws: Worksheet, params: CbaParameters, scheme: str, layout: Layout, ict_sheet: str, total_benefit: str,
    trow: int,
) -> tuple[int, int]:
    """The yearly cash flows, header at ``trow``; returns the rows of year 0 and of the horizon.

    ICT columns sum the scheme's lines of the ICT sheet (minus the reference's when the cost basis is
    incremental); benefits and OPEX start in year 1, the residual value is credited in year T.
    """
    a = layout.assumption
    section(ws, trow - 1, "Yearly cash flows (EUR; costs positive)")
    header(ws, trow, _YEARLY_TITLES)
    r = a["discount_rate"]
    T = a["horizon_years"]
    basis = a["price_basis"]
    esc = a["escalation_rate"]
    incremental = f'{a["ict_cost_basis"]}="incremental"'
    ref_cell = a["reference_scheme"]
    ict_schemes = column_range(ict_sheet, 1, layout.ict_first_row, layout.ict_last_row)

    def ict_sum(col: int) -> str:
        values = column_range(ict_sheet, col, layout.ict_first_row, layout.ict_last_row)
        return (f'(SUMIF({ict_schemes},"{scheme}",{values})'
                f"-IF({incremental},SUMIF({ict_schemes},{ref_cell},{values}),0))")

    first = trow + 1
    horizon = params.horizon_years
    for t in range(horizon + 1):
        i = first + t
        ws.cell(row=i, column=1, value=t)
        ws.cell(row=i, column=2, value=f"=1/(1+{r})^A{i}").number_format = FACTOR
        ws.cell(row=i, column=3, value=f'=IF({basis}="nominal",(1+{esc})^A{i},1)').number_format = FACTOR
        ws.cell(row=i, column=4,
                value=f"=IF(A{i}=0,0,{a['benefit_factor']}*{total_benefit}*C{i})").number_format = EUR
        ws.cell(row=i, column=5, value=f"={a['ict_capex_factor']}*"
                f"{ict_sum(layout.ict_year_col0 + t)}*C{i}").number_format = EUR
        ws.cell(row=i, column=6, value=f"=IF(A{i}=0,0,{a['ict_opex_factor']}*"
                f"{ict_sum(layout.ict_cols['opex'])}*C{i})").number_format = EUR
        ws.cell(row=i, column=7, value=f"=IF(A{i}={T},{a['ict_capex_factor']}*"
                f"{ict_sum(layout.ict_cols['residual'])}*C{i},0)").number_format = EUR
        ws.cell(row=i, column=8, value=f"=E{i}+F{i}-G{i}").number_format = EUR
        ws.cell(row=i, column=9, value=f"=D{i}-H{i}").number_format = EUR
        ws.cell(row=i, column=10, value=f"=I{i}*B{i}").number_format = EUR
        ws.cell(row=i, column=11, value=f"=SUM(J${first}:J{i})").number_format = EUR
        if t == 0:
            crossing = f'=IF(K{i}>=0,0,"")'
        else:
            crossing = f'=IF(AND(K{i - 1}<0,K{i}>=0),(A{i}-1)+(-K{i - 1})/(K{i}-K{i - 1}),"")'
        ws.cell(row=i, column=12, value=crossing).number_format = YEARS
    return first, first + horizon


def _write_results(
    ws: Worksheet, discount_rate: str, first: int, last: int, irr_guess: float
) -> dict[str, str]:
    """NPV, PV of benefits and costs, BCR, IRR and payback as formulas over the yearly table (rows
    ``first``..``last``); returns the absolute reference of each result cell by key of :data:`LABELS`."""
    r = discount_rate
    top = _RESULTS_ROW
    results = {
        "npv": f"=I{first}+NPV({r},I{first + 1}:I{last})",
        "pv_benefits": f"=D{first}+NPV({r},D{first + 1}:D{last})",
        "pv_costs": f"=H{first}+NPV({r},H{first + 1}:H{last})",
        "bcr": f'=IF(B{top + 2}>0,B{top + 1}/B{top + 2},"n/a")',
        # the root closest to 0 among those IRR() finds from several starting guesses (_write_irr_search),
        # the rule of cba.finance.irr, so an edited workbook still finds the tool's root, negative or not
        "irr": f'=IF(MIN({_IRR_COL_ABS}{top}:{_IRR_COL_ABS}{top + len(IRR_GUESSES)})>=1E+99,"none",'
               f"INDEX({_IRR_COL}{top}:{_IRR_COL}{top + len(IRR_GUESSES)},"
               f"MATCH(MIN({_IRR_COL_ABS}{top}:{_IRR_COL_ABS}{top + len(IRR_GUESSES)}),"
               f"{_IRR_COL_ABS}{top}:{_IRR_COL_ABS}{top + len(IRR_GUESSES)},0)))",
        "payback": f'=IF(COUNT(L{first}:L{last})=0,"never",MIN(L{first}:L{last}))',
    }
    formats = {"npv": EUR, "pv_benefits": EUR, "pv_costs": EUR, "bcr": RATIO, "irr": PCT, "payback": YEARS}
    section(ws, top - 1, "Results (formulas)")
    _write_irr_search(ws, top, first, last, irr_guess)
    cells: dict[str, str] = {}
    for j, (key, formula) in enumerate(results.items()):
        ws.cell(row=top + j, column=1, value=LABELS[key]).font = Font(bold=True)
        cell = ws.cell(row=top + j, column=2, value=formula)
        cell.number_format = formats[key]
        cell.font = Font(bold=True)
        cells[key] = ref(ws.title, f"B{top + j}")
    return cells


def _write_irr_search(ws: Worksheet, top: int, first: int, last: int, irr_guess: float) -> None:
    """IRR() from the tool's root and from each of :data:`IRR_GUESSES`, with the absolute value of each
    root found (1E+99 where IRR() fails), in columns P and Q from row ``top``; the IRR cell takes the
    root closest to 0. One guess alone (the tool's root at writing) can miss once the user edits an
    input and the flows change; a negative IRR in particular needs a guess on its side of 0."""
    ws.cell(row=top - 1, column=16, value="IRR search: root from each guess").font = Font(bold=True)
    ws.cell(row=top - 1, column=17, value="|root|").font = Font(bold=True)
    for j, guess in enumerate((irr_guess, *IRR_GUESSES)):
        row = top + j
        ws.cell(row=row, column=15, value=guess).number_format = PCT
        ws.cell(row=row, column=16, value=f'=IFERROR(IRR(I{first}:I{last},O{row}),"")').number_format = PCT
        ws.cell(row=row, column=17, value=f'=IF(ISNUMBER(P{row}),ABS(P{row}),1E+99)')


def _add_chart(ws: Worksheet, scheme: str, trow: int, first: int, last: int) -> None:
    """Native line chart of the net and the cumulative discounted cash flow per year."""
    chart = LineChart()
    chart.title = f"{scheme}: net and cumulative discounted cash flow"
    chart.y_axis.title = "EUR"
    chart.x_axis.title = "Year"
    chart.height, chart.width = 8, 18
    data = Reference(ws, min_col=9, max_col=9, min_row=trow, max_row=last)
    chart.add_data(data, titles_from_data=True)
    data = Reference(ws, min_col=11, max_col=11, min_row=trow, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    axes_visible(chart)
    ws.add_chart(chart, "G3")
