"""The Excel report of a cost-benefit analysis (openpyxl), with live formulas and native charts.

Sheets
------
Summary
    Ranking and key figures; NPV, BCR, IRR, payback and rank are formulas over the cash-flow sheets.
Assumptions
    Every input as a cell (value, unit, description, source): rates, horizon, prices, multipliers, day
    weights, distributions, tornado ranges, allocation keys.
Simulation KPIs
    The KPIs per scheme and representative day, with the 24 h scaling of each day.
ICT costs
    One row per ICT cost line, with its residual value and the investment booked in each year
    (replacements) as formulas of the lifetime and the horizon.
CF <scheme>
    One sheet per scheme: yearly benefits per category (formulas over the KPIs, the day weights and the
    prices), the yearly cash flows, and NPV, PV of benefits and costs, BCR, IRR and discounted payback
    as formulas over the Assumptions sheet: change the discount rate (or a price) and they move.
Sensitivity
    Tornado of the first-ranked scheme (native bar chart), the tornado of every scheme, switching values.
Monte Carlo
    NPV distribution per scheme, P(NPV < 0), and the NPV histogram (native column chart).
Actors
    Present value of costs and benefits per actor group and scheme.

Sensitivity, Monte Carlo and Actors are computed by Python at the inputs written to the Assumptions
sheet (the workbook says so); the cash-flow sheets and the Summary are live formulas. The formulas use
the same arithmetic as :mod:`cba.finance` (see its docstring for the replacement and residual-value
rules), so a spreadsheet recalculation reproduces the Python figures to rounding.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cba.analysis import CbaResult
from cba.benefits import CATEGORY_KPIS, CATEGORY_QUANTITY_UNITS, order_schemes
from cba.fileio import atomic_write_bytes
from cba.parameters import (
    ACTOR_GROUPS,
    ACTOR_LABELS,
    BENEFIT_CATEGORIES,
    BENEFIT_LABELS,
    SCALAR_PARAMETERS,
    CbaParameters,
)
from sgam.costs import SchemeIctCost
from simulation.kpis import SchemeKpis

if TYPE_CHECKING:
    from cba.ictcheck_data import IctCheckResult

__all__ = ["LABELS", "cash_flow_sheet_name", "write_report"]

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
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)

#: Labels of the result cells of each cash-flow sheet (column A), value in column B.
LABELS = {
    "npv": "NPV (EUR)",
    "pv_benefits": "PV of benefits (EUR)",
    "pv_costs": "PV of costs (EUR)",
    "bcr": "Benefit-cost ratio (-)",
    "irr": "IRR (fraction/a)",
    "payback": "Discounted payback (years)",
}

#: KPI columns of the Simulation KPIs sheet: field -> header.
KPI_COLUMNS: dict[str, str] = {
    "activation_cost_eur": "Activation cost (EUR)",
    "afrr_energy_mwh": "aFRR energy (MWh)",
    "afrr_cost_eur": "aFRR cost (EUR)",
    "congestion_hours_h": "Congestion (line h)",
    "overload_energy_mwh": "Overload energy (MWh)",
    "voltage_violation_hours_h": "Voltage violations (bus h)",
    "curtailed_res_mwh": "Curtailed RES (MWh)",
    "losses_mwh": "Losses (MWh)",
    "slack_energy_mwh": "Market slack energy (MWh)",
    "slack_cost_eur": "Market slack cost (EUR)",
    "lines_tripped": "Lines tripped (count)",
}

# Scalar inputs on the Assumptions sheet, in display order, with their number format.
_ASSUMPTION_ROWS: list[tuple[str, str, str]] = [
    ("discount_rate", "fraction/a", PCT),
    ("horizon_years", "years", "0"),
    ("reference_scheme", "-", "@"),
    ("price_basis", "-", "@"),
    ("escalation_rate", "fraction/a", PCT),
    ("ict_cost_basis", "-", "@"),
    ("unresolved_congestion_price_eur_per_mwh", "EUR/MWh", EUR2),
    ("voltage_violation_price_eur_per_bus_hour", "EUR/(bus h)", EUR2),
    ("curtailed_res_price_eur_per_mwh", "EUR/MWh", EUR2),
    ("losses_price_eur_per_mwh", "EUR/MWh", EUR2),
    ("co2_price_eur_per_t", "EUR/t", EUR2),
    ("emission_factor_t_per_mwh", "t/MWh", "0.000"),
    ("benefit_factor", "-", "0.000"),
    ("ict_capex_factor", "-", "0.000"),
    ("ict_opex_factor", "-", "0.000"),
    ("monte_carlo_samples", "count", "#,##0"),
    ("monte_carlo_seed", "-", "0"),
    ("histogram_bins", "count", "0"),
]


def cash_flow_sheet_name(scheme: str) -> str:
    """Sheet name of a scheme's cash flows (Excel forbids some characters and > 31 characters)."""
    return ("CF " + re.sub(r"[\[\]:*?/\\']", "_", scheme))[:31]


