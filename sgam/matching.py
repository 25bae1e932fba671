"""Requirement -> technology matching and ICT cost per coordination scheme.

For each scheme the events it needs are grouped by the link they travel on (a link several events share is
paid once). For each link:

1. **Load.** With ``n`` endpoints (the larger count of the two end actors' multiplicities), an event ``e``
   with ``m_e`` instances (count of its multiplicity), ``f_e`` messages per instance and day and payload
   ``b_e`` bytes puts an average load of ``r_e = m_e f_e b_e 8 / 86400 / 1000 / n`` kbit/s on each endpoint;
   the yearly volume of the link is ``V = 365 sum_e m_e f_e b_e / 10^9`` GB.
2. **Hard requirements.** A technology ``t`` serves event ``e`` if, for the strictest of the event's
   requirements, ``latency_t + 8 b_e / rate_t <= max_latency`` (network latency plus the time to send one
   message; ``rate`` in kbit/s = bit/ms), ``rate_t >= min_data_rate``, ``availability_t >=
   min_availability``, ``security_t >= min_security`` (ordered low < medium < high < very_high), the link's
   length per endpoint is within ``max_length_km`` and ``t`` is among the link's candidate technologies. It
   serves the link if it serves every event and ``rate_t >= sum_e r_e``.
3. **Cost.** ``CAPEX = n (capex_per_endpoint + l capex_per_km) + g capex_per_gateway`` with
   ``g = ceil(n / endpoints_per_gateway)`` (0 if no gateway), ``OPEX = n opex_per_endpoint_year +
   g opex_per_gateway_year + V opex_per_gb``.
4. **Choice.** The feasible technology with the lowest present value (:func:`present_value`) over the horizon
   wins; ties go to the first in catalogue order.

Components (RTUs, platforms, gateways) needed by a scheme add ``count x unit cost`` lines on their own layer.
Events that no technology can serve are listed in ``SchemeIctCost.unserved_events`` (with the reason in
``unserved_reasons``); :func:`check_served` turns them into an :class:`~sgam.errors.UnservedEventError`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coordstudio.sgam.costs import IctCostLine, SchemeIctCost
from coordstudio.sgam.errors import SgamValidationError, UnservedEventError
from coordstudio.sgam.model import InteractionEvent, Link, SecurityLevel, SgamModel, Technology

# ---- finance
_MAX_PURCHASES = 10_000
"""Most purchases (first one and replacements) the present value sums; beyond, the input is refused."""


def present_value(
    capex_eur: float,
    opex_eur_per_year: float,
    lifetime_years: float,
    horizon_years: int,
    discount_rate: float,
) -> float:
    r"""Present value of owning an asset over the horizon, EUR.

    .. math::
        PV = C \sum_{k:\,kL<T} (1+r)^{-kL} - C \frac{t_{last} + L - T}{L} (1+r)^{-T}
             + O \sum_{t=1}^{T} (1+r)^{-t}

    with investment ``C`` at year 0 and replacements every lifetime ``L`` while ``kL < T``, linear residual
    value of the last purchase (made at ``t_last``) at the horizon ``T``, and operating cost ``O`` at the end
    of each year. This is the convention of the CBA (REFERENCE-DATA: linear residual value, discounted).
    """
    if horizon_years <= 0:
        raise SgamValidationError(f"horizon_years must be > 0, got {horizon_years}")
    if discount_rate <= -1:
        raise SgamValidationError(f"discount_rate must be > -1 (a fraction), got {discount_rate}")
    if not math.isfinite(lifetime_years) or lifetime_years <= 0:
        raise SgamValidationError(f"lifetime_years must be > 0, got {lifetime_years}")
    if horizon_years / lifetime_years > _MAX_PURCHASES:  # the loop below runs once per purchase
        raise SgamValidationError(
            f"lifetime_years {lifetime_years:g} is too short for a {horizon_years}-year horizon "
            f"(more than {_MAX_PURCHASES} replacements)"
        )
    T, L, r = float(horizon_years), float(lifetime_years), discount_rate
    pv_capex = 0.0
    k = 0
    t_last = 0.0
    while k * L < T - 1e-9:
        t_last = k * L
        pv_capex += capex_eur * (1 + r) ** (-t_last)
        k += 1
    residual = capex_eur * (t_last + L - T) / L * (1 + r) ** (-T)
    pv_opex = opex_eur_per_year * _annuity_factor(horizon_years, r)
    return float(pv_capex - residual + pv_opex)


@functools.lru_cache(maxsize=256)
def _annuity_factor(horizon_years: int, rate: float) -> float:
    """sum_{t=1..T} (1+r)^-t."""
    return float(sum((1 + rate) ** (-t) for t in range(1, horizon_years + 1)))


# ---- results
@dataclass(frozen=True)
class EffectiveRequirement:
    """The strictest of an event's requirements (``None``: unconstrained)."""

    max_latency_ms: float | None = None
    min_data_rate_kbps: float | None = None
    min_availability_pct: float | None = None
    min_security_level: SecurityLevel | None = None


