"""Entry of the desktop application: ``run_gui(study_path, screenshots_dir)``.

``main.py gui [STUDY] [--screenshots DIR]`` calls :func:`run_gui`. Without ``--screenshots`` it opens the
main window (on STUDY, or on the embedded default study) and runs the Qt event loop. With it, it renders
each main view to PNG at 1920x1080 and 1366x768 and returns, for documentation and layout checks.

An unexpected exception in a Qt slot would otherwise print a traceback and leave the user wondering; the
hook installed here saves the traceback to a file and shows a dialog naming the error and that file.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

APP_ORG = "CoordinationStudio"
APP_NAME = "Coordination Studio"


def _ensure_app() -> object:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(APP_ORG)
    app.setApplicationName(APP_NAME)
    return app


def install_excepthook() -> None:
    """Show unexpected errors as a dialog (traceback saved to a file), never as a console traceback."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        from coordstudio.gui.mainwindow import user_errors

        if isinstance(exc, user_errors()):
            message = str(exc)
            title = "Error"
        else:
            import tempfile

            fd, name = tempfile.mkstemp(prefix="coordstudio-crash-", suffix=".txt")
            with open(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(traceback.format_exception(exc_type, exc, tb)))
            message = (
                f"Internal error: {exc_type.__name__}: {exc}\n\nThis is a bug in Coordination Studio. "
                f"Please report it with the details saved in {name}."
            )
            title = "Internal error"
        print(message, file=sys.stderr)
        if QApplication.instance() is not None:
            parent = QApplication.activeWindow()
            QMessageBox.critical(parent, title, message)

    sys.excepthook = hook


def run_gui(study_path: str | None, screenshots_dir: str | None) -> int:
    """Open the desktop application (or render screenshots); returns the process exit code."""
    if (
        screenshots_dir is not None
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _ensure_app()
    from coordstudio.cba.study import load_study
    from coordstudio.gui.mainwindow import MainWindow, user_errors

    study = None
    path = None
    open_error = ""
    if study_path:
        try:
            study = load_study(study_path)
            path = Path(study_path).resolve()
        except user_errors() as exc:
            open_error = str(exc)
    if screenshots_dir is not None:
        if open_error:
            print(f"error: {open_error}", file=sys.stderr)
            return 2
        from coordstudio.gui.screenshots import render_screenshots

        files = render_screenshots(Path(screenshots_dir), study, path)
        for f in files:
            print(f)
        return 0
    install_excepthook()
    window = MainWindow(study, path, offer_recovery=True)
    window.show()
    if open_error:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: window.show_error("Cannot open study", open_error))
    return int(app.exec())  # type: ignore[attr-defined]
