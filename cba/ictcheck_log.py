"""Reading the simulated message log of a study's runs for the ICT check.

The platform logs every message it exchanged between actors (``simulation.db.messages``: time, sender
role, receiver role, information object, number of messages, bytes). This module finds the latest
completed run of each scheme *of this study* in a results database (chosen by :mod:`cba.stored_runs`)
and returns its log as a table, refusing, with a message that names the database, anything it cannot
trust: a missing file, a file that is not a results database or is damaged (opened read-only: nothing is
created or changed), runs of another study, an unfinished run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study

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


def as_db_url(results: str | Path) -> str:
    """A results database given as a URL or a path to an SQLite file -> a SQLAlchemy URL."""
    text = str(results)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def read_scheme_logs(study: Study, db_url: str) -> tuple[dict[str, SchemeLog], str]:
    """The latest run of each scheme of this study in the results database, and the redacted URL.

    Raises
    ------
    simulation.errors.ResultsDatabaseError
        The file does not exist, is not a results database or is damaged; it holds no run; its runs
        belong to another study (the message names the sections that differ); or the latest run of a
        scheme is not completed (:func:`cba.stored_runs.completed_runs`). Every message names the
        database, which is opened read-only.
    """
    import sqlalchemy as sa

    from coordstudio.cba.stored_runs import completed_runs
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    latest, label = completed_runs(study, db_url)
    engine = simdb.open_read_only(db_url)
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
        raise ResultsDatabaseError(simdb.describe_error(db_url, exc)) from exc
    finally:
        engine.dispose()
    return logs, label
