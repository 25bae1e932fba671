"""The market architectures: how each scheme turns a case into clearing problems and one result.

* ``CMS`` centralized AS market: one TSO clearing with the DC transmission model only. Distribution
  bids and needs sit at their interface node; with ``options.prequalification`` the DSO first excludes
  every bid whose full activation alone would break a limit of its grid (voltage or current, checked
  by an exact branch-flow power flow of the scheduled state plus that bid).
* ``LMS`` local AS market: each DSO clears a local market (SOCP, import free) for its own grid limits;
  its activations are firm. From the unused bids it builds a residual supply curve at the interface
  (least cost of delivering each interface quantity with its grid constraints, both directions),
  which enters the TSO market as bids of the DSO; what the TSO activates the DSO disaggregates back
  to its bids (SOCP with the import fixed).
* ``SBR`` shared balancing responsibility: every DSO keeps its interface on the schedule with local
  bids only (SOCP, import fixed; copper-plate DSOs: a one-node market); the TSO balances the
  transmission needs with transmission bids only. No interaction.
* ``CM`` common market, centralised: one joint clearing (DC + the SOCP of every detailed grid).
* ``CM-D`` common market, decentralised: each DSO passes the curve of its least local cost as a
  function of its interface import (built with all its bids and grid constraints, around its least-cost
  point) to the central market, then disaggregates; equals ``CM`` up to the curve's discretisation.
* ``IFM`` integrated flexibility market: ``CM`` plus the commercial parties' bids, maximising welfare.

Bids of ``party = "commercial"`` take part in IFM only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from simulation.errors import MarketError
from simulation.market.bids import BidTable, EnergyConstraint
from simulation.market.case import SCHEMES, ClearingOptions, MarketCase
from simulation.market.grids import TransmissionGrid
from simulation.market.model import build_model, set_import_target, set_parameters
from simulation.market.problem import DGridData, Problem
from simulation.market.results import ClearingResult
from simulation.market.solve import Solution, solve_problem
from simulation.market.solvers import SolverHandle, make_solver
from simulation.progress import NullProgress, Progress, check_cancelled

SLACK_TOL_MW = 1e-6


# ---------------------------------------------------------------------------------------------- preparation
@dataclass
class _Prep:
    """A validated case in array form."""

    case: MarketCase
    bids: BidTable
    """The case's bids with gate closure applied (quantities zeroed where late)."""
    loc_kind: np.ndarray
    """'T', 'D' or 'C' per bid."""
    loc_grid: np.ndarray
    loc_row: np.ndarray
    t_row_of_bid: np.ndarray
    """Transmission row of each bid (its interface row for distribution bids)."""
    t_need: np.ndarray
    """(nT, T) needs at transmission nodes (not copper plates)."""
    c_need: np.ndarray
    """(nT, T) needs of copper-plate nodes, at their interface rows."""
    d_need: list[np.ndarray]
    d_base: list[tuple[np.ndarray, np.ndarray]]
    schedule: list[np.ndarray]
    excluded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def T(self) -> int:
        return self.case.n_steps


def _prepare(case: MarketCase) -> _Prep:
    nodes = case.validate()
    T = case.n_steps
    tg = case.transmission
    tidx = tg.node_index()
    bids = case.bids
    excluded: list[tuple[str, str]] = []
    # gate closure: a bid counts for step t only if submitted <= t * granularity - gate_closure
    sub = bids.submitted_min
    if np.isfinite(sub).any():
        deadline = case.timing.granularity_min * np.arange(T) - case.timing.gate_closure_min
        late = np.isfinite(sub)[:, None] & (sub[:, None] > deadline[None, :]) & (bids.quantity_mw > 0)
        if late.any():
            q = bids.quantity_mw.copy()
            q[late] = 0.0
            bids = replace(bids, quantity_mw=q)
            for b in np.flatnonzero(late.any(axis=1)).tolist():
                steps = np.flatnonzero(late[b]).tolist()
                excluded.append((str(bids.bid_id[b]), f"submitted after gate closure for steps {steps}"))
    kind, grid, row = [], [], []
    for nd in bids.node.tolist():
        k, g, r = nodes[nd]
        kind.append(k)
        grid.append(g)
        row.append(r)
    loc_kind = np.array(kind, dtype=object)
    loc_grid = np.array(grid, dtype=int)
    loc_row = np.array(row, dtype=int)
    t_row = loc_row.copy()
    for g, dg in enumerate(case.distribution):
        t_row[(loc_kind == "D") & (loc_grid == g)] = tidx[dg.interface_node]
    needs = case.needs_matrix(nodes)
    t_need = np.zeros((tg.n_nodes, T))
    c_need = np.zeros((tg.n_nodes, T))
    d_need = [np.zeros((dg.n_nodes, T)) for dg in case.distribution]
    for nid, arr in needs.items():
        k, g, r = nodes[nid]
        if k == "T":
            t_need[r] += arr
        elif k == "C":
            c_need[r] += arr
        else:
            d_need[g][r] += arr
    d_base = [dg.base(T) for dg in case.distribution]
    schedule = [dg.scheduled_import(T) for dg in case.distribution]
    return _Prep(
        case, bids, loc_kind, loc_grid, loc_row, t_row, t_need, c_need, d_need, d_base, schedule, excluded
    )


