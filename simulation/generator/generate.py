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
6. **Reinforcement** of the detailed grids (:mod:`simulation.generator.reinforce`): their SimBench lines are
   rated for SimBench's own loads, not for the devices put on them and the load scaling; a line or
   transformer loaded above :data:`MV_PLANNING_LOADING_FRAC` (80 %) in the grid's planning envelope (AC
   power flows of the scheduled day's lowest and highest net injection per bus) gets identical units in
   parallel, as a planner would reinforce the feeder. A reinforced grid is written to a file of its own.
7. **Balance**: the PEGASE generators (its static generators included, made schedulable by
   :func:`simulation.generator.transmission.schedule_static_generators`) keep their case dispatch; the
   platform's schedule of the earlier markets scales them to the demand net of the added plants' output.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.generator.presets import DEVICE_KINDS, PRESETS, ScalePreset, scaled
from coordstudio.simulation.generator.reinforce import (
    MV_PLANNING_LOADING_FRAC,
    Q_PER_P,
    reinforce_detailed_grids,
)
from coordstudio.simulation.generator.transmission import (
    BOUNDARY_LOAD_NAME,
    ResizeReport,
    reindex_elements,
    resize_transmission,
)
from coordstudio.simulation.scenario import (
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


def _case_voltage_limits(net: Any) -> dict[str, float]:
    """The transmission case's own voltage limits (median of its buses' ``min_vm_pu``/``max_vm_pu``:
    0.9/1.1 p.u. in PEGASE, which operates up to 1.105 p.u.), instead of the platform's default
    0.94/1.06 that 293 of the Italian region's buses exceed in the case's own power flow."""
    out: dict[str, float] = {}
    for col, key in (("min_vm_pu", "vm_min_pu"), ("max_vm_pu", "vm_max_pu")):
        if col in net.bus and net.bus[col].notna().any():
            out[key] = float(np.nanmedian(net.bus[col].to_numpy(float)))
    return out


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


@functools.cache
def _simbench_mv(kind: str) -> tuple[Any, float]:
    """Radial SimBench MV grid of ``kind`` and its total load (MW), loaded once per process (callers
    only read or copy the net)."""
    from coordstudio.simulation.imports import load_simbench, prepare_distribution_grid

    net = load_simbench(SIMBENCH_MV[kind])
    prepare_distribution_grid(net, SIMBENCH_MV[kind])
    for tbl in ("sgen", "storage"):
        if tbl in net and len(net[tbl]):
            net[tbl] = net[tbl].iloc[0:0]
    return net, float(net.load.p_mw.sum())


@dataclass
class _Allocation:
    """The distribution nodes and the devices allocated to them (steps 2-5), the plain data the later
    steps write into the spec."""

    iface: np.ndarray
    """Interface transmission bus of each distribution node."""
    node_load_mw: np.ndarray
    """Load each distribution node took over from its bus, MW."""
    population: np.ndarray
    """Population-like weight of each node (its share of the moved load)."""
    per_node: dict[str, np.ndarray]
    """Distribution device kind -> devices per node."""
    per_bus: dict[str, tuple[np.ndarray, np.ndarray]]
    """Transmission device kind -> (buses, devices per bus)."""
    flex_mw: np.ndarray
    """Flexible capacity per node (EV, heat pumps, wet appliances, street lights), MW."""
    detailed: np.ndarray
    """The nodes modelled by a SimBench MV grid, best score first."""
    ratio: np.ndarray
    """DG per MW of load of each detailed node (in the order of ``detailed``)."""
    dso_of: np.ndarray
    """DSO index of each node."""

    @property
    def n_dist(self) -> int:
        return int(self.iface.size)

    @property
    def is_detailed(self) -> np.ndarray:
        out = np.zeros(self.n_dist, bool)
        out[self.detailed] = True
        return out


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
    from coordstudio.simulation.imports import save_grid_file

    # 1. transmission -------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tnet, report = resize_transmission(tgt["transmission_nodes"], rng)
    timings["transmission"] = time.perf_counter() - t0
    notes.append(
        f"transmission: {report.source_case} ({report.source_buses} buses) {report.method} to "
        f"{report.target_buses} buses; {report.boundary_equivalents} border equivalents; max |dV| "
        f"vs the full case {report.max_vm_deviation_pu:.1e} p.u."
    )
    # 2-5. distribution nodes, weights, devices, detailed grids ---------------------------------------
    t0 = time.perf_counter()
    alloc = _allocate(tnet, report.source_case, tgt, p.dsos, rng)
    timings["allocation"] = time.perf_counter() - t0
    # grid files ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    tag = f"{p.name}-s{seed}" + ("" if scale == 1.0 else f"-x{scale:g}")
    tpath = (out_dir / f"{tag}-transmission.json").resolve()
    files.append(tpath)
    feeders, copper, area_of, detailed_meters = _distribution_areas(tnet, alloc, out_dir, tag, files)
    timings["grids"] = time.perf_counter() - t0
    # device groups ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    groups, n_detailed_groups = _device_groups(alloc, area_of, detailed_meters, p.meters_per_copper_node)
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
        spec = _reinforce(spec, n_detailed_groups, out_dir, tag, files, notes)
        timings["reinforcement"] = time.perf_counter() - t0
    kind_counts = {kind: 0 for kind in DEVICE_KINDS}
    for kind, c in alloc.per_node.items():
        kind_counts[kind] += int(c.sum())
    for kind, (_, c) in alloc.per_bus.items():
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


def _allocate(
    tnet: Any, source_case: str, tgt: dict[str, int], dsos: int, rng: np.random.Generator
) -> _Allocation:
    """Steps 2-5: the distribution nodes on the grid's load buses (their load moved out of ``tnet``),
    each kind's devices split over nodes or generator buses, the detailed nodes chosen, a DSO drawn per
    node. The draws from ``rng`` come in this fixed order."""
    # 2. distribution nodes and population-like weights ----------------------------------------------
    n_dist = tgt["distribution_nodes"]
    loads = tnet.load
    real = (
        loads[(loads.name != BOUNDARY_LOAD_NAME) & (loads.p_mw > 0)]
        if "name" in loads
        else loads[loads.p_mw > 0]
    )
    bus_load = real.groupby("bus").p_mw.sum()
    if len(bus_load) == 0:
        raise ScenarioError(f"transmission grid {source_case}: has no load bus for distribution nodes")
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
    per_node, per_bus = _allocate_devices(tnet, load_buses, population, tgt, rng)

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
    detailed = choose_detailed(score, node_load_mw, tgt["detailed_grids"])
    ratio = dg_mw[detailed] / np.maximum(node_load_mw[detailed], 1e-6)
    dso_of = rng.integers(0, dsos, n_dist)
    return _Allocation(iface, node_load_mw, population, per_node, per_bus, flex_mw, detailed, ratio, dso_of)


def _allocate_devices(
    tnet: Any, load_buses: np.ndarray, population: np.ndarray, tgt: dict[str, int], rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Steps 3-4: each kind's exact count split by one multinomial draw, over the distribution nodes
    (population-like weight times a lognormal affinity, or the affinity alone for a resource) or over
    the generator buses by capacity (transmission plants)."""
    n_dist = population.size
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
    return per_node, per_bus


def _distribution_areas(
    tnet: Any, alloc: _Allocation, out_dir: Path, tag: str, files: list[Path]
) -> tuple[list[FeederSpec], list[CopperPlateNodeSpec], np.ndarray, np.ndarray]:
    """The detailed nodes as SimBench MV feeders (each kind's radial grid written once to ``out_dir``;
    the node's load the grid does not carry left at its bus in ``tnet``), the others as copper-plate
    nodes. Returns the feeders, the copper plates, each node's area id and the meters of each detailed
    node (three per load bus of its grid)."""
    from coordstudio.simulation.imports import save_grid_file

    n_dist = alloc.n_dist
    population, node_load_mw, detailed = alloc.population, alloc.node_load_mw, alloc.detailed
    med_ratio = float(np.median(alloc.ratio)) if detailed.size else 0.0
    med_pop = float(np.median(population[detailed])) if detailed.size else 0.0
    kinds_used: dict[str, Path] = {}
    feeders: list[FeederSpec] = []
    copper: list[CopperPlateNodeSpec] = []
    area_of = np.empty(n_dist, dtype=object)
    detailed_meters = np.zeros(n_dist, dtype=np.int64)
    for rank, i in enumerate(detailed):
        high_dg = alloc.ratio[rank] > med_ratio
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
                dso_id=f"DSO-{int(alloc.dso_of[i]) + 1}",
                interface_bus=int(alloc.iface[i]),
                load_scale_frac=float(scale_frac),
            )
        )
        remainder_mw = node_load_mw[i] - sb_load * scale_frac
        if remainder_mw > 1e-6:  # the part of the node's load its one MV grid does not carry stays at the bus
            import pandapower as pp

            pp.create_load(
                tnet,
                int(alloc.iface[i]),
                p_mw=remainder_mw,
                q_mvar=remainder_mw * Q_PER_P,
                name=f"{fid} remainder",
            )
    is_detailed = alloc.is_detailed
    for i in range(n_dist):
        if is_detailed[i]:
            continue
        nid = f"N{i + 1}"
        area_of[i] = nid
        copper.append(
            CopperPlateNodeSpec(
                node_id=nid, dso_id=f"DSO-{int(alloc.dso_of[i]) + 1}", interface_bus=int(alloc.iface[i])
            )
        )
    return feeders, copper, area_of, detailed_meters


def _kind_group(group_id: str, kind: str, area: str, count: int, **extra: Any) -> dict[str, Any]:
    """The device group (as a :class:`DeviceGroupSpec` dict) of ``count`` devices of ``kind``."""
    dk = DEVICE_KINDS[kind]
    g: dict[str, Any] = {"group_id": group_id, "category": dk.category, "area": area, "count": count, **extra}
    if dk.profile is not None:
        g["profile"] = dk.profile
    if dk.parameters:
        g["parameters"] = dk.parameters
    return g


def _device_groups(
    alloc: _Allocation, area_of: np.ndarray, detailed_meters: np.ndarray, meters: int
) -> tuple[list[dict[str, Any]], int]:
    """The device groups (as dicts): per node its non-controllable load and each kind present, then the
    transmission plants per bus. The detailed grids' groups come first, so that their devices are drawn
    identically when only they are built (the planning envelope of
    :func:`~simulation.generator.reinforce.reinforce_detailed_grids`); returns the groups and how many
    of them belong to detailed grids."""
    is_detailed = alloc.is_detailed
    node_load_mw = alloc.node_load_mw
    groups: list[dict[str, Any]] = []
    flex_peak_mw = alloc.flex_mw * 0.3  # assumption: 30 % coincidence of flexible loads at the load peak
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
        for kind, node_counts in alloc.per_node.items():
            n = int(node_counts[i])
            if n == 0:
                continue
            groups.append(_kind_group(f"{area}-{kind}", kind, area, n))
    if n_detailed_groups == 0:  # every node detailed
        n_detailed_groups = len(groups)
    for kind, (buses, bus_counts) in alloc.per_bus.items():
        by_bus: dict[int, int] = {}
        for b, n in zip(buses.tolist(), bus_counts.tolist(), strict=True):
            if n:
                by_bus[int(b)] = by_bus.get(int(b), 0) + int(n)
        for b, n in sorted(by_bus.items()):
            groups.append(_kind_group(f"T{b}-{kind}", kind, "transmission", n, buses=[b]))
    return groups, n_detailed_groups


def _reinforce(
    spec: ScenarioSpec, n_detailed_groups: int, out_dir: Path, tag: str, files: list[Path], notes: list[str]
) -> ScenarioSpec:
    """Step 6: the detailed grids reinforced for their planning envelope; each changed grid written to a
    file of its own, which its feeder then names. Returns the spec with those feeders."""
    from coordstudio.simulation.imports import save_grid_file

    feeders = spec.feeders
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
    return spec


def spec_device_counts(spec: ScenarioSpec) -> dict[str, int]:
    """Devices per kind in a generated spec, recovered from the group ids (``<area>-<kind>``)."""
    out = {kind: 0 for kind in DEVICE_KINDS}
    for g in spec.device_groups:
        kind = g.group_id.rsplit("-", 1)[-1]
        if kind in out:
            out[kind] += g.count
    return out
