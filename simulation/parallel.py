"""Schemes side by side: one scheme run (:func:`simulation.run.run_scheme`) per worker process.

The scenario and schedule are built once in the parent and reach the workers by ``fork`` (``spawn``
where fork is unavailable); each worker writes its own run into the results database and sends its
:class:`~simulation.run.SchemeRun` back. Every worker clears with one HiGHS thread and one block worker
(the processes already share the cores), so the KPIs equal those of a serial run.

Why plain processes, a queue and an event, and no ``multiprocessing.Pool`` or ``Manager``: the manager is a
server process of its own and the pool's workers outlive a parent killed with ``kill -9`` (both were left
running as orphans); a pool also waits for ever for the result of a worker that died. Here:

* each worker dies with its parent (:func:`simulation.lifeline.die_with_parent`), and there is no server
  process to orphan;
* a worker that ends without sending its result (killed, out of memory) is noticed by its exit code and
  its run is marked ``failed``;
* workers ignore SIGINT (a Ctrl-C in the terminal reaches the whole process group): the parent decides.
  On a cancel request (``progress.cancelled()``, or ``KeyboardInterrupt`` in the parent) it sets the
  cancel event, waits up to :data:`CANCEL_GRACE_S` for the workers to mark their runs ``cancelled`` at
  their next step, kills those that do not, marks every run it owns that is still pending or running
  ``cancelled``, and raises :class:`RunCancelled` naming them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import signal
import time
import traceback
from typing import Any

from coordstudio.simulation.clearing_stage import reset_highs_scheduler
from coordstudio.simulation.db import close_runs
from coordstudio.simulation.errors import SimulationError
from coordstudio.simulation.forecast import Schedule
from coordstudio.simulation.lifeline import die_with_parent
from coordstudio.simulation.progress import Progress, RunCancelled
from coordstudio.simulation.run import SchemeRun, run_scheme
from coordstudio.simulation.scenario.build import Scenario

EXPECTED_COST: dict[str, float] = {"LMS": 2.2, "CMS": 1.8, "SBR": 1.25, "IFM": 1.1, "CM": 1.0, "CM-D": 2.2}
"""Relative run time of the schemes on the default day (measured; only orders the work, longest first, so
two cores finish together; a scheme not listed counts 1.0). A constant: nothing writes it."""

CANCEL_GRACE_S = 20.0
"""Seconds the parent waits, after a cancel request, for the workers to stop at their next step."""


def start_order(schemes: list[str]) -> list[str]:
    """The order the workers start the schemes: longest expected first (:data:`EXPECTED_COST`)."""
    return sorted(schemes, key=lambda s: EXPECTED_COST.get(s, 1.0), reverse=True)


def _worker(
    parent_pid: int,
    scenario: Scenario,
    schedule: Schedule,
    scheme: str,
    db_url: str | None,
    fingerprint: str,
    run_id: int | None,
    fingerprints: dict[str, str] | None,
    market_sessions: bool,
    queue: Any,
    cancel: Any,
) -> None:
    """One scheme's day in a worker process; puts ``("progress", ...)`` messages, then one
    ``("done", scheme, SchemeRun | None, error | None)``."""
    die_with_parent(parent_pid)
    from coordstudio.simulation.market.solvers import silence_highs_banner

    silence_highs_banner()  # a spawned worker prints it otherwise (a forked one inherits the parent's state)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    class _QueueProgress:
        def report(self, fraction: float, message: str) -> None:
            queue.put(("progress", scheme, fraction, message))

        def cancelled(self) -> bool:
            return bool(cancel.is_set())

    run: SchemeRun | None = None
    err: str | None = None
    try:
        # the parent reset its HiGHS scheduler before forking: nothing inherited, nothing to reset here
        run = run_scheme(
            scenario,
            schedule,
            scheme,
            db_url,
            _QueueProgress(),
            fingerprint,
            reset_solver_threads=False,
            market_sessions=market_sessions,
            block_workers=1,
            run_id=run_id,
            fingerprints=fingerprints,
        )
    except RunCancelled:
        err = "cancelled"
    except SimulationError as exc:
        err = f"error:{type(exc).__name__}:{exc}"
    except Exception:
        err = "crash:" + traceback.format_exc()
    queue.put(("done", scheme, run, err))


def run_in_processes(
    scenario: Scenario,
    schedule: Schedule,
    schemes: list[str],
    db_url: str | None,
    fingerprint: str,
    progress: Progress,
    n_proc: int,
    market_sessions: bool,
    progress_from: float = 0.05,
    run_ids: dict[str, int] | None = None,
    fingerprints: dict[str, str] | None = None,
) -> dict[str, SchemeRun]:
    """Run ``schemes`` in up to ``n_proc`` worker processes; progress from ``progress_from`` to 1.

    ``run_ids``: the pending run row of each scheme (:func:`simulation.db.create_runs`).

    Raises :class:`RunCancelled` when the user cancelled, the :mod:`simulation.errors` class a worker
    raised (with its message), or :class:`WorkerCrashed` holding a crashed worker's traceback."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
    # a forked worker inherits this thread's HiGHS scheduler and cannot safely reset it: drop it here
    reset_highs_scheduler()
    ids = run_ids or {}
    queue = ctx.Queue()
    cancel = ctx.Event()
    done_frac = {s: 0.0 for s in schemes}
    span = 1.0 - progress_from
    todo = start_order(schemes)
    running: dict[str, Any] = {}
    results: dict[str, tuple[SchemeRun | None, str | None]] = {}
    cancel_at: float | None = None
    try:
        while todo or running:
            while todo and len(running) < n_proc and cancel_at is None:
                scheme = todo.pop(0)
                proc = ctx.Process(
                    target=_worker,
                    args=(os.getpid(), scenario, schedule, scheme, db_url, fingerprint, ids.get(scheme),
                          fingerprints, market_sessions, queue, cancel),
                    name=f"scheme-{scheme}",
                    daemon=True,
                )
                proc.start()
                running[scheme] = proc
            try:
                _drain(queue, running, results, done_frac, progress, progress_from, span, len(schemes))
                if cancel_at is None and progress.cancelled():
                    cancel.set()
                    cancel_at = time.monotonic()
            except KeyboardInterrupt:
                if cancel_at is not None:
                    raise  # a second Ctrl-C: stop now
                cancel.set()
                cancel_at = time.monotonic()
            if cancel_at is not None:
                todo.clear()
                if time.monotonic() - cancel_at > CANCEL_GRACE_S:
                    break
    except BaseException:
        _stop(running)
        if db_url and ids:
            close_runs(db_url, ids.values(), "cancelled")
        raise
    _stop(running)
    if cancel_at is not None:
        closed = close_runs(db_url, ids.values(), "cancelled") if db_url and ids else []
        raise RunCancelled(_cancel_message(schemes, results, closed))
    if db_url and ids:
        close_runs(db_url, ids.values(), "failed")  # only a worker that died without a word left one open
    runs: dict[str, SchemeRun] = {}
    errors: list[str] = []
    for scheme in schemes:
        run, err = results.get(scheme, (None, "crash:the worker process ended without a result"))
        if err is None and run is not None:
            runs[scheme] = run
        else:
            errors.append(err or "unknown")
    _raise_first(errors)
    return runs


