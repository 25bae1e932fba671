"""The SGAM/ICT library as data: YAML files read and validated into one :class:`~sgam.model.SgamModel`.

The default library ships with the package in this folder (package data): ``library.yaml`` is the manifest
(model-level settings and the list of files, merged in that order), ``common.yaml`` holds what every scheme
shares, ``CMS.yaml`` ... ``IFM.yaml`` one coordination scheme each, and ``catalogue.yaml`` the communication
technologies and costed components with the source of their figures. ICT architects edit these files (or a
copy of them, passed as ``--library DIR``) without touching Python; see ``docs/sgam.md``.

Merging: every file is a mapping from section names (the list fields of :class:`~sgam.model.SgamModel`:
``actors``, ``events``, ``technologies``, ...) to lists of objects; each section is appended file after file,
so the model's lists keep the files' order. The merged data is validated by the pydantic model, and any
problem becomes one :class:`LibraryError` line naming the file, the line, the object and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coordstudio.sgam.errors import LibraryError, SgamError
from coordstudio.sgam.model import ITEM_LISTS, SgamModel
from coordstudio.sgam.safe_yaml import parse_text, read_text

__all__ = ["LIBRARY_DIR", "MANIFEST", "SETTINGS", "LibraryError", "default_model", "load_library"]

LIBRARY_DIR = Path(__file__).resolve().parent
"""Folder of the default library shipped with the package."""

MANIFEST = "library.yaml"
"""Name of the manifest file inside a library folder."""

SETTINGS = ("schema_version", "name", "description", "market_clearing_period_s", "time_step_s")
"""Model-level settings the manifest may hold (besides ``files``)."""

_Origin = tuple[str, int]
"""Where an object was written: (file path as text, line number, 1-based; 0 if unknown)."""


def _read_yaml(path: Path) -> tuple[Any, str]:
    """Parse one library file through :mod:`sgam.safe_yaml` (C parser, duplicate keys, depth, size)."""
    try:
        text = read_text(path)
        return parse_text(text, str(path)), text
    except LibraryError:
        raise
    except SgamError as exc:
        raise LibraryError(str(exc)) from None


def _id_lines(text: str) -> dict[str, int]:
    """Line number (1-based) of each ``- id: X`` in a file, for error messages."""
    lines: dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*-\s+id:\s*['\"]?([^'\"#]+?)['\"]?\s*(#.*)?$", line)
        if match:
            lines.setdefault(match.group(1), no)
    return lines


def _read_section_file(
    path: Path, merged: dict[str, list[Any]], origins: dict[tuple[str, str], _Origin]
) -> None:
    """Append the sections of one library file to ``merged``, remembering where each object came from."""
    data, text = _read_yaml(path)
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise LibraryError(
            f"{path}: expected sections such as 'events:' at the top level, got {type(data).__name__}"
        )
    id_lines = _id_lines(text)
    for kind, items in data.items():
        if kind not in ITEM_LISTS:
            raise LibraryError(
                f"{path}: unknown section '{kind}' (sections: {', '.join(ITEM_LISTS)})"
            )
        if items is None:
            continue
        if not isinstance(items, list):
            raise LibraryError(f"{path}: section '{kind}' must be a list of objects ('- id: ...')")
        for no, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                raise LibraryError(f"{path}: {kind} item {no}: expected an object with fields, got {item!r}")
            item_id = str(item.get("id", ""))
            origins[(kind, item_id)] = (str(path), id_lines.get(item_id, 0))
            merged[kind].append(dict(item))


def _library_files(directory: Path) -> tuple[dict[str, Any], list[Path]]:
    """Settings and file list of the manifest ``directory/library.yaml``."""
    manifest = directory / MANIFEST
    if not directory.is_dir():
        raise LibraryError(f"{directory}: not a folder (an SGAM library is a folder holding {MANIFEST})")
    data, _ = _read_yaml(manifest)
    if not isinstance(data, Mapping):
        raise LibraryError(f"{manifest}: expected the settings and 'files:' at the top level")
    unknown = [k for k in data if k not in (*SETTINGS, "files")]
    if unknown:
        keys = ", ".join((*SETTINGS, "files"))
        raise LibraryError(f"{manifest}: unknown key '{unknown[0]}' (keys: {keys})")
    files = data.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise LibraryError(f"{manifest}: files: expected a list of file names, e.g. '- common.yaml'")
    settings = {k: data[k] for k in SETTINGS if k in data}
    return settings, [directory / f for f in files]


def _field_line(path: Path, item_line: int, field: str) -> int:
    """Line of ``field:`` within the object starting at ``item_line`` (the object's line if not written)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return item_line
    for no in range(item_line, len(lines)):
        text = lines[no]
        if re.match(r"\s*-\s", text):
            break
        if re.match(rf"\s+{re.escape(field)}\s*:", text):
            return no + 1
    return item_line


def _error_line(exc: ValidationError, origins: Mapping[tuple[str, str], _Origin], manifest: Path) -> str:
    """The first validation problem as ``FILE line N: kind 'id': field: message``."""
    errors = exc.errors()
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    msg = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if len(loc) >= 2 and loc[0] in ITEM_LISTS:
        kind, item_id, fields = loc[0], loc[1], loc[2:]
        file, line = origins.get((kind, item_id), (str(manifest), 0))
        if line and fields:
            line = _field_line(Path(file), line, fields[0])
        where = f"{file} line {line}" if line else file
        field = f" {'.'.join(fields)}:" if fields else ""
        return f"{where}: {kind} '{item_id}':{field} {msg}{more}"
    return f"{manifest}: {'.'.join(loc) or 'model'}: {msg}{more}"


def load_library(directory: Path | str | None = None) -> SgamModel:
    """Read and validate the SGAM/ICT library in ``directory`` (default: the one shipped with the package).

    Raises :class:`LibraryError` (an :class:`~sgam.errors.SgamError`, exit code 2 on the command line) with
    one line naming the file, line, object and field of the first problem, e.g.
    ``catalogue.yaml line 57: technologies 'lte': opex_eur_per_endpoint_year: Input should be greater than
    or equal to 0``.
    """
    folder = LIBRARY_DIR if directory is None else Path(directory)
    settings, files = _library_files(folder)
    merged: dict[str, list[Any]] = {kind: [] for kind in ITEM_LISTS}
    origins: dict[tuple[str, str], _Origin] = {}
    for path in files:
        _read_section_file(path, merged, origins)
    try:
        return SgamModel.model_validate({**settings, **merged})
    except ValidationError as exc:
        raise LibraryError(_error_line(exc, origins, folder / MANIFEST)) from None


def default_model() -> SgamModel:
    """The default SGAM/ICT model of the five coordination schemes (a new object on every call)."""
    return load_library(None)
