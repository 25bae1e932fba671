"""Second-order cones of the DistFlow relaxation as tangent cuts (an outer approximation).

Cones ``P^2 + Q^2 <= v l`` (rotated second-order cones of the DistFlow relaxation) reach HiGHS as an
outer approximation: after each solve, every cone violated by more than ``cone_tolerance`` gets the
tangent cut at the current point ``(P*, Q*, v*, l*)``::

    (4 P* P + 4 Q* Q + (v* - l*) (v - l)) / ||(2P*, 2Q*, v* - l*)|| <= v + l

which is valid for every point of the cone whatever the data (it is the supporting hyperplane of
``||(2P, 2Q, v - l)|| <= v + l``), so the cuts accumulate across rounds and across re-clearings.
Before the first solve, cuts at points *on* the cones (:func:`add_initial_cuts` for a Pyomo model,
:func:`initial_cut_points` for the HiGHS path) make the first LP already close.
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from coordstudio.simulation.market.problem import Problem


def cone_values(m: pyo.ConcreteModel, T: int) -> tuple[np.ndarray, ...]:
    nb = m._d["n_br"]
    P = np.array([[m.P[k, t].value or 0.0 for t in range(T)] for k in range(nb)]).reshape(nb, T)
    Q = np.array([[m.Q[k, t].value or 0.0 for t in range(T)] for k in range(nb)]).reshape(nb, T)
    L = np.array([[m.l[k, t].value or 0.0 for t in range(T)] for k in range(nb)]).reshape(nb, T)
    nn = m._d["n_nodes"]
    V = np.array([[m.v[j, t].value or 0.0 for t in range(T)] for j in range(nn)]).reshape(nn, T)
    return P, Q, L, V


def cone_violation(P: np.ndarray, Q: np.ndarray, L: np.ndarray, Vfrom: np.ndarray) -> np.ndarray:
    """``||(2P, 2Q, v - l)|| - (v + l)`` per branch and step (> 0 means outside the cone)."""
    return np.sqrt(4 * P**2 + 4 * Q**2 + (Vfrom - L) ** 2) - (Vfrom + L)


def add_cuts(
    m: pyo.ConcreteModel, P: np.ndarray, Q: np.ndarray, L: np.ndarray, Vf: np.ndarray, mask: np.ndarray
) -> int:
    fr = m._d["from"]
    n = 0
    for k, t in zip(*np.nonzero(mask), strict=True):
        k, t = int(k), int(t)
        p0, q0, v0, l0 = P[k, t], Q[k, t], Vf[k, t], L[k, t]
        norm = math.sqrt(4 * p0 * p0 + 4 * q0 * q0 + (v0 - l0) ** 2)
        if norm < 1e-12:
            continue
        v = m.v[int(fr[k]), t]
        m.cuts.add(
            (4 * p0 / norm) * m.P[k, t]
            + (4 * q0 / norm) * m.Q[k, t]
            + ((v0 - l0) / norm - 1.0) * v
            + (-(v0 - l0) / norm - 1.0) * m.l[k, t]
            <= 0.0
        )
        n += 1
    return n


def add_initial_cuts(m: pyo.ConcreteModel, p: Problem) -> None:
    """One tangent cut per cone at the scheduled operating point (flows = downstream net loads,
    ``v = 1``, ``l = P^2 + Q^2``), so the first LP is already close."""
    d = m._d
    nb, T = d["n_br"], p.n_steps
    if nb == 0:
        return
    nn = d["n_nodes"]
    loadp = np.array([[m.d_load[j, t].value for t in range(T)] for j in range(nn)]).reshape(nn, T)
    loadq = np.array([[m.d_qload[j, t].value for t in range(T)] for j in range(nn)]).reshape(nn, T)
    # downstream sums: process branches from the leaves up (deepest child first)
    depth = np.concatenate([dd.grid._depth for dd in p.dgrids])
    order = np.argsort(-depth[d["to"]], kind="stable")
    sub_p, sub_q = loadp.copy(), loadq.copy()
    P0 = np.zeros((nb, T))
    Q0 = np.zeros((nb, T))
    for k in order.tolist():
        j, i = int(d["to"][k]), int(d["from"][k])
        P0[k], Q0[k] = sub_p[j], sub_q[j]
        sub_p[i] += sub_p[j]
        sub_q[i] += sub_q[j]
    L0 = P0**2 + Q0**2
    add_cuts(m, P0, Q0, L0, np.ones((nb, T)), np.ones((nb, T), dtype=bool))


def initial_cut_points(p: Problem) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Points *on* every cone to cut at before the first solve: ``P, Q, l, v_from`` per distribution
    branch and step by the exact branch-flow power flow of each grid in three states: scheduled loads
    plus needs, and the same with every upward (downward) bid of the grid fully activated. The
    cleared point lies between them, so the first LP's outer approximation is already tight."""
    sign = p.bid_sign()
    states: list[list[list[np.ndarray]]] = [[[], [], [], []] for _ in range(3)]
    for gi, dd in enumerate(p.dgrids):
        g = dd.grid
        sel = np.flatnonzero(p.bid_grid == gi)
        loads = [dd.load_p_mw]
        for direction in (1, -1):
            inj = np.zeros_like(dd.load_p_mw)
            s = sel[sign[sel] == direction]
            np.add.at(inj, p.bid_row[s], p.bids.quantity_mw[s])
            loads.append(dd.load_p_mw - direction * inj)
        for st, lp in zip(states, loads, strict=True):
            v, P, Q, L = g.branch_flow(lp, dd.load_q_mvar)
            Vf = v[g.branch_from]
            bad = ~(np.isfinite(P) & np.isfinite(Q) & np.isfinite(L) & np.isfinite(Vf))
            if bad.any():  # a collapsing power flow: no cut from this state there
                P, Q, L, Vf = (np.where(bad, 0.0, x) for x in (P, Q, L, Vf))
            for lst, arr in zip(st, (P, Q, L, Vf), strict=True):
                lst.append(arr)
    T = p.n_steps
    out = []
    for st in states:
        cat = [np.concatenate(b) if b else np.zeros((0, T)) for b in st]
        out.append((cat[0], cat[1], cat[2], cat[3]))
    return out
