"""The input sheets of the Excel report: Assumptions, Simulation KPIs and ICT costs.

Every input is a cell (yellow where the user may edit it); each writer records in the :class:`Layout`
where it put what, for the formulas of the cash-flow sheets (:mod:`cba.report_excel_cashflows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from coordstudio.cba.parameters import (
    ACTOR_GROUPS,
    ACTOR_LABELS,
    BENEFIT_CATEGORIES,
    BENEFIT_LABELS,
    SCALAR_PARAMETERS,
    CbaParameters,
    anchored_inputs,
    anchored_ranges,
)
from coordstudio.cba.report_excel_cells import (
    ALERT_FILL,
    ALERT_FONT,
    EUR,
    EUR2,
    FACTOR,
    INPUT_FILL,
    NUM,
    PCT,
    SECTION_FONT,
    TITLE_FONT,
    Layout,
    column_range,
    header,
    ref,
    section,
    widths,
)
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "CLEARING_COLUMNS", "FIXED_AT_RUN", "KPI_COLUMNS", "add_reference_choices", "write_assumptions",
    "write_ict", "write_kpis",
]

#: KPI columns of the Simulation KPIs sheet: field -> header.
KPI_COLUMNS: dict[str, str] = {
    "resource_cost_eur": "Activation resource cost, as bid (EUR)",
    "activation_cost_eur": "Payments to sellers at nodal prices (EUR)",
    "buyer_payments_eur": "Payments by buyers at nodal prices (EUR)",
    "congestion_rent_eur": "Congestion rent (EUR)",
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
    "energy_not_served_mwh": "Energy not served, tripped lines (MWh)",
}

#: Market-clearing columns of the Simulation KPIs sheet (after the bid counts): field -> header. Not
#: monetised; a failed clearing or run is marked red (cba.assessment: the scheme is not assessed).
CLEARING_COLUMNS: dict[str, str] = {
    "clearings": "Market clearings (count)",
    "failed_clearings": "Failed market clearings (count)",
    "infeasible_clearings": "Infeasible clearings (count)",
    "time_limited_clearings": "Time-limited clearings (count)",
    "slack_clearings": "Clearings using slack (count)",
    "run_failure": "Run failure",
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
    ("unserved_need_price_eur_per_mwh", "EUR/MWh", EUR2),
    ("energy_not_served_price_eur_per_mwh", "EUR/MWh", EUR2),
    ("co2_price_eur_per_t", "EUR/t", EUR2),
    ("emission_factor_t_per_mwh", "t/MWh", "0.000"),
    ("benefit_factor", "-", "0.000"),
    ("ict_capex_factor", "-", "0.000"),
    ("ict_opex_factor", "-", "0.000"),
    ("monte_carlo_samples", "count", "#,##0"),
    ("monte_carlo_seed", "-", "0"),
    ("histogram_bins", "count", "0"),
]



#: Assumptions the workbook's formulas do not read (they shape the rows, or the Python-computed sheets): not
#: yellow, since editing them there would change nothing; they are changed in the study and re-run.
FIXED_AT_RUN: tuple[str, ...] = ("horizon_years", "monte_carlo_samples", "monte_carlo_seed", "histogram_bins")


def write_assumptions(ws: Worksheet, params: CbaParameters, layout: Layout) -> None:
    ws["A1"] = "Assumptions: every input of the cost-benefit analysis"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Yellow cells are inputs: change them and the cash-flow sheets and the Summary recalculate. "
                "The horizon fixes the number of year rows and the Monte Carlo settings the Python-computed "
                "sheets; change those in the study and re-run instead.")
    header(ws, 4, ["Parameter", "Description", "Value", "Unit", "Source"])
    row = 5
    fields = CbaParameters.model_fields
    for name, unit, fmt in _ASSUMPTION_ROWS:
        ws.cell(row=row, column=1, value=name)
        description = str(fields[name].description)
        if name in FIXED_AT_RUN:
            description += " Fixed at the run: change it in the study and re-run."
        ws.cell(row=row, column=2, value=description)
        cell = ws.cell(row=row, column=3, value=getattr(params, name))
        cell.number_format = fmt
        if name not in FIXED_AT_RUN:
            cell.fill = INPUT_FILL
        ws.cell(row=row, column=4, value=SCALAR_PARAMETERS.get(name, unit))
        ws.cell(row=row, column=5, value=params.source_of(name))
        layout.assumption[name] = ref(ws.title, f"C{row}")
        if name in ("price_basis", "ict_cost_basis"):
            options = '"real,nominal"' if name == "price_basis" else '"incremental,full"'
            dv = DataValidation(type="list", formula1=options, allow_blank=False)
            ws.add_data_validation(dv)
            dv.add(cell)
        row += 1

    # the stated system (cba.system_scale): the benefits formulas multiply by it; the ICT lines below are
    # already those of that system, so the cell is fixed at the run like the horizon
    ws.cell(row=row, column=1, value="system.scale_factor")
    ws.cell(row=row, column=2, value=f"{CbaParameters.model_fields['system'].description} Stated system: "
            f"{params.system.name}. Fixed at the run: change it in the study and re-run.")
    ws.cell(row=row, column=3, value=params.system.scale_factor).number_format = "0.000"
    ws.cell(row=row, column=4, value="-")
    ws.cell(row=row, column=5, value=params.system.source)
    layout.assumption["system_scale_factor"] = ref(ws.title, f"C{row}")
    row += 2
    section(ws, row, "Representative day weights")
    ws.cell(row=row, column=5, value=params.source_of("day_weights_days_per_year"))
    row += 1
    header(ws, row, ["Day id", "Description", "Weight (days/a)"])
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
    layout.weights_range = column_range(ws.title, 3, first, last)
    ws.cell(row=row, column=1, value="Total (must be 365 or 366)")
    ws.cell(row=row, column=3, value=f"=SUM(C{first}:C{last})").number_format = NUM

    row += 2
    section(ws, row, "Monte Carlo: uncertain inputs, as sampled (centred on the values above)")
    ws.cell(row=row, column=5, value=params.source_of("uncertain_inputs"))
    row += 1
    header(ws, row, ["Parameter", "Distribution", "Min", "Mode", "Max", "Mean", "Std", "Unit"])
    row += 1
    for dist in anchored_inputs(params):
        values: list[str | float | None] = [
            dist.parameter, dist.distribution, dist.min, dist.mode, dist.max, dist.mean, dist.std,
            SCALAR_PARAMETERS[dist.parameter],
        ]
        for j, v in enumerate(values):
            ws.cell(row=row, column=1 + j, value=v)
        row += 1

    row += 1
    section(ws, row, "Tornado ranges")
    ws.cell(row=row, column=5, value=params.source_of("tornado_ranges"))
    row += 1
    header(ws, row, ["Parameter", "Low", "High", "Unit"])
    row += 1
    for rng in anchored_ranges(params):
        for j, item in enumerate([rng.parameter, rng.low, rng.high, SCALAR_PARAMETERS[rng.parameter]]):
            ws.cell(row=row, column=1 + j, value=item)
        row += 1

    row += 1
    section(ws, row, "Benefit allocation keys (share of each benefit per actor group)")
    ws.cell(row=row, column=8, value=params.source_of("benefit_allocation"))
    row += 1
    header(ws, row, ["Benefit category"] + [f"{ACTOR_LABELS[a]} (fraction)" for a in ACTOR_GROUPS])
    row += 1
    for category in BENEFIT_CATEGORIES:
        ws.cell(row=row, column=1, value=BENEFIT_LABELS[category])
        for j, actor in enumerate(ACTOR_GROUPS):
            share = params.benefit_allocation[category].get(actor, 0.0)
            ws.cell(row=row, column=2 + j, value=share).number_format = PCT
        row += 1

    row += 1
    section(ws, row, "Who bears the ICT cost of each actor role")
    ws.cell(row=row, column=5, value=params.source_of("cost_role_to_actor"))
    row += 1
    header(ws, row, ["Actor role (ICT cost line)", "Actor group"])
    row += 1
    for role, actor in params.cost_role_to_actor.items():
        ws.cell(row=row, column=1, value=role or "(none given)")
        ws.cell(row=row, column=2, value=ACTOR_LABELS[actor])
        row += 1
    widths(ws, {1: 42, 2: 70, 3: 16, 4: 14, 5: 90, 6: 12, 7: 12, 8: 12})
    ws.freeze_panes = "A5"




def add_reference_choices(ws: Worksheet, layout: Layout, schemes: Sequence[str]) -> None:
    """A drop-down of the simulated schemes on the reference-scheme cell: the benefits find the reference's
    KPI rows by its id, so an id without KPIs would leave every cash-flow sheet at #N/A."""
    cell = layout.assumption["reference_scheme"].split("!")[-1].replace("$", "")
    dv = DataValidation(type="list", formula1='"' + ",".join(schemes) + '"', allow_blank=False)
    ws.add_data_validation(dv)
    dv.add(cell)