def _ref(sheet: str, cell: str) -> str:
    """Absolute reference to ``cell`` on ``sheet``, quoted when needed."""
    col, row = re.match(r"([A-Z]+)(\d+)", cell).groups()  # type: ignore[union-attr]
    name = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
    return f"{name}!${col}${row}"


def _range(sheet: str, col: int, row0: int, row1: int) -> str:
    letter = get_column_letter(col)
    name = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
    return f"{name}!${letter}${row0}:${letter}${row1}"


def _header(ws: Worksheet, row: int, titles: Sequence[object], col0: int = 1) -> None:
    for j, title in enumerate(titles):
        cell = ws.cell(row=row, column=col0 + j, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[row].height = 42  # room for three wrapped lines of a header with its unit


def _section(ws: Worksheet, row: int, text: str) -> None:
    ws.cell(row=row, column=1, value=text).font = SECTION_FONT


def _axes_visible(chart: BarChart | LineChart) -> None:
    """Show both axes (openpyxl >= 3.1 hides them by default) with category labels at the low end."""
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"


def _widths(ws: Worksheet, widths: Mapping[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


@dataclass
class _Layout:
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
    result_cells: dict[str, dict[str, str]] = field(default_factory=dict)  # scheme -> key -> ref


# ------------------------------------------------------------------------------------- Assumptions


def _write_assumptions(ws: Worksheet, params: CbaParameters, layout: _Layout) -> None:
    ws["A1"] = "Assumptions: every input of the cost-benefit analysis"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Yellow cells are inputs: change them and the cash-flow sheets and the Summary recalculate. "
                "The horizon fixes the number of year rows; change it in the study and re-run instead.")
    _header(ws, 4, ["Parameter", "Description", "Value", "Unit", "Source"])
    row = 5
    fields = CbaParameters.model_fields
    for name, unit, fmt in _ASSUMPTION_ROWS:
        ws.cell(row=row, column=1, value=name)
        ws.cell(row=row, column=2, value=fields[name].description)
        cell = ws.cell(row=row, column=3, value=getattr(params, name))
        cell.number_format = fmt
        cell.fill = INPUT_FILL
        ws.cell(row=row, column=4, value=SCALAR_PARAMETERS.get(name, unit))
        ws.cell(row=row, column=5, value=params.source_of(name))
        layout.assumption[name] = _ref(ws.title, f"C{row}")
        if name in ("price_basis", "ict_cost_basis"):
            options = '"real,nominal"' if name == "price_basis" else '"incremental,full"'
            dv = DataValidation(type="list", formula1=options, allow_blank=False)
            ws.add_data_validation(dv)
            dv.add(cell)
        row += 1

    row += 1
    _section(ws, row, "Representative day weights")
    ws.cell(row=row, column=5, value=params.source_of("day_weights_days_per_year"))
    row += 1
    _header(ws, row, ["Day id", "Description", "Weight (days/a)"])
    row += 1
    first = row
    for day, weight in params.day_weights_days_per_year.items():
        ws.cell(row=row, column=1, value=day)
        ws.cell(row=row, column=2, value="days per year this simulated day stands for")
        cell = ws.cell(row=row, column=3, value=weight)
        cell.fill = INPUT_FILL
        cell.number_format = NUM
        row += 1
    last = row - 1
    layout.weights_range = _range(ws.title, 3, first, last)
    ws.cell(row=row, column=1, value="Total (must be 365 or 366)")
    ws.cell(row=row, column=3, value=f"=SUM(C{first}:C{last})").number_format = NUM

    row += 2
    _section(ws, row, "Monte Carlo: uncertain inputs")
    ws.cell(row=row, column=5, value=params.source_of("uncertain_inputs"))
    row += 1
    _header(ws, row, ["Parameter", "Distribution", "Min", "Mode", "Max", "Mean", "Std", "Unit"])
    row += 1
    for dist in params.uncertain_inputs:
        values: list[str | float | None] = [
            dist.parameter, dist.distribution, dist.min, dist.mode, dist.max, dist.mean, dist.std,
            SCALAR_PARAMETERS[dist.parameter],
        ]
        for j, v in enumerate(values):
            ws.cell(row=row, column=1 + j, value=v)
        row += 1

    row += 1
    _section(ws, row, "Tornado ranges")
    ws.cell(row=row, column=5, value=params.source_of("tornado_ranges"))
    row += 1
    _header(ws, row, ["Parameter", "Low", "High", "Unit"])
    row += 1
    for rng in params.tornado_ranges:
        for j, item in enumerate([rng.parameter, rng.low, rng.high, SCALAR_PARAMETERS[rng.parameter]]):
            ws.cell(row=row, column=1 + j, value=item)
        row += 1

    row += 1
    _section(ws, row, "Benefit allocation keys (share of each benefit per actor group)")
    ws.cell(row=row, column=8, value=params.source_of("benefit_allocation"))
    row += 1
    _header(ws, row, ["Benefit category"] + [f"{ACTOR_LABELS[a]} (fraction)" for a in ACTOR_GROUPS])
    row += 1
    for category in BENEFIT_CATEGORIES:
        ws.cell(row=row, column=1, value=BENEFIT_LABELS[category])
        for j, actor in enumerate(ACTOR_GROUPS):
            share = params.benefit_allocation[category].get(actor, 0.0)
            ws.cell(row=row, column=2 + j, value=share).number_format = PCT
        row += 1

    row += 1
    _section(ws, row, "Who bears the ICT cost of each actor role")
    ws.cell(row=row, column=5, value=params.source_of("cost_role_to_actor"))
    row += 1
    _header(ws, row, ["Actor role (ICT cost line)", "Actor group"])
    row += 1
    for role, actor in params.cost_role_to_actor.items():
        ws.cell(row=row, column=1, value=role or "(none given)")
        ws.cell(row=row, column=2, value=ACTOR_LABELS[actor])
        row += 1
    _widths(ws, {1: 42, 2: 70, 3: 16, 4: 14, 5: 90, 6: 12, 7: 12, 8: 12})
    ws.freeze_panes = "A5"


# ------------------------------------------------------------------------------------- KPIs, ICT


def _write_kpis(
    ws: Worksheet, params: CbaParameters, kpis: Sequence[SchemeKpis], schemes: Sequence[str], layout: _Layout
) -> None:
    ws["A1"] = "Simulation KPIs per scheme and representative day"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "Values as simulated; each day is scaled to 24 h by the day scale before annualising."
    titles = ["Scheme", "Day", "Duration (h)", "Day scale (24 h / duration)"]
    titles += list(KPI_COLUMNS.values())
    titles += ["Bids submitted, all DSO areas (count)", "Bids activated, all DSO areas (count)"]
    _header(ws, 4, titles)
    by_key = {(k.scheme, k.day): k for k in kpis}
    row = 5
    layout.kpi_scale_col = 4
    for j, name in enumerate(KPI_COLUMNS):
        layout.kpi_col[name] = 5 + j
    for scheme in schemes:
        first = row
        for day in params.day_ids():
            k = by_key[(scheme, day)]
            ws.cell(row=row, column=1, value=scheme)
            ws.cell(row=row, column=2, value=day)
            ws.cell(row=row, column=3, value=k.duration_h).number_format = NUM
            ws.cell(row=row, column=4, value=f"=24/C{row}").number_format = NUM
            for name, col in layout.kpi_col.items():
                ws.cell(row=row, column=col, value=getattr(k, name)).number_format = NUM
            col = 5 + len(KPI_COLUMNS)
            ws.cell(row=row, column=col, value=sum(k.bids_submitted_by_area.values()))
            ws.cell(row=row, column=col + 1, value=sum(k.bids_activated_by_area.values()))
            row += 1
        layout.kpi_rows[scheme] = (first, row - 1)
    _widths(ws, {i: 16 for i in range(1, len(titles) + 1)})
    ws.freeze_panes = "C5"


def _write_ict(
    ws: Worksheet, params: CbaParameters, ict: Mapping[str, SchemeIctCost], schemes: Sequence[str],
    layout: _Layout,
) -> None:
    ws["A1"] = "ICT costs per scheme (from the SGAM model), with replacements and residual value"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("An asset is bought in year 0 and again every lifetime while inside the horizon; the last "
                "one's unused share (linear) is its residual value at the horizon.")
    titles = ["Scheme", "Link / event", "Technology", "Paying actor", "Actor role", "Actor group",
              "Endpoints (count)", "CAPEX (EUR)", "OPEX (EUR/a)", "Lifetime (years)",
              "Residual share at horizon (fraction)", "Residual value (EUR)"]
    cols = {"scheme": 1, "capex": 8, "opex": 9, "life": 10, "res_share": 11, "residual": 12}
    year0 = len(titles) + 1
    horizon = params.horizon_years
    _header(ws, 4, titles)
    ws.cell(row=3, column=year0, value="Investment booked in year t (EUR)").font = SECTION_FONT
    _header(ws, 4, list(range(horizon + 1)), col0=year0)  # numbers: the formulas read t from here
    T = layout.assumption["horizon_years"]
    row = 5
    for scheme in schemes:
        for line in ict[scheme].lines:
            values = [scheme, line.link_id, line.technology_id, line.actor_id, line.actor_role,
                      ACTOR_LABELS.get(params.cost_role_to_actor.get(line.actor_role, ""), "?"),
                      line.endpoints, line.capex_eur, line.opex_eur_per_year, line.lifetime_years]
            for j, v in enumerate(values):
                cell = ws.cell(row=row, column=1 + j, value=v)
                if j >= 7:
                    cell.number_format = EUR if j < 9 else NUM
                    cell.fill = INPUT_FILL
            life = f"$J{row}"
            ws.cell(row=row, column=cols["res_share"],
                    value=f"=MAX(0,({life}*(-INT(-({T}/{life}-1E-9)))-{T})/{life})").number_format = FACTOR
            ws.cell(row=row, column=cols["residual"], value=f"=$H{row}*$K{row}").number_format = EUR
            for t in range(horizon + 1):
                col = year0 + t
                tcell = f"{get_column_letter(col)}$4"
                count = (f"IF({tcell}<{T},-INT(-(MIN({tcell}+1,{T})/{life}-1E-9))"
                         f"+INT(-({tcell}/{life}-1E-9)),0)")
                ws.cell(row=row, column=col, value=f"=$H{row}*{count}").number_format = EUR
            row += 1
    layout.ict_first_row = 5
    layout.ict_last_row = max(row - 1, 5)
    layout.ict_year_col0 = year0
    layout.ict_cols = cols
    if row == 5:
        ws.cell(row=5, column=1, value="(no ICT cost lines)")
    _widths(ws, {1: 9, 2: 22, 3: 14, 4: 16, 5: 16, 6: 14, 7: 11, 8: 14, 9: 14, 10: 11, 11: 14, 12: 14})
    for t in range(horizon + 1):
        ws.column_dimensions[get_column_letter(year0 + t)].width = 12
    ws.freeze_panes = "C5"


# ------------------------------------------------------------------------------------- cash flows


def _write_cash_flows(
    ws: Worksheet, params: CbaParameters, scheme: str, layout: _Layout, kpi_sheet: str, ict_sheet: str,
    irr_guess: float,
) -> None:
    a = layout.assumption
    ref_scheme = params.reference_scheme
    ws["A1"] = f"Cash flows of {scheme} relative to {ref_scheme} (live formulas over the Assumptions sheet)"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Benefits are the reference scheme's yearly KPI minus this scheme's, times the price; ICT "
                "costs are the scheme's (minus the reference's when the ICT cost basis is incremental).")

    # Results block (rows 4-9), filled once the table rows are known.
    results_row = 4
    # Benefits block.
    brow = 12
    _section(ws, brow - 1, "Yearly benefits at base-year prices")
    _header(ws, brow, ["Benefit category", "Yearly KPI reduction", "Unit", "Price (EUR per unit)",
                       "Benefit (EUR/a)"])
    price_formula = {
        "activation": "1",
        "afrr": "1",
        "congestion": f"={a['unresolved_congestion_price_eur_per_mwh']}",
        "voltage": f"={a['voltage_violation_price_eur_per_bus_hour']}",
        "curtailment": f"={a['curtailed_res_price_eur_per_mwh']}",
        "losses": f"={a['losses_price_eur_per_mwh']}",
        "co2": f"={a['emission_factor_t_per_mwh']}*{a['co2_price_eur_per_t']}",
    }
    ref_rows = layout.kpi_rows[ref_scheme]
    own_rows = layout.kpi_rows[scheme]
    row = brow + 1
    first_benefit = row
    for category in BENEFIT_CATEGORIES:

        def yearly(rows: tuple[int, int], category: str = category) -> str:
            scale = _range(kpi_sheet, layout.kpi_scale_col, *rows)
            parts = [
                f"SUMPRODUCT({layout.weights_range},{_range(kpi_sheet, layout.kpi_col[f], *rows)},{scale})"
                for f in CATEGORY_KPIS[category]
            ]
            return "(" + "+".join(parts) + ")"

        ws.cell(row=row, column=1, value=BENEFIT_LABELS[category])
        ws.cell(row=row, column=2, value=f"={yearly(ref_rows)}-{yearly(own_rows)}").number_format = EUR2
        ws.cell(row=row, column=3, value=CATEGORY_QUANTITY_UNITS[category])
        price = price_formula[category]
        value: str | float = float(price) if not price.startswith("=") else price
        ws.cell(row=row, column=4, value=value).number_format = EUR2
        ws.cell(row=row, column=5, value=f"=B{row}*D{row}").number_format = EUR
        row += 1
    last_benefit = row - 1
    ws.cell(row=row, column=1, value="Total").font = Font(bold=True)
    ws.cell(row=row, column=5, value=f"=SUM(E{first_benefit}:E{last_benefit})").number_format = EUR
    total_benefit = f"$E${row}"

    # Yearly table.
    trow = row + 3
    _section(ws, trow - 1, "Yearly cash flows (EUR; costs positive)")
    _header(ws, trow, ["Year t", "Discount factor (1+r)^-t", "Escalation factor", "Benefits (EUR)",
                       "ICT CAPEX incl. replacements (EUR)", "ICT OPEX (EUR)", "Residual value (EUR)",
                       "Costs (EUR)", "Net cash flow (EUR)", "Discounted net (EUR)",
                       "Cumulative discounted (EUR)", "Payback crossing (years)"])
    r = a["discount_rate"]
    T = a["horizon_years"]
    basis = a["price_basis"]
    esc = a["escalation_rate"]
    incremental = f'{a["ict_cost_basis"]}="incremental"'
    ref_cell = a["reference_scheme"]
    ict_schemes = _range(ict_sheet, 1, layout.ict_first_row, layout.ict_last_row)

    def ict_sum(col: int) -> str:
        values = _range(ict_sheet, col, layout.ict_first_row, layout.ict_last_row)
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
    last = first + horizon

    results = {
        "npv": f"=I{first}+NPV({r},I{first + 1}:I{last})",
        "pv_benefits": f"=D{first}+NPV({r},D{first + 1}:D{last})",
        "pv_costs": f"=H{first}+NPV({r},H{first + 1}:H{last})",
        "bcr": f'=IF(B{results_row + 2}>0,B{results_row + 1}/B{results_row + 2},"n/a")',
        # Newton's method starts at the Python IRR, so the spreadsheet finds the same root.
        "irr": f'=IFERROR(IRR(I{first}:I{last},{irr_guess!r}),"none")',
        "payback": f'=IF(COUNT(L{first}:L{last})=0,"never",MIN(L{first}:L{last}))',
    }
    formats = {"npv": EUR, "pv_benefits": EUR, "pv_costs": EUR, "bcr": RATIO, "irr": PCT, "payback": YEARS}
    _section(ws, results_row - 1, "Results (formulas)")
    cells: dict[str, str] = {}
    for j, (key, formula) in enumerate(results.items()):
        ws.cell(row=results_row + j, column=1, value=LABELS[key]).font = Font(bold=True)
        cell = ws.cell(row=results_row + j, column=2, value=formula)
        cell.number_format = formats[key]
        cell.font = Font(bold=True)
        cells[key] = _ref(ws.title, f"B{results_row + j}")
    layout.result_cells[scheme] = cells

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
    _axes_visible(chart)
    ws.add_chart(chart, "G3")
    _widths(ws, {1: 30, 2: 20, 3: 12, 4: 18, 5: 18, 6: 16, 7: 16, 8: 16, 9: 18, 10: 18, 11: 20, 12: 14})


# ------------------------------------------------------------------------------------- results


def _write_summary(
    ws: Worksheet, params: CbaParameters, result: CbaResult, layout: _Layout, schemes: Sequence[str]
) -> None:
    a = layout.assumption
    ws["A1"] = "Cost-benefit analysis of the TSO-DSO coordination schemes"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = f"Written {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by Coordination Studio."
    info = [
        ("Reference scheme", f"={a['reference_scheme']}", "@"),
        ("Discount rate (fraction/a)", f"={a['discount_rate']}", PCT),
        ("Horizon (years)", f"={a['horizon_years']}", "0"),
        ("Price basis", f"={a['price_basis']}", "@"),
        ("ICT cost basis", f"={a['ict_cost_basis']}", "@"),
    ]
    for j, (label, formula, fmt) in enumerate(info):
        ws.cell(row=4 + j, column=1, value=label).font = Font(bold=True)
        ws.cell(row=4 + j, column=2, value=formula).number_format = fmt
    row = 10
    _section(ws, row - 1, "Ranking (live: formulas over the cash-flow sheets)")
    titles = ["Rank (by NPV)", "Scheme", "NPV (EUR)", "Benefit-cost ratio (-)", "IRR (fraction/a)",
              "Discounted payback (years)", "PV of benefits (EUR)", "PV of costs (EUR)",
              "ICT CAPEX, own (EUR)", "ICT OPEX, own (EUR/a)", "ICT cost share (fraction)",
              "P(NPV < 0), Monte Carlo (fraction)", "P(ranks first), Monte Carlo (fraction)"]
    _header(ws, row, titles)
    ordered = sorted(result.schemes, key=lambda s: s.rank)
    first = row + 1
    last = row + len(ordered)
    for j, s in enumerate(ordered):
        i = first + j
        cells = layout.result_cells[s.scheme]
        mc = result.monte_carlo.scheme(s.scheme)
        ws.cell(row=i, column=1, value=f"=RANK(C{i},$C${first}:$C${last})")
        ws.cell(row=i, column=2, value=s.scheme)
        for col, key, fmt in [(3, "npv", EUR), (4, "bcr", RATIO), (5, "irr", PCT), (6, "payback", YEARS),
                              (7, "pv_benefits", EUR), (8, "pv_costs", EUR)]:
            ws.cell(row=i, column=col, value=f"={cells[key]}").number_format = fmt
        ws.cell(row=i, column=9, value=s.ict_capex_eur).number_format = EUR
        ws.cell(row=i, column=10, value=s.ict_opex_eur_per_year).number_format = EUR
        ws.cell(row=i, column=11, value=s.ict_cost_share).number_format = PCT
        ws.cell(row=i, column=12, value=mc.prob_npv_negative).number_format = PCT
        ws.cell(row=i, column=13, value=mc.prob_rank_first).number_format = PCT
    row = last + 2
    ws.cell(row=row, column=1, value=(
        "ICT cost share: annualised ICT cost / (annualised ICT cost + yearly activation and aFRR cost). "
        "Monte Carlo, Sensitivity and Actors are computed by Python at the inputs on the Assumptions sheet; "
        "re-run the study to refresh them after editing inputs."))
    row += 2
    _section(ws, row, "Yearly benefits by category at base-year prices (EUR/a)")
    row += 1
    _header(ws, row, ["Scheme"] + [BENEFIT_LABELS[c] for c in BENEFIT_CATEGORIES] + ["Total"])
    for j, scheme in enumerate(schemes):
        s = result.scheme(scheme)
        i = row + 1 + j
        ws.cell(row=i, column=1, value=scheme)
        for k, c in enumerate(BENEFIT_CATEGORIES):
            ws.cell(row=i, column=2 + k, value=s.annual_benefits_eur_per_year[c]).number_format = EUR
        ws.cell(row=i, column=2 + len(BENEFIT_CATEGORIES),
                value=f"=SUM(B{i}:{get_column_letter(1 + len(BENEFIT_CATEGORIES))}{i})").number_format = EUR
    row += len(schemes) + 2
    if result.warnings:
        _section(ws, row, "Warnings")
        for j, text in enumerate(result.warnings):
            ws.cell(row=row + 1 + j, column=1, value=text)
    _widths(ws, {i: 17 for i in range(1, 14)})
    ws.column_dimensions["A"].width = 28


def _write_sensitivity(ws: Worksheet, result: CbaResult) -> None:
    focus = next((s for s in result.ranking if s != result.reference_scheme), result.ranking[0])
    ws["A1"] = f"Sensitivity: tornado of {focus} (first-ranked scheme other than the reference)"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Each input moved alone over its range (Assumptions sheet), all others at base; "
                "computed by Python.")
    entries = sorted((e for e in result.tornado if e.scheme == focus), key=lambda e: -e.swing_eur)
    titles = ["Input", "Unit", "Low value", "High value", "NPV at low (EUR)", "NPV at high (EUR)",
              "NPV at base (EUR)", "Change at low (EUR)", "Change at high (EUR)"]
    _header(ws, 4, titles)
    row = 5
    for e in entries:
        values = [e.parameter, e.unit, e.low_value, e.high_value, e.npv_low_eur, e.npv_high_eur,
                  e.npv_base_eur, e.npv_low_eur - e.npv_base_eur, e.npv_high_eur - e.npv_base_eur]
        for j, v in enumerate(values):
            cell = ws.cell(row=row, column=1 + j, value=v)
            if j >= 4:
                cell.number_format = EUR
            elif j >= 2:
                cell.number_format = NUM
        row += 1
    if entries:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.gapWidth = 40
        chart.title = f"Tornado: change of the NPV of {focus} (EUR)"
        chart.x_axis.title = "Input"
        chart.y_axis.title = "Change of NPV from base (EUR)"
        data = Reference(ws, min_col=8, max_col=9, min_row=4, max_row=row - 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=5, max_row=row - 1))
        chart.x_axis.scaling.orientation = "maxMin"  # largest bar on top
        chart.height = max(7.5, 1.0 + 0.9 * len(entries))
        chart.width = 20
        _axes_visible(chart)
        ws.add_chart(chart, "K4")

    row = max(row + 2, 5 + 2 * max(len(entries), 1) + 4)
    _section(ws, row, "Tornado of every scheme")
    row += 1
    _header(ws, row, ["Scheme"] + titles)
    row += 1
    for e in result.tornado:
        values = [e.scheme, e.parameter, e.unit, e.low_value, e.high_value, e.npv_low_eur, e.npv_high_eur,
                  e.npv_base_eur, e.npv_low_eur - e.npv_base_eur, e.npv_high_eur - e.npv_base_eur]
        for j, v in enumerate(values):
            cell = ws.cell(row=row, column=1 + j, value=v)
            if j >= 5:
                cell.number_format = EUR
        row += 1

    row += 2
    _section(ws, row, "Switching values (the input value at which a conclusion flips)")
    row += 1
    _header(ws, row, ["Input", "Unit", "What flips", "Scheme", "Scheme taking first place", "Base value",
                      "Switching value", "Change from base (fraction)", "Searched from", "Searched to"])
    row += 1
    for sv in result.switching_values:
        what = "sign of NPV" if sv.kind == "npv_sign" else "first place"
        values = [sv.parameter, sv.unit, what, sv.scheme, sv.other_scheme or "",
                  sv.base_value, sv.switching_value if sv.switching_value is not None else "none in range",
                  sv.change_fraction, sv.domain_low, sv.domain_high]
        for j, v in enumerate(values):
            cell = ws.cell(row=row, column=1 + j, value=v)
            if j == 7:
                cell.number_format = PCT
            elif j in (5, 6, 8, 9):
                cell.number_format = NUM
        row += 1
    _widths(ws, {1: 40, 2: 36, 3: 14, 4: 12, 5: 18, 6: 18, 7: 18, 8: 18, 9: 18, 10: 14})


