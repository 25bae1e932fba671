"""Internal array form of one clearing problem (what :mod:`simulation.market.model` builds from).

A scheme (:mod:`simulation.market.clearing`) turns a :class:`~simulation.market.case.MarketCase` into
one or several :class:`Problem` objects: which grids are modelled, how each distribution grid's
interface behaves, which bids take part and where they sit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coordstudio.simulation.market.bids import BidTable
from coordstudio.simulation.market.grids import DistributionGrid, TransmissionGrid

INTERFACE_MODES = ("coupled", "fixed", "free")
"""``coupled``: the grid's import enters the transmission nodal balance at its interface node;
``fixed``: the import equals ``import_target_mw`` in each step (SBR schedules, LMS/CM-D disaggregation,
curve building); ``free``: the import is unconstrained (a local market that leaves the balance to the TSO)."""


@dataclass
class DGridData:
    """One detailed distribution grid inside a problem."""

    grid: DistributionGrid
    mode: str
    t_row: int = -1
    """Transmission row of the interface node (``coupled`` only)."""
    load_p_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """``(n_nodes, T)`` scheduled net active load plus need (what the bids must balance), MW."""
    load_q_mvar: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    schedule_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """``(T,)`` scheduled import already contained in the transmission base injections (``coupled``)."""
    import_target_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """``(T,)`` import the grid must take (``fixed``)."""


@dataclass
class Problem:
    """Array data of one clearing problem: see the module docstring."""

    name: str
    n_steps: int
    dt_h: float
    penalty_eur_per_mwh: float
    tgrid: TransmissionGrid | None
    t_rhs_mw: np.ndarray
    """``(n_t_nodes, T)`` right-hand side of the transmission balance: need - base injection - the
    scheduled imports of coupled distribution grids, MW."""
    dgrids: list[DGridData]
    bids: BidTable
    bid_grid: np.ndarray
    """-1: bid at a transmission row; g >= 0: bid in distribution grid ``g`` of ``dgrids``."""
    bid_row: np.ndarray
    """Transmission row or node row within its distribution grid."""
    welfare: bool = False
    """Buy bids are in the objective (IFM)."""
    loss_penalty_eur_per_mwh: float = 0.01
    """Small price on distribution losses that keeps the cone relaxation tight where losses cost nothing."""
    slack_at_t_nodes: bool = True

    @property
    def n_t(self) -> int:
        return 0 if self.tgrid is None else self.tgrid.n_nodes

    def bid_sign(self) -> np.ndarray:
        """+1 when an activation injects power (up sell, down buy), -1 otherwise."""
        return self.bids.direction.astype(float) * np.where(self.bids.is_buy, -1.0, 1.0)
