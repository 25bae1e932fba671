"""SGAM/ICT editor: the model's tables, the SGAM plane of a scheme and layer, and the live ICT cost.

The tables edit the study's ``sgam`` lists through the schema-driven model. Every change restarts a short
timer; when it fires, the ICT cost of every scheme is recomputed with ``sgam.matching.ict_costs`` (the
same function ``run_study`` uses) on the current model and the scenario's endpoint counts, and the SGAM
plane is redrawn with ``sgam.plane.draw_sgam_plane``. Clicking an actor's label on the plane selects the
actor in the Actors table.

The use case and the tables of the IEC 62559-2 template (versions, KPIs, conditions, diagrams, actor notes,
references, scenarios, steps, terms, custom information) sit together in the "Use cases (IEC 62559-2)" tab,
in the template's order, with export to and import from the template's workbook (``sgam.iec62559``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from coordstudio.cba.figures_kpi import draw_capex_by_technology, draw_ict_cost
from coordstudio.gui.charts import ChartWidget
from coordstudio.gui.document import StudyDocument
from coordstudio.gui.tables import ListEditor
from coordstudio.sgam.model import USE_CASE_TEMPLATE_TABLES
from coordstudio.simulation.kpis import SCHEME_IDS

#: (list name in SgamModel, tab title, model class name, columns shown first; None = all)
SGAM_TABLES: tuple[tuple[str, str, str], ...] = (
    ("actors", "Actors", "Actor"),
    ("information_objects", "Information objects", "InformationObject"),
    ("events", "Interaction events", "InteractionEvent"),
    ("requirements", "Requirements", "Requirement"),
    ("technologies", "Technologies", "Technology"),
    ("links", "Links", "Link"),
    ("components", "Components", "Component"),
    ("use_cases", "Use cases", "UseCase"),
    ("use_case_versions", "1.2 Versions", "UseCaseVersion"),
    ("kpis", "1.5 KPIs", "UseCaseKpi"),
    ("use_case_conditions", "1.6 Conditions", "UseCaseCondition"),
    ("use_case_diagrams", "2 Diagrams", "UseCaseDiagram"),
    ("use_case_actors", "3.1 Actor notes", "UseCaseActorInfo"),
    ("use_case_references", "3.2 References", "UseCaseReference"),
    ("scenarios", "Use-case scenarios", "UseCaseScenario"),
    ("steps", "Use-case steps", "UseCaseStep"),
    ("terms", "7 Terms", "Term"),
    ("custom_information", "8 Custom information", "CustomInformation"),
    ("schemes", "Schemes", "Scheme"),
    ("endpoint_counts", "Endpoint counts", "EndpointCount"),
)

#: The tables of the IEC 62559-2 use-case template, shown together in the "Use cases (IEC 62559-2)" tab in
#: the template's section order (the order is the model's: sgam.model.USE_CASE_TEMPLATE_TABLES).
USE_CASE_TABLES = USE_CASE_TEMPLATE_TABLES

TEMPLATE_FILTER = "IEC 62559-2 template (*.xlsx);;All files (*)"

SCHEMES = SCHEME_IDS  # the simulation's scheme registry (simulation/schemes.py)


class IctView(QWidget):
    """Tables of the SGAM/ICT model, the SGAM plane and the ICT cost per scheme."""

    message = Signal(str)
    costsUpdated = Signal(object)

    def __init__(self, doc: StudyDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.costs: dict[str, Any] = {}
        self.cost_error = ""
        self._plane_stale = True
        import coordstudio.sgam.model as sgam_model

        # -------- top bar: scheme filter and plane layer
        self.scheme_box = QComboBox()
        self.scheme_box.addItem("All schemes", "")
        for s in SCHEMES:
            self.scheme_box.addItem(s, s)
        self.scheme_box.setToolTip("Show only the objects of one coordination scheme (tables and plane)")
        self.layer_box = QComboBox()
        for layer in sgam_model.Layer:
            self.layer_box.addItem(layer.value.capitalize(), layer.value)
        self.layer_box.setCurrentIndex(max(self.layer_box.findData("communication"), 0))
        self.layer_box.setToolTip("SGAM interoperability layer drawn on the plane")
        top = QHBoxLayout()
        top.addWidget(QLabel("Scheme:"))
        top.addWidget(self.scheme_box)
        top.addSpacing(16)
        top.addWidget(QLabel("SGAM layer:"))
        top.addWidget(self.layer_box)
        top.addStretch(1)
        self.cost_label = QLabel("")
        top.addWidget(self.cost_label)

        # -------- tables
        self.tabs = QTabWidget()
        self.editors: dict[str, ListEditor] = {}
        refs = self._reference_choices()
        self.use_case_tabs = QTabWidget()
        self.use_case_panel = self._use_case_panel()
        for list_name, title, class_name in SGAM_TABLES:
            item_type = getattr(sgam_model, class_name, None)
            if item_type is None:
                continue
            editor = ListEditor(doc, ("sgam", list_name), item_type, reference_choices=refs)
            editor.message.connect(self.message)
            self.editors[list_name] = editor
            if list_name in USE_CASE_TABLES:
                self.use_case_tabs.addTab(editor, title)
                if list_name == "use_cases":
                    self.tabs.addTab(self.use_case_panel, "Use cases (IEC 62559-2)")
            else:
                self.tabs.addTab(editor, title)

        # -------- plane and costs
        self.plane = ChartWidget("SGAM plane", design_width_in=8.0)
        self.plane.canvas.mpl_connect("button_press_event", self._on_plane_click)
        self.cost_chart = ChartWidget("ICT cost per scheme")
        self.breakdown_chart = ChartWidget("CAPEX per scheme by technology and component")
        self.cost_table = QTableWidget(0, 5)
        self.cost_table.setHorizontalHeaderLabels(
            ["Scheme", "CAPEX [EUR]", "OPEX [EUR/a]", "Lines", "Unserved events"]
        )
        self.cost_table.verticalHeader().setVisible(False)
        self.cost_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cost_table.horizontalHeader().setStretchLastSection(True)
        self.cost_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.cost_table.verticalHeader().setDefaultSectionSize(20)
        self.cost_table.setFixedHeight(26 + 5 * 20 + 4)
        # The plane's side panel of links is tiny once the figure is scaled into a window: the links are
        # listed under the plane in the window's own font instead (tidy_sgam_plane hides the panel).
        self.link_list = QListWidget()
        self.link_list.setWordWrap(True)
        self.link_list.setAlternatingRowColors(True)
        plane_box = QSplitter(Qt.Orientation.Vertical)
        plane_box.addWidget(self.plane)
        plane_box.addWidget(self.link_list)
        plane_box.setStretchFactor(0, 3)
        plane_box.setStretchFactor(1, 1)
        self.plane_box = plane_box
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(plane_box, "SGAM plane")
        self.right_tabs.addTab(self.cost_chart, "ICT cost chart")
        self.right_tabs.addTab(self.breakdown_chart, "CAPEX breakdown")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.right_tabs, 1)
        right_layout.addWidget(QLabel("<b>ICT cost per scheme</b> (live, from sgam.matching)"))
        right_layout.addWidget(self.cost_table)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 800])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        # -------- live recomputation
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.recompute)
        doc.changed.connect(self._on_changed)
        doc.studyReplaced.connect(self._timer.start)
        self.scheme_box.currentIndexChanged.connect(self._on_scheme)
        self.layer_box.currentIndexChanged.connect(self.draw_plane)
        self.recompute()

    # ------------------------------------------------------------------ IEC 62559-2 template

    def _use_case_panel(self) -> QWidget:
        """The use-case tables in the template's order, with export to and import from the template."""
        self.template_box = QComboBox()
        self.template_box.setToolTip("Use case to export in the IEC 62559-2 template layout")
        export = QPushButton("Export template…")
        export.setToolTip(
            "Write the chosen use case as an IEC 62559-2 template workbook (.xlsx): one sheet per section, "
            "the standard's headings and columns, plus an 'SGAM mapping' sheet"
        )
        export.clicked.connect(self._ask_export_template)
        imp = QPushButton("Import template…")
        imp.setToolTip(
            "Read a use case written in the IEC 62559-2 template (.xlsx) into the model; it replaces the use "
            "case of the same id (undoable)"
        )
        imp.clicked.connect(self._ask_import_template)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("IEC 62559-2 template of:"))
        bar.addWidget(self.template_box, 1)
        bar.addWidget(export)
        bar.addWidget(imp)
        self.template_notes = QLabel("")
        self.template_notes.setWordWrap(True)
        self.template_notes.setVisible(False)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.template_notes)
        layout.addWidget(self.use_case_tabs, 1)
        self.doc.changed.connect(lambda _p: self._fill_template_box())
        self.doc.studyReplaced.connect(self._fill_template_box)
        self._fill_template_box()
        return panel

    def _fill_template_box(self) -> None:
        current = self.template_box.currentData()
        ids = [u.id for u in self.doc.study.sgam.use_cases]
        if [self.template_box.itemData(i) for i in range(self.template_box.count())] == ids:
            return
        self.template_box.blockSignals(True)
        self.template_box.clear()
        for u in self.doc.study.sgam.use_cases:
            self.template_box.addItem(f"{u.id} – {u.name}", u.id)
        self.template_box.setCurrentIndex(max(self.template_box.findData(current), 0))
        self.template_box.blockSignals(False)

    def _ask_export_template(self) -> None:
        use_case = str(self.template_box.currentData() or "")
        if not use_case:
            QMessageBox.critical(self, "Export template", "The model has no use case to export.")
            return
        start = str((self.doc.path.parent if self.doc.path else Path.cwd()) / f"{use_case}.xlsx")
        name, _ = QFileDialog.getSaveFileName(self, "Export IEC 62559-2 template", start, TEMPLATE_FILTER)
        if name:
            self.export_template(use_case, Path(name))

    def _ask_import_template(self) -> None:
        start = str(self.doc.path.parent if self.doc.path else Path.cwd())
        name, _ = QFileDialog.getOpenFileName(self, "Import IEC 62559-2 template", start, TEMPLATE_FILTER)
        if name:
            self.import_template(Path(name))

    def export_template(self, use_case_id: str, path: Path) -> bool:
        """Write use case ``use_case_id`` as an IEC 62559-2 template workbook; a dialog says why not."""
        from coordstudio.sgam.errors import SgamError
        from coordstudio.sgam.iec62559 import export_use_case

        try:
            export_use_case(self.doc.study.sgam, use_case_id, path)
        except (SgamError, OSError) as exc:
            QMessageBox.critical(self, "Cannot export the use case", str(exc))
            return False
        self.message.emit(f"Use case {use_case_id} written to {path} (IEC 62559-2 template)")
        return True

    def import_template(self, path: Path) -> bool:
        """Read an IEC 62559-2 template workbook into the model (one undo step); a dialog says why not."""
        from coordstudio.sgam.errors import SgamError
        from coordstudio.sgam.iec62559 import import_use_case

        try:
            model, notes = import_use_case(path, self.doc.study.sgam)
        except SgamError as exc:
            QMessageBox.critical(self, "Cannot import the use case", str(exc))
            return False
        self.doc.set_value(("sgam",), model, f"Import use case from {path.name}")
        # One line under the toolbar (the tables keep their room); every placeholder in the tooltip.
        named = ", ".join(n.split("'")[1] for n in notes if n.count("'") >= 2)
        self.template_notes.setText(
            f"{len(notes)} new object(s) got placeholders for what the template does not give (SGAM "
            f"placement, message size): {named}. Review them (hover for details)."
        )
        self.template_notes.setToolTip("\n".join(notes))
        self.template_notes.setVisible(bool(notes))
        review = f" ({len(notes)} placeholder(s) to review)" if notes else ""
        self.message.emit(f"Imported {path.name}{review}")
        return True

    def show_editor(self, editor: ListEditor) -> None:
        """Bring a table to the front, inside the use-case tab when it is one of the template's."""
        if self.use_case_tabs.indexOf(editor) >= 0:
            self.tabs.setCurrentWidget(self.use_case_panel)
            self.use_case_tabs.setCurrentWidget(editor)
        else:
            self.tabs.setCurrentWidget(editor)

    # ------------------------------------------------------------------ reference combos

    def _reference_choices(self) -> dict[str, Any]:
        def ids(kind: str) -> Any:
            return lambda: [getattr(o, "id", "") for o in getattr(self.doc.study.sgam, kind, [])]

        return {
            "producer_id": ids("actors"),
            "receiver_id": ids("actors"),
            "actor_id": ids("actors"),
            "actor_a_id": ids("actors"),
            "actor_b_id": ids("actors"),
            "payer_id": ids("actors"),
            "primary_actor_id": ids("actors"),
            "information_object_id": ids("information_objects"),
            "link_id": ids("links"),
            "multiplicity": ids("endpoint_counts"),
            "use_case_id": ids("use_cases"),
            "scenario_id": ids("scenarios"),
        }

    # ------------------------------------------------------------------ reactions

    def _on_changed(self, path: tuple[Any, ...]) -> None:
        if not path or path[0] in ("sgam", "scenario", "cba"):
            self._timer.start()

    def _on_scheme(self) -> None:
        scheme = self.scheme_box.currentData() or ""
        for editor in self.editors.values():
            editor.proxy.set_scheme(scheme)
        self.draw_plane()

    def current_scheme(self) -> str:
        """The scheme chosen in the filter ('' for all)."""
        return str(self.scheme_box.currentData() or "")

    # ------------------------------------------------------------------ ICT cost

    def recompute(self) -> None:
        """Recompute the ICT cost of every scheme and redraw the plane (errors shown, not raised)."""
        self.costs, self.cost_error = compute_ict_costs(self.doc)
        self._fill_costs()
        self.draw_plane()
        self.costsUpdated.emit(self.costs)

    def _fill_costs(self) -> None:
        self.cost_table.setRowCount(len(self.costs))
        for row, (scheme, cost) in enumerate(self.costs.items()):
            unserved = list(getattr(cost, "unserved_events", []))
            cells = [
                scheme,
                f"{cost.capex_eur:,.0f}",
                f"{cost.opex_eur_per_year:,.0f}",
                str(len(getattr(cost, "lines", []))),
                ", ".join(unserved) or "none",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 4 and unserved:
                    item.setForeground(Qt.GlobalColor.red)
                    item.setToolTip("No technology meets every hard requirement of these events: fix them")
                self.cost_table.setItem(row, col, item)
        if self.cost_error:
            self.cost_label.setText(
                f"<span style='color:#b00020'>ICT cost cannot be computed: {self.cost_error}</span>"
            )
            self.cost_label.setWordWrap(True)
            self.cost_chart.message(f"ICT cost cannot be computed:\n{self.cost_error}")
            self.breakdown_chart.message(f"ICT cost cannot be computed:\n{self.cost_error}")
            return
        self.cost_label.setText("ICT cost updated live as you edit")
        if not self.costs:
            self.cost_chart.message("No scheme to cost.")
            return
        self.cost_chart.plot(
            draw_ict_cost,
            {s: c.capex_eur for s, c in self.costs.items()},
            {s: c.opex_eur_per_year for s, c in self.costs.items()},
        )
        sgam = self.doc.study.sgam
        names = {t.id: t.name or t.id for t in sgam.technologies}
        names.update({c.id: f"{c.name or c.id} (component)" for c in sgam.components})
        self.breakdown_chart.plot(draw_capex_by_technology, self.costs, names)

    # ------------------------------------------------------------------ SGAM plane

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._plane_stale:
            self.draw_plane()

    def draw_plane(self) -> None:
        """Draw the SGAM plane of the chosen layer and scheme with ``sgam.plane.draw_sgam_plane``.

        Drawing takes about 0.2 s; while the view is hidden it is deferred to the next time it is shown,
        so edits made elsewhere (the scenario, the CBA) stay instantaneous.
        """
        if not self.isVisible():
            self._plane_stale = True
            return
        self._plane_stale = False
        scheme = self.current_scheme() or (self.doc.study.sgam.scheme_ids() or ["CMS"])[0]
        layer = str(self.layer_box.currentData())
        try:
            from coordstudio.sgam.plane import draw_sgam_plane
        except ImportError:
            self.plane.message("The SGAM plane drawing (sgam.plane) is not available in this build yet.")
            return
        ax = self.plane.axes()
        try:
            draw_sgam_plane(self.doc.study.sgam, scheme, layer, ax=ax, costs=self.costs or None)
        except Exception as exc:  # noqa: BLE001 - a model being edited may be incomplete: say why
            self.plane.message(f"SGAM plane of {scheme} ({layer}) cannot be drawn:\n{exc}")
            return
        title, entries = tidy_sgam_plane(ax)
        self.link_list.clear()
        if title:
            header = QListWidgetItem(title)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            self.link_list.addItem(header)
        self.link_list.addItems(entries)
        self.plane.set_title(
            f"SGAM plane: {scheme}, {layer} layer"
            + ("" if self.current_scheme() else " (choose a scheme above to see another)")
        )
        self.plane.draw()

    def _on_plane_click(self, event: Any) -> None:
        """Select the actor whose label (id or name, possibly wrapped over lines) was clicked."""
        if event.inaxes is None:
            return
        actors = {a.id: a.id for a in self.doc.study.sgam.actors}
        actors.update({" ".join(a.name.split()): a.id for a in self.doc.study.sgam.actors if a.name})
        for text in event.inaxes.texts:
            contains, _ = text.contains(event)
            if not contains:
                continue
            raw = text.get_text().strip()
            for label in (" ".join(raw.split()), *raw.splitlines()):
                actor_id = actors.get(label.strip())
                if actor_id:
                    self.select_actor(actor_id)
                    return

    def select_actor(self, actor_id: str) -> None:
        """Show the Actors table with ``actor_id`` selected."""
        editor = self.editors.get("actors")
        if editor is None:
            return
        self.tabs.setCurrentWidget(editor)
        if editor.select_id(actor_id):
            self.message.emit(f"Actor {actor_id} selected")

    def select(self, list_name: str, row: int) -> bool:
        """Show table ``list_name`` with ``row`` selected (used by the explorer and problems dock)."""
        editor = self.editors.get(list_name)
        if editor is None:
            return False
        self.show_editor(editor)
        return editor.select_source_row(row)


def tidy_sgam_plane(ax: Any) -> tuple[str, list[str]]:
    """Make ``sgam.plane.draw_sgam_plane``'s drawing legible in a window; returns the link list.

    The drawing is laid out for a 19-inch page. In a window: the domain labels under the plane (one per
    column) ran into each other, so every other one is moved down a line; the role legend sat on them, so
    it goes under the axes; the side panel of links (wrapped lines of 6.5-8 pt text) is hidden and its
    entries returned, to be listed in the window's font, and the plane takes the panel's width.
    Presentation only: the figure's content is unchanged.
    """
    from matplotlib.text import Text

    texts = [t for t in ax.texts if isinstance(t, Text)]
    domain_labels = sorted(
        (t for t in texts if abs(t.get_position()[1] + 0.06) < 1e-9 and t.get_verticalalignment() == "top"),
        key=lambda t: t.get_position()[0],
    )
    ncol = len(domain_labels)
    for i, t in enumerate(domain_labels):
        t.set_fontsize(9)
        if i % 2:
            x, _y = t.get_position()
            t.set_position((x, -0.26))
    panel = [t for t in texts if ncol and t.get_position()[0] > ncol + 0.05]
    title = ""
    entries: list[str] = []
    for t in sorted(panel, key=lambda t: -t.get_position()[1]):
        text = t.get_text()
        if t.get_fontweight() == "bold" or text in ("Flows", "Links (chosen technology)"):
            title = title or text
        elif text[:1].isdigit() and ". " in text[:5]:
            entries.append(text.strip())
        elif entries:
            entries[-1] += " " + text.strip()
        t.set_visible(False)
    if ncol:
        ax.set_xlim(-0.7, ncol + 0.1)
        ax.set_ylim(-0.5, ax.get_ylim()[1])
    legend = ax.get_legend()
    if legend is not None:
        legend.set_loc("upper center")
        legend.set_bbox_to_anchor((0.5, 0.0), transform=ax.transAxes)
    return title, entries


def compute_ict_costs(doc: StudyDocument) -> tuple[dict[str, Any], str]:
    """ICT cost per scheme of the study as it is now, or ({}, message) when it cannot be computed."""
    try:
        from coordstudio.sgam.matching import ict_costs
        from coordstudio.simulation.scenario import endpoint_counts
    except ImportError as exc:
        return {}, f"ICT costing is not available in this build yet ({exc.name} missing)"
    study = doc.study
    try:
        costs = ict_costs(
            study.sgam, endpoint_counts(study.scenario), study.cba.horizon_years, study.cba.discount_rate
        )
    except Exception as exc:  # noqa: BLE001 - shown next to the table, the user fixes the model
        # A bare KeyError ("'agg_platform'") says nothing; the validation problem behind it does.
        from coordstudio.gui.refactor import describe_problem

        problems = doc.validation_problems()
        if problems:
            more = f" (and {len(problems) - 1} more in the problems list)" if len(problems) > 1 else ""
            return {}, describe_problem(problems[0]) + more
        return {}, f"{type(exc).__name__}: {exc}"
    return dict(costs), ""
