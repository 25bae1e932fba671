"""Residual supply curves of a distribution grid at its interface (the LMS and CM-D schemes).

A DSO that does not pass its grid to the central market passes, per step and direction, the least
local cost of moving its interface import by each quantity: :func:`build_curve` computes it with the
grid's SOCP model at breakpoints of the bids' merit order, :func:`curve_bids` writes it as bids of the
DSO at the interface node.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from coordstudio.simulation.market.bids import BidTable
from coordstudio.simulation.market.case import ClearingOptions
from coordstudio.simulation.market.model import build_model, set_import_target
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.solution import SLACK_TOL_MW
from coordstudio.simulation.market.solve import Solution, solve_problem
from coordstudio.simulation.market.solvers import SolverHandle


# ------------------------------------------------------------------------------------------ aggregated curves
@dataclass
class InterfaceCurve:
    """Segments of a grid's curve, ``(segments, steps)`` each: quantities (MW) and prices (EUR/MWh) up
    and down."""

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


def build_curve(
    prob: Problem, ref_import: np.ndarray, options: ClearingOptions, handle: SolverHandle, model: Any = None
) -> tuple[InterfaceCurve, int, Any]:
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
    return InterfaceCurve(out["up"][0], out["up"][1], out["down"][0], out["down"][1]), solves, m


def curve_bids(curve: InterfaceCurve, dso: str, grid_id: str, node: str, pad: int = 0) -> BidTable:
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
