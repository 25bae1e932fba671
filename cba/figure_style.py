"""The look every figure of the tool shares, in the desktop application and in the files alike.

Drawing functions (:mod:`cba.figures_kpi`, :mod:`cba.figures_timeseries`, :mod:`cba.charts`) take a
matplotlib ``Figure`` and draw into it; the GUI passes the figure of its canvas, the command line a
fresh one it then saves (:mod:`cba.figures`). What they share lives here: the rc settings (font sizes in
points, so a chart stays readable at 1366x768 and on a printed page), the legend placed above the axes,
the value labels of bar charts, the sentence drawn instead of an empty chart, and the ``gid`` naming that
lets a test find each scheme's line or bar in an SVG file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FIGURE_STYLE",
    "SCHEME_COLOURS",
    "TOP_LEGEND",
    "bar_by_scheme",
    "bar_labels",
    "scheme_colour",
    "series_gid",
    "show_message",
    "top_legend",
]

#: One palette for the schemes in every chart of the tool, reports and GUI alike (colour-blind safe,
#: Okabe-Ito; CM-D, the decentralised common market, a darker shade of CM's colour, from Paul Tol's muted
#: scheme). A scheme not listed gets matplotlib's cycle colour.
SCHEME_COLOURS: Mapping[str, str] = {
    "CMS": "#0072B2", "LMS": "#E69F00", "SBR": "#009E73", "CM": "#CC79A7", "CM-D": "#882255",
    "IFM": "#D55E00"}

FIGURE_STYLE: Mapping[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "coordstudio",  # stable ids in SVG files: two runs write the same file
}
"""matplotlib rc settings of every figure (the GUI applies them once; the files in an rc_context)."""

TOP_LEGEND: Mapping[str, Any] = {
    "loc": "lower center",
    "bbox_to_anchor": (0.5, 1.0),
    "frameon": False,
    "fontsize": 7,
    "handlelength": 1.2,
    "columnspacing": 0.8,
}
"""Legend above the axes, outside the data (constrained layout makes room for it)."""


def top_legend(ax: Axes, ncols: int) -> None:
    """The legend above ``ax`` in ``ncols`` columns (at most 5), when anything is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(ncols=max(1, min(ncols, 5)), **TOP_LEGEND)


def scheme_colour(scheme: str, index: int = 0) -> str:
    """The scheme's colour of the one palette (:data:`SCHEME_COLOURS`), else the cycle's."""
    return SCHEME_COLOURS.get(scheme, f"C{index % 10}")


def series_gid(kind: str, *parts: str) -> str:
    """The ``gid`` of one drawn series (an SVG file's element id), e.g. ``line-prices-CMS``: a test or a
    reader of the SVG finds each scheme's line or bar by it."""
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in p) for p in parts]
    return "-".join([kind, *safe])


def show_message(fig: Figure, text: str) -> None:
    """A sentence instead of a chart ("No firm activation was recorded.")."""
    fig.clear()
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, color="#555555")


def bar_labels(values: Sequence[float]) -> list[str]:
    """The values of one chart written in one format, chosen by the largest of them: 0.82 and 9.59 (not
    0.819 and 9.59), 643 and 1,532 (not 643 and 1.5 k), 1.25 M and 0.40 M."""
    top = max((abs(v) for v in values), default=0.0)
    if top >= 1e6:
        return [f"{v / 1e6:,.2f} M" for v in values]
    if top >= 100:
        return [f"{v:,.0f}" for v in values]
    return [f"{v:,.2f}" for v in values]


def bar_by_scheme(
    ax: Axes, values: Mapping[str, float], ylabel: str, title: str = "", what: str = ""
) -> None:
    """One bar per scheme with its value written on top (numbers are given, nothing is computed); each
    bar's gid is ``bar-<what>-<scheme>``."""
    schemes = list(values)
    heights = [values[s] for s in schemes]
    bars = ax.bar(schemes, heights, color=[scheme_colour(s, i) for i, s in enumerate(schemes)])
    for bar, scheme in zip(bars, schemes, strict=True):
        bar.set_gid(series_gid("bar", what or ylabel, scheme))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.bar_label(bars, labels=bar_labels(heights), fontsize=7, padding=2)
    ax.margins(y=0.15)
