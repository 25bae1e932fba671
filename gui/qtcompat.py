"""Work-arounds for defects of the Qt binding, in one place.

``QCoreApplication.processEvents()`` and ``sendPostedEvents()`` (the static methods) of PySide6 6.12 on
Python 3.11 drop one reference to ``None`` per call (measured: -1000 on ``sys.getrefcount(None)`` after
1000 calls); a loop that pumps events a few ten thousand times then aborts the interpreter with "Fatal
Python error: none_dealloc". ``QEventLoop.processEvents()`` (an instance method) does not leak, so every
place that pumps events by hand uses :func:`process_events`.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QEventLoop


@functools.cache
def _event_loop() -> QEventLoop:
    """The one event loop object :func:`process_events` pumps (made on first use, after the app)."""
    return QEventLoop()


def process_events() -> None:
    """Process pending events once (without the None leak of the static ``processEvents``)."""
    _event_loop().processEvents()
