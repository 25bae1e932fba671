"""Schemes side by side: one scheme run (:func:`simulation.run.run_scheme`) per worker process.

The scenario and schedule are built once in the parent and reach the workers by ``fork`` (``spawn``
where fork is unavailable); each worker writes its own run into the results database and returns its
:class:`~simulation.run.SchemeRun`. Progress travels back through a queue; a cancel request through an
event. Every worker clears with one HiGHS thread and one block worker (the processes already share the
cores), so the KPIs equal those of a serial run.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from typing import Any

from simulation.clearing_stage import reset_highs_scheduler
from simulation.errors import SimulationError
from simulation.forecast import Schedule
from simulation.progress import Progress, RunCancelled
from simulation.run import SchemeRun, run_scheme
from simulation.scenario.build import Scenario

EXPECTED_COST: dict[str, float] = {"LMS": 2.2, "CMS": 1.8, "SBR": 1.25, "IFM": 1.1, "CM": 1.0}
"""Relative run time of the schemes on the default day (measured; only orders the work, longest first, so
two cores finish together; a scheme not listed counts 1.0). A constant: nothing writes it."""


def _worker(args: tuple[Any, ...]) -> tuple[str, SchemeRun | None, str | None]:
    scenario, schedule, scheme, db_url, fingerprint, queue, cancel, market_sessions = args

    class _QueueProgress:
        def report(self, fraction: float, message: str) -> None:
            queue.put((scheme, fraction, message))

        def cancelled(self) -> bool:
            return bool(cancel.is_set())

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
        )
        return scheme, run, None
    except RunCancelled:
        return scheme, None, "cancelled"
    except SimulationError as exc:
        return scheme, None, f"error:{type(exc).__name__}:{exc}"
    except Exception:
        return scheme, None, "crash:" + traceback.format_exc()


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
) -> dict[str, SchemeRun]:
    """Run ``schemes`` in ``n_proc`` worker processes; progress from ``progress_from`` to 1.

    Raises :class:`RunCancelled` when the user cancelled, the :mod:`simulation.errors` class a worker
    raised (with its message), or :class:`WorkerCrashed` holding a crashed worker's traceback."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
    # a forked worker inherits this thread's HiGHS scheduler and cannot safely reset it: drop it here
    reset_highs_scheduler()
    manager = ctx.Manager()
    queue = manager.Queue()
    cancel = manager.Event()
    done_frac = {s: 0.0 for s in schemes}
    span = 1.0 - progress_from
    with ctx.Pool(n_proc) as pool:
        order = sorted(schemes, key=lambda s: EXPECTED_COST.get(s, 1.0), reverse=True)
        pending = pool.map_async(
            _worker,
            [(scenario, schedule, s, db_url, fingerprint, queue, cancel, market_sessions) for s in order],
            chunksize=1,
        )
        while True:
            try:
                while True:
                    scheme, frac, message = queue.get(timeout=0.2)
                    done_frac[scheme] = frac
                    progress.report(progress_from + span * sum(done_frac.values()) / len(schemes), message)
            except Exception:
                pass
            if progress.cancelled():
                cancel.set()
            if pending.ready():
                break
        outs = pending.get()
    manager.shutdown()
    runs: dict[str, SchemeRun] = {}
    errors: list[str] = []
    for scheme, run, err in outs:
        if err is None and run is not None:
            runs[scheme] = run
        else:
            errors.append(err or "unknown")
    _raise_first(errors)
    return runs


def _raise_first(errors: list[str]) -> None:
    """Re-raise the workers' failures in the parent: cancellation first, then simulation errors (their
    own class), then crashes."""
    if any(e == "cancelled" for e in errors):
        raise RunCancelled("run cancelled by the user")
    for e in errors:
        if e.startswith("error:"):
            _, name, text = e.split(":", 2)
            from simulation import errors as errmod

            raise getattr(errmod, name, SimulationError)(text)
    if errors:
        from simulation.errors import WorkerCrashed

        raise WorkerCrashed(errors[0].removeprefix("crash:"))


__all__ = ["EXPECTED_COST", "run_in_processes"]
