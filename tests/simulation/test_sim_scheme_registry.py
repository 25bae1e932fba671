"""The scheme registry (simulation/schemes.py) is the one place a scheme's behaviour in the day lives.

A sixth scheme added through the steps of simulation/README.md ("Add a scheme"): one registry entry,
here CMD, the common market cleared decentrally (the market layer's ``CM-D``), with the DSO markets'
curve messages of LMS. Reference: the run completes on the small scenario (1 h, 1 clearing), reports its
KPIs under its own id, clears without failure, and its message log carries exactly the flows the entry
names (aggregated curves DSO market -> TSO market, distribution bids to the DSO markets).
"""

from __future__ import annotations

import pytest
from sim_fixtures import small_spec

from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.market import SCHEMES as MARKET_ARCHITECTURES
from coordstudio.simulation.run import run_scheme
from coordstudio.simulation.scenario.build import build_scenario
from coordstudio.simulation.schemes import SCHEMES, MessageFlow, SchemeBehaviour


def test_every_scheme_id_comes_from_the_registry_and_clears_under_a_known_architecture() -> None:
    assert SCHEME_IDS == tuple(SCHEMES)
    for s in SCHEMES.values():
        assert s.market_architecture in MARKET_ARCHITECTURES, s.scheme_id
    # both common-market variants are schemes of the study, each cleared by its own architecture (issue 16)
    assert SCHEMES["CM"].market_architecture == "CM" and SCHEMES["CM-D"].market_architecture == "CM-D"
    assert SCHEME_IDS.index("CM-D") == SCHEME_IDS.index("CM") + 1


def test_a_sixth_scheme_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    toy = SchemeBehaviour(
        "CMD",
        "common market, decentralised: each DSO passes its least-cost curve to the common clearing",
        market_architecture="CM-D",
        local_market_role="dso_market",
        local_market_name="{dso}_MARKET",
        dso_messages=(
            MessageFlow("{dso}_MARKET", "dso_market", "TSO_MARKET", "tso_market", "aggregated_curve"),
            MessageFlow("TSO_MARKET", "tso_market", "{dso}_MARKET", "dso_market", "interface_activation"),
        ),
    )
    monkeypatch.setitem(SCHEMES, "CMD", toy)
    scen = build_scenario(small_spec(duration_h=1.0))
    run = run_scheme(scen, compute_schedule(scen), "CMD", None)
    k = run.kpis
    assert k.scheme == "CMD"
    assert k.failed_clearings == 0 and run.failed_clearings == []
    assert k.messages_by_pair["dso_market->tso_market"] >= 1  # the DSOs' curves (one clearing)
    assert k.messages_by_pair["agg_platform->dso_market"] > 0  # distribution bids go to the DSO markets
    assert "dso_dms->tso_market" not in k.messages_by_pair  # no CMS pre-qualification
    assert set(run.timings_s) <= {
        "forecast",
        "bidding",
        "market",
        "dispatch",
        "physics_devices",
        "physics_network",
        "measurements",
        "database",
    }
