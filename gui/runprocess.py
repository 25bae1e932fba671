"""The child process that runs ``cba.study.run_study`` for the GUI (Qt-free on purpose).

Why a process and not only a thread: run in a thread of the GUI process, the scenario building
(pandapower power flows, profile tables) spends long stretches in C code that holds the GIL; the event
loop then stalled 0.2-0.33 s again and again and up to 0.95 s while the heavy modules were imported
(measured with a 20 ms heartbeat timer). In a separate process the GUI's GIL is never contended: the
GUI's worker thread only waits on a queue.

Messages on the queue: ``("progress", fraction, message)``, then exactly one of ``("ok", StudyResult)``,
``("cancelled",)``, ``("failed", message, is_user_error)``; with "ok" comes the run's time series
(:class:`gui.series.RunSeries`, or None without a results database).
"""

from __future__ import annotations

import traceback
from typing import Any


class QueueProgress:
    """The progress protocol over a multiprocessing queue and event."""

    def __init__(self, queue: Any, cancel: Any) -> None:
        self._queue = queue
        self._cancel = cancel

    def report(self, fraction: float, message: str) -> None:
        self._queue.put(("progress", float(fraction), str(message)))

    def cancelled(self) -> bool:
        return bool(self._cancel.is_set())


def bug_message(exc: BaseException) -> str:
    """A one-paragraph message for an unexpected error; the traceback goes to a file, not to the user."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix="coordstudio-crash-", suffix=".txt")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return (
        f"Internal error: {type(exc).__name__}: {exc}\n\nThis is a bug in Coordination Studio. "
        f"Please report it with the details saved in {name}."
    )


def run_in_child(
    study: Any, schemes: list[str] | None, out_dir: str | None, db_url: str | None, queue: Any, cancel: Any
) -> None:
    """Entry point of the child process: run the study, put the outcome on ``queue``."""
    import os

    from coordstudio.cba.errors import CbaError, StudyError
    from coordstudio.sgam.errors import SgamError
    from coordstudio.simulation.errors import SimulationError
    from coordstudio.simulation.lifeline import die_with_parent
    from coordstudio.simulation.progress import RunCancelled

    die_with_parent(os.getppid())  # a GUI killed with kill -9 takes its run (and the scheme workers) along
    try:
        # The computation yields the CPU to the window (and its pool workers inherit this niceness),
        # and leads its own process group so that a hard cancel can stop the scheme workers with it.
        os.nice(10)
        os.setpgrp()
    except (AttributeError, OSError):  # Windows, or a restricted system
        pass
    try:
        from coordstudio.cba.study import run_study

        if db_url:
            # Create the database (tables, WAL journal) once here, before the simulation's scheme
            # processes connect to it together: on a fresh SQLite file their simultaneous
            # "PRAGMA journal_mode=WAL" intermittently failed with "database is locked".
            from coordstudio.simulation.db import make_engine

            make_engine(db_url).dispose()

        result = run_study(
            study, QueueProgress(queue, cancel), out_dir=out_dir, db_url=db_url, schemes=schemes
        )
    except RunCancelled:
        queue.put(("cancelled",))
    except (StudyError, CbaError, SgamError, SimulationError) as exc:
        queue.put(("failed", str(exc), True))
    except Exception as exc:  # noqa: BLE001 - a bug: reported without a traceback dialog
        queue.put(("failed", bug_message(exc), False))
    else:
        series = None
        if db_url:
            from coordstudio.cba.price_components import figure_run_days
            from coordstudio.gui.series import PackedSeries, load_series

            # several representative days: their runs, weighted as the CBA weights them; read here, so
            # the GUI thread never waits on the database
            series = PackedSeries.pack(load_series(db_url, figure_run_days(study, db_url)))
        queue.put(("ok", result, series))
