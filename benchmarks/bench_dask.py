"""Benchmark (issue 21, P7): the study's representative days as a Dask sweep, three ways, same tasks.

1. **serial**: every task in this process, one after the other (``run_sweep(..., workers=0)``);
2. **LocalCluster**: a ``distributed.LocalCluster`` of ``--workers`` single-threaded worker processes
   (``simulation.sweep.make_client``);
3. **separate processes**, as on a cluster: ``dask scheduler`` and ``--workers`` x ``dask worker ADDRESS
   --nworkers 1 --nthreads 1`` started as their own OS processes by this script (each from the shell's
   command line, knowing only the scheduler's address), the sweep connecting by address
   (``run_sweep(..., scheduler=ADDRESS)``, the path ``coordstudio sweep --scheduler ADDRESS`` takes,
   including its checks of the address and of the workers' coordstudio).

The tasks: the default study's scenario, its ``--days`` representative days of the year (tsam, as ``run
--days N`` and ``sweep --over schemes,days --days N`` choose them, with their weights), each simulated for
the first ``--hours`` hours, x the schemes ``--schemes``: days x schemes independent runs, each writing into
the mode's SQLite results database. Every side is warmed up first (imports, SimBench profile caches) by one
1-hour CM run per process, so the ratio measures the sweep, not Python start-up: in this process for the
serial side, on every worker (``client.run``) for the two clusters. Starting the separate processes and the
LocalCluster is timed on its own and not in the sweep's time (a cluster is started once for many sweeps).

Reported per repeat: wall time of each mode, speed-up serial / mode, the sum of the tasks' wall and CPU
seconds, the packing ``sum(task wall) / (workers x sweep wall)``, the 1-minute load average before and
after each mode, and the largest relative difference of any numeric KPI between the modes (must be 0 to
1e-9: the same tasks on the same code). On a shared 2-core machine the speed-up is bound by the load:
other processes take the cores the second worker would use; ``cpu_ratio`` (serial task CPU / cluster task
CPU) shows whether the work itself grew.

Usage::

    nice -n 5 .venv/bin/python benchmarks/bench_dask.py [--days 4] [--hours 2]
        [--schemes CMS,LMS,SBR,CM,IFM] [--workers 2] [--repeat 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _warm_spec_json() -> str:
    from coordstudio.cba.study_file import default_study

    spec = default_study().scenario
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": 1.0})})
    return spec.model_dump_json()


def _warm(spec_json: str) -> float:
    """One 1-hour CM run in the calling process (imports, caches); returns its wall seconds."""
    from coordstudio.simulation.sweep import execute_task

    t0 = time.perf_counter()
    execute_task(spec_json, "CM", None)
    return time.perf_counter() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_separate_cluster(workers: int, log_dir: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """``dask scheduler`` and ``workers`` x ``dask worker ADDRESS --nworkers 1 --nthreads 1``, each its own
    process (the commands a cluster's nodes would run); returns the address and the processes."""
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the workers' "same coordstudio install"
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=open(log_dir / "scheduler.log", "wb"), env=env,
        )
    ]
    time.sleep(1.0)
    for i in range(workers):
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--memory-limit", "0",
                 "--no-dashboard", "--name", f"w{i}"],
                stdout=subprocess.DEVNULL, stderr=open(log_dir / f"worker{i}.log", "wb"), env=env,
            )
        )
    return address, procs


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the workers, then the scheduler (SIGTERM, then SIGKILL after 20 s)."""
    for p in reversed(procs):
        p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def max_rel_diff(a: Any, b: Any, path: str = "") -> tuple[float, list[str]]:
    """Largest relative difference of the numeric leaves of two KPI dumps, and the non-numeric mismatches."""
    if isinstance(a, dict) and isinstance(b, dict):
        worst, bad = 0.0, []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                bad.append(f"{path}.{k} missing")
                continue
            d, m = max_rel_diff(a[k], b[k], f"{path}.{k}")
            worst, bad = max(worst, d), bad + m
        return worst, bad
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        worst, bad = 0.0, []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d, m = max_rel_diff(x, y, f"{path}[{i}]")
            worst, bad = max(worst, d), bad + m
        return worst, bad
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return 0.0, []
        return abs(a - b) / max(abs(a), abs(b), 1e-9), []
    return (0.0, []) if a == b else (0.0, [f"{path}: {a!r} != {b!r}"])


def _summary(name: str, res: Any, wall: float, workers: int, load: tuple[float, float]) -> dict[str, Any]:
    task_wall = sum(res.task_time_s.values())
    return {
        "mode": name,
        "wall_s": wall,
        "tasks": len(res.kpis),
        "failed": dict(res.failed),
        "task_wall_sum_s": task_wall,
        "task_cpu_sum_s": sum(res.task_cpu_s.values()),
        "packing": task_wall / (workers * wall) if workers else 1.0,
        "load_before": load[0],
        "load_after": load[1],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=4, help="representative days (tsam) of the default study")
    ap.add_argument("--hours", type=float, default=2.0, help="simulated hours of each day")
    ap.add_argument("--schemes", default="CMS,LMS,SBR,CM,IFM")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    from coordstudio.cba.study_file import default_study
    from coordstudio.simulation.market.solvers import silence_highs_banner
    from coordstudio.simulation.scenario.representative_days import select_representative_days
    from coordstudio.simulation.sweep import SweepDay, close_client, make_client, run_sweep

    silence_highs_banner()
    spec = default_study().scenario
    rep = select_representative_days(spec, args.days)
    days = [SweepDay(day_id=d.day_id, day_of_year=d.day_of_year, weight_days=d.weight_days,
                     ambient_temp_c=d.ambient_temp_c) for d in rep]
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": args.hours})})
    schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    print(f"{len(days)} representative days ({', '.join(f'{d.day_id}:{d.day_of_year}' for d in days)}) "
          f"x {len(schemes)} schemes ({', '.join(schemes)}), {args.hours:g} h each = "
          f"{len(days) * len(schemes)} tasks; {args.workers} workers; cpus {os.cpu_count()}", flush=True)
    warm_json = _warm_spec_json()
    out: dict[str, Any] = {"days": [d.model_dump() for d in days], "hours": args.hours, "schemes": schemes,
                           "workers": args.workers, "repeats": []}
    print(f"warm-up in this process {_warm(warm_json):.1f} s", flush=True)

    t0 = time.perf_counter()
    local = make_client(args.workers)
    local.run(_warm, warm_json)
    out["localcluster_start_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    address, procs = start_separate_cluster(args.workers, tmp)
    external = None
    try:
        from distributed import Client

        external = Client(address, timeout="60s")
        external.wait_for_workers(args.workers, timeout=120)
        external.run(_warm, warm_json)
        out["separate_start_s"] = time.perf_counter() - t0
        print(f"started: LocalCluster {out['localcluster_start_s']:.1f} s, separate scheduler + "
              f"{args.workers} workers at {address} {out['separate_start_s']:.1f} s (incl. warm-up)",
              flush=True)
        for r in range(args.repeat):
            rows = {}
            results = {}
            for name in ("serial", "localcluster", "separate"):
                db = f"sqlite:///{tmp / f'{name}{r}.sqlite'}"
                l0 = os.getloadavg()[0]
                t0 = time.perf_counter()
                if name == "serial":
                    res = run_sweep(spec, schemes, days, None, db_url=db, workers=0)
                elif name == "localcluster":
                    res = run_sweep(spec, schemes, days, None, db_url=db, client=local)
                else:
                    # by address, as `coordstudio sweep --scheduler ADDRESS` does (a client of its own)
                    res = run_sweep(spec, schemes, days, None, db_url=db, scheduler=address)
                wall = time.perf_counter() - t0
                results[name] = res
                rows[name] = _summary(name, res, wall, 0 if name == "serial" else args.workers,
                                      (l0, os.getloadavg()[0]))
                row = rows[name]
                print(f"  repeat {r} {name}: {wall:.1f} s (tasks: wall sum {row['task_wall_sum_s']:.1f} s, "
                      f"CPU sum {rows[name]['task_cpu_sum_s']:.1f} s, packing {rows[name]['packing']:.2f}; "
                      f"load {l0:.1f} -> {rows[name]['load_after']:.1f})", flush=True)
            ref = results["serial"]
            for name in ("localcluster", "separate"):
                other = results[name]
                worst, bad = 0.0, []
                for key, k in ref.kpis.items():
                    a, b = k.model_dump(mode="json"), other.kpis[key].model_dump(mode="json")
                    d, m = max_rel_diff(a, b, key)
                    worst, bad = max(worst, d), bad + m
                rows[name]["speedup"] = rows["serial"]["wall_s"] / rows[name]["wall_s"]
                cpu = max(rows[name]["task_cpu_sum_s"], 1e-9)
                rows[name]["cpu_ratio"] = rows["serial"]["task_cpu_sum_s"] / cpu
                rows[name]["max_rel_kpi_diff"] = worst
                rows[name]["kpi_mismatches"] = bad[:5]
                print(f"  repeat {r} {name}: speed-up {rows[name]['speedup']:.2f}x, KPIs vs serial: max "
                      f"relative difference {worst:.1e}{', mismatches ' + str(bad[:3]) if bad else ''}",
                      flush=True)
            out["repeats"].append(rows)
    finally:
        if external is not None:
            external.close()
        stop_processes(procs)
        close_client(local)
    for name in ("localcluster", "separate"):
        ups = [rows[name]["speedup"] for rows in out["repeats"]]
        out[f"median_speedup_{name}"] = statistics.median(ups)
        print(f"median speed-up {name}: {statistics.median(ups):.2f}x over {len(ups)} repeat(s) "
              f"(goal >= 1.85x on 2 workers: {'met' if statistics.median(ups) >= 1.85 else 'MISSED'})")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
