"""run_cba: a hand-worked example, consistency between the parts, and bad input named by its field."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from cba_fixtures import make_ict, make_kpis, make_params
from hypothesis import given, settings
from hypothesis import strategies as st

from coordstudio.cba import finance
from coordstudio.cba.analysis import run_cba
from coordstudio.cba.benefits import annual_quantities
from coordstudio.cba.cashflows import NpvModel, ict_schedule, scheme_cash_flows
from coordstudio.cba.errors import CbaError
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.sensitivity import monte_carlo
from coordstudio.sgam.costs import IctCostLine, SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis


def _kpi(scheme: str, activation: float, day: str = "default", **extra: float) -> SchemeKpis:
    values = dict(
        afrr_energy_mwh=0.0, afrr_cost_eur=0.0, congestion_hours_h=0.0, overload_energy_mwh=0.0,
        voltage_violation_hours_h=0.0, curtailed_res_mwh=0.0, losses_mwh=0.0, slack_energy_mwh=0.0,
        slack_cost_eur=0.0,
    )
    values.update(extra)
    return SchemeKpis(scheme=scheme, day=day, activation_cost_eur=activation, **values)  # type: ignore[arg-type]


def test_hand_worked_example_two_schemes_three_years() -> None:
    """Two schemes, three years, 10 %/a, computed by hand.

    Inputs: one representative day weighted 365 days/a. Activation cost per day: CMS (reference)
    1,000 EUR, LMS 900 EUR, so LMS saves 100 EUR/d x 365 d/a = 36,500 EUR/a. CMS has no ICT cost; LMS
    has one line: CAPEX 50,000 EUR, OPEX 5,000 EUR/a, lifetime 2 years. Horizon 3 years.

    Replacement: bought at t = 0 and again at t = 2 (< 3). Residual value at t = 3: the second asset has
    1 of its 2 years left, 50 % x 50,000 = 25,000 EUR.

    ====  ========  =============================  =========
    year  benefit   cost                           net
    ====  ========  =============================  =========
    0          0    50,000                         -50,000
    1     36,500    5,000                           31,500
    2     36,500    50,000 + 5,000 = 55,000        -18,500
    3     36,500    5,000 - 25,000 = -20,000        56,500
    ====  ========  =============================  =========

    NPV = -50,000 + 31,500/1.1 - 18,500/1.21 + 56,500/1.331
        = -50,000 + 28,636.36 - 15,289.26 + 42,449.29 = 5,796.39 EUR.
    PV(B) = 36,500 x (1/1.1 + 1/1.21 + 1/1.331) = 36,500 x 2.486852 = 90,770.10 EUR.
    PV(C) = 50,000 + 4,545.45 + 45,454.55 - 15,026.30 = 84,973.70 EUR; BCR = 1.06821.
    Cumulative discounted: -50,000; -21,363.64; -36,652.89; +5,796.39, so the discounted payback is
    2 + 36,652.89 / 42,449.29 = 2.8635 years. IRR: NPV(15.578 %) = 0 (numpy-financial agrees).
    CMS, the reference, has NPV 0 and no BCR; LMS ranks first.
    """
    params = CbaParameters(
        discount_rate=0.10, horizon_years=3, day_weights_days_per_year={"default": 365.0},
        uncertain_inputs=[], tornado_ranges=[], monte_carlo_samples=100,
    )
    kpis = [_kpi("CMS", 1000.0), _kpi("LMS", 900.0)]
    line = IctCostLine(scheme="LMS", link_id="dso_market", technology_id="fibre", actor_id="dso_1",
                       actor_role="dso", endpoints=1, capex_eur=50_000.0, opex_eur_per_year=5_000.0,
                       lifetime_years=2.0)
    ict = {"CMS": SchemeIctCost(scheme="CMS"), "LMS": SchemeIctCost(scheme="LMS", lines=[line])}
    result = run_cba(params, kpis, ict)

    lms = result.scheme("LMS")
    nets = [cf.net_eur for cf in lms.cash_flows]
    assert nets == pytest.approx([-50_000.0, 31_500.0, -18_500.0, 56_500.0], abs=1e-9)
    assert lms.cash_flows[3].residual_value_eur == pytest.approx(25_000.0, abs=1e-9)
    assert lms.npv_eur == pytest.approx(5_796.39, abs=0.01)
    assert lms.pv_benefits_eur == pytest.approx(90_770.10, abs=0.01)
    assert lms.pv_costs_eur == pytest.approx(84_973.70, abs=0.01)
    assert lms.bcr == pytest.approx(1.06821, abs=1e-5)
    assert lms.discounted_payback_years == pytest.approx(2.8635, abs=1e-4)
    assert lms.irr == pytest.approx(0.15578, abs=1e-5)
    assert finance.npv(lms.irr, nets) == pytest.approx(0.0, abs=1e-6)
    cms = result.scheme("CMS")
    assert cms.npv_eur == 0.0 and cms.bcr is None and cms.irr is None
    assert result.ranking == ["LMS", "CMS"]
    assert lms.annual_benefits_eur_per_year["activation"] == pytest.approx(36_500.0, abs=1e-9)


def test_full_cost_basis_keeps_the_ranking() -> None:
    """With full ICT costs every NPV drops by the reference's ICT PV, so the order is unchanged."""
    kpis, ict = make_kpis(), make_ict()
    inc = run_cba(make_params(), kpis, ict, monte_carlo_samples=200)
    full = run_cba(make_params(ict_cost_basis="full"), kpis, ict, monte_carlo_samples=200)
    assert full.ranking == inc.ranking
    ref_pv = inc.scheme("CMS").ict_pv_cost_eur
    for s in inc.schemes:
        assert full.scheme(s.scheme).npv_eur == pytest.approx(s.npv_eur - ref_pv, rel=1e-12, abs=1e-6)


