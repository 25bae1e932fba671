"""Reinforcement of the generated scenario's detailed distribution grids, as a planner would do it.

SimBench MV lines are rated for SimBench's own loads, not for the devices the generator puts on a grid
and its load scaling. :func:`reinforce_detailed_grids` computes each detailed grid's planning envelope
(:func:`planning_envelope`: AC power flows of the scheduled day's lowest and highest net injection per
bus) and gives every line or transformer loaded above :data:`MV_PLANNING_LOADING_FRAC` identical units
in parallel, and the branches on the path to a bus outside the voltage band one more, until neither is
left (step 6 of :mod:`simulation.generator.generate`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from coordstudio.simulation.scenario import ScenarioSpec

Q_PER_P = float(np.tan(np.arccos(0.95)))
"""Reactive per active power of the loads the generator writes (power factor 0.95)."""


MV_PLANNING_LOADING_FRAC = 0.8
"""Highest loading of a detailed grid's line or transformer in its planning envelope (see
:func:`reinforce_detailed_grids`): 80 %, a 25 % margin above the scheduled state for the devices' noise
(2 %), the forecast errors of variable RES (8 %), the system imbalance spread over the loads and other days
than the planned one; activations of the market can still congest a grid."""


MV_VOLTAGE_MARGIN_PU = 0.01
"""The planning envelope's voltages stay this far inside the grid's voltage limits (0.95-1.05 p.u. by
default, the limits the DSO's market model enforces) with the substation at its set-point: the market
clears with the root voltage the tap changer holds at the time, which starts at the set-point."""
MV_REINFORCEMENT_ROUNDS = 16
"""Rounds of reinforcement at most (each: the thermal rule, then one more unit on the worst lines of the
path to each bus outside the voltage band, then the envelope again)."""


@dataclass
class Reinforcement:
    """What :func:`reinforce_detailed_grids` did to one detailed grid."""

    feeder_id: str
    lines: int
    """Lines given parallel cables."""
    trafos: int
    """Transformers given parallel units."""
    max_loading_before_pct: float
    max_loading_after_pct: float
    vm_range_before_pu: tuple[float, float]
    vm_range_pu: tuple[float, float]
    """Lowest and highest bus voltage in the planning envelope after reinforcement."""


def planning_envelope(
    spec: ScenarioSpec, n_groups: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Per detailed grid and bus, the lowest and highest scheduled net injection over the planned day, MW.

    The scheduled state is the platform's schedule of the earlier markets (device baselines without noise,
    :func:`simulation.physical.models.step` with no set-point, plus the grid's own loads times the load
    profile) at every physical step of ``spec.timing`` over 24 h. Only the first ``n_groups`` device groups
    are built: the generator puts the detailed grids' groups first, so the builder draws their placement
    and parameters exactly as in the whole scenario. Returns ``feeder_id -> (bus ids, (2, n_bus) array of
    [lowest, highest] injection)`` and the grids as the builder prepared them (loads scaled).
    """
    from coordstudio.simulation.physical.models import ModelContext, init_state
    from coordstudio.simulation.physical.models import step as device_step
    from coordstudio.simulation.scenario.build import build_scenario

    timing = spec.timing.model_copy(update={"duration_h": 24.0})
    part = spec.model_copy(
        update={"copper_plate_nodes": [], "device_groups": spec.device_groups[:n_groups], "timing": timing}
    )
    sc = build_scenario(part)
    ctx = ModelContext(
        profiles=sc.profiles,
        dt_h=timing.physical_step_min / 60.0,
        start_h=timing.start_h,
        noise_frac=spec.imbalance.device_noise_std_frac,
    )
    devices = copy.deepcopy(sc.devices)
    init_state(devices, ctx, np.random.default_rng(spec.seed + 7), [g.profile for g in part.device_groups])
    n = len(sc.nodes)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    own = np.zeros(n)  # the grids' own loads left after the builder's meters took them over, MW at peak
    for fs in spec.feeders:
        net = sc.feeder_nets[fs.feeder_id]
        sel = np.flatnonzero(sc.nodes.area == fs.feeder_id)
        pos = {int(b): int(i) for i, b in zip(sel, sc.nodes.bus[sel], strict=True)}
        for b, p in zip(net.load.bus.to_numpy(), net.load.p_mw.to_numpy(float), strict=True):
            own[pos[int(b)]] += p
    for k in range(timing.n_physical_steps):
        inj = -own * float(sc.profiles["load"][k])
        for dev in devices.values():
            p_kw = device_step(dev, ctx, k, None, None).p_kw
            if p_kw.size:
                inj += np.bincount(dev.node, p_kw, n) / 1000.0
        lo = np.minimum(lo, inj)
        hi = np.maximum(hi, inj)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for fs in spec.feeders:
        sel = np.flatnonzero(sc.nodes.area == fs.feeder_id)
        out[fs.feeder_id] = (sc.nodes.bus[sel].copy(), np.vstack([lo[sel], hi[sel]]))
    return out, sc.feeder_nets


def _envelope_flows(net: Any, buses: np.ndarray, inj: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Highest line and transformer loading (fraction) over the two envelope cases, and the bus voltages
    (pandas Series by bus id) of each case."""
    import pandapower as pp

    from coordstudio.simulation.scenario.build import run_pf

    work = copy.deepcopy(net)
    work.load = work.load.iloc[0:0]
    rows = pp.create_loads(work, buses.astype(int), p_mw=0.0, q_mvar=0.0)
    line = np.zeros(len(work.line))
    trafo = np.zeros(len(work.trafo))
    vms = []
    for case in inj:
        p = -case  # load convention
        work.load.loc[rows, "p_mw"] = p
        work.load.loc[rows, "q_mvar"] = np.maximum(p, 0.0) * Q_PER_P
        run_pf(work)
        line = np.maximum(line, np.nan_to_num(work.res_line.loading_percent.to_numpy(float)) / 100.0)
        if len(work.trafo):
            trafo = np.maximum(trafo, np.nan_to_num(work.res_trafo.loading_percent.to_numpy(float)) / 100.0)
        vms.append(work.res_bus.vm_pu.copy())
    return line, trafo, vms


def _vm_range(vms: list[Any]) -> tuple[float, float]:
    return float(min(np.nanmin(v.to_numpy(float)) for v in vms)), float(
        max(np.nanmax(v.to_numpy(float)) for v in vms)
    )


def _radial_paths(net: Any) -> dict[int, list[tuple[str, int, int]]]:
    """Bus -> the branches from the substation to it, as (table, row label, bus nearer the substation);
    switches respected (a radial SimBench grid keeps its loops open at switches)."""
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    root = int(net.ext_grid.bus.iloc[0])
    paths: dict[int, list[tuple[str, int, int]]] = {root: []}
    for parent, child in nx.bfs_edges(g, root):
        tbl, idx = next(iter(g[parent][child]))  # edge key: (element table, row label)
        paths[int(child)] = [*paths[int(parent)], (str(tbl), int(idx), int(parent))]
    return paths


def reinforce_detailed_grids(
    spec: ScenarioSpec,
    n_groups: int,
    base_nets: dict[str, Any],
    limit: float = MV_PLANNING_LOADING_FRAC,
) -> tuple[dict[str, Any], list[Reinforcement]]:
    """Reinforce each detailed grid the way a planner would: a line or transformer loaded above ``limit``
    in the grid's planning envelope gets identical units in parallel (pandapower's ``parallel``) until it
    is at most ``limit`` loaded.

    The planning envelope is two AC power flows (pandapower) of the grid: every bus at its lowest and
    every bus at its highest scheduled net injection of the planned day (:func:`planning_envelope`; the
    two extremes of a bus may fall at different times, so the envelope bounds the scheduled state). Parallel
    units keep the grid's radial flows and lower its impedance. ``base_nets`` are the radial grids as
    written (unscaled); returns the reinforced copy of each changed grid by feeder id, and a report per
    grid."""
    env, built = planning_envelope(spec, n_groups)
    changed: dict[str, Any] = {}
    reports: list[Reinforcement] = []
    for fs in spec.feeders:
        net = built[fs.feeder_id]
        buses, inj = env[fs.feeder_id]
        line, trafo, vms = _envelope_flows(net, buses, inj)
        before = float(max(line.max(initial=0.0), trafo.max(initial=0.0)))
        vm_before = _vm_range(vms)
        lo_v, hi_v = fs.vm_min_pu + MV_VOLTAGE_MARGIN_PU, fs.vm_max_pu - MV_VOLTAGE_MARGIN_PU
        paths = _radial_paths(net)
        for _ in range(MV_REINFORCEMENT_ROUNDS):
            # thermal: the number of units that brings each branch above the limit to the limit
            over_l = line > limit + 1e-9
            over_t = trafo > limit + 1e-9
            par = net.line.parallel.to_numpy(float)
            net.line["parallel"] = np.where(over_l, np.ceil(par * line / limit), par).astype(int)
            if len(net.trafo):
                par_t = net.trafo.parallel.to_numpy(float)
                net.trafo["parallel"] = np.where(over_t, np.ceil(par_t * trafo / limit), par_t).astype(int)
            # voltage band: on the path to each bus outside it, the lines and transformers with at least
            # half the largest voltage difference get one more unit
            bump: set[tuple[str, int]] = set()
            for vm in vms:
                v = vm.to_dict()
                for bus, val in v.items():
                    steps_ = paths.get(int(bus), [])
                    if lo_v <= val <= hi_v or not steps_:
                        continue
                    rev = list(reversed(steps_))
                    child = [int(bus), *[pb for _, _, pb in rev]][:-1]
                    drops = [
                        abs(v[c] - v[pb]) if t in ("line", "trafo") else -1.0  # not switches
                        for c, (t, _, pb) in zip(child, rev, strict=True)
                    ]
                    top = max(drops)
                    if top > 0:  # the lines with at least half the largest difference on the path
                        bump.update(rev[k][:2] for k, d in enumerate(drops) if d >= 0.5 * top)
            for tbl, idx in bump:
                net[tbl].at[idx, "parallel"] = int(net[tbl].at[idx, "parallel"]) + 1
            if not over_l.any() and not over_t.any() and not bump:
                break
            line, trafo, vms = _envelope_flows(net, buses, inj)
        base = base_nets[fs.feeder_id]
        n_line = int((net.line.parallel.to_numpy() > base.line.parallel.to_numpy()).sum())
        n_trafo = int((net.trafo.parallel.to_numpy() > base.trafo.parallel.to_numpy()).sum())
        after = float(max(line.max(initial=0.0), trafo.max(initial=0.0)))
        if n_line or n_trafo:
            out = copy.deepcopy(base)
            out.line["parallel"] = net.line.parallel.to_numpy()
            if len(out.trafo):
                out.trafo["parallel"] = net.trafo.parallel.to_numpy()
            changed[fs.feeder_id] = out
        reports.append(
            Reinforcement(fs.feeder_id, n_line, n_trafo, 100 * before, 100 * after, vm_before, _vm_range(vms))
        )
    return changed, reports
