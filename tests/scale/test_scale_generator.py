"""Scenario generator (issue 8): exact seed counts at a reduced scale, reproducibility, real-grid resizing.

Reference for the counts: the seed document's Italian 2030 data set (section THE ITALIAN SCENARIO),
copied literally below, times the scale factor and rounded (Python's round, at least 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulation.errors import ScenarioError
from simulation.generator import generate_scenario, spec_device_counts
from simulation.generator.transmission import BOUNDARY_LOAD_NAME, extend_transmission, reduce_transmission

SEED_COUNTS = {  # the seed document, literally
    "pv": 655_323,
    "wind_farm": 31,
    "large_chp": 20,
    "run_of_river_hydro": 1_833,
    "conventional": 308,
    "pumped_hydro": 13,
    "ev": 212_704,
    "wet_appliance": 1_489_193,
    "heat_pump": 68_481,
    "street_light": 33_783,
}
SCALE = 0.02


def _expected(n: int) -> int:
    return max(1, round(n * SCALE))


@pytest.fixture(scope="module")
def italy(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_scenario("italy-2030", tmp_path_factory.mktemp("italy"), seed=7, scale=SCALE)


def test_counts_are_exact_at_reduced_scale(italy) -> None:  # type: ignore[no-untyped-def]
    """Every device kind, the transmission buses (3,648), distribution nodes (2,410) and detailed grids
    (50) equal the seed's counts x 0.02, exactly (tolerance 0)."""
    counts = spec_device_counts(italy.spec)
    assert counts == {k: _expected(n) for k, n in SEED_COUNTS.items()}
    assert italy.counts == counts
    assert italy.transmission_nodes == round(3648 * SCALE) == 73
    assert len(italy.spec.feeders) + len(italy.spec.copper_plate_nodes) == round(2410 * SCALE) == 48
    assert len(italy.spec.feeders) == 1
    from simulation.imports import load_grid_file

    assert len(load_grid_file(italy.spec.transmission.grid_file).bus) == 73


def test_every_distribution_node_has_noncontrollable_load(italy) -> None:  # type: ignore[no-untyped-def]
    """The seed: non-controllable load in all distribution grids (and at some transmission nodes: the
    PEGASE loads at buses hosting no distribution node stay)."""
    areas_with_load = {g.area for g in italy.spec.device_groups if g.category == "noncontrollable_load"}
    assert areas_with_load == set(italy.spec.area_ids)
    from simulation.imports import load_grid_file

    tnet = load_grid_file(italy.spec.transmission.grid_file)
    real = tnet.load[(tnet.load.name != BOUNDARY_LOAD_NAME) & (tnet.load.p_mw > 0)]
    hosting = {cp.interface_bus for cp in italy.spec.copper_plate_nodes} | {
        f.interface_bus for f in italy.spec.feeders
    }
    assert len(real) > 0
    assert not set(real.bus) & hosting  # the load of hosting buses moved into the distribution nodes


def test_built_device_arrays_match_counts(italy) -> None:  # type: ignore[no-untyped-def]
    """The platform's builder turns the spec into numpy arrays with exactly the generated counts per
    category (variable RES = PV + wind farms + run-of-river hydro; storage = pumped hydro)."""
    from simulation.scenario import ProfileSpec
    from simulation.scenario.build import build_scenario

    spec = italy.spec.model_copy(update={"profiles": ProfileSpec(source="synthetic")})
    scenario = build_scenario(spec)
    c = italy.counts
    got = {cat: len(arr) for cat, arr in scenario.devices.items()}
    assert got["variable_res"] == c["pv"] + c["wind_farm"] + c["run_of_river_hydro"]
    assert got["ev"] == c["ev"]
    assert got["shiftable_load"] == c["wet_appliance"]
    assert got["tcl"] == c["heat_pump"]
    assert got["curtailable_load"] == c["street_light"]
    assert got["chp"] == c["large_chp"]
    assert got["conventional"] == c["conventional"]
    assert got["storage"] == c["pumped_hydro"]
    assert isinstance(scenario.devices["ev"].params["p_max_kw"], np.ndarray)


def test_detailed_grid_choice_by_dg_and_flexibility_per_load() -> None:
    """Hand-made 5 nodes: loads 50, 50, 50, 500, 5 MW; the 500 MW and 5 MW nodes are outside the MV band
    (15-100 MW) and skipped although the 5 MW one has the highest intensity; among the others the
    highest (DG/L)/mean + (F/L)/mean wins (hand computation in the comments)."""
    from simulation.generator.generate import choose_detailed, detailed_grid_score

    load = np.array([50.0, 50.0, 50.0, 500.0, 5.0])
    dg = np.array([10.0, 5.0, 0.0, 100.0, 10.0])  # DG/L: .2 .1 0 .2 2 -> mean .5
    fl = np.array([5.0, 10.0, 5.0, 50.0, 1.0])  # F/L: .1 .2 .1 .1 .2 -> mean .14
    score = detailed_grid_score(dg, fl, load)
    assert score[0] == pytest.approx(0.2 / 0.5 + 0.1 / 0.14)
    assert score[1] == pytest.approx(0.1 / 0.5 + 0.2 / 0.14)
    assert list(choose_detailed(score, load, 2)) == [1, 0]
    # fewer nodes in the band than asked: the closest outside (log distance to sqrt(15 * 100)) fill up
    assert list(choose_detailed(score, load, 4)) == [1, 0, 2, 4]


