"""Aggregators: device flexibility -> the market layer's bid products (the product catalogue).

A **pool** is the set of devices of one aggregator at one node in one aggregation model (for the
curtailable model, in one cost segment of its merit order). Each pool makes the bids its model's
products define (:func:`simulation.bidding.products.pool_products`): curtailable up and down bids for
the plain pools, energy-limited ones for storage, deferrals with their paybacks for TCLs and EVs
(:mod:`simulation.bidding.ev`), bids within the heat stores over the horizon for CHP
(:mod:`simulation.bidding.chp`), fill-or-kill profile bids with exclusive start times for atomic loads.
Quantities come from the pool's flexibility (sum over its devices of
:func:`simulation.physical.models.flexibility`); the price of a pool's service is the highest
flexibility cost among its devices with flexibility, plus the risk premium (what the aggregator asks to
exercise its option now rather than later); generators' downward bids return part of their fuel saving
(negative price); a payback or rebound is priced 0 (it is the consequence of the deferral, priced in
it).

Pools smaller than ``min_bid_mw`` are not offered (a market's minimum bid size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.atomic import shift_profiles, shift_set
from coordstudio.simulation.bidding.products import (
    MERIT_ORDER_EDGES_EUR_PER_MWH,
    N_SEGMENTS,
    bid_name,
    pool_label,
    pool_products,
)
from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.physical.models import ModelContext, flexibility
from coordstudio.simulation.scenario import AGGREGATION_MODEL_OF_CATEGORY

AGGREGATION_MODELS: tuple[str, ...] = ("atomic", "chp", "curtailable", "storage", "tcl", "ev")
"""Pool models: the seed's five aggregation models, with the storage model's EVs pooled apart ("ev")
because their flexibility is a deferral with a payback (:mod:`simulation.bidding.ev`), not a store's."""


def pool_model(category: str) -> str:
    """Pool model of a device category: its aggregation model, except EVs ("ev", see
    :data:`AGGREGATION_MODELS`)."""
    return "ev" if category == "ev" else AGGREGATION_MODEL_OF_CATEGORY[category]


_COST_FIELD = {
    "storage": "flex_cost_eur_per_mwh",
    "ev": "flex_cost_eur_per_mwh",
    "variable_res": "flex_cost_eur_per_mwh",
    "chp": "marginal_cost_eur_per_mwh",
    "conventional": "marginal_cost_eur_per_mwh",
    "shiftable_load": "flex_cost_eur_per_mwh",
    "curtailable_load": "flex_cost_eur_per_mwh",
    "tcl": "flex_cost_eur_per_mwh",
}

DOWN_PRICE_FUEL_RETURN_FRAC = 0.3
"""Share of a generator's marginal cost it pays back per MWh of downward activation (assumption)."""


