"""The simulation's entry point: every scheme of a scenario over its day, serially or side by side.

``simulate(spec, schemes, db_url, progress)`` builds the scenario once, computes the schedule of the
earlier markets (:func:`simulation.forecast.compute_schedule`), and runs every scheme independently
(:func:`simulation.run.run_scheme`; in worker processes, :mod:`simulation.parallel`, when the machine
has more than one core), each writing its run into the results database. It returns a
:class:`SimulationResult`: the KPIs per scheme and what each run measured.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from simulation.db import fingerprint_of, make_engine, spec_json_of
from simulation.errors import SimulationError
from simulation.forecast import compute_schedule
from simulation.kpis import SCHEME_IDS, SchemeKpis
from simulation.parallel import run_in_processes
from simulation.progress import NullProgress, Progress, SubProgress, check_cancelled
from simulation.run import SchemeRun, run_scheme
from simulation.scenario import ScenarioSpec
from simulation.scenario.build import build_scenario


@dataclass
class SimulationResult:
    """What :func:`simulate` measured, per scheme in the order asked."""

    runs: dict[str, SchemeRun]
    """Scheme id -> its run (KPIs, time per layer, CPU time, market statistics, failed clearings)."""
    setup_s: float = 0.0
    """Wall seconds of building the scenario and the schedule (once, before the schemes)."""
    setup_cpu_s: float = 0.0
    """CPU seconds of the same."""

    @property
    def kpis(self) -> dict[str, SchemeKpis]:
        """Scheme id -> KPIs."""
        return {s: r.kpis for s, r in self.runs.items()}


def simulate(
    spec: ScenarioSpec,
    schemes: list[str] | tuple[str, ...] | None = None,
    db_url: str | None = None,
    progress: Progress | None = None,
    fingerprint: str | None = None,
    processes: int | None = None,
    market_sessions: bool = True,
) -> SimulationResult:
    """Simulate every scheme of ``schemes`` (default: the spec's) over the scenario's day.

    Parameters
    ----------
    spec: the scenario.
    schemes: scheme ids (:data:`simulation.kpis.SCHEME_IDS`).
    db_url: SQLAlchemy URL of the results database (``sqlite:///path`` or ``postgresql+psycopg://...``);
        None writes no database.
    progress: progress and cancellation (:mod:`simulation.progress`).
    fingerprint: stored in the runs table (default: SHA-256 of the scenario's JSON).
    processes: worker processes (default: one per scheme up to the number of cores; 1 = in this process).
    market_sessions: schemes whose registry entry allows it keep one market session per run
        (:class:`simulation.clearing_stage.SessionClearer`); False clears afresh every interval.

    Returns
    -------
    :class:`SimulationResult`, its runs in the order of ``schemes``.

    Raises
    ------
    ScenarioError, MarketError, ...: bad input (one clear message).
    RunCancelled: the user cancelled; every started run is marked ``cancelled`` in the database.
    """
    progress = progress or NullProgress()
    schemes = list(schemes or spec.schemes)
    unknown = [s for s in schemes if s not in SCHEME_IDS]
    if unknown:
        raise SimulationError(f"schemes: unknown scheme(s) {unknown}; known: {list(SCHEME_IDS)}")
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    progress.report(0.0, "building the scenario")
    scenario = build_scenario(spec)
    check_cancelled(progress)
    progress.report(0.02, "schedule of the earlier markets")
    schedule = compute_schedule(scenario)
    setup_s = time.perf_counter() - t0
    setup_cpu_s = time.process_time() - cpu0
    check_cancelled(progress)
    fingerprint = fingerprint or fingerprint_of(spec_json_of(spec))
    if db_url:
        make_engine(db_url).dispose()  # create the tables once, before the scheme processes start
    n_proc = processes if processes is not None else min(len(schemes), os.cpu_count() or 1)
    runs: dict[str, SchemeRun] = {}
    if n_proc <= 1 or len(schemes) == 1:
        for i, scheme in enumerate(schemes):
            sub = SubProgress(progress, 0.05 + 0.95 * i / len(schemes), 0.05 + 0.95 * (i + 1) / len(schemes))
            runs[scheme] = run_scheme(
                scenario, schedule, scheme, db_url, sub, fingerprint, market_sessions=market_sessions
            )
    else:
        runs = run_in_processes(
            scenario, schedule, schemes, db_url, fingerprint, progress, n_proc, market_sessions
        )
    progress.report(1.0, "simulation done")
    return SimulationResult({s: runs[s] for s in schemes}, setup_s, setup_cpu_s)


__all__ = ["SimulationResult", "simulate"]
