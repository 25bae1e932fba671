"""Forecast and need: what the system operators expect before each clearing (first stage of the day).

Two views, both plain arrays:

* :func:`compute_schedule`, once per day: the positions from the earlier markets (day-ahead, intraday),
  i.e. a noise-free run of the devices and the feeders' AC power flows without any AS market, and the
  transmission generators dispatched to cover the demand (:class:`Schedule`), with what the payback rule
  below needs per node (:class:`PaybackModel`).
* :func:`forecast_clearing`, once per clearing: the grid's expected injections over the clearing's
  horizon and the TSO's need (:class:`ClearingForecast`).

**The uncontrolled system (issue 16 item 1).** The operators forecast the system *without* further AS
activations. The measured injections (:mod:`simulation.measurement`, with the state-estimation error)
contain the activations already dispatched and the payback of energy deferred earlier; both are known
to the operators (the dispatch stage's set-points per node, :class:`DeferredEnergy`) and are taken out
of the deviation they carry forward. With ``k`` the last measured physical step, ``s[n, k]`` the
dispatched set-point deltas summed per node (MW, injection; all categories) and ``b[n, k]`` the payback
the rule below expected in that step (MW, injection; negative when consumption returns)::

    d[n]         = p_measured[n, k] - schedule[n, k] - s[n, k] - b[n, k]      (non-activation deviation)
    base[n, t]   = schedule[n, t] + d[n] + b_fc[n, t]
    need[t]      = imbalance_forecast[t] - sum_{n not transmission} (base[n, t] - schedule[n, t])
    need_at_load[l, t] = need[t] * (1 - commercial share) * w_l        (w: load shares, sum 1)

except under SBR, where each DSO keeps its interface on the schedule with its own bids: the distribution
deviation is the DSO's to balance and stays out of the TSO's need (``need[t] = imbalance_forecast[t]``);
counting it there too made the TSO buy it a second time once the deviation no longer contained the DSOs'
own restoring activations (SBR's aFRR energy +11 MWh on the default day, measured).

``b_fc[n, t]``: the payback forecast for market step ``t`` (mean over its physical steps), from the
tracker's state moved forward over the steps after ``k`` with the set-points already dispatched for them
(the step in progress when its clearing is known) and none afterwards. Before this the base was
``schedule + (p_measured - schedule)``: an activation of ``X`` MW at a node in step ``k`` made the next
clearing see the node ``X`` MW lighter (``schedule - X`` for a load reduction) and buy nothing, and the
activation's rebound arrived unforecast (the F2 case of issue 16: 0.865 p.u.).

**Payback of deferred energy.** EVs (``ev``), heat pumps / TCLs (``tcl``) and wet appliances
(``shiftable_load``) must consume later what an activation deferred (and consume less later what a
downward activation made them consume early); storage, curtailable load, RES, CHP and generators do not
pay back (their device models carry no debt: a storage baseline is 0 whatever its SOC, curtailed energy
is lost). Per category ``c`` and node ``n`` the tracker holds the energy owed ``D`` (MWh, positive:
consumption still to come) and energy becoming due later ``pending[t]``. Per physical step ``t`` (length
``dt`` h), with ``L`` the scheduled consumption and ``C`` the most the category can consume at the node::

    D      <- a * (D + pending[t])                                  (becomes payable, decays)
    pay[t]  = clip(D / dt, -L[t], C[t] - L[t])                      (MW of extra consumption)
    D      <- D - pay[t] * dt
    pending[t + delay] += s_c[n, t] * dt                            (what this step's set-point defers)
    b[n, t] = -sum_c pay_c[t]                                       (injection)

The same rule runs in every step, with or without an activation: a device model's set-point is a delta
on its *current* baseline, which already contains the payback, so the set-point cancels the payback it
overrides and the rule keeps the energy balance. Parameters, each read from the device models
(:mod:`simulation.physical.models`):

* ``ev``: the baseline charges ``min(p_max, need / dt)`` while connected, so a deferred EV charges its
  extra need as soon as it has free charging power: ``delay = 1``, ``a = 1``, ``C = L + `` the fleet's
  downward flexibility in the schedule (connected EVs' power within their SOC room). Exact for one EV
  or EVs charging in one block; for a mixed fleet the rule fills the node's free charging power first,
  which can be earlier than the deferred EV's own session end.
* ``tcl``: the thermostat steers back to the set point in one step (``d_set``): a deferral of ``E``
  leaves the room ``gain * E / (P dt)`` warm, which decays by ``a = exp(-dt / tau)`` over the next step,
  so the baseline takes back ``a * E`` in the next step (the rest went to ambient); ``delay = 1``, ``a``
  the node's mean, ``C = sum p_rated`` (duty at most 1).
* ``shiftable_load``: a cycle of ``cycle`` steps postponed by ``q`` steps runs ``q`` steps later, so
  the energy deferred in step ``t`` is consumed in step ``t + cycle`` (the end of the shifted cycle), or
  at release when the postponement outlasts the cycle (the set-point then cancels the payback and
  re-defers it, which the rule carries forward step by step); ``delay = `` the node's mean cycle in
  steps, ``a = 1``, ``C = sum p_kw``.

Reference: hand calculations in ``tests/simulation/test_forecast_uncontrolled.py`` (an activation of
``X`` MW forecast as ``schedule + d``, not ``schedule - X``; a two-step EV rebound limited by the free
charging power; a TCL's one-step rebound ``a * E`` checked against the device model itself; a wet
appliance's rebound one cycle later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coordstudio.simulation.devices import DeviceArrays
from coordstudio.simulation.physical.fleet import fresh_devices, load_q, model_context, node_sums
from coordstudio.simulation.physical.models import ModelContext, flexibility
from coordstudio.simulation.physical.models import step as device_step
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.scenario.build import Scenario

PAYBACK_CATEGORIES: tuple[str, ...] = ("ev", "tcl", "shiftable_load")
"""Device categories whose deferred energy comes back (see the module docstring)."""


@dataclass
class PaybackModel:
    """Per payback category and node, the parameters of the payback rule (module docstring)."""

    dt_h: float
    """Physical step, h."""
    load_mw: dict[str, np.ndarray]
    """Category -> (n_nodes, K) scheduled consumption (MW, >= 0)."""
    capacity_mw: dict[str, np.ndarray]
    """Category -> (n_nodes, K) most the category can consume at the node (MW)."""
    delay_steps: dict[str, np.ndarray]
    """Category -> (n_nodes,) physical steps after which deferred energy becomes payable (>= 1)."""
    retention: dict[str, np.ndarray]
    """Category -> (n_nodes,) share of the payable energy kept per step (``a``; 1: no decay)."""

    @property
    def n_steps(self) -> int:
        """Physical steps of the day (K)."""
        return int(next(iter(self.load_mw.values())).shape[1]) if self.load_mw else 0


def _node_mean(dev: DeviceArrays, values: np.ndarray, n: int, empty: float) -> np.ndarray:
    """Mean of ``values`` over each node's devices of ``dev`` (``empty`` where a node has none)."""
    count = np.bincount(dev.node, minlength=n).astype(float)
    total = np.bincount(dev.node, values, n)
    return np.divide(total, count, out=np.full(n, empty), where=count > 0)


