"""Clearings with grids: SOCP DistFlow against pandapower's AC power flow, the five schemes against
each other, IFM against CM, the rolling-horizon session, and bad input."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from coordstudio.simulation.errors import MarketError, SolverUnavailableError
from coordstudio.simulation.market import (
    Bid,
    BidTable,
    ClearingOptions,
    CopperPlateNode,
    DistributionGrid,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
)

T = 6
NEEDS = [3.0, 2.5, 2.0, 2.0, 1.0, 0.5]


@pytest.fixture(scope="module")
def feeder_net():
    return pn.case33bw()


def _feeder_case(net, seed: int = 1, **grid_kw) -> MarketCase:
    """Two transmission nodes (line 200 MW), case33bw at T1; 20 distribution up bids of 0.1 MW at
    20..39 EUR/MWh; transmission up 50 @ 45 and down 50 @ -10 at T0; need at T1."""
    dg = DistributionGrid.from_pandapower(net, "d1", interface_node="T1", **grid_kw)
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    rng = np.random.default_rng(seed)
    bids = [
        Bid.simple(f"db{k}", f"d1:{j}", "up", 0.1, 20 + k, n_steps=T)
        for k, j in enumerate(rng.choice(np.arange(1, 33), 20, replace=False))
    ]
    bids += [
        Bid.simple("tA", "T0", "up", 50, 45, n_steps=T),
        Bid.simple("tD", "T0", "down", 50, -10, n_steps=T),
    ]
    return MarketCase(
        tg,
        BidTable.from_bids(bids, T),
        {"T1": NEEDS},
        distribution=[dg],
        timing=MarketTiming(horizon_steps=T),
        name="feeder case",
    )


def test_socp_cleared_point_matches_pandapower_ac_power_flow(feeder_net) -> None:
    """Reference: pandapower's Newton-Raphson AC power flow of case33bw with the cleared injections
    (each distribution activation lowers its bus's load). Losses and voltages within 1 %; cone
    violation reported and below the tolerance."""
    case = _feeder_case(feeder_net)
    opts = ClearingOptions(cone_tolerance=1e-6)
    res = clear(case, "CM", opts)
    assert 0 <= res.max_cone_violation < opts.cone_tolerance
    acts = res.activations
    for t in range(T):
        net = copy.deepcopy(feeder_net)
        for _, row in acts[(acts.step == t) & acts.node.str.startswith("d1:")].iterrows():
            bus = int(row.node.split(":")[1])
            pp.create_sgen(net, bus, p_mw=row.activation_mw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, numba=False, tolerance_mva=1e-10)
        losses_pf = net.res_line.pl_mw.sum()
        iface = res.interface[res.interface.step == t].iloc[0]
        assert iface.losses_mw == pytest.approx(losses_pf, rel=0.01)
        assert iface.import_mw == pytest.approx(net.res_ext_grid.p_mw.iloc[0], rel=0.01)
        vm = res.voltages[res.voltages.step == t].set_index("node").vm_pu
        vm_pf = net.res_bus.vm_pu.rename(lambda b: f"d1:{b}")
        assert np.allclose(vm.loc[vm_pf.index].to_numpy(), vm_pf.to_numpy(), rtol=0.01)
        assert np.abs(vm.loc[vm_pf.index].to_numpy() - vm_pf.to_numpy()).max() < 1e-3


def test_distribution_lmps_exceed_the_interface_price_by_the_marginal_losses(feeder_net) -> None:
    """With losses, an extra MW of need deep in the feeder costs more than at the root: the LMP at the
    far end of case33bw (bus 17) exceeds the root's, which equals the interface transmission price."""
    res = clear(_feeder_case(feeder_net), "CM")
    price = res.prices[res.prices.step == 0].set_index("node").price_eur_per_mwh
    assert price["d1:0"] == pytest.approx(price["T1"], rel=1e-6)
    assert price["d1:17"] > price["d1:0"] * 1.01


def test_highs_cuts_agree_with_scip_native_cones(feeder_net) -> None:
    """Reference: SCIP solving the same MISOCP with native quadratic cones (optional dependency)."""
    pytest.importorskip("pyscipopt", reason="SCIP (pip pyscipopt) is an optional solver")
    case = _feeder_case(feeder_net)
    h = clear(case, "CM")
    s = clear(case, "CM", ClearingOptions(solver="scip"))
    assert h.objective_eur == pytest.approx(s.objective_eur, rel=1e-4)


@pytest.mark.parametrize("scheme", ["LMS", "CM-D"])
def test_decentralised_equals_centralised_cost_when_no_distribution_limit_binds(feeder_net, scheme) -> None:
    """Reference: the centralised joint clearing (CM). With no distribution constraint binding, the
    TSO market fed with the DSO's residual curve reaches the same total cost within 0.1 %."""
    case = _feeder_case(feeder_net)
    cm = clear(case, "CM")
    dec = clear(case, scheme)
    assert dec.slack_energy_mwh == 0 and cm.slack_energy_mwh == 0
    assert dec.objective_eur == pytest.approx(cm.objective_eur, rel=1e-3)
    assert dec.max_cone_violation < 1e-6


def test_binding_voltage_limit_schemes_rank_as_expected(feeder_net) -> None:
    """With a tight voltage floor (0.93 pu) the scheduled state of case33bw violates it: every scheme
    that models the feeder (CM, LMS, CM-D, SBR) activates distribution bids to lift the voltage, and
    the joint clearing is the cheapest of them; CMS ignores the feeder (cheapest, but infeasible in
    reality)."""
    case = _feeder_case(feeder_net, vmin_pu=0.93)
    bids = list(case.bids.bid_id)
    q = case.bids.quantity_mw.copy()
    q[[i for i, b in enumerate(bids) if b.startswith("db")]] = 0.4
    case.bids.quantity_mw = q
    costs = {s: clear(case, s) for s in ("CM", "CM-D", "LMS", "SBR", "CMS")}
    for s in ("CM", "CM-D", "LMS", "SBR"):
        v = costs[s].voltages.vm_pu
        assert v.min() >= 0.93 - 1e-5, s
    assert costs["CM"].objective_eur <= costs["LMS"].objective_eur * (1 + 1e-3)
    assert costs["CM"].objective_eur <= costs["SBR"].objective_eur * (1 + 1e-3)
    assert costs["CM-D"].objective_eur == pytest.approx(costs["CM"].objective_eur, rel=5e-3)
    assert costs["CMS"].voltages.empty


def test_sbr_keeps_the_interface_on_schedule(feeder_net) -> None:
    """SBR: the DSO keeps its import on the schedule (a distribution need of 0.3 MW at bus 10 is covered
    by local bids), and the TSO covers its own need with transmission bids only."""
    case = _feeder_case(feeder_net)
    case.needs_mw = {"T1": NEEDS, "d1:10": 0.3}
    res = clear(case, "SBR")
    np.testing.assert_allclose(res.interface.import_mw, res.interface.schedule_mw, atol=1e-6)
    t_act = res.activations[res.activations.bid_id.isin(["tA", "tD"])].groupby("step").activation_mw.sum()
    np.testing.assert_allclose(t_act.to_numpy(), NEEDS, atol=1e-6)


def test_cms_prequalification_excludes_bids_that_break_distribution_limits(feeder_net) -> None:
    """CMS: a 3 MW downward bid at the feeder's far end (bus 17) would pull its voltage far below 0.9 pu:
    the DSO excludes it, and the TSO market does not see it."""
    case = _feeder_case(feeder_net)
    extra = BidTable.from_bids([Bid.simple("far", "d1:17", "down", 3.0, -50, n_steps=T)], T)
    case.bids = BidTable.concat([case.bids, extra])
    case.needs_mw = {"T1": -2.0}
    res = clear(case, "CMS")
    assert "far" in set(res.excluded_bids.bid_id)
    assert "far" not in set(res.activations.bid_id)
    res_off = clear(case, "CMS", ClearingOptions(prequalification=False))
    assert "far" in set(res_off.activations.bid_id)


def test_ifm_differs_from_cm_exactly_when_trade_is_worth_it() -> None:
    """A retailer bids to buy 5 MW upward at 20 EUR/MWh while the cheapest upward offer costs 30: no
    trade, IFM clears as CM. At 80 EUR/MWh the trade is worth 80 - 30 = 50 EUR/MWh: IFM activates 5 MW
    more of the 30-EUR bid, welfare 5*(80-30) = 250 EUR above CM's."""
    base = [Bid.simple("g30", "N", "up", 20, 30), Bid.simple("g50", "N", "up", 20, 50)]

    def case(pay: float) -> MarketCase:
        buy = Bid.simple("ret", "N", "up", 5, pay, side="buy", party="commercial")
        return MarketCase(
            TransmissionGrid.single_node("N"),
            BidTable.from_bids([*base, buy], 1),
            {"N": 10},
            timing=MarketTiming(horizon_steps=1, granularity_min=60),
        )

    low_cm, low_ifm = clear(case(20), "CM"), clear(case(20), "IFM")
    np.testing.assert_allclose(low_cm.activation_mw, low_ifm.activation_mw, atol=1e-7)
    assert low_ifm.objective_eur == pytest.approx(low_cm.objective_eur)
    high_cm, high_ifm = clear(case(80), "CM"), clear(case(80), "IFM")
    np.testing.assert_allclose(high_cm.activation_mw, low_cm.activation_mw, atol=1e-7)  # CM ignores the buyer
    assert high_ifm.activation_mw[0, 0] == pytest.approx(15)
    assert high_ifm.activation_mw[2, 0] == pytest.approx(5)
    assert high_ifm.welfare_eur - high_cm.welfare_eur == pytest.approx(250)


def test_copper_plate_distribution_node_sits_at_its_interface() -> None:
    """A copper-plate DSO node behind B: its bids face no distribution limit and are priced at B."""
    tg = TransmissionGrid.from_lines(["A", "B"], [("A", "B", 0.1, 50.0)])
    bids = BidTable.from_bids([Bid.simple("a", "A", "up", 100, 20), Bid.simple("dso", "D", "up", 100, 40)], 1)
    case = MarketCase(
        tg,
        bids,
        {"B": 80},
        copper_plates=[CopperPlateNode("D", "B")],
        timing=MarketTiming(horizon_steps=1, granularity_min=60),
    )
    for scheme in ("CM", "CMS", "LMS", "CM-D"):
        res = clear(case, scheme)
        assert res.activation_mw[:, 0] == pytest.approx([50, 30]), scheme
        price = dict(zip(res.prices.node, res.prices.price_eur_per_mwh, strict=True))
        assert price["D"] == pytest.approx(40)
    sbr = clear(case, "SBR")  # the copper-plate DSO has no need of its own; the TSO only has A
    assert sbr.activation_mw[:, 0] == pytest.approx([50, 0])
    assert sbr.slack_energy_mwh == pytest.approx(30)


def test_session_reclears_with_the_same_model_and_matches_a_fresh_clearing(feeder_net) -> None:
    """Rolling horizon: the session updates needs and prices in place; its result equals a fresh clear."""
    case = _feeder_case(feeder_net)
    session = MarketSession(copy.deepcopy(case), "CM")
    first = session.clear()
    assert first.objective_eur == pytest.approx(clear(case, "CM").objective_eur, rel=1e-7)
    new_needs = {"T1": [2.0, 2.0, 1.5, 1.0, 0.5, 0.5]}
    prices = case.bids.price_eur_per_mwh * 1.1
    model = session._model
    session.update(needs_mw=new_needs, price_eur_per_mwh=prices)
    second = session.clear()
    assert session._model is model
    case.needs_mw = new_needs
    case.bids.price_eur_per_mwh = prices
    fresh = clear(case, "CM")
    assert second.objective_eur == pytest.approx(fresh.objective_eur, rel=1e-6)
    # (bids at different feeder nodes differ in cost only through losses: compare totals per step)
    np.testing.assert_allclose(second.activation_mw.sum(axis=0), fresh.activation_mw.sum(axis=0), atol=1e-3)


def test_transmission_grid_from_pandapower_case9() -> None:
    """DC model of pandapower's case9: 9 nodes, 9 branches, base injections balanced; a clearing runs."""
    net = pn.case9()
    tg = TransmissionGrid.from_pandapower(net)
    assert tg.n_nodes == 9 and tg.n_branches == 9
    assert abs(tg.base_injection_mw.sum()) < 1e-6
    bids = BidTable.from_bids([Bid.simple("g", "t1", "up", 50, 30), Bid.simple("h", "t2", "up", 50, 40)], 1)
    res = clear(MarketCase(tg, bids, {"t5": 20}, timing=MarketTiming(horizon_steps=1)), "CM")
    assert res.activation_mw.sum() == pytest.approx(20)


# ---------------------------------------------------------------------------------------------- bad input
def test_unknown_node_is_named() -> None:
    bids = BidTable.from_bids([Bid.simple("b1", "nowhere", "up", 10, 30)], 1)
    case = MarketCase(TransmissionGrid.single_node("N"), bids, {"N": 5}, timing=MarketTiming(horizon_steps=1))
    with pytest.raises(MarketError, match="b1.*'node' = 'nowhere'"):
        clear(case, "CM")
    case2 = MarketCase(
        TransmissionGrid.single_node("N"), BidTable.empty(1), {"X": 5}, timing=MarketTiming(horizon_steps=1)
    )
    with pytest.raises(MarketError, match="'X' is not a node"):
        clear(case2, "CM")


def test_negative_quantity_is_named() -> None:
    with pytest.raises(MarketError, match="bid 'neg'.*'quantity_mw'.*negative"):
        BidTable.from_bids([Bid.simple("neg", "N", "up", -5, 30)], 1)


def test_non_radial_distribution_grid_names_the_loop() -> None:
    net = pn.case33bw()
    net.line.loc[net.line.index[-1], "in_service"] = True  # close one tie switch: a loop
    with pytest.raises(MarketError, match=r"not radial: loop d1:\d+ -> .*"):
        DistributionGrid.from_pandapower(net, "d1", interface_node="T1")


def test_missing_solver_is_a_clear_error() -> None:
    case = MarketCase(
        TransmissionGrid.single_node("N"),
        BidTable.from_bids([Bid.simple("b", "N", "up", 1, 1)], 1),
        {"N": 0.5},
        timing=MarketTiming(horizon_steps=1),
    )
    with pytest.raises(SolverUnavailableError, match="gurobi.*not available"):
        clear(case, "CM", ClearingOptions(solver="gurobi"))
    with pytest.raises(SolverUnavailableError, match="unknown solver 'glpk9'"):
        clear(case, "CM", ClearingOptions(solver="glpk9"))


def test_unknown_scheme_and_bad_values() -> None:
    case = MarketCase(
        TransmissionGrid.single_node("N"), BidTable.empty(1), {}, timing=MarketTiming(horizon_steps=1)
    )
    with pytest.raises(MarketError, match="unknown scheme 'XYZ'"):
        clear(case, "XYZ")
    with pytest.raises(MarketError, match="'direction'"):
        BidTable.from_bids([Bid.simple("b", "N", "sideways", 1, 1)], 1)
    with pytest.raises(MarketError, match="'horizon_steps'"):
        MarketTiming(horizon_steps=0)
    with pytest.raises(MarketError, match="not unique"):
        BidTable.from_bids([Bid.simple("b", "N", "up", 1, 1), Bid.simple("b", "N", "up", 1, 1)], 1)
    with pytest.raises(MarketError, match="'price_eur_per_mwh'.*not a finite"):
        BidTable.from_bids([Bid.simple("b", "N", "up", 1, math.nan)], 1)
