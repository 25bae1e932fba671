"""pandapower's bundled grids (``case30``, ``case33bw``, CIGRE MV, ...) without rebuilding them each run.

``pandapower.networks.case30()`` and its kind read a JSON file and convert it table by table (0.6-0.7
CPU s each for the default study's ``case30`` and ``case33bw``; 0.2 s for CIGRE MV, built element by
element): 1.5 of the 3 CPU s a run's ``build_scenario`` cost once the SimBench profiles were cached (issue
21). The net pandapower returns is therefore pickled once per machine into the user's cache folder
(:func:`~simulation.scenario.disk_cache.cache_root`, ``pandapower/``), named by the case and the versions
of pandapower, pandas and numpy (a pickled DataFrame is tied to them); a run reads it back in about
0.01 s. The pickle is the very object pandapower built, so every table, dtype and attribute is the same
(tested against a fresh ``pandapower.networks`` call).

Only names of :data:`simulation.grid_files.PANDAPOWER_CASES` are cached (any other name goes to
:func:`simulation.grid_files.load_net`, which names the error). The cache folder is the user's own
(files written with the umask's mode, like every output); a file that cannot be read back as a
pandapower net is rebuilt.
"""

from __future__ import annotations

import copy
import functools
import logging
import pickle
from pathlib import Path
from typing import Any

from coordstudio.simulation.grid_files import PANDAPOWER_CASES, cached_net, load_net
from coordstudio.simulation.scenario.disk_cache import (
    cache_root,
    package_version,
    safe_name,
    write_atomically,
)

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
"""Version of the cache files' layout; part of their names."""


def cache_path(case_name: str) -> Path:
    """Cache file of bundled grid ``case_name`` for the installed pandapower, pandas and numpy."""
    versions = "-".join(f"{p}{package_version(p)}" for p in ("pandapower", "pandas", "numpy"))
    return cache_root() / "pandapower" / f"{safe_name(f'{case_name}-{versions}-v{CACHE_FORMAT}')}.pkl"


def _read(path: Path) -> Any | None:
    from pandapower.auxiliary import pandapowerNet

    try:
        with open(path, "rb") as fh:
            net = pickle.load(fh)  # noqa: S301  (the user's own cache file, written by _cached below)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or foreign file: any unpickling error means "rebuild"
        logger.info("grid cache %s cannot be read (%s); building the grid again", path, exc)
        return None
    return net if isinstance(net, pandapowerNet) else None


@functools.lru_cache(maxsize=16)
def _cached(case_name: str) -> Any:
    path = cache_path(case_name)
    net = _read(path)
    if net is None:
        net = cached_net("pandapower", case_name)
        write_atomically(path, lambda fh: pickle.dump(net, fh, protocol=pickle.HIGHEST_PROTOCOL))
    return net


def bundled_net(case_name: str) -> Any:
    """A fresh copy of pandapower bundled grid ``case_name`` (read once per machine, then from the cache;
    once per process from memory). An unknown name raises the :class:`ScenarioError` of
    :func:`simulation.grid_files.load_net`."""
    if case_name not in PANDAPOWER_CASES:
        return load_net("pandapower", case_name)
    return copy.deepcopy(_cached(case_name))


__all__ = ["CACHE_FORMAT", "bundled_net", "cache_path"]
