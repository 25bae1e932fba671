"""The simulation platform: bidding, market and physical layers in a loop over the day, per scheme.

``simulate(spec, schemes, db_url, progress)`` builds the scenario once, computes the schedule of the
earlier markets (a noise-free run of the devices and feeders without any AS market), and then simulates
every scheme independently (in worker processes when the machine has more than one core), each writing
its run into the results database. Per scheme, at each physical step ``k``:

1. **bidding** for every clearing whose information time (delivery start - activation delay - clearing
   latency - gate closure) falls in this step: aggregators pool their devices' flexibility into bids
   (:mod:`simulation.bidding`), transmission generators and (IFM) commercial parties bid too;
2. **market**: the clearing of the scheme (:func:`simulation.market.clear`) on the grids built from the
   pandapower nets, with the scheduled injections corrected by the latest measurements (with
   state-estimation error) and the TSO's imbalance forecast as need;
3. **dispatch**: the firm activation in force for this step is split into device set-points;
4. **physics**: devices move (with noise), feeders and transmission AC power flows, SCADA, aFRR covering
   the residual imbalance, protections; measurements for the next clearing; KPIs accumulate.

Every exchange between actors is a row of the ``messages`` table (sender, receiver, their SGAM actor
roles, information object, count, bytes, time).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import multiprocessing as mp
import os
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.bidding.aggregators import (
    AGGREGATION_MODELS,
    BidBook,
    append_bids,
    build_bids,
    commercial_bids,
    generator_bids,
    pool_keys,
)
from simulation.bidding.dispatch import disaggregate
from simulation.db import ResultsWriter, fingerprint_of, make_engine, spec_json_of
from simulation.errors import InfeasibleMarketError, SimulationError, SolverFailedError
from simulation.kpis import SCHEME_IDS, SchemeKpis
from simulation.physical.models import ModelContext, init_state
from simulation.physical.models import step as device_step
from simulation.physical.network import Q_PER_P_LOAD, PhysicalNetwork, load_shares
from simulation.progress import NullProgress, Progress, RunCancelled, check_cancelled
from simulation.scenario import ScenarioSpec
from simulation.scenario.build import Scenario, build_scenario

MESSAGE_BYTES: dict[str, int] = {
    "bid": 200,
    "clearing_result": 150,
    "setpoint": 150,
    "der_measurement": 200,
    "ss_measurement": 1_000,
    "ps_measurement": 2_000,
    "interface_measurement": 500,
    "imbalance_need": 500,
    "state_estimate": 100_000,
    "aggregated_curve": 10_000,
    "interface_activation": 1_000,
    "interface_schedule": 2_000,
    "prequal_result": 10_000,
    "activation_info": 5_000,
    "commercial_order": 500,
}
"""Bytes per message of each information object (per bid, per set-point, per measurement, ...), from the
default SGAM library's payload sizes where one message carries one item (assumption, order of magnitude)."""

MARKET_ROLE: dict[str, str] = {
    "CMS": "tso_market",
    "LMS": "dso_market",
    "SBR": "dso_market",
    "CM": "tso_market",  # the common market runs on the TSO's platform, as in the SGAM library
    "IFM": "imo_platform",
}
"""SGAM actor role of the market operator that receives distribution-connected bids, per scheme."""


# ------------------------------------------------------------------------------------ schedule run


@dataclass
class Schedule:
    """Positions from the earlier markets, per physical step (the noise-free run without AS market)."""

    node_inj_mw: np.ndarray
    """(n_nodes, K) scheduled net injection of the devices at each node (feeders: plus own loads)."""
    area_draw_mw: dict[str, np.ndarray]
    """Area -> (K,) scheduled draw from the transmission grid (feeders: with their losses)."""
    t_load_mw: np.ndarray
    """(n_tloads, K) scheduled transmission loads (the case's own loads)."""
    gen_mw: np.ndarray
    """(n_gens, K) scheduled transmission generators."""
    nonslack_injection_mw: np.ndarray
    """(K,) sum of every scheduled non-slack transmission-level injection."""
    load_frac: np.ndarray
    """(K,) load profile fraction used for the grids' own loads."""


