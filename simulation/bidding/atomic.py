"""Atomic loads (wet appliances) by traces: a pool's cycles shifted to a later start, as profile bids.

A shiftable load runs its cycle (``cycle_steps`` physical steps at ``p_kw``) once, from its planned start
unless postponed, and at the latest ``max_shift_steps`` after it (:mod:`simulation.physical.models`).
A cycle cannot be half-postponed, so the aggregator offers the pool's **trace** shifted as a whole:

* the cycles it may move are those of idle devices whose planned start ``r_i`` (physical steps after
  the clearing's first delivery step ``k0``; a device already due starts at ``k0``, ``r_i = 0``) falls in
  the clearing's firm steps, and whose latest start allows the shift;
* shifting them by ``d`` market steps (``D = d m`` physical steps, ``m`` physical steps per market step)
  changes the pool's injection by ``delta(t) = B(t) - B(t - D)``, ``B(t) = sum_i p_i [r_i <= t < r_i +
  c_i]`` (kW): the cycles' consumption leaves their planned steps (up) and comes back ``D`` later
  (down, the rebound);
* per market step the mean of ``delta`` over its physical steps, split into its positive part (the
  up profile) and its negative part (the rebound profile).

Hand check (one device, 1 kW, cycle 2 steps, start in step 0, ``d = 1``, ``m = 1``): ``B = (1, 1, 0)``,
shifted ``(0, 1, 1)``, ``delta = (1, 0, -1)``: up 1 kW in step 0, rebound 1 kW in step 2.

The dispatch (:func:`postpone_deltas`) postpones, at physical step ``k``, every cycle of the shift set
with ``k < r_i + D + k0``: the physical model then starts it ``D`` steps later by itself (the rebound
needs no set-point).
"""

from __future__ import annotations

import numpy as np

from coordstudio.simulation.devices import DeviceArrays


def shift_set(dev: DeviceArrays, k0: int, firm_phys_steps: int, shift_phys_steps: int) -> np.ndarray:
    """Devices whose cycle a shift of ``shift_phys_steps`` physical steps moves (see module docstring):
    idle, not done, planned start within ``firm_phys_steps`` of ``k0``, and the shift within their
    latest start."""
    st = dev.state
    idle = (st["remaining"] <= 0) & ~st["done"]
    start = np.maximum(st["start_step"], k0)
    r = start - k0
    latest = st["start_step"] + st["max_shift_steps"]
    return idle & (r < firm_phys_steps) & (start + shift_phys_steps <= latest)


def shift_profiles(
    dev: DeviceArrays, sel: np.ndarray, k0: int, H: int, m: int, shift_phys_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(up_kw, rebound_kw)`` per market step (``(H,)`` each, >= 0) of shifting the cycles ``sel`` of
    ``dev`` by ``shift_phys_steps`` physical steps, over a horizon of ``H`` market steps of ``m``
    physical steps starting at physical step ``k0``."""
    st = dev.state
    t = np.arange(H * m)
    r = (np.maximum(st["start_step"], k0) - k0)[sel][:, None]
    c = st["cycle_steps"][sel][:, None]
    p = dev.params["p_kw"][sel][:, None]
    base = (p * ((t >= r) & (t < r + c))).sum(axis=0)
    rs = r + shift_phys_steps
    shifted = (p * ((t >= rs) & (t < rs + c))).sum(axis=0)
    delta = (base - shifted).reshape(H, m).mean(axis=1)
    return np.maximum(delta, 0.0), np.maximum(-delta, 0.0)


def postpone_deltas(
    dev: DeviceArrays,
    pool_of_device: np.ndarray,
    shifts: dict[int, int],
    k: int,
    k0: int,
    firm_phys_steps: int,
) -> np.ndarray:
    """Set-point deltas (kW; ``+p`` = postpone now) of the shiftable loads at physical step ``k`` for
    the activated shifts ``shifts`` (pool key -> shift in physical steps) of a clearing whose first
    delivery step is ``k0``: a device of a shifted pool in its shift set is held back until its planned
    start plus the shift."""
    out = np.zeros(len(dev))
    if not shifts or len(dev) == 0:
        return out
    start = np.maximum(dev.state["start_step"], k0)
    for pool, sh in shifts.items():
        sel = (pool_of_device == pool) & shift_set(dev, k0, firm_phys_steps, sh)
        hold = sel & (k < start + sh)
        out[hold] = dev.params["p_kw"][hold]
    return out


__all__ = ["postpone_deltas", "shift_profiles", "shift_set"]