def _participating(prep: _Prep, scheme: str) -> np.ndarray:
    return np.ones(prep.bids.n_bids, dtype=bool) if scheme == "IFM" else ~prep.bids.is_commercial


# ---------------------------------------------------------------------------------------------- problems
def _central_problem(prep: _Prep, scheme: str, mask: np.ndarray, name: str) -> Problem:
    """CMS (distribution not modelled), CM and IFM (distribution coupled)."""
    case = prep.case
    tg = case.transmission
    T = prep.T
    modelled = scheme != "CMS"
    bids = prep.bids.subset(mask)
    kind = prep.loc_kind[mask]
    bid_grid = np.where((kind == "D") & modelled, prep.loc_grid[mask], -1)
    bid_row = np.where((kind == "D") & modelled, prep.loc_row[mask], prep.t_row_of_bid[mask])
    base = tg.base_injection(T)
    rhs = prep.t_need + prep.c_need - base
    dgrids: list[DGridData] = []
    tidx = tg.node_index()
    for g, dg in enumerate(case.distribution):
        i = tidx[dg.interface_node]
        if modelled:
            p, q = prep.d_base[g]
            dgrids.append(
                DGridData(
                    dg,
                    "coupled",
                    t_row=i,
                    load_p_mw=p + prep.d_need[g],
                    load_q_mvar=q,
                    schedule_mw=prep.schedule[g],
                )
            )
            rhs[i] -= prep.schedule[g]
        else:
            rhs[i] += prep.d_need[g].sum(axis=0)
    return Problem(
        name=name,
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=dgrids,
        bids=bids,
        bid_grid=bid_grid,
        bid_row=bid_row,
        welfare=scheme == "IFM",
    )


def _local_problem(
    prep: _Prep,
    g: int,
    bids: BidTable,
    rows: np.ndarray,
    load_p: np.ndarray,
    mode: str,
    target: np.ndarray | None,
    name: str,
) -> Problem:
    case = prep.case
    dg = case.distribution[g]
    T = prep.T
    dd = DGridData(
        dg,
        mode,
        load_p_mw=load_p,
        load_q_mvar=prep.d_base[g][1],
        schedule_mw=prep.schedule[g],
        import_target_mw=np.full(T, np.nan) if target is None else target,
    )
    return Problem(
        name=name,
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=None,
        t_rhs_mw=np.zeros((0, T)),
        dgrids=[dd],
        bids=bids,
        bid_grid=np.zeros(bids.n_bids, dtype=int),
        bid_row=np.asarray(rows, dtype=int),
    )


# ------------------------------------------------------------------------------------------ pre-qualification
def prequalify(prep: _Prep, mask: np.ndarray) -> np.ndarray:
    """DSO pre-qualification (CMS): the distribution bids whose full activation alone, on top of the
    scheduled state plus needs, keeps every voltage and current of their grid within limits (exact
    branch-flow power flow per bid and step). Returns a boolean mask over the case's bids."""
    ok = np.ones(prep.bids.n_bids, dtype=bool)
    bt = prep.bids
    sign = bt.direction.astype(float)
    for g, dg in enumerate(prep.case.distribution):
        sel = np.flatnonzero(mask & (prep.loc_kind == "D") & (prep.loc_grid == g))
        if not len(sel):
            continue
        p0, q0 = prep.d_base[g]
        p0 = p0 + prep.d_need[g]
        vlo, vhi = dg.vmin_pu**2, dg.vmax_pu**2
        lmax = np.where(np.isfinite(dg.imax_pu), dg.imax_pu**2, np.inf)
        v0, _, _, l0 = dg.branch_flow(p0, q0)
        base_bad_v = (v0 < vlo[:, None] - 1e-9) | (v0 > vhi[:, None] + 1e-9)
        base_bad_l = l0 > lmax[:, None] + 1e-9
        for b in sel.tolist():
            pb = p0.copy()
            pb[prep.loc_row[b]] -= sign[b] * bt.quantity_mw[b]
            v, _, _, L = dg.branch_flow(pb, q0)
            bad_v = ((v < vlo[:, None] - 1e-9) | (v > vhi[:, None] + 1e-9) | ~np.isfinite(v)) & ~base_bad_v
            bad_l = ((L > lmax[:, None] + 1e-9) | ~np.isfinite(L)) & ~base_bad_l
            if bad_v.any() or bad_l.any():
                ok[b] = False
    return ok


# ------------------------------------------------------------------------------------------ aggregated curves
@dataclass
class _Curve:
    up_q: np.ndarray
    up_p: np.ndarray
    down_q: np.ndarray
    down_p: np.ndarray


