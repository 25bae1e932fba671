"""``run_cba``: from simulation KPIs and ICT costs to NPV, BCR, IRR, payback, sensitivity and actors.

The steps, each a pure function of its own module:

1. :func:`cba.benefits.annual_quantities` annualises the KPIs with the day weights and subtracts them
   from the reference scheme's;
2. :func:`cba.cashflows.ict_schedule` books ICT investment (with replacements), operating cost and
   residual value per year;
3. :func:`cba.cashflows.scheme_cash_flows` and :mod:`cba.finance` give each scheme's yearly cash flows,
   NPV, BCR, IRR and discounted payback; schemes are ranked by NPV (highest first);
4. :mod:`cba.sensitivity` runs the tornado, the switching values and the Monte Carlo;
5. :mod:`cba.allocation` splits the present values among the actor groups.

The result, :class:`CbaResult`, is plain pydantic data (no numpy inside), which the Excel report, the
charts, the recommendations and the GUI read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from coordstudio.cba import finance
from coordstudio.cba.allocation import ActorResult, activation_cash_by_actor, actor_cost_pv, actor_split
from coordstudio.cba.assessment import SchemeAssessment, assess, not_assessed_warnings
from coordstudio.cba.benefits import AnnualQuantities, annual_quantities
from coordstudio.cba.cashflows import IctSchedule, NpvModel, ict_schedule, scheme_cash_flows
from coordstudio.cba.errors import CbaError
from coordstudio.cba.parameters import ACTOR_GROUPS, BENEFIT_CATEGORIES, CbaParameters
from coordstudio.cba.provenance import Provenance
from coordstudio.cba.seed_spread import SeedSpread, seed_spread
from coordstudio.cba.sensitivity import (
    MonteCarloResult,
    SwitchingValue,
    TornadoEntry,
    monte_carlo,
    switching_values,
    tornado,
)
from coordstudio.cba.stress_coverage import StressCoverage
from coordstudio.cba.system_scale import (
    SystemScale,
    break_even_scale,
    is_identity,
    scale_ict,
    scale_quantities,
)
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "CbaResult",
    "LiquidityRow",
    "SchemeResult",
    "YearCashFlow",
    "run_cba",
]


class YearCashFlow(BaseModel):
    """Cash flows of one scheme in one year, EUR (costs positive)."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(description="Year t of the appraisal (0 = investment year).")
    benefits_eur: float = Field(description="Monetised benefits of the year, EUR.")
    capex_eur: float = Field(description="ICT investment booked in the year (with replacements), EUR.")
    opex_eur: float = Field(description="ICT operating cost of the year, EUR.")
    residual_value_eur: float = Field(description="Residual value of ICT assets at the horizon, EUR.")
    net_eur: float = Field(description="Benefits - (CAPEX + OPEX - residual value), EUR.")
    discount_factor: float = Field(description="(1 + r)^-t, -.")
    discounted_net_eur: float = Field(description="Net cash flow times the discount factor, EUR.")
    cumulative_discounted_eur: float = Field(description="Cumulative discounted net cash flow, EUR.")


class SchemeResult(BaseModel):
    """Key figures of one scheme relative to the reference scheme."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    rank: int = Field(
        description="Rank by NPV among the assessed schemes, 1 = highest; 0 = not assessed (not ranked)."
    )
    npv_eur: float = Field(description="Net present value, EUR.")
    pv_benefits_eur: float = Field(description="Present value of the benefits, EUR.")
    pv_costs_eur: float = Field(description="Present value of the ICT costs net of residual value, EUR.")
    bcr: float | None = Field(description="Benefit-cost ratio PV(B)/PV(C), -; None when PV(C) <= 0.")
    irr: float | None = Field(description="Internal rate of return, fraction/a; None when there is none.")
    discounted_payback_years: float | None = Field(
        description="Years until the cumulative discounted cash flow reaches 0; None if never."
    )
    annual_benefits_eur_per_year: dict[str, float] = Field(
        description="Yearly benefit per category at base-year prices (before benefit_factor), EUR/a."
    )
    pv_benefits_by_category_eur: dict[str, float] = Field(
        description="Present value of the benefits per category, EUR."
    )
    cash_flows: list[YearCashFlow] = Field(description="Yearly cash flows, years 0..horizon.")
    ict_capex_eur: float = Field(description="The scheme's own ICT investment at year 0, EUR.")
    ict_opex_eur_per_year: float = Field(description="The scheme's own ICT operating cost, EUR/a.")
    ict_pv_cost_eur: float = Field(
        description="Present value of the scheme's own ICT cost over the horizon (with replacements, net "
        "of residual value), EUR."
    )
    ict_annualised_cost_eur_per_year: float = Field(
        description="ict_pv_cost_eur spread evenly over the horizon with the annuity factor, EUR/a."
    )
    ancillary_cost_eur_per_year: float = Field(
        description="Yearly activation plus aFRR cost of the scheme (simulated), EUR/a."
    )
    ict_cost_share: float | None = Field(
        description="Annualised ICT cost / (annualised ICT cost + yearly activation and aFRR cost), "
        "fraction; None when both are 0."
    )
    ict_pv_cost_by_actor_eur: dict[str, float] = Field(
        description="Present value of the scheme's own ICT cost per actor group, EUR."
    )
    unserved_events: list[str] = Field(
        default_factory=list, description="Interaction events no technology could serve (from sgam)."
    )
    assessed: bool = Field(
        default=True,
        description="False when the scheme's benefits were not measured (failed market clearings, a failed "
        "run, or a reference scheme that is not assessed): its figures are shown but it is not ranked.",
    )
    not_assessed_reason: str = Field(
        default="", description="Why the scheme is not assessed; empty if it is."
    )


class LiquidityRow(BaseModel):
    """Local-market liquidity of one DSO area in one scheme (weighted over the representative days)."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    area: str = Field(description="DSO area id.")
    bids_submitted_per_day: float = Field(description="Bids submitted per day, day-weighted mean, count/d.")
    bids_activated_per_day: float = Field(description="Bids activated per day, day-weighted mean, count/d.")
    activation_ratio: float | None = Field(description="Activated / submitted, fraction; None if no bids.")


