"""PNG charts of a CBA result (matplotlib, Agg backend, no pyplot state: safe in a worker thread).

* :func:`cash_flow_chart`: cumulative discounted cash flow of every scheme (the crossover chart of
  HOMER/RETScreen), with each scheme's discounted payback marked where the curve crosses zero.
* :func:`tornado_chart`: change of the first-ranked scheme's NPV when each input moves to its low and
  high value, largest swing on top.
* :func:`monte_carlo_chart`: NPV histogram per scheme with ``P(NPV < 0)`` in the legend.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from coordstudio.cba.analysis import CbaResult
from coordstudio.cba.fileio import atomic_write_bytes

__all__ = ["CHART_FILES", "cash_flow_chart", "monte_carlo_chart", "tornado_chart", "write_charts"]

#: File names of the charts :func:`write_charts` writes.
CHART_FILES = {
    "chart_cash_flow": "chart_cash_flow.png",
    "chart_tornado": "chart_tornado.png",
    "chart_monte_carlo": "chart_monte_carlo.png",
}

#: One palette for the schemes in every chart of the tool, reports and GUI alike (colour-blind safe,
#: Okabe-Ito; CM-D, the decentralised common market, a darker shade of CM's colour, from Paul Tol's muted
#: scheme). A scheme not listed gets matplotlib's cycle colour.
SCHEME_COLOURS = {
    "CMS": "#0072B2", "LMS": "#E69F00", "SBR": "#009E73", "CM": "#CC79A7", "CM-D": "#882255",
    "IFM": "#D55E00"}
_MEUR = FuncFormatter(lambda x, _pos: f"{x / 1e6:,.1f}")


def _colour(scheme: str, index: int) -> str:
    return SCHEME_COLOURS.get(scheme, f"C{index % 10}")


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


def cash_flow_chart(result: CbaResult, path: Path) -> Path:
    """Cumulative discounted net cash flow of each scheme over the horizon."""
    fig = Figure(figsize=(9, 5.2))
    ax = fig.add_subplot()
    for i, s in enumerate(result.schemes):
        years = [cf.year for cf in s.cash_flows]
        cumulative = [cf.cumulative_discounted_eur for cf in s.cash_flows]
        label = f"{s.scheme}: NPV {s.npv_eur / 1e6:,.1f} M EUR"
        if s.scheme == result.reference_scheme and result.ict_cost_basis == "incremental":
            label = f"{s.scheme} (reference)"
        ax.plot(years, cumulative, marker="o", markersize=3, linewidth=2, color=_colour(s.scheme, i),
                label=label)
        if s.discounted_payback_years not in (None, 0.0):
            ax.plot([s.discounted_payback_years], [0.0], marker="D", markersize=7, color=_colour(s.scheme, i),
                    markeredgecolor="black")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.yaxis.set_major_formatter(_MEUR)
    ax.set_xlabel("Year")
    ax.set_ylabel("Cumulative discounted net cash flow (million EUR)")
    ax.set_title(
        f"Cash-flow crossover vs {result.reference_scheme} "
        f"({result.discount_rate:.1%} {result.price_basis} discount rate; diamonds: discounted payback)"
        , fontsize=10,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def tornado_chart(result: CbaResult, path: Path, scheme: str | None = None) -> Path:
    """Tornado of ``scheme`` (default: the first-ranked non-reference scheme)."""
    scheme = scheme or _focus(result)
    entries = sorted((e for e in result.tornado if e.scheme == scheme), key=lambda e: e.swing_eur)
    fig = Figure(figsize=(9, max(3.0, 1.2 + 0.45 * len(entries))))
    ax = fig.add_subplot()
    if not entries:
        ax.text(0.5, 0.5, "no tornado ranges given", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _save(fig, path)
    base = entries[0].npv_base_eur
    labels = [f"{e.parameter}\n[{e.low_value:g} .. {e.high_value:g} {e.unit}]" for e in entries]
    y = list(range(len(entries)))
    low = [e.npv_low_eur - base for e in entries]
    high = [e.npv_high_eur - base for e in entries]
    ax.barh(y, low, left=base, color="#4472c4", label="input at low value")
    ax.barh(y, high, left=base, color="#ed7d31", label="input at high value")
    ax.axvline(base, color="black", linewidth=1)
    ax.axvline(0.0, color="red", linewidth=1, linestyle="--", label="NPV = 0")
    ax.set_yticks(y, labels, fontsize=8)
    ax.xaxis.set_major_formatter(_MEUR)
    ax.set_xlabel(f"NPV of {scheme} (million EUR); base {base / 1e6:,.1f} M EUR")
    ax.set_title(f"Tornado: NPV of {scheme} with each input moved alone", fontsize=11)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def monte_carlo_chart(result: CbaResult, path: Path) -> Path:
    """NPV histograms of the schemes over the Monte Carlo samples."""
    mc = result.monte_carlo
    fig = Figure(figsize=(9, 5.2))
    ax = fig.add_subplot()
    edges = mc.bin_edges_eur
    for i, s in enumerate(mc.schemes):
        if result.ict_cost_basis == "incremental" and s.scheme == result.reference_scheme:
            continue
        ax.stairs(s.histogram_counts, edges, fill=True, alpha=0.35, color=_colour(s.scheme, i))
        ax.stairs(s.histogram_counts, edges, linewidth=1.5, color=_colour(s.scheme, i),
                  label=f"{s.scheme}: P(NPV<0) = {s.prob_npv_negative:.1%}, "
                        f"P5..P95 {s.p05_npv_eur / 1e6:,.1f}..{s.p95_npv_eur / 1e6:,.1f} M EUR")
    ax.axvline(0.0, color="red", linewidth=1, linestyle="--")
    ax.xaxis.set_major_formatter(_MEUR)
    ax.set_xlabel(f"NPV relative to {result.reference_scheme} (million EUR)")
    ax.set_ylabel("Samples per bin (count)")
    ax.set_title(f"Monte Carlo: {mc.samples:,} samples of {', '.join(mc.inputs) or 'no input'}",
                 fontsize=10, wrap=True)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no scheme has a histogram when Monte Carlo is off
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def write_charts(result: CbaResult, out_dir: Path) -> dict[str, Path]:
    """Write the three charts into ``out_dir``; returns their paths by key."""
    out_dir = Path(out_dir)
    return {
        "chart_cash_flow": cash_flow_chart(result, out_dir / CHART_FILES["chart_cash_flow"]),
        "chart_tornado": tornado_chart(result, out_dir / CHART_FILES["chart_tornado"]),
        "chart_monte_carlo": monte_carlo_chart(result, out_dir / CHART_FILES["chart_monte_carlo"]),
    }