@dataclass
class Candidate:
    """One technology evaluated on one link."""

    technology_id: str
    feasible: bool
    reasons: list[str] = field(default_factory=list)
    capex_eur: float = 0.0
    opex_eur_per_year: float = 0.0
    present_value_eur: float = 0.0


@dataclass
class LinkMatch:
    """The matching of one link in one scheme: load, candidates and the choice (``None`` if unserved)."""

    scheme: str
    link_id: str
    event_ids: list[str]
    endpoints: int
    load_kbps_per_endpoint: float
    volume_gb_per_year: float
    candidates: list[Candidate]
    chosen: Candidate | None
    unserved: dict[str, str]
    """Unserved event id -> reason."""


class BreakdownRow(BaseModel):
    """ICT cost of one scheme summed over one group (an actor, a technology, a layer or a role)."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Coordination scheme id.")
    group_by: str = Field(description="Grouping key: actor_id, actor_role, technology_id or layer.")
    group: str = Field(description="Value of the key.")
    capex_eur: float = Field(description="Investment at year 0, EUR.")
    opex_eur_per_year: float = Field(description="Operating cost per year, EUR/a.")
    present_value_eur: float = Field(description="Present value over the horizon, EUR.")


# ---- matching
def resolve_counts(model: SgamModel, endpoint_counts: Mapping[str, int] | None) -> dict[str, int]:
    """The model's default counts overridden by the scenario's; negative counts are an error.

    Keys the model does not use are kept (harmless); keys the scenario does not give keep their default.
    """
    counts = model.default_counts()
    for key, value in (endpoint_counts or {}).items():
        if int(value) != value or value < 0:
            raise SgamValidationError(
                f"endpoint_counts['{key}']: count must be an integer >= 0, got {value!r}"
            )
        counts[key] = int(value)
    return counts


def effective_requirement(model: SgamModel, event: InteractionEvent) -> EffectiveRequirement:
    """Combine the event's requirements into the strictest one."""
    reqs = [model.get("requirements", rid) for rid in event.requirement_ids]
    lat = [q.max_latency_ms for q in reqs if q.max_latency_ms is not None]
    rate = [q.min_data_rate_kbps for q in reqs if q.min_data_rate_kbps is not None]
    av = [q.min_availability_pct for q in reqs if q.min_availability_pct is not None]
    sec = [q.min_security_level for q in reqs if q.min_security_level is not None]
    return EffectiveRequirement(
        max_latency_ms=min(lat) if lat else None,
        min_data_rate_kbps=max(rate) if rate else None,
        min_availability_pct=max(av) if av else None,
        min_security_level=max(sec, key=lambda s: s.rank) if sec else None,
    )


def event_violations(
    tech: Technology, req: EffectiveRequirement, payload_bytes: int, link: Link
) -> list[str]:
    """Reasons why ``tech`` cannot carry one message of ``payload_bytes`` under ``req`` on ``link``."""
    out: list[str] = []
    if link.technology_ids and tech.id not in link.technology_ids:
        out.append("not a candidate of the link")
    if tech.max_length_km is not None and link.length_km_per_endpoint > tech.max_length_km:
        out.append(f"reach {tech.max_length_km} km < link length {link.length_km_per_endpoint} km")
    transfer_ms = tech.latency_ms + 8.0 * payload_bytes / tech.data_rate_kbps
    if req.max_latency_ms is not None and transfer_ms > req.max_latency_ms:
        out.append(f"transfer time {transfer_ms:.6g} ms > max latency {req.max_latency_ms:.6g} ms")
    if req.min_data_rate_kbps is not None and tech.data_rate_kbps < req.min_data_rate_kbps:
        out.append(f"data rate {tech.data_rate_kbps:.6g} kbit/s < {req.min_data_rate_kbps:.6g} kbit/s")
    if req.min_availability_pct is not None and tech.availability_pct < req.min_availability_pct:
        out.append(f"availability {tech.availability_pct:.6g} % < {req.min_availability_pct:.6g} %")
    if req.min_security_level is not None and tech.security_level.rank < req.min_security_level.rank:
        out.append(f"security {tech.security_level.value} < {req.min_security_level.value}")
    return out


