"""Imports (issue 8): SimBench codes, pandapower JSON and MATPOWER cases into scenarios, and a
SimBench-based study end to end through the CBA."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.imports import import_grid, import_simbench, load_grid_file, make_radial
from coordstudio.simulation.kpis import SCHEME_IDS


def _pf(net):  # type: ignore[no-untyped-def]
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return net.res_bus.vm_pu.to_numpy().copy()


def test_make_radial_merges_parallel_transformers_exactly() -> None:
    """SimBench 1-MV-rural--0-sw has two HV/MV transformers in parallel (one loop). Merging them into one
    element with parallel=2 leaves a radial grid whose AC power flow equals the original's (reference:
    pandapower AC power flow of the unmodified grid; tolerance 1e-9 p.u.)."""
    import networkx as nx
    import pandapower.topology as top

    from coordstudio.simulation.imports import load_simbench

    net = load_simbench("1-MV-rural--0-sw")
    before = _pf(net)
    changes = make_radial(net, "rural")
    assert any("merged" in c for c in changes)
    after = _pf(net)
    assert np.max(np.abs(after - before)) < 1e-9
    graph = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False, multi=False)
    merged = nx.Graph(graph)
    assert nx.is_forest(merged)


def test_matpower_transmission_and_pandapower_feeder_build(tmp_path: Path) -> None:
    """case39 as a MATPOWER .mat file becomes the transmission grid (39 buses), case33bw as pandapower
    JSON one more detailed grid at bus 3; the platform builds it with the 33 feeder buses as nodes."""
    import pandapower as pp
    import pandapower.networks as pn
    from pandapower.converter.matpower import to_mpc

    from coordstudio.simulation.scenario import ProfileSpec
    from coordstudio.simulation.scenario.build import build_scenario

    net = pn.case39()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
        to_mpc(net, str(tmp_path / "c39.mat"), init="results")
    pp.to_json(pn.case33bw(), str(tmp_path / "f33.json"))
    spec = import_grid(tmp_path / "c39.mat", "transmission", out_dir=tmp_path)
    spec = import_grid(
        tmp_path / "f33.json", "feeder", base=spec, out_dir=tmp_path, interface_bus=3, feeder_id="X"
    )
    spec = spec.model_copy(update={"profiles": ProfileSpec(source="synthetic")})
    scenario = build_scenario(spec)
    assert len(scenario.transmission_net.bus) == 39
    assert int((scenario.nodes.area == "X").sum()) == 33
    assert len(scenario.devices["ev"]) > 0


def test_bad_grid_files_name_the_file(tmp_path: Path) -> None:
    """Missing file, unknown suffix, unknown SimBench code: ScenarioError naming the file or code."""
    with pytest.raises(ScenarioError, match="nope.json: not found"):
        load_grid_file(tmp_path / "nope.json")
    (tmp_path / "grid.txt").write_text("x")
    with pytest.raises(ScenarioError, match="unknown type '.txt'"):
        load_grid_file(tmp_path / "grid.txt")
    with pytest.raises(ScenarioError, match="SimBench code '1-MV-nowhere--0-sw': unknown"):
        import_simbench("1-MV-nowhere--0-sw", tmp_path)


def test_simbench_study_runs_end_to_end_through_the_cba(tmp_path: Path) -> None:
    """SimBench 1-LV-rural1--0-sw imported (its PV units as one-device groups at their buses), wrapped in a
    study and run through cba.study.run_study for one hour: five schemes' KPIs, a CBA whose reference
    scheme has NPV 0 (by definition of benefits relative to it; tolerance 1e-6 EUR), and the report files."""
    from coordstudio.cba.study import run_study
    from coordstudio.cba.sweep_cli import study_from_scenario_file
    from coordstudio.simulation.db import make_engine
    from coordstudio.simulation.imports import load_simbench, write_spec
    from coordstudio.simulation.progress import RecordingProgress

    spec = import_simbench("1-LV-rural1--0-sw", tmp_path)
    n_sgen = len(load_simbench("1-LV-rural1--0-sw").sgen)
    assert sum(1 for g in spec.device_groups if "sgen" in g.group_id) == n_sgen
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": 1.0})})
    write_spec(spec, tmp_path / "scenario.yaml")
    study = study_from_scenario_file(tmp_path / "scenario.yaml")
    db = f"sqlite:///{tmp_path / 'out' / 'results.sqlite'}"
    make_engine(db).dispose()  # create the tables once before the scheme processes open the file
    result = run_study(study, RecordingProgress(), tmp_path / "out", db_url=db)
    assert sorted(k.scheme for k in result.kpis) == sorted(SCHEME_IDS)
    assert all(k.day == spec.name for k in result.kpis)
    ref = result.cba.scheme(study.cba.reference_scheme)
    assert abs(ref.npv_eur) < 1e-6
    assert len(result.cba.ranking) == len(SCHEME_IDS)
    assert (tmp_path / "out" / "kpis.csv").is_file()
