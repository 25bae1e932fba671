"""Platform loop and results database: KPIs, messages, cancellation, SQLite vs PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sim_fixtures import small_spec

from coordstudio.simulation.db import fingerprint_of, read_kpis, read_runs, read_table, spec_json_of
from coordstudio.simulation.errors import ResultsDatabaseError
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.progress import RecordingProgress, RunCancelled
from coordstudio.simulation.schemes import SCHEMES
from coordstudio.simulation.simulate import simulate


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'results.sqlite'}"


def test_every_scheme_writes_kpis_messages_and_completed_runs(tmp_path: Path) -> None:
    from coordstudio.sgam.library import default_model

    url = _sqlite(tmp_path)
    spec = small_spec(duration_h=1.0)
    kpis = simulate(spec, list(SCHEME_IDS), url, processes=2).kpis
    assert list(kpis) == list(SCHEME_IDS)
    for k in kpis.values():
        assert k.duration_h == 1.0
        assert k.afrr_energy_mwh >= 0 and k.losses_mwh > 0
        assert k.bids_submitted_by_area["F1"] > 0
        # every kind of exchange is logged: bids, results, set-points, measurements
        bids_to = "agg_platform->" + SCHEMES[k.scheme].local_market_role  # distribution bids' market
        assert k.messages_by_pair[bids_to] > 0
        assert k.messages_by_pair["rtu_secondary->dso_dms"] > 0
        assert k.messages_by_pair["der_gateway->agg_platform"] > 0
        assert (
            k.bytes_by_pair["rtu_secondary->dso_dms"] == 1000 * k.messages_by_pair["rtu_secondary->dso_dms"]
        )
    assert kpis["LMS"].messages_by_pair["dso_market->tso_market"] > 0  # aggregated curves
    assert kpis["CM-D"].messages_by_pair["dso_market->tso_market"] > 0  # local platforms: curves, needs
    assert "dso_market->tso_market" not in kpis["CM"].messages_by_pair  # centralised: no local market
    assert kpis["SBR"].messages_by_pair["tso_ems->dso_dms"] > 0  # interface schedules
    assert kpis["CMS"].messages_by_pair["dso_dms->tso_market"] > 0  # pre-qualification results
    assert kpis["IFM"].messages_by_pair["cp_platform->imo_platform"] > 0  # commercial orders
    runs = read_runs(url)
    assert sorted(r["status"] for r in runs) == ["completed"] * len(SCHEME_IDS)
    assert runs[0]["fingerprint"] == fingerprint_of(spec_json_of(spec))
    engine = sa.create_engine(url)
    with engine.connect() as conn:  # SQL rows or columnar chunks alike (issue 21)
        for table in ("bids", "clearings", "activations", "prices", "measurements", "messages", "kpis"):
            assert len(read_table(conn, table)) > 0, table
        msgs = read_table(conn, "messages", columns=["sender_role", "receiver_role", "information_object"])
        rows = list(msgs.drop(columns="run_id").drop_duplicates().itertuples(index=False))
    engine.dispose()
    # the message log speaks the SGAM model's vocabulary (issue 9 checks the counts against its events)
    model = default_model()
    actors = {a.id for a in model.actors}
    objects = {io.id for io in model.information_objects}
    for sender, receiver, obj in rows:
        assert sender in actors and receiver in actors and obj in objects, (sender, receiver, obj)
    cm_run = next(r for r in runs if r["scheme"] == "CM")
    assert read_kpis(url, cm_run["run_id"])["afrr_cost_eur"] == pytest.approx(kpis["CM"].afrr_cost_eur)


def test_cancelled_run_leaves_a_database_that_says_so(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    with pytest.raises(RunCancelled):
        simulate(small_spec(duration_h=2.0), ["CMS"], url, RecordingProgress(cancel_after=6), processes=1)
    runs = read_runs(url)
    assert len(runs) == 1 and runs[0]["status"] == "cancelled"
    with pytest.raises(ResultsDatabaseError, match="is cancelled"):
        read_kpis(url, runs[0]["run_id"])


def test_killed_run_leaves_a_database_that_opens_and_reads_as_cancelled(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from sim_fixtures import small_spec
        from coordstudio.simulation.simulate import simulate
        simulate(small_spec(duration_h=24.0, start_h=0.0), ["CMS"], {url!r}, processes=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 240
    try:
        while time.time() < deadline:  # wait until the run has committed some batches
            time.sleep(1.0)
            if Path(url.split("///")[1]).exists():
                try:
                    runs = read_runs(url)
                except ResultsDatabaseError:
                    continue
                if runs and runs[0]["n_clearings"] >= 2:
                    break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    runs = read_runs(url, stale_after_s=0.0)
    assert runs and runs[0]["status"] == "cancelled"


def test_postgresql_gives_the_same_kpis_as_sqlite(tmp_path: Path, postgres_url: str) -> None:
    spec = small_spec(duration_h=1.0)
    lite = simulate(spec, ["SBR"], _sqlite(tmp_path), processes=1).kpis
    pg = simulate(spec, ["SBR"], postgres_url, processes=1).kpis
    assert pg["SBR"].model_dump() == lite["SBR"].model_dump()
    runs = read_runs(postgres_url)
    assert runs[-1]["status"] == "completed"
    assert read_kpis(postgres_url, runs[-1]["run_id"]) == read_kpis(_sqlite(tmp_path), 1)


def test_rolling_clearing_marks_only_the_first_steps_firm(tmp_path: Path) -> None:
    """Clear every 30 min for a 60-min horizon of 15-min steps: steps 0-1 firm, 2-3 advisory; the grid
    moves on during the 10-min latency + 5-min gate closure (bids from the state one step earlier)."""
    from coordstudio.simulation.scenario import TimingSpec

    spec = small_spec(duration_h=2.0)
    spec.timing = TimingSpec(
        duration_h=2.0,
        start_h=10.0,
        horizon_min=60,
        granularity_min=15,
        clearing_frequency_min=30,
        physical_step_min=15,
        clearing_latency_min=10,
        gate_closure_min=5,
    )
    url = _sqlite(tmp_path)
    simulate(spec, ["CM"], url, processes=1)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n_clear = conn.execute(sa.text("select count(*) from clearings")).scalar_one()
        acts = read_table(conn, "activations", columns=["step", "firm"])  # rows or chunks (issue 21)
        rows = list(zip(acts["step"], acts["firm"], strict=True))
    engine.dispose()
    assert n_clear == 4
    assert rows and all(bool(firm) == (step < 2) for step, firm in rows)
