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
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coordstudio.gui.document import ObjPath, StudyDocument
from coordstudio.gui.models import ChoiceDelegate, PydanticListModel, SchemeFilterProxy


def unique_id(existing: set[str], base: str) -> str:
    """``base`` if free, else ``base-copy``, ``base-copy2``, ... (ids must stay unique per list)."""
    candidate = f"{base}-copy"
    n = 2
    while candidate in existing:
        candidate = f"{base}-copy{n}"
        n += 1
    return candidate


def blank_item(
    item_type: type[BaseModel],
    id_field: str = "id",
    reference_choices: dict[str, Callable[[], list[str]]] | None = None,
) -> BaseModel:
    """A new object of ``item_type`` built from what the schema says (pydantic validates it): a
    reference takes the first id it may name, an enumeration its first value, a number its lower bound
    (one above an exclusive bound)."""
    from coordstudio.gui.schema import field_spec

    refs = reference_choices or {}
    data: dict[str, Any] = {}
    for name, info in item_type.model_fields.items():
        if not info.is_required():
            continue
        spec = field_spec(name, info)
        ids = refs[name]() if name in refs else []
        if ids:
            data[name] = ids[0]
        elif name == id_field:
            data[name] = "new-1"
        elif spec.kind == "choice" and spec.choices:
            data[name] = spec.choices[0]
        elif spec.kind in ("int", "float"):
            lo = spec.minimum if spec.minimum is not None else 0.0
            hi = spec.maximum
            value = lo + 1 if hi is None or lo + 1 <= hi else lo  # gt bounds: one above the bound
            data[name] = int(value) if spec.kind == "int" else float(value)
        elif spec.kind == "bool":
            data[name] = False
        elif spec.kind in ("list_str", "list_choice"):
            data[name] = []
        elif spec.kind == "str":
            data[name] = "new"
    return item_type.model_validate(data)


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
        # A refused edit stays in words beside the table until the next accepted edit (a status-bar
        # flash of 8 s with raw field names was easy to miss).
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.model.editRejected.connect(self._show_error)
        doc.changed.connect(lambda _p: self._show_error(""))
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

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

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
            self.add_first()
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

    def add_first(self) -> bool:
        """Add the first row of an empty list: the field defaults, the first choice of each enumeration,
        the lower bound of each number, an id 'new-1'; the user edits it from there (undoable)."""
        try:
            item = blank_item(self.model.item_type, self.id_field, self.model.reference_choices)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            text = (
                f"Cannot add a first {self.model.item_type.__name__} from defaults"
                + (f" (field {where})" if where else "")
                + f": {str(err['msg']).removeprefix('Value error, ')}. Add it in the study file."
            )
            self._show_error(text)
            self.message.emit(text)
            return False
        self.doc.insert_item(self.model.list_path, 0, item)
        self.select_source_row(0)
        return True

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
