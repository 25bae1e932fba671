"""Qt item models over the study's lists of pydantic objects, driven by the pydantic schema.

:class:`PydanticListModel` shows one list of the study (actors, events, technologies, device groups, ...)
as a table: one row per object, one column per scalar field, the header and tooltip from the field's name
(unit included) and description. Edits go through :meth:`StudyDocument.set_fields`, which validates with
pydantic and pushes an undo command, so the table holds no state of its own and no domain rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from gui.document import EditRejected, ObjPath, StudyDocument, get_at
from gui.schema import FieldSpec, choice_text, field_specs, format_value, parse_text

Index = QModelIndex | QPersistentModelIndex

#: Role under which a cell gives its FieldSpec (for the delegate) and the row's object (for filters).
SpecRole = Qt.ItemDataRole.UserRole + 1
ObjectRole = Qt.ItemDataRole.UserRole + 2
ChoicesRole = Qt.ItemDataRole.UserRole + 3


class PydanticListModel(QAbstractTableModel):
    """A table over ``doc.get(list_path)``, a list of ``item_type`` objects.

    Parameters
    ----------
    doc
        The open study.
    list_path
        Path of the list inside the study, e.g. ``("sgam", "events")``.
    item_type
        The pydantic class of the items (its fields give the columns).
    columns
        Field names to show, in order (default: every scalar/enum/list-of-str field).
    reference_choices
        Field name -> function returning the ids a reference field may take (an event's producer is one
        of the actor ids): the cell is then edited with a combo box of those ids.
    """

    editRejected = Signal(str)

    def __init__(
        self,
        doc: StudyDocument,
        list_path: ObjPath,
        item_type: type[BaseModel],
        columns: Sequence[str] | None = None,
        reference_choices: dict[str, Callable[[], list[str]]] | None = None,
    ) -> None:
        super().__init__(doc)
        self.doc = doc
        self.list_path = list_path
        self.item_type = item_type
        specs = {s.name: s for s in field_specs(item_type)}
        self.specs: list[FieldSpec] = (
            [specs[c] for c in columns if c in specs] if columns else list(specs.values())
        )
        self.reference_choices = reference_choices or {}
        doc.changed.connect(self._on_changed)
        doc.studyReplaced.connect(self._reset)

    # ------------------------------------------------------------------ access

    def items(self) -> list[Any]:
        """The list the table shows (the live one inside the study); empty if the path does not exist."""
        try:
            items = get_at(self.doc.study, self.list_path)
        except (AttributeError, KeyError, IndexError, TypeError):
            return []
        return items if isinstance(items, list) else []

    def item(self, row: int) -> Any:
        """The object shown in ``row``."""
        return self.items()[row]

    def column_of(self, field_name: str) -> int:
        """Column index of a field, -1 if it is not shown."""
        for i, spec in enumerate(self.specs):
            if spec.name == field_name:
                return i
        return -1

    def row_of(self, predicate: Callable[[Any], bool]) -> int:
        """First row whose object satisfies ``predicate``, -1 if none."""
        for row, obj in enumerate(self.items()):
            if predicate(obj):
                return row
        return -1

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.items())

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.specs)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.specs):
            spec = self.specs[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return spec.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return spec.tooltip
        elif orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        items = self.items()
        if index.row() >= len(items):
            return None
        obj = items[index.row()]
        spec = self.specs[index.column()]
        value = getattr(obj, spec.name, None)
        if role == Qt.ItemDataRole.DisplayRole:
            return format_value(spec, value)
        if role == Qt.ItemDataRole.EditRole:
            if spec.kind in ("choice",):
                return choice_text(value)
            if spec.kind in ("list_str", "list_choice"):
                return format_value(spec, value)
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole and spec.kind in ("int", "float"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == SpecRole:
            return spec
        if role == ObjectRole:
            return obj
        if role == ChoicesRole:
            provider = self.reference_choices.get(spec.name)
            if provider is not None:
                return provider()
            return [choice_text(c) for c in spec.choices] if spec.kind == "choice" else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and self.specs[index.column()].editable_inline:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        spec = self.specs[index.column()]
        if isinstance(value, str):
            value = parse_text(spec, value)
        try:
            self.doc.set_fields((*self.list_path, index.row()), {spec.name: value})
        except EditRejected as exc:
            self.editRejected.emit(str(exc))
            return False
        return True

    # ------------------------------------------------------------------ document signals

    def _reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def _on_changed(self, path: tuple[Any, ...]) -> None:
        n = len(self.list_path)
        if tuple(path[:n]) == self.list_path and len(path) > n:
            row = path[n]
            if isinstance(row, int) and row < self.rowCount():
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
                return
        if tuple(self.list_path[: len(path)]) == tuple(path):
            self._reset()


class SchemeFilterProxy(QSortFilterProxyModel):
    """Keeps the rows that belong to one coordination scheme ('' keeps all rows).

    An object belongs to a scheme when its ``scheme`` field equals it or its ``schemes`` list contains it
    (an empty ``schemes`` list means "all schemes"); objects with neither field are always shown.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._scheme = ""
        self._text = ""
        self.setSortRole(Qt.ItemDataRole.EditRole)

    def set_scheme(self, scheme: str) -> None:
        """Show only the rows of ``scheme`` ('' for all)."""
        self._scheme = scheme
        self.invalidateFilter()

    def set_text(self, text: str) -> None:
        """Show only rows whose cells contain ``text`` (case-insensitive)."""
        self._text = text.lower()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, PydanticListModel):
            return True
        obj = model.item(source_row)
        if self._scheme:
            if not belongs_to_scheme(obj, self._scheme):
                return False
        if self._text:
            cells = (str(model.data(model.index(source_row, c))) for c in range(model.columnCount()))
            return any(self._text in cell.lower() for cell in cells)
        return True


def belongs_to_scheme(obj: Any, scheme: str) -> bool:
    """Whether an SGAM object is part of ``scheme`` (see :class:`SchemeFilterProxy`)."""
    single = getattr(obj, "scheme", None)
    if isinstance(single, str) and single:
        return single == scheme
    many = getattr(obj, "schemes", None)
    if isinstance(many, (list, tuple, set, frozenset)):
        return not many or scheme in {choice_text(s) for s in many}
    return True


class ChoiceDelegate(QStyledItemDelegate):
    """Edits enumeration and reference cells with a combo box; other cells with the default editor."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        choices = index.data(ChoicesRole)
        spec = index.data(SpecRole)
        if isinstance(spec, FieldSpec) and spec.kind == "bool":
            choices = ["yes", "no"]
        if choices:
            combo = QComboBox(parent)
            combo.addItems([str(c) for c in choices])
            return combo
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            spec = index.data(SpecRole)
            current = index.data(Qt.ItemDataRole.EditRole)
            if isinstance(spec, FieldSpec) and spec.kind == "bool":
                current = "yes" if current else "no"
            i = editor.findText(str(current))
            editor.setCurrentIndex(max(i, 0))
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QComboBox):
            spec = index.data(SpecRole)
            text = editor.currentText()
            value: Any = (text == "yes") if isinstance(spec, FieldSpec) and spec.kind == "bool" else text
            model.setData(index, value, Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)