@dataclass
class BidBook:
    """The bids of one clearing, with what the dispatch needs to map activations back to devices.

    Per bid (same row order as the market's bid table): ``pool`` key (see :func:`pool_keys`),
    ``direction`` (+1 up, -1 down), ``aggregator`` index (-1: a transmission generator, -2: a commercial
    party), ``node`` index, ``model`` name, ``gen`` (transmission generator index or -1).
    """

    bid_id: list[str]
    owner: list[str]
    node: np.ndarray
    node_name: list[str]
    direction: np.ndarray
    aggregator: np.ndarray
    model: list[str]
    pool: np.ndarray
    gen: np.ndarray
    party: list[str]
    side: list[str]
    quantity_mw: np.ndarray
    price_eur_per_mwh: np.ndarray
    energy_groups: dict[str, tuple[float, float]]
    energy_group: list[str]
    product: list[str] = field(default_factory=list)
    """Product name of each bid inside its pool ("" = the plain bid; :mod:`simulation.bidding.products`)."""
    fill_or_kill: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """All or nothing (a profile bid when it also has an exclusive group)."""
    exclusive_group: list[str] = field(default_factory=list)
    """Exclusive group of each bid ("" = none)."""
    dispatched: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """False for a payback or rebound, which the devices make by themselves (the dispatch skips it)."""
    shift_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Atomic shift bids: the start-time shift in market steps (0 otherwise)."""
    first_phys_step: int = 0
    """Physical step where the clearing's market step 0 starts (the atomic shifts refer to it)."""

    def __post_init__(self) -> None:
        n = len(self.bid_id)
        if len(self.product) != n:
            self.product = [""] * n
        if self.fill_or_kill.size != n:
            self.fill_or_kill = np.zeros(n, dtype=bool)
        if len(self.exclusive_group) != n:
            self.exclusive_group = [""] * n
        if self.dispatched.size != n:
            self.dispatched = np.ones(n, dtype=bool)
        if self.shift_steps.size != n:
            self.shift_steps = np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.bid_id)

    def subset(self, keep: np.ndarray) -> BidBook:
        """The bids where ``keep`` (bool per bid) is true, in the same order."""
        idx = np.flatnonzero(np.asarray(keep, dtype=bool))
        groups = {self.energy_group[i] for i in idx.tolist()}

        def pick(values: list[Any]) -> list[Any]:
            return [values[i] for i in idx.tolist()]

        return BidBook(
            bid_id=pick(self.bid_id),
            owner=pick(self.owner),
            node=self.node[idx],
            node_name=pick(self.node_name),
            direction=self.direction[idx],
            aggregator=self.aggregator[idx],
            model=pick(self.model),
            pool=self.pool[idx],
            gen=self.gen[idx],
            party=pick(self.party),
            side=pick(self.side),
            quantity_mw=self.quantity_mw[idx],
            price_eur_per_mwh=self.price_eur_per_mwh[idx],
            energy_groups={g: v for g, v in self.energy_groups.items() if g in groups},
            energy_group=pick(self.energy_group),
            product=pick(self.product),
            fill_or_kill=self.fill_or_kill[idx],
            exclusive_group=pick(self.exclusive_group),
            dispatched=self.dispatched[idx],
            shift_steps=self.shift_steps[idx],
            first_phys_step=self.first_phys_step,
        )

    def to_bid_table(self, submitted_min: float = float("nan")) -> Any:
        """The market layer's :class:`simulation.market.BidTable` of these bids."""
        from coordstudio.simulation.market import BidTable, EnergyConstraint

        n = len(self)
        attrs: dict[str, Any] = {
            "bid_id": np.array(self.bid_id, dtype=object),
            "owner": np.array(self.owner, dtype=object),
            "node": np.array(self.node_name, dtype=object),
            "direction": np.where(self.direction > 0, "up", "down").astype(object),
            "side": np.array(self.side, dtype=object),
            "party": np.array(self.party, dtype=object),
            "energy_group": np.array(self.energy_group, dtype=object),
            "fill_or_kill": np.asarray(self.fill_or_kill, dtype=bool),
            "exclusive_group": np.array(self.exclusive_group, dtype=object),
            "submitted_min": np.full(n, submitted_min),
        }
        cons = [EnergyConstraint(g, lo, hi) for g, (lo, hi) in self.energy_groups.items()]
        return BidTable.from_columns(attrs, self.quantity_mw, self.price_eur_per_mwh, cons)


def pool_keys(dev: DeviceArrays, n_nodes: int) -> np.ndarray:
    """Pool key of each device: ``((aggregator * n_nodes + node) * n_models + model) * N_SEGMENTS + seg``,
    ``seg`` the device's merit-order segment (:func:`merit_segment`; 0 outside the curtailable model)."""
    name = pool_model(dev.category)
    model = AGGREGATION_MODELS.index(name)
    base = (dev.aggregator.astype(np.int64) * n_nodes + dev.node) * len(AGGREGATION_MODELS) + model
    seg = merit_segment(dev) if name == "curtailable" else 0
    return base * N_SEGMENTS + seg


def merit_segment(dev: DeviceArrays) -> np.ndarray:
    """Merit-order segment of each device: its cost band (:data:`MERIT_ORDER_EDGES_EUR_PER_MWH`)."""
    cost = dev.params[_COST_FIELD[dev.category]]
    return np.searchsorted(np.asarray(MERIT_ORDER_EDGES_EUR_PER_MWH), cost, side="right").astype(np.int64)


