"""ICT check on a hand-built message log (see ``ictcheck_fixtures.py`` for the model, scenario and log).

Reference: hand calculation, written out in each docstring. Present values use the matching's
convention with lifetime = horizon = 20 years, r = 4 %: no replacement, no residual value, so
``PV = CAPEX + OPEX a`` with the annuity factor ``a = (1 - 1.04^-20) / 0.04 = 13.590326``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ictcheck_fixtures import hand_log, small_study, write_run

from coordstudio.cba.ictcheck import ict_check, map_message_types, weighted_p95
from coordstudio.simulation.errors import ResultsDatabaseError

ANNUITY = (1 - 1.04**-20) / 0.04
REL = 1e-9


def test_annuity_factor_is_the_hand_value() -> None:
    """a = (1 - 1.04^-20) / 0.04 = 13.590326 (to 6 decimals, textbook table value)."""
    assert ANNUITY == pytest.approx(13.590326, abs=1e-6)


def test_log_exceeding_the_stated_rate_is_under_specified_and_rematched(
    results_db: Callable[..., str],
) -> None:
    """E1 (cp -> tso ``order``) exceeds its stated rate and payload; the hand-computed verdict and technology.

    Stated: 4 parties x 96 clearings/day x 1 message = 384 /day = 16 /h, 1000 B. Matching on stated
    figures: ``slow`` takes 100 + 8 x 1000 / 10 = 900 ms <= 1000 ms and is cheapest, so L1 = slow.

    Measured over 1 h: 4 intervals x 4 parties x 8 messages = 128 messages -> 128 /h (8 x stated: under-
    specified). Sizes: 120 messages of 1500 B and 8 of 1000 B, so mean = (120 x 1500 + 8 x 1000) / 128 =
    1468.75 B, p95 = 1500 B (the 95 % point 121.6 lies in the 1500 B block), max 1500 B. On ``slow`` a
    1500 B message takes 100 + 1200 = 1300 ms > 1000 ms: late share = 120 / 128 = 0.9375.
    Busiest interval: 0 min (4 x 12000 = 48000 B; the 30-min one has 44000 B) -> 48000 x 8 / 900 s / 1000 =
    0.42667 kbit/s, per endpoint (4) 0.10667 kbit/s.

    Re-matching (p95 1500 B, bytes/day 188000 x 24): ``slow`` fails the latency (1300 ms), ``mid`` takes
    50 + 8 x 1500 / 100 = 170 ms -> L1 = mid. PV(slow) = 4 x 10 + 4 x 1 x a = 94.3613 EUR; PV(mid) =
    4 x 100 + 4 x 10 x a = 943.6131 EUR; difference +849.2517 EUR.
    """
    study = small_study()
    result = ict_check(study, results_db(study))
    e1 = next(r for r in result.events if r.event_id == "E1")
    assert e1.verdict == "under_specified"
    assert e1.stated_messages_per_h == pytest.approx(16.0, rel=REL)
    assert e1.measured_messages_per_h == pytest.approx(128.0, rel=REL)
    assert e1.payload_mean_bytes == pytest.approx(1468.75, rel=REL)
    assert e1.payload_p95_bytes == pytest.approx(1500.0, rel=REL)
    assert e1.payload_max_bytes == pytest.approx(1500.0, rel=REL)
    assert e1.late_share_frac == pytest.approx(0.9375, rel=REL)
    assert e1.busiest_interval_start_min == pytest.approx(0.0, abs=1e-12)
    assert e1.peak_data_rate_kbps == pytest.approx(48000 * 8 / 900 / 1000, rel=REL)
    assert e1.peak_data_rate_kbps_per_endpoint == pytest.approx(48000 * 8 / 900 / 1000 / 4, rel=REL)
    assert e1.technology_id == "slow"
    assert e1.measured_technology_id == "mid"
    assert e1.link_pv_stated_eur == pytest.approx(40 + 4 * ANNUITY, rel=REL)
    assert e1.link_pv_measured_eur == pytest.approx(400 + 40 * ANNUITY, rel=REL)
    assert e1.link_delta_pv_eur == pytest.approx(360 + 36 * ANNUITY, rel=REL)


def test_smaller_payload_than_stated_is_over_specified(results_db: Callable[..., str]) -> None:
    """E2 (tso -> cp ``result``, stated 5000 B, latency <= 2000 ms) carries 500 B messages: over-specified.

    Stated: ``slow`` needs 100 + 8 x 5000 / 10 = 4100 ms > 2000 ms, ``mid`` 50 + 400 = 450 ms -> L2 = mid,
    PV = 4 x (100 + 1 km x 50) + 4 x 10 x a = 600 + 40 a = 1143.6131 EUR. Measured: 16 messages in 1 h =
    16 /h (as stated), p95 500 B < 0.9 x 5000 B; ``slow`` now takes 100 + 400 = 500 ms -> L2 = slow,
    PV = 40 + 4 a = 94.3613 EUR: a cheaper technology serves the measured traffic.
    """
    study = small_study()
    result = ict_check(study, results_db(study))
    e2 = next(r for r in result.events if r.event_id == "E2")
    assert e2.verdict == "over_specified"
    assert e2.measured_messages_per_h == pytest.approx(16.0, rel=REL)
    assert e2.payload_p95_bytes == pytest.approx(500.0, rel=REL)
    assert (e2.technology_id, e2.measured_technology_id) == ("mid", "slow")
    assert e2.link_delta_pv_eur == pytest.approx((40 + 4 * ANNUITY) - (600 + 40 * ANNUITY), rel=REL)


def test_scheme_cost_difference_unseen_event_and_unmatched_type(results_db: Callable[..., str]) -> None:
    """Scheme total and the two lists.

    Delta = L1 (+360 + 36 a) + L2 (-560 - 36 a) = -200 EUR exactly (the OPEX terms cancel); stated PV =
    (40 + 4 a) + (600 + 40 a) = 640 + 44 a = 1237.9744 EUR, so -16.16 % (material at 5 %). E3 (daily
    report) never occurs; ``commercial_party -> tso weather`` (3 messages, 120 B) realises no event.
    """
    study = small_study()
    result = ict_check(study, results_db(study))
    (cms,) = result.schemes
    assert cms.stated_pv_eur == pytest.approx(640 + 44 * ANNUITY, rel=REL)
    assert cms.delta_pv_eur == pytest.approx(-200.0, abs=1e-6)
    assert cms.delta_frac == pytest.approx(-200.0 / (640 + 44 * ANNUITY), rel=1e-9)
    assert cms.material is True
    assert cms.counts == {"under_specified": 1, "over_specified": 1, "not_observed": 1}
    assert [(u.scheme, u.event_id) for u in result.unseen_events] == [("CMS", "E3")]
    assert result.schemes_not_simulated == []
    assert result.measured_ict["CMS"].present_value_eur == pytest.approx(cms.measured_pv_eur, rel=REL)
    measured = {ln.link_id: ln.technology_id for ln in result.measured_ict["CMS"].lines}
    stated = {ln.link_id: ln.technology_id for ln in result.stated_ict["CMS"].lines}
    assert (stated, measured) == ({"L1": "slow", "L2": "mid"}, {"L1": "mid", "L2": "slow"})
    assert [(t.sender_role, t.receiver_role, t.information_object, t.n_messages, t.bytes_total)
            for t in result.unmatched_messages] == [("commercial_party", "tso", "weather", 3, 120)]
    link = {lk.link_id: lk for lk in result.links}
    assert link["L1"].peak_load_kbps_per_endpoint == pytest.approx(48000 * 8 / 900 / 1000 / 4, rel=REL)
    assert link["L1"].load_frac == pytest.approx(48000 * 8 / 900 / 1000 / 4 / 10.0, rel=REL)


def test_log_matching_the_statement_is_consistent(results_db: Callable[..., str]) -> None:
    """E1 with exactly the stated traffic (1 message of 1000 B per party and interval: 16 /h, 1000 B) is
    consistent; L1 stays on ``slow`` (900 ms <= 1000 ms) and the link PV does not change (delta 0)."""
    study = small_study()
    rows = [dict(time_min=t, sender=f"cp{k}", sender_role="cp_platform", receiver="tso",
                 receiver_role="tso_market", information_object="order", n_messages=1, bytes=1000)
            for t in (0.0, 15.0, 30.0, 45.0) for k in range(4)]
    result = ict_check(study, results_db(study, rows))
    e1 = next(r for r in result.events if r.event_id == "E1")
    assert e1.verdict == "consistent"
    assert e1.late_share_frac == 0.0
    assert e1.measured_technology_id == "slow"
    assert e1.link_delta_pv_eur == pytest.approx(0.0, abs=1e-9)


def test_mapping_prefers_the_most_specific_actor_name() -> None:
    """Names are matched by actor id (3), owner (2), role or multiplicity (1): ``cp_platform``/``tso_market``
    (ids, 6) and ``commercial_party``/``tso`` (roles, 2) both map ``order`` to E1; an unknown role maps to
    no event; ``orders`` (plural) normalises to ``order``."""
    model = small_study().sgam
    got = map_message_types(model, "CMS", [
        ("cp_platform", "tso_market", "order"),
        ("commercial_party", "tso", "Orders"),
        ("aggregator", "tso", "order"),
    ])
    assert got == {
        ("cp_platform", "tso_market", "order"): "E1",
        ("commercial_party", "tso", "Orders"): "E1",
        ("aggregator", "tso", "order"): "",
    }


def test_weighted_p95_hand_values() -> None:
    """Sizes 100 (x 94) and 900 (x 6): 95 % of 100 messages = 95 > 94, so p95 = 900; with 95 x 100 B the
    95th message is still 100 B, so p95 = 100."""
    import numpy as np

    assert weighted_p95(np.array([900.0, 100.0]), np.array([6.0, 94.0])) == 900.0
    assert weighted_p95(np.array([900.0, 100.0]), np.array([5.0, 95.0])) == 100.0


# ------------------------------------------------------------------------------------------ bad input
def test_results_of_another_study_are_refused(tmp_path: Path) -> None:
    """A database written for a scenario with 5 commercial parties is not this study's (4 parties):
    ResultsDatabaseError naming the file and saying it belongs to another study."""
    path = tmp_path / "other.sqlite"
    write_run(f"sqlite:///{path}", small_study(commercial_parties=5), hand_log())
    with pytest.raises(ResultsDatabaseError, match=r"other\.sqlite.*another study"):
        ict_check(small_study(), path)


def test_cancelled_run_is_refused(results_db: Callable[..., str], tmp_path: Path) -> None:
    """The latest CMS run is marked cancelled: its log is incomplete -> ResultsDatabaseError naming the
    file, the run and the status."""
    study = small_study()
    url = results_db(study, status="cancelled", name="cancelled.sqlite")
    with pytest.raises(
        ResultsDatabaseError, match=r"cancelled\.sqlite: incomplete run\(s\) 1 \(CMS\) cancelled"
    ):
        ict_check(study, url)


def test_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    """A path that does not exist raises ResultsDatabaseError naming it, and no empty file appears."""
    path = tmp_path / "nothing.sqlite"
    with pytest.raises(ResultsDatabaseError, match=r"nothing\.sqlite: file not found"):
        ict_check(small_study(), path)
    assert not path.exists()


def test_a_file_that_is_not_a_results_database_is_refused_untouched(tmp_path: Path) -> None:
    """A study YAML given as --results, and an SQLite file of another application: ResultsDatabaseError
    naming the file; the SQLite file keeps exactly its one table (nothing is created in it)."""
    import sqlite3

    text = tmp_path / "study.yaml"
    text.write_text("schema_version: 1\n", encoding="utf-8")
    with pytest.raises(ResultsDatabaseError, match=r"study\.yaml: not a results database"):
        ict_check(small_study(), text)
    other = tmp_path / "other_app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(ResultsDatabaseError, match=r"other_app\.sqlite: not a results database.*runs"):
        ict_check(small_study(), other)
    with sqlite3.connect(other) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert names == ["notes"]


def test_cli_turns_a_cancelled_run_into_one_line_and_exit_code_2(
    results_db: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through ``main.main`` (the lead's entry point, which maps typed errors to exit code 2): a cancelled
    run gives exit code 2 and one stderr line naming the database file."""
    import coordstudio.main as entry
    from coordstudio.cba.study import save_study

    study = small_study()
    save_study(study, tmp_path / "study.yaml")
    url = results_db(study, status="cancelled", name="killed.sqlite")
    argv = ["ict-check", str(tmp_path / "study.yaml"), "--results", url, "--out", str(tmp_path / "o")]
    code = entry.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "killed.sqlite" in err[0] and "cancelled" in err[0]