def test_parts_agree_with_each_other() -> None:
    """Vectorised NPV = cash-flow NPV; actors' NPVs add up to the scheme NPV; tornado bases agree."""
    params = make_params()
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict, monte_carlo_samples=500)
    q = annual_quantities(params, kpis)
    model = NpvModel(params, q, ict_schedule(params, ict, q.schemes))
    base = model.npv({}, 1)[0]
    for si, scheme in enumerate(q.schemes):
        s = result.scheme(scheme)
        assert base[si] == pytest.approx(s.npv_eur, rel=1e-12, abs=1e-6)
        assert s.npv_eur == pytest.approx(s.pv_benefits_eur - s.pv_costs_eur, rel=1e-12, abs=1e-6)
        actors = [a for a in result.actors if a.scheme == scheme]
        assert sum(a.npv_eur for a in actors) == pytest.approx(s.npv_eur, rel=1e-10, abs=1e-6)
        assert sum(s.pv_benefits_by_category_eur.values()) == pytest.approx(s.pv_benefits_eur, rel=1e-12)
    for entry in result.tornado:
        assert entry.npv_base_eur == pytest.approx(result.scheme(entry.scheme).npv_eur, rel=1e-12, abs=1e-6)
    # A switching value of the discount rate for a scheme's NPV sign is that scheme's IRR.
    for sv in result.switching_values:
        if sv.kind == "npv_sign" and sv.parameter == "discount_rate" and sv.switching_value is not None:
            assert sv.switching_value == pytest.approx(result.scheme(sv.scheme).irr, abs=1e-9)
    # A switching value of a multiplier does flip the sign.
    for sv in result.switching_values:
        if sv.kind == "npv_sign" and sv.switching_value is not None and sv.parameter == "benefit_factor":
            row = model.npv_at("benefit_factor", np.array([sv.switching_value]))[0]
            npv = row[q.schemes.index(sv.scheme)]
            assert abs(npv) <= 1e-6 * result.scheme(sv.scheme).pv_costs_eur


def test_switching_value_of_ranking_is_where_the_leader_ties() -> None:
    """At the ranking switching value the leader's NPV equals the best other scheme's NPV."""
    params = make_params()
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict, monte_carlo_samples=200)
    q = annual_quantities(params, kpis)
    model = NpvModel(params, q, ict_schedule(params, ict, q.schemes))
    leader = result.ranking[0]
    found = 0
    for sv in result.switching_values:
        if sv.kind != "ranking" or sv.switching_value is None:
            continue
        row = model.npv_at(sv.parameter, np.array([sv.switching_value]))[0]
        li = q.schemes.index(leader)
        other = max(row[i] for i in range(len(row)) if i != li)
        assert row[li] == pytest.approx(other, rel=1e-6, abs=1.0)
        assert sv.other_scheme is not None and sv.other_scheme != leader
        found += 1
    assert found >= 1