def decode_pool(key: int, n_nodes: int) -> tuple[int, int, str]:
    """Inverse of :func:`pool_keys`: ``(aggregator index, node index, aggregation model)`` of a pool."""
    n_models = len(AGGREGATION_MODELS)
    base = key // N_SEGMENTS
    return base // (n_models * n_nodes), (base // n_models) % n_nodes, AGGREGATION_MODELS[base % n_models]


def pool_segment(key: int) -> int:
    """Merit-order segment of a pool key (0 outside the curtailable model)."""
    return int(key % N_SEGMENTS)


def build_bids(
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    k: int,
    n_steps: int,
    node_names: list[str],
    aggregator_names: list[str],
    risk_premium_eur_per_mwh: float,
    min_bid_mw: float = 0.005,
    tag: str = "",
    firm_steps: int = 1,
    k_delivery: int | None = None,
    phys_per_market_step: int = 1,
) -> BidBook:
    """Bids of every aggregator for a horizon of ``n_steps`` market steps, from the state at step ``k``.

    Parameters
    ----------
    devices: device populations (state as known at gate closure).
    ctx: model context (profiles, step length).
    k: physical step whose state and flexibility the bids are based on.
    n_steps: market steps in the horizon.
    node_names, aggregator_names: id tables for bid ids and market node ids.
    risk_premium_eur_per_mwh: added to every price.
    min_bid_mw: pools below this are not offered.
    tag: prefix that makes the bid ids unique per clearing.
    firm_steps: market steps of the clearing that are dispatched (TCL deferrals offer in each).
    k_delivery: physical step where market step 0 starts (None: ``k``); atomic shifts refer to it.
    phys_per_market_step: physical steps per market step.
    """
    n_nodes = len(node_names)
    k0 = k if k_delivery is None else k_delivery
    m = phys_per_market_step
    cats = [c for c, dev in devices.items() if c != "noncontrollable_load" and len(dev) > 0]
    if not cats:
        return empty_book(n_steps)
    # Two passes over the categories (issue 21, P8): the pool keys first (their numbering), then each
    # category's flexibility added into the pools and dropped, instead of seven per-device arrays of
    # every category held at once (0.1-0.15 GiB at 2.5 M devices). np.add.at adds in device order, as
    # np.bincount over the concatenation did: the pools' sums are the same numbers, bit for bit.
    has_agg = {c: devices[c].aggregator >= 0 for c in cats}
    keys = np.concatenate([pool_keys(devices[c], n_nodes)[has_agg[c]] for c in cats])
    uniq, inv = np.unique(keys, return_inverse=True)
    del keys
    npool = uniq.size
    q_up = np.zeros(npool)
    q_down = np.zeros(npool)
    e_up = np.zeros(npool)
    e_down = np.zeros(npool)
    c_up = np.full(npool, -np.inf)
    c_down = np.full(npool, -np.inf)
    o = 0
    for cat in cats:
        dev = devices[cat]
        sel = has_agg[cat]
        pos = inv[o : o + int(sel.sum())]
        o += len(pos)
        up, down = flexibility(dev, ctx, k)
        cost = dev.params[_COST_FIELD[cat]]
        if cat in ("conventional", "chp"):
            cost_down = -DOWN_PRICE_FUEL_RETURN_FRAC * cost
        else:
            cost_down = cost
        if cat == "shiftable_load":  # the shift bids' price: the pool's dearest device that can move
            up = np.where(shift_set(dev, k0, firm_steps * m, m), dev.params["p_kw"], 0.0)
            down = np.zeros(len(dev))
        np.add.at(q_up, pos, up[sel])
        np.add.at(q_down, pos, down[sel])
        if cat == "storage":
            p = dev.params
            soc = dev.state["soc_frac"]
            eu = np.maximum(0.0, soc - p["soc_min_frac"]) * p["e_max_kwh"] * p["efficiency_frac"]
            ed = np.maximum(0.0, p["soc_max_frac"] - soc) * p["e_max_kwh"] / p["efficiency_frac"]
            np.add.at(e_up, pos, eu[sel])
            np.add.at(e_down, pos, ed[sel])
        elif cat == "ev":  # charging more than the plan only takes an EV above its target
            p = dev.params
            above = np.maximum(dev.state["soc_frac"], p["soc_target_frac"])
            ed = np.maximum(0.0, p["soc_max_frac"] - above) * p["e_max_kwh"] / p["efficiency_frac"]
            np.add.at(e_down, pos, ed[sel])
        # the other categories' energies were zeros in the concatenation: adding 0.0 to a sum that
        # starts at 0.0 changes no bit, so they are left out
        np.maximum.at(c_up, pos, np.where(up > 0, cost, -np.inf)[sel])
        np.maximum.at(c_down, pos, np.where(down > 0, cost_down, -np.inf)[sel])
    del inv
    q_up /= 1000.0
    q_down /= 1000.0
    e_up /= 1000.0
    e_down /= 1000.0
    atomic = _atomic_profiles(devices.get("shiftable_load"), n_nodes, k0, n_steps, m, firm_steps)
    ev = _ev_pools(devices.get("ev"), ctx, n_nodes, k, k0, n_steps, m, firm_steps)
    chp = _chp_pools(devices.get("chp"), ctx, n_nodes, k, k0, n_steps, m)
    H = n_steps
    rows: list[dict[str, Any]] = []
    groups: dict[str, tuple[float, float]] = {}
    for i, key in enumerate(uniq.tolist()):
        agg, node, model = decode_pool(key, n_nodes)
        label = tag + pool_label(aggregator_names[agg], node_names[node], model, pool_segment(key))
        q = {1: q_up[i], -1: q_down[i]}
        c = {1: c_up[i] + risk_premium_eur_per_mwh, -1: c_down[i] + risk_premium_eur_per_mwh}
        for prod in pool_products(model, firm_steps):
            qty = np.zeros(H)
            price = np.zeros(H)
            d = prod.direction
            group = f"{label}/{prod.energy}" if prod.energy else ""
            if model == "atomic":
                prof = atomic.get((key, prod.shift_steps))
                if prof is None or not np.isfinite(c[1]) or prof[0].max() < min_bid_mw:
                    continue
                qty = prof[0] if d > 0 else prof[1]
                price = np.full(H, c[1] if d > 0 else 0.0)
                eu, ed = float(prof[0].sum()), float(prof[1].sum())
                dt_h = ctx.dt_h * m
                groups[group] = (min(0.0, (eu - ed) * dt_h), max(0.0, (eu - ed) * dt_h))
            elif model == "tcl":
                base_dir = d if prod.dispatched else -d  # a payback follows its deferral or boost
                qd = q[base_dir]
                step = prod.step if prod.dispatched else prod.step + 1
                if qd < min_bid_mw or not np.isfinite(c[base_dir]) or prod.step + 1 >= H:
                    continue
                qty[step] = qd
                price[step] = c[base_dir] if prod.dispatched else 0.0
                groups[group] = (0.0, 0.0)
            elif model == "ev" and prod.step >= 0:
                dq, pb, c_ev = ev.get(key, (None, None, -np.inf))
                if dq is None or pb is None or dq[prod.step] < min_bid_mw or not np.isfinite(c_ev):
                    continue
                if prod.dispatched:
                    qty[prod.step] = dq[prod.step]
                    price[prod.step] = c_ev + risk_premium_eur_per_mwh
                else:
                    qty[:] = pb[prod.step]
                groups[group] = (0.0, 0.0)
            elif model == "chp":
                lim = chp.get(key)
                if lim is None or q[d] < min_bid_mw or not np.isfinite(c[d]):
                    continue
                if (lim[2] if d > 0 else lim[3]) <= 1e-9:
                    continue  # the store is full (empty) somewhere in the horizon: nothing to offer
                qty[:] = lim[0] if d > 0 else lim[1]
                price[:] = c[d]
                groups[group] = (0.0, lim[2]) if d > 0 else (-lim[3], 0.0)
            else:
                if q[d] < min_bid_mw or q[d] <= 1e-9 or not np.isfinite(c[d]):
                    continue
                qty[:] = q[d]
                price[:] = c[d]
                if group:
                    groups[group] = (-float(e_down[i]), float(e_up[i]))
            rows.append(
                {
                    "bid_id": tag + bid_name(label[len(tag) :], prod),
                    "owner": aggregator_names[agg],
                    "node": node,
                    "direction": d,
                    "aggregator": agg,
                    "model": model,
                    "pool": key,
                    "q": qty,
                    "p": price,
                    "energy_group": group,
                    "product": prod.name,
                    "fok": prod.fill_or_kill,
                    "excl": f"{label}/{prod.exclusive}" if prod.exclusive else "",
                    "dispatched": prod.dispatched,
                    "shift": prod.shift_steps,
                }
            )
    book = _book_of_rows(rows, n_steps, node_names, aggregator_names)
    used = set(book.energy_group)
    book.energy_groups = {g: v for g, v in groups.items() if g in used}
    book.first_phys_step = k0
    return book


