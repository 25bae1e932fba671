"""Reading the simulated message log of a study's runs for the ICT check.

The platform logs every message it exchanged between actors (``simulation.db.messages``: time, sender
role, receiver role, information object, number of messages, bytes). This module finds the latest
completed run of each scheme *of this study* (with representative days: on each day) in a results
database (chosen by :mod:`cba.stored_runs`) and returns its log as a table, refusing, with a message that
names the database, anything it cannot trust: a missing file, a file that is not a results database or is
damaged (opened read-only: nothing is created or changed), runs of another study, an unfinished run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study
    from coordstudio.simulation.scenario.representative_days import RepresentativeDay

__all__ = ["LOG_COLUMNS", "LOG_KEY", "WEIGHT_COLUMN", "SchemeLog", "as_db_url", "read_scheme_logs"]


@dataclass
class SchemeLog:
    """The message log of one run as a table: one row per logged line (several messages of one type at
    one time). Columns: ``time_min`` (from the run start, min), ``sender_role``, ``receiver_role``,
    ``information_object``, ``n_messages`` (count), ``bytes`` (of all the line's messages, B).

    A pandas table, not a pydantic list model: a scaled-up run logs hundreds of thousands of lines."""

    scheme: str
    run_id: int
    """The run (with several representative days: the last day's run; ``run_ids`` lists them all)."""
    table: pd.DataFrame
    run_ids: tuple[int, ...] = ()
    """Every run the table joins, one per simulated day (in day order)."""


LOG_COLUMNS: tuple[str, ...] = (
    "time_min", "sender_role", "receiver_role", "information_object", "n_messages", "bytes",
)
WEIGHT_COLUMN = "day_weight"
"""Column of the table: the weight of the line's day, ``n w_d / W`` (1 with one simulated day)."""
LOG_KEY = ["sender_role", "receiver_role", "information_object"]


def as_db_url(results: str | Path) -> str:
    """A results database given as a URL or a path to an SQLite file -> a SQLAlchemy URL."""
    text = str(results)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def read_scheme_logs(
    study: Study, db_url: str, days: Sequence[RepresentativeDay] | None = None
) -> tuple[dict[str, SchemeLog], str]:
    """The latest run of each scheme of this study in the results database, and the redacted URL.

    ``days``: the study's representative days (:func:`cba.study.representative_days_of`). Each day is a
    run of its own (:func:`cba.stored_runs.day_runs`); a scheme's log then joins every day's run, day
    ``i`` (from 0, in day order) shifted by ``i x duration`` so the days follow each other, and each line
    carries its day's weight ``n w_d / W`` (``n`` days, ``w_d`` the days a year day ``d`` stands for,
    ``W`` their sum) in :data:`WEIGHT_COLUMN`: counts and bytes weighted by it average the days as the
    CBA does (the year's mean day), while peaks read the unweighted lines (the busiest interval of any
    simulated day). A scheme must have a completed run on every day.

    Raises
    ------
    simulation.errors.ResultsDatabaseError
        The file does not exist, is not a results database or is damaged; it holds no run; its runs
        belong to another study (the message names the sections that differ); or the latest run of a
        scheme (on a day) is not completed (:func:`cba.stored_runs.completed_runs`). Every message names
        the database, which is opened read-only.
    """
    import sqlalchemy as sa

    from coordstudio.cba.stored_runs import completed_day_runs, completed_runs
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    if days:
        by_day, label = completed_day_runs(study, db_url, days)
        total = sum(d.weight_days for d in days)
        per_scheme: dict[str, list[tuple[float, float, dict[str, Any]]]] = {}
        day_min = float(study.scenario.timing.duration_h) * 60.0
        for i, d in enumerate(days):
            w = d.weight_days * len(days) / total if total > 0 else 1.0
            for scheme, r in by_day[d.day_id].items():
                per_scheme.setdefault(scheme, []).append((i * day_min, w, r))
    else:
        latest, label = completed_runs(study, db_url)
        per_scheme = {scheme: [(0.0, 1.0, r)] for scheme, r in latest.items()}
    engine = simdb.open_read_only(db_url)
    logs: dict[str, SchemeLog] = {}
    try:
        with engine.connect() as conn:
            for scheme, parts in per_scheme.items():
                tables = []
                for offset_min, weight, r in parts:
                    # SQL rows or columnar chunks (issue 21)
                    rows = simdb.read_table(conn, "messages", [int(r["run_id"])], list(LOG_COLUMNS))
                    part = rows[list(LOG_COLUMNS)].astype(
                        {"time_min": float, "n_messages": "int64", "bytes": "int64",
                         "sender_role": str, "receiver_role": str, "information_object": str})
                    part["time_min"] += offset_min
                    part[WEIGHT_COLUMN] = weight
                    tables.append(part)
                table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
                ids = tuple(int(r["run_id"]) for _, _, r in parts)
                logs[scheme] = SchemeLog(scheme=scheme, run_id=ids[-1], table=table, run_ids=ids)
    except sa.exc.SQLAlchemyError as exc:
        raise ResultsDatabaseError(simdb.describe_error(db_url, exc)) from exc
    finally:
        engine.dispose()
    return logs, label
