"""A form over one pydantic model inside the study (timing, prices, CBA parameters, metadata).

One row per scalar field: label with unit from the field name, tooltip from its description, an editor
chosen by the field's type. A committed value goes through :meth:`StudyDocument.set_fields` (pydantic
validation + undo command); a refused value shows the validator's message under the form and the editor
goes back to the stored value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from coordstudio.gui.document import EditRejected, ObjPath, StudyDocument
from coordstudio.gui.models import NumberEditor, exact_text, explain, range_text, refuse_unknown_schemes
from coordstudio.gui.schema import FieldSpec, choice_text, field_specs, format_value, parse_text


class PydanticForm(QWidget):
    """Editors for the scalar fields of the model at ``path`` in the study."""

    def __init__(
        self,
        doc: StudyDocument,
        path: ObjPath,
        model_type: type[BaseModel],
        fields: Sequence[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.path = path
        specs = {s.name: s for s in field_specs(model_type)}
        self.specs = [specs[f] for f in fields if f in specs] if fields else list(specs.values())
        self.editors: dict[str, QWidget] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        # In a narrow panel (1366x768) a long label goes above its field instead of squeezing it.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.errors: dict[str, QLabel] = {}
        for spec in self.specs:
            editor = self._make_editor(spec)
            editor.setToolTip(spec.tooltip + range_text(spec))
            label = QLabel(spec.header + ":")
            label.setToolTip(spec.tooltip)
            # The refusal is shown right under its field (a message below the form was off-screen).
            error = QLabel("")
            error.setWordWrap(True)
            error.setStyleSheet("color: #b00020;")
            error.setVisible(False)
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.setSpacing(1)
            cell_layout.addWidget(editor)
            cell_layout.addWidget(error)
            form.addRow(label, cell)
            self.editors[spec.name] = editor
            self.errors[spec.name] = error
        outer.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        outer.addWidget(self.message)
        outer.addStretch(1)
        doc.changed.connect(self._on_changed)
        doc.studyReplaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ editors

    def _make_editor(self, spec: FieldSpec) -> QWidget:
        if spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda checked, s=spec: self._commit(s, checked))
            return box
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems([choice_text(c) for c in spec.choices])
            combo.activated.connect(
                lambda _i, s=spec, c=combo: self._commit(s, parse_text(s, c.currentText()))
            )
            return combo
        if spec.kind == "int":
            spin = QSpinBox()
            spin.setRange(
                int(spec.minimum) if spec.minimum is not None else -2_000_000_000,
                int(spec.maximum) if spec.maximum is not None else 2_000_000_000,
            )
            spin.setGroupSeparatorShown(True)
            spin.editingFinished.connect(lambda s=spec, w=spin: self._commit(s, w.value()))
            return spin
        edit: QLineEdit = NumberEditor(spec) if spec.kind == "float" else QLineEdit()
        edit.editingFinished.connect(lambda s=spec, w=edit: self._commit(s, parse_text(s, w.text())))
        return edit

    def _commit(self, spec: FieldSpec, value: Any) -> None:
        current = getattr(self.doc.get(self.path), spec.name)
        if value == current or (spec.kind == "float" and _same_float(value, current)):
            self._set_error(spec, "")
            return
        try:
            refuse_unknown_schemes(self.path, spec, value)
            self.doc.set_fields(self.path, {spec.name: value})
            self._set_error(spec, "")
            self.message.setText("")
        except EditRejected as exc:
            # Keep what was typed on screen, marked, with the reason and the allowed range beside it;
            # the study keeps its value (said in the message).
            shown = exact_text(current) if spec.kind in ("int", "float") else format_value(spec, current)
            self._set_error(spec, explain(spec, value, str(exc)) + f" The study keeps {shown}.")

    def _set_error(self, spec: FieldSpec, text: str) -> None:
        """Show (or clear) the refusal message under a field, and mark its editor."""
        label = self.errors[spec.name]
        label.setText(text)
        label.setVisible(bool(text))
        editor = self.editors[spec.name]
        editor.setStyleSheet("border: 1px solid #b00020;" if text else "")
        if text:
            self.message.setText(text)
            self.message.setVisible(False)  # the field's own message says it; no duplicate far below

    # ------------------------------------------------------------------ refresh

    def _on_changed(self, path: tuple[Any, ...]) -> None:
        n = len(path)
        if tuple(self.path[:n]) == tuple(path) or tuple(path[: len(self.path)]) == self.path:
            self.refresh()

    def refresh(self) -> None:
        """Show the stored values (after an undo, an open, a refused edit)."""
        try:
            obj = self.doc.get(self.path)
        except (AttributeError, KeyError, IndexError):
            return
        for spec in self.specs:
            editor = self.editors[spec.name]
            value = getattr(obj, spec.name, None)
            editor.blockSignals(True)
            self.errors[spec.name].setVisible(False)
            editor.setStyleSheet("")
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(editor.findText(choice_text(value)), 0))
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value or 0))
            elif isinstance(editor, QLineEdit):
                text = repr(value) if isinstance(value, float) else format_value(spec, value)
                editor.setText(
                    text.removesuffix(".0") if isinstance(value, float) and value.is_integer() else text
                )
                if not editor.hasFocus():  # a long text (a description) is read from its start
                    editor.setCursorPosition(0)
            editor.blockSignals(False)


def _same_float(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return False
