"""Bring real grid data into a scenario: SimBench codes, pandapower JSON files and MATPOWER cases.

Three entry points, all returning a :class:`simulation.scenario.ScenarioSpec` (the small persisted
description; grids it references are written as pandapower JSON files next to it):

* :func:`load_grid_file` (from :mod:`simulation.grid_files`, the one home of grid-file reading, which
  :mod:`simulation.scenario.build` also uses) reads a pandapower JSON or MATPOWER file into a net.
* :func:`import_simbench` turns any SimBench code into a scenario: an EHV/HV code becomes the
  transmission grid; an MV or LV code becomes a detailed distribution grid attached to a transmission
  grid, with its static generators, loads and storage turned into device groups (one group per element so
  that every unit keeps its bus and rating), and the SimBench profiles as the scenario's profiles.
* :func:`import_grid` puts a pandapower JSON or MATPOWER case into an existing scenario as its
  transmission grid or as one more detailed distribution grid.

Why grids are rewritten to files: a detailed distribution grid must be radial for the market's SOCP
DistFlow model, and SimBench's MV grids are not always so as shipped (two HV/MV transformers in
parallel, closed ring switches). :func:`make_radial` merges parallel transformers into one element
(pandapower's ``parallel`` count, exact) and opens the remaining loops at the line with the least
flow, the way meshed MV grids are operated with open points. The file records the result, so the
study and the simulation see the same grid.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.grid_files import load_grid_file, load_net, save_grid_file
from coordstudio.simulation.scenario import (
    CopperPlateNodeSpec,
    DeviceGroupSpec,
    FeederSpec,
    ParamDistribution,
    ProfileSpec,
    ScenarioSpec,
    TransmissionGridSpec,
    default_scenario_spec,
)


def write_spec(spec: ScenarioSpec, path: str | Path) -> Path:
    """Write a scenario spec as YAML (or JSON for ``.json``), atomically."""
    import json

    import yaml

    from coordstudio.simulation.fileio import atomic_write_text

    path = Path(path)
    data = spec.model_dump(mode="json", exclude_defaults=False)
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=1)
    else:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: ~10x faster at full scale
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, width=110)
    return atomic_write_text(path, text)


def read_spec(path: str | Path) -> ScenarioSpec:
    """Read a scenario spec (YAML or JSON); a bare study file's ``scenario:`` section is accepted too."""
    from pydantic import ValidationError

    from coordstudio.simulation.safe_yaml import read_data_file

    path = Path(path)
    raw = read_data_file(path)  # C parser, duplicate keys, depth and size checked; one line naming the file
    if isinstance(raw, dict) and "scenario" in raw and "schema_version" in raw:
        raw = raw["scenario"]
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split())
        raise ScenarioError(f"scenario file {path}: {loc}: {msg}") from None


# --------------------------------------------------------------------------------------------- radial


def make_radial(net: Any, name: str = "grid") -> list[str]:
    """Make a distribution grid radial in place; return what was changed (for the import log).

    Buses joined by closed bus-bus switches are one node (as in pandapower's internal model). Among the
    in-service lines and two-winding transformers, a spanning tree is kept; a transformer parallel to a
    kept transformer (same two nodes) is merged into it (``parallel`` += its count, which is exact for
    identical units and keeps the rating); any other branch closing a loop is switched out of service,
    preferring to open lines (the open point of a meshed MV ring).
    """
    import networkx as nx

    changes: list[str] = []
    # node of each bus: union of buses linked by closed bus-bus switches
    uf = nx.utils.UnionFind(int(b) for b in net.bus.index)
    if len(net.switch):
        bb = net.switch[(net.switch.et == "b") & net.switch.closed]
        for a, b in zip(bb.bus.to_numpy(), bb.element.to_numpy(), strict=True):
            uf.union(int(a), int(b))
    open_line = set()
    if len(net.switch):
        ls = net.switch[(net.switch.et == "l") & ~net.switch.closed]
        open_line = {int(x) for x in ls.element.to_numpy()}
    graph = nx.Graph()
    graph.add_nodes_from({uf[int(b)] for b in net.bus.index[net.bus.in_service.to_numpy(bool)]})
    trafo_of_edge: dict[tuple[int, int], int] = {}
    # transformers first (never opened if avoidable), then lines
    for idx, row in net.trafo[net.trafo.in_service.to_numpy(bool)].iterrows():
        a, b = uf[int(row.hv_bus)], uf[int(row.lv_bus)]
        key = (min(a, b), max(a, b))
        if key in trafo_of_edge:
            keep = trafo_of_edge[key]
            net.trafo.at[keep, "parallel"] = int(net.trafo.at[keep, "parallel"]) + int(row.parallel)
            net.trafo.at[idx, "in_service"] = False
            changes.append(f"{name}: transformer {idx} merged into parallel transformer {keep}")
            continue
        if graph.has_node(a) and graph.has_node(b) and nx.has_path(graph, a, b):
            net.trafo.at[idx, "in_service"] = False
            changes.append(f"{name}: transformer {idx} opened (it closed a loop)")
            continue
        trafo_of_edge[key] = int(idx)
        graph.add_edge(a, b)
    for idx, row in net.line[net.line.in_service.to_numpy(bool)].iterrows():
        if int(idx) in open_line:
            continue
        a, b = uf[int(row.from_bus)], uf[int(row.to_bus)]
        if a == b or nx.has_path(graph, a, b):
            net.line.at[idx, "in_service"] = False
            changes.append(f"{name}: line {idx} opened (it closed a loop)")
            continue
        graph.add_edge(a, b)
    return changes


