"""Disaggregation: a pool's activation -> set-points of its devices, within each device's limits.

Each pool's activated quantity ``A`` (MW, in the bid's direction) is split over its devices in
proportion to the flexibility ``f_i`` each has at delivery time in that direction:
``delta_i = dir * f_i * min(1, A / sum_j f_j)``. A device never receives more than its own flexibility,
so storage stays within its SOC limits and a TCL within its temperature band; when the pool has lost
flexibility since gate closure (latency), it delivers less and the shortfall shows as residual
imbalance for aFRR. Atomic (shiftable) loads cannot be half-postponed: an activated start-time shift
(a fill-or-kill profile bid, all of it or nothing) holds back every cycle of its shift set until its
planned start plus the shift (:func:`simulation.bidding.atomic.postpone_deltas`); the physical model
then runs them later by itself. Paybacks and rebounds (bids with ``dispatched`` False) are what the
devices do by themselves when a deferral ends (a thermostat restoring its temperature, a postponed
cycle starting): the market sees them, the dispatch sends no set-point for them.

:func:`dispatch_step` is the dispatch stage of the simulated day: the firm activation in force at a
physical step, per bid, becomes pool activations (disaggregated into device set-points here), generator
set-point changes and commercial parties' injections.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook, pool_keys
from coordstudio.simulation.bidding.atomic import postpone_deltas
from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.physical.models import ModelContext, flexibility


def disaggregate(
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    k: int,
    pool_activation_mw: dict[int, tuple[float, float]],
    n_nodes: int,
    rng: np.random.Generator,
    shifts: tuple[dict[int, int], int, int] | None = None,
) -> dict[str, np.ndarray]:
    """Set-point deltas (kW, injection) per device of every category for physical step ``k``.

    ``pool_activation_mw`` maps a pool key to its (upward, downward) activation in MW (both >= 0).
    Categories without an activated pool get no entry (their devices follow their baseline).
    ``shifts``: the atomic start-time shifts in force ``(pool key -> shift in physical steps, first
    delivery step of their clearing, firm physical steps of that clearing)``.
    """
    out: dict[str, np.ndarray] = {}
    if shifts is not None and shifts[0] and "shiftable_load" in devices:
        dev = devices["shiftable_load"]
        delta = postpone_deltas(dev, pool_keys(dev, n_nodes), shifts[0], k, shifts[1], shifts[2])
        if delta.any():
            out["shiftable_load"] = delta
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
        if cat == "shiftable_load" and cat in out:
            continue  # moved by its start-time shifts
        if cat == "shiftable_load":
            u = rng.random(len(dev))
            delta = np.where(u < ratio_up, up, 0.0) - np.where((u < ratio_down) & (up == 0), down, 0.0)
        else:
            delta = up * ratio_up - down * ratio_down
        out[cat] = delta
    return out


@dataclass
class DispatchOutcome:
    """Set-points of one physical step."""

    pool_activation_mw: dict[int, tuple[float, float]]
    """Pool key -> (upward, downward) activation in force (MW, both >= 0)."""
    device_delta_kw: dict[str, np.ndarray]
    """Category -> set-point delta per device (kW, injection); categories without an activation absent."""
    gen_delta_mw: np.ndarray
    """(n_gens,) change of each transmission generator's output."""
    extra_injection_mw: np.ndarray
    """(n_transmission_nodes,) commercial parties' sold injection at each transmission-connected node."""
    moved_per_pool: dict[int, int]
    """Pool key -> number of devices given a set-point."""
    moved_per_aggregator: np.ndarray
    """(n_aggregators,) devices given a set-point, per aggregator."""
    node_delta_mw: dict[str, np.ndarray] = field(default_factory=dict)
    """Category -> (n_nodes,) set-point deltas summed per node (MW, injection): the activations the
    operators dispatched, which the next clearing's forecast takes out of the measured deviation
    (:mod:`simulation.forecast`)."""


def dispatch_step(
    firm: tuple[BidBook, np.ndarray] | None,
    s: int,
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    k: int,
    n_nodes: int,
    n_gens: int,
    t_node_idx: np.ndarray,
    n_aggregators: int,
    rng: np.random.Generator,
    phys_per_market_step: int = 1,
    firm_steps: int = 1,
) -> DispatchOutcome:
    """The set-points of physical step ``k`` from column ``s`` of the firm clearing in force (``firm``: its
    bids and activation (n_bids, H); None when no clearing is in force); ``t_node_idx``: sorted node
    indices of the transmission-connected nodes; ``phys_per_market_step`` and ``firm_steps`` (the
    clearing's dispatched market steps) place the atomic shifts in physical steps."""
    pool_act: dict[int, tuple[float, float]] = {}
    gen_delta = np.zeros(n_gens)
    extra_inj = np.zeros(t_node_idx.size)
    shifts: tuple[dict[int, int], int, int] | None = None
    if firm is not None and s < firm[1].shape[1]:
        book, a = firm
        col = a[:, s]
        # an atomic shift is a profile: activated when any of its steps is (all of them then)
        sh = np.flatnonzero((book.shift_steps > 0) & book.dispatched & (a.max(axis=1) > 1e-9))
        if sh.size:
            m = phys_per_market_step
            shifts = (
                {int(book.pool[b]): int(book.shift_steps[b]) * m for b in sh.tolist()},
                book.first_phys_step,
                firm_steps * m,
            )
        on = np.flatnonzero((col > 1e-9) & book.dispatched & (book.shift_steps == 0))
        for b in on:
            if book.pool[b] >= 0:
                u, d = pool_act.get(int(book.pool[b]), (0.0, 0.0))
                if book.direction[b] > 0:
                    u += col[b]
                else:
                    d += col[b]
                pool_act[int(book.pool[b])] = (u, d)
            elif book.model[b] == "generator":
                gen_delta[book.gen[b]] += book.direction[b] * col[b]
            elif book.model[b] == "commercial" and book.side[b] == "sell":
                tpos = int(np.searchsorted(t_node_idx, book.node[b]))
                extra_inj[tpos] += book.direction[b] * col[b]
    deltas = disaggregate(devices, ctx, k, pool_act, n_nodes, rng, shifts)
    # set-points: devices moved per pool (table setpoints) and per aggregator (messages)
    moved_per_pool: dict[int, int] = defaultdict(int)
    moved_per_agg = np.zeros(n_aggregators, dtype=np.int64)
    for cat, delta in deltas.items():
        moved = delta != 0
        if moved.any():
            keys, counts = np.unique(pool_keys(devices[cat], n_nodes)[moved], return_counts=True)
            for key, cnt in zip(keys.tolist(), counts.tolist(), strict=True):
                moved_per_pool[int(key)] += int(cnt)
            moved_per_agg += np.bincount(devices[cat].aggregator[moved], minlength=moved_per_agg.size)
    node_delta = {cat: np.bincount(devices[cat].node, dl, n_nodes) / 1000.0 for cat, dl in deltas.items()}
    return DispatchOutcome(
        pool_act, deltas, gen_delta, extra_inj, dict(moved_per_pool), moved_per_agg, node_delta
    )
