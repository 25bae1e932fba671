"""Bar charts of the simulation's KPIs and of the ICT cost, one bar (group) per scheme.

Nothing is computed here: the numbers are the simulation's KPIs (``simulation.kpis.SchemeKpis``) and the
ICT cost the CBA counted; these functions only lay them out. The GUI's results and ICT views and the
headless figures (:mod:`cba.figures`) call the same functions.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from coordstudio.cba.figure_style import (
    SCHEME_COLOURS,
    bar_by_scheme,
    bar_labels,
    series_gid,
    show_message,
    top_legend,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coordstudio.simulation.kpis import SchemeKpis

__all__ = ["KPI_CHARTS", "KpiChart", "draw_capex_by_technology", "draw_ict_cost", "draw_kpi_chart"]

KpiChart = tuple[str, str, tuple[tuple[str, str], ...], str]
"""(file stem, title, ((KPI field, legend label), ...), y-axis label with unit) of one KPI chart."""

KPI_CHARTS: tuple[KpiChart, ...] = (
    # the CBA counts the resource cost (as bid); the payments at nodal prices are transfers (issue 16 item 4)
    ("kpi_activation_cost", "Activation: resource cost and payments",
     (("resource_cost_eur", "resource cost (as bid)"), ("activation_cost_eur", "paid to sellers")),
     "cost [EUR]"),
    ("kpi_afrr_cost", "Imbalance covered by aFRR", (("afrr_cost_eur", "aFRR cost"),), "aFRR cost [EUR]"),
    ("kpi_congestion", "Congestion", (("congestion_hours_h", "line-hours > 100 %"),),
     "line-hours above 100 % [h]"),
    ("kpi_voltage_violations", "Voltage violations",
     (("voltage_violation_hours_h", "bus-hours outside limits"),), "bus-hours outside limits [h]"),
    ("kpi_curtailment_losses", "RES curtailment and losses",
     (("curtailed_res_mwh", "curtailed RES"), ("losses_mwh", "losses")), "energy [MWh]"),
    ("kpi_market_slack", "Market slack (unserved need)", (("slack_energy_mwh", "slack energy"),),
     "slack energy [MWh]"),
)
"""The KPI charts of the results view and of ``coordstudio figures``, in the order shown."""

_FIELD_COLOURS = ("#4C72B0", "#DD8452")


def _bar_key(kpi: SchemeKpis, several_days: bool) -> str:
    return f"{kpi.scheme} {kpi.day}" if several_days else kpi.scheme


def _per_year(ylabel: str) -> str:
    """``"cost [EUR]"`` -> ``"cost per year [EUR/a]"``."""
    head, _, unit = ylabel.rpartition(" [")
    return f"{head} per year [{unit.rstrip(']')}/a]" if head else f"{ylabel} per year"


def _yearly_rows(kpis: Sequence[SchemeKpis], fields: Sequence[str],
                 day_weights: Mapping[str, float]) -> dict[str, dict[str, float]] | None:
    """Scheme -> KPI field -> yearly amount (:func:`cba.benefits.yearly_kpi`, the CBA's annualisation),
    or None when a scheme lacks a weighted day or a day has no weight (then each day gets its bar)."""
    from coordstudio.cba.benefits import order_schemes, yearly_kpi

    days = sorted({k.day for k in kpis})
    if any(d not in day_weights for d in days):
        return None
    table = {(k.scheme, k.day): k for k in kpis}
    rows: dict[str, dict[str, float]] = {}
    for scheme in order_schemes([k.scheme for k in kpis]):
        if any((scheme, d) not in table for d in days):
            return None
        by_day = [table[(scheme, d)] for d in days]
        rows[scheme] = {f: yearly_kpi(by_day, [day_weights[d] for d in days], (f,)) for f in fields}
    return rows


def draw_kpi_chart(fig: Figure, kpis: Sequence[SchemeKpis], chart: KpiChart,
                   day_weights: Mapping[str, float] | None = None) -> str:
    """One KPI chart: a bar per scheme with its value, or for two KPIs a pair of bars per scheme;
    returns the title.

    KPIs of several representative days with ``day_weights`` (day id -> days a year it stands for, the
    CBA's ``day_weights_days_per_year``) give one bar per scheme with the yearly amount
    ``sum_d w_d k_d 24 / h_d`` (:func:`cba.benefits.yearly_kpi`, what the CBA annualises); without
    weights, a bar per scheme and day."""
    _stem, title, fields, ylabel = chart
    if not kpis:
        show_message(fig, "No KPIs in this run.")
        return title
    fig.clear()
    ax = fig.add_subplot(111)
    days = sorted({k.day for k in kpis})
    several_days = len(days) > 1
    yearly = None
    if several_days and day_weights:
        yearly = _yearly_rows(kpis, [f for f, _l in fields], day_weights)
    rows: dict[str, dict[str, float]]
    if yearly is not None:
        rows = yearly
        schemes_of = {s: s for s in rows}
        ylabel = _per_year(ylabel)
        weights = day_weights or {}
        title = f"{title}: per year\n" + textwrap.fill(  # 8 days do not fit on one line of a small figure
            f"(sum of {len(days)} representative days x days/year: "
            + ", ".join(f"{d} {weights[d]:.0f}" for d in days) + ")", 80)
        several_days = False
    else:
        rows = {_bar_key(k, several_days): {f: float(getattr(k, f)) for f, _l in fields} for k in kpis}
        schemes_of = {_bar_key(k, several_days): k.scheme for k in kpis}
    keys = list(rows)
    if len(fields) == 1:
        field, _label = fields[0]
        bar_by_scheme(ax, {key: rows[key][field] for key in keys}, ylabel, what=field)
    else:
        n = len(fields)
        width = 0.8 / n
        for i, (field, label) in enumerate(fields):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(keys))]
            heights = [rows[key][field] for key in keys]
            bars = ax.bar(xs, heights, width=width, label=label, color=_FIELD_COLOURS[i % 2])
            ax.bar_label(bars, labels=bar_labels(heights), fontsize=7, padding=2)
            for bar, key in zip(bars, keys, strict=True):
                bar.set_gid(series_gid("bar", field, key))
        ax.set_xticks(range(len(keys)), keys)
        ax.set_ylabel(ylabel)
        ax.margins(y=0.15)
        top_legend(ax, n)  # above the axes, never over the bars
    if all(v == 0.0 for r in rows.values() for v in r.values()):
        ax.set_ylim(0.0, 1.0)
        ax.text(0.5, 0.6, "zero for every scheme", ha="center", transform=ax.transAxes, color="#555555")
    else:
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    for tick, key in zip(ax.get_xticklabels(), keys, strict=False):
        tick.set_color(SCHEME_COLOURS.get(schemes_of[key], "black"))
    if several_days:
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")
    return title


def draw_ict_cost(fig: Figure, capex_eur: Mapping[str, float], opex_eur_per_year: Mapping[str, float]) -> str:
    """Investment and operating cost of each scheme's ICT, side by side; returns the title."""
    title = "ICT cost per scheme"
    if not capex_eur:
        show_message(fig, "No scheme to cost.")
        return title
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2)
    bar_by_scheme(ax1, {s: v / 1e6 for s, v in capex_eur.items()}, "CAPEX [M EUR]", "Investment",
                  what="capex")
    bar_by_scheme(ax2, {s: v / 1e6 for s, v in opex_eur_per_year.items()}, "OPEX [M EUR/a]", "Operating cost",
                  what="opex")
    return title


def draw_capex_by_technology(fig: Figure, costs: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """Stacked CAPEX per scheme, one colour per technology (the sum of the matching's cost lines,
    ``sgam.costs.SchemeIctCost.lines``); ``names`` maps technology and component ids to display names."""
    import matplotlib

    title = "CAPEX per scheme by technology and component"
    if not costs:
        show_message(fig, "No scheme to cost.")
        return title
    fig.clear()
    ax = fig.add_subplot(111)
    schemes = list(costs)
    by_tech: dict[str, list[float]] = {}
    for i, scheme in enumerate(schemes):
        for line in getattr(costs[scheme], "lines", []):
            by_tech.setdefault(line.technology_id, [0.0] * len(schemes))[i] += line.capex_eur / 1e6
    bottom = [0.0] * len(schemes)
    cmap = matplotlib.colormaps["tab20"]
    for k, (tech, values) in enumerate(sorted(by_tech.items(), key=lambda kv: -sum(kv[1]))):
        bars = ax.bar(schemes, values, bottom=bottom, label=names.get(tech, tech), color=cmap(k % 20))
        for bar, scheme in zip(bars, schemes, strict=True):
            bar.set_gid(series_gid("bar", tech, scheme))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("CAPEX [M EUR]")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return title