def _node_sums(devices_p: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    n = len(scenario.nodes)
    out = np.zeros(n)
    for cat, p in devices_p.items():
        if p.size:
            out += np.bincount(scenario.devices[cat].node, p, n)
    return out / 1000.0


def _load_q(devices_p: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    n = len(scenario.nodes)
    out = np.zeros(n)
    for cat, p in devices_p.items():
        if p.size:
            out += np.bincount(scenario.devices[cat].node, np.minimum(p, 0.0), n)
    return out / 1000.0 * Q_PER_P_LOAD


def model_context(scenario: Scenario) -> ModelContext:
    """Device-model context of a scenario."""
    t = scenario.spec.timing
    return ModelContext(
        profiles=scenario.profiles,
        dt_h=t.physical_step_min / 60.0,
        start_h=t.start_h,
        noise_frac=scenario.spec.imbalance.device_noise_std_frac,
    )


def fresh_devices(scenario: Scenario, ctx: ModelContext) -> dict[str, Any]:
    """A copy of the scenario's devices with their initial state (same for every scheme)."""
    devices = copy.deepcopy(scenario.devices)
    init_state(
        devices,
        ctx,
        np.random.default_rng(scenario.spec.seed + 7),
        [g.profile for g in scenario.spec.device_groups],
    )
    return devices


def compute_schedule(scenario: Scenario) -> Schedule:
    """The earlier markets' schedule: devices without noise or AS market, feeders' AC power flows."""
    spec = scenario.spec
    ctx = model_context(scenario)
    devices = fresh_devices(scenario, ctx)
    net = PhysicalNetwork(scenario)
    K = spec.timing.n_physical_steps
    n = len(scenario.nodes)
    node_inj = np.zeros((n, K))
    draws = {a: np.zeros(K) for a in spec.area_ids}
    load_frac = scenario.profiles["load"]
    for k in range(K):
        p = {cat: device_step(dev, ctx, k, None, None).p_kw for cat, dev in devices.items()}
        inj = _node_sums(p, scenario)
        q = _load_q(p, scenario)
        for fs in spec.feeders:
            sel = net._feeder_node_idx[fs.feeder_id]
            draw, _, _ = net.feeder_step(fs.feeder_id, inj[sel], q[sel], load_frac[k], None, [])
            draws[fs.feeder_id][k] = draw
            inj[sel] += net.own_load_injection(fs.feeder_id)
        for cp in spec.copper_plate_nodes:
            draws[cp.node_id][k] = -inj[scenario.nodes.index(cp.node_id)]
        node_inj[:, k] = inj
    t_load = net._t_own_p[:, None] * load_frac[None, :]
    tsel = net._t_node_idx
    t_dev = node_inj[tsel].sum(axis=0)
    demand = t_load.sum(axis=0) + sum(draws.values()) - t_dev
    gens = scenario.tso_gens
    # the generators share the demand in proportion to their case dispatch and cover it together (the
    # slack bus covers the losses): normalising by the case's load instead left the schedule unbalanced
    # by the difference between the case dispatch's level and the devices' draws (14.6 GW in the first
    # hour of the Italian scenario once its static generators are schedulable)
    case_total = float(np.sum(gens["p_sched_mw"]))
    gen = gens["p_sched_mw"][:, None] * (demand / max(case_total, 1e-9))[None, :]
    gen = np.minimum(gen, gens["p_max_mw"][:, None])
    nonslack = gen.sum(axis=0) - demand
    return Schedule(node_inj, draws, t_load, gen, nonslack, load_frac)


# ------------------------------------------------------------------------------------ market grids


def market_grids(scenario: Scenario, tnet: Any | None = None) -> tuple[Any, list[Any], list[Any]]:
    """The market layer's grid models of the scenario (DC transmission, SOCP feeders, copper plates)."""
    from simulation.market import CopperPlateNode, DistributionGrid, TransmissionGrid

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


# ------------------------------------------------------------------------------------------ one scheme


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


SESSION_SCHEMES = ("CM", "IFM")
"""Schemes whose day is cleared in one :class:`simulation.market.MarketSession` (while the structure holds).

CMS is left to :func:`simulation.market.clear`: its DSO pre-qualification depends on the grid state of
each clearing, and a session fixes it at its first clearing. LMS and SBR were left out when a session
could not update the storage pools' energy limits, which their sub-clearings (local markets, curve
points, disaggregation) carry; ``MarketSession.update`` now takes them, but no platform run of these
schemes with a session has been compared with fresh clearings yet, so they still call ``clear()``."""

_OPEN_ENERGY_MWH = 1e6
"""Energy limits (MWh) given to a storage pool's group of the session's universe that has no bid in the
clearing (its bids offer 0 MW, so the limits cannot bind)."""


class _MarketClearer:
    """One scheme's market over the day: a :class:`~simulation.market.MarketSession` while the clearing's
    structure allows it, otherwise (and for the schemes outside :data:`SESSION_SCHEMES`) ``clear()``.

    **Stable bid universe.** A session's bids are fixed: every upward and downward bid any aggregator pool
    (aggregator, node, aggregation model) can make, every transmission generator's two bids and (IFM)
    every commercial party's buy and sell bid in both directions (:func:`_bid_universe`, a fixed order), at
    the nodes the market's transmission model reaches. A clearing's bids (:class:`BidBook`) are written
    into it with :meth:`MarketSession.update` (quantity, price; a bid absent from the clearing offers 0 MW,
    which makes its variable 0, so the problem is the one ``clear()`` would solve on the clearing's own
    bids) and the activations are read back for the clearing's bids. On the default day that is 636 bids
    for about 160 in a clearing; growing the universe with the bids seen so far instead kept it at 150-280
    but made a new session at 14 of 24 clearings (a pool offering in a direction for the first time),
    which cost more than the bigger model (CM market 3.2 s against 1.5 s over the day).

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
    active, is gone). Every aggregator bid is curtailable (no binaries); a clearing with any on/off
    product is cleared with ``clear()``.
    """

    def __init__(
        self,
        scheme: str,
        options: Any,
        use_sessions: bool,
        universe_keys: list[tuple[Any, ...]],
        universe_book: BidBook,
    ) -> None:
        from simulation.market import MarketSession, clear

        self.scheme = scheme
        self.options = options
        self.use_sessions = use_sessions and scheme in SESSION_SCHEMES
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

    @staticmethod
    def key_of(book: BidBook, b: int) -> tuple[Any, ...]:
        """Identity of bid ``b`` across clearings (its id without the clearing's tag)."""
        if book.model[b] == "generator":
            return ("gen", int(book.gen[b]), int(book.direction[b]))
        if book.model[b] == "commercial":
            return ("cp", int(book.gen[b]), book.side[b], int(book.direction[b]))
        return ("pool", int(book.pool[b]), int(book.direction[b]))

    def clear(self, case: Any, book: BidBook, tag: str, structure: Any, reach: np.ndarray) -> Any:
        """Clear ``case`` (built on ``book``); returns ``(result, activation (len(book), H))``."""
        if not self.use_sessions:
            self.stats["fresh"] += 1
            result = self._clear(case, self.scheme, self.options)
            return result, np.asarray(result.activation_mw, dtype=float)
        idx = [self._row_of.get(self.key_of(book, b), -1) for b in range(len(book))]
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
        idx = [self._row_of.get(self.key_of(book, b), -1) for b in range(len(book))]
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
            pos = np.array([self._row_of[self.key_of(book, b)] for b in range(len(book))], dtype=np.int64)
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


def _bid_universe(
    scenario: Scenario, devices: dict[str, Any], parties: dict[str, np.ndarray] | None, H: int
) -> tuple[list[tuple[Any, ...]], BidBook]:
    """Every bid the scheme's clearings can contain (:class:`_MarketClearer`), with 0 MW: per aggregator
    pool (from the devices' fixed aggregator, node and category) up and down, per transmission generator
    up and down, per commercial party buy and sell in both directions. Keys as
    :meth:`_MarketClearer.key_of`."""
    nodes = scenario.nodes
    n_nodes = len(nodes)
    node_index = {name: i for i, name in enumerate(nodes.name)}
    rows: list[dict[str, Any]] = []
    pools: set[int] = set()
    for cat, dev in devices.items():
        if cat == "noncontrollable_load" or len(dev) == 0:
            continue
        pools.update(pool_keys(dev, n_nodes)[dev.aggregator >= 0].tolist())
    for pool in sorted(pools):
        agg_idx, node_idx, model = _decode_pool(pool, n_nodes)
        agg, node = scenario.aggregators[agg_idx], nodes.name[node_idx]
        for d in (1, -1):
            rows.append(
                {
                    "key": ("pool", pool, d),
                    "bid_id": f"{agg}/{node}/{model}/{'up' if d > 0 else 'down'}",
                    "owner": agg,
                    "node": node_idx,
                    "direction": d,
                    "aggregator": agg_idx,
                    "model": model,
                    "pool": pool,
                    "gen": -1,
                    "party": "bsp",
                    "side": "sell",
                    "energy_group": f"{agg}/{node}/storage" if model == "storage" else "",
                }
            )
    gens = scenario.tso_gens
    for g in range(gens["bus"].size):
        node = f"t{int(gens['bus'][g])}"
        for d in (1, -1):
            rows.append(
                {
                    "key": ("gen", g, d),
                    "bid_id": f"GEN{g}/{node}/{'up' if d > 0 else 'down'}",
                    "owner": f"GEN{g}",
                    "node": node_index[node],
                    "direction": d,
                    "aggregator": -1,
                    "model": "generator",
                    "pool": -1,
                    "gen": g,
                    "party": "bsp",
                    "side": "sell",
                    "energy_group": "",
                }
            )
    if parties is not None:
        for c in range(parties["bus"].size):
            node = f"t{int(parties['bus'][c])}"
            for side in ("buy", "sell"):
                for d in (1, -1):
                    rows.append(
                        {
                            "key": ("cp", c, side, d),
                            "bid_id": f"CP{c}/{node}/{side}/{'up' if d > 0 else 'down'}",
                            "owner": f"CP{c}",
                            "node": node_index[node],
                            "direction": d,
                            "aggregator": -2,
                            "model": "commercial",
                            "pool": -1,
                            "gen": c,
                            "party": "commercial",
                            "side": side,
                            "energy_group": "",
                        }
                    )
    n = len(rows)
    book = BidBook(
        bid_id=[r["bid_id"] for r in rows],
        owner=[r["owner"] for r in rows],
        node=np.array([r["node"] for r in rows], dtype=np.int64),
        node_name=[nodes.name[r["node"]] for r in rows],
        direction=np.array([r["direction"] for r in rows], dtype=np.int8),
        aggregator=np.array([r["aggregator"] for r in rows], dtype=np.int64),
        model=[r["model"] for r in rows],
        pool=np.array([r["pool"] for r in rows], dtype=np.int64),
        gen=np.array([r["gen"] for r in rows], dtype=np.int64),
        party=[r["party"] for r in rows],
        side=[r["side"] for r in rows],
        quantity_mw=np.zeros((n, H)),
        price_eur_per_mwh=np.zeros((n, H)),
        energy_groups={},
        energy_group=[r["energy_group"] for r in rows],
    )
    return [r["key"] for r in rows], book


def _bid_universe_empty(H: int) -> BidBook:
    return BidBook(
        [],
        [],
        np.zeros(0, np.int64),
        [],
        np.zeros(0, np.int8),
        np.zeros(0, np.int64),
        [],
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        [],
        [],
        np.zeros((0, H)),
        np.zeros((0, H)),
        {},
        [],
    )


@dataclass
class _Acc:
    """KPI accumulators of one scheme's run."""

    activation_cost_eur: float = 0.0
    afrr_mwh: float = 0.0
    afrr_cost_eur: float = 0.0
    congestion_h: float = 0.0
    overload_mwh: float = 0.0
    voltage_h: float = 0.0
    curtailed_mwh: float = 0.0
    losses_mwh: float = 0.0
    slack_mwh: float = 0.0
    slack_cost_eur: float = 0.0
    unserved_mwh: float = 0.0
    lines_tripped: int = 0
    failed_clearings: int = 0
    congestion_by_grid: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    voltage_by_grid: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bids_by_area: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    activated_by_area: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    msgs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))


