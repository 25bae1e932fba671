"""Charts of a CBA result, drawn into a matplotlib ``Figure`` (Agg, no pyplot state: safe in a thread).

* :func:`draw_cash_flow`: cumulative discounted cash flow of every scheme (the crossover chart of
  HOMER/RETScreen), with each scheme's discounted payback marked where the curve crosses zero.
* :func:`draw_annual_cash_flow`: each year's net cash flow, bars grouped by year.
* :func:`draw_tornado`: change of the first-ranked scheme's NPV when each input moves to its low and
  high value, largest swing on top.
* :func:`draw_monte_carlo`: NPV histogram per scheme with ``P(NPV < 0)`` in the legend.
* :func:`draw_actors`: NPV per actor group and scheme (who gains, who pays).

The GUI's CBA view draws them into its canvases; :func:`write_charts` (the report's three PNGs) and
:mod:`cba.figures` (every figure as PNG and SVG) into fresh figures they save. Each returns its title.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coordstudio.cba.analysis import CbaResult
from coordstudio.cba.figure_style import SCHEME_COLOURS, scheme_colour, series_gid, show_message, top_legend
from coordstudio.cba.fileio import atomic_write_bytes

__all__ = [
    "ACTOR_NAMES",
    "CHART_FILES",
    "SCHEME_COLOURS",
    "cash_flow_chart",
    "draw_actors",
    "draw_annual_cash_flow",
    "draw_cash_flow",
    "draw_monte_carlo",
    "draw_tornado",
    "monte_carlo_chart",
    "short_name",
    "tornado_chart",
    "write_charts",
]

#: File names of the charts :func:`write_charts` writes.
CHART_FILES = {
    "chart_cash_flow": "chart_cash_flow.png",
    "chart_tornado": "chart_tornado.png",
    "chart_monte_carlo": "chart_monte_carlo.png",
}

#: Display names of the CBA's actor groups (``cba.allocation``).
ACTOR_NAMES = {
    "tso": "TSO",
    "dso": "DSOs",
    "aggregator": "Aggregators",
    "der_owner": "DER owners",
    "consumer": "Consumers",
}


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return atomic_write_bytes(path, buf.getvalue())


def _focus(result: CbaResult) -> str:
    """First-ranked scheme other than the reference (the reference itself if it is alone)."""
    return next(
        (s for s in result.ranking if s != result.reference_scheme),
        result.ranking[0] if result.ranking else result.reference_scheme,  # nothing ranked: not assessed
    )


def short_name(parameter: str) -> str:
    """A compact label for a CBA input ('losses_price_eur_per_mwh' -> 'losses price'); the unit is
    written beside it from the tornado entry's own ``unit``."""
    base = re.sub(r"_(eur|t_per|mwh|h)(_.*)?$", "", parameter)
    return base.replace("_", " ").replace("unresolved ", "").replace("ict ", "ICT ")


def _unit(unit: str) -> str:
    """`` EUR/MWh`` after a range; nothing for a dimensionless factor (unit ``-`` or empty)."""
    return "" if unit.strip() in ("", "-") else f" {unit}"