def _ev_pools(
    dev: DeviceArrays | None,
    ctx: ModelContext,
    n_nodes: int,
    k: int,
    k0: int,
    H: int,
    m: int,
    firm_steps: int,
) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """Per EV pool key: deferrable MW per firm step ``(firm_steps,)``, the payback profile of each
    ``(firm_steps, H)`` (MW per market step) and the price base (the dearest flexibility cost among the
    EVs that can defer) (:func:`simulation.bidding.ev.ev_deferrals`)."""
    out: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    if dev is None or len(dev) == 0:
        return out
    from coordstudio.simulation.bidding.ev import ev_deferrals

    defer, payback = ev_deferrals(dev, ctx, k, k0, H, m, firm_steps)
    keys = pool_keys(dev, n_nodes)
    cost = dev.params[_COST_FIELD["ev"]]
    ok = dev.aggregator >= 0
    for key in np.unique(keys[ok]).tolist():
        sel = ok & (keys == key)
        can = sel & (defer.max(axis=1, initial=0.0) > 0)
        c = float(cost[can].max()) if can.any() else -np.inf
        out[int(key)] = (defer[sel].sum(axis=0) / 1000.0, payback[sel].sum(axis=0) / 1000.0, c)
    return out


def _chp_pools(
    dev: DeviceArrays | None, ctx: ModelContext, n_nodes: int, k: int, k0: int, H: int, m: int
) -> dict[int, tuple[np.ndarray, np.ndarray, float, float]]:
    """Per CHP pool key: up and down MW per market step ``(H,)`` and the up and down energy (MWh) the
    pool's heat stores allow over the horizon (:func:`simulation.bidding.chp.chp_horizon_limits`)."""
    out: dict[int, tuple[np.ndarray, np.ndarray, float, float]] = {}
    if dev is None or len(dev) == 0:
        return out
    from coordstudio.simulation.bidding.chp import chp_horizon_limits

    up, down, e_up, e_down = chp_horizon_limits(dev, ctx, k, k0, H, m)
    keys = pool_keys(dev, n_nodes)
    ok = dev.aggregator >= 0
    for key in np.unique(keys[ok]).tolist():
        sel = ok & (keys == key)
        out[int(key)] = (
            up[sel].sum(axis=0) / 1000.0,
            down[sel].sum(axis=0) / 1000.0,
            float(e_up[sel].sum()) / 1000.0,
            float(e_down[sel].sum()) / 1000.0,
        )
    return out


