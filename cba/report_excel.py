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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook

from coordstudio.cba.analysis import CbaResult
from coordstudio.cba.benefits import order_schemes
from coordstudio.cba.fileio import atomic_write_bytes
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.report_excel_cashflows import LABELS, write_cash_flows
from coordstudio.cba.report_excel_cells import (
    Layout,
    cash_flow_sheet_name,
    keep_user_text_as_text,
    user_texts,
)
from coordstudio.cba.report_excel_inputs import (
    add_reference_choices,
    write_assumptions,
    write_ict,
    write_kpis,
)
from coordstudio.cba.report_excel_results import (
    write_actors,
    write_monte_carlo,
    write_sensitivity,
    write_summary,
)
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

if TYPE_CHECKING:
    from coordstudio.cba.ictcheck_data import IctCheckResult
    from coordstudio.cba.price_components import PriceComponentTable
    from coordstudio.cba.provenance import Provenance

__all__ = ["LABELS", "build_workbook", "cash_flow_sheet_name", "write_report"]


def build_workbook(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
    provenance: Provenance | None = None,
) -> Workbook:
    """The report as an openpyxl workbook (not yet saved); ``provenance`` is written at the foot of the
    Assumptions sheet."""
    schemes = order_schemes([s.scheme for s in result.schemes])
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    assumptions = wb.create_sheet("Assumptions")
    kpi_ws = wb.create_sheet("Simulation KPIs")
    ict_ws = wb.create_sheet("ICT costs")
    layout = Layout()
    write_assumptions(assumptions, params, layout)
    write_kpis(kpi_ws, params, kpis, schemes, layout)
    if all("," not in s and '"' not in s for s in schemes):
        add_reference_choices(assumptions, layout, schemes)
    write_ict(ict_ws, params, ict, schemes, layout)
    for scheme in schemes:
        ws = wb.create_sheet(cash_flow_sheet_name(scheme))
        irr = result.scheme(scheme).irr
        write_cash_flows(ws, params, scheme, layout, kpi_ws.title, ict_ws.title,
                          round(irr, 6) if irr is not None else 0.1)
    write_summary(summary, params, result, layout, schemes)
    write_sensitivity(wb.create_sheet("Sensitivity"), result)
    write_monte_carlo(wb.create_sheet("Monte Carlo"), result)
    write_actors(wb.create_sheet("Actors"), result)
    if provenance is not None:
        from coordstudio.cba.report_excel_provenance import write_provenance

        write_provenance(assumptions, provenance)
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
    price_components: PriceComponentTable | None = None,
    provenance: Provenance | None = None,
) -> Path:
    """Write the Excel report of ``result`` to ``path`` (atomically) and return the path.

    With ``ict_check`` (the ICT design checked against the simulated messages), the workbook gains its
    "ICT check" sheet; with ``price_components`` (the day means read from the results database), its
    "Price components" sheet; with ``provenance``, the Assumptions sheet its "Provenance" section.
    Every formula cell carries its computed value (:mod:`cba.report_excel_values`), so a reader that
    does not recalculate (``pandas.read_excel``) sees the figures.
    """
    wb = build_workbook(params, kpis, ict, result, provenance)
    if ict_check is not None:
        from coordstudio.cba.ictcheck_output import write_ict_check_sheet

        write_ict_check_sheet(wb, ict_check)
    if price_components is not None:
        from coordstudio.cba.report_excel_prices import SHEET, write_price_components

        ws = wb.create_sheet(SHEET)
        write_price_components(ws, price_components)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    keep_user_text_as_text(wb, user_texts(params, kpis, ict, result, ict_check))  # no formula injection
    buf = io.BytesIO()
    wb.save(buf)
    from coordstudio.cba.report_excel_values import evaluate_workbook, with_cached_values

    return atomic_write_bytes(path, with_cached_values(buf.getvalue(), evaluate_workbook(wb, strict=False)))
