"""Autosave to a recovery file and the offer to recover after a crash.

While a study has unsaved changes, its current state is written every ``interval_s`` seconds (atomically)
to ``<app data>/recovery/<key>.yaml`` with a small ``<key>.json`` beside it naming the study's own file
and the time. Saving the study or closing the window cleanly deletes both, so a recovery file that exists
at start-up means the previous session ended without saving: the window offers to restore it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from coordstudio.cba.fileio import atomic_write_text
from coordstudio.cba.study import Study, study_to_text


@dataclass(frozen=True)
class RecoveryEntry:
    """One recovery file found at start-up."""

    data_path: Path
    meta_path: Path
    original: str  # the study's own file, '' for an unsaved study
    saved_at: float  # time.time() of the autosave


def recovery_dir() -> Path:
    """Folder of the recovery files (per user, created on demand)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    folder = Path(base or Path.home() / ".coordstudio") / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(original: str) -> str:
    return "untitled" if not original else hashlib.sha1(original.encode()).hexdigest()[:12]


def find_recoveries() -> list[RecoveryEntry]:
    """Recovery files left by sessions that did not end cleanly, newest first."""
    entries = []
    for meta in recovery_dir().glob("*.json"):
        data = meta.with_suffix(".yaml")
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.exists():
            entries.append(
                RecoveryEntry(data, meta, str(info.get("original", "")), float(info.get("saved_at", 0.0)))
            )
    return sorted(entries, key=lambda e: e.saved_at, reverse=True)


def discard(entry: RecoveryEntry) -> None:
    """Delete a recovery file and its description."""
    for p in (entry.data_path, entry.meta_path):
        p.unlink(missing_ok=True)


class Autosaver(QObject):
    """Writes the study to its recovery file while it is dirty; removes the file when saved or closed."""

    def __init__(
        self,
        get_state: Callable[[], tuple[Study, str, bool]],
        interval_s: float = 60.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._get_state = get_state  # -> (study, original path or '', dirty)
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.autosave_now)
        self._timer.start()
        self.last_written: Path | None = None

    def autosave_now(self) -> Path | None:
        """Write the recovery file now if the study is dirty (returns its path)."""
        study, original, dirty = self._get_state()
        if not dirty:
            return None
        return self.write(study, original)

    def write(self, study: Study, original: str) -> Path:
        """Write ``study`` as the recovery copy of ``original``."""
        folder = recovery_dir()
        key = _key(original)
        data = folder / f"{key}.yaml"
        atomic_write_text(data, study_to_text(study))
        atomic_write_text(folder / f"{key}.json", json.dumps({"original": original, "saved_at": time.time()}))
        self.last_written = data
        return data

    def clear(self, original: str) -> None:
        """Forget the recovery copy of ``original`` (after a save or a clean close)."""
        folder = recovery_dir()
        key = _key(original)
        for suffix in (".yaml", ".json"):
            (folder / f"{key}{suffix}").unlink(missing_ok=True)
        if original:
            for suffix in (".yaml", ".json"):
                (folder / f"untitled{suffix}").unlink(missing_ok=True)
