"""Aggregators: device flexibility -> the market layer's bid products, one pool per bid.

A **pool** is the set of devices of one aggregator at one node in one aggregation model. Each pool
offers at most one upward and one downward bid, curtailable, over the clearing horizon:

* quantity in step ``s``: the pool's flexibility in that direction (sum over its devices of
  :func:`simulation.physical.models.flexibility`), the same in every step of the horizon except that a
  storage pool's up and down bids share one energy group bounded by the energy its devices can still
  discharge or absorb;
* price: the highest flexibility cost among the devices with flexibility in the pool, plus the risk
  premium (what the aggregator asks to exercise its option now rather than later); generators' downward
  bids return part of their fuel saving (negative price).

Pools smaller than ``min_bid_mw`` are not offered (a market's minimum bid size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.devices import DeviceArrays
from simulation.physical.models import ModelContext, flexibility
from simulation.scenario import AGGREGATION_MODEL_OF_CATEGORY

AGGREGATION_MODELS: tuple[str, ...] = ("atomic", "chp", "curtailable", "storage", "tcl")

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
        )

    def to_bid_table(self, submitted_min: float = float("nan")) -> Any:
        """The market layer's :class:`simulation.market.BidTable` of these bids."""
        from simulation.market import BidTable, EnergyConstraint

        n = len(self)
        attrs: dict[str, Any] = {
            "bid_id": np.array(self.bid_id, dtype=object),
            "owner": np.array(self.owner, dtype=object),
            "node": np.array(self.node_name, dtype=object),
            "direction": np.where(self.direction > 0, "up", "down").astype(object),
            "side": np.array(self.side, dtype=object),
            "party": np.array(self.party, dtype=object),
            "energy_group": np.array(self.energy_group, dtype=object),
            "submitted_min": np.full(n, submitted_min),
        }
        cons = [EnergyConstraint(g, lo, hi) for g, (lo, hi) in self.energy_groups.items()]
        return BidTable.from_columns(attrs, self.quantity_mw, self.price_eur_per_mwh, cons)


def pool_keys(dev: DeviceArrays, n_nodes: int) -> np.ndarray:
    """Pool key of each device: ``(aggregator * n_nodes + node) * n_models + model``."""
    model = AGGREGATION_MODELS.index(AGGREGATION_MODEL_OF_CATEGORY[dev.category])
    return (dev.aggregator.astype(np.int64) * n_nodes + dev.node) * len(AGGREGATION_MODELS) + model


