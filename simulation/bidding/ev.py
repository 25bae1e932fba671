"""EV pools' deferrals and their paybacks, from each EV's charging plan over the market horizon.

An EV charges at full power from arrival until its target state of charge (the device model's baseline,
:func:`simulation.physical.models.baseline`): ``c_j = min(P, n_j / dt)`` while connected, ``n_j`` the
grid energy still needed (``(soc_target - soc) E / eta``). Charging ``x`` kW less in a step (a
deferral) raises the need by ``x dt``, and the same baseline charges it back at the first steps where
the EV has headroom ``P - c_j`` (after it would otherwise have finished): the **payback**, which the
device makes by itself (the dispatch sends no set-point for it). An EV that leaves with its target
unmet is what the device model's must-charge rule prevents; here a deferral is offered only as far as
its payback fits inside the market horizon *and* before the EV leaves, so the clearing sees every MWh it
defers come back, and the EV still reaches its target.

Per EV ``i`` and firm market step ``s`` (market steps of ``m`` physical steps of ``dt`` h):

* the plan ``c_ij`` (no deferral) is simulated from the state at gate closure (step ``k``), with the
  model's trip rule (at departure the SOC resets to its initial value, away until arrival);
* deferrable power ``d_is = min_j c_ij`` over the physical steps of ``s`` (all of them connected);
* payback room in a later market step ``t``: ``r_it = sum_j (P_i - c_ij) dt`` over its physical steps,
  counted only while the EV stays connected in the same stay (not after it left);
* offered: ``d_is' = d_is`` when its whole energy comes back in the horizon, ``sum_{t>s} r_it >=
  d_is m dt``, else 0 (the device model's own rule: an EV defers only what it can still charge before
  it leaves, :func:`simulation.physical.models.flexibility`, so the dispatch finds the offered EVs
  deferrable), and its payback profile the earliest-first fill of the rooms with ``d_is' m dt`` (what
  the baseline does): ``b_ist`` kW per market step.

The dispatch splits a pool's activated deferral over all its EVs that can defer at delivery (in
proportion to their charging power), including those whose payback falls beyond this horizon (still
before they leave): the market's view of where the payback lands is then an approximation for them.

The pool offers ``D_s = sum_i d_is'`` in step ``s`` and a payback bid bounded by ``B_st = sum_i b_ist``
in the later steps, bound to it by an energy group with ``emin = emax = 0``: a full deferral returns
exactly in those steps; a partial one within the same bounds.
"""

from __future__ import annotations

import numpy as np

from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.physical.models import ModelContext


def ev_charging_plan(dev: DeviceArrays, ctx: ModelContext, k: int, n_phys: int) -> tuple[np.ndarray, ...]:
    """The EVs' baseline charging over physical steps ``k .. k + n_phys - 1`` from their state now.

    Returns ``(charge_kw, connected, same_stay)``, each ``(n_ev, n_phys)``: charging power (>= 0) of the
    plan, connected flag, and whether step ``j`` is still in the stay the EV is in (or starts) at step
    ``k`` (False after its first departure)."""
    p = dev.params
    n = len(dev)
    soc = dev.state["soc_frac"].astype(float).copy()
    charge = np.zeros((n, n_phys))
    conn = np.zeros((n, n_phys), dtype=bool)
    stay = np.zeros((n, n_phys), dtype=bool)
    left = np.zeros(n, dtype=bool)
    arr, dep = p["arrival_h"], p["departure_h"]
    for j in range(n_phys):
        h0 = ctx.hour(k + j)
        h1 = ctx.hour(k + j + 1)
        con = (h0 >= arr) | (h0 < dep)
        need = np.maximum(0.0, p["soc_target_frac"] - soc) * p["e_max_kwh"] / p["efficiency_frac"]
        c = np.where(con, np.minimum(p["p_max_kw"], need / ctx.dt_h), 0.0)
        charge[:, j] = c
        conn[:, j] = con
        stay[:, j] = ~left
        soc = np.clip(
            soc + c * p["efficiency_frac"] * ctx.dt_h / p["e_max_kwh"], p["soc_min_frac"], p["soc_max_frac"]
        )
        leaving = (h0 < dep) & ((h1 >= dep) | (h1 < h0))
        soc = np.where(leaving, np.clip(p["soc_init_frac"], p["soc_min_frac"], p["soc_max_frac"]), soc)
        left |= leaving
    return charge, conn, stay


def ev_deferrals(
    dev: DeviceArrays, ctx: ModelContext, k: int, k0: int, n_steps: int, m: int, firm_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Deferrable power and payback profile of every EV (see the module docstring).

    ``k``: physical step of the state the bids are based on; ``k0``: physical step where market step 0
    starts (``k0 >= k``); ``n_steps`` market steps of ``m`` physical steps; deferrals in the first
    ``firm_steps``. Returns ``defer_kw`` ``(n_ev, firm_steps)`` and ``payback_kw``
    ``(n_ev, firm_steps, n_steps)`` (zero up to and including the deferral's step)."""
    n = len(dev)
    S = min(firm_steps, n_steps)
    defer = np.zeros((n, max(S, 0)))
    payback = np.zeros((n, max(S, 0), n_steps))
    if n == 0 or S <= 0:
        return defer, payback
    lead = max(0, k0 - k)
    charge, conn, stay = ev_charging_plan(dev, ctx, k, lead + n_steps * m)
    charge, conn, stay = charge[:, lead:], conn[:, lead:], stay[:, lead:]
    p_max = dev.params["p_max_kw"][:, None]
    room_phys = np.where(conn & stay, p_max - charge, 0.0) * ctx.dt_h  # kWh per physical step
    room = room_phys.reshape(n, n_steps, m).sum(axis=2)  # kWh per market step
    dt_mkt = ctx.dt_h * m
    for s in range(S):
        sl = slice(s * m, (s + 1) * m)
        ok = (conn[:, sl] & stay[:, sl]).all(axis=1)
        d = np.where(ok, charge[:, sl].min(axis=1), 0.0)
        later = room[:, s + 1 :]
        d = np.where(later.sum(axis=1) >= d * dt_mkt - 1e-9, d, 0.0)  # all of it comes back, or none
        # earliest-first fill of the later rooms with the deferred energy (what the baseline does)
        before = np.cumsum(later, axis=1) - later
        fill = np.clip(d[:, None] * dt_mkt - before, 0.0, later)
        defer[:, s] = d
        payback[:, s, s + 1 :] = fill / dt_mkt
    return defer, payback


__all__ = ["ev_charging_plan", "ev_deferrals"]
