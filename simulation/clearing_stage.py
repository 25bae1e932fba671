"""The clearing stage: the market operator of a scheme clears one interval's bids on the grid it sees.

Thin over :mod:`simulation.market`: :func:`market_grids` turns the scenario's pandapower nets into the
market's grid models (DC transmission, SOCP DistFlow feeders, copper plates), :func:`market_case` puts
one clearing's forecast, bids and needs on them, and :class:`ClearingStage` clears it under the scheme's
market architecture (:attr:`simulation.schemes.SchemeBehaviour.market_architecture`), in one
:class:`simulation.market.MarketSession` for the day where the scheme allows
(:class:`SessionClearer`), otherwise with :func:`simulation.market.clear` afresh. A clearing without a
usable solution is returned as failed (:class:`ClearingOutcome`), never hidden.

After a transmission line trips, :meth:`ClearingStage.after_trip` rebuilds the market's transmission model
and the set of nodes it still reaches.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook
from coordstudio.simulation.bidding.universe import bid_key
from coordstudio.simulation.errors import InfeasibleMarketError, SimulationError, SolverFailedError
from coordstudio.simulation.forecast import ClearingForecast, Schedule
from coordstudio.simulation.physical.network import Q_PER_P_LOAD, load_shares
from coordstudio.simulation.scenario.build import Scenario


def market_grids(scenario: Scenario, tnet: Any | None = None) -> tuple[Any, list[Any], list[Any]]:
    """The market layer's grid models of the scenario (DC transmission, SOCP feeders, copper plates)."""
    from coordstudio.simulation.market import CopperPlateNode, DistributionGrid, TransmissionGrid

    tg = TransmissionGrid.from_pandapower(tnet if tnet is not None else scenario.transmission_net)
    dgs = []
    for fs in scenario.spec.feeders:
        dgs.append(
            DistributionGrid.from_pandapower(
                scenario.feeder_nets[fs.feeder_id],
                fs.feeder_id,
                interface_node=f"t{fs.interface_bus}",
                dso_id=fs.dso_id,
                vmin_pu=fs.vm_min_pu,
                vmax_pu=fs.vm_max_pu,
            )
        )
    cps = [
        CopperPlateNode(cp.node_id, f"t{cp.interface_bus}", cp.dso_id)
        for cp in scenario.spec.copper_plate_nodes
    ]
    return tg, dgs, cps


def reset_highs_scheduler() -> None:
    """Drop the calling thread's HiGHS task scheduler; the next solve starts one of its own ``threads``.

    HiGHS keeps one task scheduler per calling thread, sized by the ``threads`` option of that thread's
    first solve and kept for every later one; a later solve asking for another size fails at once
    (``HighsStatus.kError``, model status ``kNotset``: "Option 'threads' is set to 1 but the scheduler has
    already been initialized to use 2 threads"), which the market layer reports as a failed clearing. The
    platform clears with ``threads=1`` (reproducible KPIs), so a scheme run after any HiGHS solve with the
    default thread count in the same thread failed every clearing, and so did the forked scheme workers of
    such a process (a forked child inherits the parent's scheduler). Tested in
    ``tests/simulation/test_sim_highs_threads.py``.

    Only safe for a scheduler this process started: a forked child must not reset one it inherited (the
    reset joins the parent's worker threads, which do not exist in the child: a segmentation fault once
    the child has started threads of its own, seen in the tests). :func:`simulate` therefore resets in
    the parent before it forks the scheme workers, and the workers do not reset at the start of a run.
    """
    try:
        import highspy
    except ImportError:  # another solver; nothing to reset
        return
    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:
        reset(True)  # blocking: the old scheduler's workers have stopped when the next solve starts


_OPEN_ENERGY_MWH = 1e6
"""Energy limits (MWh) given to a storage pool's group of the session's universe that has no bid in the
clearing (its bids offer 0 MW, so the limits cannot bind)."""


