"""The aggregators use the market's product catalogue (issue 16 item 5): paybacks, profiles, merit orders.

Independent references: hand calculations in each docstring (a two-step rebound case, a wet-appliance
profile, a merit order), and on the default study the binaries of every clearing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from coordstudio.simulation.bidding.aggregators import BidBook, build_bids, pool_keys
from coordstudio.simulation.bidding.atomic import shift_profiles, shift_set
from coordstudio.simulation.bidding.products import pool_products
from coordstudio.simulation.market import (
    Bid,
    BidTable,
    EnergyConstraint,
    MarketCase,
    MarketTiming,
    TransmissionGrid,
    clear,
)


def _one_node(bids: list[Bid], need: list[float], groups: list[EnergyConstraint] | None = None) -> MarketCase:
    H = len(need)
    return MarketCase(
        transmission=TransmissionGrid.single_node("N"),
        bids=BidTable.from_bids(bids, H, groups or []),
        needs_mw={"N": list(need)},
        timing=MarketTiming(horizon_steps=H, granularity_min=60, rolling=False),
        slack_penalty_eur_per_mwh=1000.0,
        name="hand case",
    )


def _act(res, bid_id: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Activation (MW per step) of bid ``bid_id`` in a clearing's result."""
    a = res.activations
    out = np.zeros(int(np.asarray(res.activation_mw).shape[1]))
    rows = a[a.bid_id == bid_id]
    for st, v in zip(rows.step.to_numpy(int), rows.activation_mw.to_numpy(float), strict=True):
        out[st] += v
    return out


def test_tcl_deferral_shows_its_rebound_in_the_next_step() -> None:
    """Two one-hour steps, one node. The TSO needs 1 MW up in step 1 and nothing in step 2. A TCL pool
    offers its deferral (up, fill-or-kill, 1 MW @ 20 EUR/MWh, step 1 only) and its payback (down, 0
    EUR/MWh, up to 1 MW in step 2), bound by an energy group ``emin = emax = 0`` (the products of
    :func:`pool_products` for ``tcl``); a generator offers 2 MW up @ 50 and 2 MW down @ -10 in both steps.

    By hand: deferring X = 1 MWh in step 1 forces X = 1 MWh of payback (extra consumption) in step 2,
    which the generator's up bid must then cover: 20 + 0 + 50 = 70 EUR, against 50 EUR for the generator
    alone in step 1. The clearing sees the rebound and takes the generator; without the payback it would
    defer (20 < 50). With a need of 1 MW up in step 1 and 1 MW *down* in step 2, deferral plus payback
    covers both for 20 EUR (against 50 - 10 = 40 with the generator): the clearing activates the 1 MW
    deferral in step 1 and shows its 1 MW rebound in step 2."""
    prods = {p.name: p for p in pool_products("tcl", 1)}
    assert prods["defer0"].fill_or_kill and not prods["defer0/payback"].dispatched

    def bids(tcl_payback: bool) -> tuple[list[Bid], list[EnergyConstraint]]:
        out = [
            Bid.simple(
                "tcl/defer0/up",
                "N",
                "up",
                [1.0, 0.0],
                [20.0, 0.0],
                fill_or_kill=True,
                energy_group="g" if tcl_payback else "",
            ),
            Bid.simple("gen/up", "N", "up", 2.0, 50.0, n_steps=2),
            Bid.simple("gen/down", "N", "down", 2.0, -10.0, n_steps=2),
        ]
        if tcl_payback:
            out.append(Bid.simple("tcl/defer0/payback/down", "N", "down", [0.0, 1.0], 0.0, energy_group="g"))
        return out, [EnergyConstraint("g", 0.0, 0.0)] if tcl_payback else []

    b, g = bids(False)
    blind = clear(_one_node(b, [1.0, 0.0], g), "CM")
    assert _act(blind, "tcl/defer0/up")[0] == pytest.approx(1.0)  # rebound invisible: defers
    b, g = bids(True)
    seen = clear(_one_node(b, [1.0, 0.0], g), "CM")
    assert _act(seen, "tcl/defer0/up")[0] == pytest.approx(0.0, abs=1e-7)
    assert seen.objective_eur == pytest.approx(50.0)
    res = clear(_one_node(b, [1.0, -1.0], g), "CM")
    assert _act(res, "tcl/defer0/up") == pytest.approx([1.0, 0.0])
    assert _act(res, "tcl/defer0/payback/down") == pytest.approx([0.0, 1.0])  # the rebound, step 2
    assert res.objective_eur == pytest.approx(20.0)


