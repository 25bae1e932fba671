"""One scheme's simulated day: a loop over the physical steps that calls the stages in layer order.

Per physical step ``k``:

1. for every clearing whose information time (delivery start - activation delay - clearing latency -
   gate closure) falls in this step: **forecast and need** (:mod:`simulation.forecast`: the uncontrolled
   system, i.e. the measured deviation net of the activations dispatched, plus the payback of the energy
   they deferred), **bidding** (:mod:`simulation.bidding.stage`), **clearing**
   (:mod:`simulation.clearing_stage`, the scheme's market architecture from :mod:`simulation.schemes`);
2. **dispatch** (:func:`simulation.bidding.dispatch.dispatch_step`): the firm activation in force becomes
   device set-points, whose sums per node move the forecast's deferred-energy tracker
   (:class:`simulation.forecast.DeferredEnergy`). When the clearing in force in the step was made in an
   earlier step, the dispatch runs before this step's clearings (same device state, same random draws),
   so their forecast knows the set-points of the step in progress;
3. **physics** (:func:`simulation.physical.step.physics_step`): devices, power flows, SCADA, aFRR,
   protections (a transmission trip changes the market's grid model);
4. **measurement** (:mod:`simulation.measurement`), with the state-estimation error, for the next clearing;
5. **recording** (:mod:`simulation.recording`): KPIs, message log, results database.

:func:`run_scheme` returns what the run measured in a :class:`SchemeRun` (KPIs, wall time per layer, CPU
time, market statistics, failed clearings); nothing is left in module state.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook, empty_book
from coordstudio.simulation.bidding.dispatch import DispatchOutcome, dispatch_step
from coordstudio.simulation.bidding.stage import collect_bids, commercial_parties
from coordstudio.simulation.bidding.universe import bid_universe
from coordstudio.simulation.clearing_stage import ClearingStage, reset_highs_scheduler
from coordstudio.simulation.db import ResultsWriter, fingerprint_of, spec_json_of
from coordstudio.simulation.errors import MarketError, PhysicsFailedError, SolverFailedError
from coordstudio.simulation.forecast import (
    DeferredEnergy,
    MeasuredState,
    Schedule,
    forecast_clearing,
    per_market_step,
)
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.measurement import measure
from coordstudio.simulation.physical.fleet import fresh_devices, model_context
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.physical.step import physics_step
from coordstudio.simulation.progress import (
    NullProgress,
    Progress,
    RunCancelled,
    check_cancelled,
    step_message,
)
from coordstudio.simulation.recording.recorder import Recorder, count_per_aggregator
from coordstudio.simulation.scenario.build import Scenario
from coordstudio.simulation.schemes import scheme_behaviour

LAYERS: tuple[str, ...] = (
    "forecast",
    "bidding",
    "market",
    "dispatch",
    "physics_devices",
    "physics_network",
    "measurements",
    "database",
)
"""Keys of :attr:`SchemeRun.timings_s`: wall seconds of each stage over the run."""


@dataclass
class SchemeRun:
    """What one scheme's run measured."""

    scheme: str
    """Scheme id."""
    kpis: SchemeKpis
    """The day's KPIs."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage (:data:`LAYERS`)."""
    cpu_s: float = 0.0
    """CPU seconds of the run (its process or thread)."""
    market_stats: dict[str, float] = field(default_factory=dict)
    """``market_cpu_s`` (the market's CPU seconds) and how the clearings were made: ``n_clearings_built``,
    ``_reused``, ``_fresh``, ``_structure_change``, ``_new_bid``, ``_failed_reclear``
    (:class:`simulation.clearing_stage.SessionClearer`); the binaries of the clearings' problems
    (:func:`simulation.clearing_stage.count_binaries`): ``n_binaries_min``, ``_max``, ``_mean`` and
    ``n_clearings_with_binaries``."""
    failed_clearings: list[str] = field(default_factory=list)
    """``"clearing c: why"`` of every clearing without a usable solution (also counted in the KPIs)."""
    failure: str | None = None
    """Why the run stopped before the end of the day (a physics or solver failure; the message names the
    step and the grid, or the clearing); None when it completed. The KPIs then cover only the steps before
    it and carry ``run_failed = 1`` and the same message in ``run_failure``."""


