"""Helpers of the ICT-check tests: a three-event SGAM model, a one-hour scenario, real results databases.

(A module name of its own, so that another folder's ``conftest`` cannot shadow it when the suite runs.)

The results databases are written with the platform's own ``simulation.db.ResultsWriter`` (the writer
the simulation uses), so the check reads exactly the schema the platform produces.

Hand-built case (all hand computations in ``test_ictcheck.py``):

* actors ``cp_platform`` (role commercial_party, 4 instances from ``ScenarioSpec.commercial_parties``) and
  ``tso_market`` (role tso, 1 instance); market clearing every 900 s (96 triggers a day);
* link ``L1`` (0 km) carries ``E1`` (cp -> tso, ``order`` 1000 B, once per clearing per party, latency
  <= 1000 ms) and ``E3`` (cp -> tso, ``report`` 100 B, daily, latency <= 1 h); link ``L2`` (1 km per
  endpoint) carries ``E2`` (tso -> cp, ``result`` 5000 B, once per clearing per party, latency <= 2000 ms);
* technologies (lifetime 20 years, no gateway): ``slow`` 100 ms, 10 kbit/s, CAPEX 10 EUR/endpoint,
  OPEX 1 EUR/endpoint-year; ``mid`` 50 ms, 100 kbit/s, 100 EUR/endpoint + 50 EUR/km, 10 EUR/endpoint-year;
  ``fast`` 10 ms, 10 Mbit/s, 1000 EUR/endpoint, 100 EUR/endpoint-year.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.study import Study
from coordstudio.sgam.model import SgamModel
from coordstudio.simulation import db as simdb
from coordstudio.simulation.scenario import ScenarioSpec, TimingSpec


def small_model() -> SgamModel:
    """The three-event, three-technology model of the module docstring."""
    tech = {"availability_pct": 99.9, "security_level": "high", "lifetime_years": 20, "source": "test"}
    return SgamModel.model_validate(
        {
            "market_clearing_period_s": 900.0,
            "time_step_s": 900.0,
            "schemes": [{"id": "CMS"}],
            "endpoint_counts": [{"id": "commercial_party", "count": 1}, {"id": "tso", "count": 1}],
            "actors": [
                {"id": "cp_platform", "role": "commercial_party", "domain": "der", "zone": "market",
                 "multiplicity": "commercial_party"},
                {"id": "tso_market", "role": "tso", "domain": "transmission", "zone": "market",
                 "multiplicity": "tso"},
            ],
            "requirements": [
                {"id": "R1", "max_latency_ms": 1000.0},
                {"id": "R2", "max_latency_ms": 2000.0},
                {"id": "R3", "max_latency_ms": 3_600_000.0},
            ],
            "information_objects": [
                {"id": "order", "payload_bytes": 1000},
                {"id": "result", "payload_bytes": 5000},
                {"id": "report", "payload_bytes": 100},
            ],
            "links": [
                {"id": "L1", "actor_a_id": "cp_platform", "actor_b_id": "tso_market",
                 "payer_id": "tso_market"},
                {"id": "L2", "actor_a_id": "cp_platform", "actor_b_id": "tso_market",
                 "payer_id": "tso_market", "length_km_per_endpoint": 1.0},
            ],
            "events": [
                {"id": "E1", "schemes": ["CMS"], "producer_id": "cp_platform", "receiver_id": "tso_market",
                 "information_object_id": "order", "link_id": "L1", "trigger": "market_clearing",
                 "multiplicity": "commercial_party", "requirement_ids": ["R1"]},
                {"id": "E2", "schemes": ["CMS"], "producer_id": "tso_market", "receiver_id": "cp_platform",
                 "information_object_id": "result", "link_id": "L2", "trigger": "market_clearing",
                 "multiplicity": "commercial_party", "requirement_ids": ["R2"]},
                {"id": "E3", "schemes": ["CMS"], "producer_id": "cp_platform", "receiver_id": "tso_market",
                 "information_object_id": "report", "link_id": "L1", "trigger": "daily",
                 "multiplicity": "commercial_party", "requirement_ids": ["R3"]},
            ],
            "technologies": [
                {"id": "slow", "latency_ms": 100.0, "data_rate_kbps": 10.0, "capex_eur_per_endpoint": 10.0,
                 "opex_eur_per_endpoint_year": 1.0, **tech},
                {"id": "mid", "latency_ms": 50.0, "data_rate_kbps": 100.0, "capex_eur_per_endpoint": 100.0,
                 "capex_eur_per_km": 50.0, "opex_eur_per_endpoint_year": 10.0, **tech},
                {"id": "fast", "latency_ms": 10.0, "data_rate_kbps": 10_000.0,
                 "capex_eur_per_endpoint": 1000.0, "opex_eur_per_endpoint_year": 100.0, **tech},
            ],
        }
    )


def small_study(commercial_parties: int = 4) -> Study:
    """The small model on a one-hour scenario with ``commercial_parties`` parties, 15-min intervals."""
    scenario = ScenarioSpec(
        name="ictcheck-test",
        commercial_parties=commercial_parties,
        timing=TimingSpec(duration_h=1.0, horizon_min=15, granularity_min=15, clearing_frequency_min=15,
                          physical_step_min=15),
        schemes=["CMS"],
    )
    return Study(sgam=small_model(), scenario=scenario, cba=CbaParameters())


def hand_log() -> list[dict[str, Any]]:
    """The hand-built message log (roles named by economic role, as the platform logs them).

    E1 (commercial_party -> tso, ``order``): at 0, 15, 30, 45 min each of the 4 parties sends 8 messages
    of 1500 B, except party 1 at 30 min, whose 8 messages have 1000 B. E2 (tso -> commercial_party,
    ``result``): at every interval one 500 B message to each party. One message type no event realises:
    commercial_party -> tso ``weather`` (3 messages of 40 B at 0 min). E3 never occurs.
    """
    rows: list[dict[str, Any]] = []
    for t in (0.0, 15.0, 30.0, 45.0):
        for k in range(4):
            size = 1000 if (t == 30.0 and k == 1) else 1500
            rows.append(dict(time_min=t, sender=f"cp{k}", sender_role="commercial_party", receiver="tso",
                             receiver_role="tso", information_object="order", n_messages=8, bytes=8 * size))
            rows.append(dict(time_min=t + 1.0, sender="tso", sender_role="tso", receiver=f"cp{k}",
                             receiver_role="commercial_party", information_object="result", n_messages=1,
                             bytes=500))
    rows.append(dict(time_min=0.0, sender="cp0", sender_role="commercial_party", receiver="tso",
                     receiver_role="tso", information_object="weather", n_messages=3, bytes=120))
    return rows


def write_run(url: str, study: Study, rows: list[dict[str, Any]], status: str = "completed",
              scheme: str = "CMS") -> int:
    """Write one run into the results database with the platform's own writer; return its run id."""
    spec_json = simdb.spec_json_of(study.scenario)
    writer = simdb.ResultsWriter(url, scheme, simdb.fingerprint_of(spec_json), study.scenario.name, spec_json)
    writer.add("messages", [dict(r) for r in rows])
    writer.finish(status, n_clearings=4)
    return writer.run_id


def results_db_factory(tmp_path: Path) -> Callable[..., str]:
    """Factory: write a run of ``study`` with ``rows`` and ``status`` into a fresh SQLite file; its URL."""

    def make(study: Study, rows: list[dict[str, Any]] | None = None, status: str = "completed",
             name: str = "results.sqlite") -> str:
        url = f"sqlite:///{tmp_path / name}"
        write_run(url, study, hand_log() if rows is None else rows, status)
        return url

    return make
