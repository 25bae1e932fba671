"""Run ``cba.study.run_study`` in a worker thread so the window stays responsive.

The computation only sees a Qt-free progress object (``report(fraction, message)``,
``cancelled() -> bool``); :class:`QtProgress` forwards reports as a queued Qt signal to the GUI thread
and answers ``cancelled()`` from a :class:`threading.Event` the Cancel button sets. Reports are
throttled (at most one every 50 ms unless the message changes) so a chatty simulation cannot flood the
event loop. The study handed to the worker is a deep copy: the user can keep editing during a run.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from cba.study import Study


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

    Signals
    -------
    progressed(float, str)
        Fraction done and what is running now.
    succeeded(object)
        The :class:`cba.study.StudyResult`.
    failed(str, bool)
        A message for the user, and whether it is a user-input error (True) or a bug (False, traceback
        saved to a file whose path is in the message).
    cancelled()
        The user stopped the run.
    """

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, bool)
    cancelledRun = Signal()

    def __init__(self, study: Study, schemes: list[str] | None = None, out_dir: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self.schemes = schemes
        self.out_dir = out_dir
        self.progress = QtProgress()
        self.progress.progressed.connect(self.progressed)
        self.result: Any = None

    def cancel(self) -> None:
        """Request cancellation; the run ends at the computation's next check."""
        self.progress.cancel()

    def run(self) -> None:  # executed in the worker thread
        from cba.errors import CbaError, StudyError
        from sgam.errors import SgamError
        from simulation.errors import SimulationError
        from simulation.progress import RunCancelled

        try:
            from cba.study import run_study

            self.result = run_study(self.study, self.progress, out_dir=self.out_dir, schemes=self.schemes)
        except RunCancelled:
            self.cancelledRun.emit()
        except (StudyError, CbaError, SgamError, SimulationError) as exc:
            self.failed.emit(str(exc), True)
        except Exception as exc:  # noqa: BLE001 - a bug: report it without a traceback dialog
            self.failed.emit(bug_message(exc), False)
        else:
            self.succeeded.emit(self.result)


def bug_message(exc: BaseException) -> str:
    """A one-paragraph message for an unexpected error; the traceback goes to a file, not to the user."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix="coordstudio-crash-", suffix=".txt")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return (f"Internal error: {type(exc).__name__}: {exc}\n\nThis is a bug in Coordination Studio. "
            f"Please report it with the details saved in {name}.")
