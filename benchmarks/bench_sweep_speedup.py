"""Benchmark (issue 8): sweep speed-up on a 2-worker Dask LocalCluster against the same runs done serially.

Goal: at least 1.7x. The sweep is the default study's scenario, ``--hours`` simulated hours per run, over
five schemes x two representative days (10 runs). Both sides are warmed up first (imports, cached grids)
so the ratio measures the sweep, not Python start-up: the serial side runs one extra task before timing;
on the cluster every worker runs that same task once (``client.run``). Both write into a SQLite results
database, as a real sweep does. The KPIs of both sides are compared (they must be equal).

Usage::

    .venv/bin/python benchmarks/bench_sweep_speedup.py [--hours 2] [--repeat 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path


def _spec(hours: float):  # type: ignore[no-untyped-def]
    from coordstudio.simulation.scenario import ProfileSpec, default_scenario_spec

    spec = default_scenario_spec()
    return spec.model_copy(
        update={
            "timing": spec.timing.model_copy(update={"duration_h": hours}),
            "profiles": ProfileSpec(source="synthetic"),
        }
    )


def _warm(hours: float) -> float:
    """One short run in this process (imports, grid caches)."""
    from coordstudio.simulation.simulate import simulate

    t0 = time.perf_counter()
    simulate(_spec(1.0), ["CM"], None, None, processes=1)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from coordstudio.simulation.sweep import SweepDay, close_client, make_client, run_sweep

    days = [SweepDay(day_id="winter", day_of_year=15), SweepDay(day_id="summer", day_of_year=196)]
    schemes = ["CMS", "LMS", "SBR", "CM", "IFM"]
    spec = _spec(args.hours)
    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    _warm(args.hours)
    client = make_client(args.workers)
    client.run(_warm, args.hours)
    ratios = []
    try:
        for r in range(args.repeat):
            t0 = time.perf_counter()
            serial = run_sweep(
                spec, schemes, days, None, db_url=f"sqlite:///{tmp / f's{r}.sqlite'}", workers=0
            )
            t_serial = time.perf_counter() - t0
            t0 = time.perf_counter()
            par = run_sweep(
                spec, schemes, days, None, db_url=f"sqlite:///{tmp / f'd{r}.sqlite'}", client=client
            )
            t_dask = time.perf_counter() - t0
            assert not serial.failed and not par.failed, (serial.failed, par.failed)
            for key, k in serial.kpis.items():
                assert math.isclose(
                    k.activation_cost_eur, par.kpis[key].activation_cost_eur, rel_tol=1e-9, abs_tol=1e-9
                ), key
            ratios.append(t_serial / t_dask)
            cpu_serial = sum(serial.task_cpu_s.values())
            cpu_dask = sum(par.task_cpu_s.values())
            packing = sum(par.task_time_s.values()) / (args.workers * t_dask)
            print(
                f"  CPU s: serial {cpu_serial:.1f}, cluster {cpu_dask:.1f}; packing of task wall time into "
                f"{args.workers} x sweep wall: {packing:.2f}; per-task wall slowdown in the cluster "
                f"{sum(par.task_time_s.values()) / sum(serial.task_time_s.values()):.2f}x"
            )
            print(
                f"repeat {r}: serial {t_serial:.1f} s, {args.workers}-worker LocalCluster {t_dask:.1f} s, "
                f"speed-up {t_serial / t_dask:.2f}x (sum of task times: serial "
                f"{sum(serial.task_time_s.values()):.1f} s, cluster {sum(par.task_time_s.values()):.1f} s)"
            )
    finally:
        close_client(client)
    print(
        f"median speed-up over {len(ratios)} repeats: {statistics.median(ratios):.2f}x "
        f"(goal >= 1.7x: {'met' if statistics.median(ratios) >= 1.7 else 'MISSED'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
