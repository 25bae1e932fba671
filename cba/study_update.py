"""Write a changed study back into its file's own text: comments, key order and layout kept.

``sgam import`` replaces a study's SGAM/ICT model by an edited workbook's; re-serialising the whole study
(:func:`cba.study_file.save_study`) would drop every comment the user wrote, put the keys in the model's
order and re-wrap long strings. Instead the file's text is edited where the values changed:

1. The old and the new study are compared as JSON-able data (``model_dump(mode="json")``): the result is
   the changed leaf values by path (``("sgam", "technologies", 3, "capex_eur")``) and the smallest lists
   or tables whose shape changed (a row added or deleted in the workbook), with their new values.
2. Where each of them is written is located with ruamel.yaml's event parser (start and end of every
   scalar, quotes included, trailing comments excluded; a block list up to the end of its last value) and
   that text alone is replaced: a value by its YAML (or JSON) notation, a list by its rows written at the
   list's indentation and the file's line width. Every other byte of the file stays as it was.
3. If that is not possible (a changed value the file leaves out as a default), the file goes through
   ruamel.yaml's round-trip loader, the changes are merged into the loaded document (unchanged keys keep
   their order and comments, new keys come last) and it is dumped again: comments and key order kept,
   long strings possibly re-wrapped.

Either result is checked by loading it as the tool loads any study; if it does not equal the new study
(an anchor, a migrated older file), the study is written afresh by ``save_study``'s serialiser, and the
caller is told which of these happened (:class:`UpdateMethod`).

An overlay (``extends:``, :mod:`cba.study_overlay`) stays an overlay: a changed value the overlay states
is spliced as above; a change to a value it inherits is added to the overlay (only that value, or the
whole list or data mapping it is in: :func:`cba.study_overlay.overlay_diff` against the base) by the
round trip, so the overlay still follows its base everywhere else; failing both it is written afresh as
an overlay of the same base (:data:`UpdateMethod.OVERLAY`), and only when the base cannot express the
study (a key removed from a mapping the base has) in full.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from coordstudio.cba.errors import StudyError
from coordstudio.cba.fileio import atomic_write_text
from coordstudio.cba.study_file import Study, study_from_mapping, study_to_text

Path_ = tuple[str | int, ...]


class UpdateMethod(StrEnum):
    """How :func:`updated_study_text` wrote the change."""

    SPLICED = "spliced"
    """Only the changed values' text replaced; every other byte kept."""
    BLOCKS = "blocks"
    """The changed values' text replaced, and the lists or tables whose rows changed written anew."""
    ROUND_TRIP = "round-trip"
    """Re-dumped by ruamel.yaml with the document's comments and key order."""
    REWRITTEN = "rewritten"
    """Written afresh (comments and the file's own key order lost)."""
    OVERLAY = "overlay"
    """An overlay written afresh as an overlay of the same base (its comments lost, its meaning kept)."""


