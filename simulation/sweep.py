"""Sweeps: the grid of runs schemes x representative days x scenario variants, on a Dask cluster.

A study multiplies: every scheme of the registry, several representative days, scenario variants
(sensitivities, Monte Carlo samples as seed variants). Each run (one scheme, one day, one variant) is
independent, so the sweep hands them to an existing distributed engine, Dask: a
:class:`distributed.LocalCluster` on this machine by default, or any running Dask scheduler by address
(``tcp://host:8786``). Every run writes its rows to
the one results database (SQLite file or a PostgreSQL URL for a shared one) through the platform's
:func:`simulation.simulate.simulate`.

Bookkeeping lives in a table ``sweep_tasks`` of the same database (sweep id, task key, the task's
fingerprint, status, attempts, error, KPIs as JSON). That makes a sweep

* **resumable**: a task already ``completed`` with the same fingerprint (same spec JSON and scheme) is
  not run again; its stored KPIs are returned;
* **honest about failures**: a task that raises is submitted once more; if it fails again it is
  reported (key, attempts, error) and the rest of the sweep still completes.

Tasks run in worker processes, so each worker builds its scenario itself from the spec (cheap next to a
simulated day); ``runner`` (``"module:function"``) makes the platform replaceable in tests.

A remote cluster needs the grid files a spec references (``grid_file``) at the same path on every worker
(a shared file system) and a database URL every worker can reach.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from coordstudio.simulation.errors import ResultsDatabaseError, ScenarioError, SimulationError
from coordstudio.simulation.kpis import SCHEME_IDS, SchemeKpis
from coordstudio.simulation.progress import NullProgress, Progress, check_cancelled
from coordstudio.simulation.scenario import ScenarioSpec

DEFAULT_RUNNER = "simulation.simulate:simulate"
"""Function that simulates ``(spec, [scheme], db_url, progress)`` and returns an object whose ``kpis``
maps the scheme to its :class:`SchemeKpis` (:class:`simulation.simulate.SimulationResult`)."""

DIMENSIONS: tuple[str, ...] = ("schemes", "days", "variants")


class SweepDay(BaseModel):
    """A representative day of the sweep: the scenario with its profiles taken on another day."""

    model_config = ConfigDict(extra="forbid")

    day_id: str = Field(description="Id of the day (the KPIs' day and the CBA's day-weight key).")
    day_of_year: int = Field(ge=1, le=365, description="Day of the year of the profiles (1 = 1 Jan).")
    weight_days: float | None = Field(
        default=None, ge=0, description="Days per year the day stands for, days/a (None: equal weights)."
    )
    ambient_temp_c: float | None = Field(
        default=None, description="Daily mean ambient temperature of the day, degC (None: the scenario's)."
    )


class SweepVariant(BaseModel):
    """A scenario variant: values replacing fields of the spec, by dotted path.

    Paths follow the spec's JSON: ``imbalance.forecast_error_std_frac``, ``transmission.line_rating_factor``,
    ``feeders.*.line_rating_factor`` (``*``: every item), ``device_groups.3.count``, ``seed`` (a Monte
    Carlo sample is a seed variant).
    """

    model_config = ConfigDict(extra="forbid")

    variant_id: str = Field(description="Id of the variant.")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Dotted field path of the scenario -> new value."
    )


DEFAULT_DAYS: tuple[SweepDay, ...] = (
    SweepDay(day_id="winter", day_of_year=15),
    SweepDay(day_id="spring", day_of_year=105),
    SweepDay(day_id="summer", day_of_year=196),
    SweepDay(day_id="autumn", day_of_year=288),
)
"""Four seasonal representative days (assumption: mid-month days of January, April, July, October)."""

DEFAULT_VARIANTS: tuple[SweepVariant, ...] = (
    SweepVariant(variant_id="base"),
    SweepVariant(variant_id="forecast-error-x2", overrides={"imbalance.forecast_error_std_frac": 0.5}),
    SweepVariant(variant_id="lines-90pct", overrides={"transmission.line_rating_factor": 0.9}),
)
"""Default variants: the study as is, a doubled imbalance forecast error (the seed's finding that
DSO-involving schemes suffer from forecast errors), and transmission ratings at 90 % (assumption)."""


@dataclass(frozen=True)
class SweepTask:
    """One run of the sweep."""

    key: str
    scheme: str
    day_id: str
    variant_id: str
    spec_json: str
    fingerprint: str


@dataclass
class SweepResult:
    """Outcome of :func:`run_sweep`."""

    sweep_id: str
    kpis: dict[str, SchemeKpis] = field(default_factory=dict)
    """Task key -> KPIs of every completed task (resumed ones included)."""
    tasks: dict[str, SweepTask] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Task key -> error of the tasks that failed twice."""
    retried: list[str] = field(default_factory=list)
    """Task keys that failed once and were submitted again."""
    resumed: list[str] = field(default_factory=list)
    """Task keys found completed in the database and not run again."""
    elapsed_s: float = 0.0
    task_time_s: dict[str, float] = field(default_factory=dict)
    """Task key -> wall time of its run, s."""
    task_cpu_s: dict[str, float] = field(default_factory=dict)
    day_weights: dict[str, float] = field(default_factory=dict)
    """Day id -> days per year it stands for (representative days; empty: equal weights)."""
    """Task key -> CPU time of its run in its process, s (wall minus waiting for a shared core)."""

    def rows(self) -> list[dict[str, Any]]:
        """One row per task: key, scheme, day, variant, status, activation and aFRR cost."""
        out = []
        for key, task in self.tasks.items():
            k = self.kpis.get(key)
            out.append(
                {
                    "task": key,
                    "scheme": task.scheme,
                    "day": task.day_id,
                    "variant": task.variant_id,
                    "status": "failed"
                    if key in self.failed
                    else ("resumed" if key in self.resumed else "completed"),
                    "activation_cost_eur": k.activation_cost_eur if k else float("nan"),
                    "afrr_cost_eur": k.afrr_cost_eur if k else float("nan"),
                    "error": self.failed.get(key, ""),
                }
            )
        return out


