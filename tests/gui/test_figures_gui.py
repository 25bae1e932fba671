"""The GUI's charts and ``coordstudio figures`` draw the same data: the views call the Qt-free drawing
functions the command line saves (cba.figures_kpi, cba.figures_timeseries), so the line and bar data of
a view's canvas equal those of the headless figure, array for array (issue 19 item 7)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from coordstudio.cba.figures import read_sources
from coordstudio.cba.figures_kpi import KPI_CHARTS, draw_kpi_chart
from coordstudio.cba.figures_timeseries import draw_activations, draw_price_bands, draw_voltages
from coordstudio.gui.views.results_view import ResultsView
from coordstudio.gui.views.timeseries import TimeSeriesPanel
from tests.cba.figure_fixtures import NODE_PRICES, SCHEMES, two_day_afrr_kpis, write_results_dir


def _lines(fig: Figure) -> list[tuple[str, list[float], list[float]]]:
    return [
        (str(ln.get_label()), list(np.asarray(ln.get_xdata(), float)),
         list(np.asarray(ln.get_ydata(), float)))
        for ax in fig.axes
        for ln in ax.get_lines()
    ]


def _bars(fig: Figure) -> list[tuple[float, float, float]]:
    return [(p.get_x(), p.get_height(), p.get_width()) for ax in fig.axes for p in ax.patches]


def test_views_draw_what_the_headless_figures_draw(qtbot: Any, tmp_path: Path) -> None:
    sources = read_sources(write_results_dir(tmp_path / "run"))
    series = sources.series
    assert series is not None and not series.error

    panel = TimeSeriesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_series(series)  # what the run process hands the GUI, read from the same database
    schemes = list(SCHEMES)
    for chart, draw in ((panel.price_chart, draw_price_bands), (panel.activation_chart, draw_activations),
                        (panel.voltage_chart, draw_voltages)):
        headless = Figure()
        title = draw(headless, series, schemes)
        assert chart.title == title
        assert _lines(chart.figure) == _lines(headless) and _lines(headless)
    # and the data is the run's: the mean of the three nodal prices (hand: CMS 42, CM 45 EUR/MWh)
    means = {label: ys[0] for label, _xs, ys in _lines(panel.price_chart.figure)}
    assert means == {s: sum(NODE_PRICES[s]) / 3.0 for s in SCHEMES}

    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(SimpleNamespace(kpis=sources.kpis, cba=None), "hand-built run")
    for chart, spec in zip(view.charts, KPI_CHARTS, strict=True):
        headless = Figure()
        assert chart.title == draw_kpi_chart(headless, sources.kpis, spec)
        assert _bars(chart.figure) == _bars(headless) and len(_bars(headless)) >= len(SCHEMES)


def test_results_view_kpi_chart_of_two_days_is_the_yearly_amount_per_scheme(qtbot: Any) -> None:
    """A run of two representative days shown in the GUI: the KPI chart draws one bar per scheme with
    the yearly amount the CBA annualises (the run's ``day_weights``), as ``coordstudio figures`` does,
    while the table keeps a column per scheme and day. Hand calculation (as
    tests/cba/test_figures.py): day a 300 d/a over 24 h, day b 65 d/a over 12 h; CMS aFRR 10 and 4 EUR
    -> 300*10 + 65*4*2 = 3520 EUR/a; CM 20 and 6 EUR -> 6000 + 780 = 6780 EUR/a."""
    kpis = two_day_afrr_kpis()
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(SimpleNamespace(kpis=kpis, cba=None, day_weights={"a": 300.0, "b": 65.0}), "two days")
    spec = next(s for s in KPI_CHARTS if s[0] == "kpi_afrr_cost")
    chart = view.charts[KPI_CHARTS.index(spec)]
    ax = chart.figure.axes[0]
    heights = {t.get_text(): p.get_height() for t, p in zip(ax.get_xticklabels(), ax.patches, strict=True)}
    assert heights == {"CMS": 3520.0, "CM": 6780.0}
    assert "per year" in chart.title
    # the label above the small chart: the title's first line bold, the days and weights small below it
    head, _, rest = chart.title.partition("\n")
    assert chart.title_label.text().startswith(f"<b>{head}</b><br><span")
    assert "a 300" in rest and "a 300" in chart.title_label.text()
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert headers == ["CMS a", "CMS b", "CM a", "CM b"]