def _write_monte_carlo(ws: Worksheet, result: CbaResult) -> None:
    mc = result.monte_carlo
    ws["A1"] = f"Monte Carlo: {mc.samples:,} samples (seed {mc.seed}) of {', '.join(mc.inputs) or 'no input'}"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "Inputs drawn independently from their distributions (Assumptions sheet); computed by Python."
    titles = ["Scheme", "Mean NPV (EUR)", "Std of NPV (EUR)", "P5 NPV (EUR)", "Median NPV (EUR)",
              "P95 NPV (EUR)", "P(NPV < 0) (fraction)", "P(ranks first) (fraction)"]
    _header(ws, 4, titles)
    for j, s in enumerate(mc.schemes):
        values = [s.scheme, s.mean_npv_eur, s.std_npv_eur, s.p05_npv_eur, s.p50_npv_eur, s.p95_npv_eur,
                  s.prob_npv_negative, s.prob_rank_first]
        for k, v in enumerate(values):
            cell = ws.cell(row=5 + j, column=1 + k, value=v)
            cell.number_format = PCT if k >= 6 else EUR
    shown = [s for s in mc.schemes
             if not (result.ict_cost_basis == "incremental" and s.scheme == result.reference_scheme)]
    hrow = 7 + len(mc.schemes)
    _section(ws, hrow - 1, "NPV histogram (samples per bin)")
    _header(ws, hrow, ["Bin from (EUR)", "Bin to (EUR)", "Bin centre (million EUR)"]
            + [f"{s.scheme} (count)" for s in shown])
    edges = mc.bin_edges_eur
    for b in range(len(edges) - 1):
        i = hrow + 1 + b
        ws.cell(row=i, column=1, value=edges[b]).number_format = EUR
        ws.cell(row=i, column=2, value=edges[b + 1]).number_format = EUR
        ws.cell(row=i, column=3, value=round((edges[b] + edges[b + 1]) / 2e6, 3)).number_format = "0.000"
        for k, s in enumerate(shown):
            ws.cell(row=i, column=4 + k, value=s.histogram_counts[b])
    last = hrow + len(edges) - 1
    if shown:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.gapWidth = 10
        chart.title = "NPV distribution (Monte Carlo)"
        chart.x_axis.title = "NPV, bin centre (million EUR)"
        chart.y_axis.title = "Samples (count)"
        data = Reference(ws, min_col=4, max_col=3 + len(shown), min_row=hrow, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=hrow + 1, max_row=last))
        chart.height, chart.width = 10, 24
        _axes_visible(chart)
        ws.add_chart(chart, "J4")
    _widths(ws, {i: 17 for i in range(1, 9)})


