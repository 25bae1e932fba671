"""The product catalogue each aggregation model offers: which bids a pool makes, with which market products.

A pool (aggregator, node, aggregation model and, for curtailable resources, cost segment) always offers
the same list of bids (:func:`pool_products`), so a day's bid universe is fixed
(:mod:`simulation.bidding.universe`); a clearing fills in their quantities and prices
(:func:`simulation.bidding.aggregators.build_bids`), a bid with nothing to offer offers 0 MW.

=================  ============================================================================
model              bids of a pool (seed: the five aggregation models)
=================  ============================================================================
``atomic``         wet appliances by traces: per start-time shift ``d`` (:data:`ATOMIC_SHIFTS`,
                   market steps) a **fill-or-kill profile** up bid (the cycles that no longer run
                   in their planned steps) in the pool's **exclusive group** (one start time per
                   pool and horizon), and the cycles' rebound as a fill-or-kill profile down bid
                   coupled to it by an **energy group** (both or neither)
``tcl``            per firm step ``s`` a fill-or-kill deferral (up) bid offering in step ``s`` only
                   (the pool switched as one block: one signal to all its heat pumps),
                   and its **payback** (a down bid in step ``s + 1``, price 0) bound to it by an
                   energy group with ``emin = emax = 0``; the same for a boost (down) and its
                   payback (up). The payback is what the thermostats do by themselves when the
                   deferral ends: the market sees it, the dispatch does not send it.
``storage``        stationary storage: up and down bids sharing one energy group bounded by
                   the energy the devices can still discharge or absorb (state of charge)
``ev``             the storage model's EVs, pooled apart (their flexibility has a payback): per firm
                   step ``s`` a deferral (up) offering in step ``s`` only, and its **payback** (a
                   down bid in the later steps where the EVs have headroom before they leave, price
                   0, not dispatched: the EVs' own charging plan makes it) bound to it by an energy
                   group ``emin = emax = 0`` (:mod:`simulation.bidding.ev`); and a down bid (charge
                   more) bounded by the energy the EVs can still take above their targets
``chp``            up and down bids within the heat store: per-step quantities from the store's
                   baseline trajectory, and each direction an energy group bounded by what the store
                   can take or give over the horizon (:mod:`simulation.bidding.chp`)
``curtailable``    a **merit order** per pool: the pool is split by the devices' flexibility costs
                   into cost segments (:data:`MERIT_ORDER_EDGES_EUR_PER_MWH`), each its own pool
                   with up and down bids at its own price, so the cheapest devices go first
=================  ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

ATOMIC_SHIFTS: tuple[int, ...] = (1, 2)
"""Start-time shifts (market steps) an atomic pool offers: its cycles start ``d`` steps later."""

MERIT_ORDER_EDGES_EUR_PER_MWH: tuple[float, ...] = (40.0, 60.0, 80.0, 100.0, 120.0)
"""Cost bands (EUR/MWh of the devices' flexibility or marginal cost) splitting a curtailable pool into
merit-order segments: a device with cost ``c`` is in segment ``searchsorted(edges, c, 'right')``."""

N_SEGMENTS: int = len(MERIT_ORDER_EDGES_EUR_PER_MWH) + 1
"""Cost segments a pool key can carry (0 for the models without a merit order)."""


@dataclass(frozen=True)
class Product:
    """One bid a pool makes in every clearing."""

    direction: int
    """+1 up, -1 down."""
    name: str
    """Product name inside the pool ("" for the plain curtailable bid), part of the bid's id and key."""
    fill_or_kill: bool = False
    """All or nothing (with ``exclusive``: over the whole profile)."""
    exclusive: str = ""
    """Suffix of the pool's exclusive group ("" = none)."""
    energy: str = ""
    """Suffix of the pool's energy group ("" = none)."""
    dispatched: bool = True
    """False for a payback or rebound: the devices do it by themselves, the dispatch sends nothing."""
    shift_steps: int = 0
    """Atomic: the start-time shift in market steps (0 = not a shift)."""
    step: int = -1
    """TCL, EV: the market step the deferral or boost offers in (-1 = every step)."""


def pool_products(model: str, firm_steps: int) -> tuple[Product, ...]:
    """The bids of a pool of aggregation model ``model`` (see the module docstring); ``firm_steps``: the
    market steps of a clearing that are dispatched (a TCL deferral is offered in each of them)."""
    if model == "atomic":
        out: list[Product] = []
        for d in ATOMIC_SHIFTS:
            out.append(Product(1, f"shift{d}", True, "start", f"shift{d}", True, d))
            out.append(Product(-1, f"shift{d}/rebound", True, f"shift{d}/rebound", f"shift{d}", False, d))
        return tuple(out)
    if model == "tcl":
        out = []
        for s in range(firm_steps):
            for d, name in ((1, "defer"), (-1, "boost")):
                out.append(Product(d, f"{name}{s}", fill_or_kill=True, energy=f"{name}{s}", step=s))
                out.append(Product(-d, f"{name}{s}/payback", energy=f"{name}{s}", dispatched=False, step=s))
        return tuple(out)
    if model == "storage":
        return (Product(1, "", energy="energy"), Product(-1, "", energy="energy"))
    if model == "ev":
        out = []
        for s in range(firm_steps):
            out.append(Product(1, f"defer{s}", energy=f"defer{s}", step=s))
            out.append(Product(-1, f"defer{s}/payback", energy=f"defer{s}", dispatched=False, step=s))
        out.append(Product(-1, "", energy="energy"))
        return tuple(out)
    if model == "chp":
        return (Product(1, "", energy="store/up"), Product(-1, "", energy="store/down"))
    return (Product(1, ""), Product(-1, ""))


def pool_label(aggregator: str, node: str, model: str, segment: int) -> str:
    """Readable id of a pool: ``aggregator/node/model`` (``/segN`` for a merit-order segment)."""
    return f"{aggregator}/{node}/{model}" + (f"/seg{segment}" if model == "curtailable" else "")


def bid_name(label: str, product: Product) -> str:
    """Id of a pool's bid (without a clearing's tag)."""
    d = "up" if product.direction > 0 else "down"
    return f"{label}/{product.name}/{d}" if product.name else f"{label}/{d}"


__all__ = [
    "ATOMIC_SHIFTS",
    "MERIT_ORDER_EDGES_EUR_PER_MWH",
    "N_SEGMENTS",
    "Product",
    "bid_name",
    "pool_label",
    "pool_products",
]
