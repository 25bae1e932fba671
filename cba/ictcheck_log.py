"""Reading the simulated message log of a study's runs for the ICT check.

The platform logs every message it exchanged between actors (``simulation.db.messages``: time, sender
role, receiver role, information object, number of messages, bytes). This module finds the latest
completed run of each scheme *of this study* in a results database and returns its log as a table,
refusing, with a message that names the database, anything it cannot trust: a missing file, a file that
is not a results database (without modifying it), runs of another study, an unfinished run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from cba.study_file import Study

__all__ = ["LOG_COLUMNS", "LOG_KEY", "SchemeLog", "as_db_url", "read_scheme_logs"]


@dataclass
class SchemeLog:
    """The message log of one run as a table: one row per logged line (several messages of one type at
    one time). Columns: ``time_min`` (from the run start, min), ``sender_role``, ``receiver_role``,
    ``information_object``, ``n_messages`` (count), ``bytes`` (of all the line's messages, B).

    A pandas table, not a pydantic list model: a scaled-up run logs hundreds of thousands of lines."""

    scheme: str
    run_id: int
    table: pd.DataFrame


LOG_COLUMNS: tuple[str, ...] = (
    "time_min", "sender_role", "receiver_role", "information_object", "n_messages", "bytes",
)
LOG_KEY = ["sender_role", "receiver_role", "information_object"]


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path)


def as_db_url(results: str | Path) -> str:
    """A results database given as a URL or a path to an SQLite file -> a SQLAlchemy URL."""
    text = str(results)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def _same_scenario(run_spec_json: Any, study: Study) -> bool:
    """True when a run's stored scenario, read with today's schema, equals the study's scenario.

    The fingerprint hashes the scenario's JSON, so a field added to ``ScenarioSpec`` after the run (with a
    default) changes it although the scenario simulated is the same; comparing the validated specs is
    robust to that and still tells another study apart.
    """
    from pydantic import ValidationError

    from simulation.scenario import ScenarioSpec

    if not isinstance(run_spec_json, str) or not run_spec_json:
        return False
    try:
        return ScenarioSpec.model_validate_json(run_spec_json) == study.scenario
    except ValidationError:
        return False


def _require_results_tables(db_url: str, label: str) -> None:
    """Refuse a database without the platform's ``runs`` and ``messages`` tables, without touching it.

    ``simulation.db.make_engine`` creates missing tables; on a file that is not a results database (a
    wrong path given by the user) that would modify the user's file, so look first with a plain engine.
    """
    import sqlalchemy as sa

    from simulation.errors import ResultsDatabaseError

    try:
        engine = sa.create_engine(db_url)
    except Exception as exc:  # bad URL, missing driver
        raise ResultsDatabaseError(f"results database {label}: cannot be opened ({exc})") from exc
    try:
        tables = set(sa.inspect(engine).get_table_names())
    except Exception as exc:  # not a database, unreachable server
        raise ResultsDatabaseError(f"results database {label}: cannot be opened ({exc})") from exc
    finally:
        engine.dispose()
    missing = {"runs", "messages"} - tables
    if missing:
        raise ResultsDatabaseError(
            f"results database {label}: not a results database of this tool (no table "
            f"{', '.join(sorted(missing))})"
        )


def read_scheme_logs(study: Study, db_url: str) -> tuple[dict[str, SchemeLog], str]:
    """The latest run of each scheme of this study in the results database, and the redacted URL.

    Raises
    ------
    simulation.errors.ResultsDatabaseError
        The file does not exist; it holds no run; its runs belong to another study (scenario
        fingerprint differs); or the latest run of a scheme is cancelled, failed or still running.
        Every message names the database.
    """
    import sqlalchemy as sa

    from simulation import db as simdb
    from simulation.errors import ResultsDatabaseError

    label = simdb._redact(db_url)
    path = _sqlite_path(db_url)
    if path is not None and not path.is_file():
        # make_engine would silently create an empty database: refuse first.
        raise ResultsDatabaseError(f"results database {path}: file not found")
    _require_results_tables(db_url, label)
    runs = simdb.read_runs(db_url)
    if not runs:
        raise ResultsDatabaseError(f"results database {label}: holds no simulation run")
    spec_json = simdb.spec_json_of(study.scenario)
    fingerprint = simdb.fingerprint_of(spec_json)
    accepted = {fingerprint}
    # A run belongs to this study when its fingerprint is one of ours or it simulated the same scenario.
    mine = [r for r in runs if r["fingerprint"] in accepted or _same_scenario(r.get("spec_json"), study)]
    if not mine:
        other = sorted({str(r["fingerprint"])[:12] for r in runs})
        raise ResultsDatabaseError(
            f"results database {label}: its runs belong to another study (scenario fingerprint "
            f"{', '.join(other)}, this study's is {fingerprint[:12]}); simulate this study into it first"
        )
    latest: dict[str, dict[str, Any]] = {}
    for r in mine:
        latest[str(r["scheme"])] = r  # read_runs orders by run_id
    for scheme, r in latest.items():
        if r["status"] != "completed":
            raise ResultsDatabaseError(
                f"results database {label}: run {r['run_id']} (scheme {scheme}) is {r['status']}, "
                f"not completed; its message log is incomplete, simulate the scheme again"
            )
    engine = simdb.make_engine(db_url)
    logs: dict[str, SchemeLog] = {}
    m = simdb.messages
    try:
        with engine.connect() as conn:
            for scheme, r in latest.items():
                rows = conn.execute(
                    sa.select(
                        m.c.time_min,
                        m.c.sender_role,
                        m.c.receiver_role,
                        m.c.information_object,
                        m.c.n_messages,
                        m.c.bytes,
                    ).where(m.c.run_id == r["run_id"])
                ).all()
                table = pd.DataFrame.from_records(
                    [tuple(x) for x in rows], columns=list(LOG_COLUMNS)
                ).astype({"time_min": float, "n_messages": "int64", "bytes": "int64",
                          "sender_role": str, "receiver_role": str, "information_object": str})
                logs[scheme] = SchemeLog(scheme=scheme, run_id=int(r["run_id"]), table=table)
    except sa.exc.SQLAlchemyError as exc:
        raise ResultsDatabaseError(f"results database {label}: cannot read the message log ({exc})") from exc
    finally:
        engine.dispose()
    return logs, label
