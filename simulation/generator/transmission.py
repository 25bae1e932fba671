"""Transmission grids of a target size from pandapower's PEGASE cases (real European grid data).

The seed's Italian data set has 3,648 transmission nodes; no public grid has exactly that many, so the
generator takes the smallest PEGASE case with at least the target number of buses and *reduces* it to a
contiguous region, or *extends* the largest one when the target is bigger.

Reduction (flow-preserving cut). An AC power flow of the whole case is solved; a breadth-first search
from the slack bus over the in-service branches keeps the first ``n`` buses reached, which is a connected,
compact region. Every branch cut at the region's border is replaced by a fixed load at its kept end
equal to the AC flow that left the region through it (``P_from + jQ_from`` of the power flow). With the
slack kept, the reduced grid's power flow reproduces the full case's voltages at every kept bus exactly
(up to solver tolerance): the kept buses see the same injections. The border equivalents are named
``boundary equivalent`` so later steps can tell them from real loads.

Extension. New buses are attached radially, each by one line of the parent bus's voltage level (typical
overhead-line data for that level, assumption), to load buses of the case; a share of the parent's load
moves to the new bus, so total load is unchanged and every new bus carries load.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from coordstudio.simulation.errors import ScenarioError

PEGASE_CASES: tuple[tuple[str, int], ...] = (
    ("case89pegase", 89),
    ("case1354pegase", 1354),
    ("case2869pegase", 2869),
    ("case9241pegase", 9241),
)
"""pandapower's PEGASE cases (European high-voltage grid, Fliscounakis et al. 2013 / Josz et al. 2016,
distributed with MATPOWER and pandapower) and their bus counts."""

BOUNDARY_LOAD_NAME = "boundary equivalent"

# Typical overhead-line data per voltage level for the extension (assumption: order of magnitude of
# ACSR lines, e.g. Oeding/Oswald, Elektrische Kraftwerke und Netze, tables of line parameters).
_LINE_DATA_BY_KV: tuple[tuple[float, float, float, float, float], ...] = (
    # vn_kv up to, r_ohm_per_km, x_ohm_per_km, c_nf_per_km, max_i_ka
    (160.0, 0.12, 0.39, 9.5, 0.65),
    (250.0, 0.08, 0.32, 11.5, 1.0),
    (1e9, 0.03, 0.26, 13.7, 2.0),
)


@dataclass
class ResizeReport:
    """What :func:`resize_transmission` did (recorded in the generated scenario's notes)."""

    source_case: str
    source_buses: int
    target_buses: int
    method: str
    boundary_equivalents: int
    max_vm_deviation_pu: float
    """Largest |vm| difference between the reduced grid's and the full case's power flow at kept buses."""


def pegase_case_for(n_buses: int) -> str:
    """The smallest PEGASE case with at least ``n_buses`` buses (the largest one if none is big enough)."""
    for name, size in PEGASE_CASES:
        if size >= n_buses:
            return name
    return PEGASE_CASES[-1][0]


def _load_case(name: str) -> Any:
    import pandapower.networks as pn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(pn, name)()


def _runpp(net: Any) -> None:
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # pandapower's own Newton-Raphson whatever is installed (see scenario.build.run_pf)
        pp.runpp(net, numba=False, init="dc", max_iteration=30, lightsim2grid=False)


def _branch_ends(net: Any) -> list[tuple[str, str, str, str, str, str, str]]:
    """(table, from column, to column, P from, Q from, P to, Q to) of each branch table in use."""
    out = []
    for tbl, a, b, pa, qa, pb, qb in (
        ("line", "from_bus", "to_bus", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar"),
        ("trafo", "hv_bus", "lv_bus", "p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar"),
        ("impedance", "from_bus", "to_bus", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar"),
    ):
        if tbl in net and len(net[tbl]):
            out.append((tbl, a, b, pa, qa, pb, qb))
    for tbl in ("trafo3w", "dcline"):
        if tbl in net and len(net[tbl]):
            raise ScenarioError(f"transmission grid: table {tbl} is not supported by the reduction")
    return out


PLACEHOLDER_TRAFO_MVA = 99.999
"""Rating pandapower's MATPOWER converter gives a transformer whose ``rate_a`` is 0 (no rating in the data:
1,780 of case9241pegase's 2,252 transformers). Read literally it is a 100 MVA limit that 516 of them exceed
in the case's own power flow, which makes every market clearing shed load."""

PLACEHOLDER_LINE_KA = 1e3
"""Line currents at or above this are pandapower's placeholder for a line without a rating (99999 kA from
``rate_a`` = 0: 7,974 of case9241pegase's 13,797 lines)."""

BASE_FLOW_MARGIN = 0.5
"""Every transmission branch is rated at least ``1 + margin`` times its apparent flow in the case's own AC
power flow (loading at most 67 %). N-1 planning keeps an intact grid's branches around half loaded so that
each can take over a parallel branch's flow; the platform's schedule also moves flows off the PEGASE
dispatch (loads replaced by device draws, 46 GW of plants added, generators scaled), and the market needs
that room to re-dispatch."""

MIN_COMPARABLE = 5
"""Rated transformers (lines) of the same voltage pair (level) needed to use their median; otherwise the
median over every rated transformer (line) of the case."""


def _median_by(keys: np.ndarray, values: np.ndarray, rated: np.ndarray, fallback: float) -> np.ndarray:
    """Per row: the median of ``values`` over the rated rows with the same key (at least
    :data:`MIN_COMPARABLE` of them), else ``fallback``."""
    out = np.full(keys.size, fallback, dtype=float)
    for key in np.unique(keys):
        same = keys == key
        ref = values[same & rated]
        if ref.size >= MIN_COMPARABLE:
            out[same] = float(np.median(ref))
    return out


def _scale_trafo_rating(net: Any, new_sn: np.ndarray) -> None:
    """Set ``sn_mva`` keeping each transformer's impedance: ``vk_percent``/``vkr_percent`` scale with
    ``sn_mva`` and ``i0_percent`` inversely (pandapower's per-unit impedance is ``vk/100 * vn^2/sn``)."""
    factor = new_sn / net.trafo.sn_mva.to_numpy(float)
    net.trafo["sn_mva"] = new_sn
    net.trafo["vk_percent"] = net.trafo.vk_percent * factor
    net.trafo["vkr_percent"] = net.trafo.vkr_percent * factor
    if "i0_percent" in net.trafo:
        net.trafo["i0_percent"] = net.trafo.i0_percent / factor


def rate_transmission_branches(net: Any, margin: float = BASE_FLOW_MARGIN) -> dict[str, int]:
    """Rate the branches of a solved PEGASE-like ``net`` from the case's own data (see docs/scale.md).

    * Transformers without a rating (:data:`PLACEHOLDER_TRAFO_MVA`): the rating their own impedance implies
      for the short-circuit voltage of comparable rated transformers of the case,
      ``sn = 100 MVA x uk_ref / x_pu`` (``x_pu`` on the case's 100 MVA base; ``uk_ref`` the median
      ``vk_percent`` of rated transformers with the same primary and secondary voltage, else of all rated
      ones), clipped to the range of the case's rated transformers (377-1,711 MVA in case9241pegase: a
      rating outside it has no support in the data). A transformer's rating and its short-circuit
      impedance go together (uk of large power transformers roughly 10-20 %; IEC 60076-5 minimums).
    * Lines without a rating (:data:`PLACEHOLDER_LINE_KA`): the median ``max_i_ka`` of rated lines of the
      same voltage level, else of all rated lines.
    * Then every branch, rated in the data or not, at least ``(1 + margin)`` x its flow in the case's power
      flow (the case's operating point is taken as secure).

    Transformer impedances are kept (``vk``/``vkr`` scale with ``sn_mva``), so the power flow does not
    change. Returns counts: ``trafo_unrated``, ``line_unrated`` (rated here), ``trafo_raised``,
    ``line_raised`` (rated in the data, raised to the base-flow floor)."""
    counts = {"trafo_unrated": 0, "line_unrated": 0, "trafo_raised": 0, "line_raised": 0}
    if len(net.trafo) and "res_trafo" in net and len(net.res_trafo) == len(net.trafo):
        sn = net.trafo.sn_mva.to_numpy(float)
        unrated = np.isclose(sn, PLACEHOLDER_TRAFO_MVA, rtol=0, atol=1e-6)
        vn = net.bus.vn_kv
        # voltage pair as one key: primary kV x 1e4 + secondary kV
        pair = vn.loc[net.trafo.hv_bus].to_numpy(float) * 1e4 + vn.loc[net.trafo.lv_bus].to_numpy(float)
        vk = net.trafo.vk_percent.to_numpy(float)
        rated = ~unrated & (vk > 0)
        new = sn.copy()
        if rated.any():
            uk_ref = _median_by(pair, vk, rated, float(np.median(vk[rated])))
            x_pu = np.maximum(vk, 1e-6) / 100.0 * (100.0 / sn)
            implied = 100.0 * (uk_ref / 100.0) / x_pu
            new = np.where(unrated, np.clip(implied, sn[rated].min(), sn[rated].max()), sn)
        # flow as pandapower measures a transformer's loading: current x rated voltage
        s_hv = np.sqrt(3) * net.res_trafo.i_hv_ka.to_numpy(float) * net.trafo.vn_hv_kv.to_numpy(float)
        s_lv = np.sqrt(3) * net.res_trafo.i_lv_ka.to_numpy(float) * net.trafo.vn_lv_kv.to_numpy(float)
        par = net.trafo.parallel.to_numpy(float) if "parallel" in net.trafo else np.ones(len(net.trafo))
        floor = (1.0 + margin) * np.nan_to_num(np.maximum(s_hv, s_lv)) / np.maximum(par, 1.0)
        counts["trafo_raised"] = int((~unrated & (floor > sn)).sum())
        counts["trafo_unrated"] = int(unrated.sum())
        new = np.maximum(new, floor)
        _scale_trafo_rating(net, new)
    if len(net.line) and "res_line" in net and len(net.res_line) == len(net.line):
        imax = net.line.max_i_ka.to_numpy(float)
        unrated = imax >= PLACEHOLDER_LINE_KA
        level = net.bus.vn_kv.loc[net.line.from_bus].to_numpy(float)
        rated = ~unrated & (imax > 0)
        new = imax.copy()
        if rated.any():
            new = np.where(unrated, _median_by(level, imax, rated, float(np.median(imax[rated]))), imax)
        i_base = np.nan_to_num(net.res_line.i_ka.to_numpy(float)) / np.maximum(
            net.line.parallel.to_numpy(float) if "parallel" in net.line else 1.0, 1.0
        )
        floor = (1.0 + margin) * i_base
        counts["line_raised"] = int((~unrated & (floor > imax)).sum())
        counts["line_unrated"] = int(unrated.sum())
        net.line["max_i_ka"] = np.maximum(new, floor)
    return counts


SCHEDULED_SGEN_NAME = "static generator (scheduled)"
"""Name of a generator made from one of the case's static generators by :func:`schedule_static_generators`."""


def schedule_static_generators(net: Any) -> int:
    """Turn the static generators of a solved ``net`` into generators (``net.gen``) the platform schedules.

    PEGASE's generators at PQ buses come out of pandapower's converter as static generators (137 of them,
    16.6 GW, in the Italian region) with no ``max_p_mw``. The platform schedules ``net.gen`` (scaled to the
    demand, with aFRR shares and bids by ``max_p_mw``) and would leave static generators at their fixed
    output, outside its balance, for the slack bus to absorb. Each becomes a generator at its bus with the
    same ``p_mw``, ``max_p_mw = p_mw / u`` (``u`` the median ``p_mw / max_p_mw`` of the case's generators
    producing, 0.64 in case9241pegase; ``p_mw`` itself when there is none), ``min_p_mw`` 0, and the voltage
    of the power flow as set-point, so the case's power flow is unchanged (the reactive power it drew is
    now what holds that voltage). Returns how many were converted."""
    import pandapower as pp

    if "sgen" not in net or len(net.sgen) == 0:
        return 0
    sg = net.sgen[net.sgen.in_service.astype(bool)]
    gens = net.gen
    util = 1.0
    if len(gens) and "max_p_mw" in gens:
        p, pmax = gens.p_mw.to_numpy(float), gens.max_p_mw.to_numpy(float)
        ok = (p > 0) & np.isfinite(pmax) & (pmax > 0)
        if ok.any():
            util = float(np.clip(np.median(p[ok] / pmax[ok]), 0.05, 1.0))
    ext_vm = dict(zip(net.ext_grid.bus.astype(int), net.ext_grid.vm_pu.astype(float), strict=True))
    gen_vm = dict(zip(gens.bus.astype(int), gens.vm_pu.astype(float), strict=False)) if len(gens) else {}
    scaling = sg.scaling.to_numpy(float) if "scaling" in sg else np.ones(len(sg))
    for (_, row), sc in zip(sg.iterrows(), scaling, strict=True):
        bus = int(row.bus)
        p_mw = float(row.p_mw) * float(sc)
        vm = ext_vm.get(bus, gen_vm.get(bus, float(net.res_bus.vm_pu.at[bus])))
        pp.create_gen(
            net,
            bus,
            p_mw=p_mw,
            vm_pu=vm,
            max_p_mw=max(p_mw, 0.0) / util,
            min_p_mw=0.0,
            max_q_mvar=float(gens.max_q_mvar.max()) if len(gens) and "max_q_mvar" in gens else 1e4,
            min_q_mvar=float(gens.min_q_mvar.min()) if len(gens) and "min_q_mvar" in gens else -1e4,
            name=SCHEDULED_SGEN_NAME,
        )
    net.sgen = net.sgen.drop(sg.index)
    return len(sg)


def reduce_transmission(net: Any, n_buses: int, name: str = "grid") -> tuple[Any, ResizeReport]:
    """A connected region of ``n_buses`` buses of ``net`` with flow-preserving border equivalents.

    See the module docstring for the method. The returned net has buses numbered 0..n-1.
    """
    import networkx as nx
    import pandapower as pp
    import pandapower.toolbox as tb
    import pandapower.topology as top

    full = net
    _runpp(full)
    if not full.converged:
        raise ScenarioError(f"transmission grid {name}: its own power flow does not converge")
    if len(full.ext_grid) == 0:
        raise ScenarioError(f"transmission grid {name}: has no ext_grid (slack) to grow the region from")
    rate_transmission_branches(full)
    if schedule_static_generators(full):
        _runpp(full)  # same voltages, so the same flows; refreshes the results of the new generators
    slack = int(full.ext_grid.bus.iloc[0])
    graph = top.create_nxgraph(full, respect_switches=True, include_out_of_service=False)
    order = list(nx.bfs_tree(graph, slack))
    if len(order) < n_buses:
        raise ScenarioError(
            f"transmission grid {name}: its slack's connected part has {len(order)} buses, "
            f"fewer than {n_buses}"
        )
    keep = order[:n_buses]
    keep_set = set(keep)
    # border flows from the full power flow
    eq_p: dict[int, float] = {}
    eq_q: dict[int, float] = {}
    for tbl, a, b, pa, qa, pb, qb in _branch_ends(full):
        df = full[tbl]
        res = full[f"res_{tbl}"]
        on = df.in_service.to_numpy(bool)
        fa = df[a].isin(keep_set).to_numpy() & on
        fb = df[b].isin(keep_set).to_numpy() & on
        for mask, bus_col, pcol, qcol in ((fa & ~fb, a, pa, qa), (fb & ~fa, b, pb, qb)):
            idx = df.index[mask]
            for bus, p, q in zip(
                df.loc[idx, bus_col].to_numpy(),
                res.loc[idx, pcol].to_numpy(),
                res.loc[idx, qcol].to_numpy(),
                strict=True,
            ):
                eq_p[int(bus)] = eq_p.get(int(bus), 0.0) + float(p)
                eq_q[int(bus)] = eq_q.get(int(bus), 0.0) + float(q)
    vm_full = full.res_bus.vm_pu.loc[keep].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sub = tb.select_subnet(full, keep, include_results=False)
    for bus in sorted(eq_p):
        pp.create_load(sub, bus, p_mw=eq_p[bus], q_mvar=eq_q[bus], name=BOUNDARY_LOAD_NAME)
    _runpp(sub)
    if not sub.converged:
        raise ScenarioError(f"transmission grid {name}: the reduced grid's power flow does not converge")
    dev = float(np.max(np.abs(sub.res_bus.vm_pu.loc[keep].to_numpy() - vm_full)))
    sub = _renumber(sub)
    return sub, ResizeReport(name, len(full.bus), n_buses, "reduced (flow-preserving cut)", len(eq_p), dev)


def extend_transmission(
    net: Any, n_buses: int, rng: np.random.Generator, name: str = "grid", moved_load_frac: float = 0.3
) -> tuple[Any, ResizeReport]:
    """``net`` with ``n_buses - len(net.bus)`` radial buses added (see module docstring)."""
    import pandapower as pp

    extra = n_buses - len(net.bus)
    if extra < 0:
        raise ScenarioError(f"transmission grid {name}: cannot extend {len(net.bus)} buses to {n_buses}")
    real = net.load[net.load.name != BOUNDARY_LOAD_NAME] if "name" in net.load else net.load
    real = real[real.p_mw > 0]
    if len(real) == 0:
        raise ScenarioError(f"transmission grid {name}: has no load bus to extend from")
    parents = rng.choice(real.index.to_numpy(), size=extra, replace=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for load_idx in parents:
            pbus = int(net.load.at[load_idx, "bus"])
            vn = float(net.bus.at[pbus, "vn_kv"])
            r, x, c, imax = next(d[1:] for d in _LINE_DATA_BY_KV if vn <= d[0])
            new = pp.create_bus(net, vn_kv=vn, name=f"ext-{pbus}", min_vm_pu=0.9, max_vm_pu=1.1)
            pp.create_line_from_parameters(
                net,
                pbus,
                new,
                length_km=float(rng.uniform(5.0, 30.0)),
                r_ohm_per_km=r,
                x_ohm_per_km=x,
                c_nf_per_km=c,
                max_i_ka=imax,
                name=f"ext-{pbus}-{new}",
            )
            p = float(net.load.at[load_idx, "p_mw"]) * moved_load_frac
            q = float(net.load.at[load_idx, "q_mvar"]) * moved_load_frac
            net.load.at[load_idx, "p_mw"] -= p
            net.load.at[load_idx, "q_mvar"] -= q
            pp.create_load(net, new, p_mw=p, q_mvar=q, name=f"ext-load-{pbus}")
    _runpp(net)
    if not net.converged:
        raise ScenarioError(f"transmission grid {name}: the extended grid's power flow does not converge")
    rate_transmission_branches(net)
    if schedule_static_generators(net):
        _runpp(net)
    return _renumber(net), ResizeReport(name, n_buses - extra, n_buses, "extended (radial buses)", 0, 0.0)


def reindex_elements(net: Any) -> Any:
    """Number the rows of every element table 0..n-1 (the cut keeps the case's sparse element ids).

    Code that treats the index returned by ``pandapower.create_*`` as a row position (as numpy arrays
    over a table do) then stays right. Only switches reference elements by id; a switched grid keeps
    its line and transformer ids.
    """
    has_switch = "switch" in net and len(net.switch) > 0
    for tbl in (
        "load",
        "sgen",
        "gen",
        "shunt",
        "ext_grid",
        "storage",
        "ward",
        "xward",
        "impedance",
        *(() if has_switch else ("line", "trafo")),
    ):
        if tbl in net and len(net[tbl]):
            net[tbl] = net[tbl].reset_index(drop=True)
    return net


def _renumber(net: Any) -> Any:
    import pandapower.toolbox as tb

    tb.create_continuous_bus_index(net, start=0)
    reindex_elements(net)
    for tbl in list(net.keys()):
        if isinstance(tbl, str) and tbl.startswith("res_"):
            frame = net[tbl]
            if hasattr(frame, "iloc"):
                net[tbl] = frame.iloc[0:0]
    return net


def resize_transmission(n_buses: int, rng: np.random.Generator) -> tuple[Any, ResizeReport]:
    """A transmission grid of exactly ``n_buses`` buses from the PEGASE cases (reduced or extended)."""
    if n_buses < 2:
        raise ScenarioError(f"transmission grid: field transmission_nodes {n_buses} must be at least 2")
    case = pegase_case_for(n_buses)
    net = _load_case(case)
    if len(net.bus) >= n_buses:
        return reduce_transmission(net, n_buses, case)
    return extend_transmission(net, n_buses, rng, case)
