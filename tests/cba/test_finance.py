"""Finance functions against numpy-financial (property-based) and against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coordstudio.cba import finance
from coordstudio.cba.errors import CbaError

# Money and rates as a study has them: sub-micro amounts and subnormal rates are rounded to zero
# (numpy-financial itself overflows on those).
rates = st.floats(min_value=-0.5, max_value=1.0).map(lambda r: 0.0 if abs(r) < 1e-9 else r)
money = st.floats(min_value=-1e7, max_value=1e7).map(lambda x: 0.0 if abs(x) < 1e-6 else x)
returns_money = st.floats(min_value=0.0, max_value=1e7).map(lambda x: 0.0 if x < 1e-6 else x)
flows = st.lists(money, min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(rate=rates, cash=flows)
def test_npv_equals_numpy_financial(rate: float, cash: list[float]) -> None:
    """npf.npv discounts year 0 by (1+r)^0 as we do; agreement within 1e-9 of the flows' magnitude."""
    expected = float(npf.npv(rate, cash))
    scale = sum(abs(c) * (1 + rate) ** -t for t, c in enumerate(cash)) + 1.0
    assert finance.npv(rate, cash) == pytest.approx(expected, rel=1e-9, abs=1e-9 * scale)


@settings(max_examples=300, deadline=None)
@given(
    invest=st.floats(min_value=1.0, max_value=1e7),
    returns=st.lists(returns_money, min_size=1, max_size=30),
)
def test_irr_equals_numpy_financial_on_conventional_flows(invest: float, returns: list[float]) -> None:
    """One sign change (an investment, then returns): a unique IRR that both must find."""
    assume(sum(returns) > 1e-6 * invest)
    cash = [-invest, *returns]
    expected = float(npf.irr(cash))
    # rates of several hundred % a year are no investment appraisal, and there npf.irr (eigenvalues of
    # the companion matrix) loses digits: hypothesis found 594,146.93 for the root 594,147 of
    # -1 + 594148 / (1+r) + 9940637 / (1+r)^4 + ..., and 9.9987795 for the root 9.9987743 (checked in
    # exact rational arithmetic) of -584 + 8546459 / (1+r)^4 + 99269 / (1+r)^7 + ...
    # and 3.1291579 for the root 3.12915868018459 (exact decimal bisection) of
    # -61079 + 4300081 / (1+r)^3 + 1e-5 / (1+r)^4: the oracle is trusted below 300 %/a
    assume(math.isfinite(expected) and -0.99 < expected < 3.0)
    got = finance.irr(cash)
    assert got is not None
    assert got == pytest.approx(expected, rel=1e-7, abs=1e-9)
    # and it is a root: NPV(IRR) = 0 relative to the flows
    assert abs(finance.npv(got, cash)) <= 1e-7 * sum(abs(c) for c in cash)


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(min_value=-0.5, max_value=1.0).map(lambda r: 0.0 if abs(r) < 1e-4 else r),
       years=st.integers(1, 60), pv=money)
def test_annuity_equals_minus_pmt(rate: float, years: int, pv: float) -> None:
    """The annuity repaying ``pv`` at year end equals -npf.pmt(rate, n, pv).

    Rates below 1e-4 in magnitude are drawn as 0: npf.pmt computes (1+r)^n - 1 directly and loses about
    eps/r of relative accuracy there (at r = 1e-9 it is off by 1e-7), while ours uses expm1/log1p.
    """
    expected = -float(npf.pmt(rate, years, pv))
    assert finance.annuity(rate, years, pv) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_irr_of_textbook_flows() -> None:
    """numpy-financial's documented examples (Gitman 2003): 28.095 %, -9.55 %, 6.206 %."""
    assert finance.irr([-100, 39, 59, 55, 20]) == pytest.approx(0.28095, abs=5e-6)
    assert finance.irr([-100, 0, 0, 74]) == pytest.approx(-0.0955, abs=5e-5)
    assert finance.irr([-100, 100, 0, 7]) == pytest.approx(0.06206, abs=5e-6)
    assert finance.irr([100, 50]) is None
    assert finance.irr([0, 0]) is None