def _write_actors(ws: Worksheet, result: CbaResult) -> None:
    ws["A1"] = "Micro level: present value of costs and benefits per actor group"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Benefits split with the allocation keys, ICT costs by the paying actor's role "
                "(Assumptions); computed by Python.")
    _header(ws, 4, ["Scheme", "Actor group", "PV of benefits (EUR)", "PV of ICT costs (EUR)", "NPV (EUR)",
                    "Business case"])
    for j, a in enumerate(result.actors):
        values = [a.scheme, ACTOR_LABELS[a.actor], a.pv_benefits_eur, a.pv_costs_eur, a.npv_eur,
                  a.business_case]
        for k, v in enumerate(values):
            cell = ws.cell(row=5 + j, column=1 + k, value=v)
            if 2 <= k <= 4:
                cell.number_format = EUR
    row = 7 + len(result.actors)
    _section(ws, row, "NPV per actor group (EUR)")
    _header(ws, row + 1, ["Scheme"] + [ACTOR_LABELS[a] for a in ACTOR_GROUPS])
    by = {(a.scheme, a.actor): a.npv_eur for a in result.actors}
    for j, s in enumerate(result.schemes):
        ws.cell(row=row + 2 + j, column=1, value=s.scheme)
        for k, actor in enumerate(ACTOR_GROUPS):
            ws.cell(row=row + 2 + j, column=2 + k, value=by[(s.scheme, actor)]).number_format = EUR
    _widths(ws, {i: 18 for i in range(1, 8)})


