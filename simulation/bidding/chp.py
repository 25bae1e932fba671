"""CHP pools' bids within their heat stores over the market horizon.

A heat-led CHP unit (:mod:`simulation.physical.models`) runs at ``p_j = clip(h_j / htp, p_min, p_max)``
for the heat demand ``h_j``; its heat store follows ``H_{j+1} = H_j + dt (htp p_j - h_j)`` within
``[0, H_max]``. Producing ``x`` kW more (up) for ``dt`` stores ``htp x dt`` more heat; less (down) takes
it from the store. Over a horizon the store, not the one-step power range, is the binding limit: a bid
offering one step's flexibility in every step would let the market fill the store several times over.

From the baseline trajectory ``H_j`` (forecast heat demand, no noise) of each unit:

* per step the power range ``up_j = min(p_max, (H_max - H_j + h_j dt)/(htp dt)) - p_j`` and
  ``down_j = p_j - max(p_min, (h_j dt - H_j)/(htp dt))`` (the device model's own one-step limits);
* the energy the whole horizon can take: ``E_up = min_j (H_max - H_{j+1}) / htp`` (extra electricity
  whose heat still fits in the store at every step's end) and ``E_down = min_j H_{j+1} / htp``.

Up and down each get their own energy group (``[0, E_up]`` and ``[-E_down, 0]``): each holds one bid of
one sign, so its cumulative energy grows monotonically and the bound on the total keeps the store within
its limits at every step (``H_j + htp (U_j - D_j) <= H_j + htp U_j <= H_max``, likewise for 0).
"""

from __future__ import annotations

import numpy as np

from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.physical.models import ModelContext, _chp_heat_kw


def chp_horizon_limits(
    dev: DeviceArrays, ctx: ModelContext, k: int, k0: int, n_steps: int, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per CHP unit: ``(up_kw, down_kw)`` per market step ``(n, n_steps)`` (the least over its physical
    steps) and ``(e_up_kwh, e_down_kwh)`` ``(n,)`` of electricity over the horizon (module docstring).

    ``k``: physical step of the known state; ``k0``: first physical step of market step 0."""
    p = dev.params
    n = len(dev)
    htp = p["heat_to_power_ratio"]
    h_max = p["heat_store_kwh"]
    p_min = p["p_min_frac"] * p["p_max_kw"]
    store = dev.state["heat_kwh"].astype(float).copy()
    lead = max(0, k0 - k)
    n_phys = lead + n_steps * m
    up = np.zeros((n, n_phys))
    down = np.zeros((n, n_phys))
    room_end = np.full(n, np.inf)
    avail_end = np.full(n, np.inf)
    n_prof = len(ctx.profiles["heat"])
    dt = ctx.dt_h
    for j in range(n_phys):
        kk = min(k + j, n_prof - 1)
        heat = _chp_heat_kw(dev, ctx, kk)
        base = np.clip(heat / htp, p_min, p["p_max_kw"])
        hi = np.minimum(p["p_max_kw"], (h_max - store + heat * dt) / (htp * dt))
        lo = np.maximum(p_min, (heat * dt - store) / (htp * dt))
        up[:, j] = np.maximum(0.0, hi - base)
        down[:, j] = np.maximum(0.0, base - lo)
        store = np.clip(store + (htp * base - heat) * dt, 0.0, h_max)
        if j >= lead:
            room_end = np.minimum(room_end, h_max - store)
            avail_end = np.minimum(avail_end, store)
    up_m = up[:, lead:].reshape(n, n_steps, m).min(axis=2)
    down_m = down[:, lead:].reshape(n, n_steps, m).min(axis=2)
    return up_m, down_m, np.maximum(0.0, room_end) / htp, np.maximum(0.0, avail_end) / htp


__all__ = ["chp_horizon_limits"]
