"""ICT check: the SGAM model's interaction events against the messages the simulation exchanged.

Shows the :class:`cba.ictcheck.IctCheckResult` that ``run_study`` produced for the last run: a verdict
count, the per-event table (filterable by scheme and verdict; column headers and tooltips from the
result's schema) and the check's chart (``cba.ictcheck_output.ict_check_figure``). Nothing is computed
here.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coordstudio.gui.schema import pretty_name

#: Columns of the event table: field of ``EventCheckRow`` (header and tooltip come from its schema).
EVENT_COLUMNS: tuple[str, ...] = (
    "scheme",
    "event_id",
    "verdict",
    "stated_messages_per_h",
    "measured_messages_per_h",
    "stated_payload_bytes",
    "payload_mean_bytes",
    "peak_data_rate_kbps",
    "late_share_frac",
    "technology_id",
    "measured_technology_id",
    "link_delta_pv_eur",
    "reasons",
)

VERDICT_COLOURS = {
    "consistent": "#d9f2d9",
    "under_specified": "#f8d0c8",
    "over_specified": "#fde9b8",
    "not_observed": "#e6e6e6",
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,d}"  # counts and byte sizes with separators, like the floats beside them
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(getattr(value, "value", value))


class IctCheckView(QWidget):
    """Verdicts per interaction event and scheme, with the check's chart."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: Any = None
        self.header = QLabel(
            "No ICT check yet: run the study; the check compares each interaction event's stated rate, "
            "payload and latency with the messages the simulation logged."
        )
        self.header.setWordWrap(True)
        self.scheme_filter = QComboBox()
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItems(["all verdicts", *VERDICT_COLOURS])
        self.scheme_filter.addItem("all schemes")
        self.scheme_filter.currentIndexChanged.connect(self._fill_table)
        self.verdict_filter.currentIndexChanged.connect(self._fill_table)

        self.table = QTableWidget(0, len(EVENT_COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self._set_headers()

        self.figure_scroll = QScrollArea()
        self.figure_scroll.setWidgetResizable(False)
        self.canvas: FigureCanvasQTAgg | None = None

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Scheme:"))
        filters.addWidget(self.scheme_filter)
        filters.addWidget(QLabel("Verdict:"))
        filters.addWidget(self.verdict_filter)
        filters.addStretch(1)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(filters)
        ll.addWidget(self.table)
        self.tabs = QTabWidget()
        self.tabs.addTab(left, "Events")
        self.tabs.addTab(self.figure_scroll, "Chart")
        self.tabs.currentChanged.connect(lambda _i: self._show_figure_if_visible())
        self._figure_stale = False
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)

    def _set_headers(self) -> None:
        from coordstudio.cba.ictcheck import EventCheckRow

        fields = EventCheckRow.model_fields
        for i, name in enumerate(EVENT_COLUMNS):
            item = QTableWidgetItem(pretty_name(name))
            item.setToolTip(fields[name].description or "")
            self.table.setHorizontalHeaderItem(i, item)

    def show_result(self, check: Any) -> None:
        """Show the ICT check of a run (``None``: the run had no results database)."""
        self.result = check
        if check is None:
            self.header.setText("This run has no ICT check (no results database).")
            self.table.setRowCount(0)
            return
        from collections import Counter

        tally = Counter(_cell(e.verdict) for e in check.events)
        counts = ", ".join(f"{n} {verdict.replace('_', '-')}" for verdict, n in sorted(tally.items()))
        material = [s.scheme for s in check.schemes if s.material]
        self.header.setText(
            f"<b>ICT check</b> of {len(check.events)} event/scheme pairs over {check.duration_h:g} h: "
            f"{counts}. ICT cost on measured traffic changes materially for: "
            f"{', '.join(material) if material else 'no scheme'}."
        )
        self.scheme_filter.blockSignals(True)
        self.scheme_filter.clear()
        self.scheme_filter.addItems(["all schemes", *sorted({e.scheme for e in check.events})])
        self.scheme_filter.blockSignals(False)
        self._fill_table()
        # The chart takes a few hundred ms to build: only when the user looks at it, never in the
        # event-loop pass that shows a finished run.
        self._figure_stale = True
        self._show_figure_if_visible()

    def _fill_table(self) -> None:
        check = self.result
        if check is None:
            return
        scheme = self.scheme_filter.currentText()
        verdict = self.verdict_filter.currentText()
        rows = [
            e
            for e in check.events
            if (scheme == "all schemes" or e.scheme == scheme)
            and (verdict == "all verdicts" or _cell(e.verdict) == verdict)
        ]
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            colour = QBrush(QColor(VERDICT_COLOURS.get(_cell(row.verdict), "#ffffff")))
            for c, name in enumerate(EVENT_COLUMNS):
                value = getattr(row, name)
                item = QTableWidgetItem(_cell(value))
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    item.setData(Qt.ItemDataRole.UserRole, value)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if name == "verdict":
                    item.setBackground(colour)
                if name == "reasons":
                    item.setToolTip(row.reasons)
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(len(EVENT_COLUMNS) - 1, 400)

    def _show_figure_if_visible(self) -> None:
        if self._figure_stale and self.result is not None and self.tabs.currentWidget() is self.figure_scroll:
            self._figure_stale = False
            self._show_figure()

    def _show_figure(self) -> None:
        from coordstudio.cba.ictcheck_output import ict_check_figure

        figure = ict_check_figure(self.result)
        figure.set_dpi(96)
        self.canvas = FigureCanvasQTAgg(figure)
        # the figure is laid out for a page: show it at its own size and let the user scroll
        width_in, height_in = figure.get_size_inches()
        self.canvas.setFixedSize(int(width_in * 96), int(height_in * 96))
        self.figure_scroll.setWidget(self.canvas)  # deletes the previous canvas
        self.canvas.draw_idle()
