"""Several scheme processes opening a brand-new SQLite results file at the same moment (regression).

Before the fix each process checked for the tables and created them; two processes that both found the
file empty collided and the second failed with ``OperationalError: table ... already exists`` (measured:
5 processes released together by a barrier failed in 17 of 40 trials, so 12 trials pass by chance with a
probability below 0.2 %); and switching the new file to WAL answered ``database is locked`` at once,
without waiting for the busy timeout (1 trial in about 40). Reference: every process writes its run and
the file holds all of them.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from pathlib import Path
from typing import Any

import pytest

from coordstudio.simulation.db import ResultsWriter, read_runs

N_PROCESSES = 5
TRIALS = 12


def _open_and_write(url: str, barrier: Any, queue: Any) -> None:
    barrier.wait()
    try:
        w = ResultsWriter(url, "CM", "f" * 64, "race", "{}")
        w.add("kpis", [{"name": "x", "value": 1.0}])
        w.finish("completed")
        queue.put(None)
    except Exception:  # reported to the test process
        queue.put(traceback.format_exc()[-1500:])


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_processes_creating_the_tables_of_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    for trial in range(TRIALS):
        url = f"sqlite:///{tmp_path / f'new{trial}' / 'results.sqlite'}"
        barrier = ctx.Barrier(N_PROCESSES)
        queue = ctx.Queue()
        procs = [ctx.Process(target=_open_and_write, args=(url, barrier, queue)) for _ in range(N_PROCESSES)]
        for p in procs:
            p.start()
        errors = [e for e in (queue.get(timeout=60) for _ in procs) if e]
        for p in procs:
            p.join(timeout=60)
        assert errors == [], f"trial {trial}: {errors[0]}"
        runs = read_runs(url)
        assert len(runs) == N_PROCESSES and all(r["status"] == "completed" for r in runs)
