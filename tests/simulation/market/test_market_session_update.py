"""MarketSession.update: energy-group limits, a feeder's root voltage and its reactive loads are
parameters of the built model, so a re-clear after changing them keeps the model and gives the
optimum of a fresh clearing of the changed case (reference: ``clear()`` on a copy, objective to 1e-6
relative; hand-set limits that bind)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower.networks as pn
import pytest

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.market import (
    Bid,
    BidTable,
    DistributionGrid,
    EnergyConstraint,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
)

T = 3


def _case() -> MarketCase:
    """A two-node transmission grid with a case33bw feeder at T1; the cheap feeder offers form one
    energy group that may deliver at most 0.15 MWh over the horizon (0.19 MWh without the limit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feeder = DistributionGrid.from_pandapower(pn.case33bw(), "d0", interface_node="T1")
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    bids = [
        Bid.simple(f"f{k}", f"d0:{j}", "up", 0.2, 10.0 + k, T, energy_group="e1")
        for k, j in enumerate((5, 12, 18, 25, 30))
    ]
    bids += [Bid.simple("tA", "T0", "up", 50.0, 60.0, T), Bid.simple("tD", "T0", "down", 50.0, -10.0, T)]
    table = BidTable.from_bids(bids, T, [EnergyConstraint("e1", -10.0, 0.15)])
    needs = {"T1": [1.0, 0.8, 0.6]}
    return MarketCase(tg, table, needs, distribution=[feeder], timing=MarketTiming(horizon_steps=T))


def _group_energy_mwh(res: object, case: MarketCase) -> float:
    act = res.activations  # type: ignore[attr-defined]
    dt = case.timing.dt_h
    return float(act[act.bid_id.str.startswith("f")].activation_mw.sum() * dt)


def test_update_of_energy_limits_root_voltage_and_reactive_load_keeps_the_model() -> None:
    session = MarketSession(_case(), "CM")
    first = session.clear()
    assert _group_energy_mwh(first, session.case) == pytest.approx(0.15, abs=1e-6)  # the limit binds
    model = session._model
    q0 = session.case.distribution[0].base_q_mvar
    session.update(
        energy_limits_mwh={"e1": (-10.0, 0.1)},
        root_voltage_pu={"d0": 1.03},
        distribution_qload_mvar={"d0": q0 * 1.2},
    )
    again = session.clear()
    assert session._model is model  # parameters only, no rebuild
    assert _group_energy_mwh(again, session.case) == pytest.approx(0.1, abs=1e-6)
    fresh = clear(copy.deepcopy(session.case), "CM")
    # both within the 1e-6 pu cone tolerance of the exact optimum: 1e-6 relative
    assert again.objective_eur == pytest.approx(fresh.objective_eur, rel=1e-6)
    # the tighter limit moves 0.05 MWh from the cheap feeder offers to the 60 EUR/MWh one
    assert again.activation_cost_eur > first.activation_cost_eur
    # the root voltage reached the model: the root node clears at 1.03 p.u.
    vm = again.voltages.set_index(["node", "step"])["vm_pu"]
    vm0 = first.voltages.set_index(["node", "step"])["vm_pu"]
    root = vm0[np.isclose(vm0, 1.0, atol=1e-9)].index.get_level_values("node")[0]
    np.testing.assert_allclose(vm.loc[root].to_numpy(), 1.03, atol=1e-9)


def test_update_rejects_unknown_groups_and_grids() -> None:
    session = MarketSession(_case(), "CM")
    with pytest.raises(MarketError, match="energy group 'nope'"):
        session.update(energy_limits_mwh={"nope": (0.0, 1.0)})
    with pytest.raises(MarketError, match="distribution grid 'd9'"):
        session.update(root_voltage_pu={"d9": 1.0})