# ------------------------------------------------------------------------------------- entry point


def build_workbook(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
) -> Workbook:
    """The report as an openpyxl workbook (not yet saved)."""
    schemes = order_schemes([s.scheme for s in result.schemes])
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    assumptions = wb.create_sheet("Assumptions")
    kpi_ws = wb.create_sheet("Simulation KPIs")
    ict_ws = wb.create_sheet("ICT costs")
    layout = _Layout()
    _write_assumptions(assumptions, params, layout)
    _write_kpis(kpi_ws, params, kpis, schemes, layout)
    _write_ict(ict_ws, params, ict, schemes, layout)
    for scheme in schemes:
        ws = wb.create_sheet(cash_flow_sheet_name(scheme))
        irr = result.scheme(scheme).irr
        _write_cash_flows(ws, params, scheme, layout, kpi_ws.title, ict_ws.title,
                          round(irr, 6) if irr is not None else 0.1)
    _write_summary(summary, params, result, layout, schemes)
    _write_sensitivity(wb.create_sheet("Sensitivity"), result)
    _write_monte_carlo(wb.create_sheet("Monte Carlo"), result)
    _write_actors(wb.create_sheet("Actors"), result)
    for ws in wb.worksheets:  # print (and PDF export) landscape, one page wide
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    # Ask spreadsheet programs to recalculate every formula when the file is opened.
    wb.calculation.fullCalcOnLoad = True
    return wb


def write_report(
    path: str | Path,
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
    ict_check: IctCheckResult | None = None,
) -> Path:
    """Write the Excel report of ``result`` to ``path`` (atomically) and return the path.

    With ``ict_check`` (the ICT design checked against the simulated messages), the workbook gains its
    "ICT check" sheet.
    """
    wb = build_workbook(params, kpis, ict, result)
    if ict_check is not None:
        from cba.ictcheck_output import write_ict_check_sheet

        write_ict_check_sheet(wb, ict_check)
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())
