"""Time-series charts of a run (read by :mod:`gui.series` from the results database), per scheme.

The drawing is :mod:`cba.figures_timeseries` (the figures ``coordstudio figures`` writes to files); this
panel holds the selectors and calls it with the chosen scheme and price component.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from coordstudio.cba import figures_timeseries as ts
from coordstudio.cba.price_components import COMPONENTS as PRICE_COMPONENTS
from coordstudio.gui.charts import ChartWidget
from coordstudio.gui.series import PackedSeries, RunSeries
from coordstudio.simulation.kpis import SCHEME_IDS

SCHEME_ORDER = SCHEME_IDS  # the simulation's scheme registry (simulation/schemes.py)
STACKED = "stacked"
"""The component selector's value for every component stacked (day means)."""


class TimeSeriesPanel(QWidget):
    """Four charts over the simulated period: nodal prices, activations, clearing cost, voltages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.price_chart = ChartWidget("Nodal prices: mean and range")
        self.activation_chart = ChartWidget("Firm activations (dashed: down)")
        self.cost_chart = ChartWidget("Clearing cost, slack (dotted)")
        self.voltage_chart = ChartWidget("Voltage: min (solid), max (dashed)")
        self.charts = [self.price_chart, self.activation_chart, self.cost_chart, self.voltage_chart]
        self._series: RunSeries | PackedSeries | None = None
        self._schemes: list[str] = []
        self._stale = False
        self.price_mode = QComboBox()
        self.price_mode.addItem("all schemes: mean and range over nodes", "")
        self.price_mode.setToolTip("Nodal prices: a band per scheme, or every node of one scheme as a map")
        self.price_mode.currentIndexChanged.connect(self._redraw_prices)
        self.price_part = QComboBox()
        self.price_part.addItem("price", "")
        for name in PRICE_COMPONENTS:
            self.price_part.addItem(f"{name} component", name)
        self.price_part.addItem("components stacked (day mean)", STACKED)
        self.price_part.setToolTip(
            "The nodal price or one of its components (energy at the reference bus, transmission "
            "congestion, distribution losses, current and voltage limits; they sum to the price), or "
            "all components stacked: one bar per scheme, or per node of one scheme"
        )
        self.price_part.currentIndexChanged.connect(self._redraw_prices)
        top = QHBoxLayout()
        top.addWidget(QLabel("Nodal prices:"))
        top.addWidget(self.price_mode)
        top.addWidget(self.price_part)
        top.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(top)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(grid, 1)
        for i, chart in enumerate(self.charts):
            chart.message("Run the study to see the time series.")
            grid.addWidget(chart, i // 2, i % 2)

    def show_series(self, series: RunSeries | PackedSeries | None) -> None:
        """Show the series of a run: drawn now if the panel is visible, else when it is next shown
        (a finished run then costs the event loop nothing for a tab the user has not opened)."""
        self._series = series
        self._stale = True
        if self.isVisible():
            self._draw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _draw(self) -> None:
        """Draw the stored series (or say why there are none)."""
        self._stale = False
        if isinstance(self._series, PackedSeries):
            self._series = self._series.unpack()
        series = self._series
        if series is None or series.error or series.empty:
            why = (series.error if series else "") or "this run has no results database"
            for chart in self.charts:
                chart.message(f"No time series: {why}.")
            return
        schemes = series.schemes(list(SCHEME_ORDER))
        self._schemes = schemes
        chosen = self.price_mode.currentData()
        self.price_mode.blockSignals(True)
        self.price_mode.clear()
        self.price_mode.addItem("all schemes: mean and range over nodes", "")
        for s in schemes:
            self.price_mode.addItem(f"{s}: every node", s)
        self.price_mode.setCurrentIndex(max(self.price_mode.findData(chosen), 0))
        self.price_mode.blockSignals(False)
        self._redraw_prices()
        self._activations(series, schemes)
        self._costs(series, schemes)
        self._voltages(series, schemes)

    def _redraw_prices(self) -> None:
        series = self._series
        if not isinstance(series, RunSeries) or series.error or series.empty:
            return
        scheme = str(self.price_mode.currentData() or "")
        part = str(self.price_part.currentData() or "")
        if part == STACKED:
            self.price_chart.plot(ts.draw_price_components, series, self._schemes, scheme)
        elif scheme:
            self.price_chart.plot(ts.draw_price_map, series, scheme, part)
        else:
            self.price_chart.plot(ts.draw_price_bands, series, self._schemes, part)

    def _activations(self, s: RunSeries, schemes: list[str]) -> None:
        self.activation_chart.plot(ts.draw_activations, s, schemes)

    def _costs(self, s: RunSeries, schemes: list[str]) -> None:
        self.cost_chart.plot(ts.draw_clearing_costs, s, schemes)

    def _voltages(self, s: RunSeries, schemes: list[str]) -> None:
        self.voltage_chart.plot(ts.draw_voltages, s, schemes)
