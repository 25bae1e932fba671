"""Disaggregation: a pool's activation -> set-points of its devices, within each device's limits.

Each pool's activated quantity ``A`` (MW, in the bid's direction) is split over its devices in
proportion to the flexibility ``f_i`` each has at delivery time in that direction:
``delta_i = dir * f_i * min(1, A / sum_j f_j)``. A device never receives more than its own flexibility,
so storage stays within its SOC limits and a TCL within its temperature band; when the pool has lost
flexibility since gate closure (latency), it delivers less and the shortfall shows as residual
imbalance for aFRR. Atomic (shiftable) loads cannot be half-postponed: each device of the pool is
postponed (or started early) with probability ``min(1, A / sum_j f_j)``.
"""

from __future__ import annotations

import numpy as np

from simulation.bidding.aggregators import pool_keys
from simulation.devices import DeviceArrays
from simulation.physical.models import ModelContext, flexibility


def disaggregate(
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    k: int,
    pool_activation_mw: dict[int, tuple[float, float]],
    n_nodes: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Set-point deltas (kW, injection) per device of every category for physical step ``k``.

    ``pool_activation_mw`` maps a pool key to its (upward, downward) activation in MW (both >= 0).
    Categories without an activated pool get no entry (their devices follow their baseline).
    """
    out: dict[str, np.ndarray] = {}
    if not pool_activation_mw:
        return out
    keys_act = np.fromiter(pool_activation_mw.keys(), dtype=np.int64)
    a_up = np.array([v[0] for v in pool_activation_mw.values()])
    a_down = np.array([v[1] for v in pool_activation_mw.values()])
    order = np.argsort(keys_act)
    keys_act, a_up, a_down = keys_act[order], a_up[order], a_down[order]
    for cat, dev in devices.items():
        if cat == "noncontrollable_load" or len(dev) == 0:
            continue
        keys = pool_keys(dev, n_nodes)
        pos = np.searchsorted(keys_act, keys)
        pos = np.clip(pos, 0, keys_act.size - 1)
        hit = (keys_act[pos] == keys) & (dev.aggregator >= 0)
        if not hit.any():
            continue
        up, down = flexibility(dev, ctx, k)
        up = np.where(hit, up, 0.0)
        down = np.where(hit, down, 0.0)
        # pool totals of the flexibility at delivery time
        uniq, inv = np.unique(keys[hit], return_inverse=True)
        f_up = np.bincount(inv, up[hit], uniq.size) / 1000.0
        f_down = np.bincount(inv, down[hit], uniq.size) / 1000.0
        pidx = np.searchsorted(keys_act, uniq)
        r_up = np.divide(a_up[pidx], f_up, out=np.zeros(uniq.size), where=f_up > 0).clip(0.0, 1.0)
        r_down = np.divide(a_down[pidx], f_down, out=np.zeros(uniq.size), where=f_down > 0).clip(0.0, 1.0)
        ratio_up = np.zeros(len(dev))
        ratio_down = np.zeros(len(dev))
        ratio_up[hit] = r_up[inv]
        ratio_down[hit] = r_down[inv]
        if cat == "shiftable_load":
            u = rng.random(len(dev))
            delta = np.where(u < ratio_up, up, 0.0) - np.where((u < ratio_down) & (up == 0), down, 0.0)
        else:
            delta = up * ratio_up - down * ratio_down
        out[cat] = delta
    return out