def test_wet_appliance_profile_is_all_or_nothing_at_one_start() -> None:
    """A wet-appliance pool: 1 MW of cycles (one 1,000 kW device for the arithmetic) of two steps planned
    from step 0. Shifting
    them by one step (d = 1) gives by hand ``B = (1, 1, 0)``, shifted ``(0, 1, 1)``: up profile (1, 0, 0)
    and rebound (0, 0, 1); by two steps: up (1, 1, 0), rebound (0, 0, 1) within three steps (the last
    step of the cycle falls beyond the horizon). Offered as the pool's products (fill-or-kill profile up
    bids in one exclusive group, each rebound a profile bound by an energy group), a need of 0.6 MW up in
    steps 1-2 can only be met by the two-step shift *as a whole* (1 MW, not 0.6): the d = 2 up profile
    and its rebound are activated fully, the d = 1 alternative not at all."""
    from coordstudio.simulation.devices import DeviceArrays

    n = 1
    dev = DeviceArrays(
        category="shiftable_load",
        node=np.zeros(n, dtype=np.int32),
        aggregator=np.zeros(n, dtype=np.int32),
        group=np.zeros(n, dtype=np.int32),
        params={"p_kw": np.array([1000.0]), "flex_cost_eur_per_mwh": np.array([30.0])},
    )
    dev.state = {
        "start_step": np.array([0], dtype=np.int32),
        "cycle_steps": np.array([2], dtype=np.int32),
        "max_shift_steps": np.array([4], dtype=np.int32),
        "remaining": np.zeros(1, dtype=np.int32),
        "done": np.zeros(1, dtype=bool),
    }
    sel = shift_set(dev, 0, 1, 1)
    assert sel.all()
    up1, reb1 = shift_profiles(dev, sel, 0, 3, 1, 1)
    up2, reb2 = shift_profiles(dev, sel, 0, 3, 1, 2)
    assert up1.tolist() == [1000.0, 0.0, 0.0] and reb1.tolist() == [0.0, 0.0, 1000.0]
    assert up2.tolist() == [1000.0, 1000.0, 0.0] and reb2.tolist() == [0.0, 0.0, 1000.0]
    bids = []
    groups = []
    for d, up, reb in ((1, up1, reb1), (2, up2, reb2)):
        bids.append(
            Bid.simple(
                f"p/shift{d}/up",
                "N",
                "up",
                up / 1000,
                30.0,
                fill_or_kill=True,
                exclusive_group="p/start",
                energy_group=f"p/shift{d}",
            )
        )
        bids.append(
            Bid.simple(
                f"p/shift{d}/rebound/down",
                "N",
                "down",
                reb / 1000,
                0.0,
                fill_or_kill=True,
                exclusive_group=f"p/shift{d}/rebound",
                energy_group=f"p/shift{d}",
            )
        )
        e = (up.sum() - reb.sum()) / 1000
        groups.append(EnergyConstraint(f"p/shift{d}", min(0.0, e), max(0.0, e)))
    bids.append(Bid.simple("gen/up", "N", "up", 5.0, 200.0, n_steps=3))
    bids.append(Bid.simple("gen/down", "N", "down", 5.0, -1.0, n_steps=3))
    res = clear(_one_node(bids, [0.6, 0.6, -1.0], groups), "CM")
    a2, r2 = _act(res, "p/shift2/up"), _act(res, "p/shift2/rebound/down")
    a1 = _act(res, "p/shift1/up")
    assert a2.tolist() == pytest.approx([1.0, 1.0, 0.0])  # the whole profile
    assert r2.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert a1.tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-7)
    for act, prof in ((a1, up1 / 1000), (a2, up2 / 1000)):  # all or nothing, never a part
        assert np.allclose(act, 0.0, atol=1e-7) or np.allclose(act, prof, atol=1e-7)


