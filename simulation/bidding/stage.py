"""The bidding stage: what the market receives at one clearing's information time.

Aggregators pool their devices' flexibility into bids (:func:`simulation.bidding.aggregators.build_bids`),
the transmission generators offer around their schedule, and where the scheme has commercial parties
(:attr:`simulation.schemes.SchemeBehaviour.commercial_parties`, IFM) they buy their share of the need and
sell their portfolio's flexibility. Bids at nodes the market's transmission model no longer reaches
(behind a tripped line) are not offered.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import (
    BidBook,
    append_bids,
    build_bids,
    commercial_bids,
    generator_bids,
)
from coordstudio.simulation.physical.models import ModelContext
from coordstudio.simulation.scenario.build import Scenario


def commercial_parties(scenario: Scenario) -> dict[str, np.ndarray] | None:
    """The scenario's commercial parties (IFM): bus, share of the need, willingness to pay, flexibility to
    sell and its price; None without any. Drawn from the spec's seed, the same for every scheme."""
    spec = scenario.spec
    n = spec.commercial_parties
    if n == 0:
        return None
    rng = np.random.default_rng(spec.seed + 23)
    buses = scenario.transmission_net.load.bus.to_numpy()
    spread = spec.prices.commercial_bid_price_spread_eur_per_mwh
    return {
        "bus": rng.choice(buses, n),
        "share_frac": np.full(n, 0.4 / n),
        "value_eur_per_mwh": 60.0 + spread * rng.uniform(-1, 1, n),
        "sell_mw": rng.uniform(1.0, 3.0, n),
        "sell_price_eur_per_mwh": 60.0 + spread * rng.uniform(-1, 1, n),
    }


def collect_bids(
    scenario: Scenario,
    devices: dict[str, Any],
    ctx: ModelContext,
    k: int,
    H: int,
    gen_schedule_mw: np.ndarray,
    node_index: dict[str, int],
    parties: dict[str, np.ndarray] | None,
    need_mw: np.ndarray,
    reach: np.ndarray,
    tag: str,
    k_delivery: int | None = None,
) -> BidBook:
    """Every bid of one clearing made at physical step ``k`` over ``H`` market steps (ids prefixed with
    ``tag``): aggregators, transmission generators (around ``gen_schedule_mw``), then commercial parties
    (``parties``, None for a scheme without them) buying their share of ``need_mw``; bids at nodes outside
    ``reach`` are left out. ``k_delivery``: physical step where the clearing's market step 0 starts (None:
    ``k``)."""
    prices = scenario.spec.prices
    tsp = scenario.spec.timing
    firm_steps = max(1, min(H, tsp.clearing_frequency_min // tsp.granularity_min))
    book = build_bids(
        devices,
        ctx,
        k,
        H,
        scenario.nodes.name,
        scenario.aggregators,
        prices.risk_premium_eur_per_mwh,
        min_bid_mw=prices.min_bid_mw,
        tag=tag,
        firm_steps=firm_steps,
        k_delivery=k_delivery,
        phys_per_market_step=scenario.spec.timing.granularity_min // scenario.spec.timing.physical_step_min,
    )
    book = append_bids(book, generator_bids(scenario.tso_gens, gen_schedule_mw, node_index, H, tag=tag))
    if parties is not None:
        book = append_bids(book, commercial_bids(parties, need_mw * 1.0, node_index, tag=tag))
    if not reach[book.node].all():  # bids behind a tripped line cannot be offered to this market
        book = book.subset(reach[book.node])
    return book


__all__ = ["collect_bids", "commercial_parties"]
