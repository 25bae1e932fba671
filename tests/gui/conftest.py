"""Shared fixtures of the GUI tests: offscreen Qt, isolated settings, dialogs that never block.

``QStandardPaths.setTestModeEnabled(True)`` sends QSettings and the recovery folder to a test location,
so the tests neither read nor clobber a user's recent files or recovery files (one location per
pytest-xdist worker). ``dialogs`` replaces the
QMessageBox statics with recorders answering a chosen button: a test can assert that an error dialog was
shown, with which message, without a modal dialog blocking the run.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# pytest puts tests/ on sys.path (tests/gui is a package, tests/ is not); tests/simulation and
# tests/sgam then shadow the real packages as namespace packages for any module imported later (the
# simulation's worker processes import simulation.market lazily and got the empty namespace). The
# project root must come first.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QStandardPaths  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

QCoreApplication.setOrganizationName("CoordinationStudioTests")
# one settings file and recovery folder per pytest-xdist worker (`make test` runs two): the fixtures
# clear them, which must not clear a window's under another worker's test
_APP_NAME = f"Coordination Studio Tests {os.environ.get('PYTEST_XDIST_WORKER', '')}".strip()
QCoreApplication.setApplicationName(_APP_NAME)
QStandardPaths.setTestModeEnabled(True)


@dataclass
class DialogRecorder:
    """What the patched QMessageBox statics were asked, and the answer they give to questions."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.No


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    rec = DialogRecorder()

    def critical(_parent: Any, title: str, text: str, *a: Any, **k: Any) -> QMessageBox.StandardButton:
        rec.errors.append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(_parent: Any, _title: str, text: str, *a: Any, **k: Any) -> QMessageBox.StandardButton:
        rec.questions.append(text)
        return rec.answer

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a, **k: None))
    return rec


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    """pytest-qt names the QApplication after its first argument ("pytest-qt-qapp" by default), which
    would give every worker the same settings and recovery folder: the name is the worker's."""
    return [_APP_NAME]


@pytest.fixture
def clean_recovery(qapp: Any) -> Iterator[None]:
    """An empty recovery folder and settings before and after the test (this worker's own)."""
    from PySide6.QtCore import QSettings

    from coordstudio.gui.recovery import recovery_dir

    QCoreApplication.setApplicationName(_APP_NAME)  # whoever made the QApplication first

    shutil.rmtree(recovery_dir(), ignore_errors=True)
    QSettings().clear()
    yield
    shutil.rmtree(recovery_dir(), ignore_errors=True)
    QSettings().clear()


@pytest.fixture
def window(qtbot: Any, dialogs: DialogRecorder, clean_recovery: None) -> Any:
    """The main window on the embedded default study (no recovery prompt, dialogs recorded)."""
    from coordstudio.gui.mainwindow import MainWindow

    w = MainWindow(offer_recovery=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.doc.undo_stack.setClean()  # no save prompt on teardown
    if w.runner is not None and w.runner.isRunning():
        w.runner.cancel()
        w.runner.wait(30_000)
