"""Run ``cba.study.run_study`` off the GUI thread so the window stays responsive.

The computation only sees a Qt-free progress object (``report(fraction, message)``,
``cancelled() -> bool``); :class:`QtProgress` forwards reports as a queued Qt signal to the GUI thread
and answers ``cancelled()`` from a :class:`threading.Event` the Cancel button sets. Reports are
throttled (at most one every 50 ms unless the message changes) so a chatty simulation cannot flood the
event loop. The study handed to the worker is a deep copy: the user can keep editing during a run.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from coordstudio.cba.study import Study


class QtProgress(QObject):
    """The progress protocol of ``simulation.progress``, implemented with a signal and an Event."""

    progressed = Signal(float, str)

    def __init__(self, min_interval_s: float = 0.05) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._last_t = 0.0
        self._last_msg = ""
        self._min_interval_s = min_interval_s

    def report(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if message == self._last_msg and now - self._last_t < self._min_interval_s and fraction < 1.0:
            return
        self._last_t, self._last_msg = now, message
        self.progressed.emit(float(fraction), str(message))

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the computation to stop at its next check (thread-safe)."""
        self._cancel.set()


class StudyRunner(QThread):
    """One run of the whole chain (ICT cost, simulation, CBA) on a snapshot of the study.

    The thread starts a child process (:mod:`gui.runprocess`, "spawn" start method: the GUI process
    has Qt threads and must not be forked) and relays its queue to Qt signals; it only waits, so the
    GUI thread never competes for the GIL with the computation.

    Signals
    -------
    progressed(float, str)
        Fraction done and what is running now.
    succeeded(object)
        The :class:`cba.study.StudyResult`.
    failed(str, bool)
        A message for the user, and whether it is a user-input error (True) or a bug (False, traceback
        saved to a file whose path is in the message).
    cancelledRun()
        The user stopped the run.
    """

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, bool)
    cancelledRun = Signal()

    def __init__(
        self,
        study: Study,
        schemes: list[str] | None = None,
        out_dir: Path | None = None,
        db_url: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.study = study
        self.schemes = schemes
        self.out_dir = out_dir
        self.db_url = db_url
        self.progress = QtProgress()
        self.progress.progressed.connect(self.progressed)
        self.result: Any = None
        self.series: Any = None
        #: Seconds a cancelled run may take to stop by itself before its processes are terminated.
        self.cancel_grace_s = 10.0
        self.pid: int | None = None
        self.exit_code: int | None = None

    def cancel(self) -> None:
        """Request cancellation; the run ends at the computation's next check."""
        self.progress.cancel()

    def run(self) -> None:  # executed in the worker thread
        import multiprocessing as mp
        import queue as queue_mod

        from coordstudio.gui.runprocess import run_in_child

        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        cancel = ctx.Event()
        proc = ctx.Process(
            target=run_in_child,
            name="coordstudio-run",
            args=(
                self.study,
                self.schemes,
                str(self.out_dir) if self.out_dir else None,
                self.db_url,
                queue,
                cancel,
            ),
        )
        try:
            proc.start()
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable study: never let the thread die silently
            self.failed.emit(f"The run cannot start a worker process: {type(exc).__name__}: {exc}", False)
            return
        # The result's classes (CbaResult, ...) are imported now, while the child works, rather than by
        # the unpickling at the end of the run.
        import coordstudio.cba.analysis  # noqa: F401

        self.pid = proc.pid
        outcome: tuple[Any, ...] | None = None
        cancel_t0: float | None = None
        while outcome is None:
            if self.progress.cancelled():
                cancel.set()
                cancel_t0 = cancel_t0 or time.monotonic()
                if time.monotonic() - cancel_t0 > self.cancel_grace_s and proc.is_alive():
                    # The computation did not reach a cancellation check in time (a long solve):
                    # stop the run process and its scheme workers (one process group).
                    kill_process_tree(proc)
                    outcome = ("cancelled",)
                    break
            try:
                msg = queue.get(timeout=0.1)
            except queue_mod.Empty:
                if not proc.is_alive():
                    # The child may have put its outcome just before exiting: one last look.
                    try:
                        msg = queue.get(timeout=1.0)
                    except queue_mod.Empty:
                        outcome = (
                            "failed",
                            f"The run process ended unexpectedly (exit code {proc.exitcode}).",
                            False,
                        )
                        break
                else:
                    continue
            if msg[0] == "progress":
                self.progress.report(msg[1], msg[2])
            else:
                outcome = msg
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        self.exit_code = proc.exitcode
        kind = outcome[0]
        if kind == "ok":
            self.result = outcome[1]
            self.series = outcome[2] if len(outcome) > 2 else None
            self.succeeded.emit(self.result)
        elif kind == "cancelled":
            self.cancelledRun.emit()
        else:
            self.failed.emit(str(outcome[1]), bool(outcome[2]))


def kill_process_tree(proc: Any) -> None:
    """Terminate the run process and the scheme workers it started (its process group on POSIX)."""
    import os
    import signal

    try:
        if hasattr(os, "killpg") and proc.pid is not None and os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    except (ProcessLookupError, PermissionError, OSError):
        proc.terminate()
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join(timeout=5)


def bug_message(exc: BaseException) -> str:
    """See :func:`gui.runprocess.bug_message` (kept here for callers in the GUI process)."""
    from coordstudio.gui.runprocess import bug_message as _bug

    return _bug(exc)