def payback_model(
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    n: int,
    load_mw: dict[str, np.ndarray],
    ev_room_mw: np.ndarray,
) -> PaybackModel:
    """The payback rule's parameters (module docstring) from the fleet ``devices`` (only their static
    parameters are read), the schedule's consumption per category ``load_mw`` and the EVs' scheduled
    downward flexibility ``ev_room_mw`` (n, K)."""
    K = ev_room_mw.shape[1]
    ones = np.ones(n)

    def per_node(dev: DeviceArrays, kw: np.ndarray) -> np.ndarray:
        return np.repeat((np.bincount(dev.node, kw, n) / 1000.0)[:, None], K, 1)

    capacity: dict[str, np.ndarray] = {"ev": load_mw["ev"] + ev_room_mw}
    delay = {c: np.ones(n, dtype=np.int64) for c in PAYBACK_CATEGORIES}
    retention = {c: ones.copy() for c in PAYBACK_CATEGORIES}
    tcl = devices.get("tcl")
    if tcl is not None and len(tcl):
        capacity["tcl"] = per_node(tcl, tcl.params["p_rated_kw"])
        retention["tcl"] = _node_mean(tcl, np.exp(-ctx.dt_h / tcl.params["time_constant_h"]), n, 1.0)
    else:
        capacity["tcl"] = np.zeros((n, K))
    wet = devices.get("shiftable_load")
    if wet is not None and len(wet):
        capacity["shiftable_load"] = per_node(wet, wet.params["p_kw"])
        cycle = _node_mean(wet, wet.state["cycle_steps"].astype(float), n, 1.0)
        delay["shiftable_load"] = np.maximum(1, np.round(cycle)).astype(np.int64)
    else:
        capacity["shiftable_load"] = np.zeros((n, K))
    return PaybackModel(ctx.dt_h, load_mw, capacity, delay, retention)


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
    payback: PaybackModel
    """What the payback rule of deferred energy needs per node (module docstring)."""


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
    pay_load = {c: np.zeros((n, K)) for c in PAYBACK_CATEGORIES}
    ev_room = np.zeros((n, K))
    for k in range(K):
        ev = devices.get("ev")
        if ev is not None and len(ev):
            ev_room[:, k] = np.bincount(ev.node, flexibility(ev, ctx, k)[1], n) / 1000.0
        p = {cat: device_step(dev, ctx, k, None, None).p_kw for cat, dev in devices.items()}
        for c in PAYBACK_CATEGORIES:
            if c in p and p[c].size:
                pay_load[c][:, k] = np.bincount(devices[c].node, np.maximum(-p[c], 0.0), n) / 1000.0
        inj = node_sums(p, scenario)
        q = load_q(p, scenario)
        for fs in spec.feeders:
            sel = net.feeder_node_idx[fs.feeder_id]
            draw, _, _ = net.feeder_step(fs.feeder_id, inj[sel], q[sel], load_frac[k], None, [])
            draws[fs.feeder_id][k] = draw
            inj[sel] += net.own_load_injection(fs.feeder_id)
        for cp in spec.copper_plate_nodes:
            draws[cp.node_id][k] = -inj[scenario.nodes.index(cp.node_id)]
        node_inj[:, k] = inj
    t_load = net.t_own_p_mw[:, None] * load_frac[None, :]
    tsel = net.t_node_idx
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
    payback = payback_model(devices, ctx, n, pay_load, ev_room)
    return Schedule(node_inj, draws, t_load, gen, nonslack, load_frac, payback)


