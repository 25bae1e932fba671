"""Hand-checked clearings of tiny cases: merit order, fill-or-kill, congestion LMPs and the bid products.

Every expected number below is worked out by hand in the test's docstring (the reference).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    EnergyConstraint,
    MarketCase,
    MarketTiming,
    TransmissionGrid,
    clear,
)

HOUR = MarketTiming(horizon_steps=1, granularity_min=60, rolling=False)


def _one_node(bids: list[Bid], need: float | list[float], steps: int = 1, groups=()) -> MarketCase:
    return MarketCase(
        transmission=TransmissionGrid.single_node("N"),
        bids=BidTable.from_bids(bids, steps, groups),
        needs_mw={"N": need},
        timing=MarketTiming(horizon_steps=steps, granularity_min=60, rolling=False),
        name="hand case",
    )


def _act(res, bid: str, step: int = 0) -> float:
    rows = res.activations[(res.activations.bid_id == bid) & (res.activations.step == step)]
    return float(rows.activation_mw.sum())


def test_one_node_merit_order_price_is_the_marginal_bid() -> None:
    """Need 15 MW; offers 10 @ 30, 10 @ 50, 10 @ 70 EUR/MWh. Merit order: 10 MW @ 30 + 5 MW @ 50;
    cost 300 + 250 = 550 EUR; the marginal (partly taken) bid sets the price: 50 EUR/MWh."""
    bids = [
        Bid.simple("b30", "N", "up", 10, 30),
        Bid.simple("b50", "N", "up", 10, 50),
        Bid.simple("b70", "N", "up", 10, 70),
    ]
    res = clear(_one_node(bids, 15), "CM")
    assert _act(res, "b30") == pytest.approx(10)
    assert _act(res, "b50") == pytest.approx(5)
    assert _act(res, "b70") == pytest.approx(0)
    assert res.objective_eur == pytest.approx(550)
    assert res.prices.price_eur_per_mwh.iloc[0] == pytest.approx(50)
    assert res.status == "optimal" and res.slack.empty
    # pay-as-clear: both activated bids are paid 50 EUR/MWh
    assert res.payments_eur == pytest.approx(15 * 50)


def test_downward_need_takes_the_cheapest_down_bid() -> None:
    """Need -8 MW (system long); down offers: d1 10 MW where the SO receives 20 EUR/MWh (price -20),
    d2 where it pays 5 (price +5). Cheapest: d1 for 8 MW, cost -160 EUR; price of upward energy = +20
    (one more MW of upward need saves one MW of d1)."""
    bids = [Bid.simple("d1", "N", "down", 10, -20), Bid.simple("d2", "N", "down", 10, 5)]
    res = clear(_one_node(bids, -8), "CM")
    assert _act(res, "d1") == pytest.approx(8)
    assert res.objective_eur == pytest.approx(-160)
    assert res.prices.price_eur_per_mwh.iloc[0] == pytest.approx(20)


def test_fill_or_kill_skipped_when_too_large() -> None:
    """Need 15 MW; fill-or-kill 20 MW @ 30, curtailable 10 @ 50 and 10 @ 60. Taking the block would
    leave 5 MW surplus that only slack (10,000 EUR/MWh) absorbs: skipped. Cost 10*50 + 5*60 = 800."""
    bids = [
        Bid.simple("fok", "N", "up", 20, 30, fill_or_kill=True),
        Bid.simple("c50", "N", "up", 10, 50),
        Bid.simple("c60", "N", "up", 10, 60),
    ]
    res = clear(_one_node(bids, 15), "CM")
    assert _act(res, "fok") == 0
    assert res.objective_eur == pytest.approx(800)
    assert res.prices.price_eur_per_mwh.iloc[0] == pytest.approx(60)


def test_fill_or_kill_taken_exactly_when_cheaper() -> None:
    """Same, plus a down bid 10 MW @ 5: block 20 @ 30 = 600 plus 5 MW down @ 5 = 25, total 625 < 800,
    so the block is taken whole (20 MW, never 15) and the surplus goes to the down bid."""
    bids = [
        Bid.simple("fok", "N", "up", 20, 30, fill_or_kill=True),
        Bid.simple("c50", "N", "up", 10, 50),
        Bid.simple("c60", "N", "up", 10, 60),
        Bid.simple("d5", "N", "down", 10, 5),
    ]
    res = clear(_one_node(bids, 15), "CM")
    assert _act(res, "fok") == pytest.approx(20)
    assert _act(res, "d5") == pytest.approx(5)
    assert res.objective_eur == pytest.approx(625)
    # priced with the block fixed: the down bid is marginal, upward energy is worth -5
    assert res.prices.price_eur_per_mwh.iloc[0] == pytest.approx(-5)


def test_two_node_congestion_lmps_by_hand() -> None:
    """A -- B, one line of 50 MW, need 80 MW at B; A offers 100 @ 20, B offers 100 @ 60. Uncongested
    the whole 80 would come from A; the line carries at most 50, so A 50 MW, B 30 MW. LMP_A = 20 (A's
    bid is marginal there), LMP_B = 60; cost 50*20 + 30*60 = 2800 EUR; congestion rent (60-20)*50."""
    tg = TransmissionGrid.from_lines(["A", "B"], [("A", "B", 0.1, 50.0)])
    bids = BidTable.from_bids([Bid.simple("a", "A", "up", 100, 20), Bid.simple("b", "B", "up", 100, 60)], 1)
    res = clear(MarketCase(tg, bids, {"B": 80}, timing=HOUR), "CM")
    assert _act(res, "a") == pytest.approx(50)
    assert _act(res, "b") == pytest.approx(30)
    price = dict(zip(res.prices.node, res.prices.price_eur_per_mwh, strict=True))
    assert price["A"] == pytest.approx(20)
    assert price["B"] == pytest.approx(60)
    assert res.objective_eur == pytest.approx(2800)
    flow = res.branch_flows.p_mw.iloc[0]
    assert flow == pytest.approx(50)
    assert res.payments_eur - res.activation_cost_eur == pytest.approx(50 * 20 + 30 * 60 - 2800 + 0)


def test_three_node_loop_flow_lmps() -> None:
    """Triangle A-B-C with equal reactances, need 90 MW at C, A offers @ 10, B @ 30, line A-C rated 50.
    With equal x, injection at A flows 2/3 on A-C, 1/3 via B; at B 2/3 on B-C, 1/3 on B-A-C. With
    pA + pB = 90 and (2 pA + pB)/3 <= 50: pA = 60, pB = 30. LMP_C: one more MW at C costs
    d(cost) with d pA + d pB = 1, 2 d pA + d pB = 0 -> d pA = -1, d pB = 2: 2*30 - 10 = 50 EUR/MWh."""
    tg = TransmissionGrid.from_lines(
        ["A", "B", "C"], [("A", "B", 0.1, math.inf), ("B", "C", 0.1, math.inf), ("A", "C", 0.1, 50.0)]
    )
    bids = BidTable.from_bids([Bid.simple("a", "A", "up", 100, 10), Bid.simple("b", "B", "up", 100, 30)], 1)
    res = clear(MarketCase(tg, bids, {"C": 90}, timing=HOUR), "CM")
    assert _act(res, "a") == pytest.approx(60)
    assert _act(res, "b") == pytest.approx(30)
    price = dict(zip(res.prices.node, res.prices.price_eur_per_mwh, strict=True))
    assert price["A"] == pytest.approx(10)
    assert price["B"] == pytest.approx(30)
    assert price["C"] == pytest.approx(50)


def test_ramp_limit_changes_the_result() -> None:
    """Need 10 MW in each of 3 hours; cheap bid 10 @ 20, dear bid 10 @ 50. Without a ramp limit the
    cheap bid serves all: cost 600. With 4 MW/step from 0: cheap 4, 8, 10; dear 6, 2, 0;
    cost 20*22 + 50*8 = 840."""

    def case(ramp: float) -> MarketCase:
        return _one_node(
            [
                Bid.simple("cheap", "N", "up", 10, 20, n_steps=3, ramp_mw_per_step=ramp),
                Bid.simple("dear", "N", "up", 10, 50, n_steps=3),
            ],
            [10, 10, 10],
            steps=3,
        )

    free = clear(case(math.inf), "CM")
    assert free.objective_eur == pytest.approx(600)
    ramped = clear(case(4.0), "CM")
    assert [_act(ramped, "cheap", t) for t in range(3)] == pytest.approx([4, 8, 10])
    assert [_act(ramped, "dear", t) for t in range(3)] == pytest.approx([6, 2, 0])
    assert ramped.objective_eur == pytest.approx(840)


def test_min_duration_changes_the_result() -> None:
    """Needs 10, 0, 0 MW; block A 10 MW @ 20 (fill-or-kill), curtailable B 10 @ 50, down bid C 10 @ 5.
    Without a minimum duration A serves hour 0: cost 200. With 3 hours minimum A would run 3 hours
    (600) and C would absorb 10 MW in hours 1-2 (100): 700 > B's 500, so B is taken."""

    def case(d: int) -> MarketCase:
        return _one_node(
            [
                Bid.simple("A", "N", "up", 10, 20, n_steps=3, fill_or_kill=True, min_duration_steps=d),
                Bid.simple("B", "N", "up", 10, 50, n_steps=3),
                Bid.simple("C", "N", "down", 10, 5, n_steps=3),
            ],
            [10, 0, 0],
            steps=3,
        )

    short = clear(case(0), "CM")
    assert _act(short, "A", 0) == pytest.approx(10) and short.objective_eur == pytest.approx(200)
    long = clear(case(3), "CM")
    assert _act(long, "A", 0) == 0 and _act(long, "B", 0) == pytest.approx(10)
    assert long.objective_eur == pytest.approx(500)


