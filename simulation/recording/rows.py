"""Rows of the results database (:mod:`simulation.db`) from what the stages of one step returned.

One function per table group; each returns plain ``{column: value}`` rows and writes nothing itself, so the
run decides when to hand them to the :class:`simulation.db.ResultsWriter`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook, decode_pool
from coordstudio.simulation.db import PRICE_COMPONENT_COLUMNS
from coordstudio.simulation.recording.kpi_accumulator import ClearingMoney


def failed_clearing_rows(clearing: int, time_min: float, n_bids: int, error: str) -> list[dict[str, Any]]:
    """The ``clearings`` row of a clearing without a usable solution (its message, nothing activated)."""
    return [
        {
            "clearing": clearing,
            "time_min": time_min,
            "status": f"failed: {error}"[:300],
            "objective_eur": None,
            "activation_cost_eur": 0.0,
            "slack_energy_mwh": 0.0,
            "n_bids": n_bids,
            "n_activated": 0,
            "build_time_s": 0.0,
            "solve_time_s": 0.0,
            "resource_cost_eur": 0.0,
            "payment_eur": 0.0,
            "buyer_payment_eur": 0.0,
        }
    ]


def clearing_rows(
    clearing: int,
    time_min: float,
    book: BidBook,
    result: Any,
    activation: np.ndarray,
    price_map: dict[tuple[str, int], float],
    n_firm: int,
    dt_mstep_h: float,
    money: ClearingMoney | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Table -> rows of one clearing: its bids, its summary (with ``money``, its firm steps' resource cost
    and payments), its activations (with the bid's own price) and its prices."""
    a = activation
    bids = [
        {
            "clearing": clearing,
            "bid_id": book.bid_id[b],
            "owner": book.owner[b],
            "node": book.node_name[b],
            "direction": "up" if book.direction[b] > 0 else "down",
            "model": book.model[b],
            "quantity_mw": float(book.quantity_mw[b, 0]),
            "price_eur_per_mwh": float(book.price_eur_per_mwh[b, 0]),
            "energy_mwh": float(book.quantity_mw[b].sum() * dt_mstep_h),
        }
        for b in range(len(book))
    ]
    summary = [
        {
            "clearing": clearing,
            "time_min": time_min,
            "status": result.status,
            "objective_eur": float(result.objective_eur),
            "activation_cost_eur": float(result.activation_cost_eur),
            "slack_energy_mwh": float(result.slack_energy_mwh),
            "n_bids": len(book),
            "n_activated": int((a > 1e-9).any(axis=1).sum()),
            "build_time_s": float(result.build_time_s),
            "solve_time_s": float(result.solve_time_s),
            "resource_cost_eur": None if money is None else money.resource_cost_eur,
            "payment_eur": None if money is None else money.payment_eur,
            "buyer_payment_eur": None if money is None else money.buyer_payment_eur,
        }
    ]
    activations = [
        {
            "clearing": clearing,
            "bid_id": book.bid_id[b],
            "step": int(s),
            "firm": bool(s < n_firm),
            "activation_mw": float(a[b, s]),
            "clearing_price_eur_per_mwh": price_map.get((book.node_name[b], int(s))),
            "bid_price_eur_per_mwh": float(book.price_eur_per_mwh[b, s]),
        }
        for b, s in zip(*np.nonzero(a > 1e-9), strict=True)
    ]
    comps = price_components_of(result)
    none = (None,) * len(PRICE_COMPONENT_COLUMNS)
    prices = [
        {
            "clearing": clearing,
            "node": nd,
            "step": st,
            "price_eur_per_mwh": (pr if np.isfinite(pr) else None),
            **dict(zip(PRICE_COMPONENT_COLUMNS, comps.get((nd, st), none), strict=True)),
        }
        for (nd, st), pr in price_map.items()
    ]
    return {"bids": bids, "clearings": summary, "activations": activations, "prices": prices}


def price_components_of(result: Any) -> dict[tuple[str, int], tuple[float | None, ...]]:
    """(node, step) -> the price's components (:data:`simulation.db.PRICE_COMPONENT_COLUMNS` order;
    None where a component is NaN) of a market result, empty when it has none."""
    prices = result.prices
    if not len(prices) or not set(PRICE_COMPONENT_COLUMNS) <= set(prices.columns):
        return {}
    vals = prices[list(PRICE_COMPONENT_COLUMNS)].to_numpy(dtype=float)
    out: dict[tuple[str, int], tuple[float | None, ...]] = {}
    for nd, st, row in zip(prices["node"], prices["step"], vals.tolist(), strict=True):
        out[(str(nd), int(st))] = tuple(v if np.isfinite(v) else None for v in row)
    return out


def setpoint_rows(
    t_min: float,
    pool_activation: dict[int, tuple[float, float]],
    moved_per_pool: dict[int, int],
    aggregators: list[str],
    node_names: list[str] | np.ndarray,
) -> list[dict[str, Any]]:
    """One ``setpoints`` row per activated aggregator pool (net activation, devices moved)."""
    n_nodes = len(node_names)
    rows = []
    for pool, (a_up, a_down) in pool_activation.items():
        agg_idx, node_idx, model = decode_pool(pool, n_nodes)
        rows.append(
            {
                "time_min": t_min,
                "aggregator": aggregators[agg_idx],
                "node": node_names[node_idx],
                "model": model,
                "delta_mw": a_up - a_down,
                "n_devices": moved_per_pool.get(pool, 0),
            }
        )
    return rows


def measurement_rows(t_min: float, node_names: Any, m: Any) -> list[dict[str, Any]]:
    """One ``measurements`` row per node (:class:`simulation.measurement.Measurement` ``m``)."""
    return [
        {
            "time_min": t_min,
            "node": node_names[i],
            "p_mw": float(m.p_true_mw[i]),
            "p_measured_mw": float(m.p_measured_mw[i]),
            "vm_pu": None if not np.isfinite(m.vm_true_pu[i]) else float(m.vm_true_pu[i]),
            "vm_measured_pu": None if not np.isfinite(m.vm_measured_pu[i]) else float(m.vm_measured_pu[i]),
        }
        for i in range(len(node_names))
    ]


def balancing_rows(t_min: float, need_mw: float, afrr_mw: float) -> list[dict[str, Any]]:
    """The ``balancing`` row of a physical step: the residual imbalance, the aFRR delivered within the
    TSO's limits and what was left uncovered (positive: energy not served)."""
    return [{"time_min": t_min, "need_mw": need_mw, "afrr_mw": afrr_mw, "uncovered_mw": need_mw - afrr_mw}]


__all__ = [
    "balancing_rows",
    "clearing_rows",
    "failed_clearing_rows",
    "measurement_rows",
    "price_components_of",
    "setpoint_rows",
]
