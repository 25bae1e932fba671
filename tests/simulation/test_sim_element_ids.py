"""The physical layer addresses pandapower elements by id, not by row position (regression, issue 8).

Grids from files (imports, the generator's cut of PEGASE, a user's JSON) may have sparse or shuffled
element ids and elements of their own. Reference: the same grid numbered 0..n-1 in its original row order
(identical physics, so identical results), and for SCADA the capacitor bank the scenario builder created.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
from sim_fixtures import small_spec

from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.scenario import ScenarioSpec
from coordstudio.simulation.scenario.build import build_scenario

OWN_SHUNT_MVAR = -0.05
"""A small capacitor of the feeder grid's own (pandapower sign: negative q_mvar injects), at bus 3, id 0."""


def _spec(tfile: Path | None, ffile: Path, **feeder: object) -> ScenarioSpec:
    d = small_spec(duration_h=1.0).model_dump()
    if tfile is not None:
        d["transmission"]["grid_file"] = str(tfile)
    d["feeders"][0]["grid_file"] = str(ffile)
    d["feeders"][0].update(feeder)
    d["imbalance"]["load_forecast_error_std_frac"] = 0.0
    return ScenarioSpec.model_validate(d)


def test_capacitor_bank_is_switched_by_its_id_when_the_feeder_has_shunts_of_its_own(tmp_path: Path) -> None:
    f = pn.case33bw()
    pp.create_shunt(f, 3, q_mvar=OWN_SHUNT_MVAR, p_mw=0.0, in_service=True, name="own shunt")
    pp.to_json(f, str(tmp_path / "feeder.json"))
    spec = _spec(None, tmp_path / "feeder.json", q_compensation_mvar=0.6)
    spec = spec.model_copy(update={"scada": spec.scada.model_copy(update={"tap_regulation": False})})
    scen = build_scenario(spec)
    net = PhysicalNetwork(scen)
    fnet = net.fnets["F1"]
    cap = fnet.shunt.index[fnet.shunt.name == "F1 capacitor bank"][0]
    own = fnet.shunt.index[fnet.shunt.name == "own shunt"][0]
    assert own == 0 and cap == 1
    n = net._feeder_node_idx["F1"].size
    actions: list[tuple[str, str, float]] = []
    # 120 kW + 40 kvar of load at every bus (3.8 MW, like case33bw's own): the far end falls below 0.95 p.u.
    net.feeder_step("F1", np.full(n, -0.12), np.full(n, -0.04), 1.0, None, actions)
    assert float(np.nanmin(fnet.res_bus.vm_pu)) < 0.95
    assert actions == [("F1", "capacitor", 1.0)]
    assert bool(fnet.shunt.at[cap, "in_service"]) and bool(fnet.shunt.at[own, "in_service"])
    # 0.25 MW of generation at every bus, no load: over-voltage -> the capacitor goes off, the own one stays
    actions.clear()
    net.feeder_step("F1", np.full(n, 0.25), np.zeros(n), 0.0, None, actions)
    assert actions == [("F1", "capacitor", 0.0)]
    assert not bool(fnet.shunt.at[cap, "in_service"]) and bool(fnet.shunt.at[own, "in_service"])


def _scramble(net, seed: int):  # type: ignore[no-untyped-def]
    """Sparse, unsorted element ids; line and load rows shuffled too (their order carries no data)."""
    rng = np.random.default_rng(seed)
    for tbl in ("load", "line", "gen", "ext_grid", "trafo"):
        df = net[tbl]
        if not len(df):
            continue
        if tbl in ("line", "load"):
            df = df.iloc[rng.permutation(len(df))]
        df.index = (np.arange(len(df)) * 7 + 3)[rng.permutation(len(df))]
        net[tbl] = df
    return net


def test_sparse_shuffled_element_ids_give_the_same_physics(tmp_path: Path) -> None:
    for tag, prep in (("ref", lambda net, seed: net), ("scr", _scramble)):
        pp.to_json(prep(pn.case30(), 1), str(tmp_path / f"t-{tag}.json"))
        pp.to_json(prep(pn.case33bw(), 2), str(tmp_path / f"f-{tag}.json"))
    results = {}
    for tag in ("ref", "scr"):
        spec = _spec(tmp_path / f"t-{tag}.json", tmp_path / f"f-{tag}.json")
        spec = spec.model_copy(
            update={"transmission": spec.transmission.model_copy(update={"line_rating_factor": 0.6})}
        )
        scen = build_scenario(spec)
        schedule = compute_schedule(scen)
        net = PhysicalNetwork(scen)
        k = 2
        draws = {a: float(schedule.area_draw_mw[a][k]) for a in spec.area_ids}
        gen = schedule.gen_mw[:, k] + 5.0 * scen.tso_gens["p_max_mw"] / scen.tso_gens["p_max_mw"].sum()
        afrr, residual, slack, losses = net.transmission_step(
            draws,
            {},
            np.zeros(net._t_node_idx.size),
            1.0,
            None,
            3.0,
            gen,
            None,
            float(schedule.nonslack_injection_mw[k]),
        )
        tripped = net.protect()
        tnet = net.tnet
        results[tag] = {
            "slack": slack,
            "losses": losses,
            "afrr": afrr,
            # by line end buses (ids differ between the two grids, buses do not)
            "tripped": sorted(
                (int(tnet.line.at[i, "from_bus"]), int(tnet.line.at[i, "to_bus"])) for _, i in tripped
            ),
            "gen_p": dict(zip(tnet.gen.bus, tnet.res_gen.p_mw.reindex(tnet.gen.index), strict=True)),
        }
    ref, scr = results["ref"], results["scr"]
    assert ref["tripped"], "the 60 % ratings make the protections trip (the test exercises them)"
    assert scr["tripped"] == ref["tripped"]
    for key in ("slack", "losses", "afrr"):
        assert abs(scr[key] - ref[key]) < 1e-6, key
    for bus, p in ref["gen_p"].items():
        assert abs(scr["gen_p"][bus] - p) < 1e-6, bus