def _cost_per_step(prob: Problem, sol: Solution) -> np.ndarray:
    bt = prob.bids
    sell = ~bt.is_buy
    c = (bt.price_eur_per_mwh * sol.a)[sell].sum(axis=0) * prob.dt_h
    c += prob.penalty_eur_per_mwh * prob.dt_h * (sol.dsu.sum(axis=0) + sol.dsd.sum(axis=0))
    return np.asarray(c)


def _build_curve(
    prob: Problem, ref_import: np.ndarray, options: ClearingOptions, handle: SolverHandle, model: Any = None
) -> tuple[_Curve, int, Any]:
    """Residual supply curve of one distribution grid at its interface, both directions, per step.

    Breakpoints are the interface quantities (losses included, by an exact branch-flow power flow) of
    activating the grid's bids of each direction fully in merit order (at most ``options.curve_points``);
    at each, the least local cost of moving the import by that much
    away from ``ref_import`` is computed with the grid's SOCP model (import fixed). A breakpoint that
    needs slack in a step ends that step's curve (grid limit). Segment prices are the cost increments
    per MWh, made non-decreasing. Binary products (fill-or-kill, minimum duration, exclusive groups)
    enter the curve through their continuous relaxation."""
    T = prob.n_steps
    dt = prob.dt_h
    bt = prob.bids
    opts = replace(options, compute_prices=False)
    # one model for every breakpoint (only the mutable import target moves; HiGHS warm-starts from the
    # previous point's basis and keeps its tangent cuts), handed back for the disaggregation
    m = build_model(prob, reusable=False) if model is None else model
    base_obj = None
    solves = 0
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for dirn, sgn in (("up", 1), ("down", -1)):
        sel = (bt.direction == sgn) & ~bt.is_buy
        cap = np.where(sel[:, None], bt.quantity_mw, 0.0)
        dd = prob.dgrids[0]
        pts_t = []
        for t in range(T):
            order = np.argsort(bt.price_eur_per_mwh[:, t], kind="stable")
            order = order[cap[order, t] > 1e-9]
            if len(order) > options.curve_points:
                keep = np.unique(np.linspace(0, len(order) - 1, options.curve_points).round().astype(int))
            else:
                keep = np.arange(len(order))
            if not len(order):
                pts_t.append(np.zeros(0))
                continue
            # interface quantity of activating the first bids of the merit order fully, losses included
            inc = np.zeros((dd.grid.n_nodes, len(order)))
            np.add.at(inc, (prob.bid_row[order], np.arange(len(order))), cap[order, t])
            inc = np.cumsum(inc, axis=1)[:, keep]
            loads = dd.load_p_mw[:, [t]] - sgn * np.hstack([np.zeros((dd.grid.n_nodes, 1)), inc])
            qload = np.repeat(dd.load_q_mvar[:, [t]], loads.shape[1], axis=1)
            imp = dd.grid.import_of(loads, qload)
            pts = np.maximum.accumulate(np.maximum(sgn * (imp[0] - imp[1:]), 0.0))
            pts_t.append(np.unique(pts[pts > 1e-9]))
        n_pts = max((len(c) for c in pts_t), default=0)
        qs = np.zeros((n_pts, T))
        ps = np.zeros((n_pts, T))
        if n_pts == 0:
            out[dirn] = (qs, ps)
            continue
        grid_pts = np.zeros((n_pts + 1, T))
        for t in range(T):
            c = pts_t[t]
            grid_pts[1 : len(c) + 1, t] = c
            grid_pts[len(c) + 1 :, t] = c[-1] if len(c) else 0.0
        if base_obj is None:
            for t in range(T):
                set_import_target(m, 0, t, float(ref_import[t]))
            base_obj = _cost_per_step(prob, solve_problem(m, prob, opts, handle, relax_binaries=True))
            solves += 1
        prev_cost = base_obj.copy()
        alive = np.ones(T, dtype=bool)
        for k in range(1, n_pts + 1):
            for t in range(T):
                set_import_target(m, 0, t, float(ref_import[t] - sgn * grid_pts[k, t]))
            sol = solve_problem(m, prob, opts, handle, relax_binaries=True)
            solves += 1
            cost = _cost_per_step(prob, sol)
            slack = (sol.dsu + sol.dsd).sum(axis=0) > SLACK_TOL_MW
            dq = grid_pts[k] - grid_pts[k - 1]
            ok = alive & ~slack & (dq > 1e-9)
            qs[k - 1] = np.where(ok, dq, 0.0)
            ps[k - 1] = np.where(ok, (cost - prev_cost) / np.where(dq > 1e-9, dq, 1.0) / dt, 0.0)
            alive &= ~slack
            prev_cost = np.where(ok, cost, prev_cost)
            if not alive.any():
                break
        # non-decreasing prices over the segments that exist
        for t in range(T):
            on = qs[:, t] > 0
            if on.any():
                ps[on, t] = np.maximum.accumulate(ps[on, t])
        out[dirn] = (qs, ps)
    return _Curve(out["up"][0], out["up"][1], out["down"][0], out["down"][1]), solves, m