def test_integral_energy_constraint_changes_the_result() -> None:
    """A heat pump offers up 10 MW @ 20 in hour 0 and must pay the energy back (down 10 MW @ 5 in hour
    1; energy group: up energy - down energy = 0). Needs 10, 0; other offers: E up 10 @ 40 in hour 0,
    F up 10 @ 30 in hour 1. Unconstrained: U alone, 200. With payback: U + D + F = 200 + 50 + 300 =
    550 > E = 400, so E is taken."""

    def case(linked: bool) -> MarketCase:
        grp = "hp" if linked else ""
        bids = [
            Bid.simple("U", "N", "up", [10, 0], [20, 0], energy_group=grp),
            Bid.simple("D", "N", "down", [0, 10], [0, 5], energy_group=grp),
            Bid.simple("E", "N", "up", [10, 0], [40, 0]),
            Bid.simple("F", "N", "up", [0, 10], [0, 30]),
        ]
        groups = [EnergyConstraint("hp", 0.0, 0.0)] if linked else []
        return _one_node(bids, [10, 0], steps=2, groups=groups)

    assert clear(case(False), "CM").objective_eur == pytest.approx(200)
    res = clear(case(True), "CM")
    assert _act(res, "E", 0) == pytest.approx(10) and _act(res, "U", 0) == 0
    assert res.objective_eur == pytest.approx(400)


