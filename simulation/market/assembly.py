"""Assembly of one clearing result from the solutions of a scheme's sub-clearings.

A centralised scheme solves one problem; a decentralised one solves a local market, a curve and a
disaggregation per grid plus a central market. :class:`ResultBuilder` collects each solution's part
(activations of its bids, prices, slack, interface import, voltages and flows of its grids, solver
statistics) and writes them as the tables of one :class:`~simulation.market.results.ClearingResult`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from coordstudio.simulation.market.case import ClearingOptions
from coordstudio.simulation.market.prepare import PreparedCase
from coordstudio.simulation.market.price_components import COMPONENTS
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.results import ClearingResult
from coordstudio.simulation.market.solution import SLACK_TOL_MW, Solution


# ---------------------------------------------------------------------------------------------- assembly
class ResultBuilder:
    """Accumulates the pieces of a (possibly decentralised) clearing into one result."""

    def __init__(self, prep: PreparedCase, scheme: str, options: ClearingOptions) -> None:
        self.prep = prep
        self.scheme = scheme
        self.options = options
        case = prep.case
        T = prep.T
        self.a = np.zeros((prep.bids.n_bids, T))
        self.t_price = np.full((case.transmission.n_nodes, T), math.nan)
        self.d_price = [np.full((dg.n_nodes, T), math.nan) for dg in case.distribution]
        self.c_price: dict[str, np.ndarray] = {}
        K = len(COMPONENTS)
        self.t_comp = np.full((case.transmission.n_nodes, K, T), math.nan)
        """Components of ``t_price`` (node, component, step), EUR/MWh; NaN where not decomposed."""
        self.d_comp = [np.full((dg.n_nodes, K, T), math.nan) for dg in case.distribution]
        self.c_comp: dict[str, np.ndarray] = {}
        self.t_slack = np.zeros((case.transmission.n_nodes, 2, T))
        self.d_slack = [np.zeros((dg.n_nodes, 2, T)) for dg in case.distribution]
        self.c_slack: dict[str, np.ndarray] = {}
        self.imp: list[np.ndarray] = [s.copy() for s in prep.schedule]
        self.losses = [np.zeros(T) for _ in case.distribution]
        self.v: list[np.ndarray | None] = [None] * len(case.distribution)
        self.t_flow: np.ndarray | None = None
        self.d_flow: list[np.ndarray | None] = [None] * len(case.distribution)
        self.viol = 0.0
        self.rounds = 0
        self.solve_time = 0.0
        self.build_time = 0.0
        self.n_vars = 0
        self.n_bins = 0
        self.subs: list[dict[str, Any]] = []

    def add_stats(self, sol: Solution, build_s: float, label: str) -> None:
        self.viol = max(self.viol, sol.max_cone_violation)
        self.rounds += sol.cut_rounds
        self.solve_time += sol.solve_time_s
        self.build_time += build_s
        self.n_vars += sol.n_variables
        self.n_bins += sol.n_binaries
        self.subs.append(
            {
                "clearing": label,
                "objective_eur": sol.objective,
                "solve_time_s": sol.solve_time_s,
                "build_time_s": build_s,
                "cut_rounds": sol.cut_rounds,
                "max_cone_violation_pu": sol.max_cone_violation,
                "load_time_s": sol.load_time_s,
                "lp_iterations": sol.lp_iterations,
            }
        )

    def take_grid(self, g: int, prob_grid: int, prob: Problem, sol: Solution, prices: bool = True) -> None:
        """Copy the distribution-grid part ``prob_grid`` of a solution into grid ``g`` of the case."""
        dg = self.prep.case.distribution[g]
        o = sum(d.grid.n_nodes for d in prob.dgrids[:prob_grid])
        ob = sum(d.grid.n_branches for d in prob.dgrids[:prob_grid])
        n, nb = dg.n_nodes, dg.n_branches
        if prices:
            self.d_price[g] = sol.d_price[o : o + n]
            if sol.d_components is not None:
                self.d_comp[g] = sol.d_components[o : o + n]
        self.d_slack[g][:, 0] += sol.dsu[o : o + n]
        self.d_slack[g][:, 1] += sol.dsd[o : o + n]
        self.imp[g] = sol.imp_mw[prob_grid]
        L = sol.l[ob : ob + nb]
        self.losses[g] = (dg.r_pu[:, None] * L).sum(axis=0) * dg.base_mva
        self.v[g] = sol.v[o : o + n]
        self.d_flow[g] = sol.P[ob : ob + nb] * dg.base_mva

    def take_transmission_prices(self, sol: Solution) -> None:
        """The transmission prices of a solution (and their components, where it has them)."""
        self.t_price = sol.t_price
        if sol.t_components is not None:
            self.t_comp = sol.t_components

    def take_copper_plate_prices(self, node_id: str, sol: Solution) -> None:
        """A copper plate's own market price: the one node of ``sol``'s single-node grid (all energy)."""
        self.c_price[node_id] = sol.t_price[0]
        if sol.t_components is not None:
            self.c_comp[node_id] = sol.t_components[0]

    def result(self, extract_start: float) -> ClearingResult:
        """The one :class:`ClearingResult` of everything taken so far (``extract_start``: when the
        read-out began, for its timing)."""
        prep, case = self.prep, self.prep.case
        dt = case.timing.dt_h
        bt = prep.bids
        sell = ~bt.is_buy
        energy = self.a * dt
        act_cost = float((bt.price_eur_per_mwh * energy)[sell].sum())
        buy_value = float((bt.price_eur_per_mwh * energy)[~sell].sum())
        slack_e = (
            self.t_slack.sum()
            + sum(s.sum() for s in self.d_slack)
            + sum(s.sum() for s in self.c_slack.values())
        ) * dt
        slack_cost = float(slack_e * case.slack_penalty_eur_per_mwh)
        prices, price_of = self._price_table()
        acts, payments = self._activation_table(energy, price_of)
        interface, voltages, flows = self._grid_tables()
        objective = act_cost - (buy_value if self.scheme == "IFM" else 0.0) + slack_cost
        extract = time.perf_counter() - extract_start
        return ClearingResult(
            scheme=self.scheme,
            case_name=case.name,
            status="optimal_with_slack" if slack_e > SLACK_TOL_MW * dt else "optimal",
            solver=self.options.solver,
            objective_eur=objective,
            activation_cost_eur=act_cost,
            slack_cost_eur=slack_cost,
            slack_energy_mwh=float(slack_e),
            welfare_eur=(buy_value - act_cost - slack_cost) if self.scheme == "IFM" else -objective,
            payments_eur=payments,
            activation_mw=self.a,
            activations=acts,
            prices=prices,
            slack=self._slack_table(),
            interface=interface,
            voltages=voltages,
            branch_flows=flows,
            max_cone_violation=self.viol,
            firm_steps=case.timing.firm_steps,
            build_time_s=self.build_time,
            solve_time_s=self.solve_time,
            extract_time_s=extract,
            cut_rounds=self.rounds,
            n_variables=self.n_vars,
            n_binaries=self.n_bins,
            excluded_bids=pd.DataFrame(prep.excluded, columns=["bid_id", "reason"]),
            sub_clearings=self.subs,
        )

    def _price_table(self) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """The price of every node and step as a table, and each node's (and alias's) prices by id (a
        copper plate without a market of its own takes its interface node's price)."""
        case = self.prep.case
        T = self.prep.T
        tg = case.transmission
        K = len(COMPONENTS)
        node_ids: list[str] = []
        blocks: list[np.ndarray] = []
        cblocks: list[np.ndarray] = []
        node_ids += tg.node_ids
        blocks.append(self.t_price)
        cblocks.append(self.t_comp)
        for g, dg in enumerate(case.distribution):
            node_ids += dg.node_ids
            blocks.append(self.d_price[g])
            cblocks.append(self.d_comp[g])
        tidx = tg.node_index()
        for cp in case.copper_plates:
            node_ids.append(cp.node_id)
            i = tidx[cp.interface_node]
            blocks.append(self.c_price.get(cp.node_id, self.t_price[i])[None, :])
            cblocks.append(self.c_comp.get(cp.node_id, self.t_comp[i])[None, :])
        price_mat = np.vstack(blocks) if blocks else np.zeros((0, T))
        comp_mat = np.concatenate(cblocks) if cblocks else np.zeros((0, K, T))
        cols: dict[str, object] = {
            "node": np.repeat(np.array(node_ids, dtype=object), T),
            "step": np.tile(np.arange(T), len(node_ids)),
            "price_eur_per_mwh": price_mat.reshape(-1),
        }
        for k, name in enumerate(COMPONENTS):
            cols[f"{name}_eur_per_mwh"] = comp_mat[:, k].reshape(-1)
        prices = pd.DataFrame(cols)
        price_of = {nid: price_mat[i] for i, nid in enumerate(node_ids)}
        for alias, i in tg.aliases.items():
            price_of[alias] = self.t_price[i]
        for g, dg in enumerate(case.distribution):
            for alias, i in dg.aliases.items():
                price_of[alias] = self.d_price[g][i]
        return prices, price_of

    def _activation_table(
        self, energy: np.ndarray, price_of: dict[str, np.ndarray]
    ) -> tuple[pd.DataFrame, float]:
        """Every activated (bid, step) with its cost and its payment at the node's clearing price, and
        the payments' total (NaN when a node has no price)."""
        bt = self.prep.bids
        bb, tt = np.nonzero(self.a > 1e-7)
        node_price = (
            np.array([price_of[bt.node[b]][t] for b, t in zip(bb.tolist(), tt.tolist(), strict=True)])
            if len(bb)
            else np.zeros(0)
        )
        sgn = bt.direction[bb].astype(float) * np.where(bt.is_buy[bb], -1.0, 1.0)
        acts = pd.DataFrame(
            {
                "bid_id": bt.bid_id[bb],
                "owner": bt.owner[bb],
                "node": bt.node[bb],
                "direction": np.where(bt.direction[bb] > 0, "up", "down"),
                "side": np.where(bt.is_buy[bb], "buy", "sell"),
                "step": tt,
                "activation_mw": self.a[bb, tt],
                "energy_mwh": energy[bb, tt],
                "price_eur_per_mwh": bt.price_eur_per_mwh[bb, tt],
                "clearing_price_eur_per_mwh": node_price,
                "cost_eur": bt.price_eur_per_mwh[bb, tt]
                * energy[bb, tt]
                * np.where(bt.is_buy[bb], -1.0, 1.0),
                "payment_eur": sgn * node_price * energy[bb, tt],
            }
        )
        payments = float(acts["payment_eur"].sum()) if len(acts) else 0.0
        if len(acts) and acts["clearing_price_eur_per_mwh"].isna().any():
            payments = math.nan
        return acts, payments

    def _slack_table(self) -> pd.DataFrame:
        """The nodes and steps with slack above :data:`SLACK_TOL_MW`."""
        case = self.prep.case
        rows = []
        for nid, s in zip(case.transmission.node_ids, self.t_slack, strict=True):
            rows.append((nid, s))
        for g, dg in enumerate(case.distribution):
            rows += list(zip(dg.node_ids, self.d_slack[g], strict=True))
        rows += list(self.c_slack.items())
        srec = [
            (nid, t, float(s[0, t]), float(s[1, t]))
            for nid, s in rows
            for t in np.flatnonzero((s[0] > SLACK_TOL_MW) | (s[1] > SLACK_TOL_MW)).tolist()
        ]
        return pd.DataFrame(srec, columns=["node", "step", "slack_up_mw", "slack_down_mw"])

    def _grid_tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The interfaces (import, schedule, losses), the distribution voltages and the branch flows."""
        prep, case = self.prep, self.prep.case
        T, dt = prep.T, case.timing.dt_h
        tg = case.transmission
        irec = []
        vrec_n, vrec_t, vrec_v = [], [], []
        frec: list[pd.DataFrame] = []
        for g, dg in enumerate(case.distribution):
            for t in range(T):
                irec.append(
                    (
                        dg.grid_id,
                        t,
                        float(self.imp[g][t]),
                        float(prep.schedule[g][t]),
                        float(self.losses[g][t]),
                        float(self.losses[g][t] * dt),
                    )
                )
            vg, fg = self.v[g], self.d_flow[g]
            if vg is not None:
                vrec_n.append(np.repeat(np.array(dg.node_ids, dtype=object), T))
                vrec_t.append(np.tile(np.arange(T), dg.n_nodes))
                vrec_v.append(np.sqrt(np.maximum(vg, 0)).reshape(-1))
            if fg is not None:
                frec.append(
                    pd.DataFrame(
                        {
                            "grid": dg.grid_id,
                            "branch": np.repeat(np.array(dg.branch_ids, dtype=object), T),
                            "step": np.tile(np.arange(T), dg.n_branches),
                            "p_mw": fg.reshape(-1),
                            "rating_mw": np.repeat(dg.imax_pu * dg.base_mva, T),
                        }
                    )
                )
        if self.t_flow is not None and len(self.t_flow):
            frec.insert(
                0,
                pd.DataFrame(
                    {
                        "grid": tg.name,
                        "branch": np.repeat(np.array(tg.branch_ids, dtype=object), T),
                        "step": np.tile(np.arange(T), tg.n_branches),
                        "p_mw": self.t_flow.reshape(-1),
                        "rating_mw": np.repeat(tg.branch_rating_mw, T),
                    }
                ),
            )
        interface = pd.DataFrame(
            irec, columns=["grid_id", "step", "import_mw", "schedule_mw", "losses_mw", "losses_mwh"]
        )
        voltages = pd.DataFrame(
            {
                "node": np.concatenate(vrec_n) if vrec_n else [],
                "step": np.concatenate(vrec_t) if vrec_t else [],
                "vm_pu": np.concatenate(vrec_v) if vrec_v else [],
            }
        )
        flows = (
            pd.concat(frec, ignore_index=True)
            if frec
            else pd.DataFrame(columns=["grid", "branch", "step", "p_mw", "rating_mw"])
        )
        return interface, voltages, flows


def take_central(acc: ResultBuilder, prob: Problem, sol: Solution, mask: np.ndarray, scheme: str) -> None:
    """Take the solution of a central clearing (CMS, CM, IFM) of the bids ``mask`` into ``acc``; under
    CMS the distribution grids were not modelled, so their import follows from needs and activations."""
    prep = acc.prep
    acc.a[mask] = sol.a
    acc.take_transmission_prices(sol)
    acc.t_slack[:, 0] += sol.su
    acc.t_slack[:, 1] += sol.sd
    acc.t_flow = sol.t_flow
    if scheme == "CMS":
        # distribution grids not modelled: the import moves by the needs and activations, lossless
        sign = prep.bids.direction.astype(float) * np.where(prep.bids.is_buy, -1.0, 1.0)
        for g, _dg in enumerate(prep.case.distribution):
            sel = (prep.loc_kind == "D") & (prep.loc_grid == g)
            acc.imp[g] = (
                prep.schedule[g] + prep.d_need[g].sum(axis=0) - (sign[sel, None] * acc.a[sel]).sum(axis=0)
            )
            i = prep.case.transmission.node_index()[_dg.interface_node]
            acc.d_price[g] = np.repeat(sol.t_price[i][None, :], _dg.n_nodes, axis=0)
            acc.d_comp[g] = np.repeat(acc.t_comp[i][None, :], _dg.n_nodes, axis=0)
    else:
        for g in range(len(prob.dgrids)):
            acc.take_grid(g, g, prob, sol)