class CbaResult(BaseModel):
    """Everything the cost-benefit analysis found, as plain data."""

    model_config = ConfigDict(extra="forbid")

    reference_scheme: str = Field(description="Scheme the others are compared with.")
    discount_rate: float = Field(description="Discount rate used, fraction/a.")
    horizon_years: int = Field(description="Appraisal horizon, years.")
    price_basis: str = Field(description="real or nominal.")
    ict_cost_basis: str = Field(description="incremental or full.")
    days: list[str] = Field(description="Representative day ids, in the order of the weights.")
    schemes: list[SchemeResult] = Field(description="Key figures per scheme, canonical scheme order.")
    ranking: list[str] = Field(
        description="Ids of the assessed schemes by NPV, highest first (empty when the reference scheme is "
        "not assessed)."
    )
    tornado: list[TornadoEntry] = Field(description="Tornado entries per input range and scheme.")
    switching_values: list[SwitchingValue] = Field(description="Switching values per input.")
    monte_carlo: MonteCarloResult = Field(description="Monte Carlo NPV distribution per scheme.")
    actors: list[ActorResult] = Field(description="Per scheme and actor group: PV costs, benefits, NPV.")
    liquidity: list[LiquidityRow] = Field(description="Local-market liquidity per scheme and DSO area.")
    warnings: list[str] = Field(default_factory=list, description="Conditions the reader should know.")
    system: SystemScale = Field(
        default_factory=SystemScale, description="The system the figures stand for (cba.system_scale)."
    )
    break_even_scale: dict[str, float | None] = Field(
        default_factory=dict,
        description="Per alternative scheme: the system size, in multiples of the simulated grid, from "
        "which its NPV is positive when organisations carry whole platforms; None: at no size.",
    )
    assessments: list[SchemeAssessment] = Field(
        default_factory=list,
        description="Per scheme: whether its benefits were measured, and the clearing figures behind it "
        "(cba.assessment).",
    )
    seed_spread: SeedSpread | None = Field(
        default=None,
        description="Per scheme, the annual benefit and NPV with each seed replicate of the simulated days "
        "(cba.seed_spread); None when each day was simulated with one seed.",
    )
    provenance: Provenance | None = Field(
        default=None,
        description="Tool, study fingerprint, solver and library versions, date and command of the run "
        "(cba.provenance); set in the written cba_result.json, None in a result computed in memory.",
    )
    stress_coverage: StressCoverage | None = Field(
        default=None,
        description="Whether the simulated days include days of the year's most loaded evenings, where "
        "rare events such as protection trips happen (cba.stress_coverage); set by run and cba for a "
        "study of representative days, None otherwise.",
    )

    def scheme(self, scheme_id: str) -> SchemeResult:
        """The figures of ``scheme_id``."""
        for item in self.schemes:
            if item.scheme == scheme_id:
                return item
        raise KeyError(scheme_id)

    def outcome(self) -> tuple[str, str | None]:
        """What the ranking supports, as ``(case, scheme the finding is about)``; one rule for the draft
        and the GUI banner.

        * ``"none_ranked"``: no scheme is assessed (e.g. the reference failed); no subject.
        * ``"reference_wins"``: the reference ranks first although alternatives exist (its NPV is 0 by
          construction, so every alternative's NPV is <= 0); the subject is the best alternative.
        * ``"no_positive_npv"``: no scheme has a positive NPV; the subject is the least negative.
        * ``"leader_wins"``: the leader has a positive NPV against the reference; the subject is it.
        """
        if not self.ranking:
            return "none_ranked", None
        leader = self.ranking[0]
        alternatives = [s for s in self.ranking if s != self.reference_scheme]
        if leader == self.reference_scheme and alternatives:
            return "reference_wins", alternatives[0]
        if self.scheme(leader).npv_eur <= 0:
            return "no_positive_npv", leader
        return "leader_wins", leader


