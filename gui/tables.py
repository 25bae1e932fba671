"""A table view with its toolbar (add, duplicate, delete, search) over one list of the study."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.document import ObjPath, StudyDocument
from gui.models import ChoiceDelegate, PydanticListModel, SchemeFilterProxy


def unique_id(existing: set[str], base: str) -> str:
    """``base`` if free, else ``base-copy``, ``base-copy2``, ... (ids must stay unique per list)."""
    candidate = f"{base}-copy"
    n = 2
    while candidate in existing:
        candidate = f"{base}-copy{n}"
        n += 1
    return candidate


class ListEditor(QWidget):
    """Toolbar + table for one list of pydantic objects in the study."""

    message = Signal(str)

    def __init__(
        self,
        doc: StudyDocument,
        list_path: ObjPath,
        item_type: type[BaseModel],
        columns: list[str] | None = None,
        reference_choices: dict[str, Callable[[], list[str]]] | None = None,
        id_field: str = "id",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.id_field = id_field
        self.model = PydanticListModel(doc, list_path, item_type, columns, reference_choices)
        self.model.editRejected.connect(self.message)
        self.proxy = SchemeFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(ChoiceDelegate(self.view))
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setDefaultSectionSize(110)
        self.view.verticalHeader().setDefaultSectionSize(22)

        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter rows…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_text)
        add = QPushButton("Add")
        add.setToolTip("Add a copy of the selected row (or of the last row) with a new id")
        add.clicked.connect(self.duplicate_selected)
        delete = QPushButton("Delete")
        delete.setToolTip("Delete the selected rows (undoable)")
        delete.clicked.connect(self.delete_selected)
        bar.addWidget(self.search, 1)
        bar.addWidget(add)
        bar.addWidget(delete)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        for keys, slot in (
            (QKeySequence.StandardKey.Delete, self.delete_selected),
            ("Ctrl+D", self.duplicate_selected),
            (QKeySequence.StandardKey.Find, self.search.setFocus),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        add.setToolTip(add.toolTip() + " (Ctrl+D)")
        delete.setToolTip(delete.toolTip() + " (Del)")
        self.model.modelReset.connect(self.fit_columns)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Size columns to their contents, capped so a long description cannot push others away."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for col in range(self.model.columnCount()):
            header.resizeSection(col, min(max(header.sectionSize(col), 60), 260))

    # ------------------------------------------------------------------ selection

    def selected_source_rows(self) -> list[int]:
        """Rows of the underlying list that are selected, ascending."""
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        return sorted(rows)

    def select_source_row(self, row: int, column: int = 0) -> bool:
        """Select and show a row of the underlying list (clearing the filters if they hide it)."""
        if not (0 <= row < self.model.rowCount()):
            return False
        index = self.proxy.mapFromSource(self.model.index(row, max(column, 0)))
        if not index.isValid():
            self.search.clear()
            self.proxy.set_scheme("")
            index = self.proxy.mapFromSource(self.model.index(row, max(column, 0)))
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.scrollTo(index)
        return True

    def select_id(self, item_id: str) -> bool:
        """Select the row whose id is ``item_id``."""
        row = self.model.row_of(lambda o: getattr(o, self.id_field, None) == item_id)
        return self.select_source_row(row)

    # ------------------------------------------------------------------ add / delete

    def duplicate_selected(self) -> None:
        """Insert a copy of the selected (or last) row with a fresh id, undoable."""
        items = self.model.items()
        if not items:
            self.message.emit("Nothing to copy: this list is empty; add items in the study file first.")
            return
        rows = self.selected_source_rows()
        row = rows[-1] if rows else len(items) - 1
        existing = {str(getattr(o, self.id_field, "")) for o in items}

        def fresh(obj: Any) -> Any:
            obj = copy.deepcopy(obj)
            if hasattr(obj, self.id_field):
                data = obj.model_dump()
                data[self.id_field] = unique_id(existing, str(data[self.id_field]))
                return type(obj).model_validate(data)
            return obj

        try:
            self.doc.duplicate_item(self.model.list_path, row, fresh)
        except ValidationError:
            # e.g. an id that must name a known input: copy unchanged, the problems dock flags the duplicate
            self.doc.duplicate_item(self.model.list_path, row, copy.deepcopy)
        self.select_source_row(row + 1)

    def delete_selected(self) -> None:
        """Delete the selected rows (one undo step each, highest row first so indices stay valid)."""
        rows = self.selected_source_rows()
        if not rows:
            self.message.emit("Select the rows to delete first.")
            return
        self.doc.undo_stack.beginMacro(f"Delete {len(rows)} row(s)")
        for row in reversed(rows):
            self.doc.remove_item(self.model.list_path, row)
        self.doc.undo_stack.endMacro()

    def current_object(self) -> Any:
        """The object of the current row, or None."""
        index: QModelIndex = self.proxy.mapToSource(self.view.currentIndex())
        return self.model.item(index.row()) if index.isValid() else None