def test_merit_order_pool_is_activated_cheapest_segment_first() -> None:
    """Curtailable loads of one aggregator at one node with costs 30, 50 and 90 EUR/MWh fall into three
    merit-order segments (bands at 40, 60, 80, ...); each becomes its own bid at its own cost plus the
    risk premium (here 0). A need of 1.5 MW, the devices offering 1 MW each (curtailment 50 % of 2 MW),
    is met by the 30 segment fully and the 50 segment by half; the 90 segment stays off. One price per
    pool (the dearest device, 90) would have cost 135 EUR, the merit order 30 + 25 = 55 EUR."""
    from coordstudio.simulation.devices import DeviceArrays
    from coordstudio.simulation.physical.models import ModelContext

    n = 3
    dev = DeviceArrays(
        category="curtailable_load",
        node=np.zeros(n, dtype=np.int32),
        aggregator=np.zeros(n, dtype=np.int32),
        group=np.zeros(n, dtype=np.int32),
        params={
            "p_kw": np.full(n, 2000.0),
            "curtail_max_frac": np.full(n, 0.5),
            "flex_cost_eur_per_mwh": np.array([30.0, 50.0, 90.0]),
        },
    )
    dev.state = {}
    ctx = ModelContext(profiles={"lighting": np.ones(4)}, dt_h=1.0, start_h=0.0, noise_frac=0.0)
    assert len(set(pool_keys(dev, 1).tolist())) == 3
    book: BidBook = build_bids({"curtailable_load": dev}, ctx, 0, 1, ["N"], ["A"], 0.0)
    assert sorted(book.price_eur_per_mwh[:, 0].tolist()) == [30.0, 50.0, 90.0]
    case = MarketCase(
        transmission=TransmissionGrid.single_node("N"),
        bids=book.to_bid_table(),
        needs_mw={"N": [1.5]},
        timing=MarketTiming(horizon_steps=1, granularity_min=60, rolling=False),
        slack_penalty_eur_per_mwh=1000.0,
        name="merit order",
    )
    res = clear(case, "CM")
    by_price = dict(zip(book.price_eur_per_mwh[:, 0].tolist(), res.activation_mw[:, 0].tolist(), strict=True))
    assert by_price[30.0] == pytest.approx(1.0)
    assert by_price[50.0] == pytest.approx(0.5)
    assert by_price[90.0] == pytest.approx(0.0, abs=1e-7)
    assert res.objective_eur == pytest.approx(55.0)


def test_every_clearing_of_the_default_study_has_binaries() -> None:
    """Three hours of the default study, CM: every clearing's problem has binaries (the MISOCP path):
    the TCL pools' fill-or-kill deferrals at night, the wet appliances' start times in the evening."""
    from coordstudio.cba.study_file import default_study
    from coordstudio.simulation.forecast import compute_schedule
    from coordstudio.simulation.run import run_scheme
    from coordstudio.simulation.scenario.build import build_scenario

    spec = default_study().scenario
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": 3.0})})
    assert spec.timing.horizon_min > spec.timing.clearing_frequency_min  # rolling: advisory steps
    scen = build_scenario(spec)
    run = run_scheme(scen, compute_schedule(scen), "CM", None)
    stats = run.market_stats
    assert stats["n_clearings_with_binaries"] == run.kpis.clearings == 3
    assert stats["n_binaries_min"] > 0


def _book_bids(book: BidBook) -> tuple[list[Bid], list[EnergyConstraint]]:
    """The bids of an aggregator bid book as market bids at node "N", with its energy groups."""
    bids = [
        Bid.simple(
            book.bid_id[b],
            "N",
            "up" if book.direction[b] > 0 else "down",
            book.quantity_mw[b].tolist(),
            book.price_eur_per_mwh[b].tolist(),
            fill_or_kill=bool(book.fill_or_kill[b]),
            energy_group=book.energy_group[b],
        )
        for b in range(len(book))
    ]
    return bids, [EnergyConstraint(g, lo, hi) for g, (lo, hi) in book.energy_groups.items()]


def _gen(n_steps: int) -> list[Bid]:
    """A generator at "N": 20 MW up at 50 EUR/MWh and 20 MW down at -10 EUR/MWh in every step."""
    return [
        Bid.simple("gen/up", "N", "up", 20.0, 50.0, n_steps=n_steps),
        Bid.simple("gen/down", "N", "down", 20.0, -10.0, n_steps=n_steps),
    ]