def decode_pool(key: int, n_nodes: int) -> tuple[int, int, str]:
    """Inverse of :func:`pool_keys`: ``(aggregator index, node index, aggregation model)`` of a pool."""
    n_models = len(AGGREGATION_MODELS)
    return key // (n_models * n_nodes), (key // n_models) % n_nodes, AGGREGATION_MODELS[key % n_models]


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
    """
    n_nodes = len(node_names)
    keys_all: list[np.ndarray] = []
    up_all: list[np.ndarray] = []
    down_all: list[np.ndarray] = []
    cost_up_all: list[np.ndarray] = []
    cost_down_all: list[np.ndarray] = []
    energy_up_all: list[np.ndarray] = []
    energy_down_all: list[np.ndarray] = []
    for cat, dev in devices.items():
        if cat == "noncontrollable_load" or len(dev) == 0:
            continue
        has_agg = dev.aggregator >= 0
        up, down = flexibility(dev, ctx, k)
        cost = dev.params[_COST_FIELD[cat]]
        if cat in ("conventional", "chp"):
            cost_down = -DOWN_PRICE_FUEL_RETURN_FRAC * cost
        else:
            cost_down = cost
        if cat in ("storage", "ev"):
            p = dev.params
            soc = dev.state["soc_frac"]
            e_up = np.maximum(0.0, soc - p["soc_min_frac"]) * p["e_max_kwh"] * p["efficiency_frac"]
            e_down = np.maximum(0.0, p["soc_max_frac"] - soc) * p["e_max_kwh"] / p["efficiency_frac"]
        else:
            e_up = np.zeros(len(dev))
            e_down = np.zeros(len(dev))
        keys_all.append(pool_keys(dev, n_nodes)[has_agg])
        up_all.append(up[has_agg])
        down_all.append(down[has_agg])
        cost_up_all.append(np.where(up > 0, cost, -np.inf)[has_agg])
        cost_down_all.append(np.where(down > 0, cost_down, -np.inf)[has_agg])
        energy_up_all.append(e_up[has_agg])
        energy_down_all.append(e_down[has_agg])
    if not keys_all:
        return empty_book(n_steps)
    keys = np.concatenate(keys_all)
    uniq, inv = np.unique(keys, return_inverse=True)
    m = uniq.size
    q_up = np.bincount(inv, np.concatenate(up_all), m) / 1000.0
    q_down = np.bincount(inv, np.concatenate(down_all), m) / 1000.0
    e_up = np.bincount(inv, np.concatenate(energy_up_all), m) / 1000.0
    e_down = np.bincount(inv, np.concatenate(energy_down_all), m) / 1000.0
    c_up = np.full(m, -np.inf)
    c_down = np.full(m, -np.inf)
    np.maximum.at(c_up, inv, np.concatenate(cost_up_all))
    np.maximum.at(c_down, inv, np.concatenate(cost_down_all))
    n_models = len(AGGREGATION_MODELS)
    model_idx = uniq % n_models
    node_idx = (uniq // n_models) % n_nodes
    agg_idx = uniq // (n_models * n_nodes)

    rows: list[tuple[int, int, float, float]] = []  # (pool row, direction, quantity, price)
    for direction, q, c in ((1, q_up, c_up), (-1, q_down, c_down)):
        ok = np.flatnonzero((q >= min_bid_mw) & (q > 1e-9) & np.isfinite(c))
        for i in ok:
            rows.append((int(i), direction, float(q[i]), float(c[i]) + risk_premium_eur_per_mwh))
    n = len(rows)
    book = empty_book(n_steps)
    if n == 0:
        return book
    pool_row = np.array([r[0] for r in rows])
    direction_arr = np.array([r[1] for r in rows], dtype=np.int8)
    qty = np.array([r[2] for r in rows])
    price = np.array([r[3] for r in rows])
    models = [AGGREGATION_MODELS[int(model_idx[i])] for i in pool_row]
    aggs = agg_idx[pool_row]
    nodes = node_idx[pool_row]
    bid_ids = [
        f"{tag}{aggregator_names[int(a)]}/{node_names[int(nd)]}/{mdl}/{'up' if d > 0 else 'down'}"
        for a, nd, mdl, d in zip(aggs, nodes, models, direction_arr, strict=True)
    ]
    energy_group = [""] * n
    groups: dict[str, tuple[float, float]] = {}
    for j, i in enumerate(pool_row):
        if models[j] == "storage":
            g = f"{tag}{aggregator_names[int(aggs[j])]}/{node_names[int(nodes[j])]}/storage"
            energy_group[j] = g
            groups[g] = (-float(e_down[i]), float(e_up[i]))
    book.bid_id = bid_ids
    book.owner = [aggregator_names[int(a)] for a in aggs]
    book.node = nodes.astype(np.int64)
    book.node_name = [node_names[int(nd)] for nd in nodes]
    book.direction = direction_arr
    book.aggregator = aggs.astype(np.int64)
    book.model = models
    book.pool = uniq[pool_row]
    book.gen = np.full(n, -1, dtype=np.int64)
    book.party = ["bsp"] * n
    book.side = ["sell"] * n
    book.quantity_mw = np.repeat(qty[:, None], n_steps, axis=1)
    book.price_eur_per_mwh = np.repeat(price[:, None], n_steps, axis=1)
    book.energy_groups = groups
    book.energy_group = energy_group
    return book


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
    return book
