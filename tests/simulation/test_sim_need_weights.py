"""The TSO's need and the system imbalance are spread over the transmission loads by non-negative shares
that sum to 1 (regression, issue 8).

The reduced PEGASE grid of the Italian scenario has border equivalents that are negative loads; with
shares ``p / p.sum()`` the positive shares summed to about 3, so the TSO's need was inflated threefold.
Reference (hand-computed): three transmission loads of 30, 10 and -20 MW (all others 0) take shares
30/40 = 0.75, 10/40 = 0.25 and 0 (the old shares were 1.5, 0.5 and -1).
"""

from __future__ import annotations

import numpy as np
import pytest
from sim_fixtures import small_spec

import coordstudio.simulation.market as market
from coordstudio.simulation.errors import SolverFailedError
from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.physical.network import PhysicalNetwork, load_shares
from coordstudio.simulation.run import run_scheme
from coordstudio.simulation.scenario.build import build_scenario

LOADS_MW = (30.0, 10.0, -20.0)


def _scenario_with_border_equivalent():  # type: ignore[no-untyped-def]
    scen = build_scenario(small_spec(duration_h=1.0))
    load = scen.transmission_net.load
    p = np.zeros(len(load))
    p[: len(LOADS_MW)] = LOADS_MW
    load["base_p_mw"] = p
    load["p_mw"] = p
    load["base_q_mvar"] = 0.0
    load["q_mvar"] = 0.0
    return scen


def test_load_shares_are_non_negative_and_sum_to_one() -> None:
    w = load_shares(np.array([30.0, 10.0, -20.0, 0.0]))
    np.testing.assert_allclose(w, [0.75, 0.25, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(load_shares(np.array([-1.0, -2.0])), [0.5, 0.5], atol=1e-12)  # no positive


def test_system_imbalance_goes_to_the_positive_loads_only() -> None:
    scen = _scenario_with_border_equivalent()
    net = PhysicalNetwork(scen)
    imbalance = 10.0
    net.transmission_step(
        {}, {}, np.zeros(net._t_node_idx.size), 1.0, None, imbalance, scen.tso_gens["p_sched_mw"], None, 0.0
    )
    p = net.tnet.load.p_mw.to_numpy(float)[: len(LOADS_MW)]
    np.testing.assert_allclose(p, [30.0 + 7.5, 10.0 + 2.5, -20.0], atol=1e-9)


def test_tso_need_of_a_clearing_sums_to_the_system_need(monkeypatch: pytest.MonkeyPatch) -> None:
    scen = _scenario_with_border_equivalent()
    schedule = compute_schedule(scen)
    seen = []

    def fake_clear(case, scheme, options=None):  # type: ignore[no-untyped-def]
        seen.append(case.needs_mw)
        raise SolverFailedError("test: the need is recorded, nothing is cleared")

    monkeypatch.setattr(market, "clear", fake_clear)
    # clear() every interval (a market session would not call it; the need is the same on both paths)
    run_scheme(scen, schedule, "CM", None, market_sessions=False)
    needs = seen[0]  # first clearing: no measurement yet, the need is the TSO's imbalance forecast
    H = scen.spec.timing.steps_per_horizon
    forecast = scen.imbalance_forecast_mw[:H]
    assert abs(float(np.abs(forecast).sum())) > 0.1  # a need to spread
    buses = scen.transmission_net.load.bus.to_numpy()[: len(LOADS_MW)]
    assert set(needs) == {f"t{int(buses[0])}", f"t{int(buses[1])}"}
    np.testing.assert_allclose(sum(needs.values()), forecast, atol=1e-9)
    np.testing.assert_allclose(needs[f"t{int(buses[0])}"], 0.75 * forecast, atol=1e-9)
    np.testing.assert_allclose(needs[f"t{int(buses[1])}"], 0.25 * forecast, atol=1e-9)
