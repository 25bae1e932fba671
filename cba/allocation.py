"""Micro-level analysis: who pays and who gains among TSO, DSOs, aggregators, DER owners and consumers.

Benefits: the present value of each benefit category is split with the allocation keys
(:attr:`~cba.parameters.CbaParameters.benefit_allocation`, shares summing to 1 per category).
Costs: each ICT cost line is borne by the actor group its ``actor_role`` maps to
(:attr:`~cba.parameters.CbaParameters.cost_role_to_actor`); with the incremental cost basis the
reference scheme's cost of the same actor group is subtracted. The present value of a line is

.. math:: \\kappa \\sum_t w_t I_t + \\omega A O - \\kappa w_T R

(notation of :mod:`cba.cashflows`), so the actors' NPVs add up to the scheme's NPV.

The **activation** benefit is booked from the simulated cash flows instead of the keys whenever every KPI
record carries the payments (issue 17 item 7; :func:`activation_cash_by_actor`): the system saves the
resource cost ``R`` (as-bid cost of the activations), and each actor sees its own cash, with the
operators' needs paid at nodal prices ``N``, commercial buy bids ``C`` (IFM), payments to the sellers
``P`` and the congestion rent ``rho = N + C - P``:

=============  ==================================================  ==========================================
actor group    cash per year                                       yearly benefit vs the reference ``ref``
=============  ==================================================  ==========================================
tso            pays for its needs: ``-N``                          ``N_ref - N``
aggregator     sellers' surplus ``P - R``, commercial buys ``-C``  ``(P - R) - (P - R)_ref + C_ref - C``
dso            the congestion rent ``rho`` (negative: the          ``rho - rho_ref``
               counter-trades its grid needs)
=============  ==================================================  ==========================================

They sum to ``R_ref - R``, the activation benefit, so the actors' NPVs still add up to the scheme's. The
sellers' surplus of transmission generators and commercial sells is booked with the aggregators (the
balancing service providers; the actor groups have no generator group), and how an aggregator shares
its surplus with the DER owners is a contract the simulation does not model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from coordstudio.cba.benefits import AnnualQuantities
from coordstudio.cba.cashflows import line_schedule
from coordstudio.cba.errors import CbaError
from coordstudio.cba.parameters import ACTOR_GROUPS, BENEFIT_CATEGORIES, CbaParameters
from coordstudio.sgam.costs import SchemeIctCost

__all__ = [
    "NEUTRAL_EUR",
    "ActorResult",
    "activation_cash_by_actor",
    "actor_cost_pv",
    "actor_split",
    "business_case",
]

#: Below this absolute NPV (EUR) an actor is neither winning nor losing: half of the 0.01 M EUR the
#: recommendations draft and the GUI's actor table print NPVs to, so an NPV printed as 0.00 M EUR is
#: "neutral" and one printed as -0.01 M EUR "negative" (issue 17: the draft labelled -0.00 M EUR
#: "negative" while this threshold was 1e-6 EUR). The Excel report prints the same label beside the
#: NPV in EUR: a few thousand EUR over a 20-year horizon is no business case either way.
NEUTRAL_EUR = 5e3


def business_case(npv_eur: float) -> str:
    """'neutral' when ``npv_eur`` prints as 0.00 M EUR (``|NPV| < NEUTRAL_EUR``), else its sign's name.

    Decided on the printed rounding itself (``f"{npv/1e6:.2f}"``), so the label and the figure the draft
    shows can never disagree, not even at the boundary (a float just under 5,000 EUR that divides to
    0.005 prints -0.01 and is then "negative")."""
    if float(f"{npv_eur / 1e6:.2f}") == 0.0:
        return "neutral"
    return "positive" if npv_eur > 0 else "negative"


class ActorResult(BaseModel):
    """Present value of costs and benefits of one actor group in one scheme."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    actor: str = Field(description="Actor group (tso, dso, aggregator, der_owner, consumer).")
    pv_benefits_eur: float = Field(description="Present value of the actor's share of the benefits, EUR.")
    pv_costs_eur: float = Field(description="Present value of the ICT cost the actor bears, EUR.")
    npv_eur: float = Field(description="pv_benefits_eur - pv_costs_eur, EUR.")
    business_case: str = Field(
        description="'positive', 'negative' or 'neutral' (NPV that rounds to 0.00 M EUR, |NPV| < 5,000 EUR)."
    )