class SessionClearer:
    """One scheme's market over the day: a :class:`~simulation.market.MarketSession` while the clearing's
    structure allows it, otherwise (and for the schemes without ``market_session`` in the registry)
    ``clear()``.

    **Stable bid universe.** A session's bids are fixed: every upward and downward bid any aggregator pool
    (aggregator, node, aggregation model) can make, every transmission generator's two bids and (IFM)
    every commercial party's buy and sell bid in both directions
    (:func:`simulation.bidding.universe.bid_universe`, a fixed order), at the nodes the market's
    transmission model reaches. A clearing's bids (:class:`BidBook`) are written into it with
    :meth:`MarketSession.update` (quantity, price; a bid absent from the clearing offers 0 MW, which makes
    its variable 0, so the problem is the one ``clear()`` would solve on the clearing's own bids) and the
    activations are read back for the clearing's bids. On the default day that is 636 bids for about 160
    in a clearing; growing the universe with the bids seen so far instead kept it at 150-280 but made a
    new session at 14 of 24 clearings (a pool offering in a direction for the first time), which cost more
    than the bigger model (CM market 3.2 s against 1.5 s over the day).

    **Structure.** A new session (built at its first clearing) only when the transmission model changes
    (a trip: new DC model, bids at isolated buses and distribution areas cut off leave the universe); the
    structure key is the transmission model's version. A DSO's substation voltage set-point (a tap move)
    is a parameter of the session (``update(root_voltage_pu=...)``), as are the feeders' active and
    reactive loads (``distribution_load_mw``, ``distribution_qload_mvar``).

    **Energy limits.** A storage pool's up and down bids share an energy group whose limits follow the
    devices' state of charge every clearing. They are parameters of the session
    (``update(energy_limits_mwh=...)``): each re-clearing writes the limits of every group of the
    session's universe, the clearing's own for the groups that bid in it and open ones
    (:data:`_OPEN_ENERGY_MWH`) for the others, whose bids offer 0 MW anyway. The re-clearing solves the
    clearing's own problem, so no check of the solution against the limits a session was built with is
    needed (the former certificate, which replaced the session when a kept limit that differed was
    active, is gone). The same holds for the product catalogue's other linking rows (a TCL pool's
    deferral-payback groups, an atomic pool's start-time groups): their limits are parameters, and the
    on/off products (fill-or-kill profile bids, exclusive start times) are part of the universe's fixed
    structure, so every re-clearing is a MISOCP solved through the same model.
    """

    def __init__(
        self,
        market_architecture: str,
        options: Any,
        use_sessions: bool,
        universe_keys: list[tuple[Any, ...]],
        universe_book: BidBook,
    ) -> None:
        from coordstudio.simulation.market import MarketSession, clear

        self.scheme = market_architecture
        """The market layer's clearing (:func:`simulation.market.clear`'s ``scheme``)."""
        self.options = options
        self.use_sessions = use_sessions
        self._clear = clear
        self._Session = MarketSession
        self._keys_all = universe_keys
        self._book_all = universe_book
        self.session: Any = None
        self._structure: Any = None
        self._rows: np.ndarray = np.zeros(0, dtype=np.int64)  # universe rows of the session's bids
        self._book_session = universe_book  # the session's bids (the universe at reached nodes), 0 MW
        self._row_of: dict[tuple[Any, ...], int] = {}
        self.stats: dict[str, int] = defaultdict(int)

    def clear(self, case: Any, book: BidBook, tag: str, structure: Any, reach: np.ndarray) -> Any:
        """Clear ``case`` (built on ``book``); returns ``(result, activation (len(book), H))``."""
        if not self.use_sessions:
            self.stats["fresh"] += 1
            result = self._clear(case, self.scheme, self.options)
            return result, np.asarray(result.activation_mw, dtype=float)
        idx = [self._row_of.get(bid_key(book, b), -1) for b in range(len(book))]
        if self.session is None or structure != self._structure or min(idx, default=0) < 0:
            if self.session is not None:
                self.stats["structure_change" if structure != self._structure else "new_bid"] += 1
            return self._new_session(case, book, tag, structure, reach)
        ucase = self._universe_case(case, book, tag)
        assert self.session is not None
        s = self.session
        s.update(
            needs_mw=case.needs_mw,
            quantity_mw=ucase.bids.quantity_mw,
            price_eur_per_mwh=ucase.bids.price_eur_per_mwh,
            base_injection_mw=case.transmission.base_injection_mw,
            distribution_load_mw={dg.grid_id: dg.base_p_mw for dg in case.distribution},
            distribution_qload_mvar={dg.grid_id: dg.base_q_mvar for dg in case.distribution},
            root_voltage_pu={dg.grid_id: dg.v_root_pu for dg in case.distribution},
            energy_limits_mwh={g: (e.min_mwh, e.max_mwh) for g, e in ucase.bids.energy_constraints.items()},
        )
        try:
            result = s.clear()
        except SimulationError:
            self.stats["failed_reclear"] += 1
            return self._new_session(case, book, tag, structure, reach)
        self.stats["reused"] += 1
        a_u = np.asarray(result.activation_mw, dtype=float)
        return result, a_u[np.asarray(idx, dtype=np.int64)]

    # ------------------------------------------------------------------ internals
    def _new_session(self, case: Any, book: BidBook, tag: str, structure: Any, reach: np.ndarray) -> Any:
        take = reach[self._book_all.node]
        keep = np.flatnonzero(take)
        self._rows = keep
        self._book_session = self._book_all.subset(take)
        self._row_of = {self._keys_all[r]: i for i, r in enumerate(keep.tolist())}
        self._structure = structure
        idx = [self._row_of.get(bid_key(book, b), -1) for b in range(len(book))]
        if min(idx, default=0) < 0:  # a bid outside the universe (cannot happen): clear it afresh
            self.session = None
            self.stats["fresh"] += 1
            result = self._clear(case, self.scheme, self.options)
            return result, np.asarray(result.activation_mw, dtype=float)
        ucase = self._universe_case(case, book, tag)
        self.session = self._Session(ucase, self.scheme, self.options)
        self.stats["built"] += 1
        try:
            result = self.session.clear()
        except SimulationError:
            self.session = None  # the next clearing starts afresh; the caller counts this one as failed
            raise
        a_u = np.asarray(result.activation_mw, dtype=float)
        return result, a_u[np.asarray(idx, dtype=np.int64)]

    def _universe_case(self, case: Any, book: BidBook, tag: str) -> Any:
        """``case`` with the session's bids: the clearing's quantities and prices where it has the bid,
        0 MW elsewhere; the energy limits of the clearing's storage groups, open ones for the others."""
        ub = copy.copy(self._book_session)
        H = book.quantity_mw.shape[1]
        q = np.zeros((len(ub), H))
        pr = np.zeros((len(ub), H))
        if len(book):
            pos = np.array([self._row_of[bid_key(book, b)] for b in range(len(book))], dtype=np.int64)
            q[pos] = book.quantity_mw
            pr[pos] = book.price_eur_per_mwh
        ub.quantity_mw = q
        ub.price_eur_per_mwh = pr
        limits = {g[len(tag) :]: v for g, v in book.energy_groups.items()}
        ub.energy_groups = {
            g: limits.get(g, (-_OPEN_ENERGY_MWH, _OPEN_ENERGY_MWH))
            for g in dict.fromkeys(ub.energy_group)
            if g
        }
        return dataclasses.replace(case, bids=ub.to_bid_table())


