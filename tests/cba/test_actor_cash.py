"""Per-actor analysis from the simulated cash flows (issue 17 item 7) and the resource-cost benefit
(issue 16 item 4), against a hand-worked two-scheme example.

Independent reference: the cash each actor sees, computed by hand from the definitions (docstring of
the test), and the identity that actors' flows sum to the system's.
"""

from __future__ import annotations

import pytest

from coordstudio.cba.analysis import run_cba
from coordstudio.cba.parameters import CbaParameters
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

_ZERO = dict(
    afrr_energy_mwh=0.0, afrr_cost_eur=0.0, congestion_hours_h=0.0, overload_energy_mwh=0.0,
    voltage_violation_hours_h=0.0, curtailed_res_mwh=0.0, losses_mwh=0.0, slack_cost_eur=0.0,
)


def _kpi(
    scheme: str, paid: float, resource: float, need: float, buy: float, slack: float = 0.0
) -> SchemeKpis:
    return SchemeKpis(
        scheme=scheme, activation_cost_eur=paid, resource_cost_eur=resource, buyer_payments_eur=need + buy,
        need_payments_eur=need, congestion_rent_eur=need + buy - paid, slack_energy_mwh=slack,
        **_ZERO,  # type: ignore[arg-type]
    )


def _params() -> CbaParameters:
    return CbaParameters(
        discount_rate=0.0, horizon_years=1, day_weights_days_per_year={"default": 365.0},
        uncertain_inputs=[], tornado_ranges=[], monte_carlo_samples=10,
    )


def test_activation_benefit_is_the_resource_cost_and_actors_see_their_cash() -> None:
    """Per day: CMS (reference) pays sellers P = 1,000 for a resource cost R = 900, the TSO's needs pay
    N = 1,000 (rent 0). CM pays P = 1,300 for R = 950, needs N = 1,100, rent = 1,100 - 1,300 = -200.

    System: activation benefit = R_ref - R = -50 EUR/d (payments would have said -300).
    TSO: N_ref - N = -100; aggregators: (1,300 - 950) - (1,000 - 900) = +250; DSO: rent - rent_ref = -200.
    Sum: -100 + 250 - 200 = -50 = the system's. One year at 0 %: x 365. Slack 1 MWh/d at 20 EUR/MWh
    (CM) adds -7,300 EUR/a, split by its key (TSO 50 %, consumers 50 %).
    """
    kpis = [_kpi("CMS", 1000.0, 900.0, 1000.0, 0.0), _kpi("CM", 1300.0, 950.0, 1100.0, 0.0, slack=1.0)]
    ict = {s: SchemeIctCost(scheme=s) for s in ("CMS", "CM")}
    result = run_cba(_params(), kpis, ict)
    cm = result.scheme("CM")
    assert cm.annual_benefits_eur_per_year["activation"] == pytest.approx(-50.0 * 365)
    assert cm.annual_benefits_eur_per_year["unserved_need"] == pytest.approx(-20.0 * 365)
    actors = {a.actor: a for a in result.actors if a.scheme == "CM"}
    assert actors["tso"].pv_benefits_eur == pytest.approx((-100.0 - 10.0) * 365)
    assert actors["aggregator"].pv_benefits_eur == pytest.approx(250.0 * 365)
    assert actors["dso"].pv_benefits_eur == pytest.approx(-200.0 * 365)
    assert actors["consumer"].pv_benefits_eur == pytest.approx(-10.0 * 365)
    assert sum(a.npv_eur for a in actors.values()) == pytest.approx(cm.npv_eur)


def test_records_without_payments_keep_the_allocation_keys() -> None:
    """KPI records written before the payments existed split the activation benefit by the keys (and
    their payments stand in for the resource cost)."""
    old = [
        SchemeKpis(scheme=s, activation_cost_eur=a, slack_energy_mwh=0.0, **_ZERO)  # type: ignore[arg-type]
        for s, a in (("CMS", 1000.0), ("CM", 900.0))
    ]
    result = run_cba(_params(), old, {s: SchemeIctCost(scheme=s) for s in ("CMS", "CM")})
    actors = {a.actor: a for a in result.actors if a.scheme == "CM"}
    assert actors["consumer"].pv_benefits_eur == pytest.approx(0.5 * 100.0 * 365)
    assert actors["tso"].pv_benefits_eur == pytest.approx(0.3 * 100.0 * 365)