def test_monte_carlo_is_reproducible_and_converges_to_the_mean() -> None:
    """Same seed, same numbers. The NPV is linear in the multipliers, so with only multipliers uncertain
    the Monte Carlo mean must approach the NPV at their expected values (within 4 standard errors). The
    uniform 0.8-1.6 is centred on the study's ICT CAPEX factor 1.0 (cba.parameters.anchored_inputs), so
    its expected value is 1.0; the resampled days add spread, not bias."""
    params = make_params(uncertain_inputs=[
        {"parameter": "benefit_factor", "distribution": "triangular", "min": 0.6, "mode": 1.0, "max": 1.1},
        {"parameter": "ict_capex_factor", "distribution": "uniform", "min": 0.8, "max": 1.6},
    ], monte_carlo_samples=20_000)
    kpis, ict = make_kpis(), make_ict()
    a = run_cba(params, kpis, ict)
    b = run_cba(params, kpis, ict)
    assert a.monte_carlo == b.monte_carlo.model_copy(update={"elapsed_s": a.monte_carlo.elapsed_s})
    q = annual_quantities(params, kpis)
    model = NpvModel(params, q, ict_schedule(params, ict, q.schemes))
    at_mean = model.npv({"benefit_factor": np.array([2.7 / 3.0]), "ict_capex_factor": np.array([1.0])}, 1)[0]
    for si, s in enumerate(q.schemes):
        mc = a.monte_carlo.scheme(s)
        stderr = mc.std_npv_eur / math.sqrt(params.monte_carlo_samples)
        assert abs(mc.mean_npv_eur - at_mean[si]) <= 4 * stderr + 1e-6
        assert sum(mc.histogram_counts) == params.monte_carlo_samples
        assert 0.0 <= mc.prob_npv_negative <= 1.0
    assert sum(m.prob_rank_first for m in a.monte_carlo.schemes) == pytest.approx(1.0, abs=1e-12)


def test_monte_carlo_samples_follow_their_distributions() -> None:
    """Sample moments of each distribution within 3 % of the analytic ones (n = 100,000); the uniform
    0.8-1.6 is scaled onto the study's value 1.0 (centre 1.2 -> 1.0)."""
    from coordstudio.cba.sensitivity import sample_inputs

    params = make_params(uncertain_inputs=[
        {"parameter": "benefit_factor", "distribution": "triangular", "min": 0.5, "mode": 1.0, "max": 2.0},
        {"parameter": "ict_capex_factor", "distribution": "uniform", "min": 0.8, "max": 1.6},
        {"parameter": "ict_opex_factor", "distribution": "normal", "mean": 1.0, "std": 0.2, "min": 0.0},
    ])
    draws = sample_inputs(params, 100_000, 7)
    assert draws["benefit_factor"].mean() == pytest.approx(3.5 / 3.0, rel=0.03)
    assert draws["benefit_factor"].min() >= 0.5 and draws["benefit_factor"].max() <= 2.0
    assert draws["ict_capex_factor"].mean() == pytest.approx(1.0, rel=0.03)
    assert draws["ict_capex_factor"].min() >= 0.8 / 1.2 and draws["ict_capex_factor"].max() <= 1.6 / 1.2
    assert draws["ict_opex_factor"].std() == pytest.approx(0.2, rel=0.03)


def test_monte_carlo_10000_samples_five_schemes_under_one_second() -> None:
    """Issue 6 target: 10,000 samples x 5 schemes in < 1 s (measured ~10 ms; see benchmarks/)."""
    params = make_params()
    kpis, ict = make_kpis(), make_ict()
    q = annual_quantities(params, kpis)
    model = NpvModel(params, q, ict_schedule(params, ict, q.schemes))
    start = time.perf_counter()
    result, npv = monte_carlo(model, params, n=10_000)
    assert time.perf_counter() - start < 1.0
    assert npv.shape == (10_000, 5)


def test_nominal_basis_with_consistent_rate_equals_real() -> None:
    """Escalating every flow by e and discounting at (1+r)(1+e)-1 gives the real NPV."""
    kpis, ict = make_kpis(), make_ict()
    real = run_cba(make_params(), kpis, ict, monte_carlo_samples=100)
    nominal_rate = finance.real_to_nominal_rate(0.04, 0.02)
    nominal = run_cba(make_params(price_basis="nominal", escalation_rate=0.02, discount_rate=nominal_rate),
                      kpis, ict, monte_carlo_samples=100)
    for s in real.schemes:
        assert nominal.scheme(s.scheme).npv_eur == pytest.approx(s.npv_eur, rel=1e-10, abs=1e-4)


