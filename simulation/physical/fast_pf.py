"""pandapower's recycled Newton-Raphson power flow with only the results the physical layer reads.

Between structural changes (tap, capacitor bank, tripped line) each physical step's power flow of a grid
only has new load and generator powers. pandapower's ``runpp(recycle=...)`` then reuses its internal
model (bus/branch matrices, admittance matrix) and updates the bus powers, but still writes every result
table back into DataFrames: about half of each feeder's power flow, and three quarters of it for a grid
with switches (CIGRE MV; issue 21's profiles), while the simulation reads five columns.

:func:`recycled_pf` runs the same pandapower steps as ``runpp(net, recycle=RECYCLE)`` (pandapower
3.5's ``powerflow._recycled_powerflow``: element powers into the ppc, gen table, ppc to ppci, pandapower's
own Newton-Raphson ``_run_newton_raphson_pf``, results copied back into the ppc, the same convergence
error), then writes only :data:`FRESH_COLUMNS` with pandapower's own formulas (``results_bus``,
``results_branch``, ``results_gen``). So those columns are bit for bit what ``runpp`` writes (tested
against it); every other result column of the net is set to NaN on the first lean power flow after a
full one, so a reader of a column not kept fresh sees NaN, never a stale value. The next full
``runpp(init="results")`` starts from ``res_bus.vm_pu``/``va_degree``, which are kept fresh.

The grids it applies to (:func:`supports_recycled_pf`): AC Newton-Raphson without reactive-power limits,
distributed slack, temperature-dependent lines, DC lines, FACTS or three-winding transformers, i.e. the
feeders and transmission grids the simulation builds; any other grid takes the plain ``runpp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RECYCLE: dict[str, bool] = {"trafo": False, "gen": True, "bus_pq": True}
"""What a recycled power flow updates: bus powers of loads and static generators, the generator table
(set-points of transmission generators, external grids); not the transformer parameters (a tap change is a
structural change and takes a full power flow)."""

FRESH_COLUMNS: dict[str, tuple[str, ...]] = {
    "res_bus": ("vm_pu", "va_degree"),
    "res_line": (
        "pl_mw",
        "i_ka",
        "loading_percent",
        "vm_from_pu",
        "va_from_degree",
        "vm_to_pu",
        "va_to_degree",
    ),
    "res_trafo": ("pl_mw",),
    "res_ext_grid": ("p_mw", "q_mvar"),
}
"""Result columns :func:`recycled_pf` writes (what the physical step, the SCADA, the protections, the
measurements and the next power flow's warm start read); every other result column is NaN after it."""

_UNSUPPORTED_TABLES: tuple[str, ...] = (
    "trafo3w",
    "dcline",
    "xward",
    "ward",
    "impedance",
    "tcsc",
    "svc",
    "ssc",
    "vsc",
    "bus_dc",
    "line_dc",
    "vsc_stacked",
)


def supports_recycled_pf(net: Any) -> bool:
    """Whether :func:`recycled_pf` can take over ``net``'s recycled power flows: a previous full AC
    Newton-Raphson power flow left pandapower's internal model, and the grid has none of the elements and
    options whose results or recycling the lean extraction does not reproduce."""
    if net.get("_ppc") is None or "internal" not in net["_ppc"] or not net.get("converged", False):
        return False
    opts = net.get("_options") or {}
    if (
        opts.get("mode") != "pf"
        or not opts.get("ac", False)
        or opts.get("algorithm") != "nr"
        or opts.get("enforce_q_lims")
        or opts.get("distributed_slack")
        or opts.get("tdpf")
        or opts.get("consider_line_temperature")
    ):
        return False
    return not any(tbl in net and len(net[tbl]) for tbl in _UNSUPPORTED_TABLES)


def recycled_pf(net: Any, clear_stale: bool) -> None:
    """One recycled AC power flow of ``net`` (see the module docstring), warm-started from the last result.

    ``clear_stale``: set every result column outside :data:`FRESH_COLUMNS` to NaN (once after each full
    power flow; they stay NaN while the recycled power flows go on).

    Raises
    ------
    pandapower.auxiliary.LoadflowNotConverged
        The Newton-Raphson did not converge (as ``runpp`` raises it).
    """
    from pandapower.auxiliary import LoadflowNotConverged, _clean_up
    from pandapower.build_gen import _build_gen_ppc
    from pandapower.pd2ppc import _calc_pq_elements_and_add_on_ppc, _ppc2ppci
    from pandapower.pf.run_newton_raphson_pf import _run_newton_raphson_pf
    from pandapower.results import _copy_results_ppci_to_ppc

    # --- pandapower.powerflow._recycled_powerflow, AC Newton-Raphson branch, with recycle=RECYCLE
    options = net["_options"]
    options["recycle"] = dict(RECYCLE)
    options["init_vm_pu"] = "results"
    options["init_va_degree"] = "results"
    internal = net["_ppc"]["internal"]
    ppci = {
        "bus": internal["bus"],
        "gen": internal["gen"],
        "branch": internal["branch"],
        "baseMVA": internal["baseMVA"],
        "internal": internal,
    }
    ppc = net["_ppc"]
    ppc["success"] = False
    ppc["iterations"] = 0.0
    ppc["et"] = 0.0
    _calc_pq_elements_and_add_on_ppc(net, ppc)
    _build_gen_ppc(net, ppc)
    ppc["gen"] = np.nan_to_num(ppc["gen"])
    ppci = _ppc2ppci(ppc, net, ppci=ppci)
    ppci["internal"] = net["_ppc"]["internal"]
    net["_ppc"] = ppc
    result = _run_newton_raphson_pf(ppci, options)
    ppc["success"] = ppci["success"]
    ppc["iterations"] = ppci["iterations"]
    ppc["et"] = ppci["et"]
    # --- pandapower.powerflow._ppci_to_net, with the lean extraction instead of _extract_results
    result = _copy_results_ppci_to_ppc(result, ppc, options["mode"])
    if result["success"] != 1:
        _clean_up(net, res=False)
        raise LoadflowNotConverged(
            f"Power Flow {options['algorithm']} did not converge after {options['max_iteration']} iterations!"
        )
    net["_ppc"] = result
    net["converged"] = True
    _lean_results(net, result)
    if clear_stale:
        _clear_stale(net)


def _lean_results(net: Any, ppc: dict[str, Any]) -> None:
    """:data:`FRESH_COLUMNS` from the solved ppc, each with pandapower 3.5's own formula (the function
    named in each comment), so they equal ``runpp``'s values bit for bit."""
    from pandapower.pypower.idx_brch import F_BUS, PF, PT, QF, QT, T_BUS
    from pandapower.pypower.idx_bus import BASE_KV, BUS_TYPE, NONE, VA, VM
    from pandapower.pypower.idx_gen import PG, QG

    bus = ppc["bus"]
    # results_bus._set_buses_out_of_service (the part the bus results read)
    disco = np.nonzero(bus[:, BUS_TYPE] == NONE)[0]
    bus[disco, VM] = np.nan
    bus[disco, VA] = np.nan
    # results_bus._get_bus_v_results, then results._overwrite_out_of_service for these columns
    bus_idx = net["_pd2ppc_lookups"]["bus"][net["bus"].index.values]
    vm = bus[bus_idx][:, VM]
    va = bus[bus_idx][:, VA]
    oos = ~net["bus"]["in_service"].to_numpy(dtype=bool)
    vm[oos] = np.nan
    va[oos] = np.nan
    net["res_bus"]["vm_pu"] = vm
    net["res_bus"]["va_degree"] = va
    branch = ppc["branch"]
    lookups = net["_pd2ppc_lookups"]["branch"]
    if "line" in lookups or "trafo" in lookups:
        # results_branch._get_branch_flows
        br_idx = branch[:, (F_BUS, T_BUS)].real.astype(np.int64)
        vm_ft = bus[br_idx, VM] * bus[br_idx, BASE_KV]
        s_ft = np.sqrt(branch[:, (PF, PT)].real ** 2 + branch[:, (QF, QT)].real ** 2)
        i_ft = s_ft / vm_ft / np.sqrt(3)
    if "line" in lookups:
        # results_branch._get_line_results
        f, t = lookups["line"]
        pl_mw = branch[f:t, PF].real + branch[f:t, PT].real
        with np.errstate(invalid="ignore"):
            i_ka = np.max(i_ft[f:t], axis=1)
        line = net["line"]
        i_max = line["max_i_ka"].values * line["df"].values * line["parallel"].values
        loading = np.full_like(i_ka, fill_value=np.inf, dtype=np.float64)
        np.divide(i_ka, i_max, where=i_max != 0, out=loading, dtype=np.float64)
        # whole-column assignment (pandapower writes .loc[:, col], the same values, 6x slower); every array
        # written here is new, none a view of the ppc
        res_line = net["res_line"]
        res_line["pl_mw"] = pl_mw
        res_line["i_ka"] = i_ka
        res_line["loading_percent"] = loading * 100
        # the lines' end voltages: pandapower's next full power flow with init="results" reads them (NaN
        # there made a generated MV grid's next full power flow diverge, tests/scale/test_scale_generator.py)
        from_bus = branch[f:t, F_BUS].real.astype(np.int64)
        to_bus = branch[f:t, T_BUS].real.astype(np.int64)
        res_line["vm_from_pu"] = bus[from_bus, VM]
        res_line["va_from_degree"] = bus[from_bus, VA]
        res_line["vm_to_pu"] = bus[to_bus, VM]
        res_line["va_to_degree"] = bus[to_bus, VA]
    if "trafo" in lookups:
        # results_branch._get_trafo_results
        f, t = lookups["trafo"]
        net["res_trafo"]["pl_mw"] = branch[f:t, PF].real + branch[f:t, PT].real
    if len(net["ext_grid"]):
        # results_gen._get_ext_grid_results
        eg_is_mask = net["_is_elements"]["ext_grid"]
        eg_is_idx = net["ext_grid"].index.values[eg_is_mask]
        gen_idx_ppc = net["_pd2ppc_lookups"]["ext_grid"][eg_is_idx]
        n_eg = len(net["ext_grid"])
        p = np.zeros(n_eg)
        q = np.zeros(n_eg)
        p[eg_is_mask] = ppc["gen"][gen_idx_ppc, PG]
        q[eg_is_mask] = ppc["gen"][gen_idx_ppc, QG]
        net["res_ext_grid"]["p_mw"] = p
        net["res_ext_grid"]["q_mvar"] = q


def _clear_stale(net: Any) -> None:
    """Every result column :func:`recycled_pf` does not write becomes NaN (see the module docstring)."""
    for key in list(net.keys()):
        # the power flow's result tables: res_<element> of an element table of the net (not res_bus_est,
        # res_bus_sc, res_bus_3ph of other calculations)
        if not (isinstance(key, str) and key.startswith("res_") and key[4:] in net):
            continue
        frame = net[key]
        if not hasattr(frame, "columns") or not len(frame):
            continue
        keep = FRESH_COLUMNS.get(key, ())
        stale = [c for c in frame.columns if c not in keep]
        if stale:
            frame.loc[:, stale] = np.nan


__all__ = ["FRESH_COLUMNS", "RECYCLE", "recycled_pf", "supports_recycled_pf"]