def prepare_distribution_grid(net: Any, name: str) -> list[str]:
    """Make ``net`` usable as a detailed distribution grid: one external grid, radial, no profiles.

    Returns the changes made. Raises :class:`ScenarioError` when the grid has no external grid.
    """
    if len(net.ext_grid) == 0:
        raise ScenarioError(f"grid {name}: has no external grid (the connection to the transmission grid)")
    if len(net.ext_grid) > 1:
        keep = net.ext_grid.index[0]
        net.ext_grid = net.ext_grid.loc[[keep]]
    changes = make_radial(net, name)
    if hasattr(net, "profiles"):
        net.profiles = {}
    from coordstudio.simulation.generator.transmission import reindex_elements

    reindex_elements(net)  # element rows 0..n-1: the platform uses create_* ids as row positions
    return changes


# ----------------------------------------------------------------------------------------- SimBench

SIMBENCH_DISTRIBUTION_LEVELS: tuple[str, ...] = ("MV", "LV", "MVLV")
SIMBENCH_TRANSMISSION_LEVELS: tuple[str, ...] = ("EHV", "HV", "EHVHV", "HVMV")

# SimBench static-generator types -> (device category, profile). Types not listed become curtailable
# variable RES with a flat profile (assumption).
_SGEN_CATEGORY: dict[str, tuple[str, str]] = {
    "PV": ("variable_res", "pv"),
    "Wind": ("variable_res", "wind"),
    "Hydro": ("variable_res", "flat"),
    "Biomass": ("chp", "flat"),
    "Gas": ("chp", "flat"),
    "Lignite": ("conventional", "flat"),
    "Hard_coal": ("conventional", "flat"),
    "Coal": ("conventional", "flat"),
    "Nuclear": ("conventional", "flat"),
    "Oil": ("conventional", "flat"),
    "Waste": ("chp", "flat"),
}


def simbench_level(code: str) -> str:
    """Voltage level token of a SimBench code (``1-MV-rural--0-sw`` -> ``MV``)."""
    parts = code.split("-")
    if len(parts) < 3:
        raise ScenarioError(f"SimBench code {code!r}: malformed (expected e.g. 1-MV-rural--0-sw)")
    return parts[1]


