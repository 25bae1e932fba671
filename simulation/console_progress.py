"""Progress and log records on the console: one bar per running scheme on a terminal, a few lines in a log.

The computation reports through the one channel the GUI also reads (``report(fraction, message)``,
:mod:`simulation.progress`). A scheme's run reports ``"CMS: step 9/48"`` (:func:`~simulation.progress.
step_message`) after every physical step; everything else is a phase ("building the scenario",
"cost-benefit analysis"). :class:`ConsoleProgress` turns

* on a terminal (stderr is one), each counted task (a scheme, the sweep) into one ``tqdm`` bar on stderr,
  redrawn in place, with the phases as lines above the bars;
* anywhere else (a CI log, a file, a pipe), plain lines on stdout: the phases and, per task, a line at
  every quarter of its steps and at most every ``line_interval_s`` seconds in between, a log a person reads
  afterwards, not the ~130 lines of one line per couple of steps it used to be;
* under ``quiet``, into nothing at all.

Why tqdm and not rich: tqdm is already installed with the core dependencies (pandapower and tsam require
it), draws several bars at fixed positions with nothing else, and writes plain text when asked; rich would
be a new dependency for the same bars. Bars go to stderr, the terminal's, so ``coordstudio run > file``
keeps them on the screen and the table in the file. Lines go to stdout, where ``simulate`` always wrote
them, so stderr keeps its contract: a command refused for bad input writes exactly one line there, even
when the refusal comes after the first progress lines (a feeder that does not solve). ``--quiet`` leaves
stdout to the result alone.

:class:`ConsoleLogHandler` writes log records through ``tqdm.write`` so a warning printed while bars run
appears above them instead of tearing them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

from coordstudio.simulation.progress import parse_counted

#: Fractions of a task at which the plain-lines mode prints a line (besides the time-based ones).
_QUARTERS = 4


class ConsoleProgress:
    """Progress sink of the command line (see the module docstring); a context manager that closes its
    bars on exit, so the terminal's cursor ends below them.

    Parameters
    ----------
    quiet: print nothing.
    stream: where bars go (default: ``sys.stderr`` at the time of each write).
    bars: draw bars (default: when ``stream`` is a terminal).
    line_stream: where plain lines go when no bars are drawn (default: ``sys.stdout`` at each write).
    phase_interval_s: a phase repeated within this many seconds (same text before the first ``:``) is
        printed once.
    line_interval_s: in the plain-lines mode, the longest silence of a running task.
    """

    def __init__(
        self,
        quiet: bool = False,
        stream: TextIO | None = None,
        bars: bool | None = None,
        line_stream: TextIO | None = None,
        phase_interval_s: float = 2.0,
        line_interval_s: float = 30.0,
    ) -> None:
        self._quiet = quiet
        self._stream = stream
        self._line_stream = line_stream
        self._bars_wanted = bars
        self._phase_interval_s = phase_interval_s
        self._line_interval_s = line_interval_s
        self._t0 = time.perf_counter()
        self._phase = ""
        self._phase_t = -float("inf")
        self._bars: dict[str, Any] = {}  # task -> tqdm bar
        self._lines: dict[str, tuple[int, float]] = {}  # task -> (quarter, time) of its last line

    @property
    def stream(self) -> TextIO:
        """The stream bars go to."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def line_stream(self) -> TextIO:
        """The stream plain lines go to."""
        return self._line_stream if self._line_stream is not None else sys.stdout

    @property
    def drawing_bars(self) -> bool:
        """True when bars are drawn (``bars`` given, or the stream is a terminal)."""
        if self._bars_wanted is not None:
            return self._bars_wanted
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def report(self, fraction: float, message: str) -> None:
        if self._quiet:
            return
        counted = parse_counted(message)
        now = time.perf_counter()
        if counted is None:
            self._report_phase(fraction, message, now)
        elif self.drawing_bars:
            self._update_bar(*counted)
        else:
            self._report_line(fraction, message, now, *counted)

    def cancelled(self) -> bool:
        return False

    def close(self) -> None:
        """Close the bars (their last state stays on the terminal)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ internals

    def _line(self, fraction: float, message: str, now: float) -> str:
        return f"[{100 * fraction:5.1f} % {now - self._t0:6.1f} s] {message}"

    def _write(self, text: str) -> None:
        if self._bars:
            from tqdm import tqdm

            tqdm.write(text, file=self.stream)  # above the bars, which are redrawn below it
        else:
            print(text, file=self.stream if self.drawing_bars else self.line_stream, flush=True)

    def _report_phase(self, fraction: float, message: str, now: float) -> None:
        phase = message.split(":", 1)[0]
        if phase == self._phase and now - self._phase_t < self._phase_interval_s:
            return
        self._phase, self._phase_t = phase, now
        self._write(self._line(fraction, message, now))

    def _update_bar(self, task: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self._bars.get(task)
        if bar is None:
            width = self._fixed_width()
            bar = tqdm(total=total, desc=task, position=len(self._bars), leave=True, file=self.stream,
                       unit="step", dynamic_ncols=width is None, ncols=width,
                       nrows=None if width is None else 24, mininterval=0.2)
            self._bars[task] = bar
        elif done < bar.n or total != bar.total:
            bar.reset(total=total)  # the task started again (the next representative day)
        bar.update(done - bar.n)

    def _fixed_width(self) -> int | None:
        """None (follow the terminal's width) unless the terminal reports no width (a pseudo-terminal
        nobody sized, as some CI runners open): then 80 columns, where tqdm would draw empty bars."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return 80
        return None if columns > 0 else 80

    def _report_line(self, fraction: float, message: str, now: float, task: str, done: int,
                     total: int) -> None:
        quarter = _QUARTERS * done // total  # 4 only when done: completion always prints, once
        last = self._lines.get(task)
        if last is not None and quarter == last[0] and now - last[1] < self._line_interval_s:
            return
        self._lines[task] = (quarter, now)
        self._write(self._line(fraction, message, now))


class ConsoleLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes each record through ``tqdm.write``: above any progress bars on the
    terminal, as a plain line elsewhere. The stream is looked up at each record (``sys.stderr`` by default),
    so a test capturing stderr captures the records too."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._fixed = stream
        self._pid = os.getpid()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self._fixed if self._fixed is not None else sys.stderr
            if os.getpid() != self._pid:
                # a forked worker inherited this handler and a copy of the parent's bars: writing through
                # tqdm there would redraw bars the parent owns
                stream.write(self.format(record) + "\n")
                stream.flush()
                return
            from tqdm import tqdm

            tqdm.write(self.format(record), file=stream)
        except Exception:  # noqa: BLE001 - logging must never raise into the computation
            self.handleError(record)
