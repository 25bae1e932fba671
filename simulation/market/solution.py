"""What a solved clearing model yields, as plain arrays (no Pyomo object): :class:`Solution`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SLACK_TOL_MW = 1e-6
"""Slack below this (MW) is solver noise, read out as zero."""


@dataclass
class Solution:
    """Arrays read out of a solved model (no Pyomo object)."""

    a: np.ndarray
    su: np.ndarray
    sd: np.ndarray
    dsu: np.ndarray
    dsd: np.ndarray
    t_price: np.ndarray
    d_price: np.ndarray
    imp_mw: np.ndarray
    t_flow: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    l: np.ndarray  # noqa: E741  (the squared currents' name in the formulation)
    v: np.ndarray
    objective: float
    max_cone_violation: float
    cut_rounds: int
    solve_time_s: float
    n_variables: int
    n_binaries: int
    load_time_s: float = 0.0
    """Part of ``solve_time_s`` spent loading the model into the solver (first solve of a model)."""
    lp_iterations: int = 0
    """Simplex iterations of all rounds (HiGHS)."""
    t_components: np.ndarray | None = None
    """``(n_t, 5, T)`` components of ``t_price`` (:data:`simulation.market.price_components.COMPONENTS`:
    energy, congestion, losses, current, voltage; EUR/MWh, summing to the price); None when not priced
    or not decomposed (a solver other than HiGHS)."""
    d_components: np.ndarray | None = None
    """``(n_d_nodes, 5, T)`` components of ``d_price`` (same axes)."""