def _atomic_profiles(
    dev: DeviceArrays | None, n_nodes: int, k0: int, H: int, m: int, firm_steps: int
) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """Per (atomic pool key, shift in market steps): the up and rebound profiles (MW per market step) of
    shifting the pool's movable cycles (:mod:`simulation.bidding.atomic`)."""
    out: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    if dev is None or len(dev) == 0:
        return out
    keys = pool_keys(dev, n_nodes)
    from coordstudio.simulation.bidding.products import ATOMIC_SHIFTS

    for d in ATOMIC_SHIFTS:
        movable = shift_set(dev, k0, firm_steps * m, d * m) & (dev.aggregator >= 0)
        for key in np.unique(keys[movable]).tolist():
            up, reb = shift_profiles(dev, movable & (keys == key), k0, H, m, d * m)
            out[(int(key), d)] = (up / 1000.0, reb / 1000.0)
    return out


def _book_of_rows(
    rows: list[dict[str, Any]], n_steps: int, node_names: list[str], aggregator_names: list[str]
) -> BidBook:
    """A bid book of aggregator bids described by ``rows`` (see :func:`build_bids`)."""
    n = len(rows)
    if n == 0:
        return empty_book(n_steps)
    return BidBook(
        bid_id=[r["bid_id"] for r in rows],
        owner=[r["owner"] for r in rows],
        node=np.array([r["node"] for r in rows], dtype=np.int64),
        node_name=[node_names[r["node"]] for r in rows],
        direction=np.array([r["direction"] for r in rows], dtype=np.int8),
        aggregator=np.array([r["aggregator"] for r in rows], dtype=np.int64),
        model=[r["model"] for r in rows],
        pool=np.array([r["pool"] for r in rows], dtype=np.int64),
        gen=np.full(n, -1, dtype=np.int64),
        party=["bsp"] * n,
        side=["sell"] * n,
        quantity_mw=np.vstack([r["q"] for r in rows]).reshape(n, n_steps),
        price_eur_per_mwh=np.vstack([r["p"] for r in rows]).reshape(n, n_steps),
        energy_groups={},
        energy_group=[r["energy_group"] for r in rows],
        product=[r["product"] for r in rows],
        fill_or_kill=np.array([r["fok"] for r in rows], dtype=bool),
        exclusive_group=[r["excl"] for r in rows],
        dispatched=np.array([r["dispatched"] for r in rows], dtype=bool),
        shift_steps=np.array([r["shift"] for r in rows], dtype=np.int64),
    )


