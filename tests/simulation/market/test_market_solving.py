"""Solving machinery of the market layer: HiGHS driven directly (lazy thermal limits, warm-started
re-clearing), minimum-duration carry-over across rolling clearings, the decentralised schemes' reuse of
one local model.

Each test names its reference: a full LP solved by Pyomo's own HiGHS interface, a hand-checked
clearing, or a fresh clearing of the same data.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower.networks as pn
import pyomo.environ as pyo
import pytest

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    ClearingOptions,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
    read_bids_csv,
    read_bids_json,
    write_bids_csv,
    write_bids_json,
)
from coordstudio.simulation.market.model import build_model
from coordstudio.simulation.market.prepare import central_problem, participating, prepare_case


def _case9_congested(n_steps: int = 3) -> MarketCase:
    """case9 with every rating at 60 % of its value and cheap up offers far from the needs, so that
    thermal limits bind."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(pn.case9())
    tg.branch_rating_mw = np.minimum(tg.branch_rating_mw, 60.0)
    rng = np.random.default_rng(7)
    bids = []
    for k, node in enumerate(tg.node_ids):
        bids.append(
            Bid.simple(
                f"u{k}", node, "up", float(rng.uniform(20, 80)), float(rng.uniform(10, 90)), n_steps=n_steps
            )
        )
        bids.append(
            Bid.simple(
                f"d{k}",
                node,
                "down",
                float(rng.uniform(20, 80)),
                float(rng.uniform(-30, 10)),
                n_steps=n_steps,
            )
        )
    needs = {tg.node_ids[4]: [90.0, 60.0, -40.0], tg.node_ids[8]: [70.0, -50.0, 30.0]}
    return MarketCase(
        tg,
        BidTable.from_bids(bids, n_steps),
        needs,
        timing=MarketTiming(horizon_steps=n_steps),
        name="case9 congested",
    )


def test_lazy_thermal_limits_give_the_full_lp_optimum() -> None:
    """Reference: the same Pyomo model with every thermal limit as a row, solved by Pyomo's HiGHS
    interface. Our clearing adds a limit only once a solution overloads its branch; its optimum must
    equal the full LP's (1e-7 relative), and some limit must bind (else the test proves nothing)."""
    case = _case9_congested()
    res = clear(case, "CM", ClearingOptions(compute_prices=False))
    prep = prepare_case(case)
    prob = central_problem(prep, "CM", participating(prep, "CM"), "full LP")
    m = build_model(prob)
    full = pyo.SolverFactory("appsi_highs").solve(m)
    assert str(full.solver.termination_condition) == "optimal"
    ref = float(pyo.value(m.obj))
    assert res.objective_eur == pytest.approx(ref, rel=1e-7)
    flows = res.branch_flows
    binding = (flows.p_mw.abs() >= flows.rating_mw - 1e-6).sum()
    assert binding >= 1
    assert (flows.p_mw.abs() <= flows.rating_mw + 1e-6).all()


def test_session_reclear_of_a_congested_grid_matches_a_fresh_clearing() -> None:
    """Reference: a fresh ``clear`` of the updated data. The session keeps its model, its solver's
    basis and the limits added in the first clearing; with new needs and prices the result must be the
    fresh one (objective 1e-7 relative, prices 1e-6 EUR/MWh)."""
    case = _case9_congested()
    session = MarketSession(copy.deepcopy(case), "CM")
    session.clear()
    new_needs = {k: [-v for v in vals] for k, vals in case.needs_mw.items()}
    prices = case.bids.price_eur_per_mwh * 1.3
    session.update(needs_mw=new_needs, price_eur_per_mwh=prices)
    again = session.clear()
    fresh_case = copy.deepcopy(case)
    fresh_case.needs_mw = new_needs
    fresh_case.bids = BidTable.concat([fresh_case.bids])
    fresh_case.bids.price_eur_per_mwh[:] = prices
    fresh = clear(fresh_case, "CM")
    assert again.objective_eur == pytest.approx(fresh.objective_eur, rel=1e-7)
    np.testing.assert_allclose(again.prices.price_eur_per_mwh, fresh.prices.price_eur_per_mwh, atol=1e-6)
    assert again.build_time_s < 0.5  # parameters pushed, nothing rebuilt


def _carry_case(on_steps: int) -> MarketCase:
    bids = [
        Bid.simple(
            "A",
            "N",
            "up",
            10,
            50,
            n_steps=3,
            fill_or_kill=True,
            min_duration_steps=3,
            initial_on_steps=on_steps,
            initial_activation_mw=10.0 if on_steps else 0.0,
        ),
        Bid.simple("D", "N", "down", 20, 0, n_steps=3),
    ]
    return MarketCase(
        TransmissionGrid.single_node("N"),
        BidTable.from_bids(bids, 3),
        {"N": [0.0, 0.0, 0.0]},
        timing=MarketTiming(horizon_steps=3, granularity_min=60),
        name="carry-over",
    )


