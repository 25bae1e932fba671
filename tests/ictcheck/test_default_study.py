"""The ICT check on the embedded default study, with a message log that realises every event as stated.

Reference: the SGAM model's own stated figures. For every event of every scheme the log carries exactly
``N = m f_d r`` messages per day (instances x triggers per day x messages per trigger) of the stated
payload, spread evenly over the 96 quarter-hours when ``N`` is a multiple of 96 and otherwise sent in the
first quarter-hour. Then the measured rate and payload equal the stated ones (ratio 1, inside any
tolerance), nothing is late on the stated technology (the matching already checked the stated payload
against the latency), and the table must hold one row per event and scheme of the model with no
event under-specified. The log is one day's: the study is the default study on its one day
(tests/one_day_study.py), since the check reads one run per scheme. (The full simulation of the
default study takes minutes and is run by hand: see docs/ict-check.md.)
"""

from __future__ import annotations

from typing import Any

import pytest

from coordstudio.cba.ictcheck import ict_check
from coordstudio.simulation.kpis import SCHEME_IDS
from tests.one_day_study import one_day_default_study


def stated_log(study: Any, scheme: str) -> list[dict[str, Any]]:
    """Rows realising every event of ``scheme`` exactly as the model states it (see module docstring)."""
    from coordstudio.sgam.matching import resolve_counts
    from coordstudio.simulation.scenario import endpoint_counts

    model = study.sgam
    counts = resolve_counts(model, endpoint_counts(study.scenario))
    ios = model.index("information_objects")
    rows: list[dict[str, Any]] = []
    for e in model.events:
        if scheme not in e.schemes:
            continue
        n_day = counts[e.multiplicity] * model.events_per_day(e) * e.rate_per_trigger
        assert n_day == int(n_day), f"{e.id}: the default model's daily count is a whole number"
        n_day = int(n_day)
        size = ios[e.information_object_id].payload_bytes
        slots = [(k * 15.0, n_day // 96) for k in range(96)] if n_day % 96 == 0 else [(0.0, n_day)]
        for t, n in slots:
            if n:
                rows.append(dict(time_min=t, sender="x", sender_role=e.producer_id, receiver="y",
                                 receiver_role=e.receiver_id, information_object=e.information_object_id,
                                 n_messages=n, bytes=n * size))
    return rows


@pytest.fixture(scope="module")
def default_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from ictcheck_fixtures import write_run

    study = one_day_default_study()
    url = f"sqlite:///{tmp_path_factory.mktemp('default') / 'results.sqlite'}"
    for scheme in study.sgam.scheme_ids():
        write_run(url, study, stated_log(study, scheme), scheme=scheme)
    return study, ict_check(study, url)


def test_table_covers_every_event_of_every_scheme(default_result: Any) -> None:
    """One row per (scheme, event) of the default model: every scheme, every event listed for its schemes."""
    study, result = default_result
    expected = {(s, e.id) for e in study.sgam.events for s in e.schemes}
    got = [(r.scheme, r.event_id) for r in result.events]
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert {s.scheme for s in result.schemes} == set(SCHEME_IDS)
    assert result.unmatched_messages == [] and result.unseen_events == []


def test_traffic_as_stated_is_consistent_and_costs_the_same(default_result: Any) -> None:
    """Measured = stated (ratio 1 within 1e-9) for rate and payload; no late message; every verdict
    consistent; re-matching on these figures picks the same technologies (same bytes per day, same p95
    payload, and the peak per endpoint is below the stated technology's data rate), so every scheme's ICT
    present value is unchanged (|delta| < 1e-6 EUR)."""
    _, result = default_result
    for r in result.events:
        assert r.measured_messages_per_h == pytest.approx(r.stated_messages_per_h, rel=1e-9), r.event_id
        assert r.payload_p95_bytes == pytest.approx(r.stated_payload_bytes, rel=1e-9), r.event_id
        assert r.late_share_frac == 0.0, r.event_id
        assert r.verdict == "consistent", (r.scheme, r.event_id, r.reasons)
        assert r.measured_technology_id == r.technology_id, (r.scheme, r.event_id)
    for s in result.schemes:
        assert s.delta_pv_eur == pytest.approx(0.0, abs=1e-6), s.scheme


def test_schemes_without_a_run_are_named(tmp_path: Any) -> None:
    """Only CMS simulated: the table holds CMS's 10 events and the other schemes are listed as not
    simulated (10 = E-SETPOINT, E-DER-MEAS, E-METER, E-HUB-AGG + six CMS-* events of the library)."""
    from ictcheck_fixtures import write_run

    study = one_day_default_study()
    url = f"sqlite:///{tmp_path / 'cms_only.sqlite'}"
    write_run(url, study, stated_log(study, "CMS"), scheme="CMS")
    result = ict_check(study, url)
    assert {r.scheme for r in result.events} == {"CMS"}
    assert len(result.events) == 10
    assert result.schemes_not_simulated == [s for s in SCHEME_IDS if s != "CMS"]