def write_kpis(
    ws: Worksheet, params: CbaParameters, kpis: Sequence[SchemeKpis], schemes: Sequence[str], layout: Layout
) -> None:
    ws["A1"] = "Simulation KPIs per scheme and representative day"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "Values as simulated; each day is scaled to 24 h by the day scale before annualising."
    titles = ["Scheme", "Day", "Duration (h)", "Day scale (24 h / duration)"]
    titles += list(KPI_COLUMNS.values())
    titles += ["Bids submitted, all DSO areas (count)", "Bids activated, all DSO areas (count)"]
    titles += list(CLEARING_COLUMNS.values())
    header(ws, 4, titles)
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
            _write_clearing_cells(ws, row, col + 2, k)
            row += 1
        layout.kpi_rows[scheme] = (first, row - 1)
    widths(ws, {i: 16 for i in range(1, len(titles) + 1)})
    ws.freeze_panes = "C5"


def _write_clearing_cells(ws: Worksheet, row: int, col0: int, k: SchemeKpis) -> None:
    """The clearing columns (:data:`CLEARING_COLUMNS`) of one KPI row, in red where the scheme's benefits
    are not measured (a failed clearing or run, cba.assessment)."""
    for j, name in enumerate(CLEARING_COLUMNS):
        value = getattr(k, name)
        cell = ws.cell(row=row, column=col0 + j, value=value if value != "" else None)
        if name != "run_failure":
            cell.number_format = "0"
        if name in ("failed_clearings", "infeasible_clearings", "time_limited_clearings", "run_failure") and (
            value not in (0, "")
        ):
            cell.fill, cell.font = ALERT_FILL, ALERT_FONT
    if k.failed_clearings or k.run_failed:
        for col in (1, 2):
            ws.cell(row=row, column=col).fill = ALERT_FILL


def write_ict(
    ws: Worksheet, params: CbaParameters, ict: Mapping[str, SchemeIctCost], schemes: Sequence[str],
    layout: Layout,
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
    header(ws, 4, titles)
    ws.cell(row=3, column=year0, value="Investment booked in year t (EUR)").font = SECTION_FONT
    header(ws, 4, list(range(horizon + 1)), col0=year0)  # numbers: the formulas read t from here
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
    layout.ict_sheet = ws.title
    layout.ict_first_row = 5
    layout.ict_last_row = max(row - 1, 5)
    layout.ict_year_col0 = year0
    layout.ict_cols = cols
    if row == 5:
        ws.cell(row=5, column=1, value="(no ICT cost lines)")
    widths(ws, {1: 9, 2: 22, 3: 14, 4: 16, 5: 16, 6: 14, 7: 11, 8: 14, 9: 14, 10: 11, 11: 14, 12: 14})
    for t in range(horizon + 1):
        ws.column_dimensions[get_column_letter(year0 + t)].width = 12
    ws.freeze_panes = "C5"
