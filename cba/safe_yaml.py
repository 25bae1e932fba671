"""The one safe reader of cba's YAML and JSON files (studies, KPI records, sweep variants).

``cba`` may import ``simulation``, so it reads through :mod:`simulation.safe_yaml` (C parser where
available, duplicate keys refused with file, line and key, nesting deeper than ``MAX_DEPTH`` and files
over ``MAX_FILE_BYTES`` refused) rather than a copy of it; a problem is re-raised as
:class:`~cba.errors.StudyError`, the error of the study file, with the same one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coordstudio.cba.errors import StudyError
from coordstudio.simulation import safe_yaml as _reader
from coordstudio.simulation.errors import SimulationError

MAX_FILE_BYTES = _reader.MAX_FILE_BYTES
MAX_DEPTH = _reader.MAX_DEPTH

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "parse_text", "read_data_file", "read_text"]


def parse_text(text: str, source: str, *, json_format: bool = False) -> Any:
    """Parse YAML (or JSON) ``text`` read from ``source``; one :class:`StudyError` line on a problem."""
    try:
        return _reader.parse_text(text, source, json_format=json_format)
    except SimulationError as exc:
        raise StudyError(str(exc)) from None


def read_text(path: Path | str) -> str:
    """The text of ``path`` (size-checked, UTF-8); one :class:`StudyError` line on a problem."""
    try:
        return _reader.read_text(path)
    except SimulationError as exc:
        raise StudyError(str(exc)) from None


def read_data_file(path: Path | str, *, json_format: bool | None = None) -> Any:
    """Read and parse a YAML/JSON file (format from its suffix unless given); StudyError on a problem."""
    try:
        return _reader.read_data_file(path, json_format=json_format)
    except SimulationError as exc:
        raise StudyError(str(exc)) from None
