"""Opening a results database safely, and the life of its run rows (issue 18, sections 2, 4 and 5).

References (each built in the test):

* read-only commands never create or change a database: ``runs nope.sqlite`` exits 2 naming the file
  and creates nothing; ``runs`` on a real database leaves its bytes unchanged and no ``-wal``/``-shm``;
* a file that is not SQLite reads "not a results database", a results database whose first page is
  overwritten reads "damaged": one line, exit 2;
* a PostgreSQL server that accepts the connection and never answers (a local socket) is given up after
  the connect timeout, with a one-line message naming host and port, within a few seconds;
* every scheme asked for has a row from the start: cancelling during the first of two schemes leaves
  both rows ``cancelled`` (the second never started); ``close_runs`` only touches unfinished rows;
* a row whose process is gone reads ``cancelled``/``interrupted`` at once (no 10-minute heartbeat wait);
* a database written before the new ``runs`` columns is read as it is and upgraded by a writer;
* a scheme worker killed mid-run is noticed by its exit code: the run is ``failed``, nothing hangs.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sim_fixtures import small_spec

import coordstudio.main as entry
from coordstudio.simulation.db import ResultsWriter, close_runs, create_runs, read_runs
from coordstudio.simulation.errors import ResultsDatabaseError
from coordstudio.simulation.progress import RecordingProgress, RunCancelled
from coordstudio.simulation.simulate import simulate

pytestmark = pytest.mark.serial  # timing or signals: run alone after the parallel pass (Makefile)


def _runs_cli(target: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = entry.main(["runs", target])
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines(), captured.out


def _written_db(path: Path) -> str:
    url = f"sqlite:///{path}"
    w = ResultsWriter(url, "CM", "f" * 64, "test", "{}")
    w.add("kpis", [{"name": "x", "value": 1.0}])
    w.finish("completed", 1)
    return url


def test_runs_on_a_missing_file_creates_nothing_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, _ = _runs_cli(str(tmp_path / "nope.sqlite"), capsys)
    assert code == 2
    assert len(err) == 1 and "nope.sqlite: file not found" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_runs_reads_without_changing_a_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "results.sqlite"
    _written_db(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, err, out = _runs_cli(str(path), capsys)
    assert code == 0 and err == []
    assert "completed" in out
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_a_corrupt_file_gives_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is no database " * 500)
    code, err, _ = _runs_cli(str(garbage), capsys)
    assert code == 2 and len(err) == 1
    assert "garbage.sqlite: not a results database" in err[0]

    damaged = tmp_path / "damaged.sqlite"
    _written_db(damaged)
    with damaged.open("r+b") as fh:  # the schema's page (after the 100-byte file header) overwritten
        fh.seek(100)
        fh.write(b"\xff" * 200)
    before = damaged.read_bytes()
    code, err, _ = _runs_cli(str(damaged), capsys)
    assert code == 2 and len(err) == 1
    assert "damaged.sqlite: damaged results database" in err[0]
    assert damaged.read_bytes() == before


def test_a_silent_postgresql_server_times_out_naming_the_host(capsys: pytest.CaptureFixture[str]) -> None:
    """A local socket that accepts connections and never answers stands for a hung server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    url = f"postgresql+psycopg://user@127.0.0.1:{port}/results?connect_timeout=2"
    try:
        t0 = time.monotonic()
        code, err, _ = _runs_cli(url, capsys)
        assert code == 2 and len(err) == 1
        assert f"127.0.0.1:{port}" in err[0] and "did not answer" in err[0]
        with pytest.raises(ResultsDatabaseError, match=rf"127\.0\.0\.1:{port}.*did not answer"):
            ResultsWriter(url, "CM", "f" * 64, "test", "{}")  # the writer's side too
        assert time.monotonic() - t0 < 20
    finally:
        server.close()
        for conn in accepted:
            conn.close()


def test_every_scheme_has_a_row_and_a_cancel_marks_them_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    with pytest.raises(RunCancelled, match="CMS, CM marked cancelled"):
        simulate(small_spec(duration_h=2.0), ["CMS", "CM"], url, RecordingProgress(cancel_after=6),
                 processes=1)
    runs = read_runs(url)
    assert [(r["scheme"], r["status"], r["interrupted"]) for r in runs] == [
        ("CMS", "cancelled", False), ("CM", "cancelled", False)
    ]
    assert all(r["finished_at"] is not None for r in runs)


