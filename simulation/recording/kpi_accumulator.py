"""KPI accumulation over one scheme's day: what each clearing and each physical step adds to the KPIs.

:class:`KpiAccumulator` sums the figures the stages return (:meth:`add_clearing` from a clearing's
activations and prices, :meth:`add_physics` from a physical step's outcome) and turns them into the
:class:`simulation.kpis.SchemeKpis` the CBA monetises (:meth:`to_kpis`).

A clearing adds, over its firm steps ``s`` (``dt``: one market step in hours), the **resource cost**
(what the activated flexibility costs its sellers, by their own bids), the **payments to sellers**
(pay-as-clear at the nodal price) and the **payments by buyers** (the operators' needs and IFM's buy bids
at their nodal prices)::

    resource = sum_{b sell} sum_s a[b, s] * price_b[s] * dt
    paid     = sum_{b sell} sum_s a[b, s] * dt * (direction_b * LMP[node_b, s]   if |LMP| < penalty / 2
                                                  price_b[s]                    otherwise)
    bought   = sum_{n, s priced} need[n, s] * LMP[n, s] * dt
               + sum_{b buy} sum_{s priced} a[b, s] * direction_b * LMP[node_b, s] * dt
    rent     = bought - paid

A price at or near the slack penalty is the slack's, not a clearing price: a seller there is paid its
own bid, and a need there is left out of ``bought`` (its unserved part is priced as slack).
``paid - resource`` is the sellers' surplus, ``rent`` what the nodal prices leave with the operators;
both are transfers between actors, so the system CBA counts ``resource`` and the per-actor analysis the
payments.

aFRR of a physical step (``R`` the residual imbalance, ``a`` the aFRR delivered within the TSO's reserve
and ramp, :mod:`simulation.physical.afrr`): ``afrr_energy += |a| dt``, ``afrr_need_energy += |R| dt``,
``R - a > 0`` adds ``(R - a) dt`` to the energy not served, ``R - a < 0`` adds ``(a - R) dt`` to the surplus
not absorbed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook
from coordstudio.simulation.kpis import SchemeKpis

AFRR_SHORT_TOL_MW = 1e-9
"""A residual imbalance left uncovered by less than this (MW) is rounding, not a shortage."""


def price_map_of(result: Any) -> dict[tuple[str, int], float]:
    """(node, step) -> clearing price (EUR/MWh) of a market result."""
    prices = result.prices
    out: dict[tuple[str, int], float] = {}
    if len(prices):
        for nd, st, pr in zip(prices["node"], prices["step"], prices["price_eur_per_mwh"], strict=True):
            out[(str(nd), int(st))] = float(pr)
    return out


@dataclass(frozen=True)
class ClearingMoney:
    """One clearing's money over its firm steps (see module docstring), EUR."""

    resource_cost_eur: float
    """Activated sell bids at their own prices."""
    payment_eur: float
    """Paid to the activated sellers at their nodal prices."""
    buyer_payment_eur: float
    """Paid by the buyers (needs and buy bids) at their nodal prices."""


