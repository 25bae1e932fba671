"""The study file: its data model, and loading, migrating and saving it.

A study file (YAML or JSON) holds a ``schema_version``, metadata, the SGAM/ICT model (``sgam:``), the
scenario description (``scenario:``) and the cost-benefit parameters (``cba:``). Loading goes
parse -> migrate (older ``schema_version``) -> validate; every failure becomes a :class:`StudyError`
whose one-line message names the file, the object (by id where the object has one) and the field.
Saving is atomic (temporary file in the same folder, then rename), so a crash mid-save never destroys
the previous version.

A study file with a top-level ``extends:`` key is an overlay of another study (``default`` or a file):
it states only what differs, and is merged onto its base before validation (:mod:`cba.study_overlay`).

This module sits low in ``cba``: it knows the file, not the chain that runs a study
(:mod:`cba.study`), so every other module (the ICT check, the command lines) may import it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coordstudio.cba.errors import StudyError
from coordstudio.cba.fileio import atomic_write_text
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.safe_yaml import parse_text, read_text
from coordstudio.cba.study_overlay import DEFAULT_BASE, EXTENDS_KEY, base_file, deep_merge, overlay_diff
from coordstudio.sgam.model import SgamModel
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.scenario import ScenarioSpec

CURRENT_SCHEMA_VERSION = 1
"""Version of the study file format this code writes. Older versions are migrated on load."""


class StudyMetadata(BaseModel):
    """Who made the study, and what it is about."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    title: str = Field(default="Untitled study", min_length=1, description="Title of the study.")
    description: str = Field(default="", description="What the study investigates, in a few sentences.")
    author: str = Field(default="", description="Author or organisation.")
    created: str = Field(
        default_factory=lambda: date.today().isoformat(), description="Creation date, ISO 8601."
    )


