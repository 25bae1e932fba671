"""A market case (what one clearing sees), its timing settings and the clearing options."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.market.bids import BidTable
from coordstudio.simulation.market.grids import CopperPlateNode, DistributionGrid, TransmissionGrid

SCHEMES: tuple[str, ...] = ("CMS", "LMS", "SBR", "CM", "CM-D", "IFM")
"""Market architectures the registry's schemes (``simulation.schemes``) clear under: ``CM`` is the
centralised common market, ``CM-D`` the decentralised variant (local curves into the central market)."""

DEFAULT_SLACK_PENALTY_EUR_PER_MWH = 10_000.0
"""Penalty price of market slack (unserved or unabsorbed need). Source: assumption (order of magnitude
of a value of lost load; the EU balancing platforms' harmonised price limit is +-15,000 EUR/MWh)."""


@dataclass(frozen=True)
class MarketTiming:
    """Timing of the real-time market (all settings of the study).

    The horizon of one clearing has ``horizon_steps`` steps of ``granularity_min`` minutes. Markets clear
    every ``clearing_interval_min`` minutes; with ``rolling`` the first step of each clearing is firm and
    the later steps advisory (re-cleared next time), otherwise all steps are firm. A clearing starting at
    time ``T`` (gate closure for its step 0 is ``T0 - gate_closure_min``) computes for
    ``clearing_latency_min`` minutes; activations start ``activation_delay_min`` after the result is
    published, so step 0 begins at ``T + clearing_latency_min + activation_delay_min``: the grid moves on
    while the market computes. A bid counts for step ``t`` only when it was submitted at least
    ``gate_closure_min`` minutes before that step starts (field ``submitted_min`` of the bid).
    """

    horizon_steps: int = 6
    granularity_min: float = 5.0
    clearing_interval_min: float = 5.0
    rolling: bool = True
    gate_closure_min: float = 0.0
    activation_delay_min: float = 0.0
    clearing_latency_min: float = 0.0

    def __post_init__(self) -> None:
        if self.horizon_steps < 1:
            raise MarketError("market timing: field 'horizon_steps' must be at least 1")
        for name in ("granularity_min", "clearing_interval_min"):
            if not getattr(self, name) > 0:
                raise MarketError(f"market timing: field {name!r} must be positive")
        for name in ("gate_closure_min", "activation_delay_min", "clearing_latency_min"):
            if getattr(self, name) < 0:
                raise MarketError(f"market timing: field {name!r} must not be negative")

    @property
    def dt_h(self) -> float:
        """Length of one step in hours."""
        return self.granularity_min / 60.0

    @property
    def firm_steps(self) -> tuple[int, ...]:
        """Steps whose activations are binding (the first one when rolling, else all)."""
        return (0,) if self.rolling else tuple(range(self.horizon_steps))

    @property
    def lead_time_min(self) -> float:
        """Minutes from the clearing's start to the start of its step 0."""
        return self.clearing_latency_min + self.activation_delay_min

    def step_start_min(self, clearing_start_min: float = 0.0) -> np.ndarray:
        """Start time of each step, minutes, for a clearing that starts at ``clearing_start_min``."""
        return clearing_start_min + self.lead_time_min + self.granularity_min * np.arange(self.horizon_steps)


@dataclass(frozen=True)
class ClearingOptions:
    """How a case is solved (not what it is)."""

    solver: str = "highs"
    """``highs`` (default, HiGHS through Pyomo's persistent interface, cones by tangent cuts), ``scip``
    (SCIP through ``scip_direct``, native MISOCP), or a commercial solver the user has: ``gurobi``,
    ``cplex``, ``xpress``, ``mosek``."""
    cone_tolerance: float = 1e-6
    """Largest accepted violation of a rotated cone ``||(2P, 2Q, v-l)|| - (v+l)``, per unit."""
    max_cut_rounds: int = 60
    """Most LP/MILP rounds of tangent cuts before giving up (SolverFailedError)."""
    mip_rel_gap: float = 1e-6
    """Relative optimality gap of mixed-integer solves."""
    time_limit_s: float | None = None
    threads: int | None = None
    """HiGHS's ``threads`` option for solves in the calling thread (None: HiGHS's default)."""
    block_workers: int | None = None
    """Threads that solve a clearing's independent blocks side by side (None: one per core; 1: one after
    the other, e.g. in a process that shares the cores with others). Each block solve uses one HiGHS
    thread."""
    compute_prices: bool = True
    """Fix the binaries, re-solve the continuous problem and read nodal prices from its duals."""
    prequalification: bool = True
    """CMS: the DSO excludes distribution bids whose full activation alone would break its limits."""
    curve_points: int = 24
    """LMS/CM-D: most breakpoints per direction and step of a DSO's aggregated interface curve."""
    solver_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class MarketCase:
    """Everything one clearing needs: grids, bids, needs, timing and the slack penalty.

    ``needs_mw`` maps a node id (transmission, distribution or copper-plate) to its forecast imbalance
    in each step, MW, inelastic: positive when the system is short there (upward flexibility needed),
    negative when long. A scalar is used in every step.
    """

    transmission: TransmissionGrid
    bids: BidTable
    needs_mw: Mapping[str, Sequence[float] | float] = field(default_factory=dict)
    distribution: Sequence[DistributionGrid] = ()
    copper_plates: Sequence[CopperPlateNode] = ()
    timing: MarketTiming = field(default_factory=MarketTiming)
    slack_penalty_eur_per_mwh: float = DEFAULT_SLACK_PENALTY_EUR_PER_MWH
    name: str = "market case"

    @property
    def n_steps(self) -> int:
        return self.timing.horizon_steps

    def node_table(self) -> dict[str, tuple[str, int, int]]:
        """Every node id of the case -> ``(kind, grid, row)`` with kind ``"T"`` (transmission row),
        ``"D"`` (distribution grid number, row) or ``"C"`` (copper plate: transmission row)."""
        table: dict[str, tuple[str, int, int]] = {
            nid: ("T", -1, i) for nid, i in self.transmission.node_index().items()
        }
        tidx = self.transmission.node_index()
        for g, grid in enumerate(self.distribution):
            if grid.interface_node not in tidx:
                raise MarketError(
                    f"{self.name}: distribution grid {grid.grid_id!r}: field 'interface_node' = "
                    f"{grid.interface_node!r} is not a transmission node"
                )
            for nid, i in grid.node_index().items():
                if nid in table:
                    raise MarketError(f"{self.name}: node id {nid!r} is used twice")
                table[nid] = ("D", g, i)
        for cp in self.copper_plates:
            if cp.interface_node not in tidx:
                raise MarketError(
                    f"{self.name}: copper-plate node {cp.node_id!r}: field 'interface_node' = "
                    f"{cp.interface_node!r} is not a transmission node"
                )
            if cp.node_id in table:
                raise MarketError(f"{self.name}: node id {cp.node_id!r} is used twice")
            table[cp.node_id] = ("C", -1, tidx[cp.interface_node])
        return table

    def needs_matrix(self, nodes: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Validated needs: node id -> ``(n_steps,)`` array."""
        nodes = self.node_table() if nodes is None else nodes
        out: dict[str, np.ndarray] = {}
        for nid, val in self.needs_mw.items():
            if nid not in nodes:
                raise MarketError(f"{self.name}: needs: field 'node' = {nid!r} is not a node of the case")
            arr = np.full(self.n_steps, float(val)) if np.isscalar(val) else np.asarray(val, dtype=float)  # type: ignore[arg-type]
            if arr.shape != (self.n_steps,):
                raise MarketError(
                    f"{self.name}: needs of node {nid!r}: {arr.size} values for a horizon of "
                    f"{self.n_steps} steps"
                )
            if not np.isfinite(arr).all():
                raise MarketError(f"{self.name}: needs of node {nid!r}: not a finite number")
            out[nid] = arr
        return out

    def validate(self) -> dict[str, tuple[str, int, int]]:
        """Check the case; return the node table. Raises :class:`MarketError` naming the problem."""
        if not (self.slack_penalty_eur_per_mwh > 0 and math.isfinite(self.slack_penalty_eur_per_mwh)):
            raise MarketError(f"{self.name}: field 'slack_penalty_eur_per_mwh' must be a positive number")
        nodes = self.node_table()
        if self.bids.n_steps != self.n_steps:
            raise MarketError(
                f"{self.name}: the bids cover {self.bids.n_steps} steps, the timing's horizon {self.n_steps}"
            )
        self.bids.check_values()
        self.bids.check_nodes(nodes, source=self.name)
        self.needs_matrix(nodes)
        return nodes