def link_cost(
    tech: Technology, endpoints: int, length_km: float, volume_gb_per_year: float
) -> tuple[float, float]:
    """CAPEX (EUR) and OPEX (EUR/a) of serving ``endpoints`` endpoints with ``tech``.

    See the module docstring, step 3.
    """
    gateways = math.ceil(endpoints / tech.endpoints_per_gateway) if tech.endpoints_per_gateway > 0 else 0
    capex = (
        endpoints * (tech.capex_eur_per_endpoint + length_km * tech.capex_eur_per_km)
        + gateways * tech.capex_eur_per_gateway
    )
    opex = (
        endpoints * tech.opex_eur_per_endpoint_year
        + gateways * tech.opex_eur_per_gateway_year
        + volume_gb_per_year * tech.opex_eur_per_gb
    )
    return capex, opex


def match_scheme(
    model: SgamModel,
    scheme: str,
    endpoint_counts: Mapping[str, int] | None = None,
    horizon_years: int = 20,
    discount_rate: float = 0.04,
) -> list[LinkMatch]:
    """Match every link the scheme's events use to its cheapest feasible technology (module docstring)."""
    counts = resolve_counts(model, endpoint_counts)
    actors = model.index("actors")
    ios = model.index("information_objects")
    links = model.index("links")
    by_link: dict[str, list[InteractionEvent]] = {}
    for e in model.events:
        if scheme in e.schemes:
            by_link.setdefault(e.link_id, []).append(e)
    matches: list[LinkMatch] = []
    for link_id, events in by_link.items():
        link = links[link_id]
        n = max(counts[actors[link.actor_a_id].multiplicity], counts[actors[link.actor_b_id].multiplicity])
        bytes_per_day = {
            e.id: counts[e.multiplicity]
            * model.events_per_day(e)
            * e.rate_per_trigger
            * ios[e.information_object_id].payload_bytes
            for e in events
        }
        total_bytes_day = sum(bytes_per_day.values())
        load_kbps = total_bytes_day * 8.0 / 86400.0 / 1000.0 / n if n > 0 else 0.0
        volume_gb = total_bytes_day * 365.0 / 1e9
        reqs = {e.id: effective_requirement(model, e) for e in events}
        candidates: list[Candidate] = []
        serving: dict[str, list[str]] = {e.id: [] for e in events}
        for tech in model.technologies:
            reasons: list[str] = []
            for e in events:
                v = event_violations(tech, reqs[e.id], ios[e.information_object_id].payload_bytes, link)
                if v:
                    reasons.extend(f"{e.id}: {x}" for x in v)
                else:
                    serving[e.id].append(tech.id)
            if tech.data_rate_kbps < load_kbps:
                reasons.append(
                    f"average load {load_kbps:.6g} kbit/s > data rate {tech.data_rate_kbps:.6g} kbit/s"
                )
            capex, opex = link_cost(tech, n, link.length_km_per_endpoint, volume_gb)
            pv = present_value(capex, opex, tech.lifetime_years, horizon_years, discount_rate)
            candidates.append(Candidate(tech.id, not reasons, reasons, capex, opex, pv))
        feasible = [c for c in candidates if c.feasible]
        chosen = min(feasible, key=lambda c: c.present_value_eur) if feasible else None
        unserved: dict[str, str] = {}
        if chosen is None:
            culprits = [e for e in events if not serving[e.id]]
            for e in culprits:
                why = "; ".join(
                    f"{c.technology_id}: "
                    + ", ".join(x.split(": ", 1)[1] for x in c.reasons if x.startswith(e.id + ": "))
                    for c in candidates
                )
                unserved[e.id] = (
                    f"no technology meets its requirements ({why})" if candidates else "empty catalogue"
                )
            if not culprits:  # each event alone is servable, but not all of them on one technology
                for e in events:
                    unserved[e.id] = (
                        f"no single technology serves all events of link '{link_id}' together "
                        f"(average load {load_kbps:.6g} kbit/s per endpoint, or conflicting requirements)"
                    )
        matches.append(
            LinkMatch(
                scheme, link_id, [e.id for e in events], n, load_kbps, volume_gb, candidates, chosen, unserved
            )
        )
    return matches


