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
from collections.abc import Mapping
from dataclasses import dataclass

from coordstudio.simulation.db import close_runs, create_runs, fingerprint_of, make_engine, spec_json_of
from coordstudio.simulation.errors import SimulationError
from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.kpis import SCHEME_IDS, SchemeKpis
from coordstudio.simulation.market.solvers import silence_highs_banner
from coordstudio.simulation.parallel import run_in_processes, start_order
from coordstudio.simulation.progress import NullProgress, Progress, RunCancelled, SubProgress, check_cancelled
from coordstudio.simulation.run import SchemeRun, run_scheme
from coordstudio.simulation.scenario import ScenarioSpec
from coordstudio.simulation.scenario.build import build_scenario


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
    fingerprints: Mapping[str, str] | None = None,
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
    fingerprints: the caller's fingerprints of the whole study (``"study"``) and of its sections, stored
        with every run as given (the study is not known here: ``cba.fingerprint`` computes them), so a
        reader can tell which section of a study differs from the one a database was written for.

    Returns
    -------
    :class:`SimulationResult`, its runs in the order of ``schemes``.

    Raises
    ------
    ScenarioError, MarketError, ...: bad input (one clear message).
    RunCancelled: the user cancelled; every run not completed is marked ``cancelled`` in the database,
        including the schemes not started yet (each scheme has a ``pending`` row from the start).
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
    spec_json = spec_json_of(spec)
    # before any worker forks, so every process of the run has the banner printed already (off stdout)
    silence_highs_banner()
    fingerprint = fingerprint or fingerprint_of(spec_json)
    prints = dict(fingerprints) if fingerprints else None
    n_proc = processes if processes is not None else min(len(schemes), os.cpu_count() or 1)
    serial = n_proc <= 1 or len(schemes) == 1
    run_ids: dict[str, int] = {}
    if db_url:
        make_engine(db_url).dispose()  # create the tables once, before the scheme processes start
        # the rows numbered in the order the schemes start
        order = schemes if serial else start_order(schemes)
        run_ids = create_runs(db_url, order, fingerprint, spec.name, spec_json, prints)
    runs: dict[str, SchemeRun] = {}
    if serial:
        try:
            n = len(schemes)
            for i, scheme in enumerate(schemes):
                sub = SubProgress(progress, 0.05 + 0.95 * i / n, 0.05 + 0.95 * (i + 1) / n)
                check_cancelled(sub)
                runs[scheme] = run_scheme(
                    scenario, schedule, scheme, db_url, sub, fingerprint, market_sessions=market_sessions,
                    run_id=run_ids.get(scheme), fingerprints=prints,
                )
        except (RunCancelled, KeyboardInterrupt):
            if db_url:
                close_runs(db_url, run_ids.values(), "cancelled")
            left = ", ".join(s for s in schemes if s not in runs) or "none"
            raise RunCancelled(f"run cancelled by the user: scheme(s) {left} marked cancelled") from None
        except BaseException:
            if db_url:
                # the schemes this failure kept from running (the failed one marked itself failed)
                close_runs(db_url, run_ids.values(), "cancelled")
            raise
    else:
        runs = run_in_processes(
            scenario, schedule, schemes, db_url, fingerprint, progress, n_proc, market_sessions,
            run_ids=run_ids, fingerprints=prints,
        )
    progress.report(1.0, "simulation done")
    return SimulationResult({s: runs[s] for s in schemes}, setup_s, setup_cpu_s)


__all__ = ["SimulationResult", "simulate"]