def load_simbench(code: str) -> Any:
    """A SimBench grid by code (offline, from the installed ``simbench`` package)."""
    import simbench

    known = set(simbench.collect_all_simbench_codes())
    if code not in known:
        close = sorted(c for c in known if c.split("-")[1:3] == code.split("-")[1:3])[:4]
        raise ScenarioError(f"SimBench code {code!r}: unknown; e.g. {close or sorted(known)[:4]}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simbench.get_simbench_net(code)


def _unit_groups(net: Any, area: str, prefix: str) -> list[DeviceGroupSpec]:
    """One device group per static generator and storage unit of ``net`` (keeps bus and rating)."""
    groups: list[DeviceGroupSpec] = []
    if len(net.sgen):
        types = net.sgen["type"].astype(str) if "type" in net.sgen else None
        for k, (idx, row) in enumerate(net.sgen.iterrows()):
            kind = types.loc[idx].split("_")[0] if types is not None else "PV"
            kind = (
                "Hard_coal" if str(types.loc[idx] if types is not None else "").startswith("Hard") else kind
            )
            category, profile = _SGEN_CATEGORY.get(kind, ("variable_res", "flat"))
            p_kw = max(float(row.p_mw) * 1000.0, 0.0)
            if category == "variable_res":
                params = {"p_max_kw": ParamDistribution(kind="constant", value=p_kw)}
            else:
                params = {"p_max_kw": ParamDistribution(kind="constant", value=p_kw)}
            groups.append(
                DeviceGroupSpec(
                    group_id=f"{prefix}sgen{k}-{kind.lower()}",
                    category=category,  # type: ignore[arg-type]
                    area=area,
                    count=1,
                    buses=[int(row.bus)],
                    profile=profile if category == "variable_res" else None,  # type: ignore[arg-type]
                    parameters=params,
                )
            )
    if "storage" in net and len(net.storage):
        for k, (_idx, row) in enumerate(net.storage.iterrows()):
            p_kw = max(abs(float(row.p_mw)) * 1000.0, 1.0)
            e_kwh = float(row.max_e_mwh) * 1000.0 if np.isfinite(row.get("max_e_mwh", np.nan)) else 2 * p_kw
            groups.append(
                DeviceGroupSpec(
                    group_id=f"{prefix}storage{k}",
                    category="storage",
                    area=area,
                    count=1,
                    buses=[int(row.bus)],
                    parameters={
                        "p_max_kw": ParamDistribution(kind="constant", value=p_kw),
                        "e_max_kwh": ParamDistribution(kind="constant", value=max(e_kwh, 1.0)),
                    },
                )
            )
    return groups


def _load_groups(net: Any, area: str, prefix: str, meters_per_load: int) -> list[DeviceGroupSpec]:
    """Non-controllable load at every load bus (``meters_per_load`` devices per load element)."""
    groups: list[DeviceGroupSpec] = []
    if len(net.load) == 0:
        return groups
    buses = sorted({int(b) for b in net.load.bus.to_numpy()})
    # the builder rescales device loads per bus to the grid's own load, so only the spread matters here
    groups.append(
        DeviceGroupSpec(
            group_id=f"{prefix}load",
            category="noncontrollable_load",
            area=area,
            count=meters_per_load * len(buses),
            buses=buses,
            profile="load",
        )
    )
    return groups


def import_simbench(
    code: str,
    out_dir: str | Path,
    transmission_case: str = "case118",
    interface_bus: int | None = None,
    flexibility: bool = True,
    seed: int = 20190601,
) -> ScenarioSpec:
    """A scenario built on SimBench grid ``code`` (grid JSON written to ``out_dir``).

    * EHV/HV codes (``1-EHV-mixed--0-sw``, ``1-HV-urban--0-sw``, ...): the grid is the transmission
      grid (its static generators stay in the net as scheduled injections), with one copper-plate
      distribution node at each of its five largest load buses holding the default flexible devices.
    * MV/LV codes: the grid is one detailed distribution grid (made radial, see :func:`make_radial`) at
      ``interface_bus`` of ``transmission_case`` (default: the case's largest load bus); every static
      generator and storage unit becomes a one-device group at its bus with its rating; loads become
      non-controllable meters; ``flexibility`` adds EVs, heat pumps, wet appliances and street lights in
      proportion to the grid's load (assumption: 1 EV, 0.3 heat pump, 2 wet appliances and 0.2 street-light
      circuits per 10 kW of peak load).

    Profiles come from the same SimBench code (its load, PV and wind profiles).
    """
    out_dir = Path(out_dir)
    level = simbench_level(code)
    net = load_simbench(code)
    tag = code.replace(".", "_")
    prof_names = _simbench_profile_names(net)
    if {"load_profile", "pv_profile", "wind_profile"} <= set(prof_names):
        profiles = ProfileSpec(source="simbench", simbench_code=code, **prof_names)
    else:  # the code has no wind (or PV) profile: the default SimBench MV profiles stand in
        profiles = ProfileSpec(source="simbench")
    if level in SIMBENCH_TRANSMISSION_LEVELS:
        net.profiles = {}
        if len(net.ext_grid) == 0:
            raise ScenarioError(f"SimBench code {code!r}: the grid has no external grid (slack)")
        path = save_grid_file(net, out_dir / f"{tag}.json")
        loads = net.load.groupby("bus").p_mw.sum().sort_values(ascending=False)
        cps = [
            CopperPlateNodeSpec(node_id=f"CP{k + 1}", dso_id=f"DSO-{k + 1}", interface_bus=int(b))
            for k, b in enumerate(loads.index[:5])
        ]
        groups: list[DeviceGroupSpec] = []
        for cp in cps:
            groups += _flex_groups(cp.node_id, peak_kw=float(loads.loc[cp.interface_bus]) * 1000 * 0.05)
        return ScenarioSpec(
            name=f"simbench {code}",
            seed=seed,
            transmission=TransmissionGridSpec(grid_file=str(path.resolve()), case_name=code),
            copper_plate_nodes=cps,
            device_groups=groups,
            profiles=profiles,
        )
    if level not in SIMBENCH_DISTRIBUTION_LEVELS:
        raise ScenarioError(f"SimBench code {code!r}: voltage level {level!r} is not supported")
    changes = prepare_distribution_grid(net, code)
    groups = _unit_groups(net, "D1", "D1-") + _load_groups(net, "D1", "D1-", meters_per_load=3)
    for tbl in ("sgen", "storage"):
        if tbl in net and len(net[tbl]):
            net[tbl] = net[tbl].iloc[0:0]
    path = save_grid_file(net, out_dir / f"{tag}.json")
    peak_kw = float(net.load.p_mw.sum()) * 1000.0
    if flexibility:
        groups += _flex_groups("D1", peak_kw)
    tspec = TransmissionGridSpec(case_name=transmission_case)
    ibus = interface_bus if interface_bus is not None else _largest_load_bus(transmission_case)
    spec = ScenarioSpec(
        name=f"simbench {code}",
        seed=seed,
        transmission=tspec,
        feeders=[
            FeederSpec(
                feeder_id="D1",
                source="simbench",
                case_name=code,
                grid_file=str(path.resolve()),
                dso_id="DSO-1",
                interface_bus=ibus,
            )
        ],
        device_groups=groups,
        profiles=profiles,
    )
    _ = changes
    return spec


def _flex_groups(area: str, peak_kw: float) -> list[DeviceGroupSpec]:
    """Flexible residential devices in proportion to an area's peak load (see :func:`import_simbench`)."""
    per10 = max(peak_kw / 10.0, 0.0)
    counts = {"ev": 1.0, "tcl": 0.3, "shiftable_load": 2.0, "curtailable_load": 0.2}
    return [
        DeviceGroupSpec(
            group_id=f"{area}-{cat}",
            category=cat,
            area=area,  # type: ignore[arg-type]
            count=int(round(per10 * k)),
        )
        for cat, k in counts.items()
    ]


def _simbench_profile_names(net: Any) -> dict[str, str]:
    """Load/PV/wind profile names present in a SimBench net (the most frequent of each kind)."""
    out: dict[str, str] = {}
    tables = getattr(net, "profiles", {}) or {}
    load_cols = set(tables["load"].columns) if "load" in tables else set()
    ren_cols = [str(c) for c in tables["renewables"].columns] if "renewables" in tables else []
    if len(net.load) and "profile" in net.load:
        for name in net.load.profile.astype(str).value_counts().index:
            if f"{name}_pload" in load_cols:
                out["load_profile"] = str(name)
                break
    for key, prefix in (("pv_profile", "PV"), ("wind_profile", "WP")):
        used = net.sgen.profile.astype(str) if len(net.sgen) and "profile" in net.sgen else None
        cands = [c for c in ren_cols if c.startswith(prefix)]
        if used is not None:
            common = [c for c in used.value_counts().index if c in cands]
            cands = common + cands
        if cands:
            out[key] = cands[0]
    return out


def _largest_load_bus(case_name: str) -> int:
    net = load_net("pandapower", case_name)
    if len(net.load) == 0:
        return int(net.bus.index[0])
    return int(net.load.groupby("bus").p_mw.sum().idxmax())


# ------------------------------------------------------------------------------------- grid files


def import_grid(
    grid_path: str | Path,
    role: Literal["transmission", "feeder"],
    base: ScenarioSpec | None = None,
    out_dir: str | Path | None = None,
    feeder_id: str | None = None,
    interface_bus: int | None = None,
    dso_id: str = "DSO-1",
) -> ScenarioSpec:
    """Put a pandapower JSON or MATPOWER case into a scenario (``base``, default: the embedded default).

    ``role="transmission"``: the case replaces the transmission grid; feeders and copper-plate nodes of
    ``base`` whose interface bus does not exist in it move to the case's largest load buses (listed in
    the returned spec). ``role="feeder"``: the case becomes one more detailed distribution grid (made
    radial; the radial version is written to ``out_dir``) at ``interface_bus`` of the transmission grid,
    with non-controllable load meters at its load buses and flexible devices in proportion to its load.
    """
    spec = (base or default_scenario_spec()).model_copy(deep=True)
    grid_path = Path(grid_path)
    net = load_grid_file(grid_path)
    out = Path(out_dir) if out_dir is not None else grid_path.parent
    if role == "transmission":
        if len(net.ext_grid) == 0 and not (len(net.gen) and "slack" in net.gen and net.gen.slack.any()):
            raise ScenarioError(f"grid file {grid_path}: a transmission grid needs a slack (ext_grid)")
        # element rows numbered 0..n-1 (the platform uses create_* ids as row positions); buses keep
        # their ids so interface buses given by the user stay valid
        from coordstudio.simulation.generator.transmission import reindex_elements

        sparse = any(
            tbl in net and len(net[tbl]) and list(net[tbl].index) != list(range(len(net[tbl])))
            for tbl in ("load", "sgen", "gen", "ext_grid", "shunt")
        )
        if grid_path.suffix.lower() == ".json" and not sparse:
            path = grid_path
        else:
            reindex_elements(net)
            path = save_grid_file(net, out / f"{grid_path.stem}-imported.json")
        buses = [int(b) for b in net.bus.index]
        bus_set = set(buses)
        loads = (
            net.load.groupby("bus").p_mw.sum().sort_values(ascending=False).index.tolist()
            if len(net.load)
            else buses
        )
        spare = [int(b) for b in loads]
        moved: list[str] = []
        attached: list[FeederSpec | CopperPlateNodeSpec] = [*spec.feeders, *spec.copper_plate_nodes]
        for obj in attached:
            if obj.interface_bus not in bus_set:
                new_bus = spare[len(moved) % len(spare)]
                moved.append(
                    f"{getattr(obj, 'feeder_id', None) or getattr(obj, 'node_id', '')}: "
                    f"{obj.interface_bus} -> {new_bus}"
                )
                obj.interface_bus = new_bus
        spec.transmission = TransmissionGridSpec(
            **{
                **spec.transmission.model_dump(),
                "grid_file": str(Path(path).resolve()),
                "case_name": grid_path.stem,
            }
        )
        spec.scada.afrr_provider_buses = None
        return spec
    fid = feeder_id or f"F{len(spec.feeders) + 1}"
    if fid in spec.area_ids:
        raise ScenarioError(f"feeder {fid!r}: id is used already in the scenario (field feeder_id)")
    prepare_distribution_grid(net, str(grid_path))
    path = save_grid_file(net, out / f"{grid_path.stem}-radial.json")
    if interface_bus is None:
        interface_bus = (
            _largest_load_bus(spec.transmission.case_name)
            if not spec.transmission.grid_file
            else int(load_grid_file(spec.transmission.grid_file).bus.index[0])
        )
    spec.feeders.append(
        FeederSpec(
            feeder_id=fid,
            case_name=grid_path.stem,
            grid_file=str(path.resolve()),
            dso_id=dso_id,
            interface_bus=interface_bus,
        )
    )
    spec.device_groups += _load_groups(net, fid, f"{fid}-", meters_per_load=3)
    spec.device_groups += _flex_groups(fid, float(net.load.p_mw.sum()) * 1000.0 if len(net.load) else 0.0)
    return ScenarioSpec.model_validate(spec.model_dump())
