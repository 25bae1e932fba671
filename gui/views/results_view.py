"""Simulation results: the KPI table (one column per scheme) beside charts comparing the schemes.

Shows a :class:`cba.study.StudyResult` as it came from ``run_study``; nothing is computed here, the
numbers are the simulation's KPIs (``simulation.kpis.SchemeKpis``) laid out for comparison.
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

from coordstudio.gui.charts import SCHEME_COLOURS, ChartWidget, bar_by_scheme
from coordstudio.gui.schema import pretty_name
from coordstudio.simulation.kpis import SchemeKpis

#: Charts of the results view: (title, [(KPI field, legend label)], y label)
KPI_CHARTS: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    # the CBA counts the resource cost (as bid); the payments at nodal prices are transfers (issue 16 item 4)
    ("Activation: resource cost and payments",
     (("resource_cost_eur", "resource cost (as bid)"), ("activation_cost_eur", "paid to sellers")), "EUR"),
    ("Imbalance covered by aFRR", (("afrr_cost_eur", "aFRR cost"),), "EUR"),
    ("Congestion", (("congestion_hours_h", "line-hours > 100 %"),), "h"),
    ("Voltage violations", (("voltage_violation_hours_h", "bus-hours outside limits"),), "h"),
    ("RES curtailment and losses", (("curtailed_res_mwh", "curtailed RES"), ("losses_mwh", "losses")), "MWh"),
    ("Market slack (unserved need)", (("slack_energy_mwh", "slack energy"),), "MWh"),
)


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
        for i, (title, _fields, _unit) in enumerate(KPI_CHARTS):
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
        schemes = [k.scheme for k in kpis]
        days = sorted({k.day for k in kpis})
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
        self.table.setHorizontalHeaderLabels(schemes)
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
        for chart, (_title, fields, unit) in zip(self.charts, KPI_CHARTS, strict=True):
            if not kpis:
                chart.message("No KPIs in this run.")
                continue
            ax = chart.axes()
            if len(fields) == 1:
                field, _label = fields[0]
                bar_by_scheme(ax, {k.scheme: float(getattr(k, field)) for k in kpis}, unit)
            else:
                n = len(fields)
                width = 0.8 / n
                for i, (field, label_) in enumerate(fields):
                    xs = [j + (i - (n - 1) / 2) * width for j in range(len(kpis))]
                    ax.bar(
                        xs,
                        [float(getattr(k, field)) for k in kpis],
                        width=width,
                        label=label_,
                        color=["#4C72B0", "#DD8452"][i % 2],
                    )
                ax.set_xticks(range(len(kpis)), schemes)
                ax.set_ylabel(unit)
                # above the axes, never over the bars
                ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=n, frameon=False, fontsize=7)
            if all(float(getattr(k, f)) == 0.0 for k in kpis for f, _l in fields):
                ax.set_ylim(0.0, 1.0)
                ax.text(
                    0.5, 0.6, "zero for every scheme", ha="center", transform=ax.transAxes, color="#555555"
                )
            else:
                ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
            for tick in ax.get_xticklabels():
                tick.set_color(SCHEME_COLOURS.get(tick.get_text(), "black"))
            chart.draw()
