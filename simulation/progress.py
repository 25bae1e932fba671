"""Qt-free progress and cancellation protocol shared by the CLI, the GUI worker and the simulation.

A long computation receives an object with two methods: ``report(fraction, message)`` where
``fraction`` is in [0, 1], and ``cancelled() -> bool``, polled between units of work. The GUI passes
an adapter that forwards to Qt signals; the CLI passes a console printer; tests pass
:class:`NullProgress` or :class:`RecordingProgress`. Nothing here imports Qt, so ``simulation/`` and
``cba/`` stay importable without a display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: ``"<task>: step <done>/<total>"`` or ``"<task>: <done>/<total> <unit> ..."``: a counted message, the form
#: :func:`step_message` writes; a console turns each task's counted messages into one progress bar.
_COUNTED = re.compile(r"^(?P<task>[^:]+): (?:step )?(?P<done>\d+)/(?P<total>\d+)(?!\d)")


@runtime_checkable
class Progress(Protocol):
    """What a long computation may call while it runs."""

    def report(self, fraction: float, message: str) -> None:
        """Say how far the work is (``fraction`` in [0, 1]) and what it is doing now."""

    def cancelled(self) -> bool:
        """Return True once the user asked to stop; the computation then raises :class:`RunCancelled`."""


class RunCancelled(Exception):
    """Raised by a computation that noticed ``progress.cancelled()``; not an error of the user's input."""


class NullProgress:
    """Progress sink that ignores reports and never cancels."""

    def report(self, fraction: float, message: str) -> None:  # noqa: D401 - protocol method
        return None

    def cancelled(self) -> bool:
        return False


@dataclass
class RecordingProgress:
    """Progress sink that keeps every report; cancels once ``cancel_after`` reports were made."""

    cancel_after: int | None = None
    reports: list[tuple[float, str]] = field(default_factory=list)

    def report(self, fraction: float, message: str) -> None:
        self.reports.append((fraction, message))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.reports) >= self.cancel_after


class SubProgress:
    """Maps the [0, 1] progress of a sub-task into ``[start, end]`` of a parent progress."""

    def __init__(self, parent: Progress, start: float, end: float) -> None:
        self._parent = parent
        self._start = start
        self._end = end

    def report(self, fraction: float, message: str) -> None:
        f = min(max(fraction, 0.0), 1.0)
        self._parent.report(self._start + (self._end - self._start) * f, message)

    def cancelled(self) -> bool:
        return self._parent.cancelled()


def step_message(task: str, done: int, total: int) -> str:
    """The message of step ``done`` of ``total`` of ``task`` (a scheme's run): ``"CMS: step 9/48"``.

    One function writes the form :func:`parse_counted` reads, so a console can draw one bar per scheme
    from the same ``report(fraction, message)`` channel the GUI reads its progress bar from."""
    return f"{task}: step {done}/{total}"


def parse_counted(message: str) -> tuple[str, int, int] | None:
    """``(task, done, total)`` of a counted message (:func:`step_message`, or ``"sweep: 3/10 runs"``);
    None for a phase message such as ``"cost-benefit analysis"``."""
    m = _COUNTED.match(message)
    if m is None or int(m["total"]) <= 0:
        return None
    return m["task"].strip(), int(m["done"]), int(m["total"])


def check_cancelled(progress: Progress) -> None:
    """Raise :class:`RunCancelled` when the user asked to stop."""
    if progress.cancelled():
        raise RunCancelled("run cancelled by the user")


class SignalCancel:
    """Turns the first Ctrl-C (SIGINT) or SIGTERM into a cancel request; the second Ctrl-C interrupts.

    Why: a ``KeyboardInterrupt`` raised wherever the interpreter happens to be (inside a database
    transaction, a solver call, the pool's bookkeeping) used to mark some runs ``failed`` and leave others
    ``running`` for ever. Used as a context manager around a computation in the main thread, it installs
    signal handlers that only set a flag; :meth:`cancelled` then answers True (and ORs ``parent``'s
    answer), and the computation stops at its next check, marking its runs ``cancelled``. The previous
    handlers come back on exit. Outside the main thread (a GUI worker) it installs nothing.
    """

    def __init__(self, parent: Progress) -> None:
        self._parent = parent
        self._requested = False
        self._previous: dict[int, object] = {}

    def report(self, fraction: float, message: str) -> None:
        self._parent.report(fraction, message)

    def cancelled(self) -> bool:
        return self._requested or self._parent.cancelled()

    def _handle(self, signum: int, _frame: object) -> None:
        import signal

        if self._requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # asked twice: stop now
        self._requested = True

    def __enter__(self) -> SignalCancel:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()
