"""Plain-data result of one clearing (no Pyomo object inside) and its files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coordstudio.simulation.fileio import atomic_write_text, output_set


@dataclass
class ClearingResult:
    """Result of one clearing of one scheme.

    Sign conventions: ``activation_mw >= 0`` in the bid's direction. ``prices`` are locational marginal
    prices of upward energy, EUR/MWh: the cost of one more MWh of upward need at the node in that step
    (dual of the nodal balance). Pay-as-clear settlement pays an upward sell bid ``+price``, a downward
    sell bid ``-price`` per MWh (``payment_eur``); ``cost_eur`` is the bid's own price times energy.
    """

    scheme: str
    case_name: str
    status: str
    """``optimal`` (no slack used) or ``optimal_with_slack``."""
    solver: str
    objective_eur: float
    """Objective of the (last) clearing problem: activation cost + slack cost (IFM: minus buyers' value)."""
    activation_cost_eur: float
    """Sum over sell bids of price x activated energy (pay-as-bid cost of the activations)."""
    slack_cost_eur: float
    slack_energy_mwh: float
    welfare_eur: float
    """Buyers' value minus sellers' cost minus slack cost (IFM); ``-objective`` elsewhere."""
    payments_eur: float
    """Pay-as-clear payments to sell bids minus payments by buy bids (NaN when not priced)."""
    activation_mw: np.ndarray
    """``(n_bids, n_steps)`` activation of each bid of the case's bid table, MW (same row order)."""
    activations: pd.DataFrame
    """Rows with a non-zero activation: bid_id, owner, node, direction, side, step, activation_mw,
    price_eur_per_mwh (the bid's), clearing_price_eur_per_mwh (node LMP), cost_eur, payment_eur."""
    prices: pd.DataFrame
    """node, step, price_eur_per_mwh (every node of the case; NaN when not priced) and its components
    energy/congestion/losses/current/voltage_eur_per_mwh, summing to it (``price_components``; NaN when
    not decomposed)."""
    slack: pd.DataFrame
    """node, step, slack_up_mw (unserved upward need), slack_down_mw (unabsorbed downward need): rows
    with non-zero slack only."""
    interface: pd.DataFrame
    """grid_id, step, import_mw (flow from transmission into the distribution grid), schedule_mw,
    losses_mw (detailed distribution grids only)."""
    voltages: pd.DataFrame
    """node, step, vm_pu of the detailed distribution grids' nodes (square root of the cleared v)."""
    branch_flows: pd.DataFrame
    """grid, branch, step, p_mw, rating_mw (transmission and distribution branches; distribution: sending
    end)."""
    max_cone_violation: float
    """Largest ``||(2P, 2Q, v-l)|| - (v+l)`` over distribution branches and steps, per unit."""
    firm_steps: tuple[int, ...]
    build_time_s: float = 0.0
    solve_time_s: float = 0.0
    extract_time_s: float = 0.0
    cut_rounds: int = 0
    n_variables: int = 0
    n_binaries: int = 0
    excluded_bids: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["bid_id", "reason"]))
    """Bids left out of this clearing and why (DSO pre-qualification, gate closure, scheme rules)."""
    sub_clearings: list[dict[str, Any]] = field(default_factory=list)
    """Summaries of the clearings a decentralised scheme ran (local markets, curves, disaggregation)."""

    @property
    def wall_time_s(self) -> float:
        return self.build_time_s + self.solve_time_s + self.extract_time_s

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` holds."""
        return {
            "scheme": self.scheme,
            "case": self.case_name,
            "status": self.status,
            "solver": self.solver,
            "objective_eur": self.objective_eur,
            "activation_cost_eur": self.activation_cost_eur,
            "slack_cost_eur": self.slack_cost_eur,
            "slack_energy_mwh": self.slack_energy_mwh,
            "welfare_eur": self.welfare_eur,
            "payments_eur": None if np.isnan(self.payments_eur) else self.payments_eur,
            "activated_energy_mwh": float(self.activations["energy_mwh"].sum())
            if len(self.activations)
            else 0.0,
            "n_activated_bids": int(self.activations["bid_id"].nunique()) if len(self.activations) else 0,
            "n_excluded_bids": len(self.excluded_bids),
            "firm_steps": list(self.firm_steps),
            "max_cone_violation_pu": self.max_cone_violation,
            "cut_rounds": self.cut_rounds,
            "n_variables": self.n_variables,
            "n_binaries": self.n_binaries,
            "build_time_s": self.build_time_s,
            "solve_time_s": self.solve_time_s,
            "extract_time_s": self.extract_time_s,
            "losses_mwh": float(self.interface["losses_mwh"].sum()) if len(self.interface) else 0.0,
            "sub_clearings": self.sub_clearings,
        }

    def write(self, out_dir: str | Path) -> None:
        """Write ``activations.csv``, ``prices.csv``, ``slack.csv``, ``interface.csv`` and
        ``summary.json``, as one set: staged, then moved in together (``simulation.fileio.output_set``)."""
        with output_set(out_dir) as out:
            atomic_write_text(out.path("activations.csv"), self.activations.to_csv(index=False))
            atomic_write_text(out.path("prices.csv"), self.prices.to_csv(index=False))
            atomic_write_text(out.path("slack.csv"), self.slack.to_csv(index=False))
            atomic_write_text(out.path("interface.csv"), self.interface.to_csv(index=False))
            if len(self.excluded_bids):
                atomic_write_text(out.path("excluded_bids.csv"), self.excluded_bids.to_csv(index=False))
            summary = json.dumps(self.summary(), indent=1, default=_jsonable)
            atomic_write_text(out.path("summary.json"), summary)


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