def empty_book(n_steps: int) -> BidBook:
    """A bid book without bids over ``n_steps`` market steps."""
    return BidBook(
        bid_id=[],
        owner=[],
        node=np.zeros(0, np.int64),
        node_name=[],
        direction=np.zeros(0, np.int8),
        aggregator=np.zeros(0, np.int64),
        model=[],
        pool=np.zeros(0, np.int64),
        gen=np.zeros(0, np.int64),
        party=[],
        side=[],
        quantity_mw=np.zeros((0, n_steps)),
        price_eur_per_mwh=np.zeros((0, n_steps)),
        energy_groups={},
        energy_group=[],
    )


def append_bids(book: BidBook, other: BidBook) -> BidBook:
    """Concatenate two bid books of the same horizon."""
    return BidBook(
        bid_id=book.bid_id + other.bid_id,
        owner=book.owner + other.owner,
        node=np.concatenate([book.node, other.node]),
        node_name=book.node_name + other.node_name,
        direction=np.concatenate([book.direction, other.direction]),
        aggregator=np.concatenate([book.aggregator, other.aggregator]),
        model=book.model + other.model,
        pool=np.concatenate([book.pool, other.pool]),
        gen=np.concatenate([book.gen, other.gen]),
        party=book.party + other.party,
        side=book.side + other.side,
        quantity_mw=np.vstack([book.quantity_mw, other.quantity_mw]),
        price_eur_per_mwh=np.vstack([book.price_eur_per_mwh, other.price_eur_per_mwh]),
        energy_groups={**book.energy_groups, **other.energy_groups},
        energy_group=book.energy_group + other.energy_group,
        product=book.product + other.product,
        fill_or_kill=np.concatenate([book.fill_or_kill, other.fill_or_kill]),
        exclusive_group=book.exclusive_group + other.exclusive_group,
        dispatched=np.concatenate([book.dispatched, other.dispatched]),
        shift_steps=np.concatenate([book.shift_steps, other.shift_steps]),
        first_phys_step=book.first_phys_step if len(book) else other.first_phys_step,
    )


