"""The one safe reader of sgam's YAML and JSON files: size, depth and duplicate-key checks.

Why its own module: every file sgam reads goes through here, so the rules hold for all of them and
``sgam``, ``simulation`` and ``cba`` each keep their own copy (they share no code, see their READMEs).

* YAML is parsed by libyaml's C parser (``yaml.CSafeLoader``, about ten times faster and leaner than
  the pure-Python one) when it is installed; both are *safe* loaders (no Python objects from tags).
* A key written twice in one mapping is refused (YAML and JSON parsers otherwise keep the last one
  silently); the message names the file, the line (YAML) and the key.
* Nesting deeper than :data:`MAX_DEPTH` is refused with one line instead of a ``RecursionError``.
* A file larger than :data:`MAX_FILE_BYTES` is refused before it is read (a 50 MB study takes minutes
  and gigabytes to parse); the limit is documented in ``docs/reliability.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from coordstudio.sgam.errors import SgamError as _Error

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest YAML/JSON input file read, bytes (20 MiB; far above the largest study the tool writes)."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted in a file (the deepest real input nests < 10)."""

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: Any, line: int | None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}key {str(key)[:80]!r} is written twice in the same mapping")


class _StrictLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key written twice in one mapping (keys brought in by ``<<`` may be
    overridden, as YAML's merge-key rule says)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        # ``flatten_mapping`` (called first by the parent) deletes the ``<<`` entries from this very list
        # and then rebinds ``node.value`` to merged + explicit pairs: ``explicit`` keeps the written ones.
        explicit = node.value
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value):  # a key repeated: explicitly, or an explicit one over a merged one
            seen: set[Any] = set()
            for key_node, _ in explicit:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise _DuplicateKeyError(key, key_node.start_mark.line + 1)
                seen.add(key)
        return mapping


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key, None)
        out[key] = value
    return out


def _depth_problem(data: Any) -> str | None:
    """The path of the first container nested deeper than :data:`MAX_DEPTH`, or None.

    Iterative, and each container is visited once (YAML aliases share objects, so a 'billion laughs'
    document costs its node count, not its expanded size).
    """
    seen: set[int] = set()
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if depth >= MAX_DEPTH:
                return path or "<top>"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(value, (dict, list)):
                    label = f"{path}.{key}" if isinstance(node, dict) else f"{path}[{key}]"
                    stack.append((value, depth + 1, label))
    return None


def parse_text(text: str, source: str, *, json_format: bool = False) -> Any:
    """Parse YAML (default) or JSON text.

    Every problem is one :class:`~sgam.errors.SgamError` line naming ``source`` (and the line
    where known).
    """
    try:
        if json_format:
            data = json.loads(text, object_pairs_hook=_json_object)
        else:
            data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader
    except _DuplicateKeyError as exc:
        raise _Error(f"{source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise _Error(f"{source}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem = " ".join(str(problem).split())
        if mark is not None:
            raise _Error(
                f"{source}: line {mark.line + 1} column {mark.column + 1}: invalid YAML: {problem}"
            ) from None
        raise _Error(f"{source}: invalid YAML: {problem}") from None
    except RecursionError:
        raise _Error(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, TypeError) as exc:  # e.g. a number too long for int(), bad unicode escape
        raise _Error(f"{source}: cannot be parsed: {' '.join(str(exc).split())[:200]}") from None
    where = _depth_problem(data)
    if where is not None:
        where = where.lstrip(".")
        where = where if len(where) <= 80 else where[:40] + "..." + where[-37:]
        raise _Error(f"{source}: {where}: nested deeper than {MAX_DEPTH} levels")
    return data


def read_text(path: Path | str) -> str:
    """Read a UTF-8 input file of at most :data:`MAX_FILE_BYTES`.

    Raises :class:`~sgam.errors.SgamError` (one line naming the file) for a missing, unreadable,
    binary or too large file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Error(
                f"{path}: file is {size / 1048576:.1f} MiB, above the limit of "
                f"{MAX_FILE_BYTES // 1048576} MiB for an input file"
            )
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:  # grew since stat, or a special file
            raise _Error(f"{path}: file is above the {MAX_FILE_BYTES >> 20} MiB limit of an input file")
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise _Error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise _Error(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise _Error(f"{path}: not a text file (expected YAML or JSON in UTF-8)") from None
    except OSError as exc:
        raise _Error(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_data_file(path: Path | str, *, json_format: bool | None = None) -> Any:
    """Read and parse a YAML or JSON file (JSON when the suffix is ``.json`` unless told)."""
    path = Path(path)
    if json_format is None:
        json_format = path.suffix.lower() == ".json"
    return parse_text(read_text(path), str(path), json_format=json_format)
