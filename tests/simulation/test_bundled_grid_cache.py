"""pandapower's bundled grids cached on disk (issue 21: setup without rebuilding them from JSON each run).

Reference: a fresh ``pandapower.networks.case33bw()`` (pandapower's own builder, independent of the
cache). Every table of the cached copy must equal it exactly, dtypes included
(``pandas.testing.assert_frame_equal``), and so must every scalar attribute (``sn_mva``, ``f_hz``, ...).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandapower.networks as pn
import pandas as pd
import pytest

import coordstudio.simulation.scenario.bundled_grids as bg
from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.scenario.disk_cache import CACHE_ENV


@pytest.fixture()
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    bg._cached.cache_clear()
    yield tmp_path
    bg._cached.cache_clear()


def _assert_nets_equal(net: Any, ref: Any) -> None:
    assert set(net.keys()) == set(ref.keys())
    for key in ref.keys():
        if isinstance(ref[key], pd.DataFrame):
            pd.testing.assert_frame_equal(net[key], ref[key], check_dtype=True, obj=key)
        elif key not in ("_ppc", "_ppc0", "_ppc1", "_ppc2", "_pd2ppc_lookups", "_is_elements"):
            assert repr(net[key]) == repr(ref[key]), key


def test_bundled_grid_cached_on_disk_equals_pandapower(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = bg.bundled_net("case33bw")
    path = bg.cache_path("case33bw")
    assert path.is_file() and empty_cache in path.parents
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pn.case33bw()
    _assert_nets_equal(first, ref)

    bg._cached.cache_clear()

    def no_builder(*_: Any) -> None:
        raise AssertionError("the cache file was not used")

    monkeypatch.setattr(bg, "cached_net", no_builder)
    again = bg.bundled_net("case33bw")
    _assert_nets_equal(again, ref)
    again.load.loc[again.load.index[0], "p_mw"] = 99.0  # a fresh copy each call: the cache is untouched
    assert bg.bundled_net("case33bw").load.p_mw.iloc[0] == ref.load.p_mw.iloc[0]


def test_damaged_grid_cache_rebuilt_and_unknown_case_named(empty_cache: Path) -> None:
    path = bg.cache_path("create_cigre_network_mv")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x80\x05not a pickle")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pn.create_cigre_network_mv()
    _assert_nets_equal(bg.bundled_net("create_cigre_network_mv"), ref)
    assert path.stat().st_size > 10_000
    with pytest.raises(ScenarioError, match="not a bundled grid"):
        bg.bundled_net("create_bus")
