"""Costs and benefits of one system (issue 17 item 2): the scaling rule and the break-even scale.

Reference: hand calculation on a two-scheme case with operating costs only, so every present value is
``A x (yearly amount)`` with the same annuity factor ``A`` and the break-even scale needs no finance:

* CMS (reference): activation cost 1,000 EUR/day; no ICT.
* LMS: activation cost 900 EUR/day, so B = 100 x 365 = 36,500 EUR/a per simulated grid; a DSO platform
  (multiplicity ``dso``) at 100,000 EUR/a and DER gateways (``der``) at 10,000 EUR/a.
* Whole platforms: NPV(s) = A (s (36,500 - 10,000) - 100,000), zero at s* = 100,000 / 26,500 = 3.77358...
"""

from __future__ import annotations

import pytest

from coordstudio.cba.analysis import run_cba
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.system_scale import PLATFORM_MULTIPLICITIES, SystemScale
from coordstudio.sgam.costs import IctCostLine, SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

_ZERO = {
    "afrr_energy_mwh": 0.0, "afrr_cost_eur": 0.0, "congestion_hours_h": 0.0, "overload_energy_mwh": 0.0,
    "voltage_violation_hours_h": 0.0, "curtailed_res_mwh": 0.0, "losses_mwh": 0.0, "slack_energy_mwh": 0.0,
    "slack_cost_eur": 0.0,
}


def _kpis() -> list[SchemeKpis]:
    return [
        SchemeKpis(scheme="CMS", day="d", activation_cost_eur=1000.0, **_ZERO),
        SchemeKpis(scheme="LMS", day="d", activation_cost_eur=900.0, **_ZERO),
    ]


def _line(link: str, multiplicity: str, opex: float) -> IctCostLine:
    return IctCostLine(
        scheme="LMS", link_id=link, technology_id=link, actor_id="a", actor_role="dso", endpoints=1,
        capex_eur=0.0, opex_eur_per_year=opex, lifetime_years=20.0, multiplicity=multiplicity,
    )


def _ict() -> dict[str, SchemeIctCost]:
    return {
        "CMS": SchemeIctCost(scheme="CMS", lines=[]),
        "LMS": SchemeIctCost(
            scheme="LMS", lines=[_line("dso_platform", "dso", 100_000.0), _line("der_gw", "der", 10_000.0)]
        ),
    }


def _params(**system: float) -> CbaParameters:
    return CbaParameters.model_validate({
        "day_weights_days_per_year": {"d": 365.0},
        "reference_scheme": "CMS",
        "monte_carlo_samples": 50,
        "system": system,
    })


def test_doubling_the_system_doubles_benefits_and_ict_costs() -> None:
    """Scale 2 against scale 1 (platform share 0.3 both): the yearly benefits, the ICT present value and
    the NPV of LMS all double (1e-9 relative); the platform line is charged at s x share."""
    one = run_cba(_params(scale_factor=1.0, platform_share=0.3), _kpis(), _ict())
    two = run_cba(_params(scale_factor=2.0, platform_share=0.3), _kpis(), _ict())
    a, b = one.scheme("LMS"), two.scheme("LMS")
    assert b.annual_benefits_eur_per_year["activation"] == pytest.approx(
        2 * a.annual_benefits_eur_per_year["activation"], rel=1e-9)
    assert a.annual_benefits_eur_per_year["activation"] == pytest.approx(36_500.0, rel=1e-9)
    assert b.ict_pv_cost_eur == pytest.approx(2 * a.ict_pv_cost_eur, rel=1e-9)
    assert b.npv_eur == pytest.approx(2 * a.npv_eur, rel=1e-9)
    assert a.ict_opex_eur_per_year == pytest.approx(100_000.0 * 0.3 + 10_000.0, rel=1e-12)


def test_break_even_scale_by_hand() -> None:
    """s* = 100,000 / (36,500 - 10,000) (module docstring), whatever the stated system (1e-9)."""
    for system in ({}, {"scale_factor": 7.0, "platform_share": 0.1}):
        result = run_cba(_params(**system), _kpis(), _ict())
        assert result.break_even_scale["LMS"] == pytest.approx(100_000.0 / 26_500.0, rel=1e-9)
    # at the break-even size, with whole platforms, the NPV is zero
    s_star = 100_000.0 / 26_500.0
    at = run_cba(_params(scale_factor=s_star, platform_share=1.0 / s_star), _kpis(), _ict())
    assert at.scheme("LMS").npv_eur == pytest.approx(0.0, abs=1e-6)


def test_no_break_even_when_device_costs_exceed_the_benefits() -> None:
    """DER gateways at 40,000 EUR/a against 36,500 EUR/a of benefits: no size pays (None)."""
    ict = _ict()
    ict["LMS"] = SchemeIctCost(scheme="LMS", lines=[_line("der_gw", "der", 40_000.0)])
    assert run_cba(_params(), _kpis(), ict).break_even_scale["LMS"] is None


def test_the_shipped_library_marks_organisation_platforms() -> None:
    """On the default study the DSO/TSO/market-operator items carry an organisation multiplicity (so they
    are apportioned) and the DER items a device one: the multiplicity reaches every ICT cost line."""
    from coordstudio.cba.study_file import default_study
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import default_scenario_spec, endpoint_counts

    study = default_study()
    ict = ict_costs(study.sgam, endpoint_counts(default_scenario_spec()))
    lines = [line for cost in ict.values() for line in cost.lines]
    assert lines and all(line.multiplicity for line in lines)
    kinds = {line.multiplicity in PLATFORM_MULTIPLICITIES for line in lines}
    assert kinds == {True, False}


def test_a_bad_system_is_refused_naming_the_field() -> None:
    """A zero or negative scale is a validation error naming the field."""
    with pytest.raises(ValueError, match="scale_factor"):
        SystemScale(scale_factor=0.0)
    with pytest.raises(ValueError, match="platform_share"):
        SystemScale(platform_share=1.5)
