"""Matching and ICT cost: hand-checked small case, finance vs numpy-financial, the default library."""

from __future__ import annotations

import numpy_financial as npf
import pytest

from coordstudio.sgam.errors import UnservedEventError
from coordstudio.sgam.library import default_model
from coordstudio.sgam.matching import breakdown, check_served, ict_costs, match_scheme, present_value
from coordstudio.sgam.model import SgamModel


def test_hand_checked_three_events_three_technologies(small: SgamModel) -> None:
    """Hand calculation (discount rate 0, horizon 20 years = lifetimes, so no replacement, no residual value).

    Link L1 (center <-> 10 devices, 1 km each) carries E1 and E2; link L2 (center <-> 2 stations) carries E3.

    E1: 100 B, R1 (latency <= 1000 ms, availability >= 99 %).
        A: 500 + 8*100/10 = 580 ms ok; B: 50 + 0.8 = 50.8 ms ok; C: 5.008 ms ok.
    E2: 10,000 B, R2 (latency <= 200 ms, security >= high).
        A: 500 + 80,000/10 = 8,500 ms and security medium: fails; B: 50 + 80 = 130 ms ok; C: 5.8 ms ok.
    E3: 100 B, R3 (availability >= 99.9 %): A and B (99.5 %) fail; C (99.99 %) ok.

    L1, n = max(1, 10) = 10 endpoints, volume = 365 * (10*1440*100 + 10*1*10,000) B = 0.5621 GB/a:
        B: CAPEX 10*300 = 3,000; OPEX 10*20 + 0.5621*1 = 200.5621; PV = 3,000 + 20*200.5621 = 7,011.242
        C: CAPEX 10*(1000 + 500*1) = 15,000; OPEX 500; PV = 25,000          -> B (E1 alone would take A,
        PV 1,000 + 20*100 = 3,000, but the link is shared and paid once: B only, not A + B = 10,011.242)
    L2, n = 2: C: CAPEX 2*(1000 + 500) = 3,000; OPEX 100; PV 5,000
    Scheme S: CAPEX 6,000 EUR, OPEX 300.5621 EUR/a, PV 12,011.242 EUR.
    """
    cost = ict_costs(small, None, horizon_years=20, discount_rate=0.0)["S"]
    assert cost.unserved_events == []
    lines = {line.link_id: line for line in cost.lines}
    assert set(lines) == {"L1", "L2"}
    assert lines["L1"].technology_id == "B" and lines["L1"].endpoints == 10
    assert lines["L1"].capex_eur == pytest.approx(3000.0, abs=1e-9)
    assert lines["L1"].opex_eur_per_year == pytest.approx(200.5621, abs=1e-9)
    assert lines["L1"].present_value_eur == pytest.approx(7011.242, abs=1e-6)
    assert lines["L2"].technology_id == "C" and lines["L2"].endpoints == 2
    assert lines["L2"].capex_eur == pytest.approx(3000.0, abs=1e-9)
    assert cost.capex_eur == pytest.approx(6000.0, abs=1e-9)
    assert cost.opex_eur_per_year == pytest.approx(300.5621, abs=1e-9)
    assert cost.present_value_eur == pytest.approx(12011.242, abs=1e-6)
    assert {line.actor_id for line in cost.lines} == {"center"}
    assert {line.actor_role for line in cost.lines} == {"dso"}
    by_tech = {row.group: row.capex_eur for row in breakdown(cost, "technology_id")}
    assert by_tech == {"B": pytest.approx(3000.0), "C": pytest.approx(3000.0)}
    # the feasibility reasons of the losing candidates are the hand-derived ones
    l1 = next(m for m in match_scheme(small, "S", None, 20, 0.0) if m.link_id == "L1")
    a = next(c for c in l1.candidates if c.technology_id == "A")
    assert not a.feasible
    assert any("E2: transfer time 8500 ms > max latency 200 ms" in r for r in a.reasons)
    assert any("E2: security medium < high" in r for r in a.reasons)


def test_cost_scales_with_scenario_endpoint_counts(small: SgamModel) -> None:
    """Doubling the devices (dev 10 -> 20) doubles L1's CAPEX: 20 * 300 = 6,000 EUR (hand)."""
    cost = ict_costs(small, {"dev": 20}, 20, 0.0)["S"]
    l1 = next(line for line in cost.lines if line.link_id == "L1")
    assert l1.endpoints == 20
    assert l1.capex_eur == pytest.approx(6000.0, abs=1e-9)


