"""Results database of the simulation platform (SQLAlchemy Core: SQLite by default, PostgreSQL by URL).

Tables (every row carries ``run_id``; one run = one scheme simulated over the day):

============  ========================================================================================
runs          run_id, scheme, fingerprint (of the study/scenario), scenario, status (running, completed,
              cancelled, failed), started_at, updated_at (heartbeat), finished_at, n_clearings, spec_json
bids          clearing, bid_id, owner, node, direction, model, quantity_mw (first step), price_eur_per_mwh,
              energy_mwh (whole horizon)
clearings     clearing, time_min (start of its first step), status, objective_eur, activation_cost_eur,
              slack_energy_mwh, n_bids, n_activated, build_time_s, solve_time_s
activations   clearing, bid_id, step, firm, activation_mw, clearing_price_eur_per_mwh
prices        clearing, node, step, price_eur_per_mwh
setpoints     time_min, aggregator, node, model, delta_mw, n_devices
measurements  time_min, node, p_mw (true), p_measured_mw, vm_pu (true), vm_measured_pu
kpis          name, value
messages      time_min, sender, sender_role, receiver, receiver_role, information_object, n_messages, bytes
============  ========================================================================================

Rows are buffered and written in batches (``executemany`` inside one transaction per batch), never row
by row. A run is ``running`` until :meth:`ResultsWriter.finish` marks it; each batch commits atomically, so
a run interrupted at any point leaves a database that opens. A run cancelled through the progress
protocol is marked ``cancelled``; :func:`read_runs` reports a ``running`` run whose heartbeat is older than
``stale_after_s`` as ``cancelled`` too (the process was killed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from simulation.errors import ResultsDatabaseError

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("scenario", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("n_clearings", sa.Integer, nullable=False, default=0),
    sa.Column("spec_json", sa.Text, nullable=False),
)


def _table(name: str, *cols: sa.Column) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False, index=True),
        *cols,
    )


bids = _table(
    "bids",
    sa.Column("clearing", sa.Integer),
    sa.Column("bid_id", sa.String(200)),
    sa.Column("owner", sa.String(100)),
    sa.Column("node", sa.String(50)),
    sa.Column("direction", sa.String(4)),
    sa.Column("model", sa.String(20)),
    sa.Column("quantity_mw", sa.Float),
    sa.Column("price_eur_per_mwh", sa.Float),
    sa.Column("energy_mwh", sa.Float),
)
clearings = _table(
    "clearings",
    sa.Column("clearing", sa.Integer),
    sa.Column("time_min", sa.Float),
    sa.Column("status", sa.String(300)),
    sa.Column("objective_eur", sa.Float),
    sa.Column("activation_cost_eur", sa.Float),
    sa.Column("slack_energy_mwh", sa.Float),
    sa.Column("n_bids", sa.Integer),
    sa.Column("n_activated", sa.Integer),
    sa.Column("build_time_s", sa.Float),
    sa.Column("solve_time_s", sa.Float),
)
activations = _table(
    "activations",
    sa.Column("clearing", sa.Integer),
    sa.Column("bid_id", sa.String(200)),
    sa.Column("step", sa.Integer),
    sa.Column("firm", sa.Boolean),
    sa.Column("activation_mw", sa.Float),
    sa.Column("clearing_price_eur_per_mwh", sa.Float),
)
prices = _table(
    "prices",
    sa.Column("clearing", sa.Integer),
    sa.Column("node", sa.String(50)),
    sa.Column("step", sa.Integer),
    sa.Column("price_eur_per_mwh", sa.Float),
)
setpoints = _table(
    "setpoints",
    sa.Column("time_min", sa.Float),
    sa.Column("aggregator", sa.String(100)),
    sa.Column("node", sa.String(50)),
    sa.Column("model", sa.String(20)),
    sa.Column("delta_mw", sa.Float),
    sa.Column("n_devices", sa.Integer),
)
measurements = _table(
    "measurements",
    sa.Column("time_min", sa.Float),
    sa.Column("node", sa.String(50)),
    sa.Column("p_mw", sa.Float),
    sa.Column("p_measured_mw", sa.Float),
    sa.Column("vm_pu", sa.Float),
    sa.Column("vm_measured_pu", sa.Float),
)
kpis = _table("kpis", sa.Column("name", sa.String(100)), sa.Column("value", sa.Float))
messages = _table(
    "messages",
    sa.Column("time_min", sa.Float),
    sa.Column("sender", sa.String(100)),
    sa.Column("sender_role", sa.String(50)),
    sa.Column("receiver", sa.String(100)),
    sa.Column("receiver_role", sa.String(50)),
    sa.Column("information_object", sa.String(50)),
    sa.Column("n_messages", sa.Integer),
    sa.Column("bytes", sa.BigInteger),
)

TABLES: dict[str, sa.Table] = {
    t.name: t for t in (bids, clearings, activations, prices, setpoints, measurements, kpis, messages)
}


def default_sqlite_url(directory: str | Path) -> str:
    """URL of the default SQLite results file in ``directory``."""
    return f"sqlite:///{(Path(directory) / 'results.sqlite').resolve()}"


def fingerprint_of(spec_json: str) -> str:
    """SHA-256 fingerprint of a study's scenario (its JSON), stored with every run."""
    return hashlib.sha256(spec_json.encode()).hexdigest()


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with the tables created; SQLite gets WAL and a busy timeout so that several
    scheme processes can write one file."""
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"timeout": 60})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                cur = dbapi_conn.cursor()
                # switching a brand-new file to WAL can answer "database is locked" at once, without the
                # busy timeout, while another process switches it too: retry (WAL then persists in the file)
                for attempt in range(600):
                    try:
                        cur.execute("PRAGMA journal_mode=WAL")
                        break
                    except sqlite3.OperationalError as exc:
                        if "locked" not in str(exc) or attempt == 599:
                            raise
                        time.sleep(0.05 + 0.05 * random.random())
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
        _create_tables(engine)
        return engine
    except Exception as exc:  # any driver error: unreachable server, bad path, missing driver
        raise ResultsDatabaseError(f"results database {_redact(url)}: cannot be opened ({exc})") from exc


def _create_tables(engine: sa.Engine, attempts: int = 5) -> None:
    """Create the missing tables; safe when several processes open a brand-new database at once.

    SQLite: the check and the ``CREATE TABLE``s run in one ``BEGIN IMMEDIATE`` transaction, so a second
    process waits (busy timeout) for the first to commit and then finds every table; without it both saw
    the file empty and the second failed with ``table ... already exists`` (5 processes on a new file:
    17 of 40 trials failed). Other servers: retried, since a concurrent creator commits first."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            if set(metadata.tables) <= set(sa.inspect(conn).get_table_names()):
                return  # nothing to create: no write lock (a read-only database opens)
            conn.rollback()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            metadata.create_all(conn)
            conn.commit()
        return
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))  # another process is creating the tables right now


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ResultsWriter:
    """Buffered writer of one run's rows (see module docstring)."""

    def __init__(
        self, url: str, scheme: str, fingerprint: str, scenario: str, spec_json: str, batch_rows: int = 20_000
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.batch_rows = batch_rows
        self._buffer: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self._n_buffered = 0
        now = _now()
        with self.engine.begin() as conn:
            res = conn.execute(
                runs.insert().values(
                    scheme=scheme,
                    fingerprint=fingerprint,
                    scenario=scenario,
                    status="running",
                    started_at=now,
                    updated_at=now,
                    n_clearings=0,
                    spec_json=spec_json,
                )
            )
            self.run_id = int(res.inserted_primary_key[0])  # type: ignore[index]

    def add(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        """Queue rows of ``table``; writes a batch when enough rows are queued."""
        buf = self._buffer[table]
        before = len(buf)
        buf.extend(rows)
        self._n_buffered += len(buf) - before
        if self._n_buffered >= self.batch_rows:
            self.flush()

    def flush(self, n_clearings: int | None = None) -> None:
        """Write every queued row in one transaction and refresh the run's heartbeat."""
        with self.engine.begin() as conn:
            for name, rows in self._buffer.items():
                if rows:
                    for row in rows:
                        row["run_id"] = self.run_id
                    conn.execute(TABLES[name].insert(), rows)
            values: dict[str, Any] = {"updated_at": _now()}
            if n_clearings is not None:
                values["n_clearings"] = n_clearings
            conn.execute(runs.update().where(runs.c.run_id == self.run_id).values(**values))
        self._buffer = {name: [] for name in TABLES}
        self._n_buffered = 0

    def finish(self, status: str, n_clearings: int | None = None) -> None:
        """Flush and mark the run ``completed``, ``cancelled`` or ``failed``."""
        self.flush(n_clearings)
        with self.engine.begin() as conn:
            conn.execute(
                runs.update().where(runs.c.run_id == self.run_id).values(status=status, finished_at=_now())
            )
        self.engine.dispose()


def read_runs(url: str, stale_after_s: float = 600.0) -> list[dict[str, Any]]:
    """Every run of the database; a ``running`` run silent for ``stale_after_s`` reads as ``cancelled``."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.select(runs).order_by(runs.c.run_id))]
    finally:
        engine.dispose()
    now = _now()
    for r in rows:
        if r["status"] == "running" and (now - r["updated_at"]).total_seconds() > stale_after_s:
            r["status"] = "cancelled"
    return rows


def read_kpis(url: str, run_id: int) -> dict[str, float]:
    """KPI name -> value of one completed run; a cancelled run raises :class:`ResultsDatabaseError`."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            run = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
            if run is None:
                raise ResultsDatabaseError(f"results database {_redact(url)}: run {run_id} does not exist")
            if run.status != "completed":
                raise ResultsDatabaseError(
                    f"results database {_redact(url)}: run {run_id} ({run.scheme}) is {run.status}, "
                    "not completed"
                )
            rows = conn.execute(sa.select(kpis.c.name, kpis.c.value).where(kpis.c.run_id == run_id))
            return {name: float(value) for name, value in rows}
    finally:
        engine.dispose()


def spec_json_of(spec: Any) -> str:
    """Canonical JSON of a pydantic spec (sorted keys), the input of :func:`fingerprint_of`."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True)
