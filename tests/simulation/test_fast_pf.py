"""The lean recycled power flow (issue 21: physics cheaper, results unchanged).

References, both independent of :mod:`simulation.physical.fast_pf`:

* pandapower's own recycled power flow, ``pp.runpp(net, recycle=RECYCLE)`` (what the physical layer ran
  before): the columns the lean path writes must equal it bit for bit (same Newton-Raphson, same
  formulas), step after step of a warm-started sequence;
* a plain ``pp.runpp(net, numba=False)`` from a flat start on a copy: equal within the solver's
  tolerance. pandapower stops when the largest power mismatch is below ``tolerance_mva = 1e-8`` (per unit
  of the 1 MVA base, the grids' ``sn_mva``), so voltages agree to about that: asserted to 1e-8 pu, line
  losses to 1e-8 MW, substation draw to 1e-7 MW.

Grids: the default study's feeders (``case33bw``; CIGRE MV with its switches and two transformers) and
its transmission grid (``case30``, generators moved each step).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pytest
from pandapower.auxiliary import LoadflowNotConverged

from coordstudio.simulation.grid_files import cached_net
from coordstudio.simulation.physical.fast_pf import FRESH_COLUMNS, RECYCLE, recycled_pf, supports_recycled_pf


def _runpp(net: Any, **kw: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, **kw)


def _grid(name: str) -> Any:
    """A fresh copy of a bundled grid, read once per process (``cached_net``, as the scenario builder)."""
    net = copy.deepcopy(cached_net("pandapower", name))
    if name == "create_cigre_network_mv":
        net.sgen = net.sgen.iloc[0:0]  # as the scenario builder: DER come from the device groups
    return net


@pytest.mark.parametrize("name", ["case33bw", "create_cigre_network_mv", "case30"])
def test_lean_recycled_pf_equals_pandapower(name: str) -> None:
    ref = _grid(name)
    _runpp(ref)
    lean = copy.deepcopy(ref)
    assert supports_recycled_pf(lean)
    base_p = ref.load.p_mw.to_numpy(float).copy()
    base_q = ref.load.q_mvar.to_numpy(float).copy()
    base_g = ref.gen.p_mw.to_numpy(float).copy()
    rng = np.random.default_rng(7)
    for step in range(3):
        scale = 0.4 + 0.9 * rng.random(base_p.size)
        gscale = 0.8 + 0.4 * rng.random(base_g.size)
        for net in (ref, lean):
            net.load["p_mw"] = base_p * scale
            net.load["q_mvar"] = base_q * scale
            if base_g.size:
                net.gen["p_mw"] = base_g * gscale
        _runpp(ref, init="results", recycle=RECYCLE)
        recycled_pf(lean, clear_stale=step == 0)
        for table, columns in FRESH_COLUMNS.items():
            for col in columns:
                if len(ref[table]):
                    np.testing.assert_array_equal(
                        lean[table][col].to_numpy(float),
                        ref[table][col].to_numpy(float),
                        err_msg=f"{table}.{col}",
                    )
        # a column the lean path does not write is NaN, never the last full power flow's value
        assert lean.res_line.p_from_mw.isna().all() and lean.res_bus.p_mw.isna().all()

        plain = copy.deepcopy(lean)
        _runpp(plain, init="flat")
        np.testing.assert_allclose(lean.res_bus.vm_pu, plain.res_bus.vm_pu, rtol=0, atol=1e-8)
        np.testing.assert_allclose(lean.res_line.pl_mw, plain.res_line.pl_mw, rtol=0, atol=1e-8)
        np.testing.assert_allclose(lean.res_ext_grid.p_mw, plain.res_ext_grid.p_mw, rtol=0, atol=1e-7)


def test_lean_recycled_pf_raises_when_not_converging() -> None:
    net = _grid("case33bw")
    _runpp(net)
    net.load["p_mw"] = net.load.p_mw * 200.0  # far beyond the feeder's loadability
    with pytest.raises(LoadflowNotConverged):
        recycled_pf(net, clear_stale=True)
