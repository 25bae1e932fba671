"""SimBench profile tables without loading the whole SimBench grid on every run.

A scenario whose profiles come from SimBench (``profiles.source: simbench``) needs three columns of a
grid's year of quarter-hours (a load, a PV and a wind profile). ``simbench.get_simbench_net`` builds the
whole grid from the package's CSV files to give them: 23 tables, a 50 MB ``LoadProfile.csv`` among them,
4-5 CPU seconds per process (issue 21). So the grid's profile tables are read that way once per machine
and kept as a small compressed file (:func:`cache_dir`, about 3 MB for ``1-MV-rural--0-sw``) named by
the grid code, simbench's version and this file's format; later runs read the file (some 0.1 s).

The cached tables are the ones simbench's loader gives (``net.profiles["load"]``,
``net.profiles["renewables"]``, without the ``time`` column), value for value (float64, written and read
back bit for bit), with the same columns in the same order: a profile the grid does not apply is missing
from the cache as it is from the grid, so the scenario's error message and its list of known profiles do
not change. A cache that cannot be read (damaged, another format) is rebuilt; one that cannot be written
(read-only home) only costs the full load again next time.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from coordstudio.simulation.grid_files import cached_net

logger = logging.getLogger(__name__)

PROFILE_TABLES: tuple[str, ...] = ("load", "renewables")
"""Tables of ``net.profiles`` the scenario reads (load: ``<profile>_pload``/``_qload``; renewables: PV,
wind and the other renewable profiles)."""

CACHE_FORMAT = 1
"""Version of the cache file's layout; part of its name, so a new layout never reads an old file."""

CACHE_ENV = "COORDSTUDIO_CACHE_DIR"
"""Environment variable naming the cache folder (default: ``$XDG_CACHE_HOME/coordstudio`` or
``~/.cache/coordstudio``)."""


def cache_dir() -> Path:
    """Folder of the SimBench profile cache: ``$COORDSTUDIO_CACHE_DIR/simbench``, else
    ``$XDG_CACHE_HOME/coordstudio/simbench``, else ``~/.cache/coordstudio/simbench``."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = str(Path(xdg) / "coordstudio") if xdg else str(Path.home() / ".cache" / "coordstudio")
    return Path(root) / "simbench"


def cache_path(code: str) -> Path:
    """Cache file of grid ``code``'s profile tables for the installed simbench version."""
    from importlib.metadata import PackageNotFoundError, version

    try:  # the installed distribution's version, without importing simbench (about 1 s)
        simbench_version = version("simbench")
    except PackageNotFoundError:
        simbench_version = "unknown"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{code}-simbench{simbench_version}-v{CACHE_FORMAT}")
    return cache_dir() / f"{safe}.npz"


def _read_cache(path: Path) -> dict[str, tuple[list[str], np.ndarray]] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            out: dict[str, tuple[list[str], np.ndarray]] = {}
            for table in PROFILE_TABLES:
                columns = [str(c) for c in data[f"{table}__columns"]]
                values = np.asarray(data[f"{table}__values"], dtype=float)
                if values.ndim != 2 or values.shape[1] != len(columns):
                    return None
                out[table] = (columns, values)
            return out
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        logger.info("SimBench profile cache %s cannot be read (%s); loading the grid again", path, exc)
        return None


def _write_cache(path: Path, tables: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """Write atomically (temporary file beside it, then rename), so a reader never sees half a file and
    two processes filling the cache at once leave one complete file."""
    import tempfile

    arrays: dict[str, np.ndarray] = {}
    for table, (columns, values) in tables.items():
        arrays[f"{table}__columns"] = np.array(columns, dtype=str)
        arrays[f"{table}__values"] = values
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        logger.info("SimBench profile cache %s not written (%s)", path, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _from_grid(code: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """The profile tables as simbench's own loader gives them (the whole grid, the slow path)."""
    prof = cached_net("simbench", code).profiles
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for table in PROFILE_TABLES:
        frame = prof[table]
        columns = [str(c) for c in frame.columns[1:]]  # the first column is "time"
        values = (
            np.column_stack([frame[c].to_numpy(dtype=float) for c in columns])
            if columns
            else (np.zeros((len(frame), 0)))
        )
        out[table] = (columns, np.ascontiguousarray(values))
    return out


@functools.lru_cache(maxsize=4)
def grid_profile_tables(code: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """Profile tables of SimBench grid ``code``: table -> (column names, values of shape (quarter-hours,
    columns)), from the cache file when there is one, else from simbench's loader (then cached).

    Raises :class:`~simulation.errors.ScenarioError` for an unknown code (from the loader). The arrays
    are shared by every caller of the process: read them, never write into them."""
    path = cache_path(code)
    tables = _read_cache(path)
    if tables is None:
        tables = _from_grid(code)
        _write_cache(path, tables)
    for _, values in tables.values():
        values.setflags(write=False)
    return tables


__all__ = ["CACHE_ENV", "CACHE_FORMAT", "PROFILE_TABLES", "cache_dir", "cache_path", "grid_profile_tables"]
