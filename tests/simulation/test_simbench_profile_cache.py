"""The SimBench profile cache (issue 21: setup without loading the whole SimBench grid on every run).

Reference: simbench's own loader, ``simbench.get_simbench_net(code).profiles`` (through the per-process
``cached_net``, which calls exactly that), compared value for value (exact float64 equality: the cache
stores the loader's arrays, so there is no tolerance to state). The cache is written to a temporary
folder (``COORDSTUDIO_CACHE_DIR``), read back by a fresh lookup, and a damaged file is rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.grid_files import cached_net
from coordstudio.simulation.scenario import default_scenario_spec
from coordstudio.simulation.scenario.build import build_profiles
from coordstudio.simulation.scenario.simbench_profiles import (
    CACHE_ENV,
    PROFILE_TABLES,
    cache_path,
    grid_profile_tables,
)

CODE = "1-MV-rural--0-sw"  # the default study's profile grid


@pytest.fixture()
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    grid_profile_tables.cache_clear()
    yield tmp_path
    grid_profile_tables.cache_clear()


def _assert_equal_to_simbench(tables: dict[str, tuple[list[str], np.ndarray]]) -> None:
    prof = cached_net("simbench", CODE).profiles  # simbench.get_simbench_net(CODE), once per process
    for table in PROFILE_TABLES:
        columns, values = tables[table]
        assert columns == [str(c) for c in prof[table].columns[1:]]
        for j, col in enumerate(columns):
            np.testing.assert_array_equal(values[:, j], prof[table][col].to_numpy(dtype=float))


def test_cache_written_then_read_back_equal_to_simbench_loader(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First lookup: the grid is loaded and the file written; a fresh lookup reads the file (the grid is
    not touched: the loader is made to fail) and gives simbench's values exactly; the default study's
    profiles built from the file equal those built on the loader's path."""
    first = grid_profile_tables(CODE)
    path = cache_path(CODE)
    assert path.is_file() and path.parent.parent == empty_cache
    _assert_equal_to_simbench(first)
    spec = default_scenario_spec()
    via_loader = build_profiles(spec, np.random.default_rng(0))

    grid_profile_tables.cache_clear()
    import coordstudio.simulation.scenario.simbench_profiles as sp

    def no_loader(code: str) -> None:
        raise AssertionError("the cache file was not used")

    monkeypatch.setattr(sp, "_from_grid", no_loader)
    again = grid_profile_tables(CODE)
    via_cache = build_profiles(spec, np.random.default_rng(0))
    _assert_equal_to_simbench(again)
    for name, values in via_loader.items():
        np.testing.assert_array_equal(via_cache[name], values, err_msg=name)


def test_damaged_cache_is_rebuilt_and_unknown_profile_still_named(empty_cache: Path) -> None:
    path = cache_path(CODE)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file")
    tables = grid_profile_tables(CODE)
    _assert_equal_to_simbench(tables)
    assert path.stat().st_size > 100_000  # rewritten with the real tables
    spec = default_scenario_spec()
    spec.profiles.pv_profile = "PV99"
    with pytest.raises(ScenarioError, match=r"no renewables profile 'PV99'.*known: \['PV3'"):
        build_profiles(spec, np.random.default_rng(0))
