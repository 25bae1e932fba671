"""What the CBA figures support about an alternative against the reference: the facts the draft states.

The recommendations draft (:mod:`cba.recommendations`) must speak about the alternatives, never about the
reference against itself, and must say when an outcome is degenerate. This module computes, from a
:class:`~cba.analysis.CbaResult` and the ICT cost lines, the figures behind those statements:

* :func:`crossing`: the **switching values of the ranking** between an alternative ``a`` and the
  reference ``r``. The NPV is linear in the benefit multiplier ``m`` and in a common ICT cost multiplier
  ``k`` (both applied on top of the study's values), so with ``B`` and ``C`` the present values of
  benefits and costs

  .. math::

      m^* = \\frac{C_a - C_r}{B_a - B_r}, \\qquad k^* = \\frac{B_a - B_r}{C_a - C_r}

  are the multiplier on all benefits, and the factor on all ICT costs (a reduction of ``1 - k*``), at
  which ``NPV_a = NPV_r``; ``None`` where no positive value exists (e.g. the alternative has both more
  benefits and less cost, or the reverse, so no common multiplier changes their order).
* :func:`cost_items`: the ICT items that make up an alternative's extra cost over the reference, each
  the present value over the horizon (investment with replacements, operating cost, less residual
  value, at the study's rate and multipliers) of the alternative's lines minus the reference's lines of
  the same item.
* :func:`within_noise`: whether the NPV difference is smaller than the Monte Carlo standard deviation
  of the alternative's NPV.
* :func:`platform_items`: the costed components with a unit price of at least
  :data:`PLATFORM_UNIT_EUR` (market platforms, DMS extensions: one per operator, whatever the size of the
  simulated grid) and their share of a scheme's ICT cost, for the limitations section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from coordstudio.cba import finance
from coordstudio.cba.analysis import CbaResult
from coordstudio.cba.cashflows import line_schedule
from coordstudio.cba.parameters import CbaParameters
from coordstudio.sgam.costs import IctCostLine, SchemeIctCost

__all__ = [
    "PLATFORM_UNIT_EUR",
    "CostItem",
    "Crossing",
    "cost_items",
    "crossing",
    "line_pv",
    "platform_items",
    "within_noise",
]

#: A costed component whose investment per unit is at least this is a platform (EUR per unit).
PLATFORM_UNIT_EUR = 100_000.0


@dataclass(frozen=True)
class Crossing:
    """Where an alternative's NPV meets the reference's (switching values of the ranking)."""

    scheme: str
    reference: str
    benefit_multiplier: float | None
    """Factor on all benefits (on top of the study's benefit_factor) at which the NPVs are equal, -."""
    ict_cost_factor: float | None
    """Factor on all ICT costs at which the NPVs are equal, -; ``1 - factor`` is the reduction needed."""


@dataclass(frozen=True)
class CostItem:
    """One ICT item of an alternative's extra cost over the reference."""

    item_id: str
    description: str
    pv_eur: float
    """Present value of the alternative's lines of this item minus the reference's, EUR."""
    share: float
    """pv_eur over the sum of the positive items, fraction."""


def crossing(result: CbaResult, scheme: str, reference: str | None = None) -> Crossing:
    """The benefit multiplier and the ICT cost factor at which ``scheme``'s NPV equals the reference's."""
    ref = reference or result.reference_scheme
    a, r = result.scheme(scheme), result.scheme(ref)
    d_benefit = a.pv_benefits_eur - r.pv_benefits_eur
    d_cost = a.pv_costs_eur - r.pv_costs_eur
    multiplier = d_cost / d_benefit if d_benefit != 0 and d_cost / d_benefit > 0 else None
    factor = d_benefit / d_cost if d_cost != 0 and d_benefit / d_cost > 0 else None
    return Crossing(scheme=scheme, reference=ref, benefit_multiplier=multiplier, ict_cost_factor=factor)


def line_pv(params: CbaParameters, line: IctCostLine) -> float:
    """Present value of one ICT line over the horizon at the study's rate and multipliers, EUR."""
    horizon = params.horizon_years
    discount = finance.discount_factors(params.discount_rate, horizon)
    growth = (
        finance.escalation_factors(params.escalation_rate, horizon)
        if params.price_basis == "nominal" else np.ones(horizon + 1)
    )
    weights = discount * growth
    booked, residual = line_schedule(line, horizon)
    return float(
        params.ict_capex_factor * (np.dot(weights, booked) - weights[-1] * residual)
        + params.ict_opex_factor * line.opex_eur_per_year * weights[1:].sum()
    )


def _by_item(params: CbaParameters, cost: SchemeIctCost) -> dict[str, tuple[float, str]]:
    items: dict[str, tuple[float, str]] = {}
    for line in cost.lines:
        pv, text = items.get(line.link_id, (0.0, line.description or line.link_id))
        items[line.link_id] = (pv + line_pv(params, line), text)
    return items


def cost_items(
    params: CbaParameters, ict: Mapping[str, SchemeIctCost], scheme: str, reference: str
) -> list[CostItem]:
    """The items of ``scheme``'s extra ICT cost over ``reference``, largest first (positive ones only)."""
    if scheme not in ict:
        return []
    own = _by_item(params, ict[scheme])
    ref = _by_item(params, ict[reference]) if reference in ict else {}
    extra = {k: (pv - ref.get(k, (0.0, ""))[0], text) for k, (pv, text) in own.items()}
    positive = {k: v for k, v in extra.items() if v[0] > 0}
    total = sum(v[0] for v in positive.values())
    ordered = sorted(positive.items(), key=lambda kv: -kv[1][0])
    return [CostItem(item_id=k, description=text, pv_eur=pv, share=pv / total) for k, (pv, text) in ordered]


def platform_items(
    params: CbaParameters, ict: Mapping[str, SchemeIctCost], scheme: str
) -> tuple[list[str], float]:
    """Platform-scale components of ``scheme`` (unit investment >= :data:`PLATFORM_UNIT_EUR`) and their
    share of its own ICT present value (fraction; 0 when it has no ICT cost)."""
    if scheme not in ict:
        return [], 0.0
    lines = ict[scheme].lines
    total = sum(line_pv(params, line) for line in lines)
    platforms = [
        line for line in lines
        if line.item_kind == "component" and line.capex_eur / max(line.endpoints, 1) >= PLATFORM_UNIT_EUR
    ]
    share = sum(line_pv(params, line) for line in platforms) / total if total > 0 else 0.0
    names = list(dict.fromkeys(line.link_id for line in platforms))
    return names, share


def within_noise(result: CbaResult, scheme: str, reference: str | None = None) -> bool:
    """True when ``|NPV_scheme - NPV_reference|`` is below the Monte Carlo standard deviation of
    ``scheme``'s NPV (the difference is not told apart from the spread of the inputs and days)."""
    ref = reference or result.reference_scheme
    gap = abs(result.scheme(scheme).npv_eur - result.scheme(ref).npv_eur)
    return gap < result.monte_carlo.scheme(scheme).std_npv_eur
