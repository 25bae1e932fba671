"""The result sheets of the Excel report: Summary, Sensitivity, Monte Carlo and Actors.

The Summary's ranking is live (formulas over the cash-flow sheets' result cells); Sensitivity, Monte
Carlo and Actors are the figures Python computed at the inputs of the Assumptions sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from coordstudio.cba.analysis import CbaResult
from coordstudio.cba.parameters import (
    ACTOR_GROUPS,
    ACTOR_LABELS,
    BENEFIT_CATEGORIES,
    BENEFIT_LABELS,
    CbaParameters,
)
from coordstudio.cba.report_excel_cells import (
    ALERT_FILL,
    ALERT_FONT,
    EUR,
    NUM,
    PCT,
    RATIO,
    TITLE_FONT,
    YEARS,
    Layout,
    axes_visible,
    column_range,
    header,
    section,
    widths,
)

__all__ = ["write_actors", "write_monte_carlo", "write_sensitivity", "write_summary"]

def write_summary(
    ws: Worksheet, params: CbaParameters, result: CbaResult, layout: Layout, schemes: Sequence[str]
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
    section(ws, row - 1, "Ranking (live: formulas over the cash-flow sheets)")
    titles = ["Rank (by NPV)", "Scheme", "NPV (EUR)", "Benefit-cost ratio (-)", "IRR (fraction/a)",
              "Discounted payback (years)", "PV of benefits (EUR)", "PV of costs (EUR)",
              "ICT CAPEX, own (EUR)", "ICT OPEX, own (EUR/a)", "ICT cost share (fraction)",
              "P(NPV < 0), Monte Carlo (fraction)", "P(ranks first), Monte Carlo (fraction)",
              "Failed market clearings (count)", "Market slack energy (MWh)", "Assessment"]
    header(ws, row, titles)
    # the assessed schemes by rank (the live RANK runs over them only), then those not assessed
    ordered = sorted(result.schemes, key=lambda s: (not s.assessed, s.rank))
    verdicts = {a.scheme: a for a in result.assessments}
    first = row + 1
    last = row + len(ordered)
    last_ranked = row + sum(1 for s in ordered if s.assessed)
    for j, s in enumerate(ordered):
        i = first + j
        cells = layout.result_cells[s.scheme]
        mc = result.monte_carlo.scheme(s.scheme)
        if s.assessed:
            ws.cell(row=i, column=1, value=f"=RANK(C{i},$C${first}:$C${last_ranked})")
        else:
            ws.cell(row=i, column=1, value="not assessed")
        ws.cell(row=i, column=2, value=s.scheme)
        assessment = verdicts.get(s.scheme)
        failed = ws.cell(row=i, column=14, value=None if assessment is None else assessment.failed_clearings)
        failed.number_format = "0"
        slack = None if assessment is None else assessment.slack_energy_mwh
        ws.cell(row=i, column=15, value=slack).number_format = NUM
        verdict = "assessed" if s.assessed else f"not assessed: {s.not_assessed_reason}"
        ws.cell(row=i, column=16, value=verdict)
        if assessment is not None and assessment.failed_clearings:
            failed.fill, failed.font = ALERT_FILL, ALERT_FONT
        if not s.assessed:
            for col in (1, 2, 16):
                ws.cell(row=i, column=col).fill = ALERT_FILL
                ws.cell(row=i, column=col).font = ALERT_FONT
        for col, key, fmt in [(3, "npv", EUR), (4, "bcr", RATIO), (5, "irr", PCT), (6, "payback", YEARS),
                              (7, "pv_benefits", EUR), (8, "pv_costs", EUR)]:
            ws.cell(row=i, column=col, value=f"={cells[key]}").number_format = fmt
        ws.cell(row=i, column=9, value=_ict_sum(layout, s.scheme, "capex")).number_format = EUR
        ws.cell(row=i, column=10, value=_ict_sum(layout, s.scheme, "opex")).number_format = EUR
        ws.cell(row=i, column=11, value=s.ict_cost_share).number_format = PCT
        ws.cell(row=i, column=12, value=mc.prob_npv_negative).number_format = PCT
        ws.cell(row=i, column=13, value=mc.prob_rank_first).number_format = PCT
    row = last + 2
    ws.cell(row=row, column=1, value=(
        "ICT cost share: annualised ICT cost / (annualised ICT cost + yearly activation resource and aFRR "
        "cost). "
        "Monte Carlo, Sensitivity and Actors are computed by Python at the inputs on the Assumptions sheet; "
        "re-run the study to refresh them after editing inputs."))
    row += 2
    section(ws, row, "Yearly benefits by category at base-year prices (EUR/a)")
    row += 1
    header(ws, row, ["Scheme"] + [BENEFIT_LABELS[c] for c in BENEFIT_CATEGORIES] + ["Total"])
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
        section(ws, row, "Warnings")
        for j, text in enumerate(result.warnings):
            ws.cell(row=row + 1 + j, column=1, value=text)
    widths(ws, {i: 17 for i in range(1, 16)})
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["P"].width = 60


def _ict_sum(layout: Layout, scheme: str, column: str) -> str:
    """The scheme's own ICT CAPEX or OPEX, summed live over its lines on the ICT sheet."""
    schemes = column_range(layout.ict_sheet, 1, layout.ict_first_row, layout.ict_last_row)
    rows = (layout.ict_first_row, layout.ict_last_row)
    values = column_range(layout.ict_sheet, layout.ict_cols[column], *rows)
    return f'=SUMIF({schemes},"{scheme}",{values})'