def _drain(
    queue: Any,
    running: dict[str, Any],
    results: dict[str, tuple[SchemeRun | None, str | None]],
    done_frac: dict[str, float],
    progress: Progress,
    progress_from: float,
    span: float,
    n_schemes: int,
) -> None:
    """Take the workers' messages for up to 0.2 s; forget the workers that ended."""
    deadline = time.monotonic() + 0.2
    while True:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            break
        try:
            msg = queue.get(timeout=timeout)
        except queue_mod.Empty:
            break
        if msg[0] == "progress":
            _, scheme, frac, message = msg
            done_frac[scheme] = frac
            progress.report(progress_from + span * sum(done_frac.values()) / n_schemes, message)
        else:
            _, scheme, run, err = msg
            results[scheme] = (run, err)
            proc = running.pop(scheme, None)
            if proc is not None:
                proc.join(timeout=30)
    for scheme, proc in list(running.items()):
        if not proc.is_alive() and scheme not in results:
            # ended without its "done" message: give the queue a last chance, then call it a crash
            try:
                while True:
                    msg = queue.get(timeout=0.5)
                    if msg[0] == "done":
                        results[msg[1]] = (msg[2], msg[3])
                        running.pop(msg[1], None)
            except queue_mod.Empty:
                pass
            if scheme not in results:
                died = f"crash:the worker of scheme {scheme} died (exit code {proc.exitcode})"
                results[scheme] = (None, died)
                running.pop(scheme, None)


def _stop(running: dict[str, Any]) -> None:
    """Kill the workers still running and reap them."""
    for proc in running.values():
        if proc.is_alive():
            proc.kill()
    for proc in running.values():
        proc.join(timeout=10)
    running.clear()


def _cancel_message(
    schemes: list[str], results: dict[str, tuple[SchemeRun | None, str | None]], closed: list[tuple[int, str]]
) -> str:
    cancelled = sorted({s for s, (_, err) in results.items() if err == "cancelled"} | {s for _, s in closed},
                       key=schemes.index)
    return f"run cancelled by the user: scheme(s) {', '.join(cancelled) or 'none'} marked cancelled"


def _raise_first(errors: list[str]) -> None:
    """Re-raise the workers' failures in the parent: cancellation first, then simulation errors (their
    own class), then crashes."""
    if any(e == "cancelled" for e in errors):
        raise RunCancelled("run cancelled by the user")
    for e in errors:
        if e.startswith("error:"):
            _, name, text = e.split(":", 2)
            from coordstudio.simulation import errors as errmod

            raise getattr(errmod, name, SimulationError)(text)
    if errors:
        from coordstudio.simulation.errors import WorkerCrashed

        raise WorkerCrashed(errors[0].removeprefix("crash:"))


__all__ = ["CANCEL_GRACE_S", "EXPECTED_COST", "run_in_processes", "start_order"]