def test_day_weights_annualise_each_day() -> None:
    """Weekday saving x 261 + weekend saving x 104, with a 12-hour simulation scaled to 24 h."""
    params = CbaParameters(day_weights_days_per_year={"wd": 261.0, "we": 104.0}, uncertain_inputs=[],
                           tornado_ranges=[])
    kpis = [_kpi("CMS", 1000.0, "wd"), _kpi("CMS", 500.0, "we"),
            _kpi("LMS", 900.0, "wd"), SchemeKpis.model_validate({**_kpi("LMS", 200.0, "we").model_dump(),
                                                                 "duration_h": 12.0})]
    q = annual_quantities(params, kpis)
    # LMS weekend: 200 EUR in 12 h -> 400 EUR/d; savings 100 x 261 + 100 x 104 = 36,500 EUR/a
    assert q.reduction[q.schemes.index("LMS"), 0] == pytest.approx(36_500.0, abs=1e-9)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda k, i, p: (k[:-1], i, p), "cba.day_weights_days_per_year"),  # IFM lacks the weekend day
        (lambda k, i, p: (k, i, p.model_copy(update={"reference_scheme": "XYZ"})), "cba.reference_scheme"),
        (lambda k, i, p: (k + [k[0]], i, p), "kpis[10]"),
        (lambda k, i, p: (k, {s: v for s, v in i.items() if s != "LMS"}, p), "ict['LMS']"),
    ],
)
def test_inconsistent_inputs_name_the_field(mutate: object, field: str) -> None:
    kpis, ict, params = mutate(make_kpis(), make_ict(), make_params())  # type: ignore[operator]
    with pytest.raises(CbaError) as info:
        run_cba(params, kpis, ict, monte_carlo_samples=50)
    assert field in str(info.value)


def test_kpi_day_without_weight_is_named() -> None:
    kpis = make_kpis()
    params = make_params(day_weights_days_per_year={"weekday": 365.0})
    with pytest.raises(CbaError, match=r"day 'weekend'.*cba.day_weights_days_per_year"):
        run_cba(params, kpis, make_ict(), monte_carlo_samples=50)


def test_negative_lifetime_is_named() -> None:
    """sgam validates lifetimes on construction; a line that slipped past (model_construct) is caught."""
    with pytest.raises(ValueError, match="lifetime_years"):
        IctCostLine(scheme="LMS", link_id="l", technology_id="t", actor_id="a", endpoints=1,
                    capex_eur=1.0, opex_eur_per_year=0.0, lifetime_years=-5.0)
    ict = make_ict()
    bad = IctCostLine.model_construct(scheme="LMS", link_id="der_rtu", technology_id="plc", actor_id="a",
                                      actor_role="dso", layer="communication", endpoints=1, capex_eur=1.0,
                                      opex_eur_per_year=0.0, lifetime_years=-5.0)
    ict["LMS"].lines.append(bad)
    with pytest.raises(CbaError) as info:
        run_cba(make_params(), make_kpis(), ict, monte_carlo_samples=50)
    assert "ict['LMS'].lines[4]" in str(info.value) and "lifetime_years" in str(info.value)


def test_unknown_cost_role_is_named() -> None:
    ict = make_ict()
    ict["CM"].lines[0] = ict["CM"].lines[0].model_copy(update={"actor_role": "regulator"})
    with pytest.raises(CbaError, match=r"cba.cost_role_to_actor.*regulator"):
        run_cba(make_params(), make_kpis(), ict, monte_carlo_samples=50)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.0, 0.2), escalation=st.floats(-0.02, 0.08), nominal=st.booleans(),
    horizon=st.integers(1, 40), full=st.booleans(), benefit=st.floats(0.0, 2.0),
    capex=st.floats(0.0, 3.0), opex=st.floats(0.0, 3.0), price=st.floats(0.0, 500.0),
)
def test_vectorised_npv_equals_yearly_cash_flows(
    rate: float, escalation: float, nominal: bool, horizon: int, full: bool, benefit: float,
    capex: float, opex: float, price: float,
) -> None:
    """NpvModel (used by tornado, switching values and Monte Carlo) and the yearly cash flows behind
    the reported NPV agree for any parameters (1e-9 of the PV magnitude)."""
    params = make_params(
        discount_rate=rate, escalation_rate=escalation, price_basis="nominal" if nominal else "real",
        horizon_years=horizon, ict_cost_basis="full" if full else "incremental", benefit_factor=benefit,
        ict_capex_factor=capex, ict_opex_factor=opex, curtailed_res_price_eur_per_mwh=price,
    )
    kpis, ict = make_kpis(), make_ict()
    q = annual_quantities(params, kpis)
    schedule = ict_schedule(params, ict, q.schemes)
    vec = NpvModel(params, q, schedule).npv({}, 1)[0]
    for si, scheme in enumerate(q.schemes):
        flows = scheme_cash_flows(params, q, schedule, scheme)
        scale = float(np.sum(np.abs(flows.benefits) + np.abs(flows.costs))) + 1.0
        assert vec[si] == pytest.approx(finance.npv(rate, flows.net), abs=1e-9 * scale)