def market_case(
    scenario: Scenario,
    schedule: Schedule,
    tg: Any,
    dgs: list[Any],
    cps: list[Any],
    base_nodes: np.ndarray,
    steps_j: np.ndarray,
    book: BidBook,
    needs: dict[str, Any],
    timing: Any,
    penalty: float,
    m: int,
    t_index: dict[str, int],
    interface_schedule: bool,
    name: str,
    net_root_vm: dict[str, float],
) -> Any:
    """Market case of one clearing: grids with the forecast base, the bids, the TSO's needs.

    ``interface_schedule``: the DSOs' grids carry the scheduled interface draw (SBR); ``net_root_vm``: each
    feeder's substation voltage set-point (the tap changer position the DSO knows from SCADA)."""
    from coordstudio.simulation.market import MarketCase

    nodes = scenario.nodes
    spec = scenario.spec
    H = steps_j.size
    # transmission base: scheduled generators, transmission devices, loads, area draws (balanced at the ref)
    inj_t = np.zeros((tg.n_nodes, H))
    gmask = np.minimum(steps_j * m, schedule.gen_mw.shape[1] - 1)
    gens = scenario.tso_gens
    # (buses isolated by a tripped line are not in the model: what sits there is left out)
    for g in range(gens["bus"].size):
        row = t_index.get(f"t{int(gens['bus'][g])}")
        if row is not None:
            inj_t[row] += schedule.gen_mw[g, gmask]
    tl = scenario.transmission_net.load
    for i, b in enumerate(tl.bus.to_numpy()):
        row = t_index.get(f"t{int(b)}")
        if row is not None:
            inj_t[row] -= schedule.t_load_mw[i, gmask]
    tsel = np.flatnonzero(nodes.kind == "transmission")
    for ti in tsel.tolist():
        row = t_index.get(nodes.name[ti])
        if row is not None:
            inj_t[row] += base_nodes[ti]
    connected: set[str] = set()
    for area in spec.area_ids:
        sel = np.flatnonzero(nodes.area == area)
        row = t_index.get(f"t{int(nodes.interface_bus[sel[0]])}")
        if row is not None:
            connected.add(area)
            inj_t[row] += base_nodes[sel].sum(axis=0)  # net injection of the area (losses neglected)
    inj_t[tg.ref_node] -= inj_t.sum(axis=0)
    tgc = dataclasses.replace(tg, base_injection_mw=inj_t)
    dgc = []
    for fs, dg in zip(spec.feeders, dgs, strict=True):
        if fs.feeder_id not in connected:
            continue
        sel = np.flatnonzero(nodes.area == fs.feeder_id)
        idx = dg.node_index()
        p = np.zeros((dg.n_nodes, H))
        for ni in sel.tolist():
            row = idx.get(nodes.name[ni])
            if row is not None:
                p[row] -= base_nodes[ni]
        q = np.maximum(p, 0.0) * Q_PER_P_LOAD
        sched = None
        if interface_schedule:
            sched = schedule.area_draw_mw[fs.feeder_id][np.minimum(steps_j * m, schedule.gen_mw.shape[1] - 1)]
        # the DSO knows its substation's voltage set-point (tap changer position) from SCADA
        v_root = float(net_root_vm.get(fs.feeder_id, dg.v_root_pu))
        dgc.append(dataclasses.replace(dg.with_base(p, q, sched), v_root_pu=v_root))
    return MarketCase(
        transmission=tgc,
        bids=book.to_bid_table(),
        needs_mw=needs,
        distribution=dgc,
        copper_plates=[cp for cp in cps if cp.node_id in connected],
        timing=timing,
        slack_penalty_eur_per_mwh=penalty,
        name=name,
    )


