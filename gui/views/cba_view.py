"""Cost-benefit analysis: parameters form, results table, cash-flow / tornado / Monte Carlo charts, what-if.

The CBA itself is ``cba.analysis.run_cba`` (pure function); this view only calls it. It needs the KPIs of
a simulation run: until one exists the view says so. The what-if controls (discount rate, horizon, ICT
cost and benefit multipliers) do not change the study: they build a copy of the study's CBA parameters
with those values, recompute the ICT cost for that horizon and rate (``sgam.matching.ict_costs``) and the
CBA at once, so an analyst can explore without losing the study's inputs; "Apply to study" writes them
(one undoable step).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coordstudio.cba.charts import (
    ACTOR_NAMES,
    draw_actors,
    draw_annual_cash_flow,
    draw_cash_flow,
    draw_monte_carlo,
    draw_tornado,
)
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.study import with_run_days
from coordstudio.gui.charts import ChartWidget
from coordstudio.gui.document import EditRejected, StudyDocument
from coordstudio.gui.forms import PydanticForm

FORM_FIELDS = [
    "discount_rate",
    "horizon_years",
    "reference_scheme",
    "price_basis",
    "escalation_rate",
    "ict_cost_basis",
    "unresolved_congestion_price_eur_per_mwh",
    "voltage_violation_price_eur_per_bus_hour",
    "curtailed_res_price_eur_per_mwh",
    "losses_price_eur_per_mwh",
    "unserved_need_price_eur_per_mwh",
    "energy_not_served_price_eur_per_mwh",
    "co2_price_eur_per_t",
    "emission_factor_t_per_mwh",
    "benefit_factor",
    "ict_capex_factor",
    "ict_opex_factor",
    "monte_carlo_samples",
    "monte_carlo_seed",
    "histogram_bins",
]

RESULT_COLUMNS = [
    "Rank",
    "Scheme",
    "NPV\n[M EUR]",
    "BCR\n[-]",
    "IRR\n[%/a]",
    "Disc. payback\n[years]",
    "PV benefits\n[M EUR]",
    "PV costs\n[M EUR]",
    "P(NPV<0)\n[%]",
    "P(rank 1)\n[%]",
]


def _short_name(parameter: str) -> str:
    """A compact label for a CBA input in the tornado chart ('losses_price_eur_per_mwh' -> 'losses price')."""
    from coordstudio.gui.schema import split_unit

    return split_unit(parameter)[0].replace("_", " ").replace("unresolved ", "").replace("ict ", "ICT ")


def _m(value: float | None) -> str:
    return "–" if value is None else f"{value / 1e6:,.2f}"


class CbaView(QWidget):
    """Parameters, what-if controls, results table and charts of the cost-benefit analysis."""

    message = Signal(str)
    resultChanged = Signal(object)

    def __init__(self, doc: StudyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.run_result: Any = None  # StudyResult of the last run (KPIs + ICT)
        self.cba_result: Any = None  # CbaResult shown now (what-if applied)
        self.params_shown: CbaParameters | None = None
        self.run_days: dict[str, float] = {}
        """Weights of the shown run's representative days (empty: the study's own weights apply)."""
        self.ict_shown: dict[str, Any] = {}
        self.last_compute_s = 0.0

        # ---------------- left: parameters and what-if
        self.form = PydanticForm(doc, ("cba",), CbaParameters, FORM_FIELDS)
        params_box = QGroupBox("CBA parameters (saved in the study)")
        pl = QVBoxLayout(params_box)
        pl.addWidget(self.form)

        whatif = QGroupBox("What-if (not saved until applied)")
        wf = QFormLayout(whatif)
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.0, 30.0)
        self.rate.setDecimals(2)
        self.rate.setSingleStep(0.25)
        self.rate.setSuffix(" %/a")
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 60)
        self.horizon.setSuffix(" years")
        self.capex_x = self._factor_box()
        self.opex_x = self._factor_box()
        self.benefit_x = self._factor_box()
        wf.addRow("Discount rate:", self.rate)
        wf.addRow("Horizon:", self.horizon)
        wf.addRow("ICT CAPEX ×:", self.capex_x)
        wf.addRow("ICT OPEX ×:", self.opex_x)
        wf.addRow("Benefits ×:", self.benefit_x)
        for box, tip in (
            (self.rate, "Real discount rate of the appraisal"),
            (self.horizon, "Appraisal horizon"),
            (self.capex_x, "Multiplier on all ICT investment"),
            (self.opex_x, "Multiplier on all ICT operating cost"),
            (self.benefit_x, "Multiplier on all simulated benefits"),
        ):
            box.setToolTip(tip)
            box.valueChanged.connect(self._schedule)
        buttons = QHBoxLayout()
        reset = QPushButton("Reset to study")
        reset.clicked.connect(self.reset_whatif)
        apply = QPushButton("Apply to study")
        apply.setToolTip("Write these values into the study's CBA parameters (undoable)")
        apply.clicked.connect(self.apply_whatif)
        buttons.addWidget(reset)
        buttons.addWidget(apply)
        wf.addRow(buttons)
        self.timing_label = QLabel("")
        wf.addRow(self.timing_label)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(whatif)
        ll.addWidget(params_box)
        ll.addWidget(self._list_boxes())
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setMinimumWidth(380)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

        # ---------------- right: results
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # What the figures support, in words (gui.verdict): never "Best: <reference>" alone.
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.verdict: Any = None
        self.table = QTableWidget(0, len(RESULT_COLUMNS))
        self.table.setHorizontalHeaderLabels(RESULT_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setFixedHeight(46 + 5 * 22 + 6)
        self.table.setToolTip(
            "NPV, BCR, IRR and discounted payback from cba.analysis.run_cba; P(NPV<0) and "
            "P(rank 1) from its Monte Carlo analysis"
        )
        self.cash_chart = ChartWidget("Cumulative discounted cash flow")
        self.annual_chart = ChartWidget("Yearly net cash flow")
        self.tornado_chart = ChartWidget("Tornado: NPV of the best alternative")
        self.mc_chart = ChartWidget("Monte Carlo NPV distribution")
        self.charts = [self.cash_chart, self.annual_chart, self.tornado_chart, self.mc_chart]
        grid_inner = QWidget()
        grid = QGridLayout(grid_inner)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, chart in enumerate(self.charts):
            # below ~260 px a chart's labels collide (tornado rows, axis titles): scroll instead
            chart.setMinimumHeight(260)
            grid.addWidget(chart, i // 2, i % 2)
        grid_w = QScrollArea()
        grid_w.setWidgetResizable(True)
        grid_w.setFrameShape(QScrollArea.Shape.NoFrame)
        grid_w.setWidget(grid_inner)
        # Micro level and robustness: who gains and who pays; which input values flip the conclusion.
        self.actor_chart = ChartWidget("NPV per actor group (who gains, who pays)")
        self.actor_table = QTableWidget(0, 6)
        self.actor_table.setHorizontalHeaderLabels(
            [
                "Scheme",
                "Actor group",
                "PV benefits\n[M EUR]",
                "PV ICT cost\n[M EUR]",
                "NPV\n[M EUR]",
                "Business case",
            ]
        )
        self.switch_table = QTableWidget(0, 6)
        self.switch_table.setHorizontalHeaderLabels(
            ["Input", "Test", "Scheme", "Base value", "Switching value", "Change [%]"]
        )
        for t in (self.actor_table, self.switch_table):
            t.verticalHeader().setVisible(False)
            t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
            t.setAlternatingRowColors(True)
            t.verticalHeader().setDefaultSectionSize(22)
        actors_w = QSplitter(Qt.Orientation.Horizontal)
        actors_w.addWidget(self.actor_table)
        actors_w.addWidget(self.actor_chart)
        switch_w = QWidget()
        sl = QVBoxLayout(switch_w)
        sl.setContentsMargins(0, 0, 0, 0)
        note = QLabel(
            "Value of each input at which a scheme's NPV changes sign or the first place changes "
            "(cba.sensitivity); '–' when it does not happen in the tested range."
        )
        note.setWordWrap(True)
        sl.addWidget(note)
        sl.addWidget(self.switch_table, 1)
        self.result_tabs = QTabWidget()
        self.result_tabs.addTab(grid_w, "Charts")
        self.result_tabs.addTab(actors_w, "Actors")
        self.result_tabs.addTab(switch_w, "Switching values")
        self.charts.append(self.actor_chart)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.status)
        rl.addWidget(self.banner)
        rl.addWidget(self.table)
        rl.addWidget(self.result_tabs, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        # the parameters keep their width (their labels are long); the results take what the screen has
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([430, 1100])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.recompute)
        doc.changed.connect(self._on_changed)
        doc.studyReplaced.connect(self._on_study_replaced)
        self.reset_whatif()
        self.recompute()

    def _list_boxes(self) -> QWidget:
        """Editors for the CBA's lists and the day weights (everything editable without a text editor)."""
        from coordstudio.cba.parameters import SCALAR_PARAMETERS, TornadoRange, UncertainInput
        from coordstudio.gui.tables import ListEditor

        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        choices = {"parameter": lambda: list(SCALAR_PARAMETERS)}
        self.list_editors: dict[str, ListEditor] = {}
        for name, title, cls in (
            ("uncertain_inputs", "Monte Carlo: uncertain inputs", UncertainInput),
            ("tornado_ranges", "Tornado: input ranges", TornadoRange),
        ):
            group = QGroupBox(title)
            gl = QVBoxLayout(group)
            editor = ListEditor(self.doc, ("cba", name), cls, reference_choices=choices, id_field="parameter")
            editor.setMinimumHeight(190)
            editor.message.connect(self.message)
            gl.addWidget(editor)
            self.list_editors[name] = editor
            lay.addWidget(group)

        group = QGroupBox("Representative days: weight [days/a] (must sum to 365 or 366)")
        gl = QVBoxLayout(group)
        self.days_note = QLabel("")  # which days the run weights: the study's own or these (_fill_weights)
        self.days_note.setWordWrap(True)
        gl.addWidget(self.days_note)
        self.weights = QTableWidget(0, 2)
        self.weights.setHorizontalHeaderLabels(["Day id", "Weight [d/a]"])
        self.weights.verticalHeader().setVisible(False)
        self.weights.horizontalHeader().setStretchLastSection(True)
        self.weights.setMinimumHeight(90)
        gl.addWidget(self.weights)
        row = QHBoxLayout()
        add_day = QPushButton("Add day")
        add_day.clicked.connect(self._add_day)
        apply_days = QPushButton("Apply weights")
        apply_days.setToolTip("Validate all weights together and store them in the study (undoable)")
        apply_days.clicked.connect(self.apply_weights)
        row.addWidget(add_day)
        row.addWidget(apply_days)
        gl.addLayout(row)
        lay.addWidget(group)
        self._fill_weights()
        return box

    def _fill_weights(self) -> None:
        n_days = self.doc.study.scenario.profiles.representative_days
        self.days_note.setText(
            f"This study simulates {n_days} representative days chosen from the profile year (Scenario: "
            "profiles.representative_days); a run weights each by the days it stands for "
            "(representative_days.csv). The weights below apply only with representative_days 0."
            if n_days > 0 else
            "This study simulates its one day (profiles.day_of_year, representative_days 0); the weights "
            "below make it a year."
        )
        weights = self.doc.study.cba.day_weights_days_per_year
        self.weights.setRowCount(len(weights))
        for r, (day, w) in enumerate(weights.items()):
            self.weights.setItem(r, 0, QTableWidgetItem(day))
            self.weights.setItem(r, 1, QTableWidgetItem(f"{w:g}"))

    def _add_day(self) -> None:
        r = self.weights.rowCount()
        self.weights.setRowCount(r + 1)
        self.weights.setItem(r, 0, QTableWidgetItem(f"day{r + 1}"))
        self.weights.setItem(r, 1, QTableWidgetItem("0"))

    def apply_weights(self) -> bool:
        """Store the weights table in the study (all rows at once: they must sum to a year together)."""
        weights: dict[str, float] = {}
        for r in range(self.weights.rowCount()):
            day_item, w_item = self.weights.item(r, 0), self.weights.item(r, 1)
            day = day_item.text().strip() if day_item else ""
            if not day:
                continue
            try:
                weights[day] = float((w_item.text() if w_item else "0").replace(",", ""))
            except ValueError:
                self.message.emit(f"cba.day_weights_days_per_year[{day}]: not a number")
                return False
        try:
            self.doc.set_fields(("cba",), {"day_weights_days_per_year": weights})
        except EditRejected as exc:
            self.message.emit(str(exc))
            return False
        return True

    @staticmethod
    def _factor_box() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 10.0)
        box.setDecimals(2)
        box.setSingleStep(0.1)
        return box

    # ------------------------------------------------------------------ inputs

    def _on_changed(self, path: tuple[Any, ...]) -> None:
        if path[:1] == ("cba",) or not path:
            self._fill_weights()
            self.reset_whatif()
        elif path[:1] == ("sgam",) or path[:1] == ("scenario",):
            if path[:2] in (("scenario",), ("scenario", "profiles")):
                self._fill_weights()  # the note names the study's days
            self._schedule()

    def _on_study_replaced(self) -> None:
        self.run_result = None
        self._fill_weights()
        self.reset_whatif()

    def reset_whatif(self) -> None:
        """Put the what-if controls back to the study's values and recompute."""
        p = self.doc.study.cba
        self.horizon.blockSignals(True)
        self.horizon.setValue(int(p.horizon_years))
        self.horizon.blockSignals(False)
        for box, value in (
            (self.rate, 100 * p.discount_rate),
            (self.capex_x, p.ict_capex_factor),
            (self.opex_x, p.ict_opex_factor),
            (self.benefit_x, p.benefit_factor),
        ):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._schedule()

    def whatif_parameters(self) -> CbaParameters:
        """The study's CBA parameters with the what-if values (validated by pydantic), weighting the days
        of the shown run when it simulated representative days (:func:`cba.study.with_run_days`)."""
        data = with_run_days(self.doc.study.cba, self.run_days).model_dump()
        data.update(
            discount_rate=round(self.rate.value() / 100, 6),
            horizon_years=self.horizon.value(),
            ict_capex_factor=self.capex_x.value(),
            ict_opex_factor=self.opex_x.value(),
            benefit_factor=self.benefit_x.value(),
        )
        return CbaParameters.model_validate(data)

    def apply_whatif(self) -> None:
        """Write the what-if values into the study (one undo step)."""
        p = self.whatif_parameters()
        try:
            self.doc.set_fields(
                ("cba",),
                {
                    k: getattr(p, k)
                    for k in (
                        "discount_rate",
                        "horizon_years",
                        "ict_capex_factor",
                        "ict_opex_factor",
                        "benefit_factor",
                    )
                },
            )
        except EditRejected as exc:
            self.message.emit(str(exc))

    def _schedule(self) -> None:
        self._timer.start()

    # ------------------------------------------------------------------ results

    def set_run_result(self, result: Any, run_params: CbaParameters | None = None,
                       run_days: dict[str, float] | None = None) -> None:
        """Use the KPIs (and ICT costs) of a finished run; ``run_days`` (day id -> days a year) are the
        weights of the representative days it simulated (empty: the study's one day and own weights).

        When the what-if controls still equal the parameters the run used (``run_params``) and the SGAM
        model is unchanged, the run's own CBA (computed in the worker) is shown as is, so a finished run
        costs the GUI thread no CBA computation; otherwise the CBA is recomputed for what is on screen.
        """
        self.run_result = result
        self.run_days = dict(run_days or {})
        own = getattr(result, "cba", None)
        if (
            own is not None
            and run_params is not None
            and self.whatif_parameters() == run_params
            and dict(getattr(result, "ict", {})) == self._ict_for(run_params)
        ):
            self.params_shown = run_params
            self.ict_shown = dict(result.ict)
            self.cba_result = own
            self.timing_label.setText("CBA of the run")
            self._show(own)
            self.resultChanged.emit(own)
            return
        self.recompute()

    def recompute(self) -> None:
        """Run the CBA with the what-if parameters on the last run's KPIs; show it."""
        if self.run_result is None or not getattr(self.run_result, "kpis", None):
            self.cba_result = None
            self.status.setText(
                "<b>No simulation results yet.</b> The CBA needs the KPIs of a run: "
                "press F5 (Run ▸ Run study) or Run in the Scenario view."
            )
            self.table.setRowCount(0)
            self.banner.setVisible(False)
            self.verdict = None
            for chart in self.charts:
                chart.message("Run the study to see the cost-benefit analysis.")
            return
        from coordstudio.cba.errors import CbaError
        from coordstudio.sgam.errors import SgamError

        t0 = time.perf_counter()
        try:
            params = self.whatif_parameters()
            ict = self._ict_for(params)
            from coordstudio.cba.analysis import run_cba

            result = run_cba(params, self.run_result.kpis, ict)
            own = getattr(self.run_result, "cba", None)
            if own is not None and own.stress_coverage is not None:
                # which days were simulated does not change with the what-if prices: the draft keeps it
                result = result.model_copy(update={"stress_coverage": own.stress_coverage})
        except (CbaError, SgamError, ValueError) as exc:
            self.status.setText(f"<span style='color:#b00020'>CBA cannot be computed: {exc}</span>")
            return
        self.last_compute_s = time.perf_counter() - t0
        self.params_shown = params
        self.ict_shown = ict
        self.cba_result = result
        self.timing_label.setText(f"recomputed in {1000 * self.last_compute_s:.0f} ms")
        self._show(result)
        self.resultChanged.emit(result)

    def _ict_for(self, params: CbaParameters) -> dict[str, Any]:
        """ICT cost of the current SGAM model for the what-if horizon and discount rate."""
        from coordstudio.sgam.matching import ict_costs
        from coordstudio.simulation.scenario import endpoint_counts

        study = self.doc.study
        return dict(
            ict_costs(study.sgam, endpoint_counts(study.scenario), params.horizon_years, params.discount_rate)
        )

    def _show(self, result: Any) -> None:
        mc = {m.scheme: m for m in result.monte_carlo.schemes}
        rows = sorted(result.schemes, key=lambda r: (not r.assessed, r.rank))  # not assessed: last
        self.table.setRowCount(len(rows))
        for row, r in enumerate(rows):
            m = mc.get(r.scheme)
            cells = [
                str(r.rank) if r.assessed else "not assessed",
                r.scheme,
                _m(r.npv_eur),
                "–" if r.bcr is None else f"{r.bcr:.2f}",
                "–" if r.irr is None else f"{100 * r.irr:.1f}",
                "–" if r.discounted_payback_years is None else f"{r.discounted_payback_years:.1f}",
                _m(r.pv_benefits_eur),
                _m(r.pv_costs_eur),
                "–" if m is None else f"{100 * m.prob_npv_negative:.1f}",
                "–" if m is None else f"{100 * m.prob_rank_first:.1f}",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    if col >= 2
                    else Qt.AlignmentFlag.AlignCenter
                )
                if not r.assessed:
                    item.setForeground(QColor("#b00020"))
                    item.setToolTip(f"not assessed: {r.not_assessed_reason}")
                self.table.setItem(row, col, item)
        from coordstudio.gui.verdict import verdict

        warn = "; ".join(result.warnings[:2])
        self.status.setText(
            f"Reference scheme <b>{result.reference_scheme}</b> (NPV 0 by construction: the others are "
            f"measured against it), discount rate {100 * result.discount_rate:.2f} %/a, horizon "
            f"{result.horizon_years} years, {result.price_basis} prices, {result.ict_cost_basis} ICT cost."
            + (f"<br><span style='color:#8a5a00'>{warn}</span>" if warn else "")
        )
        self.verdict = verdict(
            result, list(getattr(self.run_result, "kpis", []) or []), self.params_shown, self.doc.study.cba
        )
        self.banner.setText(self.verdict.html())
        self.banner.setStyleSheet(
            "QLabel { background: %s; border: 1px solid #c9b37e; padding: 4px; }"
            % ("#fff4d6" if self.verdict.degenerate or self.verdict.caveats else "#e8f5e9")
        )
        self.banner.setVisible(True)
        # One chart per event-loop pass (the tornado alone takes ~0.1 s of matplotlib calls).
        steps = [self._draw_cash, self._draw_tornado, self._draw_mc, self._fill_actors, self._fill_switching]

        def next_chart() -> None:
            if self.cba_result is result:  # a newer result supersedes this one
                steps.pop(0)(result)
                if steps:
                    QTimer.singleShot(1, next_chart)

        next_chart()

    def _draw_cash(self, result: Any) -> None:
        self.cash_chart.plot(draw_cash_flow, result)
        self.annual_chart.plot(draw_annual_cash_flow, result)

    def _fill_actors(self, result: Any) -> None:
        rows = list(getattr(result, "actors", []))
        self.actor_table.setRowCount(len(rows))
        for r, a in enumerate(rows):
            cells = [
                a.scheme,
                ACTOR_NAMES.get(a.actor, a.actor),
                _m(a.pv_benefits_eur),
                _m(a.pv_costs_eur),
                _m(a.npv_eur),
                a.business_case,
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 2 <= c <= 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 5 and a.business_case == "negative":
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.actor_table.setItem(r, c, item)
        self.actor_chart.plot(draw_actors, result)

    def _fill_switching(self, result: Any) -> None:
        rows = list(getattr(result, "switching_values", []))
        self.switch_table.setRowCount(len(rows))
        for r, sv in enumerate(rows):
            test = "NPV sign" if sv.kind == "npv_sign" else f"first place -> {sv.other_scheme or '?'}"
            cells = [
                f"{_short_name(sv.parameter)} [{sv.unit}]",
                test,
                sv.scheme,
                f"{sv.base_value:g}",
                "–" if sv.switching_value is None else f"{sv.switching_value:.4g}",
                "–" if sv.change_fraction is None else f"{100 * sv.change_fraction:+.1f}",
            ]
            for c, text in enumerate(cells):
                self.switch_table.setItem(r, c, QTableWidgetItem(text))

    def _draw_tornado(self, result: Any) -> None:
        # the reference's NPV is 0 by construction: draw_tornado shows the best-ranked alternative
        self.tornado_chart.plot(draw_tornado, result)

    def _draw_mc(self, result: Any) -> None:
        self.mc_chart.plot(draw_monte_carlo, result)
