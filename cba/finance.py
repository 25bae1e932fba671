"""Financial arithmetic of the CBA as pure functions over yearly cash-flow arrays.

Timing convention (the one of numpy-financial and of the Excel report): a cash-flow array ``cf`` holds
the flows of years ``t = 0, 1, ..., T``; the flow of year 0 is not discounted and the flow of year ``t``
is discounted by ``(1 + r)^t``. Investments of year 0 happen at the start of the appraisal, benefits and
operating costs at the end of each year.

Formulas
--------
* Net present value: :math:`\\mathrm{NPV}(r) = \\sum_{t=0}^{T} cf_t (1+r)^{-t}`.
* Benefit-cost ratio: :math:`\\mathrm{BCR} = \\mathrm{PV}(B) / \\mathrm{PV}(C)`, undefined when
  :math:`\\mathrm{PV}(C) \\le 0`.
* Internal rate of return: the :math:`r > -1` with :math:`\\mathrm{NPV}(r) = 0`; with several, the one
  closest to zero (numpy-financial's choice); none without a sign change.
* Discounted payback: the first time :math:`\\tau` at which the cumulative discounted cash flow
  :math:`S_t = \\sum_{k \\le t} cf_k (1+r)^{-k}` reaches zero, linearly interpolated inside the year:
  :math:`\\tau = (t-1) + (-S_{t-1}) / (S_t - S_{t-1})` for the first ``t`` with ``S_{t-1} < 0 <= S_t``;
  ``0`` when :math:`S_0 \\ge 0`.
* Annuity factor: :math:`a(r, n) = r (1+r)^n / ((1+r)^n - 1)`, :math:`1/n` at :math:`r = 0`.
* Replacement: an asset of lifetime ``L`` bought at year 0 is bought again at times ``kL`` (``k = 1, 2,
  ...``) while ``kL < T``; each purchase is booked in year ``floor(kL)``. The count booked in year ``t``
  is :math:`\\lceil \\min(t+1, T)/L \\rceil - \\lceil t/L \\rceil` (a tolerance of 1e-9 on the ratio
  keeps exact multiples exact, in Python and in the workbook's formulas alike).
* Residual value (linear): the last purchase, made at :math:`L(\\lceil T/L \\rceil - 1)`, still has
  :math:`L\\lceil T/L \\rceil - T` of its ``L`` years left at ``T``; its value is that fraction of its
  investment, booked (as a negative cost) in year ``T``.
* Real vs nominal: a real flow :math:`x` of year ``t`` is :math:`x (1+e)^t` in nominal money at
  escalation rate ``e``; the rates relate by :math:`1 + r_{nom} = (1 + r_{real})(1 + e)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coordstudio.cba.errors import CbaError

__all__ = [
    "RATIO_TOL",
    "annuity",
    "annuity_factor",
    "bcr",
    "cumulative_discounted",
    "discount_factors",
    "discounted_payback",
    "escalation_factors",
    "irr",
    "nominal_to_real_rate",
    "npv",
    "present_value",
    "purchase_counts",
    "real_to_nominal_rate",
    "residual_fraction",
]

FloatArray = NDArray[np.float64]

#: Tolerance on ``t / L`` ratios, so that exact multiples of a lifetime stay exact under rounding.
RATIO_TOL = 1e-9


def _rate(rate: float, name: str = "discount_rate") -> float:
    if not math.isfinite(rate) or rate <= -1.0:
        raise CbaError(f"{name} must be a finite fraction > -1, got {rate}")
    return float(rate)


def _flows(cash_flows: ArrayLike, name: str = "cash_flows") -> FloatArray:
    arr = np.asarray(cash_flows, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise CbaError(f"{name} must be a non-empty one-dimensional sequence of yearly flows")
    if not np.all(np.isfinite(arr)):
        raise CbaError(f"{name} contains a value that is not a finite number")
    return arr


def discount_factors(rate: float, horizon_years: int) -> FloatArray:
    """Discount factors :math:`(1+r)^{-t}` for ``t = 0..horizon_years``."""
    r = _rate(rate)
    t = np.arange(horizon_years + 1, dtype=float)
    return np.asarray((1.0 + r) ** -t, dtype=float)


def escalation_factors(rate: float, horizon_years: int) -> FloatArray:
    """Escalation factors :math:`(1+e)^{t}` for ``t = 0..horizon_years`` (real -> nominal money)."""
    e = _rate(rate, "escalation_rate")
    t = np.arange(horizon_years + 1, dtype=float)
    return np.asarray((1.0 + e) ** t, dtype=float)


def npv(rate: float, cash_flows: ArrayLike) -> float:
    """Net present value of yearly ``cash_flows`` (year 0 first) at ``rate`` (fraction per year)."""
    cf = _flows(cash_flows)
    return float(np.dot(cf, discount_factors(rate, cf.size - 1)))


def present_value(rate: float, cash_flows: ArrayLike) -> float:
    """Present value of a stream (the same sum as :func:`npv`, named for one-sided streams)."""
    return npv(rate, cash_flows)


def bcr(rate: float, benefits: ArrayLike, costs: ArrayLike) -> float | None:
    """Benefit-cost ratio ``PV(benefits) / PV(costs)``; ``None`` when ``PV(costs) <= 0``.

    ``costs`` are positive numbers (money spent), ``benefits`` positive when gained.
    """
    pv_c = npv(rate, costs)
    if pv_c <= 0.0:
        return None
    return npv(rate, benefits) / pv_c


def irr(cash_flows: ArrayLike) -> float | None:
    """Internal rate of return (fraction per year), or ``None`` if the flows have none.

    The roots of :math:`\\sum_t cf_t x^t = 0` with :math:`x = 1/(1+r) > 0` are found as polynomial
    roots, polished by Newton's method on :math:`\\mathrm{NPV}(r)`, and the real root closest to zero is
    returned (as numpy-financial does), so the two agree where a unique IRR exists.
    """
    cf = _flows(cash_flows)
    nonzero = cf[cf != 0.0]
    if nonzero.size == 0 or np.all(nonzero > 0) or np.all(nonzero < 0):
        return None
    scale = float(np.max(np.abs(cf)))
    coefficients = cf / scale
    # Trailing flows negligible against the largest would put a near-zero leading coefficient into the
    # companion matrix; they are left out of the root search (Newton below still uses every flow).
    significant = np.flatnonzero(np.abs(coefficients) > 1e-13)
    coefficients = coefficients[: significant[-1] + 1]
    with np.errstate(all="ignore"):
        roots = np.roots(coefficients[::-1])
    real = roots[(np.abs(roots.imag) <= 1e-9 * np.maximum(1.0, np.abs(roots))) & (roots.real > 0)].real
    if real.size == 0:
        return None
    t = np.arange(cf.size, dtype=float)
    candidates: list[float] = []
    for x0 in real:
        r = 1.0 / float(x0) - 1.0
        for _ in range(50):
            if r <= -1.0:
                break
            d = (1.0 + r) ** -t
            f = float(np.dot(cf, d))
            g = float(np.dot(-t * cf, d / (1.0 + r)))
            if g == 0.0:
                break
            step = f / g
            r_new = r - step
            if r_new <= -1.0:
                r_new = (r - 1.0) / 2.0
            if abs(r_new - r) <= 1e-15 * max(1.0, abs(r)):
                r = r_new
                break
            r = r_new
        if r > -1.0 and math.isfinite(r):
            value = float(np.dot(cf, (1.0 + r) ** -t))
            if abs(value) <= 1e-7 * float(np.sum(np.abs(cf))):
                candidates.append(r)
    if not candidates:
        return None
    return min(candidates, key=abs)


def cumulative_discounted(rate: float, cash_flows: ArrayLike) -> FloatArray:
    """Cumulative discounted cash flow :math:`S_t` for ``t = 0..T``."""
    cf = _flows(cash_flows)
    return np.asarray(np.cumsum(cf * discount_factors(rate, cf.size - 1)), dtype=float)


def discounted_payback(rate: float, cash_flows: ArrayLike) -> float | None:
    """Years until the cumulative discounted cash flow first reaches zero (interpolated), or ``None``."""
    s = cumulative_discounted(rate, cash_flows)
    if s[0] >= 0.0:
        return 0.0
    for t in range(1, s.size):
        if s[t - 1] < 0.0 <= s[t]:
            return (t - 1) + (-s[t - 1]) / (s[t] - s[t - 1])
    return None


def annuity_factor(rate: float, years: int) -> float:
    """Capital recovery factor :math:`r(1+r)^n / ((1+r)^n - 1)`; ``1/n`` at ``r = 0``."""
    r = _rate(rate)
    if years < 1:
        raise CbaError(f"years of an annuity must be >= 1, got {years}")
    # expm1/log1p keep (1+r)^n - 1 accurate for rates near zero.
    growth_minus_one = math.expm1(years * math.log1p(r))
    if r == 0.0 or growth_minus_one == 0.0:
        return 1.0 / years
    return r * (growth_minus_one + 1.0) / growth_minus_one


def annuity(rate: float, years: int, present_value_eur: float) -> float:
    """Equal yearly payment (end of year) over ``years`` with the present value ``present_value_eur``.

    Equals ``-numpy_financial.pmt(rate, years, present_value_eur)``.
    """
    return present_value_eur * annuity_factor(rate, years)


def _lifetime(lifetime_years: float) -> float:
    if not math.isfinite(lifetime_years) or lifetime_years <= 0:
        raise CbaError(f"lifetime_years must be a finite number > 0, got {lifetime_years}")
    return float(lifetime_years)


def _ceil_ratio(x: float, lifetime: float) -> int:
    return math.ceil(x / lifetime - RATIO_TOL)


def purchase_counts(lifetime_years: float, horizon_years: int) -> FloatArray:
    """Number of purchases of one asset booked in each year ``t = 0..horizon_years``.

    The first purchase is in year 0; replacements follow every ``lifetime_years`` while inside the
    horizon (see the module docstring). An asset living longer than the horizon is bought once.

    Raises
    ------
    CbaError
        If ``lifetime_years`` is not a positive finite number (the message names the field).
    """
    life = _lifetime(lifetime_years)
    if horizon_years < 1:
        raise CbaError(f"horizon_years must be >= 1, got {horizon_years}")
    counts = np.zeros(horizon_years + 1, dtype=float)
    for t in range(horizon_years):
        counts[t] = _ceil_ratio(min(t + 1, horizon_years), life) - _ceil_ratio(t, life)
    return counts


def residual_fraction(lifetime_years: float, horizon_years: int) -> float:
    """Fraction of the last purchase's investment still unused at the horizon (linear depreciation)."""
    life = _lifetime(lifetime_years)
    purchases = _ceil_ratio(horizon_years, life)
    return max(0.0, (life * purchases - horizon_years) / life)


def real_to_nominal_rate(real_rate: float, escalation_rate: float) -> float:
    """Nominal rate from a real rate and the escalation (inflation) rate: ``(1+r)(1+e) - 1``."""
    return (1.0 + _rate(real_rate, "real_rate")) * (1.0 + _rate(escalation_rate, "escalation_rate")) - 1.0


def nominal_to_real_rate(nominal_rate: float, escalation_rate: float) -> float:
    """Real rate from a nominal rate and the escalation (inflation) rate: ``(1+n)/(1+e) - 1``."""
    growth = 1.0 + _rate(escalation_rate, "escalation_rate")
    return (1.0 + _rate(nominal_rate, "nominal_rate")) / growth - 1.0


def as_list(values: Sequence[float] | FloatArray) -> list[float]:
    """Plain Python floats (for pydantic results)."""
    return [float(v) for v in values]
