"""The main window: study explorer, central views, validation-problems dock, menus, status bar.

It owns the :class:`~gui.document.StudyDocument`, the run in progress (a
:class:`~gui.worker.StudyRunner` thread), the recent-files list and window state (``QSettings``) and the
autosave/recovery (:mod:`gui.recovery`). Every user-facing error becomes a dialog with a one-line
message naming the file, object and field; a bug becomes a dialog pointing at a saved traceback.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSettings, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from coordstudio.cba.study import Study, StudyMetadata, load_study, run_days_of, save_study, with_run_days
from coordstudio.cba.study_file import study_extends
from coordstudio.cba.study_update import UpdateMethod, write_updated_study
from coordstudio.gui.document import EditRejected, ObjPath, Problem, StudyDocument
from coordstudio.gui.forms import PydanticForm
from coordstudio.gui.recovery import Autosaver, discard, find_recoveries
from coordstudio.gui.refactor import describe_problem
from coordstudio.gui.views.cba_view import CbaView
from coordstudio.gui.views.draft_view import DraftView
from coordstudio.gui.views.ict_view import SGAM_TABLES, IctView
from coordstudio.gui.views.ictcheck_view import IctCheckView
from coordstudio.gui.views.results_view import ResultsView
from coordstudio.gui.views.scenario_view import ScenarioView
from coordstudio.gui.views.welcome_view import WelcomeView
from coordstudio.gui.worker import StudyRunner

APP_NAME = "Coordination Studio"
STUDY_FILTER = "Studies (*.yaml *.yml *.json);;All files (*)"
MAX_RECENT = 10
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "gui.md"
#: The first window's size when the screen allows it; otherwise the screen's available area.
PREFERRED_SIZE = QSize(1600, 950)
PathRole = Qt.ItemDataRole.UserRole + 10


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception classes that mean bad input (shown as a dialog with their one-line message)."""
    from coordstudio.cba.errors import CbaError, StudyError
    from coordstudio.sgam.errors import SgamError
    from coordstudio.simulation.errors import SimulationError

    return (StudyError, CbaError, SgamError, SimulationError)


def initial_study() -> tuple[Study, str]:
    """The embedded default study, and '' (or a note when a package it needs is missing)."""
    from coordstudio.cba.study import default_study

    try:
        return default_study(), ""
    except ImportError as exc:  # a package still being built: open what exists, say what is missing
        from coordstudio.sgam.model import SgamModel
        from coordstudio.simulation.scenario import default_scenario_spec

        study = Study(
            metadata=StudyMetadata(title="Default study (SGAM library missing)"),
            sgam=SgamModel(),
            scenario=default_scenario_spec(),
        )
        return study, f"The default SGAM library is not available ({exc.name} missing): empty ICT model."


class OverviewView(QWidget):
    """The study's metadata (editable) and a summary of what it contains."""

    def __init__(self, doc: StudyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Study</h2>"))
        self.form = PydanticForm(doc, ("metadata",), StudyMetadata)
        layout.addWidget(self.form)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)
        self.last_run = QLabel("<h3>Last run</h3>No run yet: Run ▸ Run study (F5).")
        self.last_run.setWordWrap(True)
        self.last_run.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.last_run)
        layout.addStretch(1)
        doc.changed.connect(lambda _p: self.refresh())
        doc.studyReplaced.connect(self.refresh)
        self.refresh()

    def show_cba(self, label: str, result: Any) -> None:
        """Summarise the CBA on screen: ranking with NPV, BCR and the Monte Carlo risk (numbers as given)."""
        if result is None:
            return
        mc = {m.scheme: m for m in result.monte_carlo.schemes}
        rows = "".join(
            f"<tr><td>{r.rank if r.assessed else 'not assessed'}</td>"
            f"<td><b>{r.scheme}</b></td><td align=right>{r.npv_eur / 1e6:,.2f}</td>"
            f"<td align=right>{'–' if r.bcr is None else f'{r.bcr:.2f}'}</td>"
            f"<td align=right>{100 * mc[r.scheme].prob_npv_negative:.0f} %</td></tr>"
            if r.scheme in mc
            else ""
            for r in sorted(result.schemes, key=lambda r: (not r.assessed, r.rank))
        )
        from coordstudio.gui.verdict import headline

        finding, degenerate = headline(result)
        colour = "#8a5a00" if degenerate else "#1b5e20"
        self.last_run.setText(
            f"<h3>Last run: {label}</h3><p style='color:{colour}'><b>{finding}</b></p>"
            f"Reference scheme {result.reference_scheme}, discount rate "
            f"{100 * result.discount_rate:.2f} %/a, horizon {result.horizon_years} years."
            "<table cellspacing=6><tr><th>Rank</th><th>Scheme</th><th>NPV [M EUR]</th><th>BCR</th>"
            f"<th>P(NPV&lt;0)</th></tr>{rows}</table>"
        )

    def refresh(self) -> None:
        """Rewrite the summary from the study."""
        s = self.doc.study
        m = s.sgam
        sc = s.scenario
        rows = [
            ("File", str(self.doc.path) if self.doc.path else "not saved yet"),
            (
                "SGAM/ICT model",
                f"{len(m.actors)} actors, {len(m.information_objects)} information objects, "
                f"{len(m.events)} interaction events, {len(m.requirements)} requirements, "
                f"{len(m.technologies)} technologies, {len(m.links)} links",
            ),
            (
                "Scenario",
                f"'{sc.name}': transmission {sc.transmission.case_name}, {len(sc.feeders)} detailed "
                f"feeders, {len(sc.copper_plate_nodes)} copper-plate nodes, "
                f"{sum(g.count for g in sc.device_groups):,} devices in {len(sc.device_groups)} groups",
            ),
            (
                "Timing",
                f"{sc.timing.duration_h:g} h from {sc.timing.start_h:g} h, horizon {sc.timing.horizon_min} "
                f"min, granularity {sc.timing.granularity_min} min, clearing every "
                f"{sc.timing.clearing_frequency_min} min",
            ),
            (
                "Days",
                f"{sc.profiles.representative_days} representative days of the profile year, each "
                "weighted by the days it stands for"
                if sc.profiles.representative_days > 0
                else f"day {sc.profiles.day_of_year} of the profile year, standing for the CBA's day weights",
            ),
            ("Schemes to run", ", ".join(sc.schemes) or "none"),
            (
                "CBA",
                f"discount rate {100 * s.cba.discount_rate:.2f} %/a, horizon {s.cba.horizon_years} years, "
                f"reference {s.cba.reference_scheme}",
            ),
        ]
        self.summary.setText(
            "<table cellspacing=6>"
            + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
            + "</table>"
        )


