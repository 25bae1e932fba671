"""Columnar chunks of the results database (issue 21, P8): what a run writes as compressed Parquet chunks
reads back equal to the SQL rows the writer wrote before, and takes less room.

The reference is the same run written the old way (``ResultsWriter(columnar=False)``: one SQL row per
node, bid, message and step), read with the same :func:`simulation.db.read_table`; the frames must be
equal exactly (same doubles, strings, NULLs, row order), not within a tolerance: the chunks store the
values, they do not round them.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from sim_fixtures import small_spec

import coordstudio.simulation.run as run_module
from coordstudio.simulation import db as simdb
from coordstudio.simulation.simulate import simulate


def _tables(url: str) -> dict[str, pd.DataFrame]:
    engine = simdb.open_read_only(url)
    try:
        with engine.connect() as conn:
            return {name: simdb.read_table(conn, name).drop(columns="run_id") for name in simdb.TABLES}
    finally:
        engine.dispose()


def _bytes_of(path: Path, names: tuple[str, ...]) -> int:
    """Bytes of the named tables and their indexes (SQLite ``dbstat``)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return sum(int(b) for n, b in rows if any(n == t or n == f"ix_{t}_run_id" for t in names))


def test_a_run_stored_as_chunks_reads_back_equal_to_its_sql_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = small_spec(duration_h=1.0)
    new_db, old_db = tmp_path / "chunks.sqlite", tmp_path / "rows.sqlite"
    new = simulate(spec, ["CM"], f"sqlite:///{new_db}", processes=1).kpis["CM"]
    monkeypatch.setattr(run_module, "ResultsWriter", functools.partial(simdb.ResultsWriter, columnar=False))
    old = simulate(spec, ["CM"], f"sqlite:///{old_db}", processes=1).kpis["CM"]
    assert new.model_dump() == old.model_dump()  # storage does not touch the simulation

    got, want = _tables(f"sqlite:///{new_db}"), _tables(f"sqlite:///{old_db}")
    with sqlite3.connect(new_db) as conn:  # the new file: the large tables in chunks, no SQL row
        for name in simdb.COLUMNAR_TABLES:
            assert conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone() == (0,), name
        n_chunked = dict(conn.execute("SELECT table_name, SUM(n_rows) FROM series_chunks GROUP BY 1"))
    for name in simdb.TABLES:
        if name in simdb.COLUMNAR_TABLES:
            assert n_chunked.get(name, 0) == len(want[name]), name
        if name == "clearings":  # the solver's times differ from run to run
            got[name] = got[name].drop(columns=["build_time_s", "solve_time_s"])
            want[name] = want[name].drop(columns=["build_time_s", "solve_time_s"])
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
    for name in ("prices", "measurements", "bids", "messages"):
        assert len(want[name]) > 0, name  # the comparison is not of empty tables
    assert want["measurements"]["vm_pu"].isna().any()  # NULLs (nodes without voltage) compared too

    # what the chunks save, on the tables they hold: here (tiny grid, 1 h, 4-KiB pages) at least 2x
    sql_bytes = _bytes_of(old_db, simdb.COLUMNAR_TABLES)
    chunk_bytes = _bytes_of(new_db, ("series_chunks",))
    assert chunk_bytes * 2 < sql_bytes, (chunk_bytes, sql_bytes)


def test_hand_made_rows_round_trip_with_nulls_and_extreme_values(tmp_path: Path) -> None:
    """Values a clearing or a measurement can hold: NULL components, a NULL voltage, signed zeros,
    tiny and huge doubles, unicode names, a big integer, False/True (written both ways, read equal)."""
    rows = [
        {"time_min": 0.0, "node": "t1", "p_mw": -0.0, "p_measured_mw": 1e-300, "vm_pu": None,
         "vm_measured_pu": None},
        {"time_min": 30.0, "node": "D1:ä", "p_mw": 1.2345678901234567e9, "p_measured_mw": -math.pi,
         "vm_pu": 1.0000000000000002, "vm_measured_pu": 0.99},
    ]
    acts = [{"clearing": 3, "bid_id": "c3:x", "step": s, "firm": s == 0, "activation_mw": 0.5,
             "clearing_price_eur_per_mwh": None if s else 41.5, "bid_price_eur_per_mwh": 40.0}
            for s in (0, 1)]
    msgs = [{"time_min": 0.0, "sender": "a", "sender_role": "r", "receiver": "b", "receiver_role": "q",
             "information_object": "bid", "n_messages": 1, "bytes": 2**40 + 1}]
    frames = []
    for columnar in (False, True):
        url = f"sqlite:///{tmp_path / f'{columnar}.sqlite'}"
        w = simdb.ResultsWriter(url, "CM", "fp", "s", "{}", columnar=columnar)
        w.add("measurements", [dict(r) for r in rows])
        w.add("activations", [dict(r) for r in acts])
        w.add("messages", [dict(r) for r in msgs])
        w.finish("completed", 1)
        frames.append(_tables(url))
    for name in ("measurements", "activations", "messages"):
        pd.testing.assert_frame_equal(frames[1][name], frames[0][name], check_exact=True, obj=name)
    m = frames[1]["measurements"]
    assert math.copysign(1.0, m.loc[0, "p_mw"]) == -1.0 and m.loc[1, "node"] == "D1:ä"
    assert frames[1]["messages"].loc[0, "bytes"] == 2**40 + 1
    assert frames[1]["activations"]["firm"].tolist() == [True, False]


def test_a_large_scenario_is_stored_compressed_and_read_back_as_written(tmp_path: Path) -> None:
    """``runs.spec_json`` above 64 KiB: stored zlib+base64 (the Italian scenario: 3.2 MB per run), read
    back by ``read_runs`` character for character; a small one stays plain JSON in the file."""
    import json

    big = json.dumps({"nodes": [{"id": f"N{i}", "p_mw": i * 0.1} for i in range(5000)]}, sort_keys=True)
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    simdb.create_runs(url, ["CM"], "fp", "big", big)
    simdb.create_runs(url, ["CMS"], "fp", "small", "{}")
    runs = simdb.read_runs(url)
    assert [r["spec_json"] for r in runs] == [big, "{}"]
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        stored = [v for (v,) in conn.execute("SELECT spec_json FROM runs ORDER BY run_id")]
    assert stored[0].startswith(simdb.SPEC_PACKED_PREFIX) and len(stored[0]) * 4 < len(big)
    assert stored[1] == "{}"