def run_scheme(
    scenario: Scenario,
    schedule: Schedule,
    scheme: str,
    db_url: str | None,
    progress: Progress | None = None,
    fingerprint: str | None = None,
    *,
    reset_solver_threads: bool = True,
    market_sessions: bool = True,
    block_workers: int | None = None,
    run_id: int | None = None,
    fingerprints: Mapping[str, str] | None = None,
) -> SchemeRun:
    """Simulate one scheme over the scenario's day (see module docstring).

    ``db_url``: results database (None: none written). ``reset_solver_threads``: drop this thread's HiGHS
    scheduler first (:func:`~simulation.clearing_stage.reset_highs_scheduler`), so an earlier solve with
    another thread count does not fail the clearings, and drop the run's own at the end. False in a forked
    worker of :mod:`simulation.parallel`, whose parent reset before forking.

    ``market_sessions``: clear the schemes whose registry entry allows it in one
    :class:`~simulation.market.MarketSession` while the structure allows; False: ``clear()`` afresh every
    interval (the reference the sessions are tested against). ``block_workers``: threads for the
    independent blocks of a clearing (None: one per core; the parallel workers pass 1). Every HiGHS solve
    uses one thread, so the KPIs do not depend on either.

    ``run_id``: the pending row of this run in the database (:func:`simulation.db.create_runs`; None: a
    new row). ``fingerprints``: the caller's fingerprints of the study, stored with the run.

    Raises :class:`RunCancelled` (after marking the run ``cancelled`` in the database) when ``progress``
    asks to stop or a Ctrl-C (KeyboardInterrupt) reaches this process.
    """
    progress = progress or NullProgress()
    logging.getLogger("pandapower").setLevel(logging.ERROR)  # numba notice of pandapower's DC power flow
    if reset_solver_threads:
        reset_highs_scheduler()
    spec = scenario.spec
    spec_json = spec_json_of(spec)
    writer = (
        ResultsWriter(
            db_url, scheme, fingerprint or fingerprint_of(spec_json), spec.name, spec_json,
            run_id=run_id, fingerprints=fingerprints,
        )
        if db_url
        else None
    )
    cpu0 = time.process_time()
    day: _SchemeDay | None = None
    try:
        try:
            day = _SchemeDay(scenario, schedule, scheme, writer, market_sessions, block_workers)
            run = day.simulate(progress)
        except RUN_FAILURES as exc:
            run = _failed_run(scenario, scheme, day, exc)
    except RunCancelled:
        if writer is not None:
            writer.finish("cancelled")
        raise
    except KeyboardInterrupt:
        if writer is not None:
            writer.finish("cancelled")
        raise RunCancelled(f"run cancelled by the user: scheme {scheme} marked cancelled") from None
    except BaseException:
        if writer is not None:
            writer.finish("failed")
        raise
    finally:
        if reset_solver_threads:
            reset_highs_scheduler()  # started by this run in this thread: leaves no size behind
    if day is None:
        if writer is not None:
            writer.finish("failed")
    elif run.failure is None:
        day.recorder.finish(run.kpis)
    else:
        day.recorder.fail(run.kpis)
    if day is not None:
        run.timings_s = {k: v for k, v in day.timings.items() if k != "market_cpu_s"}
    run.cpu_s = time.process_time() - cpu0
    return run


RUN_FAILURES: tuple[type[Exception], ...] = (PhysicsFailedError, MarketError, SolverFailedError)
"""Failures inside a scheme's day that end that scheme's run as a reported failure (its
:attr:`SchemeRun.failure`) while the other schemes go on: a power flow that does not converge, a market
model that cannot be built or solved outside the per-clearing failure handling."""


def _failed_run(scenario: Scenario, scheme: str, day: _SchemeDay | None, exc: Exception) -> SchemeRun:
    """The run of a scheme that stopped on ``exc``: the KPIs of the steps before it, marked failed."""
    message = str(exc) or type(exc).__name__
    logging.getLogger(__name__).info("scheme %s: run failed: %s", scheme, message)  # reported in the result
    spec = scenario.spec
    if day is not None:
        kpis = day.recorder.result_kpis()
        failed = list(day.recorder.failures)
    else:  # failed while setting up the day (e.g. the first power flow): nothing was measured
        zero = dict.fromkeys(
            (
                "activation_cost_eur",
                "afrr_energy_mwh",
                "afrr_cost_eur",
                "congestion_hours_h",
                "overload_energy_mwh",
                "voltage_violation_hours_h",
                "curtailed_res_mwh",
                "losses_mwh",
                "slack_energy_mwh",
                "slack_cost_eur",
            ),
            0.0,
        )
        kpis = SchemeKpis(scheme=scheme, day=spec.name, duration_h=spec.timing.duration_h, **zero)
        failed = []
    kpis = kpis.model_copy(update={"run_failed": 1, "run_failure": message})
    return SchemeRun(scheme, kpis, failed_clearings=failed, failure=message)


