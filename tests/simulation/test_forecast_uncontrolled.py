"""The operators forecast the uncontrolled system (issue 16 item 1): activations are taken out of the
measured deviation, and deferred energy comes back in the forecast of the steps it returns in.

Independent reference: hand calculations (stated in each test) of the rule documented in
:mod:`simulation.forecast`, and, for the TCL and the wet appliance, the device models of
:mod:`simulation.physical.models` themselves run with and without the deferral.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.forecast import (
    PAYBACK_CATEGORIES,
    DeferredEnergy,
    MeasuredState,
    PaybackModel,
    Schedule,
    forecast_clearing,
    payback_model,
    per_market_step,
)
from coordstudio.simulation.physical.models import ModelContext, flexibility, init_state
from coordstudio.simulation.physical.models import step as device_step

DT_H = 0.5
K = 6
TOL_MW = 1e-12
"""Hand calculations in floating point: exact up to rounding."""


def _model(
    load_mw: dict[str, float] | None = None,
    cap_mw: dict[str, float] | None = None,
    delay: dict[str, int] | None = None,
    retention: dict[str, float] | None = None,
) -> PaybackModel:
    """Two nodes (0: transmission, 1: feeder node); payback parameters at node 1, constant over the day."""
    load_mw, cap_mw = load_mw or {}, cap_mw or {}
    delay, retention = delay or {}, retention or {}

    def arr(value: float) -> np.ndarray:
        a = np.zeros((2, K))
        a[1] = value
        return a

    return PaybackModel(
        DT_H,
        {c: arr(load_mw.get(c, 0.0)) for c in PAYBACK_CATEGORIES},
        {c: arr(cap_mw.get(c, 0.0)) for c in PAYBACK_CATEGORIES},
        {c: np.array([1, delay.get(c, 1)], dtype=np.int64) for c in PAYBACK_CATEGORIES},
        {c: np.array([1.0, retention.get(c, 1.0)]) for c in PAYBACK_CATEGORIES},
    )


def _case(model: PaybackModel, sched_node1_mw: float = -2.0) -> tuple[Any, Schedule]:
    """A stub scenario (what :func:`forecast_clearing` reads) and a flat schedule: node 1 draws 2 MW."""
    scen = SimpleNamespace(
        nodes=SimpleNamespace(kind=np.array(["transmission", "feeder"])),
        imbalance_forecast_mw=np.full(K, 5.0),
    )
    inj = np.zeros((2, K))
    inj[1] = sched_node1_mw
    z = np.zeros(K)
    sched = Schedule(inj, {}, np.zeros((0, K)), np.zeros((0, K)), z, z, model)
    return scen, sched


def _forecast(scen: Any, sched: Schedule, measured_mw: np.ndarray, k: int, tracker: DeferredEnergy) -> Any:
    return forecast_clearing(
        scen,
        sched,
        per_market_step(sched.node_inj_mw, 1),
        k + 1,
        2,
        MeasuredState(measured_mw, k),
        np.array([0]),
        np.array([1.0]),
        0.0,
        tracker,
    )


def test_activation_is_not_taken_for_a_forecast_error() -> None:
    """Node 1 is scheduled at -2.0 MW. In step 0 a storage pool there is activated upward by X = 1.5 MW;
    the uncontrolled system deviates by +0.1 MW; SCADA measures with a state-estimation error of +2 %.

    Hand calculation: true injection -2.0 + 1.5 + 0.1 = -0.4 MW, measured -0.4 * 1.02 = -0.408 MW;
    non-activation deviation d = -0.408 - (-2.0) - 1.5 = 0.092 MW; forecast for steps 1 and 2:
    -2.0 + 0.092 = -1.908 MW (the old forecast, schedule + measured deviation, gave -0.408 MW: the node
    seen 1.5 MW lighter); the TSO's need: 5.0 - 0.092 = 4.908 MW (old: 5.0 - 1.592 = 3.408 MW), and
    under SBR 5.0 MW (the DSO balances its own deviation).
    Storage pays nothing back (its baseline is 0 whatever its state of charge)."""
    model = _model()
    scen, sched = _case(model)
    tracker = DeferredEnergy(model, 2)
    tracker.advance(0, {"storage": np.array([0.0, 1.5])})
    measured = np.array([0.0, (-2.0 + 1.5 + 0.1) * 1.02])
    fc = _forecast(scen, sched, measured, 0, tracker)
    assert fc.deviation_mw[1] == pytest.approx(0.092, abs=TOL_MW)
    np.testing.assert_allclose(fc.base_nodes_mw[1], [-1.908, -1.908], atol=TOL_MW)
    np.testing.assert_allclose(fc.need_mw, [4.908, 4.908], atol=TOL_MW)
    # without the tracker (nothing dispatched known), the old forecast: schedule + measured deviation
    old = forecast_clearing(
        scen, sched, sched.node_inj_mw, 1, 2, MeasuredState(measured, 0), np.array([0]), np.array([1.0]), 0.0
    )
    np.testing.assert_allclose(old.base_nodes_mw[1], [-0.408, -0.408], atol=TOL_MW)
    # SBR: the DSO keeps its interface on the schedule, so the TSO's need is the imbalance forecast alone
    sbr = forecast_clearing(
        scen, sched, sched.node_inj_mw, 1, 2, MeasuredState(measured, 0), np.array([0]), np.array([1.0]),
        0.0, tracker, True,
    )
    np.testing.assert_allclose(sbr.need_mw, [5.0, 5.0], atol=TOL_MW)
    np.testing.assert_allclose(sbr.base_nodes_mw[1], [-1.908, -1.908], atol=TOL_MW)


def test_ev_rebound_over_two_steps() -> None:
    """Node 1's EVs are scheduled to charge 0.4 MW and can charge 0.7 MW (0.3 MW free charging power).
    In step 0 they are deferred by 0.5 MW: E = 0.5 MW * 0.5 h = 0.25 MWh owed; the measurement is exact
    and the rest of the node follows its schedule.

    Hand calculation of the rule (delay 1, a = 1): step 1 pays min(0.25 / 0.5, 0.3) = 0.3 MW (0.15 MWh),
    step 2 pays the remaining 0.10 MWh / 0.5 h = 0.2 MW. Forecast injections: -2.0 - 0.3 = -2.3 MW and
    -2.0 - 0.2 = -2.2 MW; the two steps return the 0.25 MWh deferred. The TSO's need grows by the
    rebound: 5.3 and 5.2 MW."""
    model = _model(load_mw={"ev": 0.4}, cap_mw={"ev": 0.7})
    scen, sched = _case(model)
    tracker = DeferredEnergy(model, 2)
    tracker.advance(0, {"ev": np.array([0.0, 0.5])})
    fc = _forecast(scen, sched, np.array([0.0, -2.0 + 0.5]), 0, tracker)
    assert fc.deviation_mw[1] == pytest.approx(0.0, abs=TOL_MW)
    np.testing.assert_allclose(fc.payback_mw[1], [-0.3, -0.2], atol=TOL_MW)
    np.testing.assert_allclose(fc.base_nodes_mw[1], [-2.3, -2.2], atol=TOL_MW)
    np.testing.assert_allclose(fc.need_mw, [5.3, 5.2], atol=TOL_MW)
    assert -fc.payback_mw[1].sum() * DT_H == pytest.approx(0.25, abs=TOL_MW)
    # the tracker is unchanged by the forecast; when step 1 then happens without activation, the payback
    # the rule expected there (0.3 MW) is taken out of the measured deviation of step 1
    tracker.advance(1, {})
    fc2 = _forecast(scen, sched, np.array([0.0, -2.3]), 1, tracker)
    assert fc2.deviation_mw[1] == pytest.approx(0.0, abs=TOL_MW)
    np.testing.assert_allclose(fc2.payback_mw[1], [-0.2, 0.0], atol=TOL_MW)


def test_activation_over_the_step_in_progress_keeps_deferring() -> None:
    """The clearing made during step 1 knows step 1's set-points (dispatched before it). Node 1's EVs are
    scheduled at 0.8 MW and can charge 1.0 MW (0.2 MW free). Step 0: set-point +0.5 MW (0.25 MWh owed).
    Step 1: their baseline pays back min(0.25 / 0.5, 0.2) = 0.2 MW, and the set-point, a delta on that
    baseline, is +0.7 MW (0.5 MW below the schedule again): owed 0.25 - 0.1 + 0.35 = 0.5 MWh.

    Hand calculation for the clearing of steps 2 and 3: 0.2 MW of payback in each (the free charging
    power binds); the 0.3 MWh left come back at 0.2 MW in steps 4 to 6: 0.5 MWh in all."""
    model = _model(load_mw={"ev": 0.8}, cap_mw={"ev": 1.0})
    scen, sched = _case(model, -0.8)
    tracker = DeferredEnergy(model, 2)
    tracker.advance(0, {"ev": np.array([0.0, 0.5])})
    tracker.advance(1, {"ev": np.array([0.0, 0.7])})  # dispatched, not yet measured
    assert tracker.payback_mw[1, 1] == pytest.approx(-0.2, abs=TOL_MW)
    fc = forecast_clearing(
        scen, sched, sched.node_inj_mw, 2, 2, MeasuredState(np.array([0.0, -0.3]), 0),
        np.array([0]), np.array([1.0]), 0.0, tracker,
    )
    assert fc.deviation_mw[1] == pytest.approx(0.0, abs=TOL_MW)
    np.testing.assert_allclose(fc.payback_mw[1], [-0.2, -0.2], atol=TOL_MW)
    assert tracker.payback_forecast(7)[1].sum() * DT_H == pytest.approx(-0.5, abs=TOL_MW)


def _tcl(ambient_c: float) -> tuple[dict[str, DeviceArrays], ModelContext]:
    one = np.ones(1)
    dev = DeviceArrays(
        category="tcl",
        group=np.zeros(1, dtype=np.int64),
        node=np.zeros(1, dtype=np.int64),
        aggregator=np.zeros(1, dtype=np.int64),
        params={
            "p_rated_kw": 4.0 * one,
            "temp_set_c": 21.0 * one,
            "band_c": 1.0 * one,
            "time_constant_h": 4.0 * one,
            "cop": 3.0 * one,
            "thermal_capacity_kwh_per_k": 1.5 * one,
            "flex_cost_eur_per_mwh": 20.0 * one,
        },
    )
    ctx = ModelContext({"ambient_temp_c": np.full(K, ambient_c)}, DT_H, 0.0, 0.0)
    devices = {"tcl": dev}
    init_state(devices, ctx, np.random.default_rng(1))
    dev.state["temp_c"] = np.array([21.0])
    return devices, ctx


def test_tcl_rebound_matches_the_device_model() -> None:
    """A cooling TCL (4 kW, tau 4 h, C 1.5 kWh/K, COP 3, ambient 30 degC, at its 21 degC set point) is
    deferred in step 0 by its whole upward flexibility. Reference: the device model run twice without
    noise, with and without the deferral; the extra consumption of step 1 is what the rule forecasts,
    a * E / dt with a = exp(-0.5 / 4) (the rest of the deferred cooling leaked to the room's ambient)."""
    devices, ctx = _tcl(30.0)
    ref, _ = _tcl(30.0)
    up, _ = flexibility(devices["tcl"], ctx, 0)
    assert up[0] > 0.01
    p0_def = device_step(devices["tcl"], ctx, 0, up, None).p_kw[0]
    p0_ref = device_step(ref["tcl"], ctx, 0, None, None).p_kw[0]
    e_mwh = (p0_def - p0_ref) / 1000.0 * DT_H  # injection up = consumption deferred
    p1_def = device_step(devices["tcl"], ctx, 1, None, None).p_kw[0]
    p1_ref = device_step(ref["tcl"], ctx, 1, None, None).p_kw[0]
    rebound_mw = -(p1_def - p1_ref) / 1000.0
    a = np.exp(-DT_H / 4.0)
    assert rebound_mw == pytest.approx(a * e_mwh / DT_H, rel=1e-9)
    # the rule, with the parameters payback_model reads from the same device
    sched_load = np.zeros((1, K))
    sched_load[0, :] = -p0_ref / 1000.0
    model = payback_model(devices, ctx, 1, {c: sched_load for c in PAYBACK_CATEGORIES}, np.zeros((1, K)))
    assert model.retention["tcl"][0] == pytest.approx(a, rel=1e-12)
    tracker = DeferredEnergy(model, 1)
    tracker.advance(0, {"tcl": np.array([(p0_def - p0_ref) / 1000.0])})
    assert -tracker.payback_forecast(2)[0, 0] == pytest.approx(rebound_mw, rel=1e-9)


def test_wet_appliance_rebound_one_cycle_later() -> None:
    """A wet appliance (2 kW, 1.5 h cycle = 3 steps of 0.5 h) due to start in step 0 is postponed one step.
    Reference: the device model with and without the postponement: -2 kW in step 0 and +2 kW in step 3
    (the shifted cycle ends one step later). The rule (delay = cycle = 3 steps) forecasts the 1 kWh
    deferred in step 0 as 2 kW of extra consumption in step 3, nothing in steps 1 and 2."""

    def wet() -> tuple[dict[str, DeviceArrays], ModelContext]:
        one = np.ones(1)
        dev = DeviceArrays(
            category="shiftable_load",
            group=np.zeros(1, dtype=np.int64),
            node=np.zeros(1, dtype=np.int64),
            aggregator=np.zeros(1, dtype=np.int64),
            params={
                "p_kw": 2.0 * one,
                "cycle_h": 1.5 * one,
                "start_h": 0.0 * one,
                "max_shift_h": 3.0 * one,
                "flex_cost_eur_per_mwh": 20.0 * one,
            },
        )
        ctx = ModelContext({}, DT_H, 0.0, 0.0)
        devices = {"shiftable_load": dev}
        init_state(devices, ctx, np.random.default_rng(1))
        return devices, ctx

    devices, ctx = wet()
    ref, _ = wet()
    p_def = [device_step(devices["shiftable_load"], ctx, 0, np.array([2.0]), None).p_kw[0]]
    p_def += [device_step(devices["shiftable_load"], ctx, k, None, None).p_kw[0] for k in range(1, 5)]
    p_ref = [device_step(ref["shiftable_load"], ctx, k, None, None).p_kw[0] for k in range(5)]
    np.testing.assert_allclose(np.subtract(p_def, p_ref), [2.0, 0.0, 0.0, -2.0, 0.0])
    sched_load = np.zeros((1, K))
    sched_load[0, :3] = 0.002
    load = {c: sched_load for c in PAYBACK_CATEGORIES}
    model = payback_model(devices, ctx, 1, load, np.zeros((1, K)))
    assert model.delay_steps["shiftable_load"][0] == 3
    tracker = DeferredEnergy(model, 1)
    tracker.advance(0, {"shiftable_load": np.array([0.002])})
    np.testing.assert_allclose(tracker.payback_forecast(5)[0], [0.0, 0.0, -0.002, 0.0], atol=TOL_MW)