def test_same_seed_same_scenario_other_seed_other(tmp_path: Path) -> None:
    """Reproducible by seed: identical spec JSON for the same seed, different allocation for another."""
    a = generate_scenario("denmark-like", tmp_path / "a", seed=3, scale=0.05)
    b = generate_scenario("denmark-like", tmp_path / "b", seed=3, scale=0.05)
    c = generate_scenario("denmark-like", tmp_path / "c", seed=4, scale=0.05)

    def strip(spec):  # type: ignore[no-untyped-def]
        data = spec.model_dump(mode="json")
        data["transmission"]["grid_file"] = None
        for f in data["feeders"]:
            f["grid_file"] = None
        return json.dumps(data, sort_keys=True)

    assert strip(a.spec) == strip(b.spec)
    assert strip(a.spec) != strip(c.spec)
    assert (tmp_path / "a").joinpath(a.files[0].name).read_text() == (tmp_path / "b").joinpath(
        b.files[0].name
    ).read_text()


def test_reduction_preserves_the_full_cases_power_flow() -> None:
    """Flow-preserving cut of case89pegase to 40 buses: the reduced grid's AC power flow gives the full
    case's voltages at every kept bus (reference: pandapower AC power flow of the full case;
    tolerance 1e-8 p.u.)."""
    import pandapower.networks as pn

    net, report = reduce_transmission(pn.case89pegase(), 40, "case89pegase")
    assert len(net.bus) == 40
    assert report.max_vm_deviation_pu < 1e-8
    assert report.boundary_equivalents > 0


def test_extension_adds_loaded_radial_buses_and_keeps_total_load() -> None:
    """Extending case89pegase to 95 buses adds 6 buses, each with a load; the total load is unchanged
    (moved, not created; tolerance 1e-9 MW)."""
    import pandapower.networks as pn

    base = pn.case89pegase()
    total = float(base.load.p_mw.sum())
    net, report = extend_transmission(base, 95, np.random.default_rng(1), "case89pegase")
    assert len(net.bus) == 95
    assert report.method.startswith("extended")
    assert abs(float(net.load.p_mw.sum()) - total) < 1e-9
    assert net.load.bus.nunique() >= base.load.bus.nunique()


def test_bad_preset_and_scale_raise_scenario_error(tmp_path: Path) -> None:
    """Unknown preset and a non-positive scale: ScenarioError naming the preset / the field."""
    with pytest.raises(ScenarioError, match="preset 'atlantis'"):
        generate_scenario("atlantis", tmp_path)
    with pytest.raises(ScenarioError, match="field scale"):
        generate_scenario("italy-2030", tmp_path, scale=0.0)


def test_generated_transmission_tables_are_numbered_by_position(italy) -> None:  # type: ignore[no-untyped-def]
    """Buses and element rows are numbered 0..n-1 in the written grid (the platform uses the ids that
    pandapower's create functions return as row positions)."""
    from simulation.imports import load_grid_file

    net = load_grid_file(italy.spec.transmission.grid_file)
    for tbl in ("bus", "load", "gen", "line", "trafo"):
        assert list(net[tbl].index) == list(range(len(net[tbl]))), tbl


def test_unrated_transformers_get_a_rating_without_changing_the_power_flow() -> None:
    """case1354pegase transformers without a rating in the data (pandapower's 99.999 MVA placeholder) are
    re-rated to 1.3 x their flow with the same impedance: AC power flow voltages unchanged (reference: the
    case's own AC power flow; tolerance 1e-9 p.u.) and no transformer above 100 % loading (hand rule:
    a rating of 1.3 x the flow gives 77 %)."""
    import warnings

    import pandapower as pp
    import pandapower.networks as pn

    from simulation.generator.transmission import rate_unrated_transformers

    net = pn.case1354pegase()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
        before = net.res_bus.vm_pu.to_numpy().copy()
        assert rate_unrated_transformers(net) > 0
        pp.runpp(net, numba=False)
    assert np.max(np.abs(net.res_bus.vm_pu.to_numpy() - before)) < 1e-9
    assert float(net.res_trafo.loading_percent.max()) <= 100.0 + 1e-6
