"""Which runs of a results database belong to a study, and whether they are complete enough to use.

The one place that decides what ``cba``, ``ict-check``, ``run --resume`` and the GUI read from a results
database (every one of them opens it read-only through :func:`simulation.db.read_runs`):

* **this study's runs**: those whose scenario fingerprint (the ``fingerprint`` column) is the study's
  scenario fingerprint (:mod:`cba.fingerprint`), or whose stored scenario, read with today's schema,
  equals the study's (a field added to ``ScenarioSpec`` since changes the hash, not the scenario). None:
  the database was written for another study, and the refusal names the study fingerprint it was
  written for and the sections that differ, e.g. ``results.sqlite: written for another study: study
  fingerprint ab12cd34ef56.. (scenario/cba/sgam differ: scenario); this study's is 0123456789ab..``;
* **the latest run of each scheme** (highest ``run_id``) is the one that counts: a later attempt
  supersedes an earlier one;
* **complete**: that latest run must be ``completed``. A ``pending``, ``running``, ``failed`` or
  ``cancelled`` one (``kill -9`` reads as ``cancelled``: its process is gone) is refused by name, with the
  command that completes it (:func:`require_complete`); ``run --resume`` re-runs exactly those
  (:func:`resume_plan`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coordstudio.cba.errors import CbaError
from coordstudio.cba.fingerprint import SECTIONS, StudyFingerprint, study_fingerprint

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study
    from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "ResumePlan",
    "completed_runs",
    "kpis_from_flat",
    "kpis_of_run",
    "require_complete",
    "resume_plan",
    "study_runs",
]

_DICT_KEY = re.compile(r"^(?P<field>[a-z_]+)\[(?P<key>.*)\]$")


def _same_scenario(run_spec_json: Any, study: Study) -> bool:
    """True when a run's stored scenario, read with today's schema, equals the study's scenario."""
    from pydantic import ValidationError

    from coordstudio.simulation.scenario import ScenarioSpec

    if not isinstance(run_spec_json, str) or not run_spec_json:
        return False
    try:
        return ScenarioSpec.model_validate_json(run_spec_json) == study.scenario
    except ValidationError:
        return False


def _stored_prints(run: Mapping[str, Any]) -> dict[str, str]:
    """The fingerprints stored with a run: its sections (if the writer gave them) and its scenario's."""
    prints: dict[str, str] = {}
    try:
        loaded = json.loads(run.get("fingerprints_json") or "{}")
        if isinstance(loaded, dict):
            prints = {str(k): str(v) for k, v in loaded.items()}
    except ValueError:
        pass
    prints.setdefault("scenario", str(run["fingerprint"]))
    return prints


def _other_study_message(label: str, latest: Mapping[str, Any], mine: StudyFingerprint) -> str:
    stored = _stored_prints(latest)
    differ = mine.differing_sections(stored) or ["scenario"]
    known = "/".join(s for s in SECTIONS if s in stored)
    if latest.get("study_fingerprint"):
        written = f"study fingerprint {str(latest['study_fingerprint'])[:12]}.."
    else:
        written = f"scenario fingerprint {stored['scenario'][:12]}.."
    return (
        f"{label}: written for another study: {written} ({known} differ: {', '.join(differ)}); "
        f"this study's is {mine.study[:12]}.."
    )


def study_runs(study: Study, db_url: str) -> tuple[dict[str, dict[str, Any]], str]:
    """The latest run of each scheme of this study in the database (scheme -> run row), and the label
    that names the database in messages.

    Raises ``simulation.errors.ResultsDatabaseError`` (one line naming the database): missing file, not
    a results database, damaged, unreachable server, no run, or runs of another study only."""
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    label = simdb.db_label(db_url)
    runs = simdb.read_runs(db_url)
    if not runs:
        raise ResultsDatabaseError(f"{label}: holds no simulation run")
    mine = study_fingerprint(study)
    ours = [r for r in runs if r["fingerprint"] == mine.scenario or _same_scenario(r.get("spec_json"), study)]
    if not ours:
        raise ResultsDatabaseError(_other_study_message(label, runs[-1], mine))
    latest: dict[str, dict[str, Any]] = {}
    for r in ours:
        latest[str(r["scheme"])] = r  # read_runs orders by run_id
    return latest, label


def _resume_hint(db_url: str) -> str:
    from coordstudio.simulation import db as simdb

    path = simdb.sqlite_path(db_url)
    if path is not None and path.name == "results.sqlite":
        return f"coordstudio run STUDY --resume {path.parent}"
    return f"coordstudio run STUDY --db {simdb._redact(db_url)} --resume OUT"


def _describe(run: Mapping[str, Any]) -> str:
    state = "interrupted (its process is gone)" if run.get("interrupted") else str(run["status"])
    return f"{run['run_id']} ({run['scheme']}) {state}"