def _curve_bids(curve: _Curve, dso: str, grid_id: str, node: str, pad: int = 0) -> BidTable:
    """The curve as bids of the DSO at the interface node (``pad``: at least that many segments per
    direction, the extra ones offering nothing)."""
    T = curve.up_q.shape[1]

    def padded(x: np.ndarray) -> np.ndarray:
        return np.vstack([x, np.zeros((max(pad - x.shape[0], 0), T))])

    up_q, up_p, down_q, down_p = (padded(x) for x in (curve.up_q, curve.up_p, curve.down_q, curve.down_p))
    q = np.vstack([up_q, down_q])
    p = np.vstack([up_p, down_p])
    nu, nd = up_q.shape[0], down_q.shape[0]
    ids = [f"{grid_id}:curve:up:{k}" for k in range(nu)] + [f"{grid_id}:curve:down:{k}" for k in range(nd)]
    attrs = {
        "bid_id": ids,
        "owner": [dso] * (nu + nd),
        "node": [node] * (nu + nd),
        "direction": ["up"] * nu + ["down"] * nd,
    }
    return BidTable.from_columns(attrs, q, p)


# ---------------------------------------------------------------------------------------------- assembly
class _Acc:
    """Accumulates the pieces of a (possibly decentralised) clearing into one result."""

    def __init__(self, prep: _Prep, scheme: str, options: ClearingOptions) -> None:
        self.prep = prep
        self.scheme = scheme
        self.options = options
        case = prep.case
        T = prep.T
        self.a = np.zeros((prep.bids.n_bids, T))
        self.t_price = np.full((case.transmission.n_nodes, T), math.nan)
        self.d_price = [np.full((dg.n_nodes, T), math.nan) for dg in case.distribution]
        self.c_price: dict[str, np.ndarray] = {}
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
        self.d_slack[g][:, 0] += sol.dsu[o : o + n]
        self.d_slack[g][:, 1] += sol.dsd[o : o + n]
        self.imp[g] = sol.imp_mw[prob_grid]
        L = sol.l[ob : ob + nb]
        self.losses[g] = (dg.r_pu[:, None] * L).sum(axis=0) * dg.base_mva
        self.v[g] = sol.v[o : o + n]
        self.d_flow[g] = sol.P[ob : ob + nb] * dg.base_mva

    def result(self, extract_start: float) -> ClearingResult:
        prep, case = self.prep, self.prep.case
        T, dt = prep.T, case.timing.dt_h
        bt = prep.bids
        tg = case.transmission
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
        # prices of every node
        node_ids: list[str] = []
        blocks: list[np.ndarray] = []
        node_ids += tg.node_ids
        blocks.append(self.t_price)
        for g, dg in enumerate(case.distribution):
            node_ids += dg.node_ids
            blocks.append(self.d_price[g])
        tidx = tg.node_index()
        for cp in case.copper_plates:
            node_ids.append(cp.node_id)
            blocks.append(self.c_price.get(cp.node_id, self.t_price[tidx[cp.interface_node]])[None, :])
        price_mat = np.vstack(blocks) if blocks else np.zeros((0, T))
        prices = pd.DataFrame(
            {
                "node": np.repeat(np.array(node_ids, dtype=object), T),
                "step": np.tile(np.arange(T), len(node_ids)),
                "price_eur_per_mwh": price_mat.reshape(-1),
            }
        )
        price_of = {nid: price_mat[i] for i, nid in enumerate(node_ids)}
        for alias, i in tg.aliases.items():
            price_of[alias] = self.t_price[i]
        for g, dg in enumerate(case.distribution):
            for alias, i in dg.aliases.items():
                price_of[alias] = self.d_price[g][i]
        # activations
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
        # slack
        rows = []
        for nid, s in zip(tg.node_ids, self.t_slack, strict=True):
            rows.append((nid, s))
        for g, dg in enumerate(case.distribution):
            rows += list(zip(dg.node_ids, self.d_slack[g], strict=True))
        rows += list(self.c_slack.items())
        srec = [
            (nid, t, float(s[0, t]), float(s[1, t]))
            for nid, s in rows
            for t in np.flatnonzero((s[0] > SLACK_TOL_MW) | (s[1] > SLACK_TOL_MW)).tolist()
        ]
        slack = pd.DataFrame(srec, columns=["node", "step", "slack_up_mw", "slack_down_mw"])
        # interfaces, voltages, flows
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
            slack=slack,
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


def _take_central(acc: _Acc, prob: Problem, sol: Solution, mask: np.ndarray, scheme: str) -> None:
    prep = acc.prep
    acc.a[mask] = sol.a
    acc.t_price = sol.t_price
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
            acc.d_price[g] = np.repeat(
                sol.t_price[prep.case.transmission.node_index()[_dg.interface_node]][None, :],
                _dg.n_nodes,
                axis=0,
            )
    else:
        for g in range(len(prob.dgrids)):
            acc.take_grid(g, g, prob, sol)


