"""Physical layer: protections and aFRR (architecture brief, section 8)."""

from __future__ import annotations

import numpy as np
from sim_fixtures import small_spec

from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.scenario.build import build_scenario


def _feeder_inputs(scen, net):  # type: ignore[no-untyped-def]
    sel = net._feeder_node_idx["F1"]
    return np.full(sel.size, -0.1), np.full(sel.size, -0.03)  # 100 kW of load at every bus


def test_tripped_line_stays_out_of_service_in_later_power_flows() -> None:
    scen = build_scenario(small_spec())
    net = PhysicalNetwork(scen)
    fnet = net.fnets["F1"]
    p, q = _feeder_inputs(scen, net)
    net.feeder_step("F1", p, q, 1.0, None, [])
    line = int(np.nanargmax(fnet.res_line.loading_percent.to_numpy()))
    # make that line far too weak: the next power flow overloads it beyond the protection threshold
    fnet.line.loc[fnet.line.index[line], "max_i_ka"] = fnet.res_line.i_ka.iloc[line] / 3.0
    net.feeder_step("F1", p, q, 1.0, None, [])
    tripped = net.protect()
    assert ("F1", int(fnet.line.index[line])) in tripped
    for _ in range(3):  # later steps, even with a lighter load
        draw, _, unserved = net.feeder_step("F1", p, q, 0.5, None, [])
        assert not bool(fnet.line.in_service.iloc[line])
        assert (
            not np.isfinite(fnet.res_line.loading_percent.iloc[line])
            or fnet.res_line.p_from_mw.iloc[line] == 0
        )
        assert net.protect() == []  # not tripped twice
    assert unserved > 0  # the buses behind the open line lost their supply
    assert draw > 0


def test_afrr_covers_exactly_the_residual_imbalance() -> None:
    scen = build_scenario(small_spec())
    schedule = compute_schedule(scen)
    net = PhysicalNetwork(scen)
    rng = np.random.default_rng(5)
    for k in range(schedule.gen_mw.shape[1]):
        draws = {a: float(schedule.area_draw_mw[a][k] + rng.normal(0, 0.5)) for a in scen.spec.area_ids}
        t_dev = np.zeros(net._t_node_idx.size)
        imbalance = float(rng.normal(0, 5.0))
        gen = schedule.gen_mw[:, k] + rng.normal(0, 1.0, schedule.gen_mw.shape[0])  # some activations
        noise = rng.normal(0, 0.03, net._t_own_p.size)
        afrr, residual, slack, losses = net.transmission_step(
            draws,
            {},
            t_dev,
            float(schedule.load_frac[k]),
            noise,
            imbalance,
            gen,
            None,
            float(schedule.nonslack_injection_mw[k]),
        )
        # the residual, computed independently from what the grid carries
        t = net.tnet
        loads = t.load.p_mw.to_numpy().sum()
        expected = float(schedule.nonslack_injection_mw[k]) - (gen.sum() - loads)
        assert abs(residual - expected) < 1e-9
        assert abs(afrr - residual) < 1e-12
        # after aFRR the non-slack injections are back on schedule exactly ...
        assert abs((t.gen.p_mw.sum() - loads) - schedule.nonslack_injection_mw[k]) < 1e-9
        # ... so the slack only supplies the transmission losses on top of its schedule
        shunt_p = float(t.res_shunt.p_mw.sum()) if len(t.shunt) else 0.0
        assert abs(slack + schedule.nonslack_injection_mw[k] - losses - shunt_p) < 1e-6


def test_recycled_power_flows_equal_full_ones() -> None:
    """Reusing pandapower's internal model between structural changes gives the same flows."""
    scen = build_scenario(small_spec(duration_h=6.0, start_h=8.0))
    schedule = compute_schedule(scen)
    fast, full = PhysicalNetwork(scen), PhysicalNetwork(scen)
    rng = np.random.default_rng(9)
    sel = fast._feeder_node_idx["F1"]
    for k in range(schedule.gen_mw.shape[1]):
        inj = schedule.node_inj_mw[sel, k] * rng.uniform(0.7, 1.3, sel.size)
        imbalance = float(rng.normal(0, 3))
        out = []
        for net in (fast, full):
            if net is full:
                net._dirty.update({"F1", "transmission"})  # force a full rebuild every time
            draw, loss, _ = net.feeder_step(
                "F1", inj, np.minimum(inj, 0) * 0.33, float(schedule.load_frac[k]), None, []
            )
            draws = {a: float(schedule.area_draw_mw[a][k]) for a in scen.spec.area_ids} | {"F1": draw}
            res = net.transmission_step(
                draws,
                {},
                np.zeros(net._t_node_idx.size),
                float(schedule.load_frac[k]),
                None,
                imbalance,
                schedule.gen_mw[:, k],
                None,
                float(schedule.nonslack_injection_mw[k]),
            )
            out.append((draw, loss, *res))
        np.testing.assert_allclose(out[0][:6], out[1][:6], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(fast.fnets["F1"].res_bus.vm_pu, full.fnets["F1"].res_bus.vm_pu, atol=1e-8)
        assert fast.tap == full.tap