def count_binaries(bids: Any) -> int:
    """Binaries of the clearing problem of ``bids`` (a :class:`~simulation.market.BidTable`), as the
    market layer declares them for the offered (bid, step) pairs: one on/off binary per step an on/off
    bid (fill-or-kill, minimum quantity or duration) offers in, one selection binary per offered bid of an
    exclusive group. Zero means the clearing is a pure SOCP (no MISOCP path)."""
    offered = bids.quantity_mw > 0
    on_off = bids.fill_or_kill | (bids.min_quantity_mw > 0) | (bids.min_duration_steps > 1)
    n_u = int(offered[on_off].sum())
    n_z = int(((bids.exclusive_group != "") & offered.any(axis=1)).sum())
    return n_u + n_z


@dataclass
class ClearingOutcome:
    """One clearing's result as the later stages need it."""

    book: BidBook
    """The clearing's bids."""
    activation_mw: np.ndarray
    """(n_bids, H) activation per bid and market step (zeros for a failed clearing)."""
    result: Any | None
    """The market layer's :class:`~simulation.market.MarketResult`; None when the clearing failed."""
    error: str | None = None
    """Why the clearing has no usable solution (solver failure, infeasible), else None."""
    failure_kind: str | None = None
    """What kind of failure: ``"infeasible"`` (proved infeasible even with slack), ``"time_limit"`` (stopped
    by the solver's time limit without a usable solution) or ``"solver"`` (any other solver failure); None
    when the clearing was solved."""
    needs_mw: dict[str, Any] = field(default_factory=dict)
    """The operators' need per node id and market step the clearing bought (its buyers' side: what
    :class:`~simulation.recording.kpi_accumulator.KpiAccumulator` prices as their payments), MW."""


def failure_kind(exc: Exception) -> str:
    """``"infeasible"``, ``"time_limit"`` or ``"solver"``: the kind of a clearing's failure, from its error
    (the market layer names a time limit by the solver's status, ``kTimeLimit`` / ``maxTimeLimit``)."""
    if isinstance(exc, InfeasibleMarketError):
        return "infeasible"
    text = str(exc).lower()
    if "timelimit" in text or "time limit" in text or "time_limit" in text:
        return "time_limit"
    return "solver"