def generator_bids(
    gens: dict[str, np.ndarray], p_now_mw: np.ndarray, node_index: dict[str, int], n_steps: int, tag: str = ""
) -> BidBook:
    """Bids of the transmission-connected generators: up to ``flex_mw`` up and down around ``p_now_mw``.

    Upward at their cost; downward returning part of the fuel saving (negative price)."""
    up = np.minimum(gens["flex_mw"], np.maximum(0.0, gens["p_max_mw"] - p_now_mw))
    down = np.minimum(gens["flex_mw"], np.maximum(0.0, p_now_mw))
    rows = []
    for g in range(gens["bus"].size):
        node = f"t{int(gens['bus'][g])}"
        for d, q, pr in (
            (1, up[g], gens["cost_eur_per_mwh"][g]),
            (-1, down[g], -DOWN_PRICE_FUEL_RETURN_FRAC * gens["cost_eur_per_mwh"][g]),
        ):
            if q > 1e-6:
                rows.append((g, node, d, float(q), float(pr)))
    n = len(rows)
    book = empty_book(n_steps)
    if not n:
        return book
    book.bid_id = [f"{tag}GEN{g}/{node}/{'up' if d > 0 else 'down'}" for g, node, d, _, _ in rows]
    book.owner = [f"GEN{g}" for g, *_ in rows]
    book.node = np.array([node_index[r[1]] for r in rows], dtype=np.int64)
    book.node_name = [r[1] for r in rows]
    book.direction = np.array([r[2] for r in rows], dtype=np.int8)
    book.aggregator = np.full(n, -1, dtype=np.int64)
    book.model = ["generator"] * n
    book.pool = np.full(n, -1, dtype=np.int64)
    book.gen = np.array([r[0] for r in rows], dtype=np.int64)
    book.party = ["bsp"] * n
    book.side = ["sell"] * n
    book.quantity_mw = np.repeat(np.array([r[3] for r in rows])[:, None], n_steps, axis=1)
    book.price_eur_per_mwh = np.repeat(np.array([r[4] for r in rows])[:, None], n_steps, axis=1)
    book.energy_group = [""] * n
    book.__post_init__()  # the product columns of bids without products
    return book


def commercial_bids(
    parties: dict[str, np.ndarray], need_mw: np.ndarray, node_index: dict[str, int], tag: str = ""
) -> BidBook:
    """IFM: each commercial party buys, at its willingness to pay, its share of the forecast imbalance
    (``need_mw`` per step, positive: short, buys upward), and sells the flexibility of its portfolio.

    ``parties``: ``bus``, ``share_frac``, ``value_eur_per_mwh``, ``sell_mw``, ``sell_price_eur_per_mwh``."""
    n_steps = need_mw.size
    rows = []
    for c in range(parties["bus"].size):
        node = f"t{int(parties['bus'][c])}"
        share = parties["share_frac"][c] * need_mw
        for d in (1, -1):
            q = np.maximum(0.0, d * share)
            if q.max() > 1e-6:
                price = parties["value_eur_per_mwh"][c] if d > 0 else -0.3 * parties["value_eur_per_mwh"][c]
                rows.append((c, node, d, "buy", q, price))
            sell = parties["sell_mw"][c]
            if sell > 1e-6:
                price = (
                    parties["sell_price_eur_per_mwh"][c]
                    if d > 0
                    else -0.3 * parties["sell_price_eur_per_mwh"][c]
                )
                rows.append((c, node, d, "sell", np.full(n_steps, sell), price))
    n = len(rows)
    book = empty_book(n_steps)
    if not n:
        return book
    book.bid_id = [f"{tag}CP{c}/{node}/{side}/{'up' if d > 0 else 'down'}" for c, node, d, side, _, _ in rows]
    book.owner = [f"CP{c}" for c, *_ in rows]
    book.node = np.array([node_index[r[1]] for r in rows], dtype=np.int64)
    book.node_name = [r[1] for r in rows]
    book.direction = np.array([r[2] for r in rows], dtype=np.int8)
    book.aggregator = np.full(n, -2, dtype=np.int64)
    book.model = ["commercial"] * n
    book.pool = np.full(n, -1, dtype=np.int64)
    book.gen = np.array([r[0] for r in rows], dtype=np.int64)
    book.party = ["commercial"] * n
    book.side = [r[3] for r in rows]
    book.quantity_mw = np.vstack([r[4] for r in rows])
    book.price_eur_per_mwh = np.vstack([np.full(n_steps, r[5]) for r in rows])
    book.energy_group = [""] * n
    book.__post_init__()  # the product columns of bids without products
    return book