@dataclass
class DeferredEnergy:
    """Energy the payback categories owe per node over one scheme's day, and what was dispatched.

    Moved one physical step at a time by :meth:`advance` with the dispatch stage's set-points (the rule
    in the module docstring); :meth:`payback_forecast` runs the same rule forward on a copy."""

    model: PaybackModel
    """The rule's parameters."""
    n_nodes: int
    """Nodes of the scenario."""
    next_step: int = 0
    """The next physical step :meth:`advance` expects."""
    owed_mwh: dict[str, np.ndarray] = field(default_factory=dict)
    """Category -> (n_nodes,) energy payable now (``D``; MWh, positive: consumption still to come)."""
    pending_mwh: dict[str, np.ndarray] = field(default_factory=dict)
    """Category -> (n_nodes, K + max delay + 1) energy becoming payable at each step."""
    setpoint_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(n_nodes, K) dispatched set-point deltas per node and step, every category (MW, injection)."""
    payback_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(n_nodes, K) the payback the rule expected per node and step (MW, injection)."""

    def __post_init__(self) -> None:
        K, n = self.model.n_steps, self.n_nodes
        width = K + int(max((int(d.max(initial=1)) for d in self.model.delay_steps.values()), default=1)) + 1
        if not self.owed_mwh:
            self.owed_mwh = {c: np.zeros(n) for c in PAYBACK_CATEGORIES}
            self.pending_mwh = {c: np.zeros((n, width)) for c in PAYBACK_CATEGORIES}
        if self.setpoint_mw.size == 0:
            self.setpoint_mw = np.zeros((n, K))
            self.payback_mw = np.zeros((n, K))

    def _rule_step(self, t: int, setpoints_mw: Mapping[str, np.ndarray]) -> np.ndarray:
        """One step of the payback rule at physical step ``t``; returns the payback's injection (n,)."""
        m = self.model
        tt = min(t, m.n_steps - 1)
        inj = np.zeros(self.n_nodes)
        rows = np.arange(self.n_nodes)
        for c in PAYBACK_CATEGORIES:
            pend = self.pending_mwh[c]
            col = min(t, pend.shape[1] - 1)
            owed = m.retention[c] * (self.owed_mwh[c] + pend[:, col])
            pend[:, col] = 0.0
            load = m.load_mw[c][:, tt]
            room = np.maximum(m.capacity_mw[c][:, tt] - load, 0.0)
            pay = np.clip(owed / m.dt_h, -load, room)
            self.owed_mwh[c] = owed - pay * m.dt_h
            s = setpoints_mw.get(c)
            if s is not None:
                due = np.minimum(t + m.delay_steps[c], pend.shape[1] - 1)
                pend[rows, due] += np.asarray(s, dtype=float) * m.dt_h
            inj -= pay
        return inj

    def advance(self, k: int, setpoints_mw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Physical step ``k`` dispatched with ``setpoints_mw`` (category -> (n_nodes,) set-point deltas
        summed per node, MW, injection; categories without an activation absent). Records them and the
        payback the rule expects in the step; returns that payback's injection (n_nodes,)."""
        if k != self.next_step:
            raise ValueError(f"deferred-energy tracker at step {self.next_step}, asked to advance step {k}")
        inj = self._rule_step(k, setpoints_mw)
        if k < self.setpoint_mw.shape[1]:
            self.setpoint_mw[:, k] = sum(
                (np.asarray(s, dtype=float) for s in setpoints_mw.values()), np.zeros(self.n_nodes)
            )
            self.payback_mw[:, k] = inj
        self.next_step = k + 1
        return inj

    def payback_forecast(self, k_end: int) -> np.ndarray:
        """(n_nodes, k_end - next_step) the payback's injection over the steps up to ``k_end`` (excluded)
        with no further activation; the tracker itself is left unchanged."""
        sim = DeferredEnergy(
            self.model,
            self.n_nodes,
            self.next_step,
            {c: v.copy() for c, v in self.owed_mwh.items()},
            {c: v.copy() for c, v in self.pending_mwh.items()},
            self.setpoint_mw,
            self.payback_mw,
        )
        steps = range(self.next_step, max(k_end, self.next_step))
        out = np.zeros((self.n_nodes, len(steps)))
        for i, t in enumerate(steps):
            out[:, i] = sim._rule_step(t, {})
        return out


def per_market_step(x: np.ndarray, m: int) -> np.ndarray:
    """(n, K) per physical step -> (n, K // m) mean per market step of ``m`` physical steps."""
    n, K = x.shape
    J = K // m
    return x[:, : J * m].reshape(n, J, m).mean(axis=2)


@dataclass
class ClearingForecast:
    """The operators' view of one clearing's horizon."""

    steps_j: np.ndarray
    """(H,) market steps of the horizon (clipped to the day)."""
    need_mw: np.ndarray
    """(H,) the TSO's system need (positive: short, upward activation)."""
    base_nodes_mw: np.ndarray
    """(n_nodes, H) expected net injection per node of the uncontrolled system (schedule + deviation net
    of the activations + payback of deferred energy)."""
    needs_mw: dict[str, np.ndarray]
    """Transmission node -> (H,) the TSO's need at that node (the market's ``needs_mw``)."""
    deviation_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """(n_nodes,) the measured deviation net of the dispatched activations and the expected payback."""
    payback_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(n_nodes, H) forecast payback of deferred energy per market step (MW, injection)."""


@dataclass
class MeasuredState:
    """The latest measurements the operators know (from :mod:`simulation.measurement`)."""

    p_measured_mw: np.ndarray
    """(n_nodes,) measured net injection per node."""
    step: int
    """Physical step of the measurement."""


def forecast_clearing(
    scenario: Scenario,
    schedule: Schedule,
    schedule_per_mstep: np.ndarray,
    j0: int,
    H: int,
    measured: MeasuredState,
    t_load_buses: np.ndarray,
    need_weights: np.ndarray,
    commercial_share: float,
    deferred: DeferredEnergy | None = None,
    dso_balances_interface: bool = False,
) -> ClearingForecast:
    """The forecast of the clearing whose first market step is ``j0`` (see module docstring).

    ``schedule_per_mstep``: :func:`per_market_step` of the schedule's node injections; ``need_weights``:
    each transmission load's share of the need (row order of ``t_load_buses``); ``commercial_share``: the
    part of the need the commercial parties buy themselves (IFM), 0 otherwise; ``deferred``: the
    activations dispatched so far and the energy they deferred (None: nothing dispatched yet);
    ``dso_balances_interface``: the DSOs keep their interfaces on the schedule (SBR), so the distribution
    deviation is not the TSO's need."""
    nodes = scenario.nodes
    n, K = schedule.node_inj_mw.shape
    m = max(1, K // max(1, schedule_per_mstep.shape[1]))
    steps_j = np.minimum(np.arange(j0, j0 + H), schedule_per_mstep.shape[1] - 1)
    need = scenario.imbalance_forecast_mw[np.minimum(steps_j, scenario.imbalance_forecast_mw.size - 1)]
    ks = measured.step
    dev = measured.p_measured_mw - schedule.node_inj_mw[:, ks]
    payback = np.zeros((n, H))
    if deferred is not None:
        if ks < deferred.next_step:  # the measured step was dispatched: take out what the operators know
            dev = dev - deferred.setpoint_mw[:, ks] - deferred.payback_mw[:, ks]
        k_end = int(steps_j.max(initial=0) + 1) * m
        fc = deferred.payback_forecast(k_end)
        for h, j in enumerate(steps_j.tolist()):
            cols = np.arange(j * m, (j + 1) * m) - deferred.next_step
            cols = cols[(cols >= 0) & (cols < fc.shape[1])]
            if cols.size:
                payback[:, h] = fc[:, cols].sum(axis=1) / m
    base_nodes = schedule_per_mstep[:, steps_j] + dev[:, None] + payback
    if not dso_balances_interface:
        dist = nodes.kind != "transmission"
        need = need - (base_nodes - schedule_per_mstep[:, steps_j])[dist].sum(axis=0)
    needs: dict[str, np.ndarray] = {}
    for b, w in zip(t_load_buses, need_weights, strict=True):
        if w > 0:  # the TSO's need, spread over the transmission loads (several may share a bus)
            key = f"t{int(b)}"
            needs[key] = needs.get(key, 0.0) + need * (1.0 - commercial_share) * w
    return ClearingForecast(steps_j, need, base_nodes, needs, dev, payback)


__all__ = [
    "PAYBACK_CATEGORIES",
    "ClearingForecast",
    "DeferredEnergy",
    "MeasuredState",
    "PaybackModel",
    "Schedule",
    "compute_schedule",
    "forecast_clearing",
    "payback_model",
    "per_market_step",
]