def actor_cost_pv(
    params: CbaParameters, ict: SchemeIctCost, weights: np.ndarray, scheme: str
) -> dict[str, float]:
    """Present value of the full ICT cost per actor group of one scheme, EUR.

    ``weights[t]`` is the discount (times escalation) factor of year ``t``.
    """
    annuity = float(weights[1:].sum())
    out = dict.fromkeys(ACTOR_GROUPS, 0.0)
    for i, line in enumerate(ict.lines):
        actor = params.cost_role_to_actor.get(line.actor_role)
        if actor is None:
            raise CbaError(
                f"cba.cost_role_to_actor: actor_role '{line.actor_role}' of ict['{scheme}'].lines[{i}] "
                f"(actor '{line.actor_id}') maps to no actor group; add it to cba.cost_role_to_actor"
            )
        booked, residual = line_schedule(line, params.horizon_years)
        pv = (
            params.ict_capex_factor * float(np.dot(weights, booked))
            + params.ict_opex_factor * annuity * line.opex_eur_per_year
            - params.ict_capex_factor * float(weights[-1]) * residual
        )
        out[actor] += pv
    return out


_PAYMENT_FIELDS = ("activation_cost_eur", "resource_cost_eur", "buyer_payments_eur", "need_payments_eur")


def activation_cash_by_actor(
    params: CbaParameters, q: AnnualQuantities
) -> dict[str, dict[str, float]] | None:
    """Yearly activation benefit of each scheme per actor group from the simulated cash flows (module
    docstring), EUR/a; None when a KPI record lacks the payments (written before they were recorded),
    and the allocation keys apply."""
    records = q.by_scheme_day.values()
    if not records or any(not set(_PAYMENT_FIELDS) <= k.model_fields_set for k in records):
        return None
    weights = params.day_weights_days_per_year
    yearly: dict[str, dict[str, float]] = {}
    for scheme in q.schemes:
        sums = dict.fromkeys(("N", "C", "P", "R"), 0.0)
        for day in q.days:
            k = q.by_scheme_day[(scheme, day)]
            f = weights[day] * 24.0 / k.duration_h
            sums["N"] += f * k.need_payments_eur
            sums["C"] += f * (k.buyer_payments_eur - k.need_payments_eur)
            sums["P"] += f * k.activation_cost_eur
            sums["R"] += f * k.resource_cost_eur
        yearly[scheme] = sums
    ref = yearly[q.reference]
    out: dict[str, dict[str, float]] = {}
    for scheme, y in yearly.items():
        rent, rent_ref = y["N"] + y["C"] - y["P"], ref["N"] + ref["C"] - ref["P"]
        out[scheme] = dict.fromkeys(ACTOR_GROUPS, 0.0) | {
            "tso": ref["N"] - y["N"],
            "aggregator": (y["P"] - y["R"]) - (ref["P"] - ref["R"]) + ref["C"] - y["C"],
            "dso": rent - rent_ref,
        }
    return out


def actor_split(
    params: CbaParameters,
    schemes: Sequence[str],
    pv_benefits_by_category: Mapping[str, Mapping[str, float]],
    ict: Mapping[str, SchemeIctCost],
    weights: np.ndarray,
    activation_cash: Mapping[str, Mapping[str, float]] | None = None,
) -> list[ActorResult]:
    """Per scheme and actor group: PV of benefits, PV of costs, NPV and whether it is a business case.

    ``pv_benefits_by_category[scheme][category]`` are the present values of the scheme's benefits.
    ``activation_cash`` (:func:`activation_cash_by_actor`, yearly EUR/a per scheme and actor): books the
    activation benefit by the simulated cash flows instead of the allocation keys.
    """
    annuity = float(weights[1:].sum())
    costs = {s: actor_cost_pv(params, ict[s], weights, s) for s in schemes}
    ref = params.reference_scheme
    out: list[ActorResult] = []
    for scheme in schemes:
        for actor in ACTOR_GROUPS:
            by_cash = activation_cash is not None and scheme in activation_cash
            pv_b = sum(
                pv_benefits_by_category[scheme][c] * params.benefit_allocation[c].get(actor, 0.0)
                for c in BENEFIT_CATEGORIES
                if not (by_cash and c == "activation")
            )
            if activation_cash is not None and by_cash:
                pv_b += params.benefit_factor * annuity * activation_cash[scheme][actor]
            pv_c = costs[scheme][actor]
            if params.ict_cost_basis == "incremental":
                pv_c -= costs[ref][actor]
            npv = pv_b - pv_c
            case = business_case(npv)
            out.append(
                ActorResult(
                    scheme=scheme, actor=actor, pv_benefits_eur=pv_b, pv_costs_eur=pv_c, npv_eur=npv,
                    business_case=case,
                )
            )
    return out
