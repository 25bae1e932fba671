"""Scenario editor and run panel: grids, device counts, timing, schemes to run; Run / Cancel with progress.

The forms and tables edit ``study.scenario`` through the schema-driven widgets. The run panel starts
``run_study`` in a :class:`gui.worker.StudyRunner` thread on a snapshot of the study, shows its progress
and log, and hands the result to the window (which shows it in the results and CBA views).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import coordstudio.simulation.scenario as scen
from coordstudio.gui.document import EditRejected, StudyDocument
from coordstudio.gui.forms import PydanticForm
from coordstudio.gui.tables import ListEditor
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.schemes import scheme_behaviour

SCHEMES = SCHEME_IDS  # the simulation's scheme registry (simulation/schemes.py)


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area


class ScenarioView(QWidget):
    """Everything the simulation needs, editable, and the Run / Cancel panel."""

    message = Signal(str)
    runRequested = Signal(list)
    cancelRequested = Signal()
    showResults = Signal()

    def __init__(self, doc: StudyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.tabs = QTabWidget()
        self.editors: dict[str, ListEditor] = {}
        self.forms: dict[str, PydanticForm] = {}

        # Grids: the transmission grid, detailed feeders, copper-plate nodes
        grids = QSplitter(Qt.Orientation.Vertical)
        box = QGroupBox("Transmission grid")
        bl = QVBoxLayout(box)
        self.forms["transmission"] = PydanticForm(
            doc, ("scenario", "transmission"), scen.TransmissionGridSpec
        )
        bl.addWidget(self.forms["transmission"])
        grids.addWidget(_scroll(box))
        for list_name, title, item_type, id_field in (
            ("feeders", "Distribution feeders modelled in detail", scen.FeederSpec, "feeder_id"),
            (
                "copper_plate_nodes",
                "Distribution grids as one copper-plate node",
                scen.CopperPlateNodeSpec,
                "node_id",
            ),
        ):
            box = QGroupBox(title)
            bl = QVBoxLayout(box)
            editor = ListEditor(doc, ("scenario", list_name), item_type, id_field=id_field)
            editor.message.connect(self.message)
            self.editors[list_name] = editor
            bl.addWidget(editor)
            grids.addWidget(box)
        grids.setSizes([230, 300, 300])
        self.tabs.addTab(grids, "Grids")

        # Devices: device groups and counts of market parties
        devices = QWidget()
        d = QVBoxLayout(devices)
        self.forms["parties"] = PydanticForm(
            doc,
            ("scenario",),
            scen.ScenarioSpec,
            ["name", "seed", "aggregators_per_area", "commercial_parties"],
        )
        d.addWidget(self.forms["parties"])
        areas = lambda: ["transmission", *self.doc.study.scenario.area_ids]  # noqa: E731
        editor = ListEditor(
            doc,
            ("scenario", "device_groups"),
            scen.DeviceGroupSpec,
            id_field="group_id",
            reference_choices={"area": areas},
        )
        editor.message.connect(self.message)
        self.editors["device_groups"] = editor
        d.addWidget(editor, 1)
        self.device_total = QLabel("")
        d.addWidget(self.device_total)
        self.tabs.addTab(devices, "Devices")

        # Timing and the other nested settings, one form each
        for attr, title, cls_name in (
            ("timing", "Timing", "TimingSpec"),
            ("prices", "Prices", "PricesSpec"),
            ("imbalance", "Imbalance", "ImbalanceSpec"),
            ("profiles", "Profiles", "ProfileSpec"),
            ("measurement", "Measurements", "MeasurementSpec"),
            ("scada", "SCADA", "ScadaSpec"),
            ("afrr", "aFRR", "AfrrSpec"),
        ):
            cls = getattr(scen, cls_name, None)
            if cls is None or attr not in scen.ScenarioSpec.model_fields:
                continue
            form = PydanticForm(doc, ("scenario", attr), cls)
            form.message.setMinimumHeight(0)
            self.forms[attr] = form
            self.tabs.addTab(_scroll(form), title)

        # Run panel
        run_box = QGroupBox("Run the study")
        r = QVBoxLayout(run_box)
        r.addWidget(QLabel("Schemes to simulate:"))
        self.scheme_checks: dict[str, QCheckBox] = {}
        # names from the study's SGAM library (a scheme it does not design: the registry's description)
        names = {sc.id: sc.name for sc in self.doc.study.sgam.schemes if sc.name}
        for s in SCHEMES:
            name = names.get(s, scheme_behaviour(s).description)
            check = QCheckBox(f"{s} – {name}")
            check.setToolTip(f"Simulate the {name} scheme ({s})")
            check.toggled.connect(self._schemes_toggled)
            self.scheme_checks[s] = check
            r.addWidget(check)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run (F5)")
        self.run_button.setToolTip("ICT cost, simulation of the chosen schemes and CBA, in the background")
        self.run_button.clicked.connect(self._run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancelRequested)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.results_button = QPushButton("Show results")
        self.results_button.setToolTip("Open the Simulation results view (Ctrl+5)")
        self.results_button.setEnabled(False)
        self.results_button.clicked.connect(self.showResults)
        buttons.addWidget(self.results_button)
        r.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p %")
        r.addWidget(self.progress)
        self.status = QLabel("Not run yet.")
        self.status.setWordWrap(True)
        r.addWidget(self.status)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Run log")
        r.addWidget(self.log, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(run_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        doc.changed.connect(self._on_changed)
        doc.studyReplaced.connect(self.refresh)
        self.refresh()
        self._t0 = 0.0

    # ------------------------------------------------------------------ scheme checks

    def refresh(self) -> None:
        """Show the study's schemes and device totals."""
        chosen = set(self.doc.study.scenario.schemes)
        for s, check in self.scheme_checks.items():
            check.blockSignals(True)
            check.setChecked(s in chosen)
            check.blockSignals(False)
        groups = self.doc.study.scenario.device_groups
        total = sum(g.count for g in groups)
        self.device_total.setText(f"{len(groups)} device groups, {total:,} devices in total")

    def _on_changed(self, path: tuple[Any, ...]) -> None:
        if path[:1] == ("scenario",) or not path:
            self.refresh()

    def _schemes_toggled(self) -> None:
        schemes = [s for s, c in self.scheme_checks.items() if c.isChecked()]
        try:
            self.doc.set_fields(("scenario",), {"schemes": schemes})
        except EditRejected as exc:
            self.message.emit(str(exc))
            self.refresh()

    def chosen_schemes(self) -> list[str]:
        """Schemes ticked for the next run."""
        return [s for s, c in self.scheme_checks.items() if c.isChecked()]

    # ------------------------------------------------------------------ run state (driven by the window)

    def _run_clicked(self) -> None:
        self.runRequested.emit(self.chosen_schemes())

    def run_started(self) -> None:
        """Disable Run, enable Cancel, clear the log."""
        self._t0 = time.monotonic()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.log.clear()
        self.status.setText("Running…")

    def run_progress(self, fraction: float, message: str) -> None:
        """Show one progress report."""
        self.progress.setValue(int(round(1000 * max(0.0, min(1.0, fraction)))))
        self.status.setText(message)
        self.log.appendPlainText(f"[{time.monotonic() - self._t0:7.1f} s] {100 * fraction:5.1f} %  {message}")

    def run_finished(self, outcome: str) -> None:
        """Re-enable Run; ``outcome`` is a sentence for the status line and the log."""
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.results_button.setEnabled(outcome.startswith("Finished") or self.results_button.isEnabled())
        self.status.setText(outcome)
        self.log.appendPlainText(f"[{time.monotonic() - self._t0:7.1f} s] {outcome}")

    def select(self, list_name: str, row: int) -> bool:
        """Show the table ``list_name`` with ``row`` selected."""
        editor = self.editors.get(list_name)
        if editor is None:
            return False
        self.tabs.setCurrentIndex(0 if list_name != "device_groups" else 1)
        return editor.select_source_row(row)

    def show_form(self, attr: str) -> bool:
        """Show the tab holding the form of ``scenario.<attr>``."""
        titles = {
            "timing": "Timing",
            "prices": "Prices",
            "imbalance": "Imbalance",
            "profiles": "Profiles",
            "measurement": "Measurements",
            "scada": "SCADA",
            "afrr": "aFRR",
            "transmission": "Grids",
        }
        title = titles.get(attr, "Devices")
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)
                return True
        return False