def _integer_years(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def draw_cash_flow(fig: Figure, result: CbaResult) -> str:
    """Cumulative discounted net cash flow of each scheme over the horizon, in million EUR; a diamond
    where a scheme's curve crosses zero (its discounted payback)."""
    fig.clear()
    ax = fig.add_subplot(111)
    for i, s in enumerate(result.schemes):
        years = [cf.year for cf in s.cash_flows]
        cumulative = [cf.cumulative_discounted_eur / 1e6 for cf in s.cash_flows]
        label = f"{s.scheme}: NPV {s.npv_eur / 1e6:,.1f} M EUR"
        if s.scheme == result.reference_scheme and result.ict_cost_basis == "incremental":
            label = f"{s.scheme} (reference)"
        colour = scheme_colour(s.scheme, i)
        ax.plot(years, cumulative, marker="o", markersize=2.5, linewidth=1.6, color=colour, label=label,
                gid=series_gid("line", "cash", s.scheme))
        if s.discounted_payback_years not in (None, 0.0):
            ax.plot([s.discounted_payback_years], [0.0], marker="D", markersize=6, color=colour,
                    markeredgecolor="black", linestyle="none")
    ax.axhline(0.0, color="black", linewidth=0.8)
    _integer_years(ax)
    ax.set_xlabel("year")
    ax.set_ylabel("cum. discounted net [M EUR]")
    top_legend(ax, 3)
    return (f"Cumulative discounted cash flow vs {result.reference_scheme} ({result.discount_rate:.1%}/a "
            f"{result.price_basis}; diamonds: payback)")


def draw_annual_cash_flow(fig: Figure, result: CbaResult) -> str:
    """Each year's (undiscounted) net cash flow of each scheme, bars grouped by year, million EUR."""
    fig.clear()
    ax = fig.add_subplot(111)
    n = max(len(result.schemes), 1)
    width = 0.8 / n
    for i, r in enumerate(result.schemes):
        years = [c.year for c in r.cash_flows]
        bars = ax.bar([y + (i - (n - 1) / 2) * width for y in years], [c.net_eur / 1e6 for c in r.cash_flows],
                      width=width, label=r.scheme, color=scheme_colour(r.scheme, i))
        for bar, year in zip(bars, years, strict=True):
            bar.set_gid(series_gid("bar", "net", r.scheme, str(year)))
    ax.axhline(0.0, color="black", lw=0.8)
    _integer_years(ax)
    ax.set_xlabel("year")
    ax.set_ylabel("net cash flow [M EUR]")
    top_legend(ax, n)
    return "Yearly net cash flow"


def draw_tornado(fig: Figure, result: CbaResult, scheme: str | None = None) -> str:
    """Tornado of ``scheme`` (default: the first-ranked non-reference scheme, since the reference's NPV
    is 0 by construction): the NPV with each input at its low and high value, largest swing on top."""
    scheme = scheme or _focus(result)
    title = f"Tornado: NPV of {scheme} with each input moved alone"
    entries = sorted((e for e in result.tornado if e.scheme == scheme), key=lambda e: e.swing_eur)
    if not entries:
        show_message(fig, "No tornado ranges in the CBA parameters.")
        return title
    fig.clear()
    ax = fig.add_subplot(111)
    base = entries[0].npv_base_eur / 1e6
    labels = [f"{short_name(e.parameter)} ({e.low_value:g}…{e.high_value:g}{_unit(e.unit)})" for e in entries]
    y = list(range(len(entries)))
    ax.barh(y, [e.npv_low_eur / 1e6 - base for e in entries], left=base, color="#0072B2",
            label="input at low value", gid=series_gid("bars", "low"))
    ax.barh(y, [e.npv_high_eur / 1e6 - base for e in entries], left=base, color="#D55E00",
            label="input at high value", gid=series_gid("bars", "high"))
    ax.axvline(base, color="black", linewidth=0.8)
    ax.axvline(0.0, color="red", linewidth=1, linestyle="--", label="NPV = 0")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(f"NPV of {scheme} [M EUR]; base {base:,.1f} M EUR")
    ax.grid(True, axis="x", alpha=0.3)
    top_legend(ax, 3)
    return title


def draw_monte_carlo(fig: Figure, result: CbaResult) -> str:
    """NPV histograms of the schemes over the Monte Carlo samples (the reference is left out when its
    NPV is 0 by construction), with ``P(NPV < 0)`` and the 5 %..95 % range in the legend."""
    mc = result.monte_carlo
    title = f"Monte Carlo NPV: {mc.samples:,} samples, {len(mc.inputs)} uncertain inputs"
    if not mc.schemes or not mc.bin_edges_eur:
        show_message(fig, "No Monte Carlo inputs in the CBA parameters.")
        return "Monte Carlo NPV distribution"
    fig.clear()
    ax = fig.add_subplot(111)
    edges = [e / 1e6 for e in mc.bin_edges_eur]
    for i, s in enumerate(mc.schemes):
        if result.ict_cost_basis == "incremental" and s.scheme == result.reference_scheme:
            continue
        colour = scheme_colour(s.scheme, i)
        ax.stairs(s.histogram_counts, edges, fill=True, alpha=0.25, color=colour)
        ax.stairs(s.histogram_counts, edges, linewidth=1.4, color=colour,
                  label=f"{s.scheme}: P(NPV<0) {s.prob_npv_negative:.0%}, "
                        f"P5..P95 {s.p05_npv_eur / 1e6:,.1f}..{s.p95_npv_eur / 1e6:,.1f}",
                  gid=series_gid("hist", s.scheme))
    ax.axvline(0.0, color="red", linewidth=1, linestyle="--")
    ax.set_xlabel(f"NPV relative to {result.reference_scheme} [M EUR]")
    ax.set_ylabel(f"samples per bin (of {mc.samples:,})")
    top_legend(ax, 2)
    return title


def draw_actors(fig: Figure, result: CbaResult) -> str:
    """NPV of each actor group per scheme (who gains, who pays), bars grouped by actor, million EUR."""
    title = "NPV per actor group (who gains, who pays)"
    rows = list(result.actors)
    if not rows:
        show_message(fig, "No per-actor split in this result.")
        return title
    fig.clear()
    ax = fig.add_subplot(111)
    schemes = list(dict.fromkeys(a.scheme for a in rows))
    actors = list(dict.fromkeys(a.actor for a in rows))
    npv = {(a.scheme, a.actor): a.npv_eur / 1e6 for a in rows}
    n = max(len(schemes), 1)
    width = 0.8 / n
    for i, s in enumerate(schemes):
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(actors))]
        bars = ax.bar(xs, [npv.get((s, a), 0.0) for a in actors], width=width, label=s,
                      color=scheme_colour(s, i))
        for bar, actor in zip(bars, actors, strict=True):
            bar.set_gid(series_gid("bar", "npv", s, actor))
    ax.set_xticks(range(len(actors)), [ACTOR_NAMES.get(a, a) for a in actors])
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_ylabel("NPV [M EUR]")
    top_legend(ax, n)
    return title