def test_bcr_payback_and_annuity_by_hand() -> None:
    """Invest 100, get 60 in years 1 and 2 at 10 %.

    PV(B) = 60/1.1 + 60/1.21 = 54.5454... + 49.5867... = 104.1322; BCR = 1.041322.
    Cumulative discounted: -100, -45.4545, +4.1322 -> payback 1 + 45.4545/49.5868 = 1.91667 years.
    Annuity factor 10 %, 2 years = 0.1*1.21/0.21 = 0.576190.
    """
    assert finance.bcr(0.1, [0, 60, 60], [100, 0, 0]) == pytest.approx(1.041322, abs=1e-6)
    assert finance.bcr(0.1, [0, 60, 60], [0, 0, 0]) is None
    assert finance.discounted_payback(0.1, [-100, 60, 60]) == pytest.approx(1.916667, abs=1e-6)
    assert finance.discounted_payback(0.1, [-100, 10, 10]) is None
    assert finance.discounted_payback(0.1, [0, 10]) == 0.0
    assert finance.annuity_factor(0.1, 2) == pytest.approx(0.576190, abs=1e-6)
    assert finance.annuity_factor(0.0, 4) == pytest.approx(0.25, abs=0.0)
    # One year at r = 1e-9: repay 13 (1 + 1e-9) exactly (npf.pmt gives 12.99999894 here).
    assert finance.annuity(1e-9, 1, 13.0) == pytest.approx(13.000000013, rel=1e-15)


@pytest.mark.parametrize(
    ("life", "horizon", "years_bought", "residual"),
    [
        (5.0, 20, {0: 1, 5: 1, 10: 1, 15: 1}, 0.0),  # exact multiple: no purchase at 20, nothing left
        (7.5, 20, {0: 1, 7: 1, 15: 1}, 1.0 / 3.0),  # bought at 0, 7.5, 15; 2.5 of 7.5 years left
        (25.0, 20, {0: 1}, 0.2),  # outlives the horizon: 5 of 25 years left
        (0.5, 2, {0: 2, 1: 2}, 0.0),  # two purchases a year
        (3.0, 3, {0: 1}, 0.0),
    ],
)
def test_replacement_schedule_and_residual_value(
    life: float, horizon: int, years_bought: dict[int, int], residual: float
) -> None:
    """Purchases at k*L < T booked in year floor(kL); linear residual of the last purchase at T."""
    counts = finance.purchase_counts(life, horizon)
    expected = np.zeros(horizon + 1)
    for year, n in years_bought.items():
        expected[year] = n
    np.testing.assert_array_equal(counts, expected)
    assert finance.residual_fraction(life, horizon) == pytest.approx(residual, abs=1e-12)


@pytest.mark.parametrize("life", [-5.0, 0.0, float("nan"), float("inf")])
def test_bad_lifetime_names_the_field(life: float) -> None:
    with pytest.raises(CbaError, match="lifetime_years"):
        finance.purchase_counts(life, 20)
    with pytest.raises(CbaError, match="lifetime_years"):
        finance.residual_fraction(life, 20)


def test_real_nominal_conversion_round_trip() -> None:
    """(1.04)(1.02) - 1 = 6.08 %; back again to 4 %."""
    nominal = finance.real_to_nominal_rate(0.04, 0.02)
    assert nominal == pytest.approx(0.0608, abs=1e-12)
    assert finance.nominal_to_real_rate(nominal, 0.02) == pytest.approx(0.04, abs=1e-12)
    # Escalated flows discounted at the nominal rate have the real flows' NPV.
    real = [-100.0, 30.0, 40.0, 50.0]
    grown = real * finance.escalation_factors(0.02, 3)
    assert finance.npv(nominal, grown) == pytest.approx(finance.npv(0.04, real), rel=1e-12)
    with pytest.raises(CbaError, match="discount_rate"):
        finance.npv(-1.5, real)


@settings(max_examples=300, deadline=None)
@given(num=st.integers(1, 120), den=st.integers(1, 8), horizon=st.integers(1, 40))
def test_replacement_schedule_equals_exact_enumeration(num: int, den: int, horizon: int) -> None:
    """Lifetimes L = num/den: enumerate the purchase times k*L < T exactly with fractions, book each in
    year floor(kL), and compare counts and the residual share (L*ceil(T/L) - T)/L."""
    from fractions import Fraction

    life = Fraction(num, den)
    expected = np.zeros(horizon + 1)
    k = 0
    while k * life < horizon:
        expected[int(k * life)] += 1  # floor for non-negative fractions
        k += 1
    last = (k - 1) * life
    residual = (last + life - horizon) / life
    np.testing.assert_array_equal(finance.purchase_counts(num / den, horizon), expected)
    assert finance.residual_fraction(num / den, horizon) == pytest.approx(float(residual), abs=1e-12)
