"""Forecast and need: what the system operators expect before each clearing (first stage of the day).

Two views, both plain arrays:

* :func:`compute_schedule`, once per day: the positions from the earlier markets (day-ahead, intraday),
  i.e. a noise-free run of the devices and the feeders' AC power flows without any AS market, and the
  transmission generators dispatched to cover the demand (:class:`Schedule`).
* :func:`forecast_clearing`, once per clearing: the grid's expected injections over the clearing's
  horizon, i.e. the schedule corrected by the latest measured deviation (measurements carry the
  state-estimation error, :mod:`simulation.measurement`), and the TSO's need, i.e. the system imbalance
  forecast plus the measured deviation of the distribution areas, spread over the transmission loads
  (:class:`ClearingForecast`)::

      need[t] = imbalance_forecast[t] + sum_{n not transmission} (schedule[n, k_meas] - measured[n])
      need_at_load[l, t] = need[t] * (1 - commercial share) * w_l        (w: load shares, sum 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.physical.fleet import fresh_devices, load_q, model_context, node_sums
from simulation.physical.models import step as device_step
from simulation.physical.network import PhysicalNetwork
from simulation.scenario.build import Scenario


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
    return Schedule(node_inj, draws, t_load, gen, nonslack, load_frac)


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
    """(n_nodes, H) expected net injection per node (schedule + latest measured deviation)."""
    needs_mw: dict[str, np.ndarray]
    """Transmission node -> (H,) the TSO's need at that node (the market's ``needs_mw``)."""


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
) -> ClearingForecast:
    """The forecast of the clearing whose first market step is ``j0`` (see module docstring).

    ``schedule_per_mstep``: :func:`per_market_step` of the schedule's node injections; ``need_weights``:
    each transmission load's share of the need (row order of ``t_load_buses``); ``commercial_share``: the
    part of the need the commercial parties buy themselves (IFM), 0 otherwise."""
    nodes = scenario.nodes
    steps_j = np.minimum(np.arange(j0, j0 + H), schedule_per_mstep.shape[1] - 1)
    need = scenario.imbalance_forecast_mw[np.minimum(steps_j, scenario.imbalance_forecast_mw.size - 1)]
    sched_now = schedule.node_inj_mw[:, measured.step]
    dev_meas = float((sched_now - measured.p_measured_mw)[nodes.kind != "transmission"].sum())
    need = need + dev_meas
    dev = measured.p_measured_mw - sched_now
    base_nodes = schedule_per_mstep[:, steps_j] + dev[:, None]
    needs: dict[str, np.ndarray] = {}
    for b, w in zip(t_load_buses, need_weights, strict=True):
        if w > 0:  # the TSO's need, spread over the transmission loads (several may share a bus)
            key = f"t{int(b)}"
            needs[key] = needs.get(key, 0.0) + need * (1.0 - commercial_share) * w
    return ClearingForecast(steps_j, need, base_nodes, needs)


__all__ = [
    "ClearingForecast",
    "MeasuredState",
    "Schedule",
    "compute_schedule",
    "forecast_clearing",
    "per_market_step",
]
