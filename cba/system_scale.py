"""The one system a study's costs and benefits stand for, and the rule that scales both to it.

A study simulates a test grid (189 MW in the default study) but its SGAM/ICT library costs platforms of
whole organisations: a DSO's real-time DMS and local market platform, the TSO's market platform, a data
hub. Set against the test grid's benefits, those platforms make every scheme look worse than it would be
for the system the platforms are built for. So a study states which system its figures stand for
(:class:`SystemScale`, ``cba.system`` in the study file), and one rule scales everything to it:

* **Benefits and device-level costs scale with the system.** ``s = scale_factor`` is the size of the
  stated system in multiples of the simulated grid (its devices, substations, meters and benefits). Yearly
  KPI quantities, and therefore benefits, are multiplied by ``s``; so is every ICT cost line whose quantity
  follows a device-level multiplicity (``der``, ``smart_meter``, ``aggregator``, ``primary_substation``,
  ``secondary_substation``, ...).
* **Shared platforms are apportioned.** Lines whose quantity follows an organisation
  (:data:`PLATFORM_MULTIPLICITIES`: ``tso``, ``dso``, ``market_operator``, ``data_hub``,
  ``commercial_party``) are multiplied by ``s * platform_share``: ``platform_share`` is the share of each
  organisation's platform that the simulated grid accounts for (1: the simulated grid's operators carry
  whole platforms; 0.05: the simulated DSO area is a twentieth of the territory a DSO platform serves).

Everything is linear in ``s``, so doubling the stated system doubles both the benefits and the ICT costs
(``tests/cba/test_system_scale.py``). Technology choice and gateway rounding stay as costed for the
simulated grid: the scaling multiplies the costed sample, it does not re-design the ICT.

**Break-even scale** (a switching value per scheme): when the organisations carry *whole* platforms,
a scheme's NPV against the reference is affine in the size of the system,
``NPV(s) = s (B - V) - P`` (``B``: present value of its benefits per simulated grid, ``V``: of its
device-level ICT cost difference, ``P``: of its platform cost difference), so it crosses zero at

    s* = P / (B - V)          (when B > V and P > 0; 0 when P <= 0 < B - V; none when B <= V)

the system size, in multiples of the simulated grid, from which the scheme's benefits pay for its
platforms. It is computed with the CBA's own cash flows (replacements, residual values, discounting), by
evaluating the affine NPV at ``s = 0`` and ``s = 1``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from coordstudio.cba.system_spec import PLATFORM_MULTIPLICITIES, SystemScale
from coordstudio.sgam.costs import SchemeIctCost

if TYPE_CHECKING:
    from coordstudio.cba.benefits import AnnualQuantities
    from coordstudio.cba.parameters import CbaParameters

__all__ = [
    "PLATFORM_MULTIPLICITIES",
    "SystemScale",
    "break_even_scale",
    "is_identity",
    "line_factor",
    "scale_ict",
    "scale_quantities",
]

def line_factor(multiplicity: str, system: SystemScale) -> float:
    """Factor of one ICT cost line: ``s * platform_share`` for platforms, ``s`` for the rest."""
    if multiplicity in PLATFORM_MULTIPLICITIES:
        return system.scale_factor * system.platform_share
    return system.scale_factor


def scale_ict(
    ict: Mapping[str, SchemeIctCost], system: SystemScale, platform_factor: float | None = None,
    device_factor: float | None = None,
) -> dict[str, SchemeIctCost]:
    """ICT costs of the stated system: each line's CAPEX, OPEX and present value times its factor.

    ``platform_factor``/``device_factor`` override the factors (used by :func:`break_even_scale`)."""
    out: dict[str, SchemeIctCost] = {}
    for scheme, cost in ict.items():
        lines = []
        for line in cost.lines:
            if line.multiplicity in PLATFORM_MULTIPLICITIES:
                f = platform_factor if platform_factor is not None else line_factor(line.multiplicity, system)
            else:
                f = device_factor if device_factor is not None else line_factor(line.multiplicity, system)
            lines.append(line.model_copy(update={
                "capex_eur": line.capex_eur * f,
                "opex_eur_per_year": line.opex_eur_per_year * f,
                "present_value_eur": line.present_value_eur * f,
            }))
        out[scheme] = cost.model_copy(update={"lines": lines})
    return out


def scale_quantities(q: AnnualQuantities, factor: float) -> AnnualQuantities:
    """Yearly KPI quantities (and their reductions) of a system ``factor`` times the simulated grid."""
    return dataclasses.replace(q, yearly=q.yearly * factor, reduction=q.reduction * factor)


def is_identity(system: SystemScale) -> bool:
    """True when the system is the simulated grid with whole platforms (nothing to scale)."""
    return system.scale_factor == 1.0 and system.platform_share == 1.0


def break_even_scale(
    params: CbaParameters, q: AnnualQuantities, ict: Mapping[str, SchemeIctCost], scheme: str
) -> float | None:
    """System size (multiples of the simulated grid) from which ``scheme``'s NPV against the reference is
    positive when its organisations carry whole platforms (module docstring); ``None``: at no size.

    ``q`` and ``ict`` are the simulated grid's (unscaled) quantities and ICT costs."""
    from coordstudio.cba import finance
    from coordstudio.cba.cashflows import ict_schedule, scheme_cash_flows

    def npv(size: float) -> float:
        scaled = scale_ict(ict, params.system, platform_factor=1.0, device_factor=size)
        schedule = ict_schedule(params, scaled, q.schemes)
        flows = scheme_cash_flows(params, scale_quantities(q, size), schedule, scheme)
        return float(finance.npv(params.discount_rate, flows.net))

    fixed = npv(0.0)  # -P: the platforms alone
    slope = npv(1.0) - fixed  # B - V per simulated grid
    if slope <= 0.0:
        return None
    if fixed >= 0.0:
        return 0.0
    return -fixed / slope
