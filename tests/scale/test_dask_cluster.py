"""Sweeps on an existing Dask cluster (issue 21, P7): the scheduler's address is checked before anything
runs, a bad or unreachable one is one line and exit code 2, workers without coordstudio are named, and a
scheduler and worker started as separate processes (``dask scheduler``, ``dask worker ADDRESS``, as on a
cluster's nodes) run the sweep given only the address."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from coordstudio.simulation.errors import ScenarioError, SimulationError
from coordstudio.simulation.scenario import default_scenario_spec
from coordstudio.simulation.sweep import (
    SweepDay,
    check_scheduler_address,
    check_workers,
    make_client,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]
FAKE = "scale_fixtures:fake_simulate"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    "address", ["tcp://10.0.0.5:8786", "tls://node-7.cluster.local:8786", "tcp://[::1]:8786", " ws://h:1 "]
)
def test_scheduler_addresses_a_cluster_gives_are_accepted(address: str) -> None:
    """The forms dask-jobqueue, dask-kubernetes and SSH clusters print (``scheduler_address``)."""
    assert check_scheduler_address(address) == address.strip()


@pytest.mark.parametrize(
    "address", ["foo", "10.0.0.5:8786", "http://h:8786", "tcp://h", "tcp://h:0", "tcp://h:70000", "tcp://:1"]
)
def test_malformed_scheduler_addresses_are_refused(address: str) -> None:
    with pytest.raises(ScenarioError, match=r"--scheduler: .* is not a Dask scheduler address"):
        check_scheduler_address(address)


def test_sweep_cli_bad_scheduler_address_is_one_line_exit_2(tmp_path: Path) -> None:
    """``coordstudio sweep STUDY --scheduler http://h:8786``: refused by argparse before the study is read
    (the study file does not even exist), one stderr line naming the option and the value, exit code 2."""
    from coordstudio import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main.main(["sweep", str(tmp_path / "none.yaml"), "--scheduler", "http://h:8786"])
        except SystemExit as exc:
            code = int(exc.code or 0)
    lines = err.getvalue().strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and "--scheduler" in lines[0] and "'http://h:8786'" in lines[0], lines


def test_unreachable_scheduler_is_one_line() -> None:
    """A well-formed address where nothing listens: SimulationError after the connect timeout (1 s here),
    one line naming the address."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(SimulationError, match="cannot reach the Dask scheduler") as info:
        make_client(0, address, timeout_s=1.0)
    assert address in str(info.value) and "\n" not in str(info.value)
    assert time.perf_counter() - t0 < 10


def test_workers_without_coordstudio_are_named() -> None:
    """One of two workers answers the readiness call with an import error: the sweep refuses to start,
    naming how many workers and the remedy (the same install everywhere)."""

    class _Client:
        def run(self, fn: Any, on_error: str) -> dict[str, Any]:
            assert on_error == "return"
            return {"tcp://a:1": "node-a", "tcp://b:1": ModuleNotFoundError("No module named 'coordstudio'")}

    expected = r"1 of 2 Dask worker\(s\).*tcp://b:1.*same coordstudio install"
    with pytest.raises(SimulationError, match=expected):
        check_workers(_Client(), "tcp://s:8786")


def test_sweep_on_a_separately_started_scheduler_and_worker(tmp_path: Path) -> None:
    """``dask scheduler`` and ``dask worker ADDRESS --nworkers 1 --nthreads 1`` as their own processes; the
    sweep connects by address (its readiness check runs on the worker) and returns the fake platform's KPIs:
    activation cost = 1000 x day_of_year + seed % 1000 + 100 x forecast error (hand formula of
    tests/scale/scale_fixtures.py), equal to the serial sweep's."""
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "scale")]),
        "SWEEP_TEST_DIR": str(tmp_path),
    }
    scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    procs = [subprocess.Popen(scheduler, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard", "--memory-limit", "0", "--no-nanny"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(1, timeout=60)
        os.environ["SWEEP_TEST_DIR"] = str(tmp_path)
        spec = default_scenario_spec()
        days = [SweepDay(day_id="d1", day_of_year=20), SweepDay(day_id="d2", day_of_year=200)]
        res = run_sweep(spec, ["CM", "CMS"], days, None, db_url=None, scheduler=address, runner=FAKE)
        ref = run_sweep(spec, ["CM", "CMS"], days, None, db_url=None, workers=0, runner=FAKE)
    finally:
        os.environ.pop("SWEEP_TEST_DIR", None)
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    assert not res.failed and set(res.kpis) == {f"{s}|{d}|base" for s in ("CM", "CMS") for d in ("d1", "d2")}
    fe = spec.imbalance.forecast_error_std_frac
    for key, k in res.kpis.items():
        doy = 20 if "|d1|" in key else 200
        assert k.activation_cost_eur == pytest.approx(1000.0 * doy + spec.seed % 1000 + 100.0 * fe, rel=1e-12)
        assert k.activation_cost_eur == ref.kpis[key].activation_cost_eur