def write_sensitivity(ws: Worksheet, result: CbaResult) -> None:
    focus = next(
        (s for s in result.ranking if s != result.reference_scheme),
        result.ranking[0] if result.ranking else result.reference_scheme,  # nothing ranked: not assessed
    )
    ws["A1"] = f"Sensitivity: tornado of {focus} (first-ranked scheme other than the reference)"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Each input moved alone over its range (Assumptions sheet), all others at base; "
                "computed by Python.")
    entries = sorted((e for e in result.tornado if e.scheme == focus), key=lambda e: -e.swing_eur)
    titles = ["Input", "Unit", "Low value", "High value", "NPV at low (EUR)", "NPV at high (EUR)",
              "NPV at base (EUR)", "Change at low (EUR)", "Change at high (EUR)"]
    header(ws, 4, titles)
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
        axes_visible(chart)
        ws.add_chart(chart, "K4")

    row = max(row + 2, 5 + 2 * max(len(entries), 1) + 4)
    section(ws, row, "Tornado of every scheme")
    row += 1
    header(ws, row, ["Scheme"] + titles)
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
    section(ws, row, "Switching values (the input value at which a conclusion flips)")
    row += 1
    header(ws, row, ["Input", "Unit", "What flips", "Scheme", "Scheme taking first place", "Base value",
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
    widths(ws, {1: 40, 2: 36, 3: 14, 4: 12, 5: 18, 6: 18, 7: 18, 8: 18, 9: 18, 10: 14})


def write_monte_carlo(ws: Worksheet, result: CbaResult) -> None:
    mc = result.monte_carlo
    ws["A1"] = f"Monte Carlo: {mc.samples:,} samples (seed {mc.seed}) of {', '.join(mc.inputs) or 'no input'}"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "Inputs drawn independently from their distributions (Assumptions sheet); computed by Python."
    titles = ["Scheme", "Mean NPV (EUR)", "Std of NPV (EUR)", "P5 NPV (EUR)", "Median NPV (EUR)",
              "P95 NPV (EUR)", "P(NPV < 0) (fraction)", "P(ranks first) (fraction)"]
    header(ws, 4, titles)
    for j, s in enumerate(mc.schemes):
        values = [s.scheme, s.mean_npv_eur, s.std_npv_eur, s.p05_npv_eur, s.p50_npv_eur, s.p95_npv_eur,
                  s.prob_npv_negative, s.prob_rank_first]
        for k, v in enumerate(values):
            cell = ws.cell(row=5 + j, column=1 + k, value=v)
            cell.number_format = PCT if k >= 6 else EUR
    shown = [s for s in mc.schemes
             if not (result.ict_cost_basis == "incremental" and s.scheme == result.reference_scheme)]
    hrow = 7 + len(mc.schemes)
    section(ws, hrow - 1, "NPV histogram (samples per bin)")
    header(ws, hrow, ["Bin from (EUR)", "Bin to (EUR)", "Bin centre (million EUR)"]
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
        axes_visible(chart)
        ws.add_chart(chart, "J4")
    widths(ws, {i: 17 for i in range(1, 9)})


def write_actors(ws: Worksheet, result: CbaResult) -> None:
    ws["A1"] = "Micro level: present value of costs and benefits per actor group"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = ("Activation benefit booked from the simulated cash flows (TSO: its needs' payments; "
                "aggregators: the sellers' surplus; DSOs: the congestion rent), the other benefits split "
                "with the allocation keys, ICT costs by the paying actor's role (Assumptions); computed "
                "by Python.")
    header(ws, 4, ["Scheme", "Actor group", "PV of benefits (EUR)", "PV of ICT costs (EUR)", "NPV (EUR)",
                   "Business case"])
    for j, a in enumerate(result.actors):
        values = [a.scheme, ACTOR_LABELS[a.actor], a.pv_benefits_eur, a.pv_costs_eur, a.npv_eur,
                  a.business_case]
        for k, v in enumerate(values):
            cell = ws.cell(row=5 + j, column=1 + k, value=v)
            if 2 <= k <= 4:
                cell.number_format = EUR
    row = 7 + len(result.actors)
    section(ws, row, "NPV per actor group (EUR)")
    header(ws, row + 1, ["Scheme"] + [ACTOR_LABELS[a] for a in ACTOR_GROUPS])
    by = {(a.scheme, a.actor): a.npv_eur for a in result.actors}
    for j, s in enumerate(result.schemes):
        ws.cell(row=row + 2 + j, column=1, value=s.scheme)
        for k, actor in enumerate(ACTOR_GROUPS):
            ws.cell(row=row + 2 + j, column=2 + k, value=by[(s.scheme, actor)]).number_format = EUR
    widths(ws, {i: 18 for i in range(1, 8)})
