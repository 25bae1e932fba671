"""Market sessions in the platform: one MarketSession per CM/IFM run gives the KPIs of fresh clearings.

Reference: the same run with ``market_sessions=False``, which calls ``simulation.market.clear`` afresh every
interval (the platform's behaviour before sessions).

Why costs and energies, not per-bid activations: the clearing is a linear programme whose optimum is
unique in value but not in its split over bids (pools of several aggregators at one node with the same
price, transmission generators with equal costs). A session warm-starts HiGHS from the previous clearing's
basis and can stop at another optimal vertex than a cold solve; the other split moves other devices, so
the day's trajectories drift apart by a little. Per clearing, on the same data, the objectives agree to
the cone tolerance (checked below); over the day the KPIs agree to the tolerances stated in each test.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sim_fixtures import small_spec

import simulation.platform as platform
from simulation.market import ClearingOptions, clear
from simulation.platform import compute_schedule, simulate_scheme
from simulation.scenario import ScenarioSpec, default_scenario_spec
from simulation.scenario.build import build_scenario


def _run_both(spec: ScenarioSpec, scheme: str):  # type: ignore[no-untyped-def]
    scen = build_scenario(spec)
    schedule = compute_schedule(scen)
    with_s, tim_s = simulate_scheme(scen, schedule, scheme, None, market_sessions=True)
    fresh, tim_f = simulate_scheme(scen, schedule, scheme, None, market_sessions=False)
    return with_s, tim_s, fresh, tim_f


def test_default_day_cm_with_one_session_gives_the_kpis_of_fresh_clearings() -> None:
    """The default study's whole day (24 clearings), CM. Measured 24 Nov 2026: activation cost 4,176.03
    vs 4,176.25 EUR, aFRR 34.771 vs 34.768 MWh, losses 3.9330 vs 3.9331 MWh, equal grid KPIs; 16 of the
    24 clearings re-used the session (the others follow a substation tap move)."""
    s, tim_s, f, tim_f = _run_both(default_scenario_spec(), "CM")
    assert tim_s["n_clearings_reused"] >= 12  # the session is really used ...
    assert tim_s["n_clearings_built"] + tim_s["n_clearings_reused"] == 24
    assert tim_s["n_clearings_structure_change"] >= 1  # tap moves start new sessions (7 measured)
    assert tim_f.get("n_clearings_reused", 0) == 0 and tim_f["n_clearings_fresh"] == 24  # ... and not here
    assert s.failed_clearings == f.failed_clearings == 0
    # tolerances: 0.1 % on money and energies (50x the drift seen), one physical step (0.5 h) on counts
    assert s.activation_cost_eur == pytest.approx(f.activation_cost_eur, rel=1e-3)
    assert s.afrr_energy_mwh == pytest.approx(f.afrr_energy_mwh, rel=1e-3)
    assert s.afrr_cost_eur == pytest.approx(f.afrr_cost_eur, rel=1e-3)
    assert s.losses_mwh == pytest.approx(f.losses_mwh, rel=1e-3)
    assert s.slack_energy_mwh == pytest.approx(f.slack_energy_mwh, abs=1e-3)
    assert s.curtailed_res_mwh == pytest.approx(f.curtailed_res_mwh, abs=1e-3)
    assert abs(s.congestion_hours_h - f.congestion_hours_h) <= 0.5
    assert abs(s.voltage_violation_hours_h - f.voltage_violation_hours_h) <= 0.5


def test_ifm_session_clears_each_interval_to_the_objective_of_a_fresh_clearing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """IFM (commercial buy bids whose number changes with the sign of the need: padded with 0 MW) on the
    small scenario over 4 h: every clearing's objective equals that of ``clear()`` on the same case
    (1e-6 relative + 1e-3 EUR: the cone tolerance of 1e-6 pu moves the losses term by less), and the
    run's KPIs equal the fresh run's within 0.1 %."""
    seen: list[tuple[object, object]] = []
    real = platform._MarketClearer.clear

    def recording(self, case, book, tag, structure, reach):  # type: ignore[no-untyped-def]
        result, a = real(self, case, book, tag, structure, reach)
        seen.append((case, result))
        return result, a

    monkeypatch.setattr(platform._MarketClearer, "clear", recording)
    s, tim_s, f, _ = _run_both(small_spec(duration_h=4.0), "IFM")
    assert tim_s["n_clearings_reused"] >= 1
    assert len(seen) == 8  # 4 with sessions, then 4 fresh
    options = ClearingOptions(solver="highs", threads=1)
    for case, result in seen[:4]:
        ref = clear(case, "IFM", options)
        assert result.objective_eur == pytest.approx(ref.objective_eur, rel=1e-6, abs=1e-3)
        assert result.slack_energy_mwh == pytest.approx(ref.slack_energy_mwh, abs=1e-6)
    assert s.activation_cost_eur == pytest.approx(f.activation_cost_eur, rel=1e-3)
    assert s.afrr_energy_mwh == pytest.approx(f.afrr_energy_mwh, rel=1e-3)
    assert s.losses_mwh == pytest.approx(f.losses_mwh, rel=1e-3)


def test_energy_certificate_rejects_a_solution_on_a_kept_limit_that_changed() -> None:
    """A session keeps the storage energy limits it was built with; a re-clearing is accepted only when
    its net energy is inside the clearing's limits and strictly inside the kept ones where they differ."""
    from simulation.bidding.aggregators import BidBook

    book = BidBook(
        bid_id=["A/n/storage/up", "A/n/storage/down"],
        owner=["A", "A"],
        node=np.array([0, 0]),
        node_name=["t0", "t0"],
        direction=np.array([1, -1], dtype=np.int8),
        aggregator=np.array([0, 0]),
        model=["storage", "storage"],
        pool=np.array([5, 5]),
        gen=np.array([-1, -1]),
        party=["bsp", "bsp"],
        side=["sell", "sell"],
        quantity_mw=np.ones((2, 2)),
        price_eur_per_mwh=np.full((2, 2), 50.0),
        energy_groups={"A/n/storage": (-0.4, 0.5)},  # the clearing's limits (MWh)
        energy_group=["A/n/storage", "A/n/storage"],
    )
    case = SimpleNamespace(bids=book.to_bid_table())  # what the check reads of a case
    c = platform._MarketClearer("CM", None, True, [], book)
    dt = 0.5
    up = lambda mw: np.array([[mw, mw], [0.0, 0.0]])  # noqa: E731  upward energy mw * 2 steps * 0.5 h
    c._groups = {"A/n/storage": (-0.4, 0.5)}  # kept == clearing's: any feasible solution is optimal
    assert c._energy_certified(up(0.5), case, dt)  # on the limit, which is the true one
    assert not c._energy_certified(up(0.6), case, dt)  # beyond the clearing's limit
    c._groups = {"A/n/storage": (-0.4, 0.3)}  # kept upper limit tighter than the clearing's
    assert c._energy_certified(up(0.2), case, dt)  # inactive: optimal for the looser true limit
    assert not c._energy_certified(up(0.3), case, dt)  # active kept limit: the true optimum may be beyond
    c._groups = {"A/n/storage": (-0.4, 0.9)}  # kept looser
    assert not c._energy_certified(up(0.7), case, dt)  # infeasible for the clearing


def test_a_failed_session_clearing_is_counted_and_the_next_clearing_builds_a_new_session(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A session whose clearing fails is dropped (its solver state is not trusted); the clearing counts in
    ``failed_clearings`` as with ``clear()``, and the next clearing builds a new session and clears."""
    import simulation.market as market
    from simulation.errors import SolverFailedError

    calls = []
    real = market.MarketSession.clear

    def failing_first(self, progress=None):  # type: ignore[no-untyped-def]
        calls.append(self)
        if len(calls) == 1:
            raise SolverFailedError("test: the first session clearing fails")
        return real(self, progress)

    monkeypatch.setattr(market.MarketSession, "clear", failing_first)
    scen = build_scenario(small_spec(duration_h=2.0))
    kpis, tim = simulate_scheme(scen, compute_schedule(scen), "CM", None)
    assert kpis.failed_clearings == 1
    assert tim["n_clearings_built"] == 2 and len(calls) == 2
    assert calls[0] is not calls[1]  # a new session, not the failed one
