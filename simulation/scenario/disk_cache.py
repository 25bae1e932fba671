"""The user's cache folder of the scenario builder: files computed once per machine from installed
packages (SimBench's profile tables, pandapower's bundled grids), so a run does not rebuild them.

Every file name carries the versions of the packages it was computed from and its own format number, so
an upgrade never reads an older file; files are written atomically (a temporary file beside the target,
then a rename), so readers never see half a file and two processes filling the cache at once leave one
complete file. A cache that cannot be written (read-only home) only costs the slow path again next time.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

CACHE_ENV = "COORDSTUDIO_CACHE_DIR"
"""Environment variable naming the cache folder (default: ``$XDG_CACHE_HOME/coordstudio`` or
``~/.cache/coordstudio``)."""


def cache_root() -> Path:
    """``$COORDSTUDIO_CACHE_DIR``, else ``$XDG_CACHE_HOME/coordstudio``, else ``~/.cache/coordstudio``
    (a folder in the system's temporary folder when there is no home folder to be found)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "coordstudio"
    try:
        return Path.home() / ".cache" / "coordstudio"
    except (RuntimeError, KeyError, OSError):  # no HOME and no password-database entry
        return Path(tempfile.gettempdir()) / "coordstudio-cache"


def package_version(name: str) -> str:
    """Installed version of distribution ``name`` (``unknown`` if not installed), without importing it."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def safe_name(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_`` (a file name)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> bool:
    """Let ``write(fh)`` fill the file at ``path`` atomically (:func:`simulation.fileio.atomic_save`:
    a temporary file beside it, then a rename); return whether it was written (an OS error is logged and
    swallowed: the cache is an optimisation)."""
    from coordstudio.simulation.fileio import atomic_save

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    try:
        atomic_save(path, fill)
        return True
    except OSError as exc:  # OutputError is an OSError too
        logger.info("cache file %s not written (%s)", path, exc)
        return False


__all__ = ["CACHE_ENV", "cache_root", "package_version", "safe_name", "write_atomically"]
