"""Tier 2: ``run_study`` runs in the worker thread; the event loop keeps turning; Cancel stops it.

The default study simulates several representative days; to keep this suite fast on a shared 2-core
machine the study simulates its one day (``representative_days: 0``), cut to one hour (one clearing period
of the default timing), and two schemes (the reference CMS and LMS). Everything else is the embedded
default study, unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import QTimer

pytestmark = pytest.mark.serial  # timing or signals: run alone after the parallel pass (Makefile)

RUN_TIMEOUT_MS = 240_000


def _shorten(window: Any, hours: float = 1.0) -> None:
    """``hours`` of the study's one day (``representative_days: 0``, as tests/one_day_study.py)."""
    timing = window.doc.study.scenario.timing
    window.doc.study.scenario.timing = type(timing).model_validate(
        {**timing.model_dump(), "duration_h": hours}
    )
    profiles = window.doc.study.scenario.profiles
    window.doc.study.scenario.profiles = type(profiles).model_validate(
        {**profiles.model_dump(), "representative_days": 0}
    )


class Heartbeat:
    """A 20 ms QTimer recording the largest gap between two of its ticks (the event loop's stalls)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.max_gap_s = 0.0
        self.where = ""
        self.context = ""
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self.last > self.max_gap_s:
            self.max_gap_s = now - self.last
            self.where = self.context
        self.last = now
        self.ticks += 1

    def start(self) -> None:
        self.last = time.monotonic()
        self.timer.start()


def test_run_completes_in_the_worker_while_the_event_loop_stays_responsive(
    window: Any, qtbot: Any, dialogs: Any
) -> None:
    _shorten(window)
    qtbot.wait(300)  # the window's first paint is not part of the run
    beat = Heartbeat()
    progress: list[tuple[float, str]] = []
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        beat.start()
        assert window.start_run(["CMS", "LMS"])
        window.runner.progressed.connect(lambda f, m: progress.append((f, m)))
        window.runner.progressed.connect(lambda f, m: setattr(beat, "context", m))
        window.runFinished.connect(lambda s: setattr(beat, "context", "finished " + s))
        assert not window.act_run.isEnabled() and window.scenario.cancel_button.isEnabled()
    beat.timer.stop()
    assert finished.args == ["succeeded"], dialogs.errors
    assert beat.ticks > 10
    # 0.5 s: a hang a user notices. Measured: 0.12-0.14 s after 'done' alone (the result shown a step per
    # event-loop pass), once 0.213 s before the first progress message in the clean-clone suite (the
    # worker thread starting the run process; start_run's own validation and snapshot take 6 ms), and
    # 0.45-1.2 s under a load of 6-9; running the study on the GUI thread blocks for many seconds.
    assert beat.max_gap_s < 0.5, f"event loop blocked for {beat.max_gap_s:.3f} s after '{beat.where}'"
    assert progress and progress[-1][0] == pytest.approx(1.0)

    result = window.cba.run_result
    assert [k.scheme for k in result.kpis] == ["CMS", "LMS"]
    assert all(k.duration_h == pytest.approx(1.0) for k in result.kpis)
    # The KPI table shows the run's numbers; the CBA view shows run_cba's figures for them.
    table = window.results.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == ["CMS", "LMS"]
    row = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())].index("Activation cost [EUR]")
    shown = float(table.item(row, 1).text().replace(",", ""))
    # shown rounded to the euro from 100 EUR, else to 3 significant digits
    assert shown == pytest.approx(result.kpis[1].activation_cost_eur, abs=0.5 + 5e-3 * abs(shown))
    assert {s.scheme for s in window.cba.cba_result.schemes} == {"CMS", "LMS"}
    assert window.act_run.isEnabled() and not window.scenario.cancel_button.isEnabled()
    assert window.tabs.tabText(window.tabs.indexOf(window.results)).endswith("●")  # flagged, not switched
    assert window.scenario.results_button.isEnabled()
    window.scenario.results_button.click()
    assert window.tabs.currentWidget() is window.results
    assert window.tabs.tabText(window.tabs.indexOf(window.results)) == "Simulation results"
    # The time series come from the run's results database: one clearing per simulated hour and scheme.
    series = window.runs[0][2].unpack()
    assert not series.error
    assert sorted(series.clearings.groupby("scheme").size().items()) == [("CMS", 1), ("LMS", 1)]
    window.results.right_tabs.setCurrentWidget(window.results.timeseries)
    qtbot.waitUntil(lambda: window.results.timeseries.price_mode.count() == 3, timeout=5000)
    assert any(
        window.explorer.topLevelItem(i).text(0) == "Runs (1)"
        for i in range(window.explorer.topLevelItemCount())
    )


def test_cancel_stops_the_run(window: Any, qtbot: Any, dialogs: Any) -> None:
    _shorten(window)
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert window.start_run(["CMS", "LMS"])
        qtbot.waitUntil(
            lambda: window.scenario.progress.value() > 0 or window.scenario.log.blockCount() > 1,
            timeout=60_000,
        )
        window.cancel_run()
    assert finished.args == ["cancelled"]
    assert dialogs.errors == []
    assert "Cancelled" in window.scenario.status.text()
    assert window.cba.run_result is None and window.runs == []
    qtbot.waitUntil(lambda: not window.runner.isRunning(), timeout=30_000)
    assert window.act_run.isEnabled()


def test_a_run_that_does_not_stop_by_itself_is_terminated(window: Any, qtbot: Any, dialogs: Any) -> None:
    """With no grace period, Cancel stops the run process (and its process group) at once instead of
    waiting for the computation's next cancellation check; the window is ready for another run."""
    import os

    _shorten(window)
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert window.start_run(["CMS", "LMS"])
        window.runner.cancel_grace_s = 0.0
        qtbot.waitUntil(lambda: window.scenario.log.blockCount() > 1, timeout=60_000)
        window.cancel_run()
    assert finished.args == ["cancelled"]
    assert dialogs.errors == []
    qtbot.waitUntil(lambda: not window.runner.isRunning(), timeout=30_000)
    assert window.runner.exit_code is not None and window.runner.exit_code < 0  # ended by a signal
    if hasattr(os, "killpg"):
        qtbot.wait(500)
        with pytest.raises(ProcessLookupError):  # no process of the run's group is left
            os.killpg(window.runner.pid, 0)
    assert window.act_run.isEnabled()