def changes(old: Any, new: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    """What differs between ``old`` and ``new`` (JSON-like data): the changed leaves, and the smallest
    containers whose shape changed (other keys, another number of rows), each by path with its new value.
    Numbers compare by value (``2000`` in a file equals ``2000.0`` in the model)."""
    if isinstance(old, dict) and isinstance(new, dict) and set(old) == set(new):
        return [c for key in new for c in changes(old[key], new[key], (*path, key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [c for i, (a, b) in enumerate(zip(old, new, strict=True)) for c in changes(a, b, (*path, i))]
    return [] if _same(old, new) else [(path, new)]


def _same(a: Any, b: Any) -> bool:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    if isinstance(a, bool) or isinstance(b, bool) or not numbers:
        return type(a) is type(b) and a == b
    return float(a) == float(b)


class _Span:
    """Where a value is written: its text's [start, end), the column it starts at, and whether it is a
    flow collection (``[a, b]``) or a block one (rows of ``- `` or ``key:`` lines)."""

    __slots__ = ("start", "end", "column", "flow", "container")

    def __init__(self, start: int, end: int, column: int, flow: bool, container: bool) -> None:
        self.start, self.end, self.column, self.flow, self.container = start, end, column, flow, container


def value_spans(text: str) -> dict[Path_, _Span]:
    """Path -> where each value of the (first) document is written, from ruamel.yaml's parser events
    (scalars with their quotes, without trailing comments; a block collection up to the end of its last
    value). Empty when the document has keys that are not plain scalars (nothing is guessed then)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        DocumentEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceStartEvent,
    )

    spans: dict[Path_, _Span] = {}
    # one frame per open collection: its path, mapping or not, the key or index of its next value,
    # whether a mapping waits for a key, and its span
    stack: list[list[Any]] = []

    def next_path() -> Path_ | None:
        if not stack:
            return ()
        frame = stack[-1]
        return (*frame[0], frame[2]) if frame[2] is not None else None

    def close_value(end: int) -> None:
        if not stack:
            return
        frame = stack[-1]
        frame[4].end = max(frame[4].end, end)
        if frame[1]:
            frame[2], frame[3] = None, True
        else:
            frame[2] += 1

    for event in YAML(typ="rt").parse(io.StringIO(text)):
        if isinstance(event, DocumentEndEvent):
            break
        waiting_key = bool(stack) and stack[-1][1] and stack[-1][3]
        if isinstance(event, ScalarEvent) and waiting_key:
            stack[-1][2], stack[-1][3] = str(event.value), False
            continue
        if waiting_key and isinstance(event, AliasEvent | MappingStartEvent | SequenceStartEvent):
            return {}  # an alias or a collection as a key
        if isinstance(event, ScalarEvent | AliasEvent):
            where = next_path()
            start, end = event.start_mark.index, event.end_mark.index
            if where is not None and isinstance(event, ScalarEvent):
                spans[where] = _Span(start, end, event.start_mark.column, False, False)
            close_value(end)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            where = next_path()
            is_map = isinstance(event, MappingStartEvent)
            span = _Span(event.start_mark.index, event.start_mark.index, event.start_mark.column,
                         bool(event.flow_style), True)
            if where is not None:
                spans[where] = span
            stack.append([where if where is not None else (), is_map, None if is_map else 0, is_map, span])
        elif isinstance(event, CollectionEndEvent):
            frame = stack.pop()
            if frame[4].flow:
                frame[4].end = event.end_mark.index
            close_value(frame[4].end)
    return spans


def _block(value: Any, column: int, width: int) -> str:
    """``value`` as a block collection in PyYAML's layout, its lines after the first indented to
    ``column`` (the first line starts where the old block started)."""
    body = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=width).rstrip("\n")
    return body.replace("\n", "\n" + " " * column)


def _block_width(written: str, old_value: Any, column: int) -> int:
    """The line width the file was written with: the one of the usual widths (PyYAML's default 80, the
    tool's 100) at which the old block comes out as it is written; 100 when none does."""
    for width in (100, 80):
        relative = max(20, width - column)  # PyYAML counts the width from the line's start
        if _block(old_value, column, relative) == written:
            return relative
    return max(20, 100 - column)


def value_text(
    value: Any, span: _Span, json_format: bool, written: str = "", old_value: Any = None, line_indent: int = 0
) -> str:
    """``value`` written to take ``span``'s place.

    A scalar, or a flow collection, on one line: JSON notation in a JSON file; in YAML, PyYAML's own
    notation, which the tool's loader reads back as the same value (``1.0e-05``, where ``1e-05`` would be
    text in YAML 1.1), or a double-quoted string where PyYAML would need several lines. A block collection
    as the tool's own study files write it, its lines indented to the span's column."""
    if json_format:
        if span.container and "\n" in written and value:
            # as json.dumps(indent=2) writes it, its closing bracket under the line it opens on
            body = json.dumps(value, indent=2, ensure_ascii=False)
            return body.replace("\n", "\n" + " " * line_indent)
        return json.dumps(value, ensure_ascii=False)
    if span.container and not span.flow and value:
        return _block(value, span.column, _block_width(written, old_value, span.column))
    text = yaml.safe_dump(value, allow_unicode=True, width=2**31 - 1, default_flow_style=True)
    text = text.removesuffix("\n").removesuffix("\n...").rstrip("\n")
    if "\n" in text:
        return json.dumps(value, ensure_ascii=False)
    return text


def _at(data: Any, where: Path_) -> Any:
    for part in where:
        data = data[part]
    return data


def splice(text: str, edits: Sequence[tuple[Path_, Any]], json_format: bool, old: Any = None) -> str | None:
    """``text`` with each edited value's text replaced (:func:`value_text`); None when a value to edit is
    not written in the file (a default the file leaves out) or the edits overlap."""
    spans = value_spans(text)
    placed: list[tuple[int, int, str]] = []
    for where, value in edits:
        span = spans.get(where)
        if span is None:
            return None
        before = _at(old, where) if old is not None and span.container else None
        line = text[text.rfind("\n", 0, span.start) + 1:span.start]
        indent = len(line) - len(line.lstrip(" "))
        placed.append((span.start, span.end,
                       value_text(value, span, json_format, text[span.start:span.end], before, indent)))
    placed.sort()
    if any(a[1] > b[0] for a, b in zip(placed, placed[1:], strict=False)):
        return None
    for start, end, new in reversed(placed):
        text = text[:start] + new + text[end:]
    return text


def _merge(doc: Any, old: Any, new: Any) -> Any:
    """``new`` merged into the round-trip document ``doc`` (which holds ``old``'s values): containers of
    the same shape are updated in place (comments and order kept), anything else is replaced."""
    if isinstance(new, dict) and isinstance(doc, dict) and isinstance(old, dict):
        for key in [k for k in doc if k not in new and k in old]:
            del doc[key]
        for key, value in new.items():
            if key in doc and key in old:
                doc[key] = _merge(doc[key], old[key], value)
            elif old.get(key, object()) != value or key in doc:
                doc[key] = value
        return doc
    if isinstance(new, list) and isinstance(doc, list) and isinstance(old, list) and len(new) == len(doc):
        for i, value in enumerate(new):
            doc[i] = _merge(doc[i], old[i], value)
        return doc
    return doc if changes(old, new) == [] else new


def round_trip(text: str, old: Any, new: Any, json_format: bool) -> str:
    """``text`` loaded by ruamel.yaml's round-trip loader, ``new`` merged in, dumped again."""
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 100
    rt.indent(mapping=2, sequence=2, offset=0)  # the layout the tool's own study files have
    doc = rt.load(text)
    doc = _merge(doc, old, new)
    if json_format:
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue()


def updated_study_text(
    text: str, old: Study, new: Study, json_format: bool, source: str
) -> tuple[str, UpdateMethod]:
    """The text of the study file ``text`` (which holds ``old``) changed to hold ``new``, and how."""
    old_data = old.model_dump(mode="json")
    new_data = new.model_dump(mode="json")

    def holds_new(candidate: str) -> bool:
        from coordstudio.cba.safe_yaml import parse_text

        try:
            return study_from_mapping(parse_text(candidate, source, json_format=json_format), source) == new
        except (StudyError, ValueError):
            return False

    edits = changes(old_data, new_data)
    if not edits:
        return text, UpdateMethod.SPLICED
    extends = _extends_of(text, source, json_format)
    try:
        spliced = splice(text, edits, json_format, old_data)
    except Exception:  # noqa: BLE001 - a parser surprise: the round trip below is the answer
        spliced = None
    if spliced is not None and holds_new(spliced):
        blocks = any(isinstance(value, dict | list) for _, value in edits)
        return spliced, UpdateMethod.BLOCKS if blocks else UpdateMethod.SPLICED
    try:
        if extends is not None:  # merge into the overlay what the new overlay states differently
            old_doc, new_doc = _overlays(text, source, json_format, new, extends)
            dumped = round_trip(text, old_doc, new_doc, json_format)
        else:
            dumped = round_trip(text, old_data, new_data, json_format)
    except Exception:  # noqa: BLE001 - ruamel cannot represent this file: written afresh below
        dumped = None
    if dumped is not None and holds_new(dumped):
        return dumped, UpdateMethod.ROUND_TRIP
    fmt = "json" if json_format else "yaml"
    if extends is not None:
        from coordstudio.cba.study_file import overlay_text

        fresh = overlay_text(new, extends, Path(source), fmt)
        if fresh is not None:
            return fresh, UpdateMethod.OVERLAY
    return study_to_text(new, fmt), UpdateMethod.REWRITTEN


def _extends_of(text: str, source: str, json_format: bool) -> str | None:
    """The ``extends:`` of a study's text (None: a full study)."""
    from coordstudio.cba.safe_yaml import parse_text
    from coordstudio.cba.study_overlay import EXTENDS_KEY

    try:
        raw = parse_text(text, source, json_format=json_format)
    except StudyError:
        return None
    value = raw.get(EXTENDS_KEY) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _overlays(text: str, source: str, json_format: bool, new: Study, extends: str) -> tuple[Any, Any]:
    """The overlay as its text holds it, and the overlay that holds ``new`` instead: the text's keys
    with the values that now differ from the base (:func:`cba.study_overlay.overlay_diff`) put over them."""
    from coordstudio.cba.safe_yaml import parse_text
    from coordstudio.cba.study_overlay import EXTENDS_KEY, deep_merge, overlay_diff

    old_doc = parse_text(text, source, json_format=json_format)
    base = study_from_mapping({"schema_version": old_doc.get("schema_version", 1), EXTENDS_KEY: extends},
                              source)
    diff = overlay_diff(base.model_dump(mode="json"), new.model_dump(mode="json"), Study)
    # the text's own keys kept where they still hold (a value equal to the base's stays stated)
    return old_doc, deep_merge(old_doc, diff, Study)


def write_updated_study(source: Path, target: Path, old: Study, new: Study) -> UpdateMethod:
    """Write ``new`` to ``target`` as ``source``'s text (which holds ``old``) edited (atomic write)."""
    from coordstudio.cba.study_file import read_text

    json_format = source.suffix.lower() == ".json"
    text, method = updated_study_text(read_text(source), old, new, json_format, str(source))
    extends = _extends_of(text, str(source), json_format)
    if extends is not None and target.parent.resolve() != source.parent.resolve():
        from coordstudio.cba.study_file import overlay_text
        from coordstudio.cba.study_overlay import rebased_extends

        # a relative base path names another file from the new folder: written again, rebased
        moved = overlay_text(new, rebased_extends(extends, source.parent, target.parent), target,
                             "json" if json_format else "yaml")
        text, method = (moved, UpdateMethod.OVERLAY) if moved is not None else (
            study_to_text(new, "json" if json_format else "yaml"), UpdateMethod.REWRITTEN)
    if target.suffix.lower() != source.suffix.lower() and (target.suffix.lower() == ".json") != json_format:
        text, method = study_to_text(new, "json" if target.suffix.lower() == ".json" else "yaml"), \
            UpdateMethod.REWRITTEN
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise StudyError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return method
