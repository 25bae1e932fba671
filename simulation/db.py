"""Results database of the simulation platform (SQLAlchemy Core: SQLite by default, PostgreSQL by URL).

Tables (every row carries ``run_id``; one run = one scheme simulated over the day):

============  ========================================================================================
runs          run_id, scheme, fingerprint (of the scenario), study_fingerprint and fingerprints_json (of
              the whole study and of each of its sections, given by the caller), scenario, status,
              started_at, updated_at (heartbeat), finished_at, owner (``host:pid:start`` of the process
              responsible for the run), n_clearings, spec_json (compressed when large:
              :func:`pack_spec_json`; :func:`read_runs` gives it back as JSON), kpis_json (the KPIs of a
              completed run)
bids          clearing, bid_id, owner, node, direction, model, quantity_mw (first step), price_eur_per_mwh,
              energy_mwh (whole horizon)
clearings     clearing, time_min (start of its first step), status, objective_eur, activation_cost_eur
              (as-bid, whole horizon), slack_energy_mwh, n_bids, n_activated, build_time_s, solve_time_s,
              and over the firm steps: resource_cost_eur (as-bid), payment_eur (to sellers at nodal
              prices), buyer_payment_eur (by the needs' and buy bids' owners at nodal prices)
activations   clearing, bid_id, step, firm, activation_mw, clearing_price_eur_per_mwh, bid_price_eur_per_mwh
prices        clearing, node, step, price_eur_per_mwh, and its components (issue 16 item 6; summing to
              the price, NULL in older files and where not decomposed): energy_eur_per_mwh,
              congestion_eur_per_mwh, losses_eur_per_mwh, current_eur_per_mwh, voltage_eur_per_mwh
setpoints     time_min, aggregator, node, model, delta_mw, n_devices
measurements  time_min, node, p_mw (true), p_measured_mw, vm_pu (true), vm_measured_pu
kpis          name, value
messages      time_min, sender, sender_role, receiver, receiver_role, information_object, n_messages, bytes
balancing     time_min, need_mw (residual imbalance the market left), afrr_mw (delivered within the TSO's
              reserve and ramp), uncovered_mw (need - aFRR: positive energy not served, negative surplus
              not absorbed); absent from databases written before issue 16 (created when a writer opens
              them, empty for their old runs)
series_chunks run_id, table_name, n_rows, parquet: the rows of a :data:`COLUMNAR_TABLES` table written by
              a columnar writer (the default since issue 21), one compressed Parquet chunk per written
              batch (:mod:`simulation.results_columns`)
============  ========================================================================================

Where the rows are: ``runs``, ``clearings``, ``kpis`` and ``balancing`` (one row per clearing, KPI or step)
are always SQL rows. The per-node, per-bid and per-message tables (:data:`COLUMNAR_TABLES`) are written as
compressed columnar chunks (``series_chunks``), about a sixth of their SQL size, unless the writer is asked
for rows (``columnar=False``, the format of databases before issue 21). Whatever reads them goes through
:func:`read_table`, which returns the same DataFrame for either (a database may hold both: an older file
resumed by a newer writer).

Life of a run row (``status``): ``pending`` (written for every scheme of a simulation before the first
one starts, so a scheme that never started still has a row), ``running`` (claimed by the process that
simulates it, whose :func:`simulation.lifeline.owner_tag` it records), then ``completed``, ``failed`` or
``cancelled``. Rows are buffered and written in batches (``executemany`` inside one transaction per
batch), never row by row; each batch commits atomically, so a run interrupted at any point leaves a
database that opens. :func:`read_runs` reports a ``pending`` or ``running`` run whose process is gone
(same host) or whose heartbeat is older than ``stale_after_s`` (another host) as ``cancelled``, with
``interrupted`` True: ``kill -9`` cannot mark its own rows.

Opening: writers go through :func:`make_engine` (creates the tables and the columns an older file
lacks). Readers go through :func:`open_read_only`, which never creates or alters anything: an SQLite
file is opened with ``mode=ro`` (``immutable`` when its WAL is closed, so not even ``-wal``/``-shm``
files appear), a missing file is refused by name, a file that is not an SQLite database or lacks the
``runs`` table reads "not a results database", a corrupt one "damaged". PostgreSQL connections get a
connect timeout, TCP keep-alives and a statement timeout (:data:`PG_DEFAULTS`; a URL's own query
parameters win), so a server that never answers is named in an error instead of hanging for ever.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import sqlite3
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from coordstudio.simulation.errors import ResultsDatabaseError
from coordstudio.simulation.lifeline import owner_alive, owner_tag
from coordstudio.simulation.results_columns import decode_chunk, encode_rows, normalise

if TYPE_CHECKING:
    import pandas as pd

UNFINISHED = ("pending", "running")
"""Stored statuses of a run that has not ended (yet)."""

RUN_STATUSES = (*UNFINISHED, "completed", "failed", "cancelled")
"""Every stored status of a run, in the order of its life."""

PG_DEFAULTS: dict[str, str] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
"""libpq connection parameters given to every PostgreSQL connection unless the URL sets them: give up on
a server that does not answer within 10 s, and on a connection whose packets go unacknowledged for 60 s."""

PG_STATEMENT_TIMEOUT_MS = 300_000
"""Server-side limit of one statement (a batch insert of :attr:`ResultsWriter.batch_rows` rows takes well
under a second on a healthy server)."""

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
    sa.Column("study_fingerprint", sa.String(64), nullable=True),
    sa.Column("fingerprints_json", sa.Text, nullable=True),
    sa.Column("owner", sa.String(300), nullable=True),
    sa.Column("kpis_json", sa.Text, nullable=True),
)
ADDED_RUN_COLUMNS = ("study_fingerprint", "fingerprints_json", "owner", "kpis_json")
"""Columns of ``runs`` newer than the first databases: added to an older file when a writer opens it,
read as None from it by a reader."""
PRICE_COMPONENT_COLUMNS = (
    "energy_eur_per_mwh",
    "congestion_eur_per_mwh",
    "losses_eur_per_mwh",
    "current_eur_per_mwh",
    "voltage_eur_per_mwh",
)
"""Columns of ``prices`` newer than the first databases (the price components): added to an older file
when a writer opens it; a reader checks for them (:func:`has_price_components`)."""
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ADDED_RUN_COLUMNS,
    "clearings": ("resource_cost_eur", "payment_eur", "buyer_payment_eur"),
    "activations": ("bid_price_eur_per_mwh",),
    "prices": PRICE_COMPONENT_COLUMNS,
}
"""Per table, the nullable columns newer than the first databases (resource cost and payments: issue 16
item 4; price components: item 6), added to an older file when a writer opens it; a reader selects
columns by name, or checks for them (:func:`has_price_components`)."""


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
    sa.Column("resource_cost_eur", sa.Float),
    sa.Column("payment_eur", sa.Float),
    sa.Column("buyer_payment_eur", sa.Float),
)
activations = _table(
    "activations",
    sa.Column("clearing", sa.Integer),
    sa.Column("bid_id", sa.String(200)),
    sa.Column("step", sa.Integer),
    sa.Column("firm", sa.Boolean),
    sa.Column("activation_mw", sa.Float),
    sa.Column("clearing_price_eur_per_mwh", sa.Float),
    sa.Column("bid_price_eur_per_mwh", sa.Float),
)
prices = _table(
    "prices",
    sa.Column("clearing", sa.Integer),
    sa.Column("node", sa.String(50)),
    sa.Column("step", sa.Integer),
    sa.Column("price_eur_per_mwh", sa.Float),
    *(sa.Column(name, sa.Float) for name in PRICE_COMPONENT_COLUMNS),
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
balancing = _table(
    "balancing",
    sa.Column("time_min", sa.Float),
    sa.Column("need_mw", sa.Float),
    sa.Column("afrr_mw", sa.Float),
    sa.Column("uncovered_mw", sa.Float),
)

TABLES: dict[str, sa.Table] = {
    t.name: t
    for t in (bids, clearings, activations, prices, setpoints, measurements, kpis, messages, balancing)
}

COLUMNAR_TABLES: tuple[str, ...] = ("bids", "activations", "prices", "setpoints", "measurements", "messages")
"""Tables a columnar writer stores as compressed chunks (``series_chunks``) instead of SQL rows: the ones
with a row per node, bid or actor pair and step (99 % of an Italian day's rows)."""

series_chunks = sa.Table(
    "series_chunks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False, index=True),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("parquet", sa.LargeBinary, nullable=False),
)


def default_sqlite_url(directory: str | Path) -> str:
    """URL of the default SQLite results file in ``directory``."""
    return f"sqlite:///{(Path(directory) / 'results.sqlite').resolve()}"


def fingerprint_of(spec_json: str) -> str:
    """SHA-256 fingerprint of a study's scenario (its JSON), stored with every run."""
    return hashlib.sha256(spec_json.encode()).hexdigest()


def _pg_connect_args(url: sa.URL, read_only: bool) -> dict[str, Any]:
    """Timeouts (:data:`PG_DEFAULTS`) and the statement timeout, where the URL does not set them."""
    args: dict[str, Any] = {k: v for k, v in PG_DEFAULTS.items() if k not in url.query}
    if "options" not in url.query:
        options = f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}"
        if read_only:
            options += " -c default_transaction_read_only=on"
        args["options"] = options
    return args


