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
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QDoubleValidator, QIntValidator
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from coordstudio.gui.document import EditRejected, ObjPath, StudyDocument, get_at
from coordstudio.gui.schema import FieldSpec, choice_text, field_specs, format_value, parse_text, split_unit

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
            refuse_unknown_schemes(self.list_path, spec, value)
            if spec.name == "id" and self.list_path[:1] == ("sgam",) and len(self.list_path) == 2:
                self.rename(index.row(), str(value))
            else:
                self.doc.set_fields((*self.list_path, index.row()), {spec.name: value})
        except EditRejected as exc:
            self.editRejected.emit(explain(spec, value, str(exc)))
            return False
        return True

    def rename(self, row: int, new_id: str) -> int:
        """Rename the SGAM object of ``row`` and every reference to it, as one undo step.

        Returns the number of references rewritten; :class:`EditRejected` for an empty or taken id.
        """
        from coordstudio.gui.document import ReplaceCommand, validated_copy
        from coordstudio.gui.refactor import KIND_NAMES
        from coordstudio.sgam.rename import renamed_sgam

        list_name = str(self.list_path[1])
        obj = self.item(row)
        old_id = str(obj.id)
        new_id = new_id.strip()
        if new_id == old_id:
            return 0
        validated_copy(obj, {"id": new_id})  # the object's own rules (non-empty, ...)
        kind = KIND_NAMES.get(list_name, list_name)
        if any(getattr(o, "id", None) == new_id for o in self.items()):
            raise EditRejected(
                f"{kind.capitalize()} '{old_id}': id '{new_id}' is already used by another {kind}"
            )
        old_sgam = self.doc.study.sgam
        new_sgam, n = renamed_sgam(old_sgam, list_name, old_id, new_id)
        self.doc.undo_stack.push(
            ReplaceCommand(
                self.doc,
                ("sgam",),
                old_sgam,
                new_sgam,
                f"Rename {kind} '{old_id}' to '{new_id}' ({n} reference(s))",
            )
        )
        return n

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


def refuse_unknown_schemes(list_path: ObjPath, spec: FieldSpec, value: Any) -> None:
    """Refuse a scheme id the simulation does not know (``run_study`` would refuse the study later)."""
    from coordstudio.simulation.kpis import SCHEME_IDS

    is_scheme_field = spec.name in ("schemes", "scheme", "reference_scheme") or (
        tuple(list_path) == ("sgam", "schemes") and spec.name == "id"
    )
    if not is_scheme_field:
        return
    values = value if isinstance(value, list) else [value]
    unknown = [str(v) for v in values if str(v) and str(v) not in SCHEME_IDS]
    if unknown:
        raise EditRejected(
            f"unknown scheme {', '.join(repr(u) for u in unknown)}: the simulation knows "
            f"{', '.join(SCHEME_IDS)}"
        )


def explain(spec: FieldSpec, value: Any, message: str) -> str:
    """A refused edit in words: the field's name with its unit, what was typed, why, and what is allowed.

    A fraction typed as a percentage (4 for 4 %) gets the hint to type 0.04.
    """
    unit = split_unit(spec.name)[1]
    # "CbaParameters: discount_rate: Input should be ..." -> "Input should be ..." (the header names it)
    holder, reason = "", message
    if f"{spec.name}: " in message:
        holder, reason = message.split(f"{spec.name}: ", 1)
        holder = holder.rstrip(": ")
    where = f"{holder}, {spec.header}" if holder else spec.header
    text = f"{where}: {value!r} refused — {reason[:1].lower()}{reason[1:]}"
    if spec.kind in ("int", "float") and (spec.minimum is not None or spec.maximum is not None):
        text += "." + range_text(spec).replace("<br>", " ") + "."
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is not None and spec.maximum == 1.0 and 1.0 < number <= 100.0 and unit in ("", "fraction"):
        text += f" This field is a fraction: {number:g} % is {number / 100:g}."
    return text


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


def exact_text(value: Any) -> str:
    """The shortest text that reads back as exactly ``value`` (``repr`` of a float: 0.074, 99.999,
    1e-06; a whole float without '.0')."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        text = repr(value)
        return text.removesuffix(".0") if value.is_integer() and "e" not in text else text
    return str(value)


class NumberEditor(QLineEdit):
    """A cell editor for a number: the stored value at full precision, the field's unit shown at the
    right inside the box, and the field's allowed range in the tooltip.

    Qt's default editor for a float is a ``QDoubleSpinBox`` with two decimals: opening a cell holding
    0.074 and pressing Enter stored 0.07, and 99.999 could not be typed. Here the text is the exact value
    (``repr``) and what is typed is handed to pydantic as typed.
    """

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.unit = split_unit(spec.name)[1]
        if spec.kind == "int":
            self.setValidator(QIntValidator(self))
        else:
            validator = QDoubleValidator(self)
            validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
            validator.setLocale(QLocale.c())
            self.setValidator(validator)
        self.unit_label = QLabel(self.unit, self)
        self.unit_label.setStyleSheet("color: #666666; background: transparent;")
        self.unit_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        width = self.unit_label.fontMetrics().horizontalAdvance(self.unit) + 6 if self.unit else 0
        self.setTextMargins(0, 0, width, 0)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setToolTip(spec.tooltip + range_text(spec))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        hint = self.unit_label.sizeHint()
        self.unit_label.setGeometry(self.width() - hint.width() - 4, 0, hint.width(), self.height())


def range_text(spec: FieldSpec) -> str:
    """'<br>Allowed: 0 … 100 %' for a bounded field ('' when unbounded)."""
    unit = split_unit(spec.name)[1]
    if spec.minimum is None and spec.maximum is None:
        return ""
    lo = "−∞" if spec.minimum is None else f"{spec.minimum:g}"
    hi = "∞" if spec.maximum is None else f"{spec.maximum:g}"
    return f"<br>Allowed: {lo} … {hi}" + (f" {unit}" if unit else "")


class ChoiceDelegate(QStyledItemDelegate):
    """Edits enumeration and reference cells with a combo box, numbers with :class:`NumberEditor`
    (exact value, unit shown), other cells with the default editor."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        choices = index.data(ChoicesRole)
        spec = index.data(SpecRole)
        if isinstance(spec, FieldSpec) and spec.kind == "bool":
            choices = ["yes", "no"]
        if choices:
            combo = QComboBox(parent)
            combo.addItems([str(c) for c in choices])
            return combo
        if isinstance(spec, FieldSpec) and spec.kind in ("int", "float"):
            return NumberEditor(spec, parent)
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, NumberEditor):
            editor.setText(exact_text(index.data(Qt.ItemDataRole.EditRole)))
            editor.selectAll()
            return
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
        if isinstance(editor, NumberEditor):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)
            return
        if isinstance(editor, QComboBox):
            spec = index.data(SpecRole)
            text = editor.currentText()
            value: Any = (text == "yes") if isinstance(spec, FieldSpec) and spec.kind == "bool" else text
            model.setData(index, value, Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)
