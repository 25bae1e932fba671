"""Build the concrete scenario (grids, nodes, devices, profiles, imbalance) from a :class:`ScenarioSpec`.

Everything random comes from one ``numpy.random.Generator`` seeded with ``spec.seed``, drawn in a fixed
order, so the same spec always gives the same scenario. Devices are numpy arrays per category
(:class:`simulation.devices.DeviceArrays`).
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coordstudio.simulation.devices import DeviceArrays, DeviceNames, concat_devices, empty_devices
from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.grid_files import cached_net, load_net  # noqa: F401  (cached_net: imported from here by tests)
from coordstudio.simulation.scenario import (
    CATEGORY_PARAMETERS,
    DEVICE_CATEGORIES,
    DeviceGroupSpec,
    FeederSpec,
    ParamDistribution,
    ScenarioSpec,
)
from coordstudio.simulation.scenario.bundled_grids import bundled_net

logger = logging.getLogger(__name__)

PROFILE_NAMES: tuple[str, ...] = ("load", "pv", "wind", "flat", "ambient_temp_c", "lighting", "heat")


@dataclass
class NodeTable:
    """Every node of the scenario: transmission buses, detailed-feeder buses, copper-plate nodes.

    Attributes
    ----------
    name: node names (the market layer's ids): ``t<bus>`` (transmission), ``<feeder_id>:<bus>``
        (detailed feeder), ``<node_id>``
        (copper plate).
    area: ``transmission``, a feeder id or a copper-plate node id.
    kind: ``transmission``, ``feeder`` or ``copper``.
    bus: bus index in the node's own pandapower net (-1 for copper-plate nodes).
    interface_bus: transmission bus the node's area connects to (its own bus for transmission nodes).
    dso: DSO id of the node's area ("" for transmission).
    """

    name: list[str]
    area: np.ndarray
    kind: np.ndarray
    bus: np.ndarray
    interface_bus: np.ndarray
    dso: np.ndarray

    def __len__(self) -> int:
        return len(self.name)

    def index(self, name: str) -> int:
        """Index of node ``name``."""
        return self._lookup[name]

    @functools.cached_property
    def _lookup(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.name)}


@dataclass
class Scenario:
    """The concrete scenario one simulation runs on.

    Attributes
    ----------
    spec: the specification it was built from.
    transmission_net: pandapower net of the transmission grid (ratings and loads already scaled).
    feeder_nets: feeder id -> pandapower net of that detailed distribution grid.
    feeder_ext_bus: feeder id -> bus of its net that connects to the transmission grid.
    nodes: the node table.
    devices: category -> all devices of that category.
    device_ids: category -> device id per device (``<group_id>#<k>``), for error messages; computed when
        one is asked for (:class:`simulation.devices.DeviceNames`), not held as millions of strings.
    aggregators: aggregator ids; ``aggregator_area[i]`` is the area of aggregator ``i``.
    profiles: profile name -> value per physical step (load: fraction of the profile's peak over the
        source's whole year; pv, wind: fraction of capacity; degC).
    imbalance_mw: true system imbalance per market step (positive: deficit, the TSO needs upward energy).
    imbalance_forecast_mw: the TSO's forecast of it per market step.
    tso_gens: transmission generators' flexibility table (pandapower id, bus, p_max_mw, flex_mw, cost).
    """

    spec: ScenarioSpec
    transmission_net: Any
    feeder_nets: dict[str, Any]
    feeder_ext_bus: dict[str, int]
    nodes: NodeTable
    devices: dict[str, DeviceArrays]
    device_ids: dict[str, DeviceNames]
    aggregators: list[str]
    aggregator_area: list[str]
    profiles: dict[str, np.ndarray]
    imbalance_mw: np.ndarray
    imbalance_forecast_mw: np.ndarray
    tso_gens: dict[str, np.ndarray]
    feeder_base_load_mw: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_devices(self) -> int:
        """Number of devices of every category."""
        return sum(len(d) for d in self.devices.values())


# --------------------------------------------------------------------------------------------- grids


def run_pf(net: Any, **kw: Any) -> None:
    """pandapower AC power flow without numba (no warning, no JIT compilation per process) and with
    pandapower's own Newton-Raphson: ``lightsim2grid=False``, because pandapower's default (``"auto"``)
    switches to lightsim2grid's solver whenever that package happens to be installed, and the study's
    results then change. Both solvers stop at the same mismatch tolerance and their voltages differ by
    about 1e-15 pu, but that is enough to move the markets to other optimal solutions among equals: on
    the default study's first 6 h, SBR's activation cost 1524.65 instead of 1524.69 EUR and CM's 1971
    instead of 1899 EUR (issue 21, BENCHMARKS.md). So the solver is a fixed choice, not the
    environment's."""
    import pandapower as pp

    kw.setdefault("lightsim2grid", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, **kw)


def _build_pf(net: Any, feeder: FeederSpec) -> None:
    """The power flow of a feeder's own loads while building the scenario: a grid that does not solve
    before anything is simulated is an input problem (loads scaled too far, a broken grid file), named
    with the feeder and the fields that cause it, not a pandapower exception."""
    from pandapower.auxiliary import ppException

    try:
        run_pf(net)
    except (ppException, np.linalg.LinAlgError, FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        raise ScenarioError(
            f"feeder {feeder.feeder_id!r}: the power flow of the grid's own loads does not converge "
            f"({type(exc).__name__}); check fields load_scale_frac ({feeder.load_scale_frac:g}) and "
            "case_name/grid_file"
        ) from None


def _prepare_transmission(spec: ScenarioSpec) -> Any:
    ts = spec.transmission
    if ts.grid_file:
        net = load_net("file", ts.grid_file, ts.grid_format)
    else:
        net = bundled_net(ts.case_name)  # from the user's cache: not rebuilt from JSON each run
    net.line["max_i_ka"] = net.line["max_i_ka"] * ts.line_rating_factor
    net.load["p_mw"] = net.load["p_mw"] * ts.load_scale_frac
    net.load["q_mvar"] = net.load["q_mvar"] * ts.load_scale_frac
    net.load["base_p_mw"] = net.load["p_mw"]
    net.load["base_q_mvar"] = net.load["q_mvar"]
    net.bus["min_vm_pu"] = ts.vm_min_pu
    net.bus["max_vm_pu"] = ts.vm_max_pu
    return net


def _prepare_feeder(fs: FeederSpec) -> tuple[Any, int]:
    if fs.grid_file:
        net = load_net("file", fs.grid_file, fs.grid_format)
    else:
        net = bundled_net(fs.case_name) if fs.source == "pandapower" else load_net(fs.source, fs.case_name)
    if fs.source == "simbench":
        # keep the grid as SimBench ships it, without its own profiles; loads at peak are the base
        net.profiles = {}
    if len(net.ext_grid) != 1:
        raise ScenarioError(
            f"feeder {fs.feeder_id!r}: grid {fs.case_name} has {len(net.ext_grid)} external grids; "
            "a detailed distribution grid needs exactly one connection to the transmission grid"
        )
    for tbl in ("sgen", "gen", "storage"):
        if tbl in net and len(net[tbl]):
            net[tbl] = net[tbl].iloc[0:0]  # DER come from the device groups, not from the case data
    net.load["p_mw"] = net.load["p_mw"] * fs.load_scale_frac
    net.load["q_mvar"] = net.load["q_mvar"] * fs.load_scale_frac
    net.load["base_p_mw"] = net.load["p_mw"]
    net.load["base_q_mvar"] = net.load["q_mvar"]
    ext_bus = int(net.ext_grid.bus.iloc[0])
    _rate_feeder_lines(net, fs)
    net.bus["min_vm_pu"] = fs.vm_min_pu
    net.bus["max_vm_pu"] = fs.vm_max_pu
    # SCADA equipment: an on-load tap changer at the substation (transformer if there is one, otherwise the
    # external grid's voltage set-point stands for it) and a capacitor bank at the weakest bus.
    net.ext_grid["vm_pu"] = 1.0 if fs.source == "pandapower" else float(net.ext_grid.vm_pu.iloc[0])
    if fs.q_compensation_mvar > 0:
        import pandapower as pp

        _build_pf(net, fs)
        weakest = int(net.res_bus.vm_pu.idxmin())
        pp.create_shunt(
            net,
            weakest,
            q_mvar=-fs.q_compensation_mvar,
            p_mw=0.0,
            in_service=False,
            name=f"{fs.feeder_id} capacitor bank",
        )
    return net, ext_bus


def unrated_lines(net: Any) -> np.ndarray:
    """Mask of the lines whose data give no thermal rating: ``max_i_ka`` missing, NaN, not positive, or at
    pandapower's placeholder for none (99999 kA in the MATPOWER imports such as case33bw; 1e3 kA and above
    here, beyond any distribution cable)."""
    if "max_i_ka" not in net.line:
        return np.ones(len(net.line), bool)
    i_max = net.line.max_i_ka.to_numpy(dtype=float)
    return ~np.isfinite(i_max) | (i_max <= 0) | (i_max >= 1e3)


def _rate_feeder_lines(net: Any, fs: FeederSpec) -> None:
    """Each feeder line's thermal rating (``max_i_ka``), in the order the data allow.

    1. ``line_rating_mva`` given: every line gets ``I = S / (sqrt(3) * V_kV)`` at its from-bus voltage.
    2. Otherwise each line keeps its own ``max_i_ka``, so the market (which derives its branch ratings from
       it, :func:`simulation.market.grids._pandapower_rate_a`: ``S = sqrt(3) * V_kV * I_kA``) and physics
       (pandapower's ``loading_percent``, the protections) read the same rating as pandapower defines it.
    3. Only lines whose data give none (:func:`unrated_lines`) get the documented fallback, (1 +
       ``unrated_line_margin_frac``) x their current in a power flow of the grid's own loads (at least 5 %
       of the largest), and a warning naming the feeder and how many lines took it.

    ``line_rating_factor`` multiplies the result. Transformers keep their ``sn_mva``.
    """
    vn = net.bus.vn_kv.loc[net.line.from_bus].to_numpy(dtype=float)
    if fs.line_rating_mva is not None:
        net.line["max_i_ka"] = fs.line_rating_mva / (np.sqrt(3) * vn)
    else:
        unrated = unrated_lines(net)
        if unrated.any():
            _build_pf(net, fs)
            i_base = net.res_line.i_ka.reindex(net.line.index).fillna(0.0).to_numpy(dtype=float)
            i_floor = 0.05 * float(np.nanmax(i_base)) if np.nanmax(i_base) > 0 else 0.01
            rating = np.maximum(i_base, i_floor) * (1.0 + fs.unrated_line_margin_frac)
            net.line.loc[unrated, "max_i_ka"] = rating[unrated]
            logger.warning(
                "feeder %r: %d of %d lines have no max_i_ka in grid %s; they are rated (1 + "
                "unrated_line_margin_frac = %g) x their current in a power flow of the grid's own loads "
                "(set line_rating_mva to give one)",
                fs.feeder_id,
                int(unrated.sum()),
                len(net.line),
                fs.grid_file or fs.case_name,
                1.0 + fs.unrated_line_margin_frac,
            )
    net.line["max_i_ka"] = net.line["max_i_ka"] * fs.line_rating_factor


def _node_table(spec: ScenarioSpec, tnet: Any, feeders: dict[str, Any]) -> NodeTable:
    names: list[str] = []
    area: list[str] = []
    kind: list[str] = []
    bus: list[int] = []
    ibus: list[int] = []
    dso: list[str] = []
    tbuses = set(int(b) for b in tnet.bus.index)
    for b in tnet.bus.index:
        names.append(f"t{int(b)}")
        area.append("transmission")
        kind.append("transmission")
        bus.append(int(b))
        ibus.append(int(b))
        dso.append("")
    for fs in spec.feeders:
        if fs.interface_bus not in tbuses:
            raise ScenarioError(
                f"feeder {fs.feeder_id!r}: field interface_bus {fs.interface_bus} is not a bus of the "
                f"transmission grid {spec.transmission.case_name}"
            )
        for b in feeders[fs.feeder_id].bus.index:
            names.append(f"{fs.feeder_id}:{int(b)}")
            area.append(fs.feeder_id)
            kind.append("feeder")
            bus.append(int(b))
            ibus.append(fs.interface_bus)
            dso.append(fs.dso_id)
    for cp in spec.copper_plate_nodes:
        if cp.interface_bus not in tbuses:
            raise ScenarioError(
                f"copper-plate node {cp.node_id!r}: field interface_bus {cp.interface_bus} is not a bus "
                f"of the transmission grid {spec.transmission.case_name}"
            )
        names.append(cp.node_id)
        area.append(cp.node_id)
        kind.append("copper")
        bus.append(-1)
        ibus.append(cp.interface_bus)
        dso.append(cp.dso_id)
    return NodeTable(
        name=names,
        area=np.array(area, dtype=object),
        kind=np.array(kind, dtype=object),
        bus=np.array(bus, dtype=np.int64),
        interface_bus=np.array(ibus, dtype=np.int64),
        dso=np.array(dso, dtype=object),
    )


# ------------------------------------------------------------------------------------------ profiles


def synthetic_load_shape(hours: np.ndarray) -> np.ndarray:
    """The synthetic load shape (morning, noon and evening bumps on a base), unscaled, periodic in 24 h."""
    h = np.asarray(hours, dtype=float) % 24.0
    return (
        0.45
        + 0.25 * np.exp(-(((h - 8.0) / 2.0) ** 2))
        + 0.55 * np.exp(-(((h - 19.5) / 2.5) ** 2))
        + 0.15 * np.exp(-(((h - 13.0) / 3.0) ** 2))
    )


def synthetic_load_peak() -> float:
    """Peak of :func:`synthetic_load_shape` over its own period (one day, sampled every second).

    The shape repeats every 24 h, so its peak over the day is its peak over any year; dividing by it (and
    not by the peak of the simulated window) keeps a step's load independent of the window's length.
    """
    return float(synthetic_load_shape(np.arange(86_400) / 3600.0).max())


def _synthetic_profiles(hours: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    h = hours % 24.0
    load = synthetic_load_shape(hours)
    pv = np.clip(np.sin(np.pi * (h - 5.5) / 15.0), 0.0, None) ** 1.5 * 0.85
    wind = np.clip(
        0.35 + 0.15 * np.sin(2 * np.pi * (h - 3.0) / 24.0) + np.cumsum(rng.normal(0, 0.01, h.size)), 0, 1
    )
    return {"load": load / synthetic_load_peak(), "pv": pv, "wind": wind}


def _simbench_profiles(spec: ScenarioSpec, hours: np.ndarray) -> dict[str, np.ndarray]:
    from coordstudio.simulation.scenario.simbench_profiles import grid_profile_tables

    ps = spec.profiles
    # the grid's profile tables, cached on disk: not the whole SimBench grid on every run (issue 21)
    prof = grid_profile_tables(ps.simbench_code)
    day0 = (ps.day_of_year - 1) * 96

    def year(table: str, column: str) -> np.ndarray:
        columns, values = prof[table]
        if column not in columns:
            raise ScenarioError(
                f"profiles: SimBench grid {ps.simbench_code} has no {table} profile {column!r} "
                f"(fields load_profile/pv_profile/wind_profile); known: {columns}"
            )
        return values[:, columns.index(column)]

    def pick(values: np.ndarray) -> np.ndarray:
        idx = day0 + np.floor(hours * 4.0).astype(int)
        idx = np.clip(idx, 0, values.size - 1)
        return values[idx]

    # the load profile is divided by its peak over SimBench's whole year (35,136 quarter-hours), not over
    # the simulated window: a step's load does not depend on how many steps are simulated, and a winter day
    # is loaded more than a summer day (issue 16 item 2)
    load_year = year("load", f"{ps.load_profile}_pload")
    return {
        "load": pick(load_year) / max(float(np.nanmax(load_year)), 1e-9),
        "pv": np.clip(pick(year("renewables", ps.pv_profile)), 0.0, 1.0),
        "wind": np.clip(pick(year("renewables", ps.wind_profile)), 0.0, 1.0),
    }


def _csv_profiles(spec: ScenarioSpec, n_steps: int) -> dict[str, np.ndarray]:
    import pandas as pd

    path = spec.profiles.csv_path
    if not path or not Path(path).is_file():
        raise ScenarioError(f"profiles: field csv_path {path!r} is not a readable file")
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ScenarioError(f"profile file {path}: cannot be read ({reason})") from None
    out: dict[str, np.ndarray] = {}
    for col in ("load", "pv", "wind", "ambient_temp_c"):
        if col not in frame:
            raise ScenarioError(f"profile file {path}: column {col!r} is missing")
        # text becomes NaN here, which the profile check below names by profile and step
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        if values.size < n_steps:
            raise ScenarioError(
                f"profile file {path}: column {col!r} has {values.size} rows, needs {n_steps}"
            )
        out[col] = values[:n_steps]
    # load: fractions of the file's own peak, taken over every row of the file (not only the rows simulated),
    # so a step's load does not depend on the window's length; a file already in fractions of its peak
    # (peak 1) is read unchanged
    full_load = pd.to_numeric(frame["load"], errors="coerce").to_numpy(dtype=float)
    finite = full_load[np.isfinite(full_load)]
    peak = float(finite.max()) if finite.size else 1.0
    if peak > 0:
        out["load"] = out["load"] / peak
    return out


def build_profiles(spec: ScenarioSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Profiles per physical step: load (fraction of the load profile's peak over its source's whole year),
    pv and wind (fraction of capacity), flat (1), ambient_temp_c, lighting (1 when dark), heat (CHP heat
    demand, fraction of rated heat).

    The load profile's reference is the peak of the whole source, never of the simulated window: SimBench's
    year, every row of the CSV file, the synthetic shape's own daily peak (:func:`synthetic_load_peak`).
    So a step's load is the same whether it is simulated alone or inside a longer run, and a grid's own
    loads (times ``load_scale_frac``) are its loads at the year's peak (issue 16 item 2).
    """
    t = spec.timing
    n = t.n_physical_steps
    hours = t.start_h + (np.arange(n) + 0.5) * t.physical_step_min / 60.0
    src = spec.profiles.source
    if src == "simbench":
        base = _simbench_profiles(spec, hours)
    elif src == "csv":
        base = _csv_profiles(spec, n)
    else:
        base = _synthetic_profiles(hours, rng)
    h = hours % 24.0
    out = dict(base)
    if "ambient_temp_c" not in out:
        out["ambient_temp_c"] = spec.profiles.ambient_temp_c + spec.profiles.ambient_temp_swing_c * np.cos(
            2 * np.pi * (h - 15.0) / 24.0
        )
    out["flat"] = np.ones(n)
    out["lighting"] = ((h < 5.5) | (h > 20.5)).astype(float)
    out["heat"] = np.clip(0.55 + 0.25 * out["load"] - 0.01 * (out["ambient_temp_c"] - 15.0), 0.1, 1.0)
    return out


def validate_profiles(profiles: dict[str, np.ndarray], source: str = "profiles") -> None:
    """Raise :class:`ScenarioError` naming the profile and step of the first NaN or infinite value."""
    for name, values in profiles.items():
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ScenarioError(f"{source}: profile {name!r} is not a number at step {int(bad[0])}")


# ------------------------------------------------------------------------------------------- devices


def sample(dist: ParamDistribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` values of one parameter distribution."""
    if dist.kind == "constant":
        return np.full(n, float(dist.value))  # type: ignore[arg-type]
    if dist.kind == "uniform":
        return rng.uniform(float(dist.low), float(dist.high), n)  # type: ignore[arg-type]
    values = rng.normal(float(dist.mean), float(dist.std), n)  # type: ignore[arg-type]
    if dist.low is not None or dist.high is not None:
        values = np.clip(values, dist.low, dist.high)
    return values


def _area_buses(
    group: DeviceGroupSpec, scenario_nodes: NodeTable, nets: dict[str, Any], tnet: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Node indices the group's devices may sit at, with weights."""
    area = group.area
    mask = scenario_nodes.area == area
    if not mask.any():
        raise ScenarioError(f"device group {group.group_id!r}: field area {area!r} has no node")
    area_nodes = np.flatnonzero(mask)
    if scenario_nodes.kind[area_nodes[0]] == "copper":
        return area_nodes[:1], np.ones(1)
    net = tnet if area == "transmission" else nets[area]
    bus_to_node = {int(scenario_nodes.bus[i]): int(i) for i in area_nodes}
    if group.buses is not None:
        missing = [b for b in group.buses if b not in bus_to_node]
        if missing:
            raise ScenarioError(
                f"device group {group.group_id!r}: field buses names bus {missing[0]}, which does not exist "
                f"in area {area!r}"
            )
        return np.array([bus_to_node[b] for b in group.buses]), np.ones(len(group.buses))
    loads = net.load.groupby("bus")["base_p_mw"].sum() if len(net.load) else None
    if loads is None or loads.sum() <= 0:
        return area_nodes, np.ones(area_nodes.size)
    nodes = np.array([bus_to_node[int(b)] for b in loads.index])
    return nodes, loads.to_numpy(dtype=float)


def _build_devices(
    spec: ScenarioSpec,
    nodes: NodeTable,
    nets: dict[str, Any],
    tnet: Any,
    agg_of_area: dict[str, list[int]],
    rng: np.random.Generator,
) -> tuple[dict[str, DeviceArrays], dict[str, DeviceNames]]:
    parts: dict[str, list[DeviceArrays]] = {c: [] for c in DEVICE_CATEGORIES}
    ids: dict[str, DeviceNames] = {c: DeviceNames() for c in DEVICE_CATEGORIES}
    for gi, group in enumerate(spec.device_groups):
        n = group.count
        cand, weight = _area_buses(group, nodes, nets, tnet)
        node = cand[rng.choice(cand.size, size=n, p=weight / weight.sum())] if n else np.zeros(0, np.int64)
        params = {p: sample(group.distribution(p), n, rng) for p in CATEGORY_PARAMETERS[group.category]}
        aggs = agg_of_area.get(group.area, [])
        if group.category == "noncontrollable_load" or not aggs:
            aggregator = np.full(n, -1, dtype=np.int32)
        else:
            aggregator = np.asarray(aggs, dtype=np.int32)[rng.integers(0, len(aggs), n)]
        arrays = DeviceArrays(
            category=group.category,
            group=np.full(n, gi, dtype=np.int32),
            node=node.astype(np.int32),
            aggregator=aggregator,
            params=params,
        )
        arrays.validate(len(nodes), DeviceNames([group.group_id], [n]))
        parts[group.category].append(arrays)
        ids[group.category].add_group(group.group_id, n)
    devices = {c: (concat_devices(parts[c]) if parts[c] else empty_devices(c)) for c in DEVICE_CATEGORIES}
    return devices, ids


def _rescale_feeder_loads(
    spec: ScenarioSpec, scen_nodes: NodeTable, nets: dict[str, Any], devices: dict[str, DeviceArrays]
) -> None:
    """Non-controllable loads of a detailed feeder take over the grid's own loads: their peak powers are
    scaled per bus so that they add up to the grid's load at that bus (the grid data fixes the load, the
    device group fixes how many meters carry it)."""
    nc = devices["noncontrollable_load"]
    for fs in spec.feeders:
        net = nets[fs.feeder_id]
        in_area = scen_nodes.area[nc.node] == fs.feeder_id if len(nc) else np.zeros(0, bool)
        if not in_area.any():
            continue
        bus_load_kw = (net.load.groupby("bus")["base_p_mw"].sum() * 1000.0).to_dict()
        for node in np.unique(nc.node[in_area]):
            sel = in_area & (nc.node == node)
            target = bus_load_kw.get(int(scen_nodes.bus[node]), 0.0)
            total = nc.params["p_peak_kw"][sel].sum()
            if total > 0 and target > 0:
                nc.params["p_peak_kw"][sel] *= target / total
        # the device loads replace the grid's own loads at buses that carry devices
        covered = {int(scen_nodes.bus[n]) for n in np.unique(nc.node[in_area])}
        net.load.loc[net.load.bus.isin(covered), ["p_mw", "q_mvar"]] = 0.0


# ---------------------------------------------------------------------------------------- imbalance


def _imbalance(spec: ScenarioSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    im = spec.imbalance
    t = spec.timing
    n = int(round(t.duration_h * 60)) // t.granularity_min
    hours = t.start_h + (np.arange(n) + 0.5) * t.granularity_min / 60.0
    h = hours % 24.0
    # deterministic part: schedule steps at the ramp hours (morning up-ramp, evening down-ramp)
    shape = im.daily_amplitude_mw * (np.exp(-(((h - 7.5) / 1.0) ** 2)) - np.exp(-(((h - 21.0) / 1.2) ** 2)))
    noise = np.zeros(n)
    sd = im.std_mw * np.sqrt(1.0 - im.autocorrelation**2)
    eps = rng.normal(0.0, sd, n)
    for k in range(n):
        noise[k] = (im.autocorrelation * noise[k - 1] if k else 0.0) + (
            eps[k] if k else rng.normal(0, im.std_mw)
        )
    true = shape + noise
    forecast = true + rng.normal(0.0, im.forecast_error_std_frac * im.std_mw, n)
    return true, forecast


# ---------------------------------------------------------------------------------------------- main


def build_scenario(spec: ScenarioSpec) -> Scenario:
    """Build the concrete scenario of ``spec`` (deterministic for a given ``spec.seed``).

    Raises
    ------
    ScenarioError
        Unknown grid, interface bus or area; a device at a bus that does not exist; a NaN, infinite or
        negative device parameter; a NaN in a profile. The message names the object and the field.
    """
    rng = np.random.default_rng(spec.seed)
    tnet = _prepare_transmission(spec)
    nets: dict[str, Any] = {}
    ext_bus: dict[str, int] = {}
    for fs in spec.feeders:
        nets[fs.feeder_id], ext_bus[fs.feeder_id] = _prepare_feeder(fs)
    nodes = _node_table(spec, tnet, nets)

    aggregators: list[str] = []
    agg_area: list[str] = []
    agg_of_area: dict[str, list[int]] = {}
    for area in [*spec.area_ids, "transmission"]:
        n_agg = spec.aggregators_per_area if area != "transmission" else 1
        for k in range(n_agg):
            agg_of_area.setdefault(area, []).append(len(aggregators))
            aggregators.append(f"AGG-{area}-{k + 1}")
            agg_area.append(area)

    devices, ids = _build_devices(spec, nodes, nets, tnet, agg_of_area, rng)
    _rescale_feeder_loads(spec, nodes, nets, devices)
    profiles = build_profiles(spec, rng)
    validate_profiles(profiles, f"profiles ({spec.profiles.source})")
    imbalance, forecast = _imbalance(spec, rng)

    gens = tnet.gen
    ts = spec.transmission
    tso_gens = {
        "id": gens.index.to_numpy(),  # pandapower ids (label-based writes of set-points)
        "bus": gens.bus.to_numpy(dtype=np.int64),
        "p_sched_mw": gens.p_mw.to_numpy(dtype=float),
        "p_max_mw": gens.max_p_mw.to_numpy(dtype=float) if "max_p_mw" in gens else gens.p_mw.to_numpy() * 1.3,
        "flex_mw": (gens.max_p_mw.to_numpy(dtype=float) if "max_p_mw" in gens else gens.p_mw.to_numpy() * 1.3)
        * ts.generator_flex_frac,
        "cost_eur_per_mwh": sample(ts.generator_cost_eur_per_mwh, len(gens), rng),
    }
    return Scenario(
        spec=spec,
        transmission_net=tnet,
        feeder_nets=nets,
        feeder_ext_bus=ext_bus,
        nodes=nodes,
        devices=devices,
        device_ids=ids,
        aggregators=aggregators,
        aggregator_area=agg_area,
        profiles=profiles,
        imbalance_mw=imbalance,
        imbalance_forecast_mw=forecast,
        tso_gens=tso_gens,
    )


def validate_scenario(scenario: Scenario) -> None:
    """Re-check a (possibly edited) concrete scenario: devices, nodes and profiles."""
    for cat, arrays in scenario.devices.items():
        arrays.validate(len(scenario.nodes), scenario.device_ids.get(cat))
    validate_profiles(scenario.profiles)