def make_engine(url: str) -> sa.Engine:
    """An engine for writing ``url``, with the tables (and any column an older file lacks) created; SQLite
    gets WAL and a busy timeout so that several scheme processes can write one file."""
    with _translated(url):
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
            parsed = sa.engine.make_url(url)
            engine = sa.create_engine(
                url, pool_pre_ping=True, connect_args=_pg_connect_args(parsed, read_only=False)
            )
        _create_tables(engine)
        return engine
    raise AssertionError("unreachable")  # pragma: no cover - _translated re-raises


def open_read_only(url: str) -> sa.Engine:
    """An engine that only reads the results database ``url`` (see module docstring); the ``runs`` table
    is there. Raises :class:`ResultsDatabaseError` with one line naming the file or the server."""
    path = sqlite_path(url)
    if url.startswith("sqlite") and path is None:
        raise ResultsDatabaseError(f"{url}: an in-memory database holds no stored results")
    with _translated(url):
        if path is not None:
            if not path.exists():
                raise ResultsDatabaseError(f"{path}: file not found (no results database there)")
            if path.is_dir():
                raise ResultsDatabaseError(f"{path}: is a folder, not a results database")
            uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
            if _wal_closed(path):
                uri += "&immutable=1"  # no writer has it open: read without creating -wal/-shm files

            def connect() -> sqlite3.Connection:
                return sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)

            engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
        else:
            parsed = sa.engine.make_url(url)
            engine = sa.create_engine(
                url, poolclass=sa.pool.NullPool, connect_args=_pg_connect_args(parsed, read_only=True)
            )
        try:
            tables = set(sa.inspect(engine).get_table_names())
        except BaseException:
            engine.dispose()
            raise
        if "runs" not in tables:
            engine.dispose()
            raise ResultsDatabaseError(
                f"{db_label(url)}: not a results database of this tool (no table runs)"
            )
        return engine
    raise AssertionError("unreachable")  # pragma: no cover - _translated re-raises


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL (None for another server or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def _wal_closed(path: Path) -> bool:
    """True when ``path`` is a WAL-mode SQLite file with no ``-wal`` file beside it: no connection has it
    open (the last one to close deletes the ``-wal``), so it can be read as immutable."""
    try:
        with path.open("rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    is_wal = len(header) == 20 and header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"
    return is_wal and not Path(f"{path}-wal").exists()


def db_label(url: str) -> str:
    """How a message names the database: the file's path, or the URL without its password."""
    path = sqlite_path(url)
    return str(path) if path is not None else _redact(url)


def _server(url: str) -> str:
    try:
        parsed = sa.engine.make_url(url)
    except Exception:
        return "the server"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def describe_error(url: str, exc: BaseException) -> str:
    """One line saying what went wrong with the database ``url``, naming the file or the server."""
    label = db_label(url)
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    if "file is not a database" in low or "not a database" in low:
        return f"{label}: not a results database (not an SQLite database file)"
    if "malformed" in low or "corrupt" in low:
        return f"{label}: damaged results database ({text})"
    if "timeout" in low or "timed out" in low:
        return f"{label}: the database server at {_server(url)} did not answer in time ({text})"
    if url.startswith("postgres") and ("connect" in low or "connection" in low):
        return f"{label}: cannot connect to the database server at {_server(url)} ({text})"
    if "readonly" in low or "read-only" in low or "read only" in low or "full" in low:
        return f"{label}: cannot be written ({text})"
    if "unable to open" in low or "no such file" in low or "permission" in low:
        return f"{label}: cannot be opened ({text})"
    return f"{label}: database error ({text})"


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """Turn a driver's exception into a one-line :class:`ResultsDatabaseError` naming the database."""
    try:
        yield
    except ResultsDatabaseError:
        raise
    except (sa.exc.SQLAlchemyError, sqlite3.Error, OSError, ImportError, ValueError) as exc:
        raise ResultsDatabaseError(describe_error(url, exc)) from exc


def _create_tables(engine: sa.Engine, attempts: int = 5) -> None:
    """Create the missing tables and columns; safe when several processes open a brand-new database.

    SQLite: the check and the ``CREATE TABLE``s run in one ``BEGIN IMMEDIATE`` transaction, so a second
    process waits (busy timeout) for the first to commit and then finds every table; without it both saw
    the file empty and the second failed with ``table ... already exists`` (5 processes on a new file:
    17 of 40 trials failed). Other servers: retried, since a concurrent creator commits first."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            if set(metadata.tables) <= set(sa.inspect(conn).get_table_names()) and not _missing_columns(conn):
                return  # nothing to create: no write lock
            conn.rollback()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            metadata.create_all(conn)
            _add_columns(conn)
            conn.commit()
        return
    with engine.connect():
        pass  # an unreachable server fails here, once, instead of once per attempt below
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            with engine.begin() as conn:
                _add_columns(conn)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))  # another process is creating the tables right now


def _missing_columns(conn: sa.Connection) -> list[tuple[str, str]]:
    """(table, column) of the :data:`ADDED_COLUMNS` an existing table lacks."""
    out: list[tuple[str, str]] = []
    tables = set(sa.inspect(conn).get_table_names())
    for table, names in ADDED_COLUMNS.items():
        if table not in tables:
            continue  # created whole by create_all
        present = {c["name"] for c in sa.inspect(conn).get_columns(table)}
        out += [(table, name) for name in names if name not in present]
    return out


def _add_columns(conn: sa.Connection) -> None:
    """Add the :data:`ADDED_COLUMNS` an older database lacks (all nullable)."""
    for table, name in _missing_columns(conn):
        col = metadata.tables[table].c[name]
        conn.exec_driver_sql(
            f"ALTER TABLE {table} ADD COLUMN {name} {col.type.compile(dialect=conn.dialect)}"
        )


def has_price_components(conn: sa.Connection) -> bool:
    """Whether the ``prices`` table of an open database has the component columns (an older file,
    opened read-only, does not)."""
    present = {c["name"] for c in sa.inspect(conn).get_columns("prices")}
    return set(PRICE_COMPONENT_COLUMNS) <= present


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ResultsWriter:
    """Buffered writer of one run's rows (see module docstring).

    ``run_id``: the ``pending`` row of this run (written by :func:`create_runs`), claimed as ``running``
    by this process; None inserts a new row. ``fingerprints``: the caller's fingerprints of the study
    (``"study"`` and one per section, e.g. ``"scenario"``, ``"cba"``, ``"sgam"``), stored as given.
    ``columnar``: the :data:`COLUMNAR_TABLES` as compressed chunks (default); False: as SQL rows."""

    def __init__(
        self,
        url: str,
        scheme: str,
        fingerprint: str,
        scenario: str,
        spec_json: str,
        batch_rows: int = 20_000,
        *,
        run_id: int | None = None,
        fingerprints: Mapping[str, str] | None = None,
        columnar: bool = True,
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.batch_rows = batch_rows
        self.columnar = columnar
        self._buffer: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self._n_buffered = 0
        now = _now()
        claim = {"status": "running", "started_at": now, "updated_at": now, "owner": owner_tag()}
        with _translated(url), self.engine.begin() as conn:
            if run_id is not None:
                conn.execute(runs.update().where(runs.c.run_id == run_id).values(**claim))
                self.run_id = run_id
            else:
                res = conn.execute(
                    runs.insert().values(
                        scheme=scheme,
                        n_clearings=0,
                        **_identity(fingerprint, scenario, spec_json, fingerprints),
                        **claim,
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
        with _translated(self.url), self.engine.begin() as conn:
            for name, rows in self._buffer.items():
                if not rows:
                    continue
                if self.columnar and name in COLUMNAR_TABLES:
                    chunk = {"run_id": self.run_id, "table_name": name, "n_rows": len(rows),
                             "parquet": encode_rows(TABLES[name], rows)}
                    conn.execute(series_chunks.insert(), [chunk])
                    continue
                for row in rows:
                    row["run_id"] = self.run_id
                conn.execute(TABLES[name].insert(), rows)
            values: dict[str, Any] = {"updated_at": _now()}
            if n_clearings is not None:
                values["n_clearings"] = n_clearings
            conn.execute(runs.update().where(runs.c.run_id == self.run_id).values(**values))
        self._buffer = {name: [] for name in TABLES}
        self._n_buffered = 0

    def finish(self, status: str, n_clearings: int | None = None, kpis_json: str | None = None) -> None:
        """Flush and mark the run ``completed`` (with its KPIs as JSON), ``cancelled`` or ``failed``."""
        self.flush(n_clearings)
        values: dict[str, Any] = {"status": status, "finished_at": _now()}
        if kpis_json is not None:
            values["kpis_json"] = kpis_json
        with _translated(self.url), self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.run_id == self.run_id).values(**values))
        self.engine.dispose()


SPEC_PACKED_PREFIX = "zlib+base64:"
"""Start of a ``runs.spec_json`` value stored compressed (:func:`pack_spec_json`)."""

SPEC_PACK_ABOVE_CHARS = 65_536
"""A scenario's JSON longer than this is stored compressed: the Italian scenario's is 3.2 MB, once per
run (5 runs of a day: 16 MB of the database, 1.4 MB compressed); the default study's stays readable."""


def pack_spec_json(spec_json: str) -> str:
    """``spec_json`` as stored in ``runs``: itself, or when longer than :data:`SPEC_PACK_ABOVE_CHARS`,
    zlib-compressed and base64-encoded behind :data:`SPEC_PACKED_PREFIX` (text, so the column and every
    reader's type stay as they were)."""
    if len(spec_json) <= SPEC_PACK_ABOVE_CHARS:
        return spec_json
    return SPEC_PACKED_PREFIX + base64.b64encode(zlib.compress(spec_json.encode(), 9)).decode("ascii")


def unpack_spec_json(stored: str | None) -> str | None:
    """The scenario's JSON of a stored ``runs.spec_json`` value (inverse of :func:`pack_spec_json`)."""
    if stored is None or not stored.startswith(SPEC_PACKED_PREFIX):
        return stored
    return zlib.decompress(base64.b64decode(stored[len(SPEC_PACKED_PREFIX):])).decode()


def _identity(
    fingerprint: str, scenario: str, spec_json: str, fingerprints: Mapping[str, str] | None
) -> dict[str, Any]:
    """The columns that say what a run simulated."""
    return {
        "fingerprint": fingerprint,
        "scenario": scenario,
        "spec_json": pack_spec_json(spec_json),
        "study_fingerprint": (fingerprints or {}).get("study"),
        "fingerprints_json": json.dumps(dict(fingerprints), sort_keys=True) if fingerprints else None,
    }


def create_runs(
    url: str,
    schemes: Iterable[str],
    fingerprint: str,
    scenario: str,
    spec_json: str,
    fingerprints: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """A ``pending`` row for every scheme, owned by this process, in one transaction: scheme -> run_id.

    Written before the first scheme starts, so a simulation killed at any point leaves a row for every
    scheme it was asked for (a scheme that never started reads ``pending``, then ``cancelled``)."""
    engine = make_engine(url)
    now = _now()
    ids: dict[str, int] = {}
    try:
        with _translated(url), engine.begin() as conn:
            for scheme in schemes:
                res = conn.execute(
                    runs.insert().values(
                        scheme=scheme,
                        status="pending",
                        started_at=now,
                        updated_at=now,
                        n_clearings=0,
                        owner=owner_tag(),
                        **_identity(fingerprint, scenario, spec_json, fingerprints),
                    )
                )
                ids[scheme] = int(res.inserted_primary_key[0])  # type: ignore[index]
    finally:
        engine.dispose()
    return ids


def close_runs(url: str, run_ids: Iterable[int], status: str) -> list[tuple[int, str]]:
    """Mark those of ``run_ids`` that are still pending or running as ``status`` (``cancelled`` or
    ``failed``); the (run_id, scheme) of each row changed. The caller owns the runs (it started them, or
    their process is gone)."""
    ids = list(run_ids)
    if not ids:
        return []
    engine = make_engine(url)
    try:
        with _translated(url), engine.begin() as conn:
            open_runs = [
                (int(r.run_id), str(r.scheme))
                for r in conn.execute(
                    sa.select(runs.c.run_id, runs.c.scheme)
                    .where(runs.c.run_id.in_(ids), runs.c.status.in_(UNFINISHED))
                    .order_by(runs.c.run_id)
                )
            ]
            if open_runs:
                conn.execute(
                    runs.update()
                    .where(runs.c.run_id.in_([i for i, _ in open_runs]), runs.c.status.in_(UNFINISHED))
                    .values(status=status, finished_at=_now())
                )
    finally:
        engine.dispose()
    return open_runs


def read_runs(url: str, stale_after_s: float = 600.0) -> list[dict[str, Any]]:
    """Every run of the database, oldest first, read without changing anything (:func:`open_read_only`).

    Each row is a dict of the ``runs`` columns (None for a column an older database lacks) plus
    ``interrupted``: True for a ``pending``/``running`` run whose process is gone (same host) or, when that
    cannot be told, a ``running`` run silent for ``stale_after_s``; such a run reads as ``cancelled``."""
    engine = open_read_only(url)
    try:
        with _translated(url), engine.connect() as conn:
            present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
            cols = [c for c in runs.c if c.name in present]
            rows = [dict(r._mapping) for r in conn.execute(sa.select(*cols).order_by(runs.c.run_id))]
    finally:
        engine.dispose()
    now = _now()
    for r in rows:
        for name in ADDED_RUN_COLUMNS:
            r.setdefault(name, None)
        r["spec_json"] = unpack_spec_json(r.get("spec_json"))
        r["interrupted"] = False
        if r["status"] not in UNFINISHED:
            continue
        alive = owner_alive(r["owner"])
        stale = (now - r["updated_at"]).total_seconds() > stale_after_s
        if alive is False or (alive is None and r["status"] == "running" and stale):
            r["status"] = "cancelled"
            r["interrupted"] = True
    return rows


def read_kpis(url: str, run_id: int) -> dict[str, float]:
    """KPI name -> value of one completed run; another status raises :class:`ResultsDatabaseError`."""
    engine = open_read_only(url)
    try:
        with _translated(url), engine.connect() as conn:
            run = conn.execute(sa.select(runs.c.scheme, runs.c.status).where(runs.c.run_id == run_id)).first()
            if run is None:
                raise ResultsDatabaseError(f"{db_label(url)}: run {run_id} does not exist")
            if run.status != "completed":
                raise ResultsDatabaseError(
                    f"{db_label(url)}: run {run_id} ({run.scheme}) is {run.status}, not completed"
                )
            rows = conn.execute(sa.select(kpis.c.name, kpis.c.value).where(kpis.c.run_id == run_id))
            return {name: float(value) for name, value in rows}
    finally:
        engine.dispose()


def read_table(
    conn: sa.Connection,
    name: str,
    run_ids: Iterable[int] | None = None,
    columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The rows of the results table ``name`` (of ``run_ids``, default every run), SQL rows and columnar
    chunks alike, in the order they were written, as one DataFrame: ``run_id`` and ``columns`` (default:
    every column but ``id``), dtypes as :func:`simulation.results_columns.normalise` gives them. A column
    an older database lacks reads as missing values (NaN / None).

    This is how every reader gets the :data:`COLUMNAR_TABLES` (a ``SELECT`` on the SQL table alone
    misses the chunks); filters (a step, firm rows) are applied to the frame."""
    import pandas as pd

    table = TABLES[name]
    wanted = [c.name for c in table.c if c.name not in ("id", "run_id")] if columns is None else [
        c for c in columns if c != "run_id"]
    unknown = [c for c in wanted if c not in table.c]
    if unknown:
        raise ValueError(f"table {name}: no column(s) {unknown}")
    ids = None if run_ids is None else sorted({int(i) for i in run_ids})
    inspector = sa.inspect(conn)
    present_tables = set(inspector.get_table_names())
    frames: list[pd.DataFrame] = []
    if name in present_tables:
        present = {c["name"] for c in inspector.get_columns(name)}
        sel = [table.c.run_id, *(table.c[c] for c in wanted if c in present)]
        query = sa.select(*sel).order_by(table.c.id)
        if ids is not None:
            query = query.where(table.c.run_id.in_(ids))
        rows = conn.execute(query).all()
        frames.append(pd.DataFrame.from_records([tuple(r) for r in rows], columns=[c.name for c in sel]))
    if "series_chunks" in present_tables and name in COLUMNAR_TABLES:
        sc = series_chunks
        query = sa.select(sc.c.run_id, sc.c.parquet).where(sc.c.table_name == name).order_by(sc.c.id)
        if ids is not None:
            query = query.where(sc.c.run_id.in_(ids))
        for run_id, data in conn.execute(query):
            part = decode_chunk(bytes(data), wanted)
            part.insert(0, "run_id", int(run_id))
            frames.append(part)
    frames = [f for f in frames if len(f)] or [pd.DataFrame(columns=["run_id", *wanted])]
    for i, f in enumerate(frames):  # same columns and dtypes in every part, then one frame
        for c in wanted:
            if c not in f.columns:
                f[c] = None
        frames[i] = normalise(f[["run_id", *wanted]].copy(), table)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def spec_json_of(spec: Any) -> str:
    """Canonical JSON of a pydantic spec (sorted keys), the input of :func:`fingerprint_of`."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True)