def _ev(soc: float, start_h: float) -> tuple[Any, Any]:
    """One EV of 10 MW (10,000 kW: MW arithmetic), 40 MWh, lossless, SOC ``soc``, target 0.8, away
    07:00-18:00, flexibility cost 20 EUR/MWh; a context of one-hour steps from ``start_h``."""
    from coordstudio.simulation.devices import DeviceArrays
    from coordstudio.simulation.physical.models import ModelContext

    one = np.ones(1)
    dev = DeviceArrays(
        category="ev",
        node=np.zeros(1, dtype=np.int32),
        aggregator=np.zeros(1, dtype=np.int32),
        group=np.zeros(1, dtype=np.int32),
        params={
            "p_max_kw": 10000.0 * one,
            "e_max_kwh": 40000.0 * one,
            "efficiency_frac": one,
            "soc_min_frac": 0.0 * one,
            "soc_max_frac": one,
            "soc_target_frac": 0.8 * one,
            "soc_init_frac": 0.5 * one,
            "arrival_h": 18.0 * one,
            "departure_h": 7.0 * one,
            "flex_cost_eur_per_mwh": 20.0 * one,
        },
    )
    dev.state = {"soc_frac": soc * one}
    ctx = ModelContext(profiles={}, dt_h=1.0, start_h=start_h, noise_frac=0.0)
    return dev, ctx


def test_ev_deferral_pays_back_in_later_steps_before_departure() -> None:
    """An EV at 20:00 needs (0.8 - 0.5) x 40 = 12 MWh; its plan charges 10 MW in 20-21h and 2 MW in
    21-22h, then nothing (headroom 8, 10, 10 MW). By hand, over four one-hour steps with two firm ones:
    deferring the 10 MW of step 0 raises the need by 10 MWh, which the plan charges back at the first
    headroom: 8 MW in step 1 and 2 MW in step 2 (payback (0, 8, 2, 0)); deferring step 1's 2 MW comes
    back in step 2 (0, 0, 2, 0). The device model, told to defer 10 MW in step 0 and nothing after,
    charges 0, 10, 2, 0 MW: the payback (8 and 2 MW above the plan's 2 and 0) comes without a set-point,
    and the EV reaches its target.

    The same EV at 05:00 with its 12 MWh still to charge leaves during 06-07h: deferring step 0's 10 MW
    would need 10 MWh of room before it leaves, there is 8 (10 - 2 in 06-07h): no deferral is offered
    (nor does the device model's flexibility offer one)."""
    from coordstudio.simulation.bidding.ev import ev_deferrals
    from coordstudio.simulation.physical.models import flexibility, step

    dev, ctx = _ev(0.5, 20.0)
    defer, payback = ev_deferrals(dev, ctx, 0, 0, 4, 1, 2)
    assert defer[0].tolist() == pytest.approx([10000.0, 2000.0])
    assert payback[0, 0].tolist() == pytest.approx([0.0, 8000.0, 2000.0, 0.0])
    assert payback[0, 1].tolist() == pytest.approx([0.0, 0.0, 2000.0, 0.0])
    got = [float(step(dev, ctx, k, np.array([10000.0 if k == 0 else 0.0]), None).p_kw[0]) for k in range(4)]
    assert got == pytest.approx([0.0, -10000.0, -2000.0, 0.0])
    assert float(dev.state["soc_frac"][0]) == pytest.approx(0.8)

    dev, ctx = _ev(0.5, 5.0)
    defer, payback = ev_deferrals(dev, ctx, 0, 0, 4, 1, 2)
    assert defer[0].tolist() == pytest.approx([0.0, 0.0])
    assert not payback.any()
    assert flexibility(dev, ctx, 0)[0][0] == pytest.approx(0.0)


