"""Yearly cash flows of each scheme, and a vectorised NPV evaluator for the sensitivity analyses.

Cash flows of scheme ``s`` in year ``t = 0..T`` (EUR; ``g_t = (1+e)^t`` in nominal terms, else 1):

.. math::

    B_{s,t} &= \\beta \\, g_t \\sum_c b_{s,c}                     && t \\ge 1 \\\\
    C_{s,t} &= g_t \\left( \\kappa \\, I_{s,t} + \\omega \\, O_s [t \\ge 1]
               - \\kappa \\, R_s [t = T] \\right)

with ``b`` the yearly benefits of :mod:`cba.benefits`, ``I_{s,t}`` the ICT investment booked in year ``t``
(first purchase and replacements, :func:`cba.finance.purchase_counts`), ``O_s`` the yearly ICT operating
cost, ``R_s`` the linear residual value at the horizon (:func:`cba.finance.residual_fraction`), and the
multipliers ``beta`` (benefit_factor), ``kappa`` (ict_capex_factor), ``omega`` (ict_opex_factor).
With ``ict_cost_basis = "incremental"`` the ICT terms are the scheme's minus the reference scheme's.

Because the NPV is linear in the prices and multipliers for a given rate, :class:`NpvModel` evaluates
it for many parameter vectors at once:

.. math::

    \\mathrm{NPV}_s = \\beta A \\sum_c p_c q_{s,c} - \\kappa \\sum_t w_t I_{s,t} - \\omega A O_s
    + \\kappa w_T R_s, \\qquad w_t = g_t (1+r)^{-t}, \\quad A = \\sum_{t \\ge 1} w_t

where ``q`` are the yearly KPI reductions and ``p`` the category prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coordstudio.cba.benefits import AnnualQuantities
from coordstudio.cba.errors import CbaError
from coordstudio.cba.finance import purchase_counts, residual_fraction
from coordstudio.cba.parameters import SCALAR_PARAMETERS, CbaParameters
from coordstudio.sgam.costs import IctCostLine, SchemeIctCost

__all__ = [
    "IctSchedule",
    "NpvModel",
    "SchemeCashFlows",
    "check_ict",
    "ict_schedule",
    "line_schedule",
    "scheme_cash_flows",
]

FloatArray = NDArray[np.float64]


def check_ict(ict: Mapping[str, SchemeIctCost], schemes: Sequence[str]) -> None:
    """Check that every scheme has ICT costs with valid lines; errors name the scheme, line and field."""
    for scheme in schemes:
        if scheme not in ict:
            raise CbaError(
                f"ict['{scheme}']: no ICT cost for scheme '{scheme}' (ICT costs exist for "
                f"{', '.join(ict) or 'no scheme'})"
            )
        for i, line in enumerate(ict[scheme].lines):
            where = f"ict['{scheme}'].lines[{i}] (link '{line.link_id}', technology '{line.technology_id}')"
            life = line.lifetime_years
            if not (isinstance(life, int | float) and np.isfinite(life) and life > 0):
                raise CbaError(f"{where}: lifetime_years must be a number > 0 years, got {life}")
            for field in ("capex_eur", "opex_eur_per_year"):
                value = getattr(line, field)
                if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                    raise CbaError(f"{where}: {field} must be a number >= 0, got {value}")


def line_schedule(line: IctCostLine, horizon_years: int) -> tuple[FloatArray, float]:
    """Investment booked per year ``t = 0..T`` and residual value at ``T`` of one ICT line, EUR."""
    counts = purchase_counts(line.lifetime_years, horizon_years)
    residual = line.capex_eur * residual_fraction(line.lifetime_years, horizon_years)
    return line.capex_eur * counts, residual


@dataclass(frozen=True)
class IctSchedule:
    """ICT cost streams of each scheme, in constant (real) money, before the cost multipliers.

    ``capex[s, t]`` investment per year, ``opex[s]`` yearly operating cost, ``residual[s]`` residual
    value at the horizon; the ``full_*`` arrays are the scheme's own cost, the plain ones the cost the
    CBA counts (minus the reference's with the incremental basis).
    """

    schemes: tuple[str, ...]
    capex: FloatArray
    opex: FloatArray
    residual: FloatArray
    full_capex: FloatArray
    full_opex: FloatArray
    full_residual: FloatArray


def ict_schedule(
    params: CbaParameters, ict: Mapping[str, SchemeIctCost], schemes: Sequence[str]
) -> IctSchedule:
    """Yearly ICT investment (with replacements), operating cost and residual value per scheme."""
    check_ict(ict, schemes)
    horizon = params.horizon_years
    n = len(schemes)
    capex = np.zeros((n, horizon + 1), dtype=float)
    opex = np.zeros(n, dtype=float)
    residual = np.zeros(n, dtype=float)
    for si, scheme in enumerate(schemes):
        for line in ict[scheme].lines:
            booked, res = line_schedule(line, horizon)
            capex[si] += booked
            residual[si] += res
            opex[si] += line.opex_eur_per_year
    if params.ict_cost_basis == "incremental":
        ref = list(schemes).index(params.reference_scheme)
        counted = (capex - capex[ref], opex - opex[ref], residual - residual[ref])
    else:
        counted = (capex.copy(), opex.copy(), residual.copy())
    return IctSchedule(
        schemes=tuple(schemes),
        capex=counted[0],
        opex=counted[1],
        residual=counted[2],
        full_capex=capex,
        full_opex=opex,
        full_residual=residual,
    )


@dataclass(frozen=True)
class SchemeCashFlows:
    """Yearly cash flows of one scheme, EUR per year ``t = 0..T`` (costs positive)."""

    benefits: FloatArray
    capex: FloatArray
    opex: FloatArray
    residual: FloatArray
    discount_factor: FloatArray
    escalation: FloatArray

    @property
    def costs(self) -> FloatArray:
        """``C_t = I_t + O_t - R_t``."""
        return np.asarray(self.capex + self.opex - self.residual, dtype=float)

    @property
    def net(self) -> FloatArray:
        """``B_t - C_t``."""
        return np.asarray(self.benefits - self.costs, dtype=float)


def _factors(params: CbaParameters) -> tuple[FloatArray, FloatArray]:
    t = np.arange(params.horizon_years + 1, dtype=float)
    discount = 1.0 / (1.0 + params.discount_rate) ** t
    escalation = (1.0 + params.escalation_rate) ** t if params.price_basis == "nominal" else np.ones_like(t)
    return np.asarray(discount, dtype=float), np.asarray(escalation, dtype=float)


def scheme_cash_flows(
    params: CbaParameters, quantities: AnnualQuantities, schedule: IctSchedule, scheme: str
) -> SchemeCashFlows:
    """Cash flows of ``scheme`` at the parameters' base values (see the module docstring)."""
    si = quantities.schemes.index(scheme)
    horizon = params.horizon_years
    discount, escalation = _factors(params)
    annual_benefit = float(np.sum(quantities.benefits_eur_per_year(params)[si]))
    benefits = np.zeros(horizon + 1)
    benefits[1:] = params.benefit_factor * annual_benefit * escalation[1:]
    capex = params.ict_capex_factor * schedule.capex[si] * escalation
    opex = np.zeros(horizon + 1)
    opex[1:] = params.ict_opex_factor * schedule.opex[si] * escalation[1:]
    residual = np.zeros(horizon + 1)
    residual[horizon] = params.ict_capex_factor * schedule.residual[si] * escalation[horizon]
    return SchemeCashFlows(
        benefits=benefits,
        capex=capex,
        opex=opex,
        residual=residual,
        discount_factor=discount,
        escalation=escalation,
    )


class NpvModel:
    """NPV of every scheme for many parameter vectors at once (Monte Carlo, tornado, switching).

    Parameters
    ----------
    params
        Base parameters; scalar inputs not overridden in :meth:`npv` keep these values.
    quantities, schedule
        The yearly KPI reductions and ICT streams (their scheme order is the column order).
    """

    def __init__(self, params: CbaParameters, quantities: AnnualQuantities, schedule: IctSchedule) -> None:
        self.params = params
        self.schemes = quantities.schemes
        self.horizon = params.horizon_years
        self._q = quantities.reduction  # (S, C)
        self._capex = schedule.capex  # (S, T+1)
        self._opex = schedule.opex  # (S,)
        self._residual = schedule.residual  # (S,)
        self._t = np.arange(self.horizon + 1, dtype=float)

    def _column(self, values: Mapping[str, FloatArray], name: str, n: int) -> FloatArray:
        if name in values:
            arr = np.asarray(values[name], dtype=float)
            return np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr
        return np.full(n, float(getattr(self.params, name)))

    def npv(
        self, values: Mapping[str, FloatArray], n: int | None = None,
        reduction_deviation: FloatArray | None = None,
    ) -> FloatArray:
        """NPV per sample and scheme, shape ``(n, S)``, EUR.

        ``values`` maps scalar input names (:data:`SCALAR_PARAMETERS`) to arrays of ``n`` samples;
        the others stay at their base values. ``reduction_deviation`` (shape ``(n, S, C)``, the unit of
        each category's yearly quantity) is added to the yearly KPI reductions ``q`` of each sample: the
        Monte Carlo's resampling of the simulated days (:func:`cba.sensitivity.day_bootstrap`).
        """
        for name in values:
            if name not in SCALAR_PARAMETERS:
                raise CbaError(f"cba: '{name}' is not a scalar CBA input")
        if n is None:
            sizes = {np.asarray(v).size for v in values.values()}
            n = max(sizes) if sizes else 1
        col = {name: self._column(values, name, n) for name in SCALAR_PARAMETERS}
        rate = col["discount_rate"]
        if np.any(rate <= -1.0):
            raise CbaError("cba.discount_rate: a sampled discount rate is <= -1")
        weights = (1.0 + rate[:, None]) ** -self._t[None, :]  # (n, T+1)
        if self.params.price_basis == "nominal":
            weights = weights * (1.0 + col["escalation_rate"][:, None]) ** self._t[None, :]
        annuity = weights[:, 1:].sum(axis=1)  # (n,)
        prices = np.stack(
            [
                np.ones(n),
                np.ones(n),
                col["unresolved_congestion_price_eur_per_mwh"],
                col["voltage_violation_price_eur_per_bus_hour"],
                col["curtailed_res_price_eur_per_mwh"],
                col["losses_price_eur_per_mwh"],
                col["emission_factor_t_per_mwh"] * col["co2_price_eur_per_t"],
                col["unserved_need_price_eur_per_mwh"],
                col["energy_not_served_price_eur_per_mwh"],
            ],
            axis=1,
        )  # (n, C)
        priced = prices @ self._q.T  # (n, S)
        if reduction_deviation is not None:
            priced = priced + np.einsum("nc,nsc->ns", prices, reduction_deviation)
        pv_benefit = (col["benefit_factor"] * annuity)[:, None] * priced
        pv_capex = col["ict_capex_factor"][:, None] * (weights @ self._capex.T)
        pv_opex = (col["ict_opex_factor"] * annuity)[:, None] * self._opex[None, :]
        pv_residual = (col["ict_capex_factor"] * weights[:, -1])[:, None] * self._residual[None, :]
        return np.asarray(pv_benefit - pv_capex - pv_opex + pv_residual, dtype=float)

    def npv_at(self, name: str, values: FloatArray) -> FloatArray:
        """NPV per value of the one input ``name`` (all else at base), shape ``(len(values), S)``."""
        arr = np.atleast_1d(np.asarray(values, dtype=float))
        return self.npv({name: arr}, arr.size)