def test_integral_constraint_with_payback_taken_when_cheaper() -> None:
    """As above but E costs 80: U + D + F (550) beats E (800); the payback is activated in hour 1."""
    bids = [
        Bid.simple("U", "N", "up", [10, 0], [20, 0], energy_group="hp"),
        Bid.simple("D", "N", "down", [0, 10], [0, 5], energy_group="hp"),
        Bid.simple("E", "N", "up", [10, 0], [80, 0]),
        Bid.simple("F", "N", "up", [0, 10], [0, 30]),
    ]
    res = clear(_one_node(bids, [10, 0], steps=2, groups=[EnergyConstraint("hp", 0.0, 0.0)]), "CM")
    assert _act(res, "U", 0) == pytest.approx(10) and _act(res, "D", 1) == pytest.approx(10)
    assert _act(res, "F", 1) == pytest.approx(10)
    assert res.objective_eur == pytest.approx(550)


def test_exclusive_group_changes_the_result() -> None:
    """Need 20 MW; X 10 @ 20 and Y 10 @ 25 are alternatives (one exclusive group), Z 10 @ 60. Without the
    group X + Y = 450; with it X + Z = 200 + 600 = 800 (X beats Y as the one alternative)."""

    def case(g: str) -> MarketCase:
        return _one_node(
            [
                Bid.simple("X", "N", "up", 10, 20, exclusive_group=g),
                Bid.simple("Y", "N", "up", 10, 25, exclusive_group=g),
                Bid.simple("Z", "N", "up", 10, 60),
            ],
            20,
        )

    assert clear(case(""), "CM").objective_eur == pytest.approx(450)
    res = clear(case("alt"), "CM")
    assert _act(res, "X") == pytest.approx(10) and _act(res, "Y") == 0 and _act(res, "Z") == pytest.approx(10)
    assert res.objective_eur == pytest.approx(800)


def test_slack_reported_per_node_and_step_at_the_penalty() -> None:
    """Need 12 MW but only 10 MW offered: 2 MW of slack at N in step 0, costing 2 x penalty; the price
    is the penalty (the marginal MW is unserved)."""
    case = _one_node([Bid.simple("b", "N", "up", 10, 30)], 12)
    case.slack_penalty_eur_per_mwh = 1000.0
    res = clear(case, "CM")
    assert res.status == "optimal_with_slack"
    assert res.slack.to_dict("records") == [
        {"node": "N", "step": 0, "slack_up_mw": pytest.approx(2), "slack_down_mw": 0.0}
    ]
    assert res.slack_cost_eur == pytest.approx(2000)
    assert res.prices.price_eur_per_mwh.iloc[0] == pytest.approx(1000)


def test_gate_closure_excludes_late_bids() -> None:
    """A bid submitted 2 min before step 0 with a 5-minute gate closure does not count in step 0 but
    does in step 1 (submitted 3 min before its gate closes)."""
    bids = [
        Bid.simple("late", "N", "up", 10, 10, n_steps=2, submitted_min=-2.0),
        Bid.simple("ok", "N", "up", 10, 50, n_steps=2, submitted_min=-30.0),
    ]
    case = MarketCase(
        TransmissionGrid.single_node("N"),
        BidTable.from_bids(bids, 2),
        {"N": 5},
        timing=MarketTiming(horizon_steps=2, granularity_min=5, gate_closure_min=5),
    )
    res = clear(case, "CM")
    assert _act(res, "late", 0) == 0 and _act(res, "ok", 0) == pytest.approx(5)
    assert _act(res, "late", 1) == pytest.approx(5)
    assert list(res.excluded_bids.bid_id) == ["late"]
    assert res.firm_steps == (0,)


def test_activation_matrix_is_aligned_with_the_bid_table() -> None:
    bids = [Bid.simple("b1", "N", "up", 10, 30, n_steps=2), Bid.simple("b2", "N", "up", 10, 50, n_steps=2)]
    res = clear(_one_node(bids, [5, 15], steps=2), "CM")
    np.testing.assert_allclose(res.activation_mw, [[5, 10], [0, 5]], atol=1e-7)