# ----------------------------------------------------------------------------------------- planning


def _set_path(data: Any, path: str, value: Any, variant: str) -> None:
    parts = path.split(".")
    targets = [data]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        nxt = []
        for node in targets:
            if isinstance(node, list):
                if part == "*":
                    items = list(range(len(node)))
                elif part.isdigit() and int(part) < len(node):
                    items = [int(part)]
                else:
                    raise ScenarioError(f"sweep variant {variant!r}: field path {path!r}: no item {part!r}")
                for i in items:
                    if last:
                        node[i] = value
                    else:
                        nxt.append(node[i])
            elif isinstance(node, dict):
                if part not in node:
                    raise ScenarioError(
                        f"sweep variant {variant!r}: field path {path!r}: the scenario has no field {part!r}"
                    )
                if last:
                    node[part] = value
                else:
                    nxt.append(node[part])
            else:
                raise ScenarioError(
                    f"sweep variant {variant!r}: field path {path!r}: {part!r} is not a field"
                )
        targets = nxt


def variant_spec(spec: ScenarioSpec, day: SweepDay | None, variant: SweepVariant | None) -> ScenarioSpec:
    """The spec of one (day, variant): profiles on ``day``, ``name`` = the day id, overrides applied."""
    from pydantic import ValidationError

    data = spec.model_dump(mode="json")
    if day is not None:
        data["name"] = day.day_id
        data["profiles"]["day_of_year"] = day.day_of_year
        data["profiles"]["representative_days"] = 0
        if day.ambient_temp_c is not None:
            data["profiles"]["ambient_temp_c"] = day.ambient_temp_c
    if variant is not None:
        for path, value in variant.overrides.items():
            _set_path(data, path, value, variant.variant_id)
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = variant.variant_id if variant else "-"
        raise ScenarioError(
            f"sweep variant {where!r}: field {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        ) from None


def plan_sweep(
    spec: ScenarioSpec,
    schemes: Sequence[str] | None = None,
    days: Sequence[SweepDay] | None = None,
    variants: Sequence[SweepVariant] | None = None,
) -> list[SweepTask]:
    """Every task of the grid schemes x days x variants (None: the spec's schemes / its own day / as is)."""
    schemes = list(schemes or spec.schemes)
    unknown = [s for s in schemes if s not in SCHEME_IDS]
    if unknown:
        raise ScenarioError(f"sweep: field schemes: unknown scheme(s) {unknown}; known: {list(SCHEME_IDS)}")
    day_list: list[SweepDay | None] = list(days) if days else [None]
    var_list: list[SweepVariant | None] = list(variants) if variants else [None]
    for kind, ids in (
        ("day", [d.day_id for d in day_list if d]),
        ("variant", [v.variant_id for v in var_list if v]),
    ):
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ScenarioError(f"sweep: {kind} id(s) {sorted(dup)} used twice (field {kind}_id)")
    tasks = []
    for variant in var_list:
        for day in day_list:
            vspec = variant_spec(spec, day, variant)
            spec_json = json.dumps(vspec.model_dump(mode="json"), sort_keys=True)
            for scheme in schemes:
                day_id = day.day_id if day else spec.name
                var_id = variant.variant_id if variant else "base"
                key = f"{scheme}|{day_id}|{var_id}"
                fp = hashlib.sha256((scheme + "\n" + spec_json).encode()).hexdigest()
                tasks.append(SweepTask(key, scheme, day_id, var_id, spec_json, fp))
    return tasks


# ------------------------------------------------------------------------------------- bookkeeping

_meta = sa.MetaData()
sweep_tasks = sa.Table(
    "sweep_tasks",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sweep_id", sa.String(64), nullable=False, index=True),
    sa.Column("task_key", sa.String(200), nullable=False),
    sa.Column("scheme", sa.String(16), nullable=False),
    sa.Column("day", sa.String(100), nullable=False),
    sa.Column("variant", sa.String(100), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("kpis_json", sa.Text, nullable=True),
    sa.Column("elapsed_s", sa.Float, nullable=True),
    sa.Column("finished_at", sa.DateTime, nullable=True),
)


def _engine(url: str) -> sa.Engine:
    from coordstudio.simulation.db import make_engine

    engine = make_engine(url)
    try:
        _meta.create_all(engine)
    except Exception as exc:
        raise ResultsDatabaseError(f"results database: cannot create table sweep_tasks ({exc})") from exc
    return engine


def completed_tasks(db_url: str, sweep_id: str) -> dict[str, tuple[str, SchemeKpis]]:
    """Task key -> (fingerprint, KPIs) of the completed tasks of ``sweep_id`` in the database."""
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(sweep_tasks.c.task_key, sweep_tasks.c.fingerprint, sweep_tasks.c.kpis_json)
                .where(sweep_tasks.c.sweep_id == sweep_id, sweep_tasks.c.status == "completed")
                .order_by(sweep_tasks.c.id)
            ).all()
    finally:
        engine.dispose()
    return {key: (fp, SchemeKpis.model_validate_json(kj)) for key, fp, kj in rows if kj}


def _record(
    engine: sa.Engine,
    sweep_id: str,
    task: SweepTask,
    status: str,
    attempts: int,
    error: str | None,
    kpis: SchemeKpis | None,
    elapsed: float | None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sweep_tasks.delete().where(sweep_tasks.c.sweep_id == sweep_id, sweep_tasks.c.task_key == task.key)
        )
        conn.execute(
            sweep_tasks.insert().values(
                sweep_id=sweep_id,
                task_key=task.key,
                scheme=task.scheme,
                day=task.day_id,
                variant=task.variant_id,
                fingerprint=task.fingerprint,
                status=status,
                attempts=attempts,
                error=error,
                kpis_json=kpis.model_dump_json() if kpis else None,
                elapsed_s=elapsed,
                finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        )


# ------------------------------------------------------------------------------------------- running


def _resolve(runner: str) -> Callable[..., Any]:
    module, _, name = runner.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


def execute_task(
    spec_json: str, scheme: str, db_url: str | None, runner: str = DEFAULT_RUNNER
) -> dict[str, Any]:
    """Run one task (in a worker or in this process); returns the KPIs as JSON-able data and the time.

    Module-level and taking plain data so Dask can ship it to any worker.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    spec = ScenarioSpec.model_validate_json(spec_json)
    out = _resolve(runner)(spec, [scheme], db_url, NullProgress())
    return {
        "kpis": out.kpis[scheme].model_dump(mode="json"),
        "elapsed_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
    }


def sweep_id_of(tasks: Sequence[SweepTask]) -> str:
    """Default sweep id: a hash of the task keys (the same grid of runs resumes the same sweep)."""
    return hashlib.sha256("\n".join(sorted(t.key for t in tasks)).encode()).hexdigest()[:16]


_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$")
"""A Dask scheduler address ``SCHEME://HOST:PORT`` (host name, IPv4 or bracketed IPv6)."""


def check_scheduler_address(address: str) -> str:
    """``address`` stripped if it is a Dask scheduler address to dial; :class:`ScenarioError` if not.

    Why before anything runs: a malformed address otherwise surfaces from the comm layer as a
    ``ValueError`` deep in :func:`make_client`, after the study is loaded; an address whose form is right
    but where no scheduler answers fails in :func:`make_client` after its connect timeout.
    """
    m = _ADDRESS.match(address.strip())
    if m is None or not 1 <= int(m.group(3)) <= 65535:
        raise ScenarioError(
            f"--scheduler: {address[:80]!r} is not a Dask scheduler address SCHEME://HOST:PORT (SCHEME tcp, "
            "tls, ws, wss or ucx; PORT 1-65535), e.g. tcp://10.0.0.5:8786"
        )
    return address.strip()


def worker_ready() -> str:
    """Run on every worker before the sweep (:func:`check_workers`): this module imported there, so the
    worker has coordstudio; returns the worker's host name."""
    import platform

    return platform.node()


def check_workers(client: Any, address: str) -> int:
    """Number of workers of ``address``'s cluster that can run sweep tasks.

    Every worker runs :func:`worker_ready`; one that cannot import coordstudio (a different Python
    environment, a missing install) answers with the import error. Raises :class:`SimulationError` naming
    the workers that cannot, so the sweep does not end with every task failed twice. A cluster without
    workers yet (an adaptive dask-jobqueue cluster still queueing its jobs) passes: tasks wait for them.
    """
    answers = client.run(worker_ready, on_error="return")
    bad = {w: a for w, a in answers.items() if isinstance(a, BaseException)}
    if bad:
        worker, err = next(iter(bad.items()))
        raise SimulationError(
            f"--scheduler {address}: {len(bad)} of {len(answers)} Dask worker(s) cannot run coordstudio "
            f"tasks (e.g. {worker}: {type(err).__name__}: {str(err)[:200]}); every worker needs the same "
            "coordstudio install as this machine (docs/scale.md)"
        )
    return len(answers)


def make_client(workers: int, scheduler: str | None = None, timeout_s: float = 20.0) -> Any:
    """A Dask client: a LocalCluster of ``workers`` single-threaded processes, or ``scheduler``'s cluster.

    An existing cluster is checked first: the address's form (:func:`check_scheduler_address`), the
    connection (``timeout_s``), and that its workers can import coordstudio (:func:`check_workers`)."""
    from distributed import Client, LocalCluster

    if scheduler:
        address = check_scheduler_address(scheduler)
        try:
            client = Client(address, timeout=f"{timeout_s:g}s")
        except Exception as exc:  # OSError / TimeoutError from the comm layer
            raise SimulationError(
                f"--scheduler {address}: cannot reach the Dask scheduler ({str(exc)[:200]}); is "
                "`dask scheduler` running there and the port open?"
            ) from None
        try:
            check_workers(client, address)
        except BaseException:
            client.close()
            raise
        return client
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=0,
        silence_logs=40,
    )
    return Client(cluster)


def close_client(client: Any) -> None:
    """Close a client and, when it owns one, its LocalCluster."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def run_sweep(
    spec: ScenarioSpec,
    schemes: Sequence[str] | None = None,
    days: Sequence[SweepDay] | None = None,
    variants: Sequence[SweepVariant] | None = None,
    db_url: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any | None = None,
    runner: str = DEFAULT_RUNNER,
    sweep_id: str | None = None,
    progress: Progress | None = None,
    retries: int = 1,
) -> SweepResult:
    """Run the sweep; ``workers=0`` (and no ``scheduler``/``client``) runs it serially in this process.

    Parameters
    ----------
    spec: the study's scenario.
    schemes, days, variants: the grid (see :func:`plan_sweep`).
    db_url: results database shared by every run and holding ``sweep_tasks`` (None: no database, no resume).
    workers: LocalCluster worker processes (one thread each).
    scheduler: address of an existing Dask scheduler instead of a LocalCluster.
    client: an existing ``distributed.Client`` (benchmarks reuse a warm cluster); not closed here.
    runner: ``"module:function"`` simulating ``(spec, [scheme], db_url, progress)``.
    sweep_id: bookkeeping id (default: hash of the task keys, so re-running the same command resumes).
    retries: extra attempts for a failing task (the issue asks for one).
    """
    progress = progress or NullProgress()
    t_start = time.perf_counter()
    tasks = plan_sweep(spec, schemes, days, variants)
    sid = sweep_id or sweep_id_of(tasks)
    weights = {d.day_id: d.weight_days for d in (days or []) if d.weight_days is not None}
    result = SweepResult(sweep_id=sid, tasks={t.key: t for t in tasks}, day_weights=weights)
    engine = _engine(db_url) if db_url else None
    todo: list[SweepTask] = []
    done_before = completed_tasks(db_url, sid) if db_url else {}
    for t in tasks:
        prev = done_before.get(t.key)
        if prev is not None and prev[0] == t.fingerprint:
            result.kpis[t.key] = prev[1]
            result.resumed.append(t.key)
        else:
            todo.append(t)
    n_total = len(tasks)
    attempts: dict[str, int] = {t.key: 0 for t in todo}

    def finish(task: SweepTask, out: dict[str, Any] | None, error: str | None) -> bool:
        """Record a task's outcome; return True when it should be submitted again."""
        attempts[task.key] += 1
        if error is None and out is not None:
            kpis = SchemeKpis.model_validate(out["kpis"])
            result.kpis[task.key] = kpis
            result.task_time_s[task.key] = float(out["elapsed_s"])
            result.task_cpu_s[task.key] = float(out.get("cpu_s", float("nan")))
            if engine is not None:
                _record(engine, sid, task, "completed", attempts[task.key], None, kpis, out["elapsed_s"])
        elif attempts[task.key] <= retries:
            result.retried.append(task.key)
            return True
        else:
            result.failed[task.key] = error or "unknown error"
            if engine is not None:
                _record(engine, sid, task, "failed", attempts[task.key], error, None, None)
        done = len(result.kpis) + len(result.failed)
        progress.report(done / max(n_total, 1), f"sweep: {done}/{n_total} runs ({task.key})")
        return False

    try:
        if not todo:
            pass
        elif client is None and scheduler is None and workers <= 0:
            for task in todo:
                while True:
                    check_cancelled(progress)
                    try:
                        out, err = execute_task(task.spec_json, task.scheme, db_url, runner), None
                    except Exception as exc:  # a failed run is reported, the sweep goes on
                        out, err = None, f"{type(exc).__name__}: {exc}"
                    if not finish(task, out, err):
                        break
        else:
            own = client is None
            cl = client if client is not None else make_client(workers, scheduler)
            try:
                _run_on_dask(cl, todo, db_url, runner, finish, progress)
            finally:
                if own:
                    close_client(cl)
    finally:
        if engine is not None:
            engine.dispose()
    result.elapsed_s = time.perf_counter() - t_start
    return result


def _run_on_dask(
    client: Any,
    todo: list[SweepTask],
    db_url: str | None,
    runner: str,
    finish: Callable[[SweepTask, dict[str, Any] | None, str | None], bool],
    progress: Progress,
) -> None:
    from distributed import as_completed

    by_future: dict[Any, SweepTask] = {}
    futures = []
    for task in todo:
        fut = client.submit(
            execute_task,
            task.spec_json,
            task.scheme,
            db_url,
            runner,
            pure=False,
            key=f"sweep-{task.fingerprint[:12]}-{task.key}-0",
        )
        by_future[fut] = task
        futures.append(fut)
    ac = as_completed(futures)
    n_submit: dict[str, int] = {}
    for fut in ac:
        task = by_future.pop(fut)
        if progress.cancelled():
            for other in list(by_future):
                other.cancel()
            check_cancelled(progress)
        try:
            out, err = fut.result(), None
        except Exception as exc:  # the task's own error (or a killed worker), reported, not raised
            out, err = None, f"{type(exc).__name__}: {exc}"
        if finish(task, out, err):
            n_submit[task.key] = n_submit.get(task.key, 0) + 1
            again = client.submit(
                execute_task,
                task.spec_json,
                task.scheme,
                db_url,
                runner,
                pure=False,
                key=f"sweep-{task.fingerprint[:12]}-{task.key}-{n_submit[task.key]}",
            )
            by_future[again] = task
            ac.add(again)
