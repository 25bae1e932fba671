"""Shared fixtures of the SGAM tests: the hand-checked small model (3 events x 3 technologies)."""

from __future__ import annotations

import pytest

from coordstudio.sgam.model import (
    Actor,
    ActorRole,
    Domain,
    EndpointCount,
    InformationObject,
    InteractionEvent,
    Link,
    Requirement,
    Scheme,
    SecurityLevel,
    SgamModel,
    Technology,
    Trigger,
    Zone,
)


def small_model() -> SgamModel:
    """Three events on two links, three technologies; the costs are worked out in test_matching.py."""
    return SgamModel(
        market_clearing_period_s=300,
        time_step_s=60,
        schemes=[Scheme(id="S", name="Small")],
        endpoint_counts=[
            EndpointCount(id="hub", count=1),
            EndpointCount(id="dev", count=10),
            EndpointCount(id="st", count=2),
        ],
        actors=[
            Actor(
                id="center",
                role=ActorRole.DSO,
                domain=Domain.DISTRIBUTION,
                zone=Zone.OPERATION,
                multiplicity="hub",
            ),
            Actor(
                id="device", role=ActorRole.DER_OWNER, domain=Domain.DER, zone=Zone.FIELD, multiplicity="dev"
            ),
            Actor(
                id="station",
                role=ActorRole.DSO,
                domain=Domain.DISTRIBUTION,
                zone=Zone.STATION,
                multiplicity="st",
            ),
        ],
        requirements=[
            Requirement(id="R1", max_latency_ms=1000, min_availability_pct=99),
            Requirement(id="R2", max_latency_ms=200, min_security_level=SecurityLevel.HIGH),
            Requirement(id="R3", min_availability_pct=99.9),
        ],
        information_objects=[
            InformationObject(id="small", payload_bytes=100),
            InformationObject(id="big", payload_bytes=10_000),
        ],
        links=[
            Link(
                id="L1", actor_a_id="center", actor_b_id="device", payer_id="center", length_km_per_endpoint=1
            ),
            Link(
                id="L2",
                actor_a_id="center",
                actor_b_id="station",
                payer_id="center",
                length_km_per_endpoint=1,
            ),
        ],
        events=[
            InteractionEvent(
                id="E1",
                schemes=["S"],
                producer_id="device",
                receiver_id="center",
                information_object_id="small",
                link_id="L1",
                trigger=Trigger.TIME_STEP,
                multiplicity="dev",
                requirement_ids=["R1"],
            ),
            InteractionEvent(
                id="E2",
                schemes=["S"],
                producer_id="center",
                receiver_id="device",
                information_object_id="big",
                link_id="L1",
                trigger=Trigger.DAILY,
                multiplicity="dev",
                requirement_ids=["R2"],
            ),
            InteractionEvent(
                id="E3",
                schemes=["S"],
                producer_id="station",
                receiver_id="center",
                information_object_id="small",
                link_id="L2",
                trigger=Trigger.MARKET_CLEARING,
                multiplicity="st",
                requirement_ids=["R3"],
            ),
        ],
        technologies=[
            Technology(
                id="A",
                latency_ms=500,
                data_rate_kbps=10,
                availability_pct=99.5,
                security_level=SecurityLevel.MEDIUM,
                capex_eur_per_endpoint=100,
                opex_eur_per_endpoint_year=10,
                lifetime_years=20,
                source="assumption (test)",
            ),
            Technology(
                id="B",
                latency_ms=50,
                data_rate_kbps=1000,
                availability_pct=99.5,
                security_level=SecurityLevel.HIGH,
                capex_eur_per_endpoint=300,
                opex_eur_per_endpoint_year=20,
                opex_eur_per_gb=1.0,
                lifetime_years=20,
                source="assumption (test)",
            ),
            Technology(
                id="C",
                latency_ms=5,
                data_rate_kbps=100_000,
                availability_pct=99.99,
                security_level=SecurityLevel.VERY_HIGH,
                capex_eur_per_endpoint=1000,
                capex_eur_per_km=500,
                opex_eur_per_endpoint_year=50,
                lifetime_years=20,
                source="assumption (test)",
            ),
        ],
    )


@pytest.fixture
def small() -> SgamModel:
    return small_model()