def test_ev_pool_clearing_sees_the_payback() -> None:
    """The 20:00 EV of the previous test as a pool's bids (:func:`build_bids`, risk premium 0): a
    deferral of 10 MW in step 0 at 20 EUR/MWh and its payback (down, price 0, not dispatched) bounded by
    (0, 8, 2, 0) MW, in an energy group ``emin = emax = 0``. A generator offers 20 MW up at 50 and down
    at -10 EUR/MWh in every step.

    By hand: a need of 10 MW up in step 0 only costs 500 EUR from the generator; deferring (200 EUR)
    would bring 10 MWh back in steps 1-2, 500 EUR more from the generator: the clearing does not defer
    (a market blind to the payback would: 200 < 500). A need of (10, -8, -2, 0) is met by the deferral
    and its payback exactly, 200 EUR, against 500 - 100 = 400 EUR from the generator alone. The dispatch
    sends the deferral (10 MW less charging in step 0) and nothing for the payback."""
    from coordstudio.simulation.bidding.dispatch import dispatch_step

    dev, ctx = _ev(0.5, 20.0)
    book = build_bids({"ev": dev}, ctx, 0, 4, ["N"], ["A"], 0.0, firm_steps=2)
    ids = {b: i for i, b in enumerate(book.bid_id)}
    d0, p0 = ids["A/N/ev/defer0/up"], ids["A/N/ev/defer0/payback/down"]
    assert book.quantity_mw[d0].tolist() == pytest.approx([10.0, 0.0, 0.0, 0.0])
    assert book.price_eur_per_mwh[d0][0] == pytest.approx(20.0)
    assert book.quantity_mw[p0].tolist() == pytest.approx([0.0, 8.0, 2.0, 0.0])
    assert book.dispatched[d0] and not book.dispatched[p0]
    assert book.energy_groups["A/N/ev/defer0"] == (0.0, 0.0)
    bids, groups = _book_bids(book)
    res = clear(_one_node(bids + _gen(4), [10.0, 0.0, 0.0, 0.0], groups), "CM")
    assert _act(res, "A/N/ev/defer0/up")[0] == pytest.approx(0.0, abs=1e-6)
    assert res.objective_eur == pytest.approx(500.0, rel=1e-6)
    res = clear(_one_node(bids + _gen(4), [10.0, -8.0, -2.0, 0.0], groups), "CM")
    assert _act(res, "A/N/ev/defer0/up") == pytest.approx([10.0, 0.0, 0.0, 0.0], abs=1e-6)
    assert _act(res, "A/N/ev/defer0/payback/down") == pytest.approx([0.0, 8.0, 2.0, 0.0], abs=1e-6)
    assert res.objective_eur == pytest.approx(200.0, rel=1e-6)
    a = np.zeros((len(book), 4))
    a[d0] = [10.0, 0.0, 0.0, 0.0]
    a[p0] = [0.0, 8.0, 2.0, 0.0]
    rng = np.random.default_rng(0)
    args = ({"ev": dev}, ctx)
    out0 = dispatch_step((book, a), 0, *args, 0, 1, 0, np.zeros(0, dtype=np.int64), 1, rng)
    out1 = dispatch_step((book, a), 1, *args, 1, 1, 0, np.zeros(0, dtype=np.int64), 1, rng)
    assert out0.device_delta_kw["ev"].tolist() == pytest.approx([10000.0])  # the deferral
    assert out1.device_delta_kw == {}  # the payback: no set-point (the EV's plan charges it)


def _chp(store_kwh: float) -> tuple[Any, Any]:
    """One CHP unit of 1 MW (1,000 kW), no minimum, heat-to-power 1, heat store 0.6 MWh holding
    ``store_kwh``, marginal cost 30 EUR/MWh; heat demand 0.5 MW in every one-hour step (the model's
    heat demand is ``htp p_max heat 0.7``, so the profile is 0.5 / 0.7)."""
    from coordstudio.simulation.devices import DeviceArrays
    from coordstudio.simulation.physical.models import ModelContext

    one = np.ones(1)
    dev = DeviceArrays(
        category="chp",
        node=np.zeros(1, dtype=np.int32),
        aggregator=np.zeros(1, dtype=np.int32),
        group=np.zeros(1, dtype=np.int32),
        params={
            "p_max_kw": 1000.0 * one,
            "p_min_frac": 0.0 * one,
            "heat_to_power_ratio": one,
            "heat_store_kwh": 600.0 * one,
            "heat_store_init_frac": 0.5 * one,
            "marginal_cost_eur_per_mwh": 30.0 * one,
        },
    )
    dev.state = {"heat_kwh": store_kwh * one}
    ctx = ModelContext(profiles={"heat": np.full(8, 0.5 / 0.7)}, dt_h=1.0, start_h=0.0, noise_frac=0.0)
    return dev, ctx


