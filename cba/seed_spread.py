"""What the seed replicates showed: each scheme's annual benefit and NPV simulated with each seed.

A study with ``profiles.seed_replicates: K >= 2`` simulates every day K times, replicate ``j`` with the
seed ``seed + j`` (:mod:`simulation.scenario.representative_days`), each replicate with ``1/K`` of its
day's weight, so the deterministic CBA stands on the replicates' mean. Replicate ``j``'s own annual figure
takes replicate ``j`` of every day at the day's whole weight (:func:`cba.sensitivity.replicate_spread`):

    B_j = sum_c p_c (R_c + dev_jc),      NPV_j = NPV + benefit_factor * A * sum_c p_c dev_jc

with ``R`` the yearly KPI reductions, ``p`` the category prices, ``A`` the annuity of the horizon and
``dev_j`` replicate ``j``'s deviation (the NPV by :class:`cba.cashflows.NpvModel` at the base inputs).
The mean of the ``B_j`` is the deterministic annual benefit. Reported per scheme: the standard deviation
of the ``K`` values (``ddof = 1``, what one seed would scatter by) and the standard error of their mean
(``std / sqrt(K)``, what is left in the deterministic figure). The draft's limitations and
``cba_result.json`` carry them; the Monte Carlo resamples the replicates
(:func:`cba.sensitivity.day_bootstrap`).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from coordstudio.cba.benefits import AnnualQuantities, category_prices
from coordstudio.cba.cashflows import NpvModel
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.sensitivity import replicate_spread

__all__ = ["SeedSpread", "SeedSpreadScheme", "seed_spread"]


class SeedSpreadScheme(BaseModel):
    """One scheme's annual benefit and NPV over the seed replicates."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    benefit_eur_per_year: list[float] = Field(
        description="Annual benefit against the reference with each seed replicate, EUR/a (before the "
        "benefit factor, as SchemeResult.annual_benefits_eur_per_year)."
    )
    npv_eur: list[float] = Field(description="NPV with each seed replicate, all other inputs at base, EUR.")
    benefit_std_eur_per_year: float = Field(
        description="Standard deviation of the annual benefit over the replicates (ddof 1), EUR/a."
    )
    npv_std_eur: float = Field(description="Standard deviation of the NPV over the replicates (ddof 1), EUR.")
    npv_stderr_eur: float = Field(
        description="Standard error of the replicates' mean NPV (the deterministic NPV), std / sqrt(K), EUR."
    )


class SeedSpread(BaseModel):
    """The spread of the simulation over its random seeds, measured by seed replicates."""

    model_config = ConfigDict(extra="forbid")

    replicates: int = Field(description="Seeds each day was simulated with, count.")
    schemes: list[SeedSpreadScheme] = Field(description="Per scheme, its figures with each seed.")

    def scheme(self, scheme_id: str) -> SeedSpreadScheme:
        """The figures of ``scheme_id``."""
        for item in self.schemes:
            if item.scheme == scheme_id:
                return item
        raise KeyError(scheme_id)


def seed_spread(params: CbaParameters, q: AnnualQuantities, model: NpvModel) -> SeedSpread | None:
    """Each scheme's annual benefit and NPV with each seed replicate (module docstring); ``None`` when
    the days were simulated with one seed (or days have different numbers of replicates)."""
    dev = replicate_spread(params, q)  # (K, S, C)
    if dev is None:
        return None
    k = dev.shape[0]
    prices = category_prices(params)
    benefits = (q.reduction[None, :, :] + dev) @ prices  # (K, S)
    npv = model.npv({}, k, reduction_deviation=dev)  # (K, S)
    schemes = []
    for si, scheme in enumerate(q.schemes):
        std = float(np.std(npv[:, si], ddof=1))
        schemes.append(
            SeedSpreadScheme(
                scheme=scheme,
                benefit_eur_per_year=[float(b) for b in benefits[:, si]],
                npv_eur=[float(v) for v in npv[:, si]],
                benefit_std_eur_per_year=float(np.std(benefits[:, si], ddof=1)),
                npv_std_eur=std,
                npv_stderr_eur=std / math.sqrt(k),
            )
        )
    return SeedSpread(replicates=k, schemes=schemes)
