"""The physics stage: one physical step of the devices and the grids under the step's set-points.

Devices move with their noise (:func:`simulation.physical.models.step`); each detailed feeder and then the
transmission grid solve an AC power flow with their own loads' forecast error, SCADA acts (tap changers,
capacitor banks), aFRR covers the imbalance the market left within the TSO's reserve and ramp, and the
protections trip overloaded lines. What the step produced (curtailment, losses, unserved energy, aFRR
and the imbalance it left uncovered, each grid's limit violations, trips,
the true injections the measurements read) is returned as a :class:`PhysicsOutcome`; the KPIs are summed
by :mod:`simulation.recording.kpi_accumulator`.

Random draws, in this order per step: device noise (per category), each feeder's load noise, the
transmission loads' noise (one generator, ``rng``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.dispatch import DispatchOutcome
from coordstudio.simulation.errors import PhysicsFailedError
from coordstudio.simulation.forecast import Schedule
from coordstudio.simulation.physical.fleet import load_q, node_sums
from coordstudio.simulation.physical.models import ModelContext
from coordstudio.simulation.physical.models import step as device_step
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.scenario.build import Scenario


@dataclass
class PhysicsOutcome:
    """What one physical step produced."""

    curtailed_mw: list[float] = field(default_factory=list)
    """Curtailed renewable power per device category that curtails (MW)."""
    losses_mw: list[float] = field(default_factory=list)
    """Losses per detailed feeder (MW)."""
    unserved_mw: list[float] = field(default_factory=list)
    """Load not served per detailed feeder (MW)."""
    afrr_mw: float = 0.0
    """aFRR activated to cover the residual imbalance (MW, positive: upward)."""
    afrr_need_mw: float = 0.0
    """Residual imbalance the market left (MW, positive: deficit); aFRR covers it up to its limits."""
    grid_violations: list[tuple[str, float, float, float]] = field(default_factory=list)
    """Per grid: (grid key, lines above 100 % loading, their overload (MVA), buses outside voltage limits)."""
    tripped: list[tuple[str, Any]] = field(default_factory=list)
    """Lines the protections tripped this step: (grid key, line id)."""
    restored: list[tuple[str, Any]] = field(default_factory=list)
    """Tripped lines switched back in at the start of this step (``scada.restore_after_min``)."""
    true_injection_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """(n_nodes,) true net injection per node (feeders: with their own loads)."""
    scada_actions: list[tuple[str, str, float]] = field(default_factory=list)
    """SCADA actions of the step: (grid, action, value)."""

    @property
    def lines_tripped(self) -> int:
        """Number of lines tripped this step."""
        return len(self.tripped)


def grid_violations(grid_key: str, gnet: Any) -> tuple[str, float, float, float]:
    """Lines above 100 % loading (count and overload in MVA) and buses outside their voltage band of one
    solved pandapower net, read by element id (a grid file may number its elements sparsely)."""
    loading = gnet.res_line.loading_percent.reindex(gnet.line.index).to_numpy(float)
    on = gnet.line.in_service.to_numpy(bool) & np.isfinite(loading)
    over = on & (loading > 100.0)
    overload_mva = 0.0
    if over.any():
        vn = gnet.bus.vn_kv.loc[gnet.line.from_bus].to_numpy(float)
        s_rated = np.sqrt(3) * vn * gnet.line.max_i_ka.to_numpy(float) * gnet.line.parallel.to_numpy(float)
        overload_mva = float(((loading[over] - 100.0) / 100.0 * s_rated[over]).sum())
    vm = gnet.res_bus.vm_pu.reindex(gnet.bus.index).to_numpy(float)
    lo, hi = gnet.bus.min_vm_pu.to_numpy(float), gnet.bus.max_vm_pu.to_numpy(float)
    ok = np.isfinite(vm)
    n_voltage = float(((vm[ok] < lo[ok] - 1e-6) | (vm[ok] > hi[ok] + 1e-6)).sum())
    return grid_key, float(over.sum()), overload_mva, n_voltage


@contextmanager
def grid_failure(k: int, grid: str) -> Iterator[None]:
    """Turn a numerical failure of grid ``grid`` at step ``k`` (pandapower's power flow not converging, a
    singular matrix, a floating-point overflow) into a :class:`PhysicsFailedError` naming both, which the
    run reports as that scheme's failure instead of crashing."""
    from pandapower.auxiliary import ppException

    try:
        yield
    except (ppException, np.linalg.LinAlgError, FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise PhysicsFailedError(f"physical step {k}, grid {grid}: power flow failed ({what})") from exc


def physics_step(
    scenario: Scenario,
    schedule: Schedule,
    net: PhysicalNetwork,
    devices: dict[str, Any],
    ctx: ModelContext,
    k: int,
    dispatch: DispatchOutcome,
    rng: np.random.Generator,
    timings: dict[str, float],
) -> PhysicsOutcome:
    """Physical step ``k`` under ``dispatch``'s set-points (see module docstring); adds the wall time of
    the devices (``physics_devices``) and of the grids (``physics_network``) to ``timings``."""
    spec = scenario.spec
    nodes = scenario.nodes
    out = PhysicsOutcome()
    out.restored = net.restore(k)
    tp = time.perf_counter()
    p_dev: dict[str, np.ndarray] = {}
    for cat, dev in devices.items():
        step = device_step(dev, ctx, k, dispatch.device_delta_kw.get(cat), rng)
        p_dev[cat] = step.p_kw
        if step.curtailed_kw is not None:
            out.curtailed_mw.append(float(step.curtailed_kw.sum()) / 1000.0)
    timings["physics_devices"] += time.perf_counter() - tp
    tp = time.perf_counter()
    inj = node_sums(p_dev, scenario)
    q = load_q(p_dev, scenario)
    lf = schedule.load_frac[k]
    draws: dict[str, float] = {}
    draws_q: dict[str, float] = {}
    true_inj = inj.copy()
    for fs in spec.feeders:
        sel = net.feeder_node_idx[fs.feeder_id]
        fnet = net.fnets[fs.feeder_id]
        noise = spec.imbalance.load_forecast_error_std_frac * rng.standard_normal(
            net.feeder_own_p_mw[fs.feeder_id].size
        )
        with grid_failure(k, fs.feeder_id):
            draw, loss, unserved = net.feeder_step(
                fs.feeder_id, inj[sel], q[sel], lf, noise, out.scada_actions
            )
        draws[fs.feeder_id] = draw
        draws_q[fs.feeder_id] = float(fnet.res_ext_grid.q_mvar.sum())
        out.losses_mw.append(loss)
        out.unserved_mw.append(unserved)
        true_inj[sel] += net.own_load_injection(fs.feeder_id)
    for cp in spec.copper_plate_nodes:
        i = nodes.index(cp.node_id)
        draws[cp.node_id] = -inj[i]
        draws_q[cp.node_id] = -q[i]
    t_noise = spec.imbalance.load_forecast_error_std_frac * rng.standard_normal(net.t_own_p_mw.size)
    j = (k * spec.timing.physical_step_min) // spec.timing.granularity_min
    j_im = min(j, scenario.imbalance_mw.size - 1)
    with grid_failure(k, "transmission"):
        afrr, residual, _slack, _t_loss = net.transmission_step(
            draws,
            draws_q,
            inj[net.t_node_idx],
            lf,
            t_noise,
            float(scenario.imbalance_mw[j_im]),
            schedule.gen_mw[:, k] + dispatch.gen_delta_mw,
            dispatch.extra_injection_mw,
            float(schedule.nonslack_injection_mw[k]),
        )
    out.afrr_mw = afrr
    out.afrr_need_mw = residual
    out.grid_violations = [grid_violations(key, gnet) for key, gnet in net.grids()]
    with grid_failure(k, "protection"):
        out.tripped = list(net.protect(k))
    out.true_injection_mw = true_inj
    timings["physics_network"] += time.perf_counter() - tp
    return out


__all__ = ["PhysicsOutcome", "grid_failure", "grid_violations", "physics_step"]