class ClearingStage:
    """The market operator of one scheme over the day: its view of the grid and its clearer.

    Holds what the market knows of the transmission grid (its DC model, the nodes it reaches, the share
    of each transmission load in the TSO's need), which changes only when a line trips
    (:meth:`after_trip`)."""

    def __init__(
        self,
        scenario: Scenario,
        schedule: Schedule,
        behaviour: Any,
        load_share: np.ndarray,
        *,
        market_sessions: bool,
        block_workers: int | None,
        universe: tuple[list[tuple[Any, ...]], BidBook],
    ) -> None:
        from coordstudio.simulation.market import ClearingOptions, MarketTiming

        spec = scenario.spec
        tsp = spec.timing
        self.scenario = scenario
        self.schedule = schedule
        self.behaviour = behaviour
        self.tg, self.dgs, self.cps = market_grids(scenario)
        self.t_index: dict[str, int] = self.tg.node_index()
        self.reach = np.ones(len(scenario.nodes), dtype=bool)
        """Nodes the market's transmission model still connects."""
        self.t_load_buses = scenario.transmission_net.load.bus.to_numpy()[: load_share.size]
        self.need_weights = load_share
        """Share of each transmission load in the TSO's need (non-negative, summing to 1)."""
        self.grid_version = 0
        """The transmission model's version: a new session after a trip."""
        G, F, H = tsp.granularity_min, tsp.clearing_frequency_min, tsp.steps_per_horizon
        self.timing = MarketTiming(
            horizon_steps=H,
            granularity_min=float(G),
            clearing_interval_min=float(F),
            rolling=F < H * G,
            gate_closure_min=float(tsp.gate_closure_min),
            activation_delay_min=float(tsp.activation_delay_min),
            clearing_latency_min=float(tsp.clearing_latency_min),
        )
        # one solver thread: every scheme already has its own process, and a single-threaded HiGHS gives the
        # same activations in every run (reproducible KPIs, SQLite == PostgreSQL, serial == distributed)
        options = ClearingOptions(
            solver="highs", curve_points=spec.prices.curve_points, threads=1, block_workers=block_workers
        )
        keys_u, book_u = universe
        self.binaries: list[int] = []
        """Binaries of each clearing's own problem (:func:`count_binaries`), in clearing order."""
        self.clearer = SessionClearer(behaviour.market_architecture, options, market_sessions, keys_u, book_u)

    def clear(
        self, c: int, book: BidBook, fc: ClearingForecast, root_vm: dict[str, float]
    ) -> ClearingOutcome:
        """Clear clearing ``c`` on its forecast ``fc``; ``root_vm``: the feeders' substation voltages now."""
        spec = self.scenario.spec
        tsp = spec.timing
        case = market_case(
            self.scenario,
            self.schedule,
            self.tg,
            self.dgs,
            self.cps,
            fc.base_nodes_mw,
            fc.steps_j,
            book,
            fc.needs_mw,
            self.timing,
            spec.prices.slack_penalty_eur_per_mwh,
            tsp.granularity_min // tsp.physical_step_min,
            self.t_index,
            self.behaviour.interface_schedule,
            f"{self.behaviour.scheme_id} clearing {c}",
            root_vm,
        )
        self.binaries.append(count_binaries(case.bids))
        structure = self.grid_version  # a tap move (root_vm) is a parameter of the session, not structure
        try:
            result, a = self.clearer.clear(case, book, f"c{c}:", structure, self.reach)
        except (SolverFailedError, InfeasibleMarketError) as exc:
            # a clearing without a usable solution activates nothing: aFRR covers the step
            return ClearingOutcome(
                book, np.zeros((len(book), self.timing.horizon_steps)), None, str(exc), failure_kind(exc)
            )
        return ClearingOutcome(book, a, result, needs_mw=fc.needs_mw)

    def after_trip(self, tnet: Any, t_own_p_mw: np.ndarray) -> None:
        """A transmission line tripped: the market's DC model of ``tnet`` (the physical grid now), the nodes
        it still reaches and the need's shares of the loads it reaches. Left unchanged when the tripped
        grid cannot be modelled (e.g. no reference bus left)."""
        nodes = self.scenario.nodes
        try:
            # a copy: the DC power flow of the model's import must not overwrite the physical results
            tg_new, _, _ = market_grids(self.scenario, copy.deepcopy(tnet))
        except SimulationError:
            return
        self.tg = dataclasses.replace(tg_new)
        self.t_index = self.tg.node_index()
        self.grid_version += 1
        # buses isolated by the trip leave the market's model, with every node behind them
        t_name = [f"t{int(b)}" for b in nodes.interface_bus]  # a transmission node's own bus
        self.reach = np.array([t_name[i] in self.t_index for i in range(len(nodes))])
        self.need_weights = load_shares(
            np.where([f"t{int(b)}" in self.t_index for b in self.t_load_buses], t_own_p_mw, 0.0)
        )

    @property
    def stats(self) -> dict[str, int]:
        """How the clearings were made (``built``, ``reused``, ``fresh``, ``structure_change``, ``new_bid``,
        ``failed_reclear``; see :class:`SessionClearer`)."""
        return dict(self.clearer.stats)


__all__ = [
    "ClearingOutcome",
    "ClearingStage",
    "SessionClearer",
    "count_binaries",
    "failure_kind",
    "market_case",
    "market_grids",
    "reset_highs_scheduler",
]