@dataclass
class KpiAccumulator:
    """Running sums of one scheme's KPIs (field names as in :class:`SchemeKpis`, without units where
    the KPI's own name carries them)."""

    activation_cost_eur: float = 0.0
    resource_cost_eur: float = 0.0
    buyer_payments_eur: float = 0.0
    need_payments_eur: float = 0.0
    afrr_mwh: float = 0.0
    afrr_cost_eur: float = 0.0
    afrr_need_mwh: float = 0.0
    afrr_up_mwh: float = 0.0
    afrr_down_mwh: float = 0.0
    afrr_not_served_mwh: float = 0.0
    afrr_not_absorbed_mwh: float = 0.0
    afrr_short_steps: int = 0
    congestion_h: float = 0.0
    overload_mwh: float = 0.0
    voltage_h: float = 0.0
    curtailed_mwh: float = 0.0
    losses_mwh: float = 0.0
    slack_mwh: float = 0.0
    slack_cost_eur: float = 0.0
    unserved_mwh: float = 0.0
    lines_tripped: int = 0
    failed_clearings: int = 0
    clearings: int = 0
    infeasible_clearings: int = 0
    time_limited_clearings: int = 0
    slack_clearings: int = 0
    congestion_by_grid: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    voltage_by_grid: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bids_by_area: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    activated_by_area: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add_clearing(
        self,
        book: BidBook,
        result: Any,
        activation: np.ndarray,
        price_map: dict[tuple[str, int], float],
        n_firm: int,
        dt_mstep_h: float,
        penalty_eur_per_mwh: float,
        area_of_node: np.ndarray,
        needs_mw: Mapping[str, Any] | None = None,
    ) -> ClearingMoney:
        """Resource cost, payments, slack and liquidity of one clearing (firm steps only; see module
        docstring). ``needs_mw``: the operators' need per node id and market step, MW (the market case's).
        Returns the clearing's own money figures (for its database row)."""
        needs_mw = needs_mw or {}
        a = activation
        firm_cols = list(range(min(n_firm, a.shape[1])))
        priced = penalty_eur_per_mwh * 0.5
        paid = resource = bought = 0.0
        for b in np.flatnonzero((a[:, firm_cols] > 1e-9).any(axis=1)).tolist() if firm_cols else []:
            for s in firm_cols:
                q = a[b, s]
                if q <= 1e-9:
                    continue
                lmp = price_map.get((book.node_name[b], s), float("nan"))
                at_lmp = bool(np.isfinite(lmp) and abs(lmp) < priced)
                if book.side[b] == "buy":
                    if at_lmp:
                        bought += book.direction[b] * lmp * q * dt_mstep_h
                    continue
                bid = book.price_eur_per_mwh[b, s]
                unit = book.direction[b] * lmp if at_lmp else bid
                paid += unit * q * dt_mstep_h
                resource += bid * q * dt_mstep_h
        need_paid = 0.0
        for node, need in needs_mw.items():
            need_arr = np.broadcast_to(np.asarray(need, dtype=float), (a.shape[1],))
            for s in firm_cols:
                lmp = price_map.get((str(node), s), float("nan"))
                if np.isfinite(lmp) and abs(lmp) < priced:
                    need_paid += float(need_arr[s]) * lmp * dt_mstep_h
        bought += need_paid
        self.need_payments_eur += need_paid
        self.activation_cost_eur += paid
        self.resource_cost_eur += resource
        self.buyer_payments_eur += bought
        money = ClearingMoney(resource_cost_eur=resource, payment_eur=paid, buyer_payment_eur=bought)
        if len(result.slack):
            sl = result.slack[result.slack["step"].isin(firm_cols)]
            e = float((sl["slack_up_mw"] + sl["slack_down_mw"]).sum()) * dt_mstep_h
            self.slack_mwh += e
            self.slack_cost_eur += e * penalty_eur_per_mwh
            if e > 1e-9:
                self.slack_clearings += 1
        # liquidity per DSO area
        for b in range(len(book)):
            area = area_of_node[book.node[b]]
            if area == "transmission":
                continue
            self.bids_by_area[area] += 1
            if firm_cols and (a[b, firm_cols] > 1e-9).any():
                self.activated_by_area[area] += 1
        return money

    def add_failed_clearing(self, kind: str | None) -> None:
        """A clearing without a usable solution (``kind``: see
        :attr:`simulation.clearing_stage.ClearingOutcome.failure_kind`)."""
        self.failed_clearings += 1
        if kind == "infeasible":
            self.infeasible_clearings += 1
        elif kind == "time_limit":
            self.time_limited_clearings += 1

    def add_physics(self, step: Any, dt_h: float, afrr_price_up: float, afrr_price_down: float) -> None:
        """What one physical step (:class:`simulation.physical.step.PhysicsOutcome`) adds."""
        # one addition per device category and per feeder, in order (the same sums to the last digit)
        for mw in step.curtailed_mw:
            self.curtailed_mwh += mw * dt_h
        for loss, unserved in zip(step.losses_mw, step.unserved_mw, strict=True):
            self.losses_mwh += loss * dt_h
            self.unserved_mwh += unserved * dt_h
        afrr = step.afrr_mw
        self.afrr_mwh += abs(afrr) * dt_h
        self.afrr_cost_eur += (afrr_price_up if afrr > 0 else afrr_price_down) * abs(afrr) * dt_h
        if afrr > 0:
            self.afrr_up_mwh += afrr * dt_h
        else:
            self.afrr_down_mwh += -afrr * dt_h
        self.afrr_need_mwh += abs(step.afrr_need_mw) * dt_h
        uncovered = step.afrr_need_mw - afrr
        if uncovered > AFRR_SHORT_TOL_MW:
            self.afrr_not_served_mwh += uncovered * dt_h
            self.afrr_short_steps += 1
        elif uncovered < -AFRR_SHORT_TOL_MW:
            self.afrr_not_absorbed_mwh += -uncovered * dt_h
            self.afrr_short_steps += 1
        for grid_key, n_over, overload_mva, n_voltage in step.grid_violations:
            self.congestion_h += n_over * dt_h
            self.congestion_by_grid[grid_key] += n_over * dt_h
            self.overload_mwh += overload_mva * dt_h
            v_h = n_voltage * dt_h
            self.voltage_h += v_h
            self.voltage_by_grid[grid_key] += v_h
        self.lines_tripped += step.lines_tripped

    def to_kpis(
        self,
        scheme: str,
        day: str,
        duration_h: float,
        messages_by_pair: dict[str, int],
        bytes_by_pair: dict[str, int],
    ) -> SchemeKpis:
        """The run's KPIs."""
        return SchemeKpis(
            scheme=scheme,
            day=day,
            duration_h=duration_h,
            activation_cost_eur=self.activation_cost_eur,
            resource_cost_eur=self.resource_cost_eur,
            buyer_payments_eur=self.buyer_payments_eur,
            need_payments_eur=self.need_payments_eur,
            congestion_rent_eur=self.buyer_payments_eur - self.activation_cost_eur,
            afrr_energy_mwh=self.afrr_mwh,
            afrr_cost_eur=self.afrr_cost_eur,
            afrr_need_energy_mwh=self.afrr_need_mwh,
            afrr_up_energy_mwh=self.afrr_up_mwh,
            afrr_down_energy_mwh=self.afrr_down_mwh,
            afrr_energy_not_served_mwh=self.afrr_not_served_mwh,
            afrr_surplus_not_absorbed_mwh=self.afrr_not_absorbed_mwh,
            afrr_short_steps=self.afrr_short_steps,
            congestion_hours_h=self.congestion_h,
            overload_energy_mwh=self.overload_mwh,
            voltage_violation_hours_h=self.voltage_h,
            curtailed_res_mwh=self.curtailed_mwh,
            losses_mwh=self.losses_mwh,
            slack_energy_mwh=self.slack_mwh,
            slack_cost_eur=self.slack_cost_eur,
            lines_tripped=self.lines_tripped,
            failed_clearings=self.failed_clearings,
            energy_not_served_mwh=self.unserved_mwh,
            congestion_hours_by_grid=dict(self.congestion_by_grid),
            voltage_violation_hours_by_grid=dict(self.voltage_by_grid),
            bids_submitted_by_area=dict(self.bids_by_area),
            bids_activated_by_area=dict(self.activated_by_area),
            messages_by_pair=dict(messages_by_pair),
            bytes_by_pair=dict(bytes_by_pair),
            clearings=self.clearings,
            infeasible_clearings=self.infeasible_clearings,
            time_limited_clearings=self.time_limited_clearings,
            slack_clearings=self.slack_clearings,
        )


def flat_kpis(k: SchemeKpis) -> dict[str, float]:
    """The ``kpis`` table's name -> value rows (dict KPIs as ``field[key]``)."""
    out: dict[str, float] = {}
    for name, value in k.model_dump().items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                out[f"{name}[{sub}]"] = float(v)
    return out


__all__ = ["ClearingMoney", "KpiAccumulator", "flat_kpis", "price_map_of"]