def test_close_runs_touches_only_unfinished_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    ids = create_runs(url, ["CMS", "CM", "LMS"], "f" * 64, "test", "{}", {"study": "s" * 64})
    w = ResultsWriter(url, "CMS", "f" * 64, "test", "{}", run_id=ids["CMS"])
    w.finish("completed", 1)
    assert close_runs(url, ids.values(), "cancelled") == [(ids["CM"], "CM"), (ids["LMS"], "LMS")]
    runs = {r["scheme"]: r for r in read_runs(url)}
    statuses = {s: r["status"] for s, r in runs.items()}
    assert statuses == {"CMS": "completed", "CM": "cancelled", "LMS": "cancelled"}
    assert runs["CM"]["study_fingerprint"] == "s" * 64


def test_a_run_whose_process_is_gone_reads_interrupted_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    code = (
        "import sys; from simulation.db import ResultsWriter; "
        f"ResultsWriter({url!r}, 'CM', 'f' * 64, 'test', '{{}}').flush(); sys.stdout.flush()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2],
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    (run,) = read_runs(url)  # default stale_after_s of 10 minutes: the owner check decides
    assert run["status"] == "cancelled" and run["interrupted"]


def test_an_older_database_is_read_as_it_is_and_upgraded_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, scheme VARCHAR(16) NOT NULL, fingerprint "
            "VARCHAR(64) NOT NULL, scenario VARCHAR(200) NOT NULL, status VARCHAR(16) NOT NULL, started_at "
            "DATETIME NOT NULL, updated_at DATETIME NOT NULL, finished_at DATETIME, n_clearings INTEGER NOT "
            "NULL, spec_json TEXT NOT NULL)"
        )
        t = "'2026-01-01 00:00:00.000000'"
        conn.execute(f"INSERT INTO runs VALUES (1, 'CM', 'fp', 'old', 'completed', {t}, {t}, {t}, 4, '{{}}')")
    before = path.read_bytes()
    (run,) = read_runs(f"sqlite:///{path}")
    assert run["status"] == "completed" and run["kpis_json"] is None and run["owner"] is None
    assert path.read_bytes() == before
    ResultsWriter(f"sqlite:///{path}", "CMS", "fp", "old", "{}").finish("completed", 1, '{"x": 1}')
    runs = read_runs(f"sqlite:///{path}")
    assert [r["scheme"] for r in runs] == ["CM", "CMS"] and runs[1]["kpis_json"] == '{"x": 1}'


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork and /proc (Linux only)")
def test_a_worker_killed_mid_run_is_a_failed_run_not_a_hang(tmp_path: Path) -> None:
    """A scheme worker killed with SIGKILL (as the OOM killer does): the parent notices by the exit code,
    raises naming the scheme, marks the run failed; the other scheme completes."""
    import signal as sig

    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    killed: list[int] = []
    # The watcher reads the runs table in a child process, not in this one: simulate() forks its scheme
    # workers from this process, and a fork taken while this thread holds SQLite's memory mutex leaves
    # the worker waiting on it for ever (it hung the clean-clone CI once). One child polls every 20 ms
    # and prints the CM worker's owner once: a new interpreter per poll (about 0.2 s a round) once
    # missed the whole CM run in the clean-clone suite, the run having become faster.
    poll = (
        "import sqlite3, sys, time\n"
        "end = time.monotonic() + 120\n"
        "while time.monotonic() < end:\n"
        "    try:\n"
        "        con = sqlite3.connect(sys.argv[1], timeout=0.05)\n"
        "        row = con.execute(\"select owner from runs where scheme = 'CM' \"\n"
        "                          \"and status = 'running'\").fetchone()\n"
        "        con.close()\n"
        "    except sqlite3.Error:\n"
        "        row = None\n"
        "    if row and row[0]:\n"
        "        print(row[0], flush=True)\n"
        "        break\n"
        "    time.sleep(0.02)\n"
    )
    poller = subprocess.Popen([sys.executable, "-c", poll, str(tmp_path / "results.sqlite")],
                              stdout=subprocess.PIPE, text=True)

    def kill_first_worker() -> None:
        assert poller.stdout is not None
        owner = poller.stdout.readline().strip()
        if owner:
            pid = int(owner.split(":")[-2])
            if pid != os.getpid():
                os.kill(pid, sig.SIGKILL)
                killed.append(pid)

    watcher = threading.Thread(target=kill_first_worker, daemon=True)
    watcher.start()
    with pytest.raises(RuntimeError, match="worker of scheme CM died"):
        simulate(small_spec(duration_h=6.0), ["CMS", "CM"], url, processes=2)
    watcher.join(timeout=5)
    poller.kill()
    poller.wait()
    assert killed
    statuses = {r["scheme"]: r["status"] for r in read_runs(url)}
    assert statuses == {"CMS": "completed", "CM": "failed"}