class _Messages:
    """Collects message rows and per-pair counts."""

    def __init__(self, acc: _Acc) -> None:
        self.rows: list[dict[str, Any]] = []
        self.acc = acc

    def log(
        self, t_min: float, sender: str, s_role: str, receiver: str, r_role: str, obj: str, count: int
    ) -> None:
        if count <= 0:
            return
        nbytes = int(count * MESSAGE_BYTES.get(obj, 500))
        self.rows.append(
            {
                "time_min": t_min,
                "sender": sender,
                "sender_role": s_role,
                "receiver": receiver,
                "receiver_role": r_role,
                "information_object": obj,
                "n_messages": int(count),
                "bytes": nbytes,
            }
        )
        pair = f"{s_role}->{r_role}"
        self.acc.msgs[pair] += int(count)
        self.acc.bytes[pair] += nbytes

    def take(self) -> list[dict[str, Any]]:
        rows, self.rows = self.rows, []
        return rows


def simulate_scheme(
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
) -> tuple[SchemeKpis, dict[str, float]]:
    """Simulate one scheme over the scenario's day; returns its KPIs and the time per layer (s), plus
    ``cpu_s`` (the run's CPU time) and the market statistics of :data:`MARKET_STAT_KEYS` (``market_cpu_s``,
    ``n_clearings_built`` / ``_reused`` / ``_fresh`` / ...), which :func:`simulate` keeps apart from the
    layers (:data:`LAST_MARKET_STATS`).

    ``reset_solver_threads``: drop this thread's HiGHS scheduler first (:func:`reset_highs_scheduler`), so
    an earlier solve with another thread count does not fail the clearings, and drop the run's own at the
    end (no size left behind for a later solve). False in a forked worker of :func:`simulate`, whose
    parent reset before forking (a worker's schemes all clear with ``threads=1``, so they share one).

    ``market_sessions``: clear the schemes of :data:`SESSION_SCHEMES` in one
    :class:`~simulation.market.MarketSession` while the structure allows (:class:`_MarketClearer`);
    False: ``clear()`` afresh every interval (the reference the sessions are tested against).

    ``block_workers``: threads for the independent blocks of a clearing
    (:attr:`~simulation.market.ClearingOptions.block_workers`; None: one per core, as when the scheme
    runs alone; :func:`simulate`'s worker processes pass 1, the processes already share the cores).
    Every HiGHS solve still uses one thread, so the KPIs do not depend on it.

    Raises :class:`RunCancelled` (after marking the run ``cancelled`` in the database) when ``progress``
    asks to stop.
    """
    from simulation.market import ClearingOptions, MarketCase, MarketTiming

    progress = progress or NullProgress()
    logging.getLogger("pandapower").setLevel(logging.ERROR)  # numba notice of pandapower's DC power flow
    if reset_solver_threads:
        reset_highs_scheduler()
    spec = scenario.spec
    t_spec = spec.timing
    acc = _Acc()
    msg = _Messages(acc)
    spec_json = spec_json_of(spec)
    writer = (
        ResultsWriter(db_url, scheme, fingerprint or fingerprint_of(spec_json), spec.name, spec_json)
        if db_url
        else None
    )
    cpu0 = time.process_time()
    try:
        kpis = _run(
            scenario,
            schedule,
            scheme,
            writer,
            progress,
            acc,
            msg,
            ClearingOptions,
            MarketCase,
            MarketTiming,
            market_sessions,
            block_workers,
        )
    except RunCancelled:
        if writer is not None:
            writer.finish("cancelled")
        raise
    except BaseException:
        if writer is not None:
            writer.finish("failed")
        raise
    finally:
        if reset_solver_threads:
            reset_highs_scheduler()  # started by this run in this thread: leaves no size behind
    if writer is not None:
        t0 = time.perf_counter()
        writer.add("kpis", [{"name": k, "value": float(v)} for k, v in _flat_kpis(kpis).items()])
        writer.finish("completed", t_spec.n_clearings)
        acc.timings["database"] += time.perf_counter() - t0
    out = dict(acc.timings)
    out["cpu_s"] = time.process_time() - cpu0
    return kpis, out


def _flat_kpis(k: SchemeKpis) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in k.model_dump().items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                out[f"{name}[{sub}]"] = float(v)
    return out