def test_unsatisfiable_latency_is_listed_and_raised(small: SgamModel) -> None:
    """R1 at 1 ms: A 580 ms, B 50.8 ms, C 5.008 ms all exceed it, so E1 (and L1) cannot be served."""
    small.requirements[0].max_latency_ms = 1.0
    costs = ict_costs(small, None, 20, 0.0)
    assert costs["S"].unserved_events == ["E1"]
    assert "5.008 ms > max latency 1 ms" in costs["S"].unserved_reasons["E1"]
    assert [line.link_id for line in costs["S"].lines] == ["L2"]  # not silently costed
    with pytest.raises(UnservedEventError, match=r"S: event 'E1'.*max latency 1 ms"):
        check_served(costs)


@pytest.mark.parametrize(
    ("capex", "opex", "life", "horizon", "rate"),
    [
        (1000.0, 50.0, 8.0, 20, 0.04),  # replacements at 8 and 16, residual 4/8 at 20
        (1000.0, 0.0, 25.0, 20, 0.07),  # residual 5/25 at 20
        (500.0, 10.0, 10.0, 20, 0.04),  # replacement at 10, no residual
    ],
)
def test_present_value_matches_numpy_financial(
    capex: float, opex: float, life: float, horizon: int, rate: float
) -> None:
    """Reference: numpy_financial.npv over the explicit yearly cash flows (tolerance 1e-9 relative)."""
    flows = [0.0] * (horizon + 1)
    t = 0.0
    last = 0.0
    while t < horizon:
        flows[int(t)] += capex
        last = t
        t += life
    for year in range(1, horizon + 1):
        flows[year] += opex
    flows[horizon] -= capex * (last + life - horizon) / life
    assert present_value(capex, opex, life, horizon, rate) == pytest.approx(npf.npv(rate, flows), rel=1e-9)


def test_default_library_schemes_have_distinct_costs_in_documented_order() -> None:
    """docs/sgam.md explains this order (PV over 20 years at 4 %): CMS < CM < LMS < SBR < IFM < CM-D."""
    costs = ict_costs(default_model(), None, 20, 0.04)
    check_served(costs)
    pv = {s: c.present_value_eur for s, c in costs.items()}
    assert sorted(pv, key=lambda s: pv[s]) == ["CMS", "CM", "LMS", "SBR", "IFM", "CM-D"]
    assert len({round(v) for v in pv.values()}) == len(pv)
    capex = {s: c.capex_eur for s, c in costs.items()}
    assert sorted(capex, key=lambda s: capex[s]) == ["CMS", "CM", "LMS", "SBR", "IFM", "CM-D"]
    roles = {line.actor_role for c in costs.values() for line in c.lines}
    assert {"tso", "dso", "aggregator", "der_owner", "market_operator", "commercial_party"} <= roles
    layers = {row.group for row in breakdown(costs["LMS"], "layer")}
    assert layers == {"communication", "component", "function", "information"}


def test_default_library_scales_with_der_count() -> None:
    """More DER -> more gateway and DER-link cost in every scheme (linear in the count, same choice)."""
    base = ict_costs(default_model(), {"der": 1000}, 20, 0.04)
    more = ict_costs(default_model(), {"der": 4000}, 20, 0.04)
    for scheme in base:
        assert more[scheme].capex_eur > base[scheme].capex_eur
    gw = {s: next(x for x in c.lines if x.link_id == "C-DER-GW").capex_eur for s, c in more.items()}
    assert set(gw.values()) == {4000 * 300.0}


@pytest.mark.parametrize(
    ("counts", "horizon", "rate", "match"),
    [
        ({"dev": -1}, 20, 0.04, r"endpoint_counts\['dev'\]"),
        ({"dev": 2.5}, 20, 0.04, r"endpoint_counts\['dev'\]"),
        (None, 0, 0.04, "horizon_years"),
        (None, 20, -1.0, "discount_rate"),
    ],
)
def test_bad_matching_arguments_raise_clear_errors(small: SgamModel, counts, horizon, rate, match) -> None:
    from coordstudio.sgam.errors import SgamValidationError

    with pytest.raises(SgamValidationError, match=match):
        ict_costs(small, counts, horizon, rate)
