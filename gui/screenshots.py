"""Render each main view of a study to PNG, at 1920x1080 and 1366x768 (``gui --screenshots DIR``).

The window is built on the study (the embedded default when none is given), sized to each resolution,
and each central view is brought to the front and grabbed with ``QWidget.grab()``. To show the results
and CBA views with real numbers, a short run of the study is made first (the study's scenario with its
duration cut to ``SCREENSHOT_RUN_HOURS`` and the label saying so); if the run fails, those views are
rendered as they are, saying that no results exist.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from coordstudio.cba.study import Study
from coordstudio.gui.qtcompat import process_events

SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1366, 768))
SCREENSHOT_RUN_HOURS = 4.0
#: (file name, view, sub-tab of the view or None)
SHOTS: tuple[tuple[str, str, str | None], ...] = (
    ("welcome", "welcome", None),
    ("overview", "overview", None),
    ("ict", "ict", None),
    ("scenario", "scenario", None),
    ("results", "results", "KPI comparison"),
    ("results_timeseries", "results", "Time series"),
    ("cba", "cba", None),
    ("draft", "draft", None),
    ("ictcheck", "ictcheck", None),
)


def _settle(app: Any, ms: int = 150) -> None:
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        process_events()
        time.sleep(0.01)


def shortened(study: Study, hours: float) -> Study:
    """A copy of ``study`` simulating only the first ``hours`` (a whole number of clearings)."""
    copy = study.model_copy(deep=True)
    timing = copy.scenario.timing
    period_h = timing.clearing_frequency_min / 60
    n = max(1, int(round(hours / period_h)))
    data = timing.model_dump()
    data["duration_h"] = n * period_h
    copy.scenario.timing = type(timing).model_validate(data)
    return copy


def run_for_screenshots(
    window: Any, app: Any, hours: float = SCREENSHOT_RUN_HOURS, timeout_s: float = 600.0
) -> str:
    """Run a shortened copy of the study in the window's worker thread; returns the outcome."""
    outcome: list[str] = []
    window.runFinished.connect(outcome.append)
    original = window.doc.study
    window.doc.study = shortened(original, hours)
    try:
        started = window.start_run(None)
    finally:
        window.doc.study = original
    if not started:
        return "not started"
    deadline = time.monotonic() + timeout_s
    while not outcome and time.monotonic() < deadline:
        process_events()
        time.sleep(0.02)
    if not outcome:
        window.cancel_run()
        return "timeout"
    return outcome[0]


def render_screenshots(
    out_dir: Path, study: Study | None = None, path: Path | None = None, run: bool = True
) -> list[Path]:
    """Write ``<view>_<width>x<height>.png`` for every main view and size; returns the files."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance()
    out_dir.mkdir(parents=True, exist_ok=True)
    # A screenshot session must never block on a dialog (the originals come back at the end).
    saved = (QMessageBox.critical, QMessageBox.question)
    QMessageBox.critical = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok)  # type: ignore[method-assign]
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.No)  # type: ignore[method-assign]
    try:
        return _render(app, out_dir, study, path, run)
    finally:
        QMessageBox.critical, QMessageBox.question = saved  # type: ignore[method-assign]


def _render(app: Any, out_dir: Path, study: Study | None, path: Path | None, run: bool) -> list[Path]:
    from coordstudio.gui.charts import DRAWER
    from coordstudio.gui.mainwindow import MainWindow

    window = MainWindow(study, path, offer_recovery=False, restore_state=False)
    window.show()
    _settle(app, 300)
    if run:
        outcome = run_for_screenshots(window, app)
        print(f"screenshot run: {outcome}")
        label = window.results.header.text()
        note = f" — shortened to {SCREENSHOT_RUN_HOURS:g} h for the screenshots"
        window.results.header.setText(label + note)
        window._last_label += note
        window.overview.show_cba(window._last_label, window.cba.cba_result)
    window.ict.tabs.setCurrentIndex(2)  # interaction events: the richest table
    files: list[Path] = []
    for width, height in SIZES:
        window.showNormal()
        window.resize(width, height)
        _settle(app, 400)
        needed = window.minimumSizeHint()
        if needed.width() > width or needed.height() > height:
            print(f"warning: the window needs {needed.width()}x{needed.height()}, more than {width}x{height}")
        for name, view, sub_tab in SHOTS:
            window.show_view(view)
            if sub_tab is not None:
                tabs = window.results.right_tabs
                for i in range(tabs.count()):
                    if tabs.tabText(i) == sub_tab:
                        tabs.setCurrentIndex(i)
            _settle(app, 400)
            DRAWER.flush()
            _settle(app, 100)
            target = out_dir / f"{name}_{width}x{height}.png"
            window.grab().save(str(target))
            files.append(target)
    window.doc.undo_stack.setClean()
    window.close()
    return files