@pytest.mark.parametrize(
    ("on_steps", "expected_a", "expected_cost"),
    [(0, [0, 0, 0], 0.0), (1, [10, 10, 0], 1000.0), (2, [10, 0, 0], 500.0), (3, [0, 0, 0], 0.0)],
)
def test_min_duration_carries_over_rolling_clearings(
    on_steps: int, expected_a: list[float], expected_cost: float
) -> None:
    """By hand: no need at all; block A (10 MW @ 50 EUR/MWh, fill-or-kill, minimum duration 3 h) has
    been on for ``k`` hours before the horizon, so it must stay on for hours ``0 .. 3-k-1``; the free
    down bid D (price 0) absorbs the surplus. k = 0 or k >= 3: nothing runs (cost 0); k = 1: A runs 2
    h (1000 EUR); k = 2: 1 h (500 EUR). The same through ``MarketSession.update(initial_on_steps=)``."""
    res = clear(_carry_case(on_steps), "CM")
    a = res.activation_mw[0]
    np.testing.assert_allclose(a, expected_a, atol=1e-7)
    np.testing.assert_allclose(res.activation_mw[1], expected_a, atol=1e-7)
    assert res.objective_eur == pytest.approx(expected_cost, abs=1e-6)
    session = MarketSession(_carry_case(0), "CM")
    session.clear()
    session.update(
        initial_on_steps=np.array([on_steps, 0]),
        initial_activation_mw=np.array([10.0 if on_steps else 0.0, 0.0]),
    )
    again = session.clear()
    np.testing.assert_allclose(again.activation_mw[0], expected_a, atol=1e-7)


def test_initial_on_steps_round_trips_through_csv_and_json(tmp_path) -> None:
    """Reference: the table written. ``initial_on_steps`` survives both file formats."""
    table = BidTable.from_bids(
        [Bid.simple("A", "N", "up", 10, 50, n_steps=2, min_duration_steps=3, initial_on_steps=2)], 2
    )
    write_bids_csv(table, tmp_path / "b.csv")
    write_bids_json(table, tmp_path / "b.json")
    assert read_bids_csv(tmp_path / "b.csv", 2).on_steps().tolist() == [2]
    assert read_bids_json(tmp_path / "b.json", 2).on_steps().tolist() == [2]
    with pytest.raises(Exception, match="initial_on_steps"):
        BidTable.from_columns(
            {"bid_id": ["x"], "node": ["N"], "direction": ["up"], "initial_on_steps": [-1]},
            np.ones((1, 1)),
            np.ones((1, 1)),
        )


@pytest.mark.parametrize("scheme", ["LMS", "SBR", "CM-D"])
def test_decentralised_session_reuses_its_models_and_matches_fresh_clearings(scheme: str) -> None:
    """Reference: fresh ``clear`` calls on the same data. A session of a decentralised scheme keeps
    the model of each sub-clearing; over two clearings with different needs and bid quantities its
    results must equal the fresh ones (objective and activation cost 1e-6 relative; single activations
    may differ among equal-cost optima), and the second clearing must add no model."""
    from coordstudio.simulation.market.casefile import load_case

    case = load_case("examples/market/tso_case33bw.json")
    session = MarketSession(copy.deepcopy(case), scheme)
    first = session.clear()
    fresh1 = clear(copy.deepcopy(case), scheme)
    assert first.objective_eur == pytest.approx(fresh1.objective_eur, rel=1e-6)
    n_models = len(session._cache)
    assert n_models >= 2
    needs = {k: (0.7 * np.asarray(v, dtype=float)).tolist() for k, v in case.needs_mw.items()}
    q = case.bids.quantity_mw * 0.9
    session.update(needs_mw=needs, quantity_mw=q)
    second = session.clear()
    case2 = copy.deepcopy(case)
    case2.needs_mw = needs
    case2.bids = BidTable.concat([case2.bids])
    case2.bids.quantity_mw[:] = q
    fresh2 = clear(case2, scheme)
    assert second.objective_eur == pytest.approx(fresh2.objective_eur, rel=1e-6)
    assert second.activation_cost_eur == pytest.approx(fresh2.activation_cost_eur, rel=1e-6, abs=1e-6)
    assert second.slack_energy_mwh == pytest.approx(fresh2.slack_energy_mwh, abs=1e-6)
    assert len(session._cache) == n_models
