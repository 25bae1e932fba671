"""Market layer: real-time ancillary-services market clearing for the TSO-DSO coordination schemes.

Public API (what the simulation platform and ``main.py clear`` use)::

    from coordstudio.simulation.market import (MarketCase, MarketTiming, ClearingOptions, BidTable, Bid,
                                   TransmissionGrid, DistributionGrid, CopperPlateNode, clear)

    case = MarketCase(transmission=TransmissionGrid.from_pandapower(net_tso),
                      distribution=[DistributionGrid.from_pandapower(net_dso, "d1", interface_node="t5")],
                      bids=BidTable.from_frame(frame), needs_mw={"t5": [30, 25, 20, 20, 15, 10]},
                      timing=MarketTiming(horizon_steps=6, granularity_min=5))
    result = clear(case, "CM", ClearingOptions(solver="highs"))
    result.activations, result.prices, result.slack, result.summary()

* Bid catalogue (:mod:`simulation.market.bids`): curtailable and fill-or-kill bids, multi-step with
  ramp limits, minimum duration, integral (energy) constraints, exclusive groups; up/down; sell
  (flexibility providers) and buy (commercial parties, IFM); columnar :class:`BidTable`; CSV and JSON.
* Grids (:mod:`simulation.market.grids`): DC transmission, SOCP DistFlow distribution grids attached at
  an interface transmission node, copper-plate distribution nodes; built from pandapower nets.
* :func:`clear` clears one case under a scheme: ``"CMS"``, ``"LMS"``, ``"SBR"``, ``"CM"``, ``"CM-D"``
  (decentralised common market), ``"IFM"``; returns a plain-data :class:`ClearingResult`.
* :class:`MarketSession` keeps the model and the persistent solver of one case structure for a rolling
  horizon: update needs, bid quantities and prices, scheduled injections, then clear again.
* :func:`available_solvers` says which solvers Pyomo can reach on this machine.

Errors: :class:`simulation.errors.MarketError` (bad input, naming the object and field),
:class:`~simulation.errors.SolverUnavailableError`, :class:`~simulation.errors.SolverFailedError`,
:class:`~simulation.errors.InfeasibleMarketError`. See ``docs/market.md``.
"""

from __future__ import annotations

from coordstudio.simulation.market.bids import (
    Bid,
    BidStep,
    BidTable,
    EnergyConstraint,
    read_bids_csv,
    read_bids_json,
    write_bids_csv,
    write_bids_json,
)
from coordstudio.simulation.market.case import (
    DEFAULT_SLACK_PENALTY_EUR_PER_MWH,
    SCHEMES,
    ClearingOptions,
    MarketCase,
    MarketTiming,
)
from coordstudio.simulation.market.clearing import clear
from coordstudio.simulation.market.grids import CopperPlateNode, DistributionGrid, TransmissionGrid
from coordstudio.simulation.market.results import ClearingResult
from coordstudio.simulation.market.session import MarketSession
from coordstudio.simulation.market.solvers import DEFAULT_SOLVER, SolverStatus, available_solvers

__all__ = [
    "Bid",
    "BidStep",
    "BidTable",
    "ClearingOptions",
    "ClearingResult",
    "CopperPlateNode",
    "DEFAULT_SLACK_PENALTY_EUR_PER_MWH",
    "DEFAULT_SOLVER",
    "DistributionGrid",
    "EnergyConstraint",
    "MarketCase",
    "MarketSession",
    "MarketTiming",
    "SCHEMES",
    "SolverStatus",
    "TransmissionGrid",
    "available_solvers",
    "clear",
    "read_bids_csv",
    "read_bids_json",
    "write_bids_csv",
    "write_bids_json",
]