def ict_costs(
    model: SgamModel,
    endpoint_counts: Mapping[str, int] | None = None,
    horizon_years: int = 20,
    discount_rate: float = 0.04,
) -> dict[str, SchemeIctCost]:
    """ICT cost of every scheme of the model: one line per costed link and per component.

    Parameters
    ----------
    model : SgamModel
        The SGAM/ICT model.
    endpoint_counts : mapping of multiplicity id to count, optional
        Counts from the scenario (``der``, ``aggregator``, ``primary_substation``, ...); missing keys take
        the model's defaults (``SgamModel.endpoint_counts``, documented assumptions).
    horizon_years : int
        Study horizon used to compare technologies by present value, years.
    discount_rate : float
        Real discount rate, a fraction (0.04 = 4 %).

    Returns
    -------
    dict
        Scheme id -> :class:`~sgam.costs.SchemeIctCost`. Unserved events are listed, not raised; call
        :func:`check_served` to raise them.
    """
    if isinstance(horizon_years, bool) or int(horizon_years) != horizon_years or horizon_years <= 0:
        raise SgamValidationError(f"horizon_years must be a whole number of years > 0, got {horizon_years!r}")
    if not discount_rate > -1:
        raise SgamValidationError(
            f"discount_rate must be a fraction > -1 (0.04 = 4 %), got {discount_rate!r}"
        )
    horizon_years = int(horizon_years)
    counts = resolve_counts(model, endpoint_counts)
    actors = model.index("actors")
    links = model.index("links")
    result: dict[str, SchemeIctCost] = {}
    for scheme in model.scheme_ids():
        lines: list[IctCostLine] = []
        unserved: dict[str, str] = {}
        for m in match_scheme(model, scheme, counts, horizon_years, discount_rate):
            unserved.update(m.unserved)
            if m.chosen is None:
                continue
            link = links[m.link_id]
            payer = actors[link.payer_id]
            tech = model.get("technologies", m.chosen.technology_id)
            lines.append(
                IctCostLine(
                    scheme=scheme,
                    link_id=m.link_id,
                    technology_id=tech.id,
                    actor_id=payer.id,
                    actor_role=payer.role.value,
                    layer="communication",
                    endpoints=m.endpoints,
                    capex_eur=m.chosen.capex_eur,
                    opex_eur_per_year=m.chosen.opex_eur_per_year,
                    lifetime_years=tech.lifetime_years,
                    item_kind="link",
                    present_value_eur=m.chosen.present_value_eur,
                    description=f"{link.name or link.id}: {', '.join(m.event_ids)}",
                    multiplicity=_link_multiplicity(actors, link, counts),
                )
            )
        for comp in model.components:
            if scheme not in comp.schemes:
                continue
            units = counts[comp.multiplicity]
            owner = actors[comp.actor_id]
            capex = units * comp.capex_eur_per_unit
            opex = units * comp.opex_eur_per_unit_year
            lines.append(
                IctCostLine(
                    scheme=scheme,
                    link_id=comp.id,
                    technology_id=comp.id,
                    actor_id=owner.id,
                    actor_role=owner.role.value,
                    layer=comp.layer.value,
                    endpoints=units,
                    capex_eur=capex,
                    opex_eur_per_year=opex,
                    lifetime_years=comp.lifetime_years,
                    item_kind="component",
                    present_value_eur=present_value(
                        capex, opex, comp.lifetime_years, horizon_years, discount_rate
                    ),
                    description=comp.name or comp.id,
                    multiplicity=comp.multiplicity,
                )
            )
        result[scheme] = SchemeIctCost(
            scheme=scheme, lines=lines, unserved_events=sorted(unserved), unserved_reasons=unserved
        )
    return result


def _link_multiplicity(actors: Mapping[str, Any], link: Link, counts: Mapping[str, int]) -> str:
    """The multiplicity giving a link its endpoints: the end with the larger count (as the load rule)."""
    a = actors[link.actor_a_id].multiplicity
    b = actors[link.actor_b_id].multiplicity
    return str(a if counts[a] >= counts[b] else b)


def check_served(costs: Mapping[str, SchemeIctCost]) -> None:
    """Raise :class:`~sgam.errors.UnservedEventError` naming every event no technology can serve."""
    problems = [
        f"{scheme}: event '{eid}': {cost.unserved_reasons.get(eid, 'no technology meets its requirements')}"
        for scheme, cost in costs.items()
        for eid in cost.unserved_events
    ]
    if problems:
        raise UnservedEventError("unserved interaction events: " + " | ".join(problems))


def breakdown(cost: SchemeIctCost, by: str) -> list[BreakdownRow]:
    """Sum a scheme's lines by ``actor_id``, ``actor_role``, ``technology_id`` or ``layer``.

    For ``technology_id`` only communication links are grouped by technology; components are summed in one
    row named ``(components)``.
    """
    if by not in ("actor_id", "actor_role", "technology_id", "layer"):
        raise SgamValidationError(f"breakdown by '{by}': use actor_id, actor_role, technology_id or layer")
    sums: dict[str, list[float]] = {}
    for line in cost.lines:
        key = str(getattr(line, by))
        if by == "technology_id" and line.item_kind == "component":
            key = "(components)"
        acc = sums.setdefault(key, [0.0, 0.0, 0.0])
        acc[0] += line.capex_eur
        acc[1] += line.opex_eur_per_year
        acc[2] += line.present_value_eur
    return [
        BreakdownRow(
            scheme=cost.scheme,
            group_by=by,
            group=k,
            capex_eur=v[0],
            opex_eur_per_year=v[1],
            present_value_eur=v[2],
        )
        for k, v in sorted(sums.items(), key=lambda kv: -kv[1][2])
    ]