def _liquidity(params: CbaParameters, q: AnnualQuantities) -> list[LiquidityRow]:
    rows: list[LiquidityRow] = []
    weights = params.day_weights_days_per_year
    total = sum(weights.values())
    for scheme in q.schemes:
        areas: list[str] = []
        for day in q.days:
            k = q.by_scheme_day[(scheme, day)]
            areas.extend(a for a in list(k.bids_submitted_by_area) + list(k.bids_activated_by_area)
                         if a not in areas)
        for area in areas:
            sub = sum(weights[d] * q.by_scheme_day[(scheme, d)].bids_submitted_by_area.get(area, 0)
                      for d in q.days) / total
            act = sum(weights[d] * q.by_scheme_day[(scheme, d)].bids_activated_by_area.get(area, 0)
                      for d in q.days) / total
            rows.append(
                LiquidityRow(
                    scheme=scheme, area=area, bids_submitted_per_day=sub, bids_activated_per_day=act,
                    activation_ratio=(act / sub) if sub > 0 else None,
                )
            )
    return rows


def _scheme_result(
    params: CbaParameters,
    q: AnnualQuantities,
    schedule: IctSchedule,
    ict: Mapping[str, SchemeIctCost],
    scheme: str,
    weights: np.ndarray,
) -> SchemeResult:
    si = q.schemes.index(scheme)
    flows = scheme_cash_flows(params, q, schedule, scheme)
    rate = params.discount_rate
    net = flows.net
    discounted = net * flows.discount_factor
    cumulative = np.cumsum(discounted)
    pv_b = finance.npv(rate, flows.benefits)
    pv_c = finance.npv(rate, flows.costs)
    annual = q.benefits_eur_per_year(params)[si]
    annuity = float(weights[1:].sum())
    pv_by_cat = {
        c: float(params.benefit_factor * annual[ci] * annuity) for ci, c in enumerate(BENEFIT_CATEGORIES)
    }
    # The scheme's own (full) ICT cost.
    full_pv = (
        params.ict_capex_factor * float(np.dot(weights, schedule.full_capex[si]))
        + params.ict_opex_factor * annuity * float(schedule.full_opex[si])
        - params.ict_capex_factor * float(weights[-1]) * float(schedule.full_residual[si])
    )
    annualised = full_pv * finance.annuity_factor(rate, params.horizon_years)
    ancillary = float(q.yearly[si, BENEFIT_CATEGORIES.index("activation")]
                      + q.yearly[si, BENEFIT_CATEGORIES.index("afrr")])
    denominator = annualised + ancillary
    cash = [
        YearCashFlow(
            year=t,
            benefits_eur=float(flows.benefits[t]),
            capex_eur=float(flows.capex[t]),
            opex_eur=float(flows.opex[t]),
            residual_value_eur=float(flows.residual[t]),
            net_eur=float(net[t]),
            discount_factor=float(flows.discount_factor[t]),
            discounted_net_eur=float(discounted[t]),
            cumulative_discounted_eur=float(cumulative[t]),
        )
        for t in range(params.horizon_years + 1)
    ]
    by_actor = actor_cost_pv(params, ict[scheme], weights, scheme)
    return SchemeResult(
        scheme=scheme,
        rank=0,
        npv_eur=finance.npv(rate, net),
        pv_benefits_eur=pv_b,
        pv_costs_eur=pv_c,
        bcr=finance.bcr(rate, flows.benefits, flows.costs),
        irr=finance.irr(net),
        discounted_payback_years=finance.discounted_payback(rate, net),
        annual_benefits_eur_per_year={c: float(annual[ci]) for ci, c in enumerate(BENEFIT_CATEGORIES)},
        pv_benefits_by_category_eur=pv_by_cat,
        cash_flows=cash,
        ict_capex_eur=float(ict[scheme].capex_eur),
        ict_opex_eur_per_year=float(ict[scheme].opex_eur_per_year),
        ict_pv_cost_eur=full_pv,
        ict_annualised_cost_eur_per_year=annualised,
        ancillary_cost_eur_per_year=ancillary,
        ict_cost_share=(annualised / denominator) if denominator > 0 else None,
        ict_pv_cost_by_actor_eur={a: float(by_actor[a]) for a in ACTOR_GROUPS},
        unserved_events=list(ict[scheme].unserved_events),
    )