class ProblemList(QListWidget):
    """The problems list; a small default height so the central views keep the space at 1366x768."""

    def sizeHint(self) -> QSize:
        return QSize(400, 80)


OVERLAY_KEPT = (UpdateMethod.SPLICED, UpdateMethod.BLOCKS, UpdateMethod.ROUND_TRIP, UpdateMethod.OVERLAY)
"""How :func:`cba.study_update.write_updated_study` wrote an overlay when it stayed an overlay."""


class MainWindow(QMainWindow):
    """The application window (see the module docstring)."""

    runFinished = Signal(str)  # "succeeded", "cancelled", "failed"

    VIEW_NAMES = ("welcome", "overview", "ict", "scenario", "results", "cba", "draft", "ictcheck")

    def __init__(
        self,
        study: Study | None = None,
        path: Path | None = None,
        *,
        offer_recovery: bool = True,
        autosave_interval_s: float = 60.0,
        restore_state: bool = True,
    ) -> None:
        super().__init__()
        note = ""
        if study is None:
            study, note = initial_study()
        self.settings = QSettings()
        self.doc = StudyDocument(study, path, self)
        self.runner: StudyRunner | None = None
        self.runs: list[tuple[str, Any, Any]] = []
        self.last_error = ""

        # ---------------- central views
        self.overview = OverviewView(self.doc)
        self._last_label = ""
        self.ict = IctView(self.doc)
        self.scenario = ScenarioView(self.doc)
        self.results = ResultsView()
        self.cba = CbaView(self.doc)
        self.ictcheck = IctCheckView()
        self.welcome = WelcomeView()
        self.draft = DraftView()
        self._draft_stale = True
        self.cba.resultChanged.connect(lambda r: self.overview.show_cba(self._last_label or "what-if", r))
        self.cba.resultChanged.connect(self._draft_result_changed)
        self.draft.figureRequested.connect(self.show_figure)
        self.draft.exportRequested.connect(lambda: self.export_recommendations())
        self.welcome.openDefault.connect(self._welcome_open_default)
        self.welcome.openFile.connect(self.open_dialog)
        self.welcome.openRecent.connect(lambda name: self.open_path(Path(name)))
        self.welcome.openDocs.connect(self.open_docs)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, title in (
            (self.welcome, "Welcome"),
            (self.overview, "Study"),
            (self.ict, "SGAM / ICT"),
            (self.scenario, "Scenario && run"),
            (self.results, "Simulation results"),
            (self.cba, "Cost-benefit analysis"),
            (self.draft, "Recommendations"),
            (self.ictcheck, "ICT check"),
        ):
            self.tabs.addTab(widget, title)
        for view in (self.ict, self.scenario, self.cba):
            view.message.connect(self.show_message)

        # ---------------- explorer
        self.explorer = QTreeWidget()
        self.explorer.setHeaderHidden(True)
        self.explorer.setMinimumWidth(190)
        self.explorer.itemActivated.connect(self._explorer_activated)
        self.explorer.itemClicked.connect(self._explorer_activated)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.explorer)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 1400])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        # ---------------- problems dock
        self.problems = ProblemList()
        self.problems.setMinimumHeight(36)
        self.problems.itemActivated.connect(self._problem_activated)
        self.problems.itemClicked.connect(self._problem_activated)
        self.problems_dock = QDockWidget("Validation problems", self)
        self.problems_dock.setObjectName("problemsDock")
        self.problems_dock.setWidget(self.problems)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.resizeDocks([self.problems_dock], [110], Qt.Orientation.Vertical)

        # ---------------- status bar
        self.cost_status = QLabel("")
        self.statusBar().addPermanentWidget(self.cost_status)
        self.ict.costsUpdated.connect(self._costs_updated)
        self._costs_updated(self.ict.costs)

        self._build_actions()
        self._build_menus()

        # ---------------- wiring
        self.doc.undo_stack.cleanChanged.connect(self._update_title)
        self.doc.pathChanged.connect(self._update_title)
        self.doc.studyReplaced.connect(self._rebuild_explorer)
        self.doc.changed.connect(self._schedule_validation)
        self.doc.studyReplaced.connect(self._schedule_validation)
        self.scenario.runRequested.connect(self.start_run)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.scenario.showResults.connect(lambda: self.show_view("results"))
        self.scenario.cancelRequested.connect(self.cancel_run)
        self._validation_timer = QTimer(self)
        self._validation_timer.setSingleShot(True)
        self._validation_timer.setInterval(300)
        self._validation_timer.timeout.connect(self.validate_now)
        self._explorer_timer = QTimer(self)
        self._explorer_timer.setSingleShot(True)
        self._explorer_timer.setInterval(300)
        self._explorer_timer.timeout.connect(self._rebuild_explorer)
        self.doc.changed.connect(lambda _p: self._explorer_timer.start())

        self.autosaver = Autosaver(self._autosave_state, autosave_interval_s, self)
        self.fit_to_screen()
        self._shown_once = False
        self._state_restored = restore_state and self._restore_window_state()
        self._rebuild_explorer()
        self.validate_now()
        self._update_title()
        if note:
            self.show_message(note, 0)
        self.welcome.set_recent(self.recent_files())
        first_launch = not bool(self.settings.value("welcome/seen", False, type=bool))
        self.show_view("welcome" if first_launch and path is None else "overview")
        self.settings.setValue("welcome/seen", True)
        if offer_recovery:
            QTimer.singleShot(0, self.offer_recovery)
        self._freeze_long_lived_objects()

    @staticmethod
    def _freeze_long_lived_objects() -> None:
        """Keep Python's full garbage collections short for the whole session.

        A full (generation 2) collection scans every container object of the process: 0.12 s for the
        window and its modules on the test machine, 0.2-0.47 s in a long session, each one an event-loop
        stall (seen during runs with a 20 ms heartbeat). The widgets, modules and classes that exist now
        live as long as the window, so after one collection they are moved to the permanent generation
        (``gc.freeze``); later full collections scan only what was created since. Reference counting
        still frees these objects normally; only reference cycles among them are no longer collected.
        """
        gc.collect()
        gc.freeze()

    # ================================================================== actions and menus

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        # triggered(bool) passes ``checked``; a slot taking an optional path would receive False as the
        # path. Every action therefore calls its slot with no argument.
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._action(
            "&New study", self.new_study, K.New, "Start from the embedded default study"
        )
        self.act_open = self._action("&Open…", self.open_dialog, K.Open, "Open a study file (YAML or JSON)")
        self.act_save = self._action("&Save", self.save, K.Save, "Save the study")
        self.act_save_as = self._action(
            "Save &as…", self.save_as, K.SaveAs, "Save the study under a new name"
        )
        self.act_quit = self._action("&Quit", self.close, K.Quit)
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(K.Undo))
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        redo_keys = [*QKeySequence.keyBindings(K.Redo), QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")]
        self.act_redo.setShortcuts(list({k.toString(): k for k in redo_keys if not k.isEmpty()}.values()))
        self.act_run = self._action(
            "&Run study", lambda: self.start_run(None), "F5", "ICT cost, simulation and CBA in the background"
        )
        self.act_cancel = self._action("&Cancel run", self.cancel_run, "Shift+F5", "Stop the running study")
        self.act_cancel.setEnabled(False)
        self.act_validate = self._action("&Validate", self.validate_now, "F7", "Check the whole study")
        self.act_export_excel = self._action(
            "Excel &report…", self.export_excel, "Ctrl+E", "Write the CBA workbook of the last run"
        )
        self.act_export_reco = self._action(
            "Recommendations &draft…",
            self.export_recommendations,
            None,
            "Write the drafted policy recommendations (Markdown/DOCX)",
        )
        self.act_export_charts = self._action(
            "All &charts…",
            self.export_charts,
            None,
            "Save every chart of the window as PNG and SVG into a folder",
        )
        self.act_export_sgam = self._action(
            "SGAM model to &Excel…",
            self.export_sgam_excel,
            None,
            "Write the SGAM/ICT model as an Excel workbook (one sheet per list)",
        )
        self.act_import_sgam = self._action(
            "&Import SGAM model from Excel…",
            self.import_sgam_excel,
            None,
            "Replace the SGAM/ICT model by the one in an Excel workbook (undoable)",
        )
        self.act_welcome = self._action("&Welcome page", lambda: self.show_view("welcome"))
        self.act_docs = self._action("&Documentation", self.open_docs, "F1", "Open docs/gui.md")
        self.act_about = self._action("&About", self.about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_open])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.act_save, self.act_save_as])
        file_menu.addSeparator()
        export = file_menu.addMenu("&Export")
        export.addActions(
            [self.act_export_excel, self.act_export_reco, self.act_export_charts, self.act_export_sgam]
        )
        file_menu.addAction(self.act_import_sgam)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.act_undo, self.act_redo])
        view = bar.addMenu("&View")
        for i in range(self.tabs.count()):
            act = self._action(
                self.tabs.tabText(i),  # "Scenario && run": '&&' is a literal '&' in menus too
                lambda _c=False, i=i: self.tabs.setCurrentIndex(i),
                f"Ctrl+{i + 1}",
            )
            view.addAction(act)
        view.addSeparator()
        view.addAction(self.problems_dock.toggleViewAction())
        run = bar.addMenu("&Run")
        run.addActions([self.act_run, self.act_cancel, self.act_validate])
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_welcome, self.act_docs, self.act_about])

    # ================================================================== title, messages, errors

    def _update_title(self, *_: Any) -> None:
        name = self.doc.path.name if self.doc.path else "untitled"
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(self.doc.dirty)

    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        """Status-bar message (edits refused, selections, ...)."""
        self.statusBar().showMessage(text, timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        """A modal error dialog with a one-line message (never a traceback)."""
        self.last_error = message
        QMessageBox.critical(self, title, message)

    def _costs_updated(self, costs: dict[str, Any]) -> None:
        if not costs:
            self.cost_status.setText("ICT cost: –")
            return
        parts = [f"{s} {c.capex_eur / 1e6:.2f}" for s, c in costs.items()]
        self.cost_status.setText("ICT CAPEX [M EUR]: " + "  ".join(parts))

    # ================================================================== files

    def _confirm_discard(self) -> bool:
        """If dirty, ask Save / Discard / Cancel; True when it is fine to replace the study."""
        if not self.doc.dirty:
            return True
        answer = QMessageBox.question(
            self,
            APP_NAME,
            "The study has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_study(self) -> None:
        """Replace the study by the embedded default study (after the save prompt)."""
        if not self._confirm_discard():
            return
        self.autosaver.clear(str(self.doc.path or ""))
        study, note = initial_study()
        self.doc.replace_study(study, None)
        self.show_message(note or "New study from the embedded default")

    def open_dialog(self) -> None:
        """Ask for a study file and open it."""
        if not self._confirm_discard():
            return
        start = str(self.doc.path.parent) if self.doc.path else ""
        name, _ = QFileDialog.getOpenFileName(self, "Open study", start, STUDY_FILTER)
        if name:
            self.open_path(Path(name), confirm=False)

    def open_path(self, path: Path, *, confirm: bool = True) -> bool:
        """Open a study file; on a bad file show the error and keep the current study untouched."""
        if confirm and not self._confirm_discard():
            return False
        try:
            study = load_study(path)
        except user_errors() as exc:
            self.show_error("Cannot open study", str(exc))
            return False
        self.autosaver.clear(str(self.doc.path or ""))
        self.doc.replace_study(study, path.resolve())
        self._add_recent(path.resolve())
        self.show_message(f"Opened {path}")
        return True

    def save(self) -> bool:
        """Save to the study's file (or ask for one)."""
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        start = str(self.doc.path or Path.cwd() / "study.yaml")
        name, _ = QFileDialog.getSaveFileName(self, "Save study as", start, STUDY_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            path = path.with_suffix(".yaml")
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        note = ""
        try:
            # an overlay (extends:) is saved as an overlay of the same base, its comments kept where they
            # can be (cba.study_update); a full study is written in full
            source = self.doc.path
            extends = study_extends(source) if source is not None and source.is_file() else None
            if extends is not None and source is not None:
                method = write_updated_study(source, path, load_study(source), self.doc.study)
                note = (f" as an overlay of {extends} (only what differs from it)"
                        if method in OVERLAY_KEPT else f" in full (its base {extends} cannot express it)")
            else:
                save_study(self.doc.study, path)
        except user_errors() as exc:
            self.show_error("Cannot save study", str(exc))
            return False
        old = str(self.doc.path or "")
        self.doc.set_path(path.resolve())
        self.autosaver.clear(old)
        self.autosaver.clear(str(path.resolve()))
        self._add_recent(path.resolve())
        self.show_message(f"Saved {path}{note}")
        return True

    # ---------------- recent files

    def recent_files(self) -> list[str]:
        """Recently opened or saved studies, newest first."""
        value: Any = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            act = self.recent_menu.addAction("(none)")
            act.setEnabled(False)
            return
        for i, name in enumerate(files):
            act = self.recent_menu.addAction(f"&{i + 1} {name}")
            act.triggered.connect(lambda _c=False, n=name: self.open_path(Path(n)))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recentFiles", []))

    # ---------------- autosave and recovery

    def _autosave_state(self) -> tuple[Study, str, bool]:
        return self.doc.study, str(self.doc.path or ""), self.doc.dirty

    def offer_recovery(self) -> bool:
        """If a previous session left unsaved changes, offer to restore them. True if restored."""
        entries = find_recoveries()
        if not entries:
            return False
        entry = entries[0]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
        what = entry.original or "an unsaved study"
        answer = QMessageBox.question(
            self,
            "Recover unsaved changes",
            f"Coordination Studio did not close normally. Unsaved changes to {what} (autosaved {when}) "
            "can be recovered. Recover them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            for e in entries:
                discard(e)
            return False
        try:
            study = load_study(entry.data_path)
        except user_errors() as exc:
            self.show_error("Cannot recover", str(exc))
            discard(entry)
            return False
        self.doc.replace_study(study, Path(entry.original) if entry.original else None, dirty=True)
        self.show_message(f"Recovered unsaved changes to {what}; save them to keep them")
        return True

    # ================================================================== window state

    def fit_to_screen(self) -> QRect:
        """Size the first window to fit the screen's available area (no title bar or status bar lost).

        A laptop at 1366x768 has about 1366x740 available: the window takes that, centred; a larger
        screen gets the preferred 1600x950. Returns the geometry chosen.
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(PREFERRED_SIZE)
            return self.geometry()
        avail = screen.availableGeometry()
        # leave room for the window frame (title bar ~30 px, borders) the window manager adds
        width = min(PREFERRED_SIZE.width(), avail.width() - 16)
        height = min(PREFERRED_SIZE.height(), avail.height() - 40)
        self.resize(width, height)
        left = avail.x() + (avail.width() - width) // 2
        self.move(left, avail.y() + max((avail.height() - height) // 2, 0))
        return self.geometry()

    def _restore_window_state(self) -> bool:
        """Geometry and dock layout of the last session; False when there is none."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        return geometry is not None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._state_restored:
                self.resizeDocks([self.problems_dock], [70], Qt.Orientation.Vertical)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner is not None and self.runner.isRunning():
            answer = QMessageBox.question(self, APP_NAME, "A run is in progress. Cancel it and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.runner.cancel()
            self.runner.wait(10_000)
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.autosaver.clear(str(self.doc.path or ""))
        event.accept()

    # ================================================================== explorer

    def _rebuild_explorer(self) -> None:
        tree = self.explorer
        tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        expanded = {t.text(0) for t in tops if t is not None and t.isExpanded()}
        tree.clear()
        study = self.doc.study

        def node(
            parent: QTreeWidgetItem | QTreeWidget, text: str, target: tuple[Any, ...] | None, tip: str = ""
        ) -> QTreeWidgetItem:
            if isinstance(parent, QTreeWidget):
                item = QTreeWidgetItem([text])
                parent.addTopLevelItem(item)
            else:
                item = QTreeWidgetItem(parent, [text])
            item.setData(0, PathRole, target)
            if tip:
                item.setToolTip(0, tip)
            return item

        root = node(tree, study.metadata.title, ("view", "overview"))
        schemes = node(tree, "Schemes", ("view", "ict"))
        for s in study.sgam.schemes:
            node(schemes, f"{s.id} – {s.name}", ("scheme", s.id), s.description)
        for list_name, title, _cls in SGAM_TABLES:
            if list_name == "schemes":  # already the "Schemes" branch above
                continue
            items = getattr(study.sgam, list_name, [])
            branch = node(tree, f"{title} ({len(items)})", ("sgam", list_name))
            for i, obj in enumerate(items):
                label = getattr(obj, "id", str(i))
                name = getattr(obj, "name", "")
                node(
                    branch,
                    f"{label}" + (f" – {name}" if name and name != label else ""),
                    ("sgam", list_name, i),
                )
        sc = study.scenario
        grids = node(tree, "Grids", ("scenario", "feeders"))
        node(grids, f"Transmission: {sc.transmission.case_name}", ("scenario", "transmission"))
        for i, f in enumerate(sc.feeders):
            node(grids, f"Feeder {f.feeder_id} ({f.case_name})", ("scenario", "feeders", i))
        for i, c in enumerate(sc.copper_plate_nodes):
            node(grids, f"Copper plate {c.node_id}", ("scenario", "copper_plate_nodes", i))
        devices = node(tree, f"Device groups ({len(sc.device_groups)})", ("scenario", "device_groups"))
        for i, g in enumerate(sc.device_groups):
            node(devices, f"{g.group_id}: {g.count:,} {g.category}", ("scenario", "device_groups", i))
        node(tree, "Timing", ("scenario", "timing"))
        node(tree, "CBA parameters", ("view", "cba"))
        runs = node(tree, f"Runs ({len(self.runs)})", ("view", "results"))
        for i, (label, _r, _s) in enumerate(self.runs):
            node(runs, label, ("run", i))
        root.setExpanded(True)
        # Keep branches open across rebuilds; "Actors (18)" matches "Actors (19)" after an Add.
        open_names = {e.split(" (")[0] for e in expanded}
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            if item is not None and item.text(0).split(" (")[0] in open_names:
                item.setExpanded(True)

    def _explorer_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, PathRole)
        if target:
            self.navigate(tuple(target))

    # ================================================================== navigation

    def show_view(self, name: str) -> None:
        """Bring a central view to the front by name (overview, ict, scenario, results, cba)."""
        widget = {
            "welcome": self.welcome,
            "draft": self.draft,
            "overview": self.overview,
            "ict": self.ict,
            "scenario": self.scenario,
            "results": self.results,
            "cba": self.cba,
            "ictcheck": self.ictcheck,
        }[name]
        self.tabs.setCurrentWidget(widget)

    def navigate(self, path: tuple[Any, ...]) -> bool:
        """Show the object at ``path`` (a study path, or ('view', name), ('scheme', id), ('run', i))."""
        if not path:
            return False
        head = path[0]
        if head == "view":
            self.show_view(str(path[1]))
            return True
        if head == "scheme":
            self.show_view("ict")
            i = self.ict.scheme_box.findData(path[1])
            self.ict.scheme_box.setCurrentIndex(max(i, 0))
            return True
        if head == "run":
            self.show_view("results")
            label, result, series = self.runs[int(path[1])]
            self.results.show_result(result, label, series)
            self.ictcheck.show_result(getattr(result, "ict_check", None))
            return True
        if head == "sgam":
            self.show_view("ict")
            if len(path) >= 2:
                list_name = str(path[1])
                row = self._row_of(("sgam", list_name), path[2]) if len(path) >= 3 else -1
                if row >= 0:
                    return self.ict.select(list_name, row)
                editor = self.ict.editors.get(list_name)
                if editor is not None:
                    self.ict.show_editor(editor)
            return True
        if head == "scenario":
            self.show_view("scenario")
            if len(path) >= 2:
                attr = str(path[1])
                if attr in self.scenario.editors:
                    row = self._row_of(("scenario", attr), path[2]) if len(path) >= 3 else -1
                    if row >= 0:
                        return self.scenario.select(attr, row)
                    self.scenario.select(attr, -1)
                else:
                    self.scenario.show_form(attr)
            return True
        if head == "cba":
            self.show_view("cba")
            return True
        if head == "metadata":
            self.show_view("overview")
            return True
        return False

    def _row_of(self, list_path: ObjPath, key: Any) -> int:
        """Row of an item addressed by index or by id (pydantic locations in the SGAM model use ids)."""
        try:
            items = self.doc.get(list_path)
        except (AttributeError, KeyError):
            return -1
        if isinstance(key, int):
            return key if 0 <= key < len(items) else -1
        for i, obj in enumerate(items):
            for attr in ("id", "feeder_id", "node_id", "group_id"):
                if getattr(obj, attr, None) == key:
                    return i
        return -1

    # ================================================================== validation

    def _schedule_validation(self, *_: Any) -> None:
        self._validation_timer.start()

    def validate_now(self) -> list[Problem]:
        """Re-validate the whole study and list the problems in the dock."""
        problems = self.doc.validation_problems()
        self.problems.clear()
        for p in problems:
            item = QListWidgetItem(describe_problem(p))
            item.setData(PathRole, p.path)
            item.setToolTip("Click to show the object")
            self.problems.addItem(item)
        title = f"Validation problems ({len(problems)})" if problems else "Validation problems (none)"
        self.problems_dock.setWindowTitle(title)
        return problems

    def _problem_activated(self, item: QListWidgetItem) -> None:
        path = item.data(PathRole)
        if path:
            self.navigate(tuple(path))
            self.show_message(item.text())

    # ================================================================== runs

    def start_run(self, schemes: list[str] | None = None) -> bool:
        """Start ``run_study`` on a snapshot of the study in a worker thread."""
        if self.runner is not None and self.runner.isRunning():
            self.show_message("A run is already in progress")
            return False
        problems = self.validate_now()
        if problems:
            self.show_error(
                "Cannot run the study",
                f"The study has {len(problems)} validation problem(s); the first: "
                f"{problems[0].location}: {problems[0].message}",
            )
            return False
        schemes = schemes if schemes is not None else list(self.doc.study.scenario.schemes)
        if not schemes:
            self.show_error(
                "Cannot run the study", "scenario.schemes: choose at least one scheme to simulate"
            )
            return False
        self.run_dir = Path(tempfile.mkdtemp(prefix="coordstudio-run-"))
        db_url = f"sqlite:///{self.run_dir / 'results.sqlite'}"
        self.runner = StudyRunner(self.doc.snapshot(), schemes, out_dir=None, db_url=db_url, parent=self)
        self.runner.progressed.connect(self.scenario.run_progress)
        self.runner.progressed.connect(lambda f, m: self.show_message(f"{100 * f:.0f} % {m}", 0))
        self.runner.succeeded.connect(self._run_succeeded)
        self.runner.failed.connect(self._run_failed)
        self.runner.cancelledRun.connect(self._run_cancelled)
        self.runner.finished.connect(self._run_thread_finished)
        self.scenario.run_started()
        self.act_run.setEnabled(False)
        self.act_cancel.setEnabled(True)
        self._run_t0 = time.monotonic()
        self.runner.start()
        return True

    def cancel_run(self) -> None:
        """Ask the running study to stop."""
        if self.runner is not None and self.runner.isRunning():
            self.runner.cancel()
            self.show_message("Cancelling…", 0)

    def _run_thread_finished(self) -> None:
        self.act_run.setEnabled(True)
        self.act_cancel.setEnabled(False)

    def _run_succeeded(self, result: Any) -> None:
        elapsed = time.monotonic() - self._run_t0
        label = f"Run {len(self.runs) + 1} ({time.strftime('%H:%M:%S')}, {elapsed:.0f} s)"
        series = self.runner.series if self.runner is not None else None
        self.runs.append((label, result, series))
        self._last_label = label
        self._run_thread_finished()
        self.scenario.run_finished(f"Finished in {elapsed:.1f} s.")
        run_params, run_days = None, {}
        if self.runner is not None:  # the run's CBA parameters: representative days weight the days run
            run_days = run_days_of(self.runner.study, result)
            run_params = with_run_days(self.runner.study.cba, run_days)
        # Each step in its own event-loop pass (about 0.1 s each), so the window never freezes.
        steps = [
            lambda: self.results.show_result(result, label, series),
            lambda: self.cba.set_run_result(result, run_params, run_days),
            lambda: self.ictcheck.show_result(getattr(result, "ict_check", None)),
            self._rebuild_explorer,
            lambda: self._mark_results_tab(True),
            lambda: self.show_message(
                f"{label} finished: see Simulation results (Ctrl+5), the CBA (Ctrl+6) and the draft (Ctrl+7)"
            ),
            lambda: self.runFinished.emit("succeeded"),
        ]

        def next_step() -> None:
            steps.pop(0)()
            if steps:
                QTimer.singleShot(1, next_step)

        next_step()

    def _mark_results_tab(self, fresh: bool) -> None:
        """Flag the results tabs after a run (the view is not switched: a first showing of a view costs
        0.2-0.45 s of layout, which would freeze the window right when the run ends)."""
        for widget, title in self._result_tabs():
            i = self.tabs.indexOf(widget)
            self.tabs.setTabText(i, f"{title} ●" if fresh else title)
            self.tabs.setTabToolTip(i, "New results from the last run" if fresh else "")

    def _draft_result_changed(self, _result: Any = None) -> None:
        self._draft_stale = True
        if self.tabs.currentWidget() is self.draft:
            self.refresh_draft()

    def refresh_draft(self) -> None:
        """Render the recommendations draft of the CBA on screen (what-if included)."""
        self._draft_stale = False
        cba = self.cba
        if cba.cba_result is None or cba.run_result is None or cba.params_shown is None:
            self.draft.show_draft(None, None, None, None)
            return
        try:
            self.draft.show_draft(
                cba.params_shown,
                cba.run_result.kpis,
                cba.ict_shown,
                cba.cba_result,
                getattr(cba.run_result, "ict_check", None),
            )
        except user_errors() as exc:
            self.draft.status.setText(f"The draft cannot be written: {exc}")

    def show_figure(self, target: str, scheme: str = "") -> None:
        """Bring the figure behind a statement of the draft to the front (and its scheme's row)."""
        if target.startswith("cba-"):
            self.show_view("cba")
            tab = {"cba-switching": 2, "cba-actors": 1}.get(target, 0)
            self.cba.result_tabs.setCurrentIndex(tab)
            table = {"cba-switching": self.cba.switch_table, "cba-actors": self.cba.actor_table}.get(
                target, self.cba.table
            )
            col = 2 if target == "cba-switching" else (0 if target == "cba-actors" else 1)
            for r in range(table.rowCount()):
                item = table.item(r, col)
                if scheme and item is not None and item.text() == scheme:
                    table.selectRow(r)
                    table.scrollToItem(item)
                    break
        elif target == "results-kpis":
            self.show_view("results")
            for c in range(self.results.table.columnCount()):
                header = self.results.table.horizontalHeaderItem(c)
                if scheme and header is not None and header.text() == scheme:
                    self.results.table.selectColumn(c)
                    break
        elif target == "ict-costs":
            self.show_view("ict")
            for r in range(self.ict.cost_table.rowCount()):
                item = self.ict.cost_table.item(r, 0)
                if scheme and item is not None and item.text() == scheme:
                    self.ict.cost_table.selectRow(r)
                    break
        elif target == "ictcheck":
            self.show_view("ictcheck")
        self.show_message(f"Figure behind the statement: {target.replace('-', ' ')} {scheme}".strip())

    def _welcome_open_default(self) -> None:
        self.new_study()
        self.show_view("overview")

    def _on_tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.draft and self._draft_stale:
            self.refresh_draft()
        if widget is self.welcome:
            self.welcome.set_recent(self.recent_files())
        titles = dict(self._result_tabs())
        if widget in titles:
            self.tabs.setTabText(index, titles[widget])
            self.tabs.setTabToolTip(index, "")

    def _result_tabs(self) -> tuple[tuple[QWidget, str], ...]:
        """The views a finished run fills, with their plain tab titles."""
        return (
            (self.results, "Simulation results"),
            (self.cba, "Cost-benefit analysis"),
            (self.draft, "Recommendations"),
            (self.ictcheck, "ICT check"),
        )

    def _run_failed(self, message: str, user_error: bool) -> None:
        self._run_thread_finished()
        self.scenario.run_finished("Failed: " + message.splitlines()[0])
        self.show_error("Run failed" if user_error else "Internal error", message)
        self.runFinished.emit("failed")

    def _run_cancelled(self) -> None:
        self._run_thread_finished()
        self.scenario.run_finished("Cancelled by the user.")
        self.show_message("Run cancelled")
        self.runFinished.emit("cancelled")

    # ================================================================== export

    def _require_cba(self) -> Any:
        if self.cba.cba_result is None or self.cba.run_result is None or self.cba.params_shown is None:
            self.show_error(
                "Nothing to export", "There are no results yet: run the study first (Run ▸ Run study, F5)."
            )
            return None
        return self.cba.cba_result

    def export_excel(self, path: str | Path | None = None) -> Path | None:
        """Write the Excel report of the last run (CBA as shown, what-if included)."""
        result = self._require_cba()
        if result is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export Excel report", "report.xlsx", "Excel workbook (*.xlsx)"
            )
            if not name:
                return None
            path = name
        path = Path(path)
        try:
            from coordstudio.cba.report_excel import write_report
        except ImportError:
            self.show_error(
                "Export unavailable", "The Excel report (cba.report_excel) is not in this build yet."
            )
            return None
        try:
            assert self.cba.params_shown is not None  # checked by _require_cba
            write_report(path, self.cba.params_shown, self.cba.run_result.kpis, self.cba.ict_shown, result,
                         provenance=self._provenance())
        except user_errors() as exc:
            self.show_error("Cannot write the report", str(exc))
            return None
        except OSError as exc:
            self.show_error("Cannot write the report", f"{path}: {exc.strerror or exc}")
            return None
        self.show_message(f"Excel report written to {path}")
        return path

    def _provenance(self) -> Any:
        """The provenance an exported file carries (``cba.provenance``, as ``coordstudio run`` writes it): the
        tool and library versions, the study's fingerprints and the command line that started the
        application (issue 19)."""
        from coordstudio.cba.fingerprint import study_fingerprint
        from coordstudio.cba.provenance import build_provenance

        return build_provenance(study_fingerprint(self.doc.study))

    def export_recommendations(self, path: str | Path | None = None) -> Path | None:
        """Write the drafted recommendations (Markdown, and DOCX beside it when supported)."""
        result = self._require_cba()
        if result is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self,
                "Export recommendations draft",
                "recommendations.md",
                "Markdown (*.md);;Word document (*.docx)",
            )
            if not name:
                return None
            path = name
        path = Path(path)
        try:
            from coordstudio.cba.recommendations import write_recommendations
        except ImportError:
            self.show_error(
                "Export unavailable",
                "The recommendations draft (cba.recommendations) is not in this build yet.",
            )
            return None
        try:
            # the draft is always written as Markdown and DOCX side by side
            assert self.cba.params_shown is not None  # checked by _require_cba
            write_recommendations(
                path.with_suffix(".md"),
                path.with_suffix(".docx"),
                self.cba.params_shown,
                self.cba.run_result.kpis,
                self.cba.ict_shown,
                result,
                getattr(self.cba.run_result, "ict_check", None),
                provenance=self._provenance(),
            )
        except user_errors() as exc:
            self.show_error("Cannot write the recommendations", str(exc))
            return None
        except OSError as exc:
            self.show_error("Cannot write the recommendations", f"{path}: {exc.strerror or exc}")
            return None
        self.show_message(f"Recommendations draft written to {path}")
        return path

    def all_charts(self) -> dict[str, Any]:
        """Every chart of the window by a file-friendly name."""
        charts: dict[str, Any] = {
            "sgam_plane": self.ict.plane,
            "ict_cost": self.ict.cost_chart,
            "ict_capex_breakdown": self.ict.breakdown_chart,
        }
        for chart in self.results.charts:
            charts["kpi_" + chart.title] = chart
        for chart in self.results.timeseries.charts:
            charts["series_" + chart.title.split(":")[0]] = chart
        for chart in self.cba.charts:
            charts["cba_" + chart.title] = chart
        return {
            "".join(c if c.isalnum() else "_" for c in k).strip("_").lower(): v for k, v in charts.items()
        }

    def export_charts(self, folder: str | Path | None = None) -> list[Path]:
        """Save every chart as PNG and SVG into a folder."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export all charts to folder")
            if not folder:
                return []
        out = Path(folder)
        written = []
        try:
            for name, chart in self.all_charts().items():
                for ext in ("png", "svg"):
                    written.append(chart.save(out / f"{name}.{ext}"))
        except OSError as exc:
            self.show_error("Cannot export charts", f"{out}: {exc.strerror or exc}")
            return written
        self.show_message(f"{len(written)} chart files written to {out}")
        return written

    def export_sgam_excel(self, path: str | Path | None = None) -> Path | None:
        """Write the SGAM/ICT model as a workbook (``sgam.excel.export_workbook``, as the CLI does)."""
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export SGAM model to Excel", "sgam_model.xlsx", "Excel workbook (*.xlsx)"
            )
            if not name:
                return None
            path = name
        from coordstudio.sgam.excel import export_workbook

        try:
            written = export_workbook(self.doc.study.sgam, Path(path))
        except user_errors() as exc:
            self.show_error("Cannot export the SGAM model", str(exc))
            return None
        except OSError as exc:
            self.show_error("Cannot export the SGAM model", f"{path}: {exc.strerror or exc}")
            return None
        self.show_message(f"SGAM model written to {written}")
        return Path(written)

    def import_sgam_excel(self, path: str | Path | None = None) -> bool:
        """Replace the study's SGAM model by a workbook's (one undo step); a bad workbook changes nothing."""
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self, "Import SGAM model from Excel", "", "Excel workbook (*.xlsx)"
            )
            if not name:
                return False
            path = name
        from coordstudio.sgam.excel import import_workbook

        try:
            model = import_workbook(Path(path))
        except user_errors() as exc:
            self.show_error("Cannot import the SGAM model", str(exc))
            return False
        except OSError as exc:
            self.show_error("Cannot import the SGAM model", f"{path}: {exc.strerror or exc}")
            return False
        try:
            self.doc.set_value(("sgam",), model, f"Import SGAM model from {Path(path).name}")
        except EditRejected as exc:
            self.show_error("Cannot import the SGAM model", str(exc))
            return False
        self.show_message(f"SGAM model imported from {path} (Ctrl+Z undoes it)")
        return True

    def open_docs(self) -> None:
        """Open the user guide (docs/gui.md) with the desktop's viewer."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(DOCS_PATH)))

    def about(self) -> None:
        """The About box."""
        QMessageBox.about(
            self,
            APP_NAME,
            "<b>Coordination Studio</b><br>TSO-DSO coordination studies: "
            "SGAM/ICT cost, market and grid simulation, cost-benefit analysis.",
        )


def main_window_for(app: QApplication | None = None) -> MainWindow | None:
    """The main window of the running application, if any (for tests)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    for w in app.topLevelWidgets() if app else []:
        if isinstance(w, MainWindow):
            return w
    return None
