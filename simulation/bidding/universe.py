"""The bid universe: every bid a scheme's clearings can contain, fixed for the day (market sessions).

A :class:`simulation.market.MarketSession` keeps one model for the day, so its bids must not change from
one clearing to the next; the session clearer (:class:`simulation.clearing_stage.SessionClearer`) writes
each clearing's bids into this universe by their key (:func:`bid_key`), and a bid absent from a clearing
offers 0 MW.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook, decode_pool, pool_keys, pool_segment
from coordstudio.simulation.bidding.products import bid_name, pool_label, pool_products
from coordstudio.simulation.scenario.build import Scenario


def bid_key(book: BidBook, b: int) -> tuple[Any, ...]:
    """Identity of bid ``b`` across clearings (its id without the clearing's tag)."""
    if book.model[b] == "generator":
        return ("gen", int(book.gen[b]), int(book.direction[b]))
    if book.model[b] == "commercial":
        return ("cp", int(book.gen[b]), book.side[b], int(book.direction[b]))
    return ("pool", int(book.pool[b]), int(book.direction[b]), book.product[b])


def bid_universe(
    scenario: Scenario,
    devices: dict[str, Any],
    parties: dict[str, np.ndarray] | None,
    H: int,
    firm_steps: int = 1,
) -> tuple[list[tuple[Any, ...]], BidBook]:
    """Every bid the scheme's clearings can contain, with 0 MW: per aggregator pool (from the devices'
    fixed aggregator, node, category and cost segment) the bids of its model's products
    (:func:`simulation.bidding.products.pool_products`; ``firm_steps``: dispatched steps per clearing),
    per transmission generator up and down, per
    commercial party buy and sell in both directions (``parties``; None for a scheme without them).
    Returns the bids' keys (:func:`bid_key`) and the bids, in a fixed order."""
    nodes = scenario.nodes
    n_nodes = len(nodes)
    node_index = {name: i for i, name in enumerate(nodes.name)}
    rows: list[dict[str, Any]] = []
    pools: set[int] = set()
    for cat, dev in devices.items():
        if cat == "noncontrollable_load" or len(dev) == 0:
            continue
        pools.update(pool_keys(dev, n_nodes)[dev.aggregator >= 0].tolist())
    for pool in sorted(pools):
        agg_idx, node_idx, model = decode_pool(pool, n_nodes)
        label = pool_label(scenario.aggregators[agg_idx], nodes.name[node_idx], model, pool_segment(pool))
        for prod in pool_products(model, firm_steps):
            rows.append(
                {
                    "key": ("pool", pool, prod.direction, prod.name),
                    "bid_id": bid_name(label, prod),
                    "owner": scenario.aggregators[agg_idx],
                    "node": node_idx,
                    "direction": prod.direction,
                    "aggregator": agg_idx,
                    "model": model,
                    "pool": pool,
                    "gen": -1,
                    "party": "bsp",
                    "side": "sell",
                    "energy_group": f"{label}/{prod.energy}" if prod.energy else "",
                    "product": prod.name,
                    "fok": prod.fill_or_kill,
                    "excl": f"{label}/{prod.exclusive}" if prod.exclusive else "",
                    "dispatched": prod.dispatched,
                    "shift": prod.shift_steps,
                }
            )
    gens = scenario.tso_gens
    for g in range(gens["bus"].size):
        node = f"t{int(gens['bus'][g])}"
        for d in (1, -1):
            rows.append(
                {
                    "key": ("gen", g, d),
                    "bid_id": f"GEN{g}/{node}/{'up' if d > 0 else 'down'}",
                    "owner": f"GEN{g}",
                    "node": node_index[node],
                    "direction": d,
                    "aggregator": -1,
                    "model": "generator",
                    "pool": -1,
                    "gen": g,
                    "party": "bsp",
                    "side": "sell",
                    "energy_group": "",
                }
            )
    if parties is not None:
        for c in range(parties["bus"].size):
            node = f"t{int(parties['bus'][c])}"
            for side in ("buy", "sell"):
                for d in (1, -1):
                    rows.append(
                        {
                            "key": ("cp", c, side, d),
                            "bid_id": f"CP{c}/{node}/{side}/{'up' if d > 0 else 'down'}",
                            "owner": f"CP{c}",
                            "node": node_index[node],
                            "direction": d,
                            "aggregator": -2,
                            "model": "commercial",
                            "pool": -1,
                            "gen": c,
                            "party": "commercial",
                            "side": side,
                            "energy_group": "",
                        }
                    )
    n = len(rows)
    book = BidBook(
        bid_id=[r["bid_id"] for r in rows],
        owner=[r["owner"] for r in rows],
        node=np.array([r["node"] for r in rows], dtype=np.int64),
        node_name=[nodes.name[r["node"]] for r in rows],
        direction=np.array([r["direction"] for r in rows], dtype=np.int8),
        aggregator=np.array([r["aggregator"] for r in rows], dtype=np.int64),
        model=[r["model"] for r in rows],
        pool=np.array([r["pool"] for r in rows], dtype=np.int64),
        gen=np.array([r["gen"] for r in rows], dtype=np.int64),
        party=[r["party"] for r in rows],
        side=[r["side"] for r in rows],
        quantity_mw=np.zeros((n, H)),
        price_eur_per_mwh=np.zeros((n, H)),
        energy_groups={},
        energy_group=[r["energy_group"] for r in rows],
        product=[r.get("product", "") for r in rows],
        fill_or_kill=np.array([r.get("fok", False) for r in rows], dtype=bool),
        exclusive_group=[r.get("excl", "") for r in rows],
        dispatched=np.array([r.get("dispatched", True) for r in rows], dtype=bool),
        shift_steps=np.array([r.get("shift", 0) for r in rows], dtype=np.int64),
    )
    return [r["key"] for r in rows], book


__all__ = ["bid_key", "bid_universe"]