def test_measured_model_carries_the_measured_figures() -> None:
    """The re-matching copy for E1 with p95 1500 B, 188,000 B in 1 h (4,512,000 B/day) and a link peak of
    0.10667 kbit/s per endpoint: information object ``order@E1`` of 1500 B; rate_per_trigger =
    4,512,000 / (4 parties x 96 clearings x 1500 B) = 7.8333; requirement ``E1@measured`` keeps the
    1000 ms latency and asks 0.10667 kbit/s. E2 and E3 keep their stated figures."""
    from coordstudio.cba.ictcheck import measured_model
    from coordstudio.sgam.matching import resolve_counts

    model = small_study().sgam
    counts = resolve_counts(model, {"commercial_party": 4, "tso": 1})
    peak = 48000 * 8 / 900 / 1000 / 4
    copy = measured_model(model, "CMS", {"E1": (1500.0, 188000.0 * 24, peak)}, counts)
    e1 = copy.get("events", "E1")
    assert e1.information_object_id == "order@E1"
    assert copy.get("information_objects", "order@E1").payload_bytes == 1500
    assert e1.rate_per_trigger == pytest.approx(4_512_000 / (4 * 96 * 1500), rel=1e-12)
    req = copy.get("requirements", "E1@measured")
    assert (req.max_latency_ms, req.min_data_rate_kbps) == (1000.0, pytest.approx(peak, rel=1e-12))
    assert copy.get("events", "E2") == model.get("events", "E2")
    assert copy.get("events", "E3") == model.get("events", "E3")


def test_postgresql_results_give_the_same_check_as_sqlite(
    results_db: Callable[..., str], postgres_url: str
) -> None:
    """The same hand-built log written by the platform's writer into PostgreSQL and into SQLite gives the
    same table (every event row equal) and the same -200 EUR scheme difference."""
    study = small_study()
    lite = ict_check(study, results_db(study))
    write_run(postgres_url, study, hand_log())
    pg = ict_check(study, postgres_url)
    assert [r.model_dump() for r in pg.events] == [r.model_dump() for r in lite.events]
    assert pg.schemes[0].delta_pv_eur == pytest.approx(-200.0, abs=1e-6)
