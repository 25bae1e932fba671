"""Overlay studies: a study file that states only what differs from another study (issue 17).

A study file with a top-level ``extends:`` key is an *overlay*: ``extends: default`` builds on the
embedded default study (:func:`cba.study_file.default_study`), ``extends: ../base/study.yaml`` on another
study file (a path relative to the overlay's folder; that file may be an overlay itself). The loader
(:func:`cba.study_file.study_from_mapping`) validates the base on its own, then merges the overlay onto it
and validates the result, so an overlay cannot drift from its base: a default that changes changes every
overlay of it that does not state that value.

Merge rule (:func:`deep_merge`): an *object* of the study model (``metadata``, ``cba``, ``cba.system``,
``scenario.profiles``: a pydantic model) merges into the base's key by key, recursively; any other value
(a number, a string, ``null``, a *list*, and a *data mapping* such as ``cba.day_weights_days_per_year``
or ``cba.benefit_allocation``, whose keys are days or categories rather than fields) replaces the base's
value whole. So a list of schemes, technologies or days stated in an overlay is that list, and a day
weight mapping stated in an overlay holds exactly the days it lists.

Writing back (:func:`overlay_diff`): the overlay that turns a base into a given study holds the values
that differ, objects recursively, everything else whole; the writer checks that base + diff loads as the
study and otherwise writes the study in full (:func:`cba.study_file.save_study`).

This module handles JSON-like data, guided by the model's classes; it imports no study model.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

EXTENDS_KEY = "extends"
"""The top-level key that makes a study file an overlay."""

DEFAULT_BASE = "default"
"""``extends: default``: the embedded default study."""

__all__ = ["DEFAULT_BASE", "EXTENDS_KEY", "base_file", "deep_merge", "overlay_diff", "rebased_extends"]


def _object_model(model: type[BaseModel] | None, key: str) -> type[BaseModel] | None:
    """The pydantic model of field ``key`` of ``model`` when that field is an object (optionally
    ``X | None``), else None (a scalar, a list, a data mapping, or no model known)."""
    if model is None or key not in model.model_fields:
        return None
    annotation = model.model_fields[key].annotation
    candidates = [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = [a for a in typing.get_args(annotation) if a is not type(None)]
    found = [a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)]
    return found[0] if len(found) == 1 and len(candidates) == 1 else None


def deep_merge(base: Any, overlay: Any, model: type[BaseModel] | None = None) -> Any:
    """``overlay`` merged onto ``base`` (module docstring): where ``model`` (the pydantic class of this
    level) says a key is an object, key by key; anything else replaced whole. Without a model every
    mapping merges. Neither argument is changed."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            sub = _object_model(model, key)
            if key in base and isinstance(base[key], dict) and isinstance(value, dict) and (
                sub is not None or model is None
            ):
                merged[key] = deep_merge(base[key], value, sub)
            else:
                merged[key] = value
        return merged
    return overlay


def overlay_diff(base: Any, full: Any, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The overlay mapping that :func:`deep_merge` (with the same ``model``) turns ``base`` into ``full``
    with (both mappings): the keys whose values differ, objects recursively, everything else whole. A key
    of ``base`` missing in ``full`` cannot be expressed; the caller checks the round trip."""
    out: dict[str, Any] = {}
    for key, value in full.items():
        sub = _object_model(model, key)
        if key not in base:
            out[key] = value
        elif isinstance(value, dict) and isinstance(base[key], dict) and (sub is not None or model is None):
            inner = overlay_diff(base[key], value, sub)
            if inner:
                out[key] = inner
        elif not _same(base[key], value):
            out[key] = value
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as data; numbers by value (``2000`` equals ``2000.0``), booleans not equal to numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def base_file(extends: str, overlay_dir: Path) -> Path:
    """The study file an ``extends:`` path names, relative to the overlay's folder (or absolute)."""
    path = Path(os.path.expanduser(extends))
    return path if path.is_absolute() else overlay_dir / path


def rebased_extends(extends: str, from_dir: Path, to_dir: Path) -> str:
    """``extends`` of an overlay in ``from_dir`` written again in ``to_dir``: ``default`` stays, a
    relative path is made relative to the new folder (an absolute one stays), so it names the same base."""
    if extends == DEFAULT_BASE:
        return extends
    target = base_file(extends, from_dir)
    if Path(os.path.expanduser(extends)).is_absolute():
        return extends
    return Path(os.path.relpath(target.resolve(), to_dir.resolve())).as_posix()
