"""Network part of the physical layer: AC power flows, SCADA actions, protections, aFRR, measurements.

One :class:`PhysicalNetwork` per simulated scheme holds its own copies of the pandapower nets (lines that
trip stay out of service for ``scada.restore_after_min``, then are switched back in: :meth:`restore`).
Each physical step:

1. the devices' nodal injections are written into one aggregated load element per bus of each detailed
   feeder, and an AC power flow (pandapower, ``numba=False``) of each feeder runs; its SCADA moves the
   substation tap changer (or the voltage set-point standing for it) when a bus is outside its limits
   less a dead band, and switches the capacitor bank on under low voltage; the flow is re-run once after
   an action;
2. feeders (their substation draw, losses included) and copper-plate nodes become loads at their
   transmission interface buses; transmission loads follow the load profile with noise plus the system
   imbalance process;
3. aFRR: the residual imbalance ``R = sum(scheduled injections) - sum(actual injections)`` over every
   non-slack transmission-level injection is covered by aFRR as far as the TSO's reserve and its ramp
   allow (:func:`simulation.physical.afrr.limit_afrr`), dispatched to the aFRR providers in proportion to
   their rating; the slack deviates from its schedule by the change of transmission losses and by the
   part of ``R`` the reserve did not cover (reported as energy not served or surplus not absorbed);
4. an AC power flow of the transmission grid; lines loaded above the protection threshold trip (out of
   service from the next step on).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.physical.afrr import AfrrLimits, limit_afrr, resolve_limits
from coordstudio.simulation.physical.fast_pf import RECYCLE, recycled_pf, supports_recycled_pf
from coordstudio.simulation.scenario.build import Scenario, run_pf

Q_PER_P_LOAD = float(np.tan(np.arccos(0.95)))
"""Reactive power drawn per unit of active consumption by device loads (power factor 0.95)."""


def load_shares(p_mw: np.ndarray) -> np.ndarray:
    """Non-negative shares summing to 1 of the positive entries of ``p_mw`` (equal shares when none is).

    The system imbalance and the TSO's need are spread over the transmission loads by these shares. The
    border equivalents of a reduced grid are negative loads (net injections): they take no share, since
    ``p / p.sum()`` would give them negative shares and the others shares summing to more than 1 (about 3
    for the reduced PEGASE grid of the Italian scenario)."""
    p = np.nan_to_num(np.asarray(p_mw, dtype=float))
    w = np.maximum(p, 0.0)
    total = float(w.sum())
    if total > 0:
        return w / total
    return np.full(p.size, 1.0 / max(p.size, 1))


@dataclass
class GridState:
    """Result of the network part of one physical step (all MW, MVAr, p.u.)."""

    area_draw_mw: dict[str, float]
    """Power drawn from the transmission grid by each distribution area (feeder: incl. its losses)."""
    feeder_losses_mw: float
    transmission_losses_mw: float
    afrr_mw: float
    """aFRR dispatched (positive: upward, covering a deficit)."""
    residual_imbalance_mw: float
    slack_mw: float
    line_loading_pct: dict[str, np.ndarray]
    """Grid ('transmission' or feeder id) -> loading of each line (NaN when out of service)."""
    line_rating_mva: dict[str, np.ndarray]
    bus_vm_pu: dict[str, np.ndarray]
    bus_limits: dict[str, tuple[np.ndarray, np.ndarray]]
    tripped: list[tuple[str, int]] = field(default_factory=list)
    """Lines tripped by protection at the end of this step: (grid, line index)."""
    scada_actions: list[tuple[str, str, float]] = field(default_factory=list)
    """(grid, action, value): tap moves and capacitor switching."""
    unserved_mw: float = 0.0
    """Load disconnected by tripped lines (buses isolated from the substation)."""


def _create_loads(net: Any, buses: Any, name: str | list[str]) -> np.ndarray:
    """Loads of 0 MW at ``buses`` (one each, in order), their pandapower ids: one ``create_loads`` call,
    the same rows and dtypes as a ``create_load`` per bus at a tenth of the cost (issue 21: 118 calls
    took 0.26 CPU s per scheme and per schedule)."""
    import pandapower as pp

    buses = [int(b) for b in buses]
    if not buses:
        return np.zeros(0, dtype=np.int64)
    names = [name] * len(buses) if isinstance(name, str) else list(name)
    return np.asarray(pp.create_loads(net, buses, p_mw=0.0, q_mvar=0.0, name=names))


class PhysicalNetwork:
    """Power-flow side of the physical layer for one scheme's run (see module docstring)."""

    def __init__(self, scenario: Scenario) -> None:
        import copy

        self.scenario = scenario
        spec = scenario.spec
        self.spec = spec
        nodes = scenario.nodes
        self.tnet = copy.deepcopy(scenario.transmission_net)
        self.fnets = {fid: copy.deepcopy(net) for fid, net in scenario.feeder_nets.items()}
        self.node_kind = nodes.kind
        self.n_nodes = len(nodes)
        # feeders: one aggregated device load per bus, appended after the grid's own loads
        self._feeder_dev_rows: dict[str, np.ndarray] = {}
        self._feeder_node_idx: dict[str, np.ndarray] = {}
        self._feeder_own_p: dict[str, np.ndarray] = {}
        self._feeder_own_q: dict[str, np.ndarray] = {}
        self._feeder_own_pos: dict[str, np.ndarray] = {}
        self.tap: dict[str, int] = {}
        self._tap_has_trafo: dict[str, bool] = {}
        self._v0: dict[str, float] = {}
        self._cap_id: dict[str, Any] = {}
        """Feeder -> pandapower id of the SCADA capacitor bank (the grid may have shunts of its own)."""
        for fs in spec.feeders:
            net = self.fnets[fs.feeder_id]
            sel = np.flatnonzero(nodes.area == fs.feeder_id)
            self._feeder_node_idx[fs.feeder_id] = sel
            self._feeder_own_p[fs.feeder_id] = net.load.p_mw.to_numpy(float).copy()
            self._feeder_own_q[fs.feeder_id] = net.load.q_mvar.to_numpy(float).copy()
            bus_pos = {int(b): i for i, b in enumerate(nodes.bus[sel])}
            self._feeder_own_pos[fs.feeder_id] = np.array(
                [bus_pos[int(b)] for b in net.load.bus], dtype=np.int64
            )
            self._feeder_dev_rows[fs.feeder_id] = _create_loads(net, nodes.bus[sel], "devices")
            self.tap[fs.feeder_id] = 0
            self._tap_has_trafo[fs.feeder_id] = False
            self._v0[fs.feeder_id] = float(net.ext_grid.vm_pu.iloc[0])
            caps = net.shunt.index[net.shunt.name == f"{fs.feeder_id} capacitor bank"]
            if len(caps):
                self._cap_id[fs.feeder_id] = caps[0]
        # transmission: one area load per distribution area at its interface bus
        self._t_own_p = self.tnet.load.base_p_mw.to_numpy(float).copy()
        self._t_own_q = self.tnet.load.base_q_mvar.to_numpy(float).copy()
        self.load_share = load_shares(self._t_own_p)
        """Share of each transmission load (row order) in the system imbalance and the TSO's need."""
        area_bus = [int(nodes.interface_bus[np.flatnonzero(nodes.area == a)[0]]) for a in spec.area_ids]
        area_ids = _create_loads(self.tnet, area_bus, [f"area {a}" for a in spec.area_ids])
        self._area_rows: dict[str, int] = {a: int(i) for a, i in zip(spec.area_ids, area_ids, strict=True)}
        # transmission-connected devices: one load per bus
        tsel = np.flatnonzero(nodes.kind == "transmission")
        self._t_node_idx = tsel
        dev_ids = _create_loads(self.tnet, nodes.bus[tsel], "devices")
        # element ids -> row positions (a grid file may number its loads sparsely)
        load_index = self.tnet.load.index
        self._t_dev_rows = np.asarray(load_index.get_indexer(dev_ids), dtype=np.int64)
        self._area_rows = {a: int(load_index.get_loc(i)) for a, i in self._area_rows.items()}
        self._gen_ids = self.scenario.tso_gens.get("id", self.tnet.gen.index.to_numpy())
        """pandapower ids of the transmission generators, in the order of ``scenario.tso_gens``."""
        self.afrr_share = self._afrr_participation()
        peak_frac = float(np.max(scenario.profiles["load"])) if "load" in scenario.profiles else 1.0
        self.afrr_limits: AfrrLimits | None = (
            resolve_limits(spec, self._t_own_p * peak_frac) if spec.afrr.limited else None
        )
        """The TSO's aFRR reserve and ramp (None: unlimited)."""
        self.afrr_previous_mw = 0.0
        """aFRR delivered in the last transmission step (the ramp's starting point; 0 at the start)."""
        self.trip_step: dict[tuple[str, int], int] = {}
        """Tripped line -> the physical step at whose end it tripped (:meth:`restore`): the lines out now."""
        self._initialised_pf: set[str] = set()
        self._dirty: set[str] = set()
        self._lean: dict[str, bool] = {}
        """Grid -> whether its recycled power flows take the lean path (set after each full one)."""
        self._stale_cleared: set[str] = set()
        """Grids whose result columns outside the lean path's have been set to NaN since the last full
        power flow."""

    # -------------------------------------------------------------------------------- helpers
    def _afrr_participation(self) -> np.ndarray:
        gens = self.scenario.tso_gens
        rating = gens["p_max_mw"].copy()
        buses = self.spec.scada.afrr_provider_buses
        if buses is not None:
            rating = np.where(np.isin(gens["bus"], buses), rating, 0.0)
        total = rating.sum()
        return rating / total if total > 0 else np.full(rating.size, 1.0 / max(rating.size, 1))

    def _pf(self, key: str, net: Any, structural: bool = False) -> None:
        """AC power flow, warm-started from the last result. Between structural changes (tap, capacitor,
        tripped line) pandapower's internal model is reused and only bus powers and generator set-points
        are updated (``recycle``), which saves about a third of each power flow; and only the result
        columns the simulation reads are written (:func:`~simulation.physical.fast_pf.recycled_pf`, the
        same values as pandapower's ``runpp(recycle=...)`` bit for bit), which saves half of the rest."""
        first = key not in self._initialised_pf
        try:
            if first or structural or key in self._dirty:
                self._full_pf(key, net, init="auto" if first else "results")
                self._dirty.discard(key)
            elif self._lean.get(key, False):
                with warnings.catch_warnings():  # as run_pf: pandapower's numerical warnings stay quiet
                    warnings.simplefilter("ignore")
                    recycled_pf(net, clear_stale=key not in self._stale_cleared)
                self._stale_cleared.add(key)
            else:
                run_pf(net, init="results", recycle=RECYCLE)
        except Exception:
            self._full_pf(key, net, init="flat")
        self._initialised_pf.add(key)

    def _full_pf(self, key: str, net: Any, init: str) -> None:
        """A full pandapower power flow (every result table written); the next recycled ones of ``key``
        may take the lean path if the grid supports it."""
        self._lean[key] = False
        run_pf(net, init=init)
        self._lean[key] = supports_recycled_pf(net)
        self._stale_cleared.discard(key)

    @staticmethod
    def _losses(net: Any) -> float:
        loss = float(np.nansum(net.res_line.pl_mw.to_numpy(float)))
        if len(net.trafo):
            loss += float(np.nansum(net.res_trafo.pl_mw.to_numpy(float)))
        return loss

    def _set_tap(self, fid: str, tap: int) -> None:
        fs = next(f for f in self.spec.feeders if f.feeder_id == fid)
        self.tap[fid] = tap
        net = self.fnets[fid]
        net.ext_grid["vm_pu"] = self._v0[fid] + tap * fs.tap_step_pct / 100.0

    # ----------------------------------------------------------------------------------- step
    def feeder_step(
        self,
        fid: str,
        p_inj_mw: np.ndarray,
        q_inj_mvar: np.ndarray,
        load_frac: float,
        own_noise: np.ndarray | None,
        actions: list[tuple[str, str, float]],
    ) -> tuple[float, float, float]:
        """Power flow of feeder ``fid`` with the devices' injections per bus and SCADA regulation.

        Returns (draw from the transmission grid MW, losses MW, unserved load MW)."""
        fs = next(f for f in self.spec.feeders if f.feeder_id == fid)
        net = self.fnets[fid]
        own_p = self._feeder_own_p[fid] * load_frac
        own_q = self._feeder_own_q[fid] * load_frac
        if own_noise is not None:
            own_p = own_p * (1.0 + own_noise)
        p = np.concatenate([own_p, -p_inj_mw])
        q = np.concatenate([own_q, -q_inj_mvar])
        net.load["p_mw"] = p
        net.load["q_mvar"] = q
        self._pf(fid, net)
        if self.spec.scada.tap_regulation or self.spec.scada.reactive_compensation:
            vm = net.res_bus.vm_pu.to_numpy(float)
            vmin, vmax = np.nanmin(vm), np.nanmax(vm)
            step = fs.tap_step_pct / 100.0
            new_tap = self.tap[fid]
            changed = False
            if self.spec.scada.tap_regulation:
                if vmin < fs.vm_min_pu + fs.tap_deadband_pu and vmax + step < fs.vm_max_pu:
                    need = int(np.ceil((fs.vm_min_pu + fs.tap_deadband_pu - vmin) / step))
                    room = int(np.floor((fs.vm_max_pu - vmax) / step))
                    new_tap = min(fs.tap_max, new_tap + max(1, min(need, room)))
                elif vmax > fs.vm_max_pu - fs.tap_deadband_pu and vmin - step > fs.vm_min_pu:
                    need = int(np.ceil((vmax - fs.vm_max_pu + fs.tap_deadband_pu) / step))
                    room = int(np.floor((vmin - fs.vm_min_pu) / step))
                    new_tap = max(-fs.tap_max, new_tap - max(1, min(need, room)))
                if new_tap != self.tap[fid]:
                    actions.append((fid, "tap", float(new_tap)))
                    self._set_tap(fid, new_tap)
                    changed = True
            cap = self._cap_id.get(fid)
            if self.spec.scada.reactive_compensation and cap is not None:
                on = bool(net.shunt.at[cap, "in_service"])
                if not on and vmin < fs.vm_min_pu:
                    net.shunt.at[cap, "in_service"] = True
                    actions.append((fid, "capacitor", 1.0))
                    changed = True
                elif on and vmax > fs.vm_max_pu - fs.tap_deadband_pu:
                    net.shunt.at[cap, "in_service"] = False
                    actions.append((fid, "capacitor", 0.0))
                    changed = True
            if changed:
                self._pf(fid, net, structural=True)
                self._dirty.add(fid)  # the next step rebuilds once more from the new state
        draw = float(net.res_ext_grid.p_mw.sum())
        unserved = float(
            np.nansum(
                np.where(
                    np.isnan(net.res_bus.vm_pu.reindex(net.load.bus).to_numpy(float)),
                    np.maximum(net.load.p_mw.to_numpy(float), 0.0),
                    0.0,
                )
            )
        )
        return draw, self._losses(net), unserved

    def own_load_injection(self, fid: str) -> np.ndarray:
        """Injection (MW, negative) of the feeder's own loads in its last power flow, per node of the area."""
        pos = self._feeder_own_pos[fid]
        out = np.zeros(self._feeder_node_idx[fid].size)
        np.add.at(out, pos, -self.fnets[fid].load.p_mw.to_numpy(float)[: pos.size])
        return out

    def transmission_step(
        self,
        area_draw_mw: dict[str, float],
        area_draw_q_mvar: dict[str, float],
        t_dev_p_mw: np.ndarray,
        load_frac: float,
        load_noise: np.ndarray | None,
        imbalance_mw: float,
        gen_p_mw: np.ndarray,
        extra_inj_mw: np.ndarray | None,
        scheduled_injection_mw: float,
    ) -> tuple[float, float, float, float]:
        """AC power flow of the transmission grid with aFRR covering the residual imbalance within the
        reserve and ramp (the rest, ``residual - aFRR``, stays with the slack).

        ``scheduled_injection_mw`` is the sum of the scheduled non-slack injections of this step (the
        schedule run's value); the residual ``R`` is that minus the actual sum. ``extra_inj_mw`` are
        per-bus injections of commercial trades; ``gen_p_mw`` the generators' scheduled output plus their
        delivered market activations. Returns (aFRR MW, residual MW, slack MW, losses MW).
        """
        net = self.tnet
        n_own = self._t_own_p.size
        own_p = self._t_own_p * load_frac
        if load_noise is not None:
            own_p = own_p * (1.0 + load_noise)
        own_p = own_p + imbalance_mw * self.load_share
        p = net.load.p_mw.to_numpy(float).copy()
        q = net.load.q_mvar.to_numpy(float).copy()
        p[:n_own] = own_p
        q[:n_own] = self._t_own_q * load_frac
        for area, row in self._area_rows.items():
            p[row] = area_draw_mw.get(area, 0.0)
            q[row] = area_draw_q_mvar.get(area, 0.0)
        p[self._t_dev_rows] = -t_dev_p_mw
        q[self._t_dev_rows] = 0.0
        if extra_inj_mw is not None:
            p[self._t_dev_rows] -= extra_inj_mw
        net.load["p_mw"] = p
        net.load["q_mvar"] = q
        sched_total = scheduled_injection_mw
        gen_p = np.asarray(gen_p_mw, dtype=float)
        actual_total = float(gen_p.sum() - p.sum())
        residual = sched_total - actual_total
        dt_min = self.spec.timing.physical_step_min
        afrr = limit_afrr(residual, self.afrr_previous_mw, self.afrr_limits, dt_min)
        self.afrr_previous_mw = afrr
        gen_p = gen_p + afrr * self.afrr_share
        net.gen.loc[self._gen_ids, "p_mw"] = gen_p
        self._pf("transmission", net)
        slack = float(net.res_ext_grid.p_mw.sum())
        return afrr, residual, slack, self._losses(net)

    def protect(self, k: int = 0) -> list[tuple[str, int]]:
        """Trip every in-service line loaded above the threshold at the end of physical step ``k``; they
        are out from the next step until :meth:`restore` switches them back in."""
        out: list[tuple[str, int]] = []
        limit = self.spec.scada.trip_loading_pct
        for key, net in [("transmission", self.tnet), *self.fnets.items()]:
            loading = net.res_line.loading_percent.reindex(net.line.index)  # by line id
            for idx in loading.index[np.nan_to_num(loading.to_numpy(float)) > limit]:
                if bool(net.line.at[idx, "in_service"]):
                    net.line.at[idx, "in_service"] = False
                    self._dirty.add(key)
                    self.trip_step[(key, int(idx))] = int(k)
                    out.append((key, int(idx)))
        return out

    @property
    def tripped(self) -> set[tuple[str, int]]:
        """The lines out of service now: (grid key, line index), the keys of :attr:`trip_step`."""
        return set(self.trip_step)

    def restore(self, k: int) -> list[tuple[str, int]]:
        """Switch back in, at the start of physical step ``k``, every line tripped at least
        ``scada.restore_after_min`` ago: a line tripped at the end of step ``k0`` is out for
        ``n = ceil(restore_after_min / physical_step_min)`` steps and back in from step ``k0 + 1 + n``
        (0 minutes: at once, from the next step). The load behind it is served again, and the
        protection trips it again at the end of a step in which it is still above its threshold.
        ``restore_after_min`` empty: nothing is restored (a trip lasts for the rest of the run)."""
        after = self.spec.scada.restore_after_min
        if after is None or not self.trip_step:
            return []
        n_out = int(math.ceil(after / self.spec.timing.physical_step_min - 1e-9))
        out: list[tuple[str, int]] = []
        for (key, idx), k0 in sorted(self.trip_step.items()):
            if k - k0 - 1 >= n_out:
                net = self.tnet if key == "transmission" else self.fnets[key]
                net.line.at[idx, "in_service"] = True
                self._dirty.add(key)
                del self.trip_step[(key, idx)]
                out.append((key, idx))
        return out

    @property
    def feeder_node_idx(self) -> dict[str, np.ndarray]:
        """Feeder -> indices of its nodes in the scenario's node table."""
        return self._feeder_node_idx

    @property
    def feeder_own_p_mw(self) -> dict[str, np.ndarray]:
        """Feeder -> the grid's own loads at their base (MW, row order of its load table)."""
        return self._feeder_own_p

    @property
    def t_node_idx(self) -> np.ndarray:
        """Sorted indices of the transmission-connected nodes in the scenario's node table."""
        return self._t_node_idx

    @property
    def t_own_p_mw(self) -> np.ndarray:
        """The transmission grid's own loads at their base (MW, row order of its load table)."""
        return self._t_own_p

    def grids(self) -> list[tuple[str, Any]]:
        """(grid key, pandapower net): the transmission grid and every feeder."""
        return [("transmission", self.tnet), *self.fnets.items()]