def _run(
    scenario: Scenario,
    schedule: Schedule,
    scheme: str,
    writer: ResultsWriter | None,
    progress: Progress,
    acc: _Acc,
    msg: _Messages,
    ClearingOptions: Any,
    MarketCase: Any,
    MarketTiming: Any,
    market_sessions: bool = True,
    block_workers: int | None = None,
) -> SchemeKpis:
    spec = scenario.spec
    tsp = spec.timing
    nodes = scenario.nodes
    n_nodes = len(nodes)
    P = tsp.physical_step_min
    G = tsp.granularity_min
    F = tsp.clearing_frequency_min
    H = tsp.steps_per_horizon
    dt_h = P / 60.0
    K = tsp.n_physical_steps
    firm_per_clearing = F // G
    ctx = model_context(scenario)
    devices = fresh_devices(scenario, ctx)
    rng_noise = np.random.default_rng(spec.seed + 11)
    rng_dispatch = np.random.default_rng(spec.seed + 13)
    rng_meas = np.random.default_rng(spec.seed + 17)
    net = PhysicalNetwork(scenario)
    t0 = time.perf_counter()
    tg, dgs, cps = market_grids(scenario)
    acc.timings["market"] += time.perf_counter() - t0
    node_index = {name: i for i, name in enumerate(nodes.name)}
    t_index = tg.node_index()
    timing = MarketTiming(
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
    lead = tsp.activation_delay_min + tsp.clearing_latency_min + tsp.gate_closure_min
    n_clear = tsp.n_clearings
    info_step = {c: max(0, int(np.floor((c * F - lead) / P))) for c in range(n_clear)}
    clear_at: dict[int, list[int]] = defaultdict(list)
    for c, k in info_step.items():
        clear_at[k].append(c)
    # state of the measurements (latest known): per node net injection and per-bus voltage
    meas_inj = schedule.node_inj_mw[:, 0].copy()
    meas_step = 0
    firm: dict[int, tuple[BidBook, np.ndarray]] = {}  # clearing -> (bids, activation (n_bids, H))
    t_load_buses = scenario.transmission_net.load.bus.to_numpy()[: net._t_own_p.size]
    need_weights = net.load_share  # non-negative, summing to 1 (border equivalents take no share)
    reach = np.ones(n_nodes, dtype=bool)  # nodes the market's transmission model still connects
    parties = _commercial_parties(scenario)
    sched_mstep = _per_market_step(schedule.node_inj_mw, G // P)
    dso_of_area = {fs.feeder_id: fs.dso_id for fs in spec.feeders} | {
        c.node_id: c.dso_id for c in spec.copper_plate_nodes
    }
    penalty = spec.prices.slack_penalty_eur_per_mwh
    market_role = MARKET_ROLE[scheme]
    sessions = market_sessions and scheme in SESSION_SCHEMES
    keys_u, book_u = (
        _bid_universe(scenario, devices, parties if scheme == "IFM" else None, H)
        if sessions
        else ([], _bid_universe_empty(H))
    )
    clearer = _MarketClearer(scheme, options, sessions, keys_u, book_u)
    grid_version = 0  # the transmission model's version: a new session after a trip

    for k in range(K):
        check_cancelled(progress)
        t_min = tsp.start_h * 60 + k * P
        # ---------------------------------------------------------------- bidding + market
        for c in clear_at.get(k, []):
            tb = time.perf_counter()
            j0 = (c * F) // G  # first market step of the clearing
            tag = f"c{c}:"
            book = build_bids(
                devices,
                ctx,
                k,
                H,
                nodes.name,
                scenario.aggregators,
                spec.prices.risk_premium_eur_per_mwh,
                min_bid_mw=spec.prices.min_bid_mw,
                tag=tag,
            )
            book = append_bids(
                book,
                generator_bids(scenario.tso_gens, schedule.gen_mw[:, min(k, K - 1)], node_index, H, tag=tag),
            )
            steps_j = np.minimum(np.arange(j0, j0 + H), sched_mstep.shape[1] - 1)
            need_sys = scenario.imbalance_forecast_mw[
                np.minimum(steps_j, scenario.imbalance_forecast_mw.size - 1)
            ]
            dev_meas = float(
                (schedule.node_inj_mw[:, meas_step] - meas_inj)[nodes.kind != "transmission"].sum()
            )
            need_sys = need_sys + dev_meas
            if scheme == "IFM" and parties is not None:
                book = append_bids(book, commercial_bids(parties, need_sys * 1.0, node_index, tag=tag))
            if not reach[book.node].all():  # bids behind a tripped line cannot be offered to this market
                book = book.subset(reach[book.node])
            acc.timings["bidding"] += time.perf_counter() - tb
            tm = time.perf_counter()
            tm_cpu = time.process_time()  # the market's wall time also counts other processes' load
            # base: schedule per horizon step + latest measured deviation, per node
            dev = meas_inj - schedule.node_inj_mw[:, meas_step]
            base_nodes = sched_mstep[:, steps_j] + dev[:, None]
            ifm_share = parties["share_frac"].sum() if (scheme == "IFM" and parties is not None) else 0.0
            needs: dict[str, np.ndarray] = {}
            for b, w in zip(t_load_buses, need_weights, strict=True):
                if w > 0:  # the TSO's need, spread over the transmission loads (several may share a bus)
                    key = f"t{int(b)}"
                    needs[key] = needs.get(key, 0.0) + need_sys * (1.0 - ifm_share) * w
            root_vm = {f: float(n.ext_grid.vm_pu.iloc[0]) for f, n in net.fnets.items()}
            case = _market_case(
                scenario,
                schedule,
                tg,
                dgs,
                cps,
                base_nodes,
                steps_j,
                book,
                needs,
                timing,
                penalty,
                G // P,
                t_index,
                scheme,
                c,
                MarketCase,
                root_vm,
            )
            structure = grid_version  # a tap move (root_vm) is a parameter of the session, not structure
            try:
                result, a = clearer.clear(case, book, tag, structure, reach)
            except (SolverFailedError, InfeasibleMarketError) as exc:
                # a clearing without a usable solution activates nothing: aFRR covers the step, and the
                # failure is counted (KPI failed_clearings) and stored with its message
                acc.timings["market"] += time.perf_counter() - tm
                acc.timings["market_cpu_s"] += time.process_time() - tm_cpu
                acc.failed_clearings += 1
                firm[c] = (book, np.zeros((len(book), H)))
                if writer is not None:
                    writer.add(
                        "clearings",
                        [
                            {
                                "clearing": c,
                                "time_min": tsp.start_h * 60 + j0 * G,
                                "status": f"failed: {exc}"[:300],
                                "objective_eur": None,
                                "activation_cost_eur": 0.0,
                                "slack_energy_mwh": 0.0,
                                "n_bids": len(book),
                                "n_activated": 0,
                                "build_time_s": 0.0,
                                "solve_time_s": 0.0,
                            }
                        ],
                    )
                continue
            acc.timings["market"] += time.perf_counter() - tm
            acc.timings["market_cpu_s"] += time.process_time() - tm_cpu
            firm[c] = (book, a)
            _record_clearing(
                writer,
                msg,
                acc,
                c,
                j0,
                G,
                tsp.start_h,
                book,
                result,
                a,
                firm_per_clearing,
                dt_h * (G // P),
                scheme,
                market_role,
                nodes.area,
                dso_of_area,
                spec,
                t_min,
                penalty,
            )
        # ---------------------------------------------------------------- dispatch
        td = time.perf_counter()
        j = (k * P) // G
        c_now = (j * G) // F
        s = j - (c_now * F) // G
        pool_act: dict[int, tuple[float, float]] = {}
        gen_delta = np.zeros(scenario.tso_gens["bus"].size)
        extra_inj = np.zeros(net._t_node_idx.size)
        if c_now in firm and s < firm[c_now][1].shape[1]:
            book, a = firm[c_now]
            col = a[:, s]
            on = np.flatnonzero(col > 1e-9)
            for b in on:
                if book.pool[b] >= 0:
                    u, d = pool_act.get(int(book.pool[b]), (0.0, 0.0))
                    if book.direction[b] > 0:
                        u += col[b]
                    else:
                        d += col[b]
                    pool_act[int(book.pool[b])] = (u, d)
                elif book.model[b] == "generator":
                    gen_delta[book.gen[b]] += book.direction[b] * col[b]
                elif book.model[b] == "commercial" and book.side[b] == "sell":
                    tpos = int(np.searchsorted(net._t_node_idx, book.node[b]))
                    extra_inj[tpos] += book.direction[b] * col[b]
        deltas = disaggregate(devices, ctx, k, pool_act, n_nodes, rng_dispatch)
        # set-points: devices moved per pool (table setpoints) and per aggregator (messages)
        moved_per_pool: dict[int, int] = defaultdict(int)
        moved_per_agg = np.zeros(len(scenario.aggregators), dtype=np.int64)
        for cat, delta in deltas.items():
            moved = delta != 0
            if moved.any():
                keys, counts = np.unique(pool_keys(devices[cat], n_nodes)[moved], return_counts=True)
                for key, cnt in zip(keys.tolist(), counts.tolist(), strict=True):
                    moved_per_pool[int(key)] += int(cnt)
                moved_per_agg += np.bincount(devices[cat].aggregator[moved], minlength=moved_per_agg.size)
        if pool_act and writer is not None:
            sp_rows = []
            for pool, (a_up, a_down) in pool_act.items():
                agg_idx, node_idx, model = _decode_pool(pool, n_nodes)
                sp_rows.append(
                    {
                        "time_min": t_min,
                        "aggregator": scenario.aggregators[agg_idx],
                        "node": nodes.name[node_idx],
                        "model": model,
                        "delta_mw": a_up - a_down,
                        "n_devices": moved_per_pool.get(pool, 0),
                    }
                )
            writer.add("setpoints", sp_rows)
        for agg_i, agg_name in enumerate(scenario.aggregators):
            msg.log(
                t_min,
                agg_name,
                "agg_platform",
                f"DER@{scenario.aggregator_area[agg_i]}",
                "der_gateway",
                "setpoint",
                int(moved_per_agg[agg_i]),
            )
        acc.timings["dispatch"] += time.perf_counter() - td
        # ---------------------------------------------------------------- physics
        tp = time.perf_counter()
        p_dev: dict[str, np.ndarray] = {}
        for cat, dev in devices.items():
            out = device_step(dev, ctx, k, deltas.get(cat), rng_noise)
            p_dev[cat] = out.p_kw
            if out.curtailed_kw is not None:
                acc.curtailed_mwh += float(out.curtailed_kw.sum()) / 1000.0 * dt_h
        acc.timings["physics_devices"] += time.perf_counter() - tp
        tp = time.perf_counter()
        inj = _node_sums(p_dev, scenario)
        q = _load_q(p_dev, scenario)
        lf = schedule.load_frac[k]
        draws: dict[str, float] = {}
        draws_q: dict[str, float] = {}
        actions: list[tuple[str, str, float]] = []
        true_inj = inj.copy()
        for fs in spec.feeders:
            sel = net._feeder_node_idx[fs.feeder_id]
            fnet = net.fnets[fs.feeder_id]
            noise = spec.imbalance.load_forecast_error_std_frac * rng_noise.standard_normal(
                net._feeder_own_p[fs.feeder_id].size
            )
            draw, loss, unserved = net.feeder_step(fs.feeder_id, inj[sel], q[sel], lf, noise, actions)
            draws[fs.feeder_id] = draw
            draws_q[fs.feeder_id] = float(fnet.res_ext_grid.q_mvar.sum())
            acc.losses_mwh += loss * dt_h
            acc.unserved_mwh += unserved * dt_h
            true_inj[sel] += net.own_load_injection(fs.feeder_id)
        for cp in spec.copper_plate_nodes:
            i = nodes.index(cp.node_id)
            draws[cp.node_id] = -inj[i]
            draws_q[cp.node_id] = -q[i]
        t_noise = spec.imbalance.load_forecast_error_std_frac * rng_noise.standard_normal(net._t_own_p.size)
        j_im = min(j, scenario.imbalance_mw.size - 1)
        gen_p = schedule.gen_mw[:, k] + gen_delta
        afrr, residual, slack, t_loss = net.transmission_step(
            draws,
            draws_q,
            inj[net._t_node_idx],
            lf,
            t_noise,
            float(scenario.imbalance_mw[j_im]),
            gen_p,
            extra_inj,
            float(schedule.nonslack_injection_mw[k]),
        )
        acc.afrr_mwh += abs(afrr) * dt_h
        acc.afrr_cost_eur += (
            (spec.prices.afrr_price_up_eur_per_mwh if afrr > 0 else spec.prices.afrr_price_down_eur_per_mwh)
            * abs(afrr)
            * dt_h
        )
        # grid KPIs
        for grid_key, gnet in net.grids():
            loading = gnet.res_line.loading_percent.reindex(gnet.line.index).to_numpy(float)  # by line id
            on = gnet.line.in_service.to_numpy(bool) & np.isfinite(loading)
            over = on & (loading > 100.0)
            acc.congestion_h += float(over.sum()) * dt_h
            acc.congestion_by_grid[grid_key] += float(over.sum()) * dt_h
            if over.any():
                vn = gnet.bus.vn_kv.loc[gnet.line.from_bus].to_numpy(float)
                s_rated = (
                    np.sqrt(3) * vn * gnet.line.max_i_ka.to_numpy(float) * gnet.line.parallel.to_numpy(float)
                )
                acc.overload_mwh += float(((loading[over] - 100.0) / 100.0 * s_rated[over]).sum()) * dt_h
            vm = gnet.res_bus.vm_pu.reindex(gnet.bus.index).to_numpy(float)  # by bus id
            lo, hi = gnet.bus.min_vm_pu.to_numpy(float), gnet.bus.max_vm_pu.to_numpy(float)
            ok = np.isfinite(vm)
            v_h = float(((vm[ok] < lo[ok] - 1e-6) | (vm[ok] > hi[ok] + 1e-6)).sum()) * dt_h
            acc.voltage_h += v_h
            acc.voltage_by_grid[grid_key] += v_h
        tripped = net.protect()
        acc.lines_tripped += len(tripped)
        if any(g == "transmission" for g, _ in tripped):
            try:
                # a copy: the DC power flow of the model's import must not overwrite the physical results
                tg_new, _, _ = market_grids(scenario, copy.deepcopy(net.tnet))
                tg = dataclasses.replace(tg_new)
                t_index = tg.node_index()
                grid_version += 1
                # buses isolated by the trip leave the market's model, with every node behind them
                t_name = [f"t{int(b)}" for b in nodes.interface_bus]  # a transmission node's own bus
                reach = np.array([t_name[i] in t_index for i in range(n_nodes)])
                need_weights = load_shares(
                    np.where([f"t{int(b)}" in t_index for b in t_load_buses], net._t_own_p, 0.0)
                )
            except SimulationError:
                pass
        acc.timings["physics_network"] += time.perf_counter() - tp
        # ---------------------------------------------------------------- measurements
        tm = time.perf_counter()
        err = spec.measurement.p_error_std_frac * rng_meas.standard_normal(n_nodes)
        meas_inj = true_inj * (1.0 + err)
        meas_step = k
        vm_true = np.full(n_nodes, np.nan)
        for fs in spec.feeders:
            sel = net._feeder_node_idx[fs.feeder_id]
            vm_true[sel] = net.fnets[fs.feeder_id].res_bus.vm_pu.reindex(nodes.bus[sel]).to_numpy(float)
        tsel = net._t_node_idx
        vm_true[tsel] = net.tnet.res_bus.vm_pu.reindex(nodes.bus[tsel]).to_numpy(float)
        vm_meas = vm_true + spec.measurement.vm_error_std_pu * rng_meas.standard_normal(n_nodes)
        if writer is not None:
            writer.add(
                "measurements",
                [
                    {
                        "time_min": t_min,
                        "node": nodes.name[i],
                        "p_mw": float(true_inj[i]),
                        "p_measured_mw": float(meas_inj[i]),
                        "vm_pu": None if not np.isfinite(vm_true[i]) else float(vm_true[i]),
                        "vm_measured_pu": None if not np.isfinite(vm_meas[i]) else float(vm_meas[i]),
                    }
                    for i in range(n_nodes)
                ],
            )
        for fs in spec.feeders:
            nb = int(net._feeder_node_idx[fs.feeder_id].size)
            msg.log(
                t_min,
                f"RTU@{fs.feeder_id}",
                "rtu_secondary",
                f"DMS@{fs.dso_id}",
                "dso_dms",
                "ss_measurement",
                nb,
            )
            msg.log(
                t_min,
                f"RTU@{fs.feeder_id}",
                "rtu_primary",
                f"DMS@{fs.dso_id}",
                "dso_dms",
                "ps_measurement",
                1,
            )
            msg.log(
                t_min, f"RTU@{fs.feeder_id}", "rtu_primary", "EMS@TSO", "tso_ems", "interface_measurement", 1
            )
        for cp in spec.copper_plate_nodes:
            msg.log(
                t_min, f"RTU@{cp.node_id}", "rtu_primary", "EMS@TSO", "tso_ems", "interface_measurement", 1
            )
        for agg_i, agg in enumerate(scenario.aggregators):
            cnt = sum(int(np.count_nonzero(d.aggregator == agg_i)) for d in devices.values())
            msg.log(
                t_min,
                f"DER@{scenario.aggregator_area[agg_i]}",
                "der_gateway",
                agg,
                "agg_platform",
                "der_measurement",
                cnt,
            )
        for g, _act, _val in actions:
            msg.log(t_min, f"DMS@{g}", "dso_dms", f"RTU@{g}", "rtu_primary", "setpoint", 1)
        if writer is not None:
            writer.add("messages", msg.take())
        acc.timings["measurements"] += time.perf_counter() - tm
        if writer is not None and (k + 1) % 8 == 0:
            tdb = time.perf_counter()
            writer.flush(n_clearings=sum(1 for c in firm))
            acc.timings["database"] += time.perf_counter() - tdb
        progress.report((k + 1) / K, f"{scheme}: step {k + 1}/{K}")

    for what, count in clearer.stats.items():  # how the clearings were made (benchmarks, tests)
        acc.timings[f"n_clearings_{what}"] = float(count)
    return SchemeKpis(
        scheme=scheme,
        day=spec.name,
        duration_h=tsp.duration_h,
        activation_cost_eur=acc.activation_cost_eur,
        afrr_energy_mwh=acc.afrr_mwh,
        afrr_cost_eur=acc.afrr_cost_eur,
        congestion_hours_h=acc.congestion_h,
        overload_energy_mwh=acc.overload_mwh,
        voltage_violation_hours_h=acc.voltage_h,
        curtailed_res_mwh=acc.curtailed_mwh,
        losses_mwh=acc.losses_mwh,
        slack_energy_mwh=acc.slack_mwh,
        slack_cost_eur=acc.slack_cost_eur,
        lines_tripped=acc.lines_tripped,
        failed_clearings=acc.failed_clearings,
        energy_not_served_mwh=acc.unserved_mwh,
        congestion_hours_by_grid=dict(acc.congestion_by_grid),
        voltage_violation_hours_by_grid=dict(acc.voltage_by_grid),
        bids_submitted_by_area=dict(acc.bids_by_area),
        bids_activated_by_area=dict(acc.activated_by_area),
        messages_by_pair=dict(acc.msgs),
        bytes_by_pair=dict(acc.bytes),
    )


def _decode_pool(key: int, n_nodes: int) -> tuple[int, int, str]:
    n_models = len(AGGREGATION_MODELS)
    return key // (n_models * n_nodes), (key // n_models) % n_nodes, AGGREGATION_MODELS[key % n_models]


def _per_market_step(x: np.ndarray, m: int) -> np.ndarray:
    n, K = x.shape
    J = K // m
    return x[:, : J * m].reshape(n, J, m).mean(axis=2)


def _commercial_parties(scenario: Scenario) -> dict[str, np.ndarray] | None:
    spec = scenario.spec
    n = spec.commercial_parties
    if n == 0:
        return None
    rng = np.random.default_rng(spec.seed + 23)
    buses = scenario.transmission_net.load.bus.to_numpy()
    spread = spec.prices.commercial_bid_price_spread_eur_per_mwh
    return {
        "bus": rng.choice(buses, n),
        "share_frac": np.full(n, 0.4 / n),
        "value_eur_per_mwh": 60.0 + spread * rng.uniform(-1, 1, n),
        "sell_mw": rng.uniform(1.0, 3.0, n),
        "sell_price_eur_per_mwh": 60.0 + spread * rng.uniform(-1, 1, n),
    }


def _market_case(
    scenario: Scenario,
    schedule: Schedule,
    tg: Any,
    dgs: list[Any],
    cps: list[Any],
    base_nodes: np.ndarray,
    steps_j: np.ndarray,
    book: BidBook,
    needs: dict[str, np.ndarray],
    timing: Any,
    penalty: float,
    m: int,
    t_index: dict[str, int],
    scheme: str,
    c: int,
    MarketCase: Any,
    net_root_vm: dict[str, float],
) -> Any:
    """Market case of one clearing: grids with the forecast base, the bids, the TSO's needs."""
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
        if scheme == "SBR":
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
        name=f"{scheme} clearing {c}",
    )


def _record_clearing(
    writer: ResultsWriter | None,
    msg: _Messages,
    acc: _Acc,
    c: int,
    j0: int,
    G: int,
    start_h: float,
    book: BidBook,
    result: Any,
    a: np.ndarray,
    n_firm: int,
    dt_mstep_h: float,
    scheme: str,
    market_role: str,
    area_of_node: np.ndarray,
    dso_of_area: dict[str, str],
    spec: ScenarioSpec,
    t_min: float,
    penalty: float,
) -> None:
    """KPIs, database rows and messages of one clearing (firm steps only count in the KPIs)."""
    firm_cols = list(range(min(n_firm, a.shape[1])))
    t_first = start_h * 60 + j0 * G
    prices = result.prices
    price_map: dict[tuple[str, int], float] = {}
    if len(prices):
        for nd, st, pr in zip(prices["node"], prices["step"], prices["price_eur_per_mwh"], strict=True):
            price_map[(str(nd), int(st))] = float(pr)
    cost = 0.0
    for b in np.flatnonzero((a[:, firm_cols] > 1e-9).any(axis=1)).tolist() if firm_cols else []:
        if book.side[b] == "buy":
            continue
        for s in firm_cols:
            q = a[b, s]
            if q <= 1e-9:
                continue
            lmp = price_map.get((book.node_name[b], s), float("nan"))
            unit = (
                book.direction[b] * lmp
                if np.isfinite(lmp) and abs(lmp) < penalty * 0.5
                else book.price_eur_per_mwh[b, s]
            )
            cost += unit * q * dt_mstep_h
    acc.activation_cost_eur += cost
    if len(result.slack):
        sl = result.slack[result.slack["step"].isin(firm_cols)]
        e = float((sl["slack_up_mw"] + sl["slack_down_mw"]).sum()) * dt_mstep_h
        acc.slack_mwh += e
        acc.slack_cost_eur += e * penalty
    # liquidity per DSO area
    for b in range(len(book)):
        area = area_of_node[book.node[b]]
        if area == "transmission":
            continue
        acc.bids_by_area[area] += 1
        if firm_cols and (a[b, firm_cols] > 1e-9).any():
            acc.activated_by_area[area] += 1
    # messages: bids aggregator -> market, results back, needs, curves, schedules
    by_owner: dict[str, int] = defaultdict(int)
    area_of_owner: dict[str, str] = {}
    for b in range(len(book)):
        by_owner[book.owner[b]] += 1
        area_of_owner[book.owner[b]] = area_of_node[book.node[b]]
    central_role = "imo_platform" if scheme == "IFM" else "tso_market"
    central_name = "IMO" if scheme == "IFM" else "TSO_MARKET"
    for owner, cnt in by_owner.items():
        area = area_of_owner[owner]
        if owner.startswith("CP"):
            role, recv_role, recv, obj = "cp_platform", "imo_platform", "IMO", "commercial_order"
        elif area == "transmission" or owner.startswith("GEN"):
            role, recv_role, recv, obj = "agg_platform", central_role, central_name, "bid"
        else:
            role, recv_role, obj = "agg_platform", market_role, "bid"
            recv = {"tso_market": "TSO_MARKET", "imo_platform": "IMO"}.get(
                market_role, f"{dso_of_area[area]}_MARKET"
            )
        msg.log(t_min, owner, role, recv, recv_role, obj, cnt)
        n_act = sum(1 for b in range(len(book)) if book.owner[b] == owner and (a[b] > 1e-9).any())
        msg.log(t_min, recv, recv_role, owner, role, "clearing_result", n_act)
    msg.log(t_min, "EMS@TSO", "tso_ems", central_name, central_role, "imbalance_need", 1)
    for dso in dict.fromkeys(dso_of_area.values()):
        if scheme in ("LMS",):
            msg.log(t_min, f"{dso}_MARKET", "dso_market", "TSO_MARKET", "tso_market", "aggregated_curve", 1)
            msg.log(
                t_min, "TSO_MARKET", "tso_market", f"{dso}_MARKET", "dso_market", "interface_activation", 1
            )
        if scheme in ("LMS", "SBR"):
            msg.log(t_min, f"DMS@{dso}", "dso_dms", f"{dso}_MARKET", "dso_market", "state_estimate", 1)
        if scheme in ("CM", "IFM"):  # the central market models the distribution grids
            msg.log(t_min, f"DMS@{dso}", "dso_dms", central_name, central_role, "state_estimate", 1)
        if scheme == "SBR":
            msg.log(t_min, "EMS@TSO", "tso_ems", f"DMS@{dso}", "dso_dms", "interface_schedule", 1)
        if scheme == "CMS":
            msg.log(t_min, f"DMS@{dso}", "dso_dms", "TSO_MARKET", "tso_market", "prequal_result", 1)
            msg.log(t_min, "TSO_MARKET", "tso_market", f"DMS@{dso}", "dso_dms", "activation_info", 1)
    if writer is None:
        return
    writer.add(
        "bids",
        [
            {
                "clearing": c,
                "bid_id": book.bid_id[b],
                "owner": book.owner[b],
                "node": book.node_name[b],
                "direction": "up" if book.direction[b] > 0 else "down",
                "model": book.model[b],
                "quantity_mw": float(book.quantity_mw[b, 0]),
                "price_eur_per_mwh": float(book.price_eur_per_mwh[b, 0]),
                "energy_mwh": float(book.quantity_mw[b].sum() * dt_mstep_h),
            }
            for b in range(len(book))
        ],
    )
    writer.add(
        "clearings",
        [
            {
                "clearing": c,
                "time_min": t_first,
                "status": result.status,
                "objective_eur": float(result.objective_eur),
                "activation_cost_eur": float(result.activation_cost_eur),
                "slack_energy_mwh": float(result.slack_energy_mwh),
                "n_bids": len(book),
                "n_activated": int((a > 1e-9).any(axis=1).sum()),
                "build_time_s": float(result.build_time_s),
                "solve_time_s": float(result.solve_time_s),
            }
        ],
    )
    rows = []
    for b, s in zip(*np.nonzero(a > 1e-9), strict=True):
        rows.append(
            {
                "clearing": c,
                "bid_id": book.bid_id[b],
                "step": int(s),
                "firm": bool(s < n_firm),
                "activation_mw": float(a[b, s]),
                "clearing_price_eur_per_mwh": price_map.get((book.node_name[b], int(s))),
            }
        )
    writer.add("activations", rows)
    writer.add(
        "prices",
        [
            {"clearing": c, "node": nd, "step": st, "price_eur_per_mwh": (pr if np.isfinite(pr) else None)}
            for (nd, st), pr in price_map.items()
        ],
    )


# ------------------------------------------------------------------------------------------ entry point


def _worker(args: tuple[Any, ...]) -> tuple[str, SchemeKpis | None, dict[str, float], str | None]:
    scenario, schedule, scheme, db_url, fingerprint, queue, cancel, market_sessions = args

    class _QueueProgress:
        def report(self, fraction: float, message: str) -> None:
            queue.put((scheme, fraction, message))

        def cancelled(self) -> bool:
            return bool(cancel.is_set())

    try:
        # the parent reset its HiGHS scheduler before forking: nothing inherited, nothing to reset here
        kpis, timings = simulate_scheme(
            scenario,
            schedule,
            scheme,
            db_url,
            _QueueProgress(),
            fingerprint,
            reset_solver_threads=False,
            market_sessions=market_sessions,
            block_workers=1,
        )
        return scheme, kpis, timings, None
    except RunCancelled:
        return scheme, None, {}, "cancelled"
    except SimulationError as exc:
        return scheme, None, {}, f"error:{type(exc).__name__}:{exc}"
    except Exception:
        return scheme, None, {}, "crash:" + traceback.format_exc()


_EXPECTED_COST = {"LMS": 2.2, "CMS": 1.8, "SBR": 1.25, "IFM": 1.1, "CM": 1.0}
"""Relative run time of the schemes on the default day (measured; only orders the work)."""

LAST_TIMINGS: dict[str, dict[str, float]] = {}
"""Time per layer (s) of the schemes of the last :func:`simulate` call in this process (benchmarks)."""

MARKET_STAT_KEYS = ("market_cpu_s", "n_clearings_")
"""Prefixes of the market statistics in a scheme's timings (not layers: CPU seconds and clearing counts)."""

LAST_MARKET_STATS: dict[str, dict[str, float]] = {}
"""Market statistics of the schemes of the last :func:`simulate` call in this process: the market's CPU
time and how the clearings were made (``n_clearings_built``, ``_reused``, ``_fresh``, ``_structure_change``,
``_new_bid``, ``_failed_reclear``; see :class:`_MarketClearer`)."""


def _is_market_stat(key: str) -> bool:
    return key.startswith(MARKET_STAT_KEYS)


def simulate(
    spec: ScenarioSpec,
    schemes: list[str] | tuple[str, ...] | None = None,
    db_url: str | None = None,
    progress: Progress | None = None,
    fingerprint: str | None = None,
    processes: int | None = None,
    market_sessions: bool = True,
) -> dict[str, SchemeKpis]:
    """Simulate every scheme of ``schemes`` (default: the spec's) over the scenario's day.

    Parameters
    ----------
    spec: the scenario.
    schemes: scheme ids (``simulation.kpis.SCHEME_IDS``).
    db_url: SQLAlchemy URL of the results database (``sqlite:///path`` or ``postgresql+psycopg://...``);
        None writes no database.
    progress: progress and cancellation (:mod:`simulation.progress`).
    fingerprint: stored in the runs table (default: SHA-256 of the scenario's JSON).
    processes: worker processes (default: one per scheme up to the number of cores; 1 = in this process).
    market_sessions: CM and IFM keep one market session per run (:class:`_MarketClearer`); False clears
        afresh every interval.

    Returns
    -------
    dict scheme id -> :class:`SchemeKpis`, in the order of ``schemes``.

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
    results: dict[str, SchemeKpis] = {}
    timings: dict[str, dict[str, float]] = {}
    if n_proc <= 1 or len(schemes) == 1:
        for i, scheme in enumerate(schemes):
            from simulation.progress import SubProgress

            sub = SubProgress(progress, 0.05 + 0.95 * i / len(schemes), 0.05 + 0.95 * (i + 1) / len(schemes))
            results[scheme], timings[scheme] = simulate_scheme(
                scenario, schedule, scheme, db_url, sub, fingerprint, market_sessions=market_sessions
            )
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
        # a forked worker inherits this thread's HiGHS scheduler and cannot safely reset it: drop it here
        reset_highs_scheduler()
        manager = ctx.Manager()
        queue = manager.Queue()
        cancel = manager.Event()
        done_frac = {s: 0.0 for s in schemes}
        errors: list[str] = []
        with ctx.Pool(n_proc) as pool:
            # longest first (the decentralised schemes build interface curves), so two cores finish together
            order = sorted(schemes, key=lambda s: _EXPECTED_COST.get(s, 1.0), reverse=True)
            pending = pool.map_async(
                _worker,
                [(scenario, schedule, s, db_url, fingerprint, queue, cancel, market_sessions) for s in order],
                chunksize=1,
            )
            while True:
                try:
                    while True:
                        scheme, frac, message = queue.get(timeout=0.2)
                        done_frac[scheme] = frac
                        progress.report(0.05 + 0.95 * sum(done_frac.values()) / len(schemes), message)
                except Exception:
                    pass
                if progress.cancelled():
                    cancel.set()
                if pending.ready():
                    break
            outs = pending.get()
        manager.shutdown()
        for scheme, kpis, tim, err in outs:
            if err is None and kpis is not None:
                results[scheme] = kpis
                timings[scheme] = tim
            else:
                errors.append(err or "unknown")
        if any(e == "cancelled" for e in errors):
            raise RunCancelled("run cancelled by the user")
        for e in errors:
            if e.startswith("error:"):
                _, name, text = e.split(":", 2)
                from simulation import errors as errmod

                raise getattr(errmod, name, SimulationError)(text)
        if errors:
            raise RuntimeError(errors[0])
    LAST_TIMINGS.clear()
    LAST_MARKET_STATS.clear()
    for scheme, tim in timings.items():
        # layers and cpu_s only, as before sessions: benchmarks sum every other key as seconds of a layer
        LAST_TIMINGS[scheme] = {k: v for k, v in tim.items() if not _is_market_stat(k)}
        LAST_MARKET_STATS[scheme] = {k: v for k, v in tim.items() if _is_market_stat(k)}
    LAST_TIMINGS["_setup"] = {"scenario_and_schedule": setup_s, "cpu_s": setup_cpu_s}
    progress.report(1.0, "simulation done")
    return {s: results[s] for s in schemes}


__all__ = [
    "LAST_MARKET_STATS",
    "LAST_TIMINGS",
    "Schedule",
    "compute_schedule",
    "market_grids",
    "reset_highs_scheduler",
    "simulate",
    "simulate_scheme",
]