def require_complete(latest: Mapping[str, Mapping[str, Any]], label: str, db_url: str) -> None:
    """Refuse when the latest run of a scheme is not ``completed``, naming every such run."""
    from coordstudio.simulation.errors import ResultsDatabaseError

    bad = [r for r in latest.values() if r["status"] != "completed"]
    if bad:
        bad.sort(key=lambda r: int(r["run_id"]))
        raise ResultsDatabaseError(
            f"{label}: incomplete run(s) {', '.join(_describe(r) for r in bad)}, not completed; "
            f"complete them with: {_resume_hint(db_url)}"
        )


def completed_runs(study: Study, db_url: str) -> tuple[dict[str, dict[str, Any]], str]:
    """:func:`study_runs`, refusing unless the latest run of every scheme is completed."""
    latest, label = study_runs(study, db_url)
    require_complete(latest, label, db_url)
    return latest, label


def kpis_from_flat(flat: Mapping[str, float], scheme: str, day: str, where: str) -> SchemeKpis:
    """A :class:`SchemeKpis` from the flat ``name -> value`` rows of the results database.

    Dictionary fields are stored as ``field[key]`` (``bids_submitted_by_area[dso_1]``)."""
    from pydantic import ValidationError

    from coordstudio.simulation.kpis import SchemeKpis

    data: dict[str, Any] = {"scheme": scheme, "day": day}
    fields = SchemeKpis.model_fields
    for name, value in flat.items():
        match = _DICT_KEY.match(name)
        if match and match["field"] in fields:
            data.setdefault(match["field"], {})[match["key"]] = int(round(value))
        elif name in fields and name not in ("scheme", "day"):
            data[name] = int(round(value)) if fields[name].annotation is int else value
    try:
        return SchemeKpis.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CbaError(f"{where}: KPI '{loc}' of scheme {scheme}: {first['msg']}") from None


def kpis_of_run(db_url: str, run: Mapping[str, Any], day: str | None, label: str) -> SchemeKpis:
    """The KPIs of a completed run: its stored KPI record (exact, every field), or for a database written
    before the record was stored, the flat ``kpis`` rows. ``day`` overrides the record's day (None keeps
    it; the flat rows need one: ``default``)."""
    from pydantic import ValidationError

    from coordstudio.simulation.db import read_kpis
    from coordstudio.simulation.kpis import SchemeKpis

    where = f"{label} run {run['run_id']}"
    if run.get("kpis_json"):
        try:
            kpis = SchemeKpis.model_validate_json(str(run["kpis_json"]))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise CbaError(f"{where}: KPI '{loc}' of scheme {run['scheme']}: {first['msg']}") from None
        return kpis if day is None else kpis.model_copy(update={"day": day})
    return kpis_from_flat(read_kpis(db_url, int(run["run_id"])), str(run["scheme"]), day or "default", where)


@dataclass
class ResumePlan:
    """What ``run --resume`` reuses and what it simulates again."""

    reused: dict[str, SchemeKpis] = field(default_factory=dict)
    """Scheme -> KPIs of its latest completed run of this study (not simulated again)."""
    to_run: list[str] = field(default_factory=list)
    """Schemes without a completed latest run (missing, pending, running, failed or cancelled)."""
    superseded: list[int] = field(default_factory=list)
    """Run ids left pending/running by a process that is gone, now marked cancelled."""


def resume_plan(study: Study, db_url: str, schemes: Sequence[str]) -> ResumePlan:
    """Split ``schemes`` into those whose latest run of this study completed and those to run again.

    A database that does not exist yet (the run was stopped before the simulation began) means: run them
    all. Refused (``ResultsDatabaseError``): a database of another study, or a run still in progress in a
    live process. Runs left ``pending``/``running`` by a process that is gone are marked ``cancelled``."""
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    path = simdb.sqlite_path(db_url)
    if path is not None and not path.exists():
        return ResumePlan(to_run=list(schemes))
    runs = simdb.read_runs(db_url)
    if not runs:
        return ResumePlan(to_run=list(schemes))
    latest, label = study_runs(study, db_url)
    alive = [r for s, r in latest.items() if s in schemes and r["status"] in simdb.UNFINISHED]
    if alive:
        raise ResultsDatabaseError(
            f"{label}: run(s) {', '.join(_describe(r) for r in alive)} still in progress in another "
            "process; wait for it to end or stop it first"
        )
    plan = ResumePlan()
    for scheme in schemes:
        run = latest.get(scheme)
        if run is not None and run["status"] == "completed":
            plan.reused[scheme] = kpis_of_run(db_url, run, None, label)
        else:
            plan.to_run.append(scheme)
    dead = [int(r["run_id"]) for r in runs if r.get("interrupted")]
    if dead:
        plan.superseded = [i for i, _ in simdb.close_runs(db_url, dead, "cancelled")]
    return plan