def _chart(path: Path, draw: object, result: CbaResult, height_in: float = 5.2) -> Path:
    fig = Figure(figsize=(9, height_in), layout="constrained")
    title = draw(fig, result)  # type: ignore[operator]
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def cash_flow_chart(result: CbaResult, path: Path) -> Path:
    """The cumulative discounted cash flow (:func:`draw_cash_flow`) as a PNG file."""
    return _chart(path, draw_cash_flow, result)


def tornado_chart(result: CbaResult, path: Path, scheme: str | None = None) -> Path:
    """The tornado of ``scheme`` (:func:`draw_tornado`) as a PNG file."""
    rows = sum(1 for e in result.tornado if e.scheme == (scheme or _focus(result)))
    fig = Figure(figsize=(9, max(3.0, 1.4 + 0.4 * rows)), layout="constrained")
    fig.suptitle(draw_tornado(fig, result, scheme), fontsize=10)
    return _save(fig, path)


def monte_carlo_chart(result: CbaResult, path: Path) -> Path:
    """The Monte Carlo NPV histograms (:func:`draw_monte_carlo`) as a PNG file."""
    return _chart(path, draw_monte_carlo, result)


def write_charts(result: CbaResult, out_dir: Path) -> dict[str, Path]:
    """Write the report's three charts into ``out_dir``; returns their paths by key."""
    out_dir = Path(out_dir)
    return {
        "chart_cash_flow": cash_flow_chart(result, out_dir / CHART_FILES["chart_cash_flow"]),
        "chart_tornado": tornado_chart(result, out_dir / CHART_FILES["chart_tornado"]),
        "chart_monte_carlo": monte_carlo_chart(result, out_dir / CHART_FILES["chart_monte_carlo"]),
    }