def _scaled_cash(params: CbaParameters, q_grid: AnnualQuantities) -> dict[str, dict[str, float]] | None:
    """The activation cash per actor (:func:`cba.allocation.activation_cash_by_actor`) of the stated
    system: the simulated grid's, times ``cba.system.scale_factor`` like every benefit."""
    cash = activation_cash_by_actor(params, q_grid)
    if cash is None:
        return None
    factor = params.system.scale_factor
    return {scheme: {actor: v * factor for actor, v in by.items()} for scheme, by in cash.items()}


def run_cba(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    *,
    monte_carlo_samples: int | None = None,
) -> CbaResult:
    """Run the cost-benefit analysis of every scheme with KPIs against the reference scheme.

    Parameters
    ----------
    params
        CBA inputs (discount rate, horizon, day weights, prices, uncertain inputs, ...).
    kpis
        One :class:`~simulation.kpis.SchemeKpis` per scheme and representative day; every weighted day
        must be present for every scheme, the reference scheme included.
    ict
        ICT cost per scheme (from :func:`sgam.matching.ict_costs`); every scheme with KPIs needs one.
    monte_carlo_samples
        Overrides ``params.monte_carlo_samples`` (e.g. fewer in an interactive preview).

    Raises
    ------
    CbaError
        On inconsistent inputs; the message names the field (``cba.day_weights_days_per_year``,
        ``cba.reference_scheme``, ``ict['LMS'].lines[3] ... lifetime_years``, ...).
    """
    q = annual_quantities(params, kpis)
    q_grid, ict_grid = q, ict  # the simulated grid's, for the break-even scale
    if not is_identity(params.system):  # costs and benefits of the one stated system (cba.system_scale)
        q, ict = scale_quantities(q, params.system.scale_factor), scale_ict(ict, params.system)
    schedule = ict_schedule(params, ict, q.schemes)
    try:
        discount = finance.discount_factors(params.discount_rate, params.horizon_years)
        growth = (
            finance.escalation_factors(params.escalation_rate, params.horizon_years)
            if params.price_basis == "nominal" else np.ones(params.horizon_years + 1)
        )
    except CbaError as exc:
        raise CbaError(f"cba: {exc}") from exc
    weights = discount * growth
    results = [_scheme_result(params, q, schedule, ict, s, weights) for s in q.schemes]
    assessments = assess(kpis, params.reference_scheme)
    verdicts = {a.scheme: a for a in assessments}
    for r in results:
        a = verdicts.get(r.scheme)
        if a is not None and not a.assessed:
            r.assessed, r.not_assessed_reason = False, a.reason
    # only schemes whose benefits were measured are ranked (cba.assessment)
    assessed = [i for i in range(len(results)) if results[i].assessed]
    order = sorted(assessed, key=lambda i: (-results[i].npv_eur, i))
    ranking = [results[i].scheme for i in order]
    for rank, i in enumerate(order, start=1):
        results[i].rank = rank

    model = NpvModel(params, q, schedule)
    mc, _ = monte_carlo(model, params, n=monte_carlo_samples, quantities=q)
    seeds = seed_spread(params, q, model)
    pv_by_cat = {r.scheme: r.pv_benefits_by_category_eur for r in results}
    warnings: list[str] = not_assessed_warnings(assessments, params.reference_scheme)
    for r in results:
        if r.unserved_events:
            warnings.append(
                f"scheme {r.scheme}: {len(r.unserved_events)} interaction event(s) have no communication "
                f"technology meeting their requirements ({', '.join(r.unserved_events[:5])}); its ICT cost "
                "is understated"
            )
    partial = [f"{k.scheme}/{k.day} ({k.duration_h:g} h)" for k in kpis if abs(k.duration_h - 24.0) > 1e-9]
    if partial:
        warnings.append(
            "KPIs simulated over other than 24 h were scaled to a full day: " + ", ".join(partial)
        )
    return CbaResult(
        reference_scheme=params.reference_scheme,
        discount_rate=params.discount_rate,
        horizon_years=params.horizon_years,
        price_basis=params.price_basis,
        ict_cost_basis=params.ict_cost_basis,
        days=list(q.days),
        schemes=results,
        ranking=ranking,
        tornado=tornado(model, params),
        switching_values=switching_values(model, params, ranking),
        monte_carlo=mc,
        system=params.system,
        break_even_scale={
            s: break_even_scale(params, q_grid, ict_grid, s)
            for s in q.schemes if s != params.reference_scheme
        },
        actors=actor_split(params, q.schemes, pv_by_cat, ict, weights, _scaled_cash(params, q_grid)),
        liquidity=_liquidity(params, q),
        warnings=warnings,
        assessments=assessments,
        seed_spread=seeds,
    )