class Study(BaseModel):
    """A complete coordination study: ICT model, scenario and cost-benefit parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schema_version: int = Field(
        default=CURRENT_SCHEMA_VERSION, description="Version of the study file format."
    )
    metadata: StudyMetadata = Field(default_factory=StudyMetadata, description="Title, author, date.")
    sgam: SgamModel = Field(description="SGAM/ICT model of the five coordination schemes.")
    scenario: ScenarioSpec = Field(description="Grids, devices, profiles and timing of the simulation.")
    cba: CbaParameters = Field(
        default_factory=CbaParameters, description="Cost-benefit analysis parameters."
    )

    @model_validator(mode="after")
    def _check_cross_references(self) -> Study:
        """The CBA's reference scheme must be one of the registry's schemes."""
        if self.cba.reference_scheme not in SCHEME_IDS:
            raise ValueError(
                f"cba.reference_scheme: unknown scheme {self.cba.reference_scheme!r}; "
                f"expected one of {', '.join(SCHEME_IDS)}"
            )
        if self.schema_version != CURRENT_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version: {self.schema_version} is not the current version "
                f"{CURRENT_SCHEMA_VERSION}"
            )
        return self


# ------------------------------------------------------------------------------------------ migrations

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: ``MIGRATIONS[v]`` turns a raw version-``v`` study into a version-``v+1`` one. Version 1 is the first
#: released format, so there is nothing to migrate yet; the loader still runs the chain so adding a
#: version is one function here plus a test that keeps loading the old file.
MIGRATIONS: dict[int, Migration] = {}


def migrate(raw: dict[str, Any], source: str = "<study>") -> dict[str, Any]:
    """Bring a raw study mapping up to :data:`CURRENT_SCHEMA_VERSION`."""
    version = raw.get("schema_version")
    if version is None:
        raise StudyError(f"{source}: schema_version: missing required field")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StudyError(f"{source}: schema_version: expected an integer, got {version!r}")
    oldest = min([*MIGRATIONS, CURRENT_SCHEMA_VERSION])
    if version > CURRENT_SCHEMA_VERSION or version < oldest:
        raise StudyError(
            f"{source}: schema_version: unknown version {version}; this Coordination Studio reads "
            f"versions {oldest} to {CURRENT_SCHEMA_VERSION}"
        )
    while version < CURRENT_SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StudyError(f"{source}: schema_version: no migration from version {version}")
        raw = step(dict(raw))
        version += 1
        raw["schema_version"] = version
    return raw


# ---------------------------------------------------------------------------------------- load / save


def _describe_location(raw: Any, loc: Sequence[int | str]) -> str:
    """Render a pydantic error location, naming list items by their ``id`` where they have one.

    ``("sgam", "events", 3, "producer")`` on data whose fourth event has id ``bid-submit`` becomes
    ``sgam.events[bid-submit].producer``, which a user can search for in the file.
    """
    parts: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int):
            label = str(key)
            if isinstance(node, list) and 0 <= key < len(node):
                item = node[key]
                if isinstance(item, dict) and "id" in item:
                    label = f"id={item['id']}"
                node = item
            else:
                node = None
            parts.append(f"[{label}]")
        else:
            if isinstance(node, dict):
                node = node.get(key)
            else:
                node = None
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "<study>"


def _format_validation_error(exc: ValidationError, raw: Any, source: str) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    msg = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if not loc:  # a model-level check: its message starts with the field path itself
        return f"{source}: {msg}{more}"
    return f"{source}: {_describe_location(raw, loc)}: {msg}{more}"


def study_from_mapping(raw: Any, source: str = "<study>", _seen: frozenset[Path] = frozenset()) -> Study:
    """Migrate and validate a parsed study; raise :class:`StudyError` naming file, object and field.

    An overlay (``extends:``, :mod:`cba.study_overlay`) is merged onto its base first: the base is loaded
    and validated on its own (its errors name the base's file), the merged study's errors name the
    overlay's file (``source``) and the field. A relative ``extends`` path is taken from ``source``'s
    folder (the working directory for a source that is no file)."""
    if not isinstance(raw, dict):
        raise StudyError(f"{source}: <study>: expected a mapping at the top level, got {type(raw).__name__}")
    if EXTENDS_KEY in raw:
        raw = _merged_overlay(raw, source, _seen)
    raw = migrate(raw, source)
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        raise StudyError(_format_validation_error(exc, raw, source)) from None


def _merged_overlay(raw: dict[str, Any], source: str, seen: frozenset[Path]) -> dict[str, Any]:
    """The overlay ``raw`` merged onto its validated base, as raw data (without the ``extends`` key)."""
    extends = raw[EXTENDS_KEY]
    overlay = {k: v for k, v in raw.items() if k != EXTENDS_KEY}
    if extends == DEFAULT_BASE:
        base = default_study()
    elif isinstance(extends, str) and extends.strip():
        folder = Path.cwd() if source.startswith("<") else Path(source).parent
        path = base_file(extends, folder)
        key = path.resolve()
        if key in seen:
            raise StudyError(f"{source}: {EXTENDS_KEY}: {extends!r} extends back to itself (a circle)")
        if not path.is_file():
            raise StudyError(f"{source}: {EXTENDS_KEY}: no study file {path}")
        here = frozenset() if source.startswith("<") else frozenset({Path(source).resolve()})
        base = study_from_mapping(_parse_text(read_text(path), path), str(path), seen | here | {key})
    else:
        raise StudyError(
            f"{source}: {EXTENDS_KEY}: expected {DEFAULT_BASE!r} or the path of a study file, got {extends!r}"
        )
    return dict(deep_merge(base.model_dump(mode="json"), overlay, Study))


def study_extends(path: Path | str) -> str | None:
    """The ``extends:`` value of the study file at ``path`` (None: a full study, or not readable), so a
    writer can keep an overlay an overlay (:func:`save_study`)."""
    try:
        raw = _parse_text(read_text(Path(path)), Path(path))
    except StudyError:
        return None
    value = raw.get(EXTENDS_KEY) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def overlay_text(study: Study, extends: str, path: Path, fmt: str = "yaml") -> str | None:
    """``study`` as an overlay of ``extends`` written at ``path``: ``schema_version``, ``extends`` and the
    values that differ from the base (:func:`cba.study_overlay.overlay_diff`); None when the base cannot
    be loaded or base + overlay would not load as ``study`` (the caller then writes the study in full)."""
    source = str(path)
    head = {"schema_version": CURRENT_SCHEMA_VERSION, EXTENDS_KEY: extends}
    try:
        base = study_from_mapping(head, source)
    except StudyError:
        return None
    diff = overlay_diff(base.model_dump(mode="json"), study.model_dump(mode="json"), Study)
    diff.pop("schema_version", None)
    data = {**head, **diff}
    try:
        if study_from_mapping(json.loads(json.dumps(data)), source) != study:
            return None
    except StudyError:
        return None
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _parse_text(text: str, path: Path) -> Any:
    """Parse a study's text through the package's one safe loader (C parser, duplicate keys, depth)."""
    return parse_text(text, str(path), json_format=path.suffix.lower() == ".json")


def load_study(path: Path | str) -> Study:
    """Read, migrate and validate a study file (``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    return study_from_mapping(_parse_text(read_text(path), path), str(path))


def study_to_text(study: Study, fmt: str = "yaml") -> str:
    """Serialise a study as YAML (default) or JSON text."""
    data = study.model_dump(mode="json")
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_study(study: Study, path: Path | str, extends: str | None = None) -> bool:
    """Write a study atomically; the format follows the extension (``.json`` or YAML).

    With ``extends`` (the base an overlay names, relative to ``path``'s folder), the study is written as
    an overlay of that base: only the values that differ (:func:`overlay_text`). Returns True when it was
    written as an overlay, False when in full (no ``extends``, or the base cannot be loaded or cannot
    express the study: the caller says so)."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    text = overlay_text(study, extends, path, fmt) if extends else None
    try:
        atomic_write_text(path, text if text is not None else study_to_text(study, fmt))
    except OSError as exc:
        raise StudyError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return text is not None


DEFAULT_REPRESENTATIVE_DAYS = 8
"""Representative days the default study simulates (its ``scenario.profiles.representative_days``): a year
is the weighted sum of days chosen from the SimBench profile year (issue 17 item 1,
:mod:`simulation.scenario.representative_days`), never one hand-picked day weighted 365 times. The one
place this number is written; everything else reads it from the study (docs/cba.md "Representative
days" says why this many)."""


def default_study() -> Study:
    """The embedded default study: the SGAM library, the default scenario simulated on
    :data:`DEFAULT_REPRESENTATIVE_DAYS` representative days, and default CBA parameters.

    The scenario's own default (:func:`simulation.scenario.default_scenario_spec`) stays one day: it is the
    simulation's (``main.py simulate`` runs one day); the year is the study's business."""
    from coordstudio.sgam.library import default_model
    from coordstudio.simulation.scenario import default_scenario_spec

    scenario = default_scenario_spec()
    profiles = scenario.profiles.model_copy(update={"representative_days": DEFAULT_REPRESENTATIVE_DAYS})
    return Study(
        metadata=StudyMetadata(
            title="Default TSO-DSO coordination study",
            description=(
                "The SmartNet coordination schemes (both common-market variants) on the embedded default "
                "scenario: a meshed transmission grid with detailed distribution feeders, simulated on "
                f"{DEFAULT_REPRESENTATIVE_DAYS} representative days chosen from the profile year and "
                "weighted by the days each stands for."
            ),
            author="Coordination Studio",
            created="2026-11-24",
        ),
        sgam=default_model(),
        scenario=scenario.model_copy(update={"profiles": profiles}),
        cba=CbaParameters(),
    )


def study_summary(study: Study) -> list[str]:
    """A few human-readable lines describing a study (used by ``validate``)."""
    m = study.sgam
    lines = [f"title: {study.metadata.title}"]
    counts = []
    for name in ("actors", "information_objects", "events", "technologies"):
        items = getattr(m, name, None)
        if isinstance(items, list):
            counts.append(f"{len(items)} {name.replace('_', ' ')}")
    if counts:
        lines.append("SGAM/ICT model: " + ", ".join(counts))
    cba = study.cba
    lines.append(f"CBA: discount rate {cba.discount_rate:.1%}, horizon {cba.horizon_years} years, "
                 f"reference scheme {cba.reference_scheme}")
    return lines



# ------------------------------------------------------------------------------ studies from scenarios


def study_from_scenario_file(path: str | Path) -> Study:
    """A study (default SGAM model and CBA parameters) around the scenario in ``path``."""
    from coordstudio.simulation.imports import read_spec

    spec = read_spec(path)
    study = default_study()
    cba = CbaParameters.model_validate(
        {**study.cba.model_dump(mode="json"), "day_weights_days_per_year": {spec.name: 365.0}}
    )
    meta = study.metadata.model_copy(
        update={"title": f"Study of {spec.name}", "description": f"Scenario from {Path(path).name}."}
    )
    return study.model_copy(update={"scenario": spec, "cba": cba, "metadata": meta})


def load_study_or_scenario(path: str | Path) -> Study:
    """A study file, or a bare scenario file wrapped into the default study."""
    p = Path(path)
    text = read_text(p)
    head = text[:4000]
    is_study = "schema_version" in head and ("sgam" in head or "sgam:" in text)
    if is_study:
        return load_study(p)
    try:
        raw = _parse_text(text, p)
    except StudyError:
        return load_study(p)  # let the study loader report the syntax error with line and column
    if isinstance(raw, dict) and ("schema_version" in raw or EXTENDS_KEY in raw):
        return load_study(p)
    return study_from_scenario_file(p)
