"""Simulation results: the KPI table (one column per scheme) beside charts comparing the schemes.

Shows a :class:`cba.study.StudyResult` as it came from ``run_study``; nothing is computed here, the
numbers are the simulation's KPIs (``simulation.kpis.SchemeKpis``) laid out for comparison by
:mod:`cba.figures_kpi` (whose charts ``coordstudio figures`` writes to files).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coordstudio.cba.figures_kpi import KPI_CHARTS, draw_kpi_chart
from coordstudio.gui.charts import ChartWidget
from coordstudio.gui.schema import pretty_name
from coordstudio.simulation.kpis import SchemeKpis


def kpi_rows() -> list[tuple[str, str, str]]:
    """(field, header with unit, description) of every scalar KPI, in schema order."""
    rows = []
    for name, info in SchemeKpis.model_fields.items():
        if info.annotation in (float, int):
            rows.append((name, pretty_name(name), info.description or ""))
    return rows


def format_kpi(value: float | int) -> str:
    """One number format for the KPI table: counts as integers, other values with two decimals and
    thousands separators (0.074 -> '0.07', 1234.5 -> '1,234.50'); tiny non-zero values in scientific
    notation so they do not read as zero."""
    if isinstance(value, int):
        return f"{value:,d}"
    if value != 0 and abs(value) < 0.005:
        return f"{value:.2e}"
    return f"{value:,.2f}"


#: KPIs whose non-zero value makes a scheme not assessed (cba.assessment): shown in red.
_ALERT_KPIS = ("failed_clearings", "infeasible_clearings", "time_limited_clearings", "run_failed")


def _not_assessed(kpis: list[SchemeKpis], reference: str) -> list[str]:
    """The draft's lines on the schemes not assessed (cba.assessment), for the header."""
    from coordstudio.cba.assessment import assess, not_assessed_warnings

    return not_assessed_warnings(assess(kpis, reference or None), reference or None)


class ResultsView(QWidget):
    """KPI table and charts of one run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: Any = None
        self.header = QLabel("No results yet: run the study (Scenario & run view, or F5).")
        self.header.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        charts_inner = QWidget()
        grid = QGridLayout(charts_inner)
        grid.setContentsMargins(0, 0, 0, 0)
        self.charts: list[ChartWidget] = []
        for i, (_stem, title, _fields, _unit) in enumerate(KPI_CHARTS):
            chart = ChartWidget(title)
            chart.message("Run the study to see this chart.")
            chart.setMinimumHeight(250)  # legible bar labels; the grid scrolls on a small screen
            self.charts.append(chart)
            grid.addWidget(chart, i // 2, i % 2)
        charts = QScrollArea()
        charts.setWidgetResizable(True)
        charts.setFrameShape(QScrollArea.Shape.NoFrame)
        charts.setWidget(charts_inner)
        from coordstudio.gui.views.timeseries import TimeSeriesPanel

        self.timeseries = TimeSeriesPanel()
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(charts, "KPI comparison")
        self.right_tabs.addTab(self.timeseries, "Time series")
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("<b>Key performance indicators per scheme</b>"))
        ll.addWidget(self.table, 1)
        split.addWidget(left)
        split.addWidget(self.right_tabs)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([480, 900])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)

    def _fit_table(self) -> None:
        """Give the KPI table the width of all its scheme columns (at 1366x768 it showed 3 of 5), the
        charts keeping the rest; capped at half the view."""
        self.table.resizeColumnsToContents()
        needed = (
            self.table.verticalHeader().width()
            + sum(self.table.columnWidth(c) for c in range(self.table.columnCount()))
            + self.table.verticalScrollBar().sizeHint().width()
            + 6
        )
        total = max(sum(self.splitter.sizes()), self.width() - 20)
        left = min(needed, max(total // 2, 300))
        self.splitter.setSizes([left, max(total - left, 300)])

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.table.columnCount():
            self._fit_table()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.table.columnCount():
            self._fit_table()

    def show_result(self, result: Any, label: str = "", series: Any = None) -> None:
        """Fill the table and charts from a ``StudyResult`` (and its time series, when recorded)."""
        self.result = result
        self.timeseries.show_series(series)
        kpis: list[SchemeKpis] = list(getattr(result, "kpis", []))
        days = sorted({k.day for k in kpis})
        schemes = list(dict.fromkeys(k.scheme for k in kpis))
        # a column per scheme and day when the run simulated several representative days, named as the
        # KPI charts name their bars ("CMS d015")
        columns = [f"{k.scheme} {k.day}" if len(days) > 1 else k.scheme for k in kpis]
        cba = getattr(result, "cba", None)
        reference = getattr(cba, "reference_scheme", "") if cba is not None else ""
        self.header.setText(
            f"<b>{label or 'Latest run'}</b>: {len(schemes)} scheme(s) simulated"
            + (f", day(s) {', '.join(days)}" if days else "")
            + (f", {kpis[0].duration_h:g} h each" if kpis else "")
            + (
                f". Reference scheme of the CBA: <b>{reference}</b> (the benefits of the others are "
                "these KPIs' differences from it)."
                if reference
                else ""
            )
            + "".join(f"<br><b style='color:#b00020'>✖ {line}</b>" for line in _not_assessed(kpis, reference))
        )
        rows = kpi_rows()
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(kpis))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setVerticalHeaderLabels([header for _n, header, _d in rows])
        for r, (name, _header, desc) in enumerate(rows):
            self.table.verticalHeaderItem(r).setToolTip(desc)
            for c, k in enumerate(kpis):
                value = getattr(k, name)
                text = format_kpi(value)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(desc)
                if name in _ALERT_KPIS and value:
                    item.setForeground(QColor("#b00020"))  # the scheme is not assessed (cba.assessment)
                self.table.setItem(r, c, item)
        self._fit_table()
        for chart, spec in zip(self.charts, KPI_CHARTS, strict=True):
            # the chart `coordstudio figures` writes (cba.figures): several days as one yearly bar per
            # scheme, weighted by the CBA's day weights (cba.benefits.yearly_kpi)
            chart.plot(draw_kpi_chart, kpis, spec, day_weights=dict(getattr(result, "day_weights", {}) or {}))
