"""SimBench profile tables without loading the whole SimBench grid on every run.

A scenario whose profiles come from SimBench (``profiles.source: simbench``) needs three columns of a
grid's year of quarter-hours (a load, a PV and a wind profile). ``simbench.get_simbench_net`` builds the
whole grid from the package's CSV files to give them: 23 tables, a 50 MB ``LoadProfile.csv`` among them,
4-5 CPU seconds per process (issue 21). So the grid's profile tables are read that way once per machine
and kept as a small compressed file (:func:`cache_dir`, about 5 MB for ``1-MV-rural--0-sw``) named by
the grid code, simbench's version and this file's format; later runs read the file (some 0.1 s).

The cached tables are the ones simbench's loader gives (``net.profiles["load"]``,
``net.profiles["renewables"]``, without the ``time`` column), value for value (float64, written and read
back bit for bit), with the same columns in the same order: a profile the grid does not apply is missing
from the cache as it is from the grid, so the scenario's error message and its list of known profiles do
not change. A cache that cannot be read (damaged, another format) is rebuilt; one that cannot be written
(read-only home) only costs the full load again next time.
"""

from __future__ import annotations

import functools
import logging
import zipfile
from pathlib import Path

import numpy as np

from coordstudio.simulation.grid_files import cached_net
from coordstudio.simulation.scenario.disk_cache import (
    CACHE_ENV,
    cache_root,
    package_version,
    safe_name,
    write_atomically,
)

logger = logging.getLogger(__name__)

PROFILE_TABLES: tuple[str, ...] = ("load", "renewables")
"""Tables of ``net.profiles`` the scenario reads (load: ``<profile>_pload``/``_qload``; renewables: PV,
wind and the other renewable profiles)."""

CACHE_FORMAT = 1
"""Version of the cache file's layout; part of its name, so a new layout never reads an old file."""


def cache_dir() -> Path:
    """Folder of the SimBench profile cache: ``simbench`` in the user's cache folder
    (:func:`~simulation.scenario.disk_cache.cache_root`)."""
    return cache_root() / "simbench"


def cache_path(code: str) -> Path:
    """Cache file of grid ``code``'s profile tables for the installed simbench version."""
    name = safe_name(f"{code}-simbench{package_version('simbench')}-v{CACHE_FORMAT}")
    return cache_dir() / f"{name}.npz"


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
    arrays: dict[str, np.ndarray] = {}
    for table, (columns, values) in tables.items():
        arrays[f"{table}__columns"] = np.array(columns, dtype=str)
        arrays[f"{table}__values"] = values
    write_atomically(path, lambda fh: np.savez_compressed(fh, **arrays))  # type: ignore[arg-type]


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