class _SchemeDay:
    """The state one scheme's day carries from step to step, and the loop over the steps."""

    def __init__(
        self,
        scenario: Scenario,
        schedule: Schedule,
        scheme: str,
        writer: ResultsWriter | None,
        market_sessions: bool,
        block_workers: int | None,
    ) -> None:
        spec = scenario.spec
        tsp = spec.timing
        self.scenario, self.schedule = scenario, schedule
        self.behaviour = scheme_behaviour(scheme)
        self.timings: dict[str, float] = defaultdict(float)
        self.ctx = model_context(scenario)
        self.devices = fresh_devices(scenario, self.ctx)
        self.rng_noise = np.random.default_rng(spec.seed + 11)
        self.rng_dispatch = np.random.default_rng(spec.seed + 13)
        self.rng_meas = np.random.default_rng(spec.seed + 17)
        self.net = PhysicalNetwork(scenario)  # before the market's grids (they run a DC power flow)
        parties = commercial_parties(scenario)
        self.parties = parties if self.behaviour.commercial_parties else None
        H = tsp.steps_per_horizon
        sessions = market_sessions and self.behaviour.market_session
        firm = max(1, min(H, tsp.clearing_frequency_min // tsp.granularity_min))
        universe = (
            bid_universe(scenario, self.devices, self.parties, H, firm) if sessions else ([], empty_book(H))
        )
        t0 = time.perf_counter()
        self.clearing = ClearingStage(
            scenario,
            schedule,
            self.behaviour,
            self.net.load_share,
            market_sessions=sessions,
            block_workers=block_workers,
            universe=universe,
        )
        self.timings["market"] += time.perf_counter() - t0
        self.recorder = Recorder(
            scenario,
            self.behaviour,
            writer,
            count_per_aggregator(self.devices, len(scenario.aggregators)),
            {fid: int(idx.size) for fid, idx in self.net.feeder_node_idx.items()},
            self.timings,
        )
        self.node_index = {name: i for i, name in enumerate(scenario.nodes.name)}
        self.sched_mstep = per_market_step(schedule.node_inj_mw, tsp.granularity_min // tsp.physical_step_min)
        lead = tsp.activation_delay_min + tsp.clearing_latency_min + tsp.gate_closure_min
        F, P = tsp.clearing_frequency_min, tsp.physical_step_min
        self.clear_at: dict[int, list[int]] = defaultdict(list)
        for c in range(tsp.n_clearings):
            self.clear_at[max(0, int(np.floor((c * F - lead) / P)))].append(c)
        self.measured = MeasuredState(schedule.node_inj_mw[:, 0].copy(), 0)
        self.deferred = DeferredEnergy(schedule.payback, len(scenario.nodes))
        """Activations dispatched so far per node and the energy they deferred (the forecast's)."""
        self.firm: dict[int, tuple[BidBook, np.ndarray]] = {}  # clearing -> (bids, activation (n_bids, H))

    def simulate(self, progress: Progress) -> SchemeRun:
        """The loop over the day's physical steps; returns the run's KPIs and market statistics."""
        tsp = self.scenario.spec.timing
        K = tsp.n_physical_steps
        for k in range(K):
            check_cancelled(progress)
            t_min = tsp.start_h * 60 + k * tsp.physical_step_min
            clearings = self.clear_at.get(k, [])
            j = (k * tsp.physical_step_min) // tsp.granularity_min
            c_now = (j * tsp.granularity_min) // tsp.clearing_frequency_min  # the clearing in force
            d = None if c_now in clearings else self._dispatch(k)
            for c in clearings:
                self._clear(c, k, t_min)
            self._step(k, t_min, d)
            progress.report((k + 1) / K, step_message(self.behaviour.scheme_id, k + 1, K))
        stats: dict[str, float] = {"market_cpu_s": self.timings.get("market_cpu_s", 0.0)}
        for what, count in self.clearing.stats.items():
            stats[f"n_clearings_{what}"] = float(count)
        nb = np.asarray(self.clearing.binaries, dtype=float)
        if nb.size:
            stats["n_binaries_min"] = float(nb.min())
            stats["n_binaries_max"] = float(nb.max())
            stats["n_binaries_mean"] = float(nb.mean())
            stats["n_clearings_with_binaries"] = float((nb > 0).sum())
        kpis = self.recorder.result_kpis()
        return SchemeRun(
            self.behaviour.scheme_id, kpis, market_stats=stats, failed_clearings=list(self.recorder.failures)
        )

    def _clear(self, c: int, k: int, t_min: float) -> None:
        """Forecast, bidding and clearing of clearing ``c`` at physical step ``k``; records it."""
        scen, tsp = self.scenario, self.scenario.spec.timing
        G, F, H, K = (
            tsp.granularity_min,
            tsp.clearing_frequency_min,
            tsp.steps_per_horizon,
            tsp.n_physical_steps,
        )
        j0 = (c * F) // G  # first market step of the clearing
        t0 = time.perf_counter()
        share = float(self.parties["share_frac"].sum()) if self.parties is not None else 0.0
        fc = forecast_clearing(
            scen,
            self.schedule,
            self.sched_mstep,
            j0,
            H,
            self.measured,
            self.clearing.t_load_buses,
            self.clearing.need_weights,
            share,
            self.deferred,
            self.behaviour.interface_schedule,
        )
        t1 = time.perf_counter()
        self.timings["forecast"] += t1 - t0
        book = collect_bids(
            scen,
            self.devices,
            self.ctx,
            k,
            H,
            self.schedule.gen_mw[:, min(k, K - 1)],
            self.node_index,
            self.parties,
            fc.need_mw,
            self.clearing.reach,
            f"c{c}:",
            k_delivery=j0 * (G // tsp.physical_step_min),
        )
        t2 = time.perf_counter()
        self.timings["bidding"] += t2 - t1
        cpu = time.process_time()  # the market's wall time also counts other processes' load
        root_vm = {f: float(n.ext_grid.vm_pu.iloc[0]) for f, n in self.net.fnets.items()}
        outcome = self.clearing.clear(c, book, fc, root_vm)
        self.timings["market"] += time.perf_counter() - t2
        self.timings["market_cpu_s"] += time.process_time() - cpu
        self.firm[c] = (outcome.book, outcome.activation_mw)
        self.recorder.clearing(c, t_min, tsp.start_h * 60 + j0 * G, outcome)

    def _dispatch(self, k: int) -> DispatchOutcome:
        """Dispatch of physical step ``k``: the firm activation in force becomes set-points, passed to the
        deferred-energy tracker (recorded by :meth:`_step`, after the step's clearings, as before)."""
        scen, tsp = self.scenario, self.scenario.spec.timing
        P, G, F = tsp.physical_step_min, tsp.granularity_min, tsp.clearing_frequency_min
        td = time.perf_counter()
        j = (k * P) // G
        c_now = (j * G) // F
        d = dispatch_step(
            self.firm.get(c_now),
            j - (c_now * F) // G,
            self.devices,
            self.ctx,
            k,
            len(scen.nodes),
            scen.tso_gens["bus"].size,
            self.net.t_node_idx,
            len(scen.aggregators),
            self.rng_dispatch,
            G // P,
            max(1, F // G),
        )
        self.deferred.advance(k, d.node_delta_mw)
        self.timings["dispatch"] += time.perf_counter() - td
        return d

    def _step(self, k: int, t_min: float, d: DispatchOutcome | None) -> None:
        """Dispatch (unless done already: ``d``), physics, measurement and recording of physical step
        ``k``."""
        scen = self.scenario
        if d is None:
            d = self._dispatch(k)
        td = time.perf_counter()
        self.recorder.setpoints(t_min, d)
        self.timings["dispatch"] += time.perf_counter() - td
        p = physics_step(
            scen, self.schedule, self.net, self.devices, self.ctx, k, d, self.rng_noise, self.timings
        )
        self.recorder.physics(p)
        if any(g == "transmission" for g, _ in (*p.tripped, *p.restored)):  # the market's model follows
            tp = time.perf_counter()
            self.clearing.after_trip(self.net.tnet, self.net.t_own_p_mw)
            self.timings["physics_network"] += time.perf_counter() - tp
        tm = time.perf_counter()
        m = measure(scen, self.net, p.true_injection_mw, self.rng_meas)
        self.measured = MeasuredState(m.p_measured_mw, k)
        self.recorder.measurements(t_min, m, p)
        self.timings["measurements"] += time.perf_counter() - tm
        self.recorder.end_of_step(k)


__all__ = ["LAYERS", "RUN_FAILURES", "SchemeRun", "run_scheme"]
