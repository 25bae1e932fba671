"""The open study as a Qt object: one :class:`~cba.study.Study`, its file, its undo stack.

Every change a user makes goes through a :class:`QUndoCommand` pushed on :attr:`StudyDocument.undo_stack`,
so undo/redo, the dirty marker (``undo_stack.isClean()``) and autosave all follow from one place. An edit
is addressed by a *path* into the study (``("sgam", "events", 3)``) and replaces the object at that path
with a new one that pydantic has validated; an invalid value is refused with a message naming the object
and field, and nothing changes. Cross-object problems (a dangling reference) do not block an edit, because
an architect renaming things passes through such states; they are listed by :meth:`validation_problems`
for the problems dock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from coordstudio.cba.study import Study

PathKey = str | int
ObjPath = tuple[PathKey, ...]


class EditRejected(Exception):
    """A value a user typed does not validate; the message names the object and the field."""


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is (a path into the study) and what is wrong."""

    path: ObjPath
    message: str

    @property
    def location(self) -> str:
        """The path as text, e.g. ``sgam.events[3].producer``."""
        return format_path(self.path)


def format_path(path: ObjPath) -> str:
    """``("sgam", "events", 3, "producer")`` -> ``sgam.events[3].producer``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out or "<study>"


def object_label(obj: Any) -> str:
    """How an object is named in messages: its ``id`` (or ``name``/``group_id``/...), else its type."""
    for attr in ("id", "feeder_id", "node_id", "group_id", "name", "scheme", "parameter"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return f"{type(obj).__name__} '{value}'"
    return type(obj).__name__


def get_at(root: Any, path: ObjPath) -> Any:
    """The object at ``path`` under ``root`` (attributes for str keys, items for int keys)."""
    node = root
    for key in path:
        if isinstance(key, int) or isinstance(node, dict):
            node = node[key]
        else:
            node = getattr(node, key)
    return node


def _set_at(root: Any, path: ObjPath, value: Any) -> None:
    parent = get_at(root, path[:-1])
    key = path[-1]
    if isinstance(parent, list) and isinstance(key, int):
        parent[key] = value
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        # Bypass a frozen model's __setattr__ guard: the GUI replaces whole, validated objects.
        object.__setattr__(parent, str(key), value) if _is_frozen(parent) else setattr(
            parent, str(key), value
        )


def _is_frozen(obj: Any) -> bool:
    config = getattr(obj, "model_config", None)
    return bool(config and config.get("frozen"))


def validated_copy(obj: BaseModel, changes: dict[str, Any]) -> BaseModel:
    """A new ``type(obj)`` with ``changes`` applied, validated by pydantic; :class:`EditRejected` if not."""
    data = obj.model_dump()
    data.update(changes)
    try:
        return type(obj).model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or ", ".join(changes)
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise EditRejected(f"{object_label(obj)}: {loc}: {msg}") from None


class ReplaceCommand(QUndoCommand):
    """Replace the object at a path by another (both kept, so undo/redo are exact)."""

    def __init__(self, doc: StudyDocument, path: ObjPath, old: Any, new: Any, text: str) -> None:
        super().__init__(text)
        self._doc, self._path, self._old, self._new = doc, path, old, new

    def redo(self) -> None:
        self._doc._replace(self._path, self._new)

    def undo(self) -> None:
        self._doc._replace(self._path, self._old)


class ListCommand(QUndoCommand):
    """Insert an item into, or remove one from, a list in the study."""

    def __init__(
        self, doc: StudyDocument, list_path: ObjPath, index: int, item: Any, insert: bool, text: str
    ) -> None:
        super().__init__(text)
        self._doc, self._path, self._index, self._item, self._insert = doc, list_path, index, item, insert

    def _do(self, insert: bool) -> None:
        items = get_at(self._doc.study, self._path)
        if insert:
            items.insert(self._index, self._item)
        else:
            del items[self._index]
        self._doc.changed.emit(self._path)

    def redo(self) -> None:
        self._do(self._insert)

    def undo(self) -> None:
        self._do(not self._insert)


class StudyDocument(QObject):
    """The study being edited, with its path, undo stack and change signals.

    Signals
    -------
    changed(tuple)
        An object at this path (or a list at this path) changed; views refresh what lies under it.
    studyReplaced()
        A different study was loaded (open, new, recover): every view rebuilds.
    pathChanged(str)
        The file the study is saved to changed ('' for an unsaved study).
    """

    changed = Signal(tuple)
    studyReplaced = Signal()
    pathChanged = Signal(str)

    def __init__(self, study: Study, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self.path = path
        self.undo_stack = QUndoStack(self)

    # ------------------------------------------------------------------ whole study

    def replace_study(self, study: Study, path: Path | None, *, dirty: bool = False) -> None:
        """Load another study (open/new/recover); clears the undo history."""
        self.study = study
        self.path = path
        self.undo_stack.clear()
        if dirty:
            # A recovered study differs from its file: an empty macro makes the stack "not clean".
            self.undo_stack.push(QUndoCommand("Recovered unsaved changes"))
        self.studyReplaced.emit()
        self.pathChanged.emit(str(path) if path else "")

    def set_path(self, path: Path) -> None:
        """Remember where the study was saved, and mark it clean."""
        self.path = path
        self.undo_stack.setClean()
        self.pathChanged.emit(str(path))

    @property
    def dirty(self) -> bool:
        """True when the study has changes not yet saved."""
        return not self.undo_stack.isClean()

    def snapshot(self) -> Study:
        """A deep copy of the study, safe to hand to a worker thread while the user keeps editing."""
        return self.study.model_copy(deep=True)

    # ------------------------------------------------------------------ reading

    def get(self, path: ObjPath) -> Any:
        """The object at ``path``."""
        return get_at(self.study, path)

    # ------------------------------------------------------------------ editing (undoable)

    def set_fields(self, path: ObjPath, changes: dict[str, Any]) -> None:
        """Set fields of the model at ``path``; validated, undoable; :class:`EditRejected` if invalid."""
        old = self.get(path)
        new = validated_copy(old, changes)
        if new == old:
            return
        names = ", ".join(changes)
        self.undo_stack.push(ReplaceCommand(self, path, old, new, f"Edit {object_label(old)}: {names}"))

    def set_value(self, path: ObjPath, value: Any, text: str | None = None) -> None:
        """Replace whatever is at ``path`` (a sub-model already validated, a dict entry...), undoable."""
        old = self.get(path)
        if old == value:
            return
        parent = self.get(path[:-1])
        if isinstance(parent, BaseModel) and isinstance(path[-1], str):
            # Validate the parent with the new value, so a field's own rules apply.
            validated_copy(parent, {path[-1]: value.model_dump() if isinstance(value, BaseModel) else value})
        self.undo_stack.push(ReplaceCommand(self, path, old, value, text or f"Edit {format_path(path)}"))

    def insert_item(self, list_path: ObjPath, index: int, item: Any) -> None:
        """Insert ``item`` at ``index`` of the list at ``list_path`` (undoable)."""
        self.undo_stack.push(ListCommand(self, list_path, index, item, True, f"Add {object_label(item)}"))

    def remove_item(self, list_path: ObjPath, index: int) -> None:
        """Remove item ``index`` of the list at ``list_path`` (undoable)."""
        item = get_at(self.study, list_path)[index]
        self.undo_stack.push(ListCommand(self, list_path, index, item, False, f"Delete {object_label(item)}"))

    def duplicate_item(self, list_path: ObjPath, index: int, make_unique: Callable[[Any], Any]) -> None:
        """Insert a copy of item ``index`` right after it, passed through ``make_unique`` (new id)."""
        item = copy.deepcopy(get_at(self.study, list_path)[index])
        self.insert_item(list_path, index + 1, make_unique(item))

    def _replace(self, path: ObjPath, value: Any) -> None:
        _set_at(self.study, path, value)
        self.changed.emit(path)

    # ------------------------------------------------------------------ validation

    def validation_problems(self) -> list[Problem]:
        """Every problem pydantic finds in the whole study (cross references included), with paths."""
        try:
            Study.model_validate(self.study.model_dump())
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.append(Problem(loc, msg))
            return problems
        return []