# ---------------------------------------------------------------------------------------------- schemes
ModelCache = dict[Any, Any]
"""Models of the sub-clearings of a :class:`MarketSession`, by role (``("local", g)``, ``"central"``,
...): a later clearing of the same case structure writes its data into their mutable parameters."""


def _model_for(prob: Problem, cache: ModelCache | None, key: Any) -> tuple[Any, float]:
    """The model of ``prob``: built (and kept in ``cache`` under ``key``), or taken from the cache with
    the data of ``prob`` written into its parameters. Returns it with the time spent."""
    t0 = time.perf_counter()
    if cache is None:
        return build_model(prob), time.perf_counter() - t0
    m = cache.get(key)
    if m is None or len(m._pairs) != prob.bids.n_bids * prob.n_steps:  # new key, or another shape
        m = cache[key] = build_model(prob, reusable=True)
    else:
        set_parameters(m, prob)
    return m, time.perf_counter() - t0


def _solve(
    prob: Problem,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: _Acc,
    label: str,
    cache: ModelCache | None = None,
    key: Any = None,
) -> Solution:
    m, build = _model_for(prob, cache, key)
    sol = solve_problem(m, prob, options, handle)
    acc.add_stats(sol, build, label)
    return sol


def _clear_central(
    prep: _Prep, scheme: str, options: ClearingOptions, handle: SolverHandle, acc: _Acc
) -> None:
    mask = _participating(prep, scheme)
    if scheme == "CMS" and options.prequalification and prep.case.distribution:
        ok = prequalify(prep, mask)
        for b in np.flatnonzero(mask & ~ok).tolist():
            prep.excluded.append(
                (
                    str(prep.bids.bid_id[b]),
                    "DSO pre-qualification: its activation would break a distribution limit",
                )
            )
        mask = mask & ok
    prob = _central_problem(prep, scheme, mask, f"{prep.case.name} [{scheme}]")
    sol = _solve(prob, options, handle, acc, f"{scheme} market")
    _take_central(acc, prob, sol, mask, scheme)


