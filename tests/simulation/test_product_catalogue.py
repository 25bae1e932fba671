"""The aggregators use the market's product catalogue (issue 16 item 5): paybacks, profiles, merit orders.

Independent references: hand calculations in each docstring (a two-step rebound case, a wet-appliance
profile, a merit order), and on the default study the binaries of every clearing.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation.bidding.aggregators import BidBook, build_bids, pool_keys
from simulation.bidding.atomic import shift_profiles, shift_set
from simulation.bidding.products import pool_products
from simulation.market import (
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
            Bid.simple("tcl/defer0/up", "N", "up", [1.0, 0.0], [20.0, 0.0], fill_or_kill=True,
                       energy_group="g" if tcl_payback else ""),
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
    from simulation.devices import DeviceArrays

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
        bids.append(Bid.simple(f"p/shift{d}/up", "N", "up", up / 1000, 30.0, fill_or_kill=True,
                               exclusive_group="p/start", energy_group=f"p/shift{d}"))
        bids.append(Bid.simple(f"p/shift{d}/rebound/down", "N", "down", reb / 1000, 0.0, fill_or_kill=True,
                               exclusive_group=f"p/shift{d}/rebound", energy_group=f"p/shift{d}"))
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
    from simulation.devices import DeviceArrays
    from simulation.physical.models import ModelContext

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
    from cba.study_file import default_study
    from simulation.forecast import compute_schedule
    from simulation.run import run_scheme
    from simulation.scenario.build import build_scenario

    spec = default_study().scenario
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": 3.0})})
    assert spec.timing.horizon_min > spec.timing.clearing_frequency_min  # rolling: advisory steps
    scen = build_scenario(spec)
    run = run_scheme(scen, compute_schedule(scen), "CM", None)
    stats = run.market_stats
    assert stats["n_clearings_with_binaries"] == run.kpis.clearings == 3
    assert stats["n_binaries_min"] > 0
