"""Benefits of each scheme relative to the reference scheme, annualised from representative days.

Each simulated representative day ``d`` stands for ``w_d`` days a year
(:attr:`~cba.parameters.CbaParameters.day_weights_days_per_year`); a KPI simulated over ``h_d`` hours is
scaled to a full day by ``24 / h_d``. The yearly amount of KPI ``k`` of scheme ``s`` is

.. math:: K_{s,k} = \\sum_d w_d \\, k_{s,d} \\, \\frac{24}{h_{s,d}}

and the yearly benefit of category ``c`` (before the benefit factor) is the reduction relative to the
reference scheme times the category's price:

.. math:: b_{s,c} = (K_{ref,c} - K_{s,c}) \\, p_c

with the quantities and prices

============  ==============================  ====================================================
category      KPI (unit)                      price ``p_c``
============  ==============================  ====================================================
activation    resource_cost_eur (EUR)         1
afrr          afrr_cost_eur (EUR)             1
congestion    overload_energy_mwh (MWh)       unresolved_congestion_price_eur_per_mwh
voltage       voltage_violation_hours_h       voltage_violation_price_eur_per_bus_hour
curtailment   curtailed_res_mwh (MWh)         curtailed_res_price_eur_per_mwh
losses        losses_mwh (MWh)                losses_price_eur_per_mwh
co2           curtailed_res_mwh + losses_mwh  emission_factor_t_per_mwh * co2_price_eur_per_t
unserved_need slack_energy_mwh (MWh)          unserved_need_price_eur_per_mwh
energy_not_s. energy_not_served_mwh (MWh)     energy_not_served_price_eur_per_mwh
============  ==============================  ====================================================

CO2 counts the energy that replaces curtailed RES or covers losses as emitted at the emission factor.

The system counts **resource costs**, not payments (issue 16 item 4): ``activation`` is the as-bid cost
of the activated flexibility (``resource_cost_eur``), not what the operators pay the sellers at nodal
prices (``activation_cost_eur``); the difference (the sellers' surplus) and the congestion rent are
transfers between actors, booked in the per-actor analysis. Together with aFRR energy and losses this is
the system's operating cost. ``unserved_need`` is the need the market left unserved (its slack, e.g.
SBR's schedule the DSOs could not keep), priced at the study's value for it. ``energy_not_served``
(category ``energy_not_served``) is the load that tripped lines disconnected until restored
(``simulation.kpis.SchemeKpis.energy_not_served_mwh``), priced at a value of lost load: without it a
scheme whose feeder trips would look better on voltage and losses (a dark feeder has neither) and the
outage would count for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coordstudio.cba.errors import CbaError
from coordstudio.cba.parameters import BENEFIT_CATEGORIES, CbaParameters
from coordstudio.simulation.kpis import SCHEME_IDS, SchemeKpis

__all__ = [
    "CATEGORY_KPIS",
    "CATEGORY_QUANTITY_UNITS",
    "AnnualQuantities",
    "annual_quantities",
    "category_prices",
    "order_schemes",
    "yearly_kpi",
]

#: KPI fields whose sum is the quantity of each benefit category.
CATEGORY_KPIS: dict[str, tuple[str, ...]] = {
    "activation": ("resource_cost_eur",),
    "afrr": ("afrr_cost_eur",),
    "congestion": ("overload_energy_mwh",),
    "voltage": ("voltage_violation_hours_h",),
    "curtailment": ("curtailed_res_mwh",),
    "losses": ("losses_mwh",),
    "co2": ("curtailed_res_mwh", "losses_mwh"),
    "unserved_need": ("slack_energy_mwh",),
    "energy_not_served": ("energy_not_served_mwh",),
}

#: Unit of each category's yearly quantity (what its price multiplies).
CATEGORY_QUANTITY_UNITS: dict[str, str] = {
    "activation": "EUR/a",
    "afrr": "EUR/a",
    "congestion": "MWh/a",
    "voltage": "bus h/a",
    "curtailment": "MWh/a",
    "losses": "MWh/a",
    "co2": "MWh/a",
    "unserved_need": "MWh/a",
    "energy_not_served": "MWh/a",
}


def order_schemes(schemes: Sequence[str]) -> list[str]:
    """Scheme ids in the canonical order of :data:`~simulation.kpis.SCHEME_IDS`, unknown ones last."""
    unique = list(dict.fromkeys(schemes))
    known = [s for s in SCHEME_IDS if s in unique]
    return known + sorted(s for s in unique if s not in SCHEME_IDS)


def category_prices(params: CbaParameters) -> NDArray[np.float64]:
    """Price of each benefit category, in :data:`BENEFIT_CATEGORIES` order (EUR per quantity unit)."""
    return np.array(
        [
            1.0,
            1.0,
            params.unresolved_congestion_price_eur_per_mwh,
            params.voltage_violation_price_eur_per_bus_hour,
            params.curtailed_res_price_eur_per_mwh,
            params.losses_price_eur_per_mwh,
            params.emission_factor_t_per_mwh * params.co2_price_eur_per_t,
            params.unserved_need_price_eur_per_mwh,
            params.energy_not_served_price_eur_per_mwh,
        ],
        dtype=float,
    )


@dataclass(frozen=True)
class AnnualQuantities:
    """Yearly KPI quantities per scheme and their reduction relative to the reference.

    Attributes
    ----------
    schemes
        Scheme ids, canonical order (rows of the arrays).
    reference
        Reference scheme id.
    days
        Representative day ids, in the order of the day weights.
    yearly
        ``yearly[s, c]``: yearly quantity of category ``c`` of scheme ``s`` (unit per
        :data:`CATEGORY_QUANTITY_UNITS`).
    reduction
        ``reduction[s, c] = yearly[ref, c] - yearly[s, c]``: what the scheme saves, per year.
    by_scheme_day
        The KPI record of each (scheme, day).
    """

    schemes: tuple[str, ...]
    reference: str
    days: tuple[str, ...]
    yearly: NDArray[np.float64]
    reduction: NDArray[np.float64]
    by_scheme_day: dict[tuple[str, str], SchemeKpis]

    def benefits_eur_per_year(self, params: CbaParameters) -> NDArray[np.float64]:
        """``b[s, c]``: yearly benefit per scheme and category at the base-year prices, EUR/a."""
        return np.asarray(self.reduction * category_prices(params)[None, :], dtype=float)


def _index_kpis(params: CbaParameters, kpis: Sequence[SchemeKpis]) -> dict[tuple[str, str], SchemeKpis]:
    table: dict[tuple[str, str], SchemeKpis] = {}
    weights = params.day_weights_days_per_year
    for i, k in enumerate(kpis):
        key = (k.scheme, k.day)
        if key in table:
            raise CbaError(f"kpis[{i}]: scheme '{k.scheme}' has two KPI records for day '{k.day}'")
        if k.day not in weights:
            raise CbaError(
                f"kpis[{i}]: day '{k.day}' of scheme '{k.scheme}' has no weight in "
                f"cba.day_weights_days_per_year (days: {', '.join(weights)})"
            )
        table[key] = k
    return table


def yearly_kpi(by_day: Sequence[SchemeKpis], weights: Sequence[float] | NDArray[np.float64],
               fields: Sequence[str]) -> float:
    """``sum_d w_d * k_d * 24 / h_d``: the yearly amount of the KPI fields' sum ``k`` of one scheme,
    from its KPI record of each representative day (``by_day``, in the order of ``weights``, days a year)
    simulated over ``h_d`` hours; the one annualisation the CBA (:func:`annual_quantities`) and the
    KPI charts (:mod:`cba.figures_kpi`) share."""
    per_day = np.array([sum(float(getattr(k, f)) for f in fields) for k in by_day], dtype=float)
    scale = np.array([24.0 / k.duration_h for k in by_day], dtype=float)
    return float(np.sum(np.asarray(weights, dtype=float) * per_day * scale))


def annual_quantities(params: CbaParameters, kpis: Sequence[SchemeKpis]) -> AnnualQuantities:
    """Annualise the KPIs of every scheme and subtract them from the reference scheme's.

    Raises
    ------
    CbaError
        If the reference scheme has no KPIs, a scheme lacks a weighted day (or has a day without a
        weight, or a day twice); the message names ``cba.day_weights_days_per_year`` or
        ``cba.reference_scheme``.
    """
    if not kpis:
        raise CbaError("kpis: no simulation KPIs were given to the cost-benefit analysis")
    table = _index_kpis(params, kpis)
    schemes = order_schemes([k.scheme for k in kpis])
    reference = params.reference_scheme
    if reference not in schemes:
        raise CbaError(
            f"cba.reference_scheme: reference scheme '{reference}' has no simulation KPIs "
            f"(simulated: {', '.join(schemes)}); simulate it too or choose another reference"
        )
    days = params.day_ids()
    weights = np.array([params.day_weights_days_per_year[d] for d in days], dtype=float)
    yearly = np.zeros((len(schemes), len(BENEFIT_CATEGORIES)), dtype=float)
    for si, scheme in enumerate(schemes):
        missing = [d for d in days if (scheme, d) not in table]
        if missing:
            raise CbaError(
                f"cba.day_weights_days_per_year: scheme '{scheme}' has no KPIs for day(s) "
                f"{', '.join(missing)}; every weighted day must be simulated for every scheme"
            )
        by_day = [table[(scheme, d)] for d in days]
        for ci, category in enumerate(BENEFIT_CATEGORIES):
            yearly[si, ci] = yearly_kpi(by_day, weights, CATEGORY_KPIS[category])
    ref_row = yearly[schemes.index(reference)]
    reduction = ref_row[None, :] - yearly
    return AnnualQuantities(
        schemes=tuple(schemes),
        reference=reference,
        days=tuple(days),
        yearly=yearly,
        reduction=reduction,
        by_scheme_day=table,
    )