def _local_bid_rows(prep: _Prep, g: int, base_mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(base_mask & (prep.loc_kind == "D") & (prep.loc_grid == g))


def _clear_sbr(
    prep: _Prep,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: _Acc,
    progress: Progress,
    cache: ModelCache | None = None,
) -> None:
    case = prep.case
    part = _participating(prep, "SBR")
    n_sub = len(case.distribution) + len(case.copper_plates) + 1
    for g, dg in enumerate(case.distribution):
        check_cancelled(progress)
        idx = _local_bid_rows(prep, g, part)
        p, _ = prep.d_base[g]
        prob = _local_problem(
            prep,
            g,
            prep.bids.subset(idx),
            prep.loc_row[idx],
            p + prep.d_need[g],
            "fixed",
            prep.schedule[g],
            f"{case.name} [SBR local {dg.grid_id}]",
        )
        sol = _solve(prob, options, handle, acc, f"SBR local market {dg.grid_id}", cache, ("local", g))
        acc.a[idx] = sol.a
        acc.take_grid(g, 0, prob, sol)
        progress.report((g + 1) / n_sub, f"SBR: local market {dg.grid_id} cleared")
    tidx = case.transmission.node_index()
    for c, cp in enumerate(case.copper_plates):
        idx = np.flatnonzero(part & (prep.bids.node == cp.node_id))
        need = np.asarray(case.needs_matrix().get(cp.node_id, np.zeros(prep.T)))
        one = TransmissionGrid.single_node(cp.node_id, name=f"{cp.node_id} (copper plate)")
        prob = Problem(
            name=f"{case.name} [SBR local {cp.node_id}]",
            n_steps=prep.T,
            dt_h=case.timing.dt_h,
            penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
            tgrid=one,
            t_rhs_mw=need[None, :],
            dgrids=[],
            bids=prep.bids.subset(idx),
            bid_grid=np.full(len(idx), -1),
            bid_row=np.zeros(len(idx), dtype=int),
        )
        sol = _solve(prob, options, handle, acc, f"SBR local market {cp.node_id}", cache, ("copper", c))
        acc.a[idx] = sol.a
        acc.c_price[cp.node_id] = sol.t_price[0]
        acc.c_slack[cp.node_id] = np.stack([sol.su[0], sol.sd[0]])
        progress.report((len(case.distribution) + c + 1) / n_sub, f"SBR: local market {cp.node_id} cleared")
    # TSO: transmission bids and needs only; interfaces on schedule (already in the base injections)
    tmask = part & (prep.loc_kind == "T")
    tg = case.transmission
    rhs = prep.t_need - tg.base_injection(prep.T)
    bids = prep.bids.subset(tmask)
    prob = Problem(
        name=f"{case.name} [SBR TSO]",
        n_steps=prep.T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=[],
        bids=bids,
        bid_grid=np.full(bids.n_bids, -1),
        bid_row=prep.loc_row[tmask],
    )
    sol = _solve(prob, options, handle, acc, "SBR TSO market", cache, "central")
    acc.a[tmask] = sol.a
    acc.t_price = sol.t_price
    acc.t_slack[:, 0] += sol.su
    acc.t_slack[:, 1] += sol.sd
    acc.t_flow = sol.t_flow
    del tidx


def _clear_decentral(
    prep: _Prep,
    scheme: str,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: _Acc,
    progress: Progress,
    cache: ModelCache | None = None,
) -> None:
    """LMS and CM-D (see the module docstring)."""
    case = prep.case
    T = prep.T
    part = _participating(prep, scheme)
    tg = case.transmission
    tidx = tg.node_index()
    extra_need = np.zeros((tg.n_nodes, T))
    curves: list[BidTable] = []
    local: list[dict[str, Any]] = []
    n_g = max(len(case.distribution), 1)
    for g, dg in enumerate(case.distribution):
        check_cancelled(progress)
        idx = _local_bid_rows(prep, g, part)
        bids_g = prep.bids.subset(idx)
        p, _ = prep.d_base[g]
        load = p + prep.d_need[g]
        # 1. local market: the DSO's own grid limits, import free
        # one model per grid serves its local market (import free), every curve point and the
        # disaggregation (import fixed): only mutable parameters change between them
        prob = _local_problem(
            prep,
            g,
            bids_g,
            prep.loc_row[idx],
            load,
            "fixed",
            None,
            f"{case.name} [{scheme} local {dg.grid_id}]",
        )
        lmodel, build_s = _model_for(prob, cache, ("local", g))
        sol = solve_problem(lmodel, prob, replace(options, compute_prices=False), handle)
        acc.add_stats(sol, build_s, f"{scheme} local market {dg.grid_id}")
        ref = sol.imp_mw[0].copy()
        sign = bids_g.direction.astype(float) * np.where(bids_g.is_buy, -1.0, 1.0)
        if scheme == "LMS":
            a_loc = sol.a
            # residual bids: the unused capacity; on/off bids already used are spent
            q_res = np.maximum(bids_g.quantity_mw - a_loc, 0.0)
            spent = bids_g.needs_binary() & (a_loc > 1e-7).any(axis=1)
            q_res[spent] = 0.0
            curve_bids = replace(bids_g, quantity_mw=q_res, initial_activation_mw=np.zeros(bids_g.n_bids))
            load_c = load.copy()
            np.add.at(load_c, prep.loc_row[idx], -(sign[:, None] * a_loc))
            acc.a[idx] += a_loc
        else:
            a_loc = np.zeros_like(sol.a)
            curve_bids = bids_g
            load_c = load
        # 2. aggregated curve at the interface
        cprob = _local_problem(
            prep,
            g,
            curve_bids,
            prep.loc_row[idx],
            load_c,
            "fixed",
            ref,
            f"{case.name} [{scheme} curve {dg.grid_id}]",
        )
        t0 = time.perf_counter()
        set_parameters(lmodel, cprob)
        curve, n_solves, cmodel = _build_curve(cprob, ref, options, handle, model=lmodel)
        acc.solve_time += time.perf_counter() - t0
        acc.subs.append(
            {
                "clearing": f"{scheme} curve {dg.grid_id}",
                "solves": n_solves,
                "up_mw": curve.up_q.sum(axis=0).tolist(),
                "down_mw": curve.down_q.sum(axis=0).tolist(),
            }
        )
        pad = options.curve_points if cache is not None else 0  # a fixed shape for the kept central model
        curves.append(_curve_bids(curve, dg.dso_id, dg.grid_id, dg.interface_node, pad))
        extra_need[tidx[dg.interface_node]] += ref - prep.schedule[g]
        local.append(
            {"g": g, "idx": idx, "cprob": cprob, "ref": ref, "n_curve": curves[-1].n_bids, "model": cmodel}
        )
        progress.report(0.6 * (g + 1) / n_g, f"{scheme}: curve of {dg.grid_id} built")
    # 3. TSO / central market: transmission and copper-plate bids plus the DSOs' curves
    tmask = part & (prep.loc_kind != "D")
    own = prep.bids.subset(tmask)
    all_bids = BidTable.concat([own, *curves]) if curves else own
    rows = np.concatenate(
        [prep.t_row_of_bid[tmask]]
        + [np.full(c.n_bids, tidx[case.distribution[k].interface_node]) for k, c in enumerate(curves)]
    )
    rhs = prep.t_need + prep.c_need + extra_need - tg.base_injection(T)
    prob = Problem(
        name=f"{case.name} [{scheme} central]",
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=[],
        bids=all_bids,
        bid_grid=np.full(all_bids.n_bids, -1),
        bid_row=rows,
    )
    sol = _solve(prob, options, handle, acc, f"{scheme} TSO market", cache, "central")
    n_own = own.n_bids
    acc.a[tmask] = sol.a[:n_own]
    acc.t_price = sol.t_price
    acc.t_slack[:, 0] += sol.su
    acc.t_slack[:, 1] += sol.sd
    acc.t_flow = sol.t_flow
    progress.report(0.8, f"{scheme}: central market cleared")
    # 4. disaggregation of the activated curve quantities
    off = n_own
    for info in local:
        g = info["g"]
        a_curve = sol.a[off : off + info["n_curve"]]
        cb = curves[g]
        delta = (cb.direction[:, None].astype(float) * a_curve).sum(axis=0)
        off += info["n_curve"]
        dprob = replace(
            info["cprob"], name=f"{case.name} [{scheme} disaggregation {case.distribution[g].grid_id}]"
        )
        dprob.dgrids = [replace(dprob.dgrids[0], import_target_mw=info["ref"] - delta)]
        # the curve's model has the same structure: only the import target moves
        cm = info["model"]
        for t in range(T):
            set_import_target(cm, 0, t, float(info["ref"][t] - delta[t]))
        dsol = solve_problem(cm, dprob, options, handle)
        acc.add_stats(dsol, 0.0, f"{scheme} disaggregation {case.distribution[g].grid_id}")
        acc.a[info["idx"]] += dsol.a
        acc.take_grid(g, 0, dprob, dsol)
        acc.subs[-1]["interface_delta_mw"] = delta.tolist()


def clear(
    case: MarketCase,
    scheme: str = "CM",
    options: ClearingOptions | None = None,
    progress: Progress | None = None,
) -> ClearingResult:
    """Clear ``case`` under ``scheme`` (one of :data:`~simulation.market.case.SCHEMES`).

    Raises :class:`MarketError` for bad input, :class:`SolverUnavailableError` when the solver cannot
    be reached, :class:`SolverFailedError` / :class:`InfeasibleMarketError` naming the clearing.
    """
    return _clear(case, scheme, options, progress)


def _clear(
    case: MarketCase,
    scheme: str = "CM",
    options: ClearingOptions | None = None,
    progress: Progress | None = None,
    cache: ModelCache | None = None,
    handle: SolverHandle | None = None,
) -> ClearingResult:
    """:func:`clear` with a session's model cache and solver (see :class:`MarketSession`)."""
    options = options or ClearingOptions()
    progress = progress or NullProgress()
    if scheme not in SCHEMES:
        raise MarketError(f"{case.name}: unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    handle = handle or make_solver(options.solver, f"{case.name} [{scheme}]")
    prep = _prepare(case)
    acc = _Acc(prep, scheme, options)
    progress.report(0.0, f"{scheme}: clearing {case.name}")
    if scheme in ("CMS", "CM", "IFM"):
        _clear_central(prep, scheme, options, handle, acc)
    elif scheme == "SBR":
        _clear_sbr(prep, options, handle, acc, progress, cache)
    else:
        _clear_decentral(prep, scheme, options, handle, acc, progress, cache)
    t0 = time.perf_counter()
    res = acc.result(t0)
    progress.report(1.0, f"{scheme}: cleared ({res.status})")
    return res


# -------------------------------------------------------------------------------------------- rolling horizon
class MarketSession:
    """A built model with its persistent solver, re-cleared as the horizon rolls.

    The case's structure (grids, bid ids and nodes and products) stays; :meth:`update` changes the
    mutable parameters: needs, bid quantities and prices, initial activations (for ramp limits), the
    scheduled transmission injections and distribution loads. Every (bid, step) pair has a variable,
    so a bid may offer in a step where it offered nothing before. Centralised schemes (CMS, CM, IFM)
    reuse their one model; the decentralised ones (LMS, SBR, CM-D) keep the model of every
    sub-clearing (each grid's local market, curve and disaggregation model, the TSO market with the
    DSOs' curves padded to ``options.curve_points`` segments per direction) and write the next data
    into their parameters; every model keeps its HiGHS instance, basis and cuts.
    """

    def __init__(self, case: MarketCase, scheme: str = "CM", options: ClearingOptions | None = None) -> None:
        if scheme not in SCHEMES:
            raise MarketError(f"{case.name}: unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
        self.case = case
        self.scheme = scheme
        self.options = options or ClearingOptions()
        self.handle = make_solver(self.options.solver, f"{case.name} [{scheme}]")
        self.reuses = scheme in ("CMS", "CM", "IFM")
        self._cache: ModelCache = {}
        self._model: Any = None
        self._prob: Problem | None = None
        self._mask: np.ndarray | None = None
        self.build_time_s = 0.0
        self.clearings = 0

    def update(
        self,
        needs_mw: Mapping[str, Any] | None = None,
        quantity_mw: np.ndarray | None = None,
        price_eur_per_mwh: np.ndarray | None = None,
        initial_activation_mw: np.ndarray | None = None,
        base_injection_mw: np.ndarray | None = None,
        distribution_load_mw: Mapping[str, np.ndarray] | None = None,
        initial_on_steps: np.ndarray | None = None,
        distribution_qload_mvar: Mapping[str, np.ndarray] | None = None,
        energy_limits_mwh: Mapping[str, tuple[float, float]] | None = None,
        root_voltage_pu: Mapping[str, float] | None = None,
    ) -> None:
        """Change the data of the next clearing (arrays over the case's bids, ``(n_bids, n_steps)``;
        ``initial_activation_mw`` and ``initial_on_steps`` ``(n_bids,)``: where the last firm step left
        each bid, for its ramp limit and its minimum duration; per distribution grid id its scheduled
        active and reactive loads and the voltage of its root (a tap move); per energy group of the
        case its ``(min, max)`` MWh)."""
        case = self.case
        bids = case.bids
        if energy_limits_mwh:
            unknown = sorted(set(energy_limits_mwh) - set(bids.energy_constraints) - set(bids.energy_group))
            if unknown:
                raise MarketError(f"{case.name}: update: unknown energy group {unknown[0]!r}")
            ecs = dict(bids.energy_constraints)
            for g, (lo, hi) in energy_limits_mwh.items():
                ecs[g] = EnergyConstraint(g, float(lo), float(hi))
            bids = case.bids = replace(bids, energy_constraints=ecs)
        if initial_on_steps is not None:
            on = np.asarray(initial_on_steps, dtype=int)
            if on.shape != (bids.n_bids,):
                raise MarketError(f"{case.name}: update: 'initial_on_steps' must have {bids.n_bids} entries")
            bids = case.bids = replace(bids, initial_on_steps=on)
        if quantity_mw is not None or price_eur_per_mwh is not None or initial_activation_mw is not None:
            q = bids.quantity_mw if quantity_mw is None else np.asarray(quantity_mw, float)
            pz = bids.price_eur_per_mwh if price_eur_per_mwh is None else np.asarray(price_eur_per_mwh, float)
            a0 = (
                bids.initial_activation_mw
                if initial_activation_mw is None
                else np.asarray(initial_activation_mw, float)
            )
            if (
                q.shape != bids.quantity_mw.shape
                or pz.shape != bids.quantity_mw.shape
                or a0.shape != (bids.n_bids,)
            ):
                raise MarketError(
                    f"{case.name}: update: bid arrays must keep the shape {bids.quantity_mw.shape}"
                )
            new = replace(bids, quantity_mw=q, price_eur_per_mwh=pz, initial_activation_mw=a0)
            new.check_values()
            case.bids = new
        if needs_mw is not None:
            case.needs_mw = dict(needs_mw)
        if base_injection_mw is not None:
            case.transmission = replace(
                case.transmission, base_injection_mw=np.asarray(base_injection_mw, float)
            )
        changes: dict[str, dict[str, Any]] = {}
        for field_name, data in (
            ("base_p_mw", distribution_load_mw),
            ("base_q_mvar", distribution_qload_mvar),
            ("v_root_pu", root_voltage_pu),
        ):
            if data is None:
                continue
            unknown = sorted(set(data) - {dg.grid_id for dg in case.distribution})
            if unknown:
                raise MarketError(f"{case.name}: update: unknown distribution grid {unknown[0]!r}")
            for gid, val in data.items():
                new_val = float(val) if field_name == "v_root_pu" else np.asarray(val, float)
                changes.setdefault(gid, {})[field_name] = new_val
        if changes:  # one replace per grid: each re-runs the grid's radial check
            case.distribution = [
                replace(dg, **changes[dg.grid_id]) if dg.grid_id in changes else dg
                for dg in case.distribution
            ]

    def clear(self, progress: Progress | None = None) -> ClearingResult:
        """Clear the case as it now stands, reusing the model when the scheme allows."""
        self.clearings += 1
        if not self.reuses:
            # decentralised schemes: every sub-clearing keeps its model in the session's cache
            return _clear(self.case, self.scheme, self.options, progress, self._cache, self.handle)
        prep = _prepare(self.case)
        acc = _Acc(prep, self.scheme, self.options)
        t0 = time.perf_counter()
        if self._model is None:
            mask = _participating(prep, self.scheme)
            if self.scheme == "CMS" and self.options.prequalification and self.case.distribution:
                mask = mask & prequalify(prep, mask)
            self._mask = mask
            self._prob = _central_problem(prep, self.scheme, mask, f"{self.case.name} [{self.scheme}]")
            self._model = build_model(self._prob, reusable=True)
        else:
            assert self._prob is not None and self._mask is not None
            prob = _central_problem(prep, self.scheme, self._mask, self._prob.name)
            self._set_params(prob)
            self._prob = prob
        build = time.perf_counter() - t0
        self.build_time_s += build
        sol = solve_problem(self._model, self._prob, self.options, self.handle)
        acc.add_stats(sol, build, f"{self.scheme} market (clearing {self.clearings})")
        _take_central(acc, self._prob, sol, self._mask, self.scheme)
        return acc.result(time.perf_counter())

    def _set_params(self, prob: Problem) -> None:
        set_parameters(self._model, prob)
