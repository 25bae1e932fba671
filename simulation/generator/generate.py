"""Generate a scenario at a preset's scale on real grid data (PEGASE transmission, SimBench MV grids).

Steps (all random draws from one ``numpy.random.Generator`` seeded with ``seed``, in a fixed order, so
the same preset, seed and scale always give the same scenario):

1. **Transmission grid**: a PEGASE case reduced (or extended) to the target bus count
   (:mod:`simulation.generator.transmission`), written as pandapower JSON next to the scenario file.
2. **Distribution nodes** (TSO-DSO interfaces): each of the ``distribution_nodes`` picks its interface
   bus among the grid's real load buses with probability proportional to the bus load. All load of a bus
   that hosts distribution nodes moves into them, split by Dirichlet(1) shares; buses that host none
   keep their load (the seed's "non-controllable load at some transmission nodes").
3. **Population-like weights**: a distribution node's weight is the load it took over. Electricity
   demand per HV/MV substation is the best public proxy of the population it serves (the seed split
   national numbers by Eurostat population and ownership rates; the PEGASE loads play the role of those
   regional statistics here). Each device kind multiplies the weight by a lognormal affinity per node
   (sigma per kind in :data:`DEVICE_KINDS`, e.g. 0.5 for PV, 0 for EVs), and run-of-river hydro uses the
   affinity alone (resource, not population). Transmission plants go to buses with PEGASE generators,
   weighted by their capacity.
4. **Exact counts**: each kind's total is split over nodes by one multinomial draw, so the sums are
   exactly the preset's (scaled) counts.
5. **Detailed grids**: among the nodes one MV grid can represent (load 15-100 MW, a SimBench MV grid of
   28-69 MW scaled by 0.5-2), the ``detailed_grids`` with the highest score = installed DG (PV + hydro)
   per MW of load / its mean + flexible capacity (EV + heat pumps + wet appliances + street lights) per
   MW of load / its mean (:func:`detailed_grid_score`), i.e. the seed's "amount of installed distributed
   generation, as well as the availability of flexible resources". Each becomes a SimBench MV grid
   (radial version written to JSON): rural or semi-urban where DG per load is above the median of the
   chosen nodes, urban or commercial otherwise (by population), its loads scaled to the node's load
   within 0.5-2x; load the grid does not carry stays at the transmission bus (``D<n> remainder``).
6. **Reinforcement** of the detailed grids (:func:`reinforce_detailed_grids`): their SimBench lines are
   rated for SimBench's own loads, not for the devices put on them and the load scaling; a line or
   transformer loaded above :data:`MV_PLANNING_LOADING_FRAC` (80 %) in the grid's planning envelope (AC
   power flows of the scheduled day's lowest and highest net injection per bus) gets identical units in
   parallel, as a planner would reinforce the feeder. A reinforced grid is written to a file of its own.
7. **Balance**: the PEGASE generators (its static generators included, made schedulable by
   :func:`simulation.generator.transmission.schedule_static_generators`) keep their case dispatch; the
   platform's schedule of the earlier markets scales them to the demand net of the added plants' output.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.errors import ScenarioError
from simulation.generator.presets import DEVICE_KINDS, PRESETS, ScalePreset, scaled
from simulation.generator.transmission import (
    BOUNDARY_LOAD_NAME,
    ResizeReport,
    reindex_elements,
    resize_transmission,
)
from simulation.scenario import (
    CopperPlateNodeSpec,
    DeviceGroupSpec,
    FeederSpec,
    ProfileSpec,
    ScenarioSpec,
    TransmissionGridSpec,
)

SIMBENCH_MV: dict[str, str] = {
    "rural": "1-MV-rural--2-sw",
    "semiurb": "1-MV-semiurb--2-sw",
    "urban": "1-MV-urban--2-sw",
    "comm": "1-MV-comm--2-sw",
}
"""SimBench MV grids used for detailed distribution grids (2034 scenario, the closest to 2030)."""


MIN_TRANSMISSION_NODES = 20
"""Smallest transmission grid a scaled scenario gets (a tiny PEGASE region may hold no load bus)."""


@dataclass
class GeneratedScenario:
    """What :func:`generate_scenario` produced."""

    spec: ScenarioSpec
    counts: dict[str, int]
    """Device kind -> devices generated (sums over device groups)."""
    transmission_nodes: int
    distribution_nodes: int
    detailed_grids: int
    files: list[Path] = field(default_factory=list)
    resize: ResizeReport | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


MV_LOAD_BAND_MW: tuple[float, float] = (15.0, 100.0)
"""Node loads one SimBench MV grid (28-69 MW of load as shipped) can represent when scaled by 0.5-2."""
MV_LOAD_SCALE_RANGE: tuple[float, float] = (0.5, 2.0)
"""Range of the load scaling applied to a SimBench MV grid standing for a detailed distribution node."""
_Q_PER_P = float(np.tan(np.arccos(0.95)))


def detailed_grid_score(dg_mw: np.ndarray, flex_mw: np.ndarray, load_mw: np.ndarray) -> np.ndarray:
    """Score of a distribution node for detailed modelling: installed DG and flexible capacity per MW of
    load, each relative to its mean over all nodes: ``(DG/L)/mean(DG/L) + (F/L)/mean(F/L)``.

    Per MW of load because DG and flexibility matter for local congestion relative to the grid that
    carries them (the seed: "the amount of installed distributed generation, as well as the availability of
    flexible resources and their potential for solving local congestions").
    """
    load = np.maximum(load_mw, 1e-6)
    dg = dg_mw / load
    fl = flex_mw / load
    return dg / max(float(dg.mean()), 1e-12) + fl / max(float(fl.mean()), 1e-12)


def choose_detailed(score: np.ndarray, load_mw: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` best-scoring nodes among those an MV grid can represent (load within
    :data:`MV_LOAD_BAND_MW`); when too few are in the band, the nodes closest to it (in log load) fill up."""
    lo, hi = MV_LOAD_BAND_MW
    inside = np.flatnonzero((load_mw >= lo) & (load_mw <= hi))
    ranked = inside[np.argsort(-score[inside], kind="stable")]
    if ranked.size >= n:
        return ranked[:n]
    outside = np.setdiff1d(np.arange(load_mw.size), inside)
    dist = np.abs(np.log(np.maximum(load_mw[outside], 1e-6) / np.sqrt(lo * hi)))
    fill = outside[np.argsort(dist, kind="stable")][: n - ranked.size]
    return np.concatenate([ranked, fill])


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


def _case_voltage_limits(net: Any) -> dict[str, float]:
    """The transmission case's own voltage limits (median of its buses' ``min_vm_pu``/``max_vm_pu``:
    0.9/1.1 p.u. in PEGASE, which operates up to 1.105 p.u.), instead of the platform's default
    0.94/1.06 that 293 of the Italian region's buses exceed in the case's own power flow."""
    out: dict[str, float] = {}
    for col, key in (("min_vm_pu", "vm_min_pu"), ("max_vm_pu", "vm_max_pu")):
        if col in net.bus and net.bus[col].notna().any():
            out[key] = float(np.nanmedian(net.bus[col].to_numpy(float)))
    return out


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
    from simulation.physical.models import ModelContext, init_state
    from simulation.physical.models import step as device_step
    from simulation.scenario.build import build_scenario

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

    from simulation.scenario.build import run_pf

    work = copy.deepcopy(net)
    work.load = work.load.iloc[0:0]
    rows = pp.create_loads(work, buses.astype(int), p_mw=0.0, q_mvar=0.0)
    line = np.zeros(len(work.line))
    trafo = np.zeros(len(work.trafo))
    vms = []
    for case in inj:
        p = -case  # load convention
        work.load.loc[rows, "p_mw"] = p
        work.load.loc[rows, "q_mvar"] = np.maximum(p, 0.0) * _Q_PER_P
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


def preset(name: str) -> ScalePreset:
    """The preset called ``name``; :class:`ScenarioError` naming the known ones otherwise."""
    if name not in PRESETS:
        raise ScenarioError(f"scenario preset {name!r}: unknown; known: {', '.join(PRESETS)}")
    return PRESETS[name]


def target_counts(p: ScalePreset, scale: float) -> dict[str, int]:
    """Scaled targets: grid sizes and device counts (see :func:`simulation.generator.presets.scaled`)."""
    out = {
        "transmission_nodes": max(MIN_TRANSMISSION_NODES, scaled(p.transmission_nodes, scale)),
        "distribution_nodes": scaled(p.distribution_nodes, scale),
        "detailed_grids": scaled(p.detailed_grids, scale),
    }
    out["detailed_grids"] = min(out["detailed_grids"], out["distribution_nodes"])
    for kind, n in p.devices.items():
        out[kind] = scaled(n, scale)
    return out


def _simbench_mv(kind: str) -> tuple[Any, float]:
    """Radial SimBench MV grid of ``kind`` and its total load (MW), cached per process."""
    return _simbench_cache(kind)


_SB_CACHE: dict[str, tuple[Any, float]] = {}


def _simbench_cache(kind: str) -> tuple[Any, float]:
    if kind not in _SB_CACHE:
        from simulation.imports import load_simbench, prepare_distribution_grid

        net = load_simbench(SIMBENCH_MV[kind])
        prepare_distribution_grid(net, SIMBENCH_MV[kind])
        for tbl in ("sgen", "storage"):
            if tbl in net and len(net[tbl]):
                net[tbl] = net[tbl].iloc[0:0]
        _SB_CACHE[kind] = (net, float(net.load.p_mw.sum()))
    return _SB_CACHE[kind]


def generate_scenario(
    preset_name: str,
    out_dir: str | Path,
    seed: int = 20190601,
    scale: float = 1.0,
    name: str | None = None,
) -> GeneratedScenario:
    """Generate the preset's scenario; grid files go to ``out_dir`` (see module docstring).

    Raises
    ------
    ScenarioError
        Unknown preset, a scale that leaves no distribution node, or a grid that does not converge.
    """
    if not (scale > 0):
        raise ScenarioError(f"scenario generate: field scale must be > 0, got {scale}")
    p = preset(preset_name)
    tgt = target_counts(p, scale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    files: list[Path] = []
    notes: list[str] = []
    from simulation.imports import save_grid_file

    # 1. transmission -------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tnet, report = resize_transmission(tgt["transmission_nodes"], rng)
    timings["transmission"] = time.perf_counter() - t0
    notes.append(
        f"transmission: {report.source_case} ({report.source_buses} buses) {report.method} to "
        f"{report.target_buses} buses; {report.boundary_equivalents} border equivalents; max |dV| "
        f"vs the full case {report.max_vm_deviation_pu:.1e} p.u."
    )

    # 2. distribution nodes and population-like weights ----------------------------------------------
    t0 = time.perf_counter()
    n_dist = tgt["distribution_nodes"]
    loads = tnet.load
    real = (
        loads[(loads.name != BOUNDARY_LOAD_NAME) & (loads.p_mw > 0)]
        if "name" in loads
        else loads[loads.p_mw > 0]
    )
    bus_load = real.groupby("bus").p_mw.sum()
    if len(bus_load) == 0:
        raise ScenarioError(f"transmission grid {report.source_case}: has no load bus for distribution nodes")
    load_buses = bus_load.index.to_numpy(dtype=np.int64)
    bus_p = bus_load.to_numpy(dtype=float)
    iface = load_buses[rng.choice(load_buses.size, size=n_dist, p=bus_p / bus_p.sum())]
    node_load_mw = np.zeros(n_dist)
    for b in np.unique(iface):
        members = np.flatnonzero(iface == b)
        shares = rng.dirichlet(np.ones(members.size)) if members.size > 1 else np.ones(1)
        node_load_mw[members] = float(bus_load.loc[b]) * shares
    # the moved load leaves the transmission grid's own loads
    hosted = np.isin(tnet.load.bus.to_numpy(), np.unique(iface)) & (tnet.load.p_mw.to_numpy() > 0)
    if "name" in tnet.load:
        hosted &= (tnet.load.name != BOUNDARY_LOAD_NAME).to_numpy()
    tnet.load.loc[hosted, ["p_mw", "q_mvar"]] = 0.0
    population = node_load_mw / node_load_mw.sum()

    # 3-4. exact allocation per kind -------------------------------------------------------------------
    gen_buses = tnet.gen.bus.to_numpy(dtype=np.int64) if len(tnet.gen) else load_buses
    gen_cap = (
        tnet.gen.max_p_mw.to_numpy(dtype=float)
        if "max_p_mw" in tnet.gen and len(tnet.gen)
        else np.ones(gen_buses.size)
    )
    gen_cap = np.where(np.isfinite(gen_cap) & (gen_cap > 0), gen_cap, 1.0)
    per_node: dict[str, np.ndarray] = {}
    per_bus: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for kind, dk in DEVICE_KINDS.items():
        total = tgt.get(kind, 0)
        if dk.location == "distribution":
            affinity = (
                rng.lognormal(0.0, dk.resource_sigma, n_dist) if dk.resource_sigma > 0 else np.ones(n_dist)
            )
            w = affinity if dk.weight == "resource" else population * affinity
            per_node[kind] = rng.multinomial(total, w / w.sum()) if total else np.zeros(n_dist, np.int64)
        else:
            counts = (
                rng.multinomial(total, gen_cap / gen_cap.sum())
                if total
                else np.zeros(gen_buses.size, np.int64)
            )
            per_bus[kind] = (gen_buses, counts)

    # 5. detailed grids -------------------------------------------------------------------------------
    def _mw(kinds: tuple[str, ...]) -> np.ndarray:
        out = np.zeros(n_dist)
        for k in kinds:
            out += per_node[k] * DEVICE_KINDS[k].expected_p_kw / 1000.0
        return out

    dg_mw = _mw(("pv", "run_of_river_hydro"))
    flex_kinds = ("ev", "heat_pump", "wet_appliance", "street_light")
    flex_mw = _mw(flex_kinds)
    score = detailed_grid_score(dg_mw, flex_mw, node_load_mw)
    n_det = tgt["detailed_grids"]
    detailed = choose_detailed(score, node_load_mw, n_det)
    is_detailed = np.zeros(n_dist, bool)
    is_detailed[detailed] = True
    ratio = dg_mw[detailed] / np.maximum(node_load_mw[detailed], 1e-6)
    med_ratio = float(np.median(ratio)) if n_det else 0.0
    med_pop = float(np.median(population[detailed])) if n_det else 0.0
    dso_of = rng.integers(0, p.dsos, n_dist)
    timings["allocation"] = time.perf_counter() - t0

    # grid files ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tag = f"{p.name}-s{seed}" + ("" if scale == 1.0 else f"-x{scale:g}")
    tpath = (out_dir / f"{tag}-transmission.json").resolve()
    files.append(tpath)
    kinds_used: dict[str, Path] = {}
    feeders: list[FeederSpec] = []
    copper: list[CopperPlateNodeSpec] = []
    area_of = np.empty(n_dist, dtype=object)
    detailed_meters = np.zeros(n_dist, dtype=np.int64)
    for rank, i in enumerate(detailed):
        high_dg = ratio[rank] > med_ratio
        big = population[i] > med_pop
        kind = ("semiurb" if big else "rural") if high_dg else ("urban" if big else "comm")
        if kind not in kinds_used:
            net, _ = _simbench_mv(kind)
            kinds_used[kind] = save_grid_file(net, out_dir / f"{tag}-{SIMBENCH_MV[kind]}-radial.json")
            files.append(kinds_used[kind])
        sb_net, sb_load = _simbench_mv(kind)
        scale_frac = np.clip(node_load_mw[i] / max(sb_load, 1e-6), *MV_LOAD_SCALE_RANGE)
        detailed_meters[i] = 3 * int(sb_net.load.bus.nunique())
        fid = f"D{i + 1}"
        area_of[i] = fid
        feeders.append(
            FeederSpec(
                feeder_id=fid,
                source="simbench",
                case_name=SIMBENCH_MV[kind],
                grid_file=str(kinds_used[kind].resolve()),
                dso_id=f"DSO-{int(dso_of[i]) + 1}",
                interface_bus=int(iface[i]),
                load_scale_frac=float(scale_frac),
            )
        )
        remainder_mw = node_load_mw[i] - sb_load * scale_frac
        if remainder_mw > 1e-6:  # the part of the node's load its one MV grid does not carry stays at the bus
            import pandapower as pp

            pp.create_load(
                tnet,
                int(iface[i]),
                p_mw=remainder_mw,
                q_mvar=remainder_mw * _Q_PER_P,
                name=f"{fid} remainder",
            )
    for i in range(n_dist):
        if is_detailed[i]:
            continue
        nid = f"N{i + 1}"
        area_of[i] = nid
        copper.append(
            CopperPlateNodeSpec(node_id=nid, dso_id=f"DSO-{int(dso_of[i]) + 1}", interface_bus=int(iface[i]))
        )
    timings["grids"] = time.perf_counter() - t0

    # device groups ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    groups: list[dict[str, Any]] = []
    flex_peak_mw = flex_mw * 0.3  # assumption: 30 % coincidence of flexible loads at the load peak
    meters = p.meters_per_copper_node
    # the detailed grids' groups first: their devices are then drawn identically when only they are built
    # (the planning envelope of :func:`reinforce_detailed_grids`)
    n_detailed_groups = 0
    for i in [*np.flatnonzero(is_detailed).tolist(), *np.flatnonzero(~is_detailed).tolist()]:
        if not is_detailed[i] and n_detailed_groups == 0:
            n_detailed_groups = len(groups)
        area = str(area_of[i])
        if not is_detailed[i]:
            target_kw = max(node_load_mw[i] - flex_peak_mw[i], 0.3 * node_load_mw[i]) * 1000.0 / meters
            groups.append(
                {
                    "group_id": f"{area}-load",
                    "category": "noncontrollable_load",
                    "area": area,
                    "count": meters,
                    "profile": "load",
                    "parameters": {
                        "p_peak_kw": {"kind": "uniform", "low": 0.8 * target_kw, "high": 1.2 * target_kw}
                    },
                }
            )
        else:
            # detailed grids: meters at the load buses; the builder scales them to the grid's loads
            groups.append(
                {
                    "group_id": f"{area}-load",
                    "category": "noncontrollable_load",
                    "area": area,
                    "count": int(detailed_meters[i]),
                    "profile": "load",
                }
            )
        for kind, node_counts in per_node.items():
            n = int(node_counts[i])
            if n == 0:
                continue
            dk = DEVICE_KINDS[kind]
            g: dict[str, Any] = {
                "group_id": f"{area}-{kind}",
                "category": dk.category,
                "area": area,
                "count": n,
            }
            if dk.profile is not None:
                g["profile"] = dk.profile
            if dk.parameters:
                g["parameters"] = dk.parameters
            groups.append(g)
    if n_detailed_groups == 0:  # every node detailed
        n_detailed_groups = len(groups)
    for kind, (buses, bus_counts) in per_bus.items():
        dk = DEVICE_KINDS[kind]
        by_bus: dict[int, int] = {}
        for b, n in zip(buses.tolist(), bus_counts.tolist(), strict=True):
            if n:
                by_bus[int(b)] = by_bus.get(int(b), 0) + int(n)
        for b, n in sorted(by_bus.items()):
            g = {
                "group_id": f"T{b}-{kind}",
                "category": dk.category,
                "area": "transmission",
                "count": n,
                "buses": [b],
            }
            if dk.profile is not None:
                g["profile"] = dk.profile
            if dk.parameters:
                g["parameters"] = dk.parameters
            groups.append(g)

    # 6. balance: left to the platform, whose schedule of the earlier markets scales the PEGASE
    # generators to the demand net of the transmission-connected devices' output (re-dispatching here as
    # well counted the added plants twice and left the slack tens of GW short).
    reindex_elements(tnet)
    save_grid_file(tnet, tpath)
    device_groups = [DeviceGroupSpec.model_validate(g) for g in groups]
    timings["groups"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    spec = ScenarioSpec(
        name=name or f"{p.name} (seed {seed}, scale {scale:g})",
        seed=seed,
        transmission=TransmissionGridSpec(
            case_name=report.source_case, grid_file=str(tpath.resolve()), **_case_voltage_limits(tnet)
        ),
        feeders=feeders,
        copper_plate_nodes=copper,
        device_groups=device_groups,
        profiles=ProfileSpec(
            source="simbench",
            simbench_code=SIMBENCH_MV["semiurb"],
            day_of_year=p.day_of_year,
            load_profile="lv_semiurb4",
            pv_profile="PV3",
            wind_profile="WP4",
        ),
    )
    timings["spec"] = time.perf_counter() - t0
    if feeders:
        t0 = time.perf_counter()
        base_nets = {
            fs.feeder_id: _simbench_mv(next(k for k, code in SIMBENCH_MV.items() if code == fs.case_name))[0]
            for fs in feeders
        }
        changed, reports = reinforce_detailed_grids(spec, n_detailed_groups, base_nets)
        new_feeders = []
        for fs in feeders:
            if fs.feeder_id in changed:
                path = save_grid_file(
                    changed[fs.feeder_id], out_dir / f"{tag}-{fs.feeder_id}-{fs.case_name}-radial.json"
                )
                files.append(path)
                fs = fs.model_copy(update={"grid_file": str(path.resolve())})
            new_feeders.append(fs)
        spec = spec.model_copy(update={"feeders": new_feeders})
        worst = max(reports, key=lambda r: r.max_loading_before_pct)
        notes.append(
            f"detailed grids: {len(changed)} of {len(feeders)} reinforced ("
            f"{sum(r.lines for r in reports)} lines, {sum(r.trafos for r in reports)} transformers given "
            f"parallel units) to at most {MV_PLANNING_LOADING_FRAC:.0%} loading in their planning envelope; "
            f"highest loading before {worst.max_loading_before_pct:.0f} % ({worst.feeder_id}), after "
            f"{max(r.max_loading_after_pct for r in reports):.0f} %; voltages "
            f"{min(r.vm_range_before_pu[0] for r in reports):.3f}-"
            f"{max(r.vm_range_before_pu[1] for r in reports):.3f} p.u. before, "
            f"{min(r.vm_range_pu[0] for r in reports):.3f}-{max(r.vm_range_pu[1] for r in reports):.3f} after"
        )
        timings["reinforcement"] = time.perf_counter() - t0
    kind_counts = {kind: 0 for kind in DEVICE_KINDS}
    for kind, c in per_node.items():
        kind_counts[kind] += int(c.sum())
    for kind, (_, c) in per_bus.items():
        kind_counts[kind] += int(c.sum())
    return GeneratedScenario(
        spec=spec,
        counts=kind_counts,
        transmission_nodes=len(tnet.bus),
        distribution_nodes=len(feeders) + len(copper),
        detailed_grids=len(feeders),
        files=files,
        resize=report,
        timings_s=timings,
        notes=notes,
    )


def spec_device_counts(spec: ScenarioSpec) -> dict[str, int]:
    """Devices per kind in a generated spec, recovered from the group ids (``<area>-<kind>``)."""
    out = {kind: 0 for kind in DEVICE_KINDS}
    for g in spec.device_groups:
        kind = g.group_id.rsplit("-", 1)[-1]
        if kind in out:
            out[kind] += g.count
    return out