def test_chp_bids_stay_within_the_heat_store_over_the_horizon() -> None:
    """A CHP unit following its 0.5 MW heat demand (baseline 0.5 MW, the store stays at 0.3 of 0.6 MWh)
    can move 0.3 MW up or down in any one step, but over three one-hour steps only 0.3 MWh up (the
    store's free 0.3 MWh of heat, heat-to-power 1) and 0.3 MWh down (the 0.3 MWh it holds), by hand.
    The bids: 0.3 MW in each step, the up bid in an energy group ``[0, 0.3]`` MWh, the down bid in one
    of ``[-0.3, 0]``. A need of 0.3 MW up in each of the three steps, with a generator at 50 EUR/MWh:
    the CHP covers 0.3 MWh (9 EUR), the generator 0.6 MWh (30 EUR): 39 EUR; a bid without the store's
    limit would have covered all three steps (27 EUR) and overfilled the store. The device model,
    producing 0.3 MW more in step 0, fills the store (0.6 MWh) and has no upward room left in step 1."""
    from coordstudio.simulation.bidding.chp import chp_horizon_limits
    from coordstudio.simulation.physical.models import flexibility, step

    dev, ctx = _chp(300.0)
    up, down, e_up, e_down = chp_horizon_limits(dev, ctx, 0, 0, 3, 1)
    assert up[0].tolist() == pytest.approx([300.0] * 3) and down[0].tolist() == pytest.approx([300.0] * 3)
    assert e_up[0] == pytest.approx(300.0) and e_down[0] == pytest.approx(300.0)
    book = build_bids({"chp": dev}, ctx, 0, 3, ["N"], ["A"], 0.0)
    ids = {b: i for i, b in enumerate(book.bid_id)}
    u, d = ids["A/N/chp/up"], ids["A/N/chp/down"]
    assert book.quantity_mw[u].tolist() == pytest.approx([0.3] * 3)
    assert book.price_eur_per_mwh[u][0] == pytest.approx(30.0)
    assert book.energy_groups[book.energy_group[u]] == pytest.approx((0.0, 0.3))
    assert book.energy_groups[book.energy_group[d]] == pytest.approx((-0.3, 0.0))
    bids, groups = _book_bids(book)
    res = clear(_one_node(bids + _gen(3), [0.3, 0.3, 0.3], groups), "CM")
    assert float(_act(res, "A/N/chp/up").sum()) == pytest.approx(0.3, abs=1e-6)
    assert res.objective_eur == pytest.approx(39.0, rel=1e-6)
    assert float(step(dev, ctx, 0, np.array([300.0]), None).p_kw[0]) == pytest.approx(800.0)
    assert float(dev.state["heat_kwh"][0]) == pytest.approx(600.0)
    assert flexibility(dev, ctx, 1)[0][0] == pytest.approx(0.0)


def test_chp_store_trajectory_limits_the_horizon() -> None:
    """The same unit holding 0.3 MWh of heat, with a heat demand of 1.2 MW (profile 1.2 / 0.7), above the
    1 MW it can make: at its maximum, its store drains 0.2 MWh per step, by hand 0.3 -> 0.1 -> 0 -> 0.
    One step alone (the device model's flexibility now) allows 0.1 MW less (the store covers 1.2 - 0.9 -
    0.2 = 0.1 MWh more), but over the horizon it cannot: the store ends empty, so any MWh taken from it
    now is heat missing later (``E_down = 0``); and at its maximum it has nothing up. The pool bids
    nothing, where a one-step bid would have offered 0.1 MW down in every step."""
    from coordstudio.simulation.bidding.chp import chp_horizon_limits
    from coordstudio.simulation.physical.models import flexibility

    dev, ctx = _chp(300.0)
    ctx.profiles["heat"] = np.full(8, 1.2 / 0.7)
    assert flexibility(dev, ctx, 0)[1][0] == pytest.approx(100.0)
    up, down, e_up, e_down = chp_horizon_limits(dev, ctx, 0, 0, 3, 1)
    assert down[0].tolist() == pytest.approx([100.0, 0.0, 0.0])
    assert up[0].tolist() == pytest.approx([0.0] * 3)
    assert e_down[0] == pytest.approx(0.0)
    book = build_bids({"chp": dev}, ctx, 0, 3, ["N"], ["A"], 0.0)
    assert len(book) == 0
