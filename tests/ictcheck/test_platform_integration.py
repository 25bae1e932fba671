"""The ICT check on a real platform run: one simulated hour of CMS on the default scenario.

Reference: the results database itself. Every message the platform logged is accounted for exactly once,
either in the row of the event it realises or in the list of message types with no event (sum of
``n_messages`` over both equals ``SELECT SUM(n_messages)`` of the run); the table has one row per CMS event
of the model. About 10-20 s on this machine (grid building dominates).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from coordstudio.cba.ictcheck import ict_check
from coordstudio.cba.study import Study
from coordstudio.simulation.kpis import SCHEME_IDS
from tests.one_day_study import one_day_default_study


@pytest.fixture(scope="module")
def one_hour_cms(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, str, Any]:
    from coordstudio.simulation.simulate import simulate

    data = one_day_default_study().model_dump(mode="json")  # one day's run, as ict_check reads it
    data["scenario"]["timing"]["duration_h"] = data["scenario"]["timing"]["clearing_frequency_min"] / 60
    study = Study.model_validate(data)  # one clearing period of the default scenario, validated
    url = f"sqlite:///{tmp_path_factory.mktemp('platform') / 'results.sqlite'}"
    simulate(study.scenario, ["CMS"], url)
    return study, url, ict_check(study, url)


def test_every_logged_message_is_accounted_for_once(one_hour_cms: tuple[Study, str, Any]) -> None:
    """sum(event rows) + sum(unmatched types) == SUM(n_messages) of the run in the database (exact)."""
    from coordstudio.simulation import db as simdb

    study, url, result = one_hour_cms
    engine = sa.create_engine(url)
    with engine.connect() as conn:  # SQL rows or columnar chunks alike (issue 21)
        total = int(simdb.read_table(conn, "messages", columns=["n_messages"])["n_messages"].sum())
    engine.dispose()
    mapped = sum(r.n_messages for r in result.events)
    unmatched = sum(t.n_messages for t in result.unmatched_messages)
    assert total > 0
    assert mapped + unmatched == total
    assert sum(t.n_messages for t in result.message_types) == total


def test_table_covers_the_cms_events_and_names_the_rest(one_hour_cms: tuple[Study, str, Any]) -> None:
    """One row per CMS event of the default library; the other schemes are reported as not
    simulated; every unmatched type carries a hint."""
    study, _, result = one_hour_cms
    assert sorted(r.event_id for r in result.events) == sorted(
        e.id for e in study.sgam.events if "CMS" in e.schemes
    )
    assert result.schemes_not_simulated == [s for s in SCHEME_IDS if s != "CMS"]
    assert all(t.hint for t in result.unmatched_messages)
    assert any(r.verdict != "not_observed" for r in result.events)
