"""Solving a built clearing model: cone handling, mixed-integer rounds, pricing, read-out to arrays.

Cones ``P^2 + Q^2 <= v l`` (rotated second-order cones of the DistFlow relaxation) reach HiGHS as an
outer approximation: after each solve, every cone violated by more than ``cone_tolerance`` gets the
tangent cut at the current point ``(P*, Q*, v*, l*)``::

    (4 P* P + 4 Q* Q + (v* - l*) (v - l)) / ||(2P*, 2Q*, v* - l*)|| <= v + l

which is valid for every point of the cone whatever the data (it is the supporting hyperplane of
``||(2P, 2Q, v - l)|| <= v + l``), so the cuts accumulate across rounds and across re-clearings. With
binaries, the LP relaxation is cut first (cheap), then the MILP is re-solved until its solution
satisfies the cones. Prices: the binaries are fixed at their optimum **and** their domain set to
``Reals`` (HiGHS gives duals only for a continuous model), the continuous problem is re-solved (with
more cuts if needed) and the nodal-balance duals are read.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyomo.environ as pyo

from simulation.errors import SolverFailedError
from simulation.market.case import ClearingOptions
from simulation.market.highs_blocks import CompiledLP, HighsBlocks
from simulation.market.model import add_native_cones, gc_paused
from simulation.market.problem import Problem
from simulation.market.solution import SLACK_TOL_MW, Solution
from simulation.market.solvers import SolverHandle, make_solver


# ---------------------------------------------------------------------------------------------- cones
def _cone_values(m: pyo.ConcreteModel, T: int) -> tuple[np.ndarray, ...]:
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


def _add_cuts(
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
    _add_cuts(m, P0, Q0, L0, np.ones((nb, T)), np.ones((nb, T), dtype=bool))


# ------------------------------------------------------------------------------------------- running a solver
def _binaries(m: pyo.ConcreteModel) -> list[pyo.Var]:
    return list(m.u.values()) + list(m.z.values())


def _run(
    handle: SolverHandle, m: pyo.ConcreteModel, options: ClearingOptions, name: str, duals: bool = False
) -> object:
    opt = handle.pyomo_solver
    if handle.persistent:
        cfg = opt.config
        cfg.load_solutions = False
        cfg.raise_exception_on_nonoptimal_result = False
        cfg.rel_gap = options.mip_rel_gap
        if options.time_limit_s is not None:
            cfg.time_limit = options.time_limit_s
        if options.threads is not None:
            cfg.threads = options.threads
        so = dict(options.solver_options)
        so.setdefault("output_flag", False)
        cfg.solver_options = so
        try:
            res = opt.solve(m)
        except Exception as exc:
            raise SolverFailedError(f"{name}: solver {handle.name!r} failed: {exc}") from exc
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        tc = res.termination_condition
        if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
            from simulation.errors import InfeasibleMarketError

            raise InfeasibleMarketError(f"{name}: the clearing is infeasible even with slack ({tc.name})")
        if (
            res.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible)
            or tc != TerminationCondition.convergenceCriteriaSatisfied
        ):
            if res.solution_status == SolutionStatus.noSolution or tc != TerminationCondition.maxTimeLimit:
                raise SolverFailedError(
                    f"{name}: solver {handle.name!r} returned no optimal solution ({tc.name})"
                )
        res.solution_loader.load_vars()
        return res
    # legacy interfaces (scip_direct, gurobi_direct, ...)
    if duals and not hasattr(m, "dual"):
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    if not duals and hasattr(m, "dual"):
        m.del_component(m.dual)
    opts = dict(options.solver_options)
    if options.time_limit_s is not None and handle.name == "scip":
        opts.setdefault("limits/time", options.time_limit_s)
    if handle.name == "scip":
        opts.setdefault("limits/gap", options.mip_rel_gap)
    try:
        res = handle.pyomo_solver.solve(m, options=opts, load_solutions=False)
    except Exception as exc:
        raise SolverFailedError(f"{name}: solver {handle.name!r} failed: {exc}") from exc
    from pyomo.opt import SolverStatus
    from pyomo.opt import TerminationCondition as LTC

    tc = res.solver.termination_condition
    if tc in (LTC.infeasible, LTC.infeasibleOrUnbounded):
        from simulation.errors import InfeasibleMarketError

        raise InfeasibleMarketError(f"{name}: the clearing is infeasible even with slack ({tc})")
    if tc not in (LTC.optimal, LTC.locallyOptimal) and res.solver.status != SolverStatus.ok:
        raise SolverFailedError(f"{name}: solver {handle.name!r} returned no optimal solution ({tc})")
    m.solutions.load_from(res)
    return res


def _cut_loop(
    handle: SolverHandle,
    m: pyo.ConcreteModel,
    p: Problem,
    options: ClearingOptions,
    name: str,
    rounds_used: int,
    duals: bool = False,
) -> tuple[object, int, float]:
    """Solve, add tangent cuts at violated cones, repeat until the largest violation <= tolerance."""
    T = p.n_steps
    nb = m._d["n_br"]
    fr = m._d["from"]
    res = None
    viol_max = 0.0
    while True:
        res = _run(handle, m, options, name, duals=duals)
        rounds_used += 1
        if nb == 0 or handle.native_cones:
            return res, rounds_used, 0.0
        P, Q, L, V = _cone_values(m, T)
        Vf = V[fr]
        viol = cone_violation(P, Q, L, Vf)
        viol_max = float(viol.max())
        if viol_max <= options.cone_tolerance:
            return res, rounds_used, viol_max
        if rounds_used >= options.max_cut_rounds:
            raise SolverFailedError(
                f"{name}: cone violation {viol_max:.2e} still above the tolerance "
                f"{options.cone_tolerance:.1e} "
                f"after {rounds_used} rounds of tangent cuts"
            )
        _add_cuts(m, P, Q, L, Vf, viol > options.cone_tolerance * 0.5)


# ------------------------------------------------------------------------------------- compiling to matrices
LINKING_FAMILIES = ("energy", "ramp", "min_dur", "excl", "excl_link")
"""Constraint families of :mod:`~simulation.market.model` whose rows link different steps (or bids)."""


def _compile(m: pyo.ConcreteModel) -> CompiledLP:
    """Compile the active linear part of ``m`` (the DC thermal limits and the native cones left out:
    limits are added lazily, cones as cuts) with Pyomo's standard-form compiler.

    In mixed form the compiler emits one row per equality (multiplier 0) and one row per finite side of
    an inequality (+1: ``A x <= rhs``, -1: ``A x >= rhs``, same coefficients); a ranged constraint's two
    rows are merged back into one ``lo <= A x <= hi`` row here."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    inf = highspy_inf()
    lazy = (getattr(m, "flow_limit", None), getattr(m, "cone", None))
    off = [c for c in lazy if c is not None and c.active]
    for c in off:
        c.deactivate()
    try:
        with gc_paused():
            repn = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=pyo.minimize)
    finally:
        for c in off:
            c.activate()
    columns = list(repn.columns)
    n = len(columns)
    cost = np.asarray(repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(n), dtype=float)
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    lo = np.array([v.lb for v in columns], dtype=object)
    hi = np.array([v.ub for v in columns], dtype=object)
    col_lo = np.where(lo == None, -inf, lo).astype(float)  # noqa: E711
    col_hi = np.where(hi == None, inf, hi).astype(float)  # noqa: E711
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    rhs = np.asarray(repn.rhs, dtype=float)
    cons = [r.constraint for r in repn.rows]
    mult = np.array([r.bound_type for r in repn.rows], dtype=int)
    cid = [id(c) for c in cons]
    # a ranged constraint: its "<=" row (+1) directly followed by its ">=" row (-1)
    second = np.zeros(len(cons), dtype=bool)
    if len(cons) > 1:
        same = np.array([a == b for a, b in zip(cid[:-1], cid[1:], strict=True)], dtype=bool)
        second[1:] = same & (mult[1:] == -1) & (mult[:-1] == 1)
    keep = ~second
    row_lo = np.where(mult >= 0, np.where(mult == 0, rhs, -inf), rhs)
    row_hi = np.where(mult <= 0, np.where(mult == 0, rhs, inf), rhs)
    firsts = np.flatnonzero(second) - 1
    row_lo[firsts] = rhs[firsts + 1]
    A = repn.A.tocsr()[keep].tocsc() if second.any() else repn.A.tocsc()
    kept = np.flatnonzero(keep)
    row_ids = [cid[k] * 3 + int(mult[k]) + 1 for k in kept.tolist()]
    row_of = {cid[k]: i for i, k in enumerate(kept.tolist())}
    link_ids = {id(c) for fam in LINKING_FAMILIES if hasattr(m, fam) for c in getattr(m, fam).values()}
    linking = np.array([cid[k] in link_ids for k in kept.tolist()], dtype=bool)
    return CompiledLP(
        linking=linking,
        columns=columns,
        cost=cost,
        offset=offset,
        col_lo=col_lo,
        col_hi=col_hi,
        integer=integer,
        A=A,
        row_lo=row_lo[keep],
        row_hi=row_hi[keep],
        row_of=row_of,
        row_ids=row_ids,
    )


# ------------------------------------------------------------------------------------- HiGHS, driven directly
class HighsDirect:
    """A built clearing model compiled to matrices once and then driven in ``highspy`` without Pyomo.

    Loading: Pyomo's standard-form compiler (:class:`~pyomo.repn.plugins.standard_form.
    LinearStandardFormCompiler`) turns the model into ``min c x, lo <= A x <= hi, l <= x <= u`` as numpy
    and scipy arrays (mutable parameters evaluated, fixed variables moved to the right-hand side), and
    the arrays go to HiGHS in one ``passModel`` call. At the Italian scale this takes 0.6 + 0.2 s where
    Pyomo's persistent interface (one Python call per variable and constraint) took 4-5 s.

    Re-clearing (:meth:`update`): after the mutable parameters change, the model is compiled again and
    compared with what HiGHS holds: costs, column bounds and row bounds are replaced as whole vectors,
    the few matrix entries that changed (a fill-or-kill quantity ``q`` multiplying a binary) go in one by
    one, so HiGHS keeps its basis and every appended row. A structural change (a column or row appearing
    or disappearing) reloads the model instead.

    HiGHS holds the compiled LP as independent blocks (:class:`~simulation.market.highs_blocks.
    HighsBlocks`: the steps of a clearing that no constraint links), solved side by side.

    Appended rows: tangent cuts and lazily added DC flow limits (vectorised ``addRows``, after the
    compiled rows, in the block of their columns); binaries are relaxed or fixed by changing
    integrality and bounds; solutions,
    objective and duals are read as numpy arrays. A cut round thus costs the LP re-solve itself (HiGHS
    warm-starts from its basis).

    Lazy flow limits: the thermal limits ``-F^max_l <= S b_l (theta_f - theta_to) <= F^max_l`` are
    declared in the Pyomo model (:func:`~simulation.market.model.add_dc_flow_limits`) but reach HiGHS
    only for the branches and steps whose flow exceeds the rating in a solution (constraint
    generation); the optimum of the reduced LP that violates no limit is the optimum of the full LP.
    """

    def __init__(self, m: pyo.ConcreteModel, p: Problem) -> None:
        self.model = m
        comp = _compile(m)
        self.comp = comp
        self.hb = HighsBlocks(comp, p.name)
        col_of: dict[int, int] = {id(v): k for k, v in enumerate(comp.columns)}
        T = p.n_steps

        def cols(component: Any, keys: list[Any]) -> tuple[np.ndarray, np.ndarray]:
            idx = np.full(len(keys), -1, dtype=np.int64)
            val = np.zeros(len(keys))
            for n, k in enumerate(keys):
                var = component[k]
                c = col_of.get(id(var))
                if c is None:  # fixed (moved to the right-hand side) or in no row
                    val[n] = var.value or 0.0
                else:
                    idx[n] = c
            return idx, val

        def grid2(component: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
            idx, val = cols(component, [(i, t) for i in range(n) for t in range(T)])
            return idx.reshape(n, T), val.reshape(n, T)

        def rows(component: Any, n: int) -> np.ndarray:
            return np.array(
                [comp.row_of[id(component[i, t])] for i in range(n) for t in range(T)], dtype=np.int64
            ).reshape(n, T)

        d = m._d
        self.T = T
        self.n_pairs = len(m._pairs)
        self.col_a, _ = cols(m.a, list(range(self.n_pairs)))
        nt = len(m.su) // T if T else 0
        self.col_su, _ = grid2(m.su, nt)
        self.col_sd, _ = grid2(m.sd, nt)
        self.col_dsu, _ = grid2(m.dsu, d["n_nodes"])
        self.col_dsd, _ = grid2(m.dsd, d["n_nodes"])
        self.col_P, _ = grid2(m.P, d["n_br"])
        self.col_Q, _ = grid2(m.Q, d["n_br"])
        self.col_l, _ = grid2(m.l, d["n_br"])
        self.col_v, self.fix_v = grid2(m.v, d["n_nodes"])
        G = len(p.dgrids)
        self.col_imp, _ = grid2(m.imp, G)
        self.n_t = p.n_t
        if p.tgrid is not None:
            self.col_theta, self.fix_theta = grid2(m.theta, p.n_t)
        else:
            self.col_theta, self.fix_theta = np.zeros((0, T), dtype=np.int64), np.zeros((0, T))
        bins = _binaries(m)
        self.col_bin = np.array([col_of[id(v)] for v in bins if id(v) in col_of], dtype=np.int64)
        self.row_tbal = rows(m.tbal, p.n_t) if p.tgrid is not None else np.zeros((0, T), int)
        self.row_dbal = rows(m.dbal, d["n_nodes"])
        self.fr = d["from"]
        self.nb = d["n_br"]
        self.grid_of_br = d["grid_of_br"]
        self.n_grids = len(p.dgrids)
        # lazy flow limits
        self.flow_added = np.zeros((0, T), dtype=bool)
        self.n_cones = int(d["n_br"]) * T
        if p.tgrid is not None and len(getattr(m, "flow_limit", ())) > 0:
            g = p.tgrid
            self.f_coef = g.base_mva * g.branch_b_pu
            self.f_rating = g.branch_rating_mw
            self.f_from, self.f_to = g.branch_from, g.branch_to
            self.flow_added = ~np.isfinite(np.repeat(g.branch_rating_mw[:, None], T, axis=1))
        self.iterations = 0
        """Simplex iterations summed over every run of this model."""
        self.x = np.zeros(0)
        self.reloads = 0
        """Structural changes met by :meth:`update` (each reloads the model and loses the basis)."""

    def update(self) -> bool:
        """Bring HiGHS up to date with the model's mutable parameters (see the class docstring).
        Returns False, changing nothing, when the compiled structure differs (a column or row appeared
        or disappeared): the caller then loads the model afresh."""
        new = _compile(self.model)
        old = self.comp
        same = (
            len(new.columns) == len(old.columns)
            and len(new.row_lo) == len(old.row_lo)
            and all(a is b for a, b in zip(new.columns, old.columns, strict=True))
            and new.row_ids == old.row_ids
        )
        if not same:
            return False
        hb = self.hb
        diff = (new.A - old.A).tocoo()
        if diff.nnz:
            Anew = new.A.tocsr()
            for i, j in zip(diff.row.tolist(), diff.col.tolist(), strict=True):
                if not hb.change_coeff(int(i), int(j), float(Anew[i, j])):
                    return False  # the entry would link two independent blocks
        if not np.array_equal(new.cost, old.cost):
            hb.change_costs(new.cost)
        if not (np.array_equal(new.col_lo, old.col_lo) and np.array_equal(new.col_hi, old.col_hi)):
            hb.change_col_bounds(np.arange(len(new.columns)), new.col_lo, new.col_hi)
        if len(new.row_lo) and not (
            np.array_equal(new.row_lo, old.row_lo) and np.array_equal(new.row_hi, old.row_hi)
        ):
            hb.change_row_bounds(new.row_lo, new.row_hi)
        if new.offset != old.offset:
            hb.change_offset(new.offset)
        self.comp = new
        return True

    # ------------------------------------------------------------------ values
    def val(self, idx: np.ndarray, fixed: np.ndarray | None = None) -> np.ndarray:
        """Values of the columns ``idx`` in the last solution (``fixed`` where a column is absent)."""
        out = self.x[np.maximum(idx, 0)] if idx.size else np.zeros(idx.shape)
        if fixed is not None:
            out = np.where(idx >= 0, out, fixed)
        else:
            out = np.where(idx >= 0, out, 0.0)
        return np.asarray(out, dtype=float)

    def cone_point(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``P, Q, l`` per branch and step and ``v`` of each branch's sending node."""
        V = self.val(self.col_v, self.fix_v)
        return self.val(self.col_P), self.val(self.col_Q), self.val(self.col_l), V[self.fr]

    # ------------------------------------------------------------------ rows
    def add_cone_cuts(
        self, P0: np.ndarray, Q0: np.ndarray, L0: np.ndarray, V0: np.ndarray, mask: np.ndarray
    ) -> int:
        """Tangent cuts ``(4P*P + 4Q*Q + (v*-l*)(v-l)) / ||(2P*, 2Q*, v*-l*)|| <= v + l`` at the
        points selected by ``mask`` (branch, step)."""
        k, t = np.nonzero(mask)
        p0, q0, v0, l0 = P0[k, t], Q0[k, t], V0[k, t], L0[k, t]
        norm = np.sqrt(4 * p0 * p0 + 4 * q0 * q0 + (v0 - l0) ** 2)
        ok = norm > 1e-12
        k, t, p0, q0, v0, l0, norm = (x[ok] for x in (k, t, p0, q0, v0, l0, norm))
        n = len(k)
        if n == 0:
            return 0
        coef = np.stack(
            [4 * p0 / norm, 4 * q0 / norm, (v0 - l0) / norm - 1.0, -(v0 - l0) / norm - 1.0], axis=1
        )
        vj = self.fr[k]
        idx = np.stack([self.col_P[k, t], self.col_Q[k, t], self.col_v[vj, t], self.col_l[k, t]], axis=1)
        upper = np.zeros(n)
        absent = idx < 0  # a fixed column Pyomo left out: its term moves to the right-hand side
        if absent.any():
            fixed = np.stack([np.zeros(n), np.zeros(n), self.fix_v[vj, t], np.zeros(n)], axis=1)
            upper -= (coef * fixed * absent).sum(axis=1)
        self._add_rows(np.full(n, -highspy_inf()), upper, idx, coef, cut=True)
        return n

    def add_violated_flow_limits(self) -> int:
        """Add the thermal limits of the (branch, step) pairs whose flow exceeds the rating."""
        if not self.flow_added.size or self.flow_added.all():
            return 0
        th = self.val(self.col_theta, self.fix_theta)
        F = self.f_coef[:, None] * (th[self.f_from] - th[self.f_to])
        r = self.f_rating[:, None]
        viol = ~self.flow_added & (np.abs(F) > r * (1 + 1e-9) + 1e-6)
        k, t = np.nonzero(viol)
        n = len(k)
        if n == 0:
            return 0
        self.flow_added[k, t] = True
        c = self.f_coef[k]
        idx = np.stack([self.col_theta[self.f_from[k], t], self.col_theta[self.f_to[k], t]], axis=1)
        coef = np.stack([c, -c], axis=1)
        rating = self.f_rating[k]
        shift = np.zeros(n)
        absent = idx < 0
        if absent.any():
            fixed = np.stack([self.fix_theta[self.f_from[k], t], self.fix_theta[self.f_to[k], t]], axis=1)
            shift = (coef * fixed * absent).sum(axis=1)
        self._add_rows(-rating - shift, rating - shift, idx, coef)
        return n

    def _add_rows(
        self, lower: np.ndarray, upper: np.ndarray, idx: np.ndarray, coef: np.ndarray, cut: bool = False
    ) -> None:
        self.hb.add_rows(lower, upper, idx, coef, cut)

    def prune_cuts(self, keep_max: int) -> int:
        """Delete the tangent cuts that are slack in the last solution once there are more than
        ``keep_max`` (a re-used model would otherwise grow with every curve point and clearing; a
        deleted cut comes back if its cone is violated again). Slack rows are basic, so HiGHS keeps a
        valid basis. Returns the number deleted."""
        return self.hb.prune_cuts(keep_max)

    # ------------------------------------------------------------------ binaries
    def set_integral(self, integral: bool) -> None:
        """Binaries integer (MILP) or relaxed to ``[0, 1]`` (LP)."""
        if integral != self.hb.integral and self.col_bin.size:
            self.hb.set_integrality(self.col_bin, integral)

    def fix_binaries(self, values: np.ndarray | None) -> None:
        """Fix the binaries at ``values`` (rounded), or release them to ``[0, 1]`` with ``None``."""
        n = len(self.col_bin)
        if not n:
            return
        if values is None:
            self.hb.change_col_bounds(self.col_bin, np.zeros(n), np.ones(n))
        else:
            v = np.round(values).astype(float)
            self.hb.change_col_bounds(self.col_bin, v, v)

    # ------------------------------------------------------------------ solving
    def run(self, options: ClearingOptions, name: str) -> None:
        """Solve as the model now stands (the changed blocks, side by side); keep the primal solution
        in ``self.x``."""
        import highspy

        opts: dict[str, Any] = {
            "output_flag": False,
            # Devex pricing: exact dual steepest-edge weights are recomputed over every row after cuts
            # are added, which cost 10+ s per round on the Italian-scale case (BENCHMARKS.md)
            "simplex_dual_edge_weight_strategy": 1,
            # no scaling: HiGHS checks feasibility in the scaled LP, where a tangent cut's row may be
            # scaled so that a cone stays violated by 1e-5-1e-4 pu in the unscaled data after its cut is
            # added; the cut rounds then wander between feeders (50+ rounds at the Italian scale)
            # instead of ending in 5-6 rounds of 0.1 s each (BENCHMARKS.md)
            "simplex_scale_strategy": 0,
            "mip_rel_gap": options.mip_rel_gap,
            "time_limit": options.time_limit_s if options.time_limit_s is not None else highspy.kHighsInf,
        }
        opts.update(options.solver_options)
        threads = opts.pop("threads", options.threads)
        self.hb.set_options(opts)
        self.hb.name = name
        before = self.hb.iterations
        self.hb.run(threads=None if threads is None else int(threads), workers=options.block_workers)
        self.x = self.hb.x
        self.iterations += self.hb.iterations - before

    def objective(self) -> float:
        return self.hb.objective()

    def row_duals(self, rows: np.ndarray) -> np.ndarray:
        return self.hb.row_duals(rows)


def highspy_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


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


def _direct_loop(hd: HighsDirect, options: ClearingOptions, name: str, rounds: int) -> tuple[int, float]:
    """Solve, add the tangent cuts of cones violated by more than the tolerance and the thermal limits
    of overloaded transmission branches, repeat until neither is left."""
    while True:
        hd.run(options, name)
        rounds += 1
        added = hd.add_violated_flow_limits()
        viol_max = 0.0
        if hd.nb:
            P, Q, L, Vf = hd.cone_point()
            viol = cone_violation(P, Q, L, Vf)
            viol_max = float(viol.max())
            if viol_max > options.cone_tolerance:
                # cuts at the violated points, and at the current point of every other branch of a feeder
                # with a violation (a supporting plane of its cone whatever the point): the LP cannot
                # slide the losses to a neighbouring branch or step of that feeder in the next round
                bad = viol > options.cone_tolerance * 0.5
                bad_gs = np.zeros((hd.n_grids, viol.shape[1]), dtype=bool)
                np.logical_or.at(bad_gs, hd.grid_of_br, bad)
                bad_g: np.ndarray = np.asarray(bad_gs.any(axis=1))
                added += hd.add_cone_cuts(P, Q, L, Vf, bad | (bad_g[hd.grid_of_br][:, None] & (viol > -1e-3)))
        if not added:
            if hd.hb.release_linking():
                continue  # the steps' linking rows join, the whole LP warm-started from the blocks
            return rounds, viol_max
        if rounds >= options.max_cut_rounds:
            raise SolverFailedError(
                f"{name}: cone violation {viol_max:.2e} (tolerance {options.cone_tolerance:.1e}) or "
                f"overloaded branches left after {rounds} rounds of cuts"
            )


def _solve_direct(
    m: pyo.ConcreteModel, p: Problem, options: ClearingOptions, relax_binaries: bool
) -> Solution:
    """:func:`solve_problem` for HiGHS, driven through :class:`HighsDirect` (loaded once per model)."""
    name = p.name
    T = p.n_steps
    t0 = time.perf_counter()
    hd: HighsDirect | None = getattr(m, "_highs_direct", None)
    load_s = 0.0
    if hd is not None and not hd.update():
        hd = None  # the structure changed: load afresh
    if hd is None:
        hd = HighsDirect(m, p)
        load_s = time.perf_counter() - t0
        m._highs_direct = hd
        if hd.nb:
            for P0, Q0, L0, V0 in initial_cut_points(p):
                hd.add_cone_cuts(P0, Q0, L0, V0, (P0 != 0) | (Q0 != 0) | (L0 != 0))
    it0 = hd.iterations
    rounds = 0
    binaries = bool(hd.col_bin.size) and not relax_binaries
    if binaries and hd.nb:
        hd.set_integral(False)
        rounds, _ = _direct_loop(hd, options, name, rounds)
    hd.set_integral(binaries)
    rounds, viol = _direct_loop(hd, options, name, rounds)
    objective = hd.objective()
    t_price = np.full((p.n_t, T), math.nan)
    d_price = np.full((m._d["n_nodes"], T), math.nan)
    if options.compute_prices:
        if binaries:
            hd.fix_binaries(hd.val(hd.col_bin))
            hd.set_integral(False)
        try:
            rounds, viol = _direct_loop(hd, options, name + " (pricing)", rounds)
            if hd.row_tbal.size:
                t_price = hd.row_duals(hd.row_tbal) / p.dt_h
            if hd.row_dbal.size:
                d_price = hd.row_duals(hd.row_dbal) / (m._d["S"][:, None] * p.dt_h)
            # the pricing LP may move continuous variables among equal-cost optima: keep its point
            objective = hd.objective()
        finally:
            if binaries:
                hd.fix_binaries(None)
                hd.set_integral(True)
    # keep a re-used model lean: slack cuts beyond four per cone go (they come back when violated)
    hd.prune_cuts(4 * hd.n_cones + 1000)
    solve_time = time.perf_counter() - t0
    a = np.zeros((p.bids.n_bids, T))
    if m._pairs:
        bb, tt = np.array(m._pairs).T
        a[bb, tt] = hd.val(hd.col_a)
    a = np.maximum(a, 0.0)
    clip = lambda x: np.where(x > SLACK_TOL_MW, x, 0.0)  # noqa: E731  (solver noise is no slack)
    G = len(p.dgrids)
    S_g = np.array([d.grid.base_mva for d in p.dgrids]).reshape(G, 1)
    imp = hd.val(hd.col_imp) * S_g if G else np.zeros((0, T))
    nt = p.n_t if p.slack_at_t_nodes else 0
    su = clip(hd.val(hd.col_su)) if nt else np.zeros((p.n_t, T))
    sd = clip(hd.val(hd.col_sd)) if nt else np.zeros((p.n_t, T))
    if p.tgrid is not None and p.tgrid.n_branches:
        th = hd.val(hd.col_theta, hd.fix_theta)
        g = p.tgrid
        t_flow = (g.base_mva * g.branch_b_pu)[:, None] * (th[g.branch_from] - th[g.branch_to])
    else:
        t_flow = np.zeros((0, T))
    V = hd.val(hd.col_v, hd.fix_v)
    P, Q, L = hd.val(hd.col_P), hd.val(hd.col_Q), hd.val(hd.col_l)
    viol = float(cone_violation(P, Q, L, V[hd.fr]).max()) if hd.nb else 0.0
    return Solution(
        a=a,
        t_flow=t_flow,
        su=su,
        sd=sd,
        dsu=clip(hd.val(hd.col_dsu)),
        dsd=clip(hd.val(hd.col_dsd)),
        t_price=t_price,
        d_price=d_price,
        imp_mw=imp,
        P=P,
        Q=Q,
        l=L,
        v=V,
        objective=objective,
        max_cone_violation=max(viol, 0.0),
        cut_rounds=rounds,
        solve_time_s=solve_time,
        n_variables=hd.hb.num_col,
        n_binaries=int(hd.col_bin.size) if binaries else 0,
        load_time_s=load_s,
        lp_iterations=hd.iterations - it0,
    )


def _duals(handle: SolverHandle, res: object, m: pyo.ConcreteModel, cons: list[object]) -> list[float]:
    if not cons:
        return []
    if handle.persistent:
        dd = res.solution_loader.get_duals(cons)  # type: ignore[attr-defined]
        return [float(dd[c]) for c in cons]
    return [float(m.dual.get(c, math.nan)) for c in cons]


def solve_problem(
    m: pyo.ConcreteModel,
    p: Problem,
    options: ClearingOptions,
    handle: SolverHandle | None = None,
    pricing_handle: SolverHandle | None = None,
    relax_binaries: bool = False,
) -> Solution:
    """Solve a model built by :func:`~simulation.market.model.build_model` and read out a :class:`Solution`
    (with ``relax_binaries``, the continuous relaxation of the on/off and selection binaries)."""
    name = p.name
    handle = handle or make_solver(options.solver, name)
    if handle.persistent:
        return _solve_direct(m, p, options, relax_binaries)
    T = p.n_steps
    nb = m._d["n_br"]
    bins = _binaries(m)
    if relax_binaries:
        for var in bins:
            var.domain = pyo.UnitInterval
        bins = []
    else:  # a model solved relaxed before (curve points) is reused integral (disaggregation)
        for var in bins:
            var.domain = pyo.Binary
    t0 = time.perf_counter()
    rounds = 0
    if handle.native_cones and nb and not hasattr(m, "cone"):
        add_native_cones(m, T)
    if hasattr(m, "cone"):
        m.cone.activate() if handle.native_cones else m.cone.deactivate()
    if nb and not handle.native_cones and len(m.cuts) == 0:
        add_initial_cuts(m, p)
    if bins and nb and not handle.native_cones:
        for var in bins:
            var.domain = pyo.UnitInterval
        _, rounds, _ = _cut_loop(handle, m, p, options, name, rounds)
        for var in bins:
            var.domain = pyo.Binary
    res, rounds, viol = _cut_loop(handle, m, p, options, name, rounds)
    objective = float(pyo.value(m.obj))
    a = _read_activations(m, p)
    t_price = np.full((p.n_t, T), math.nan)
    d_price = np.full((m._d["n_nodes"], T), math.nan)
    if options.compute_prices:
        fixed = [(var, var.value) for var in bins]
        for var, val in fixed:
            var.fix(round(val or 0.0))
            var.domain = pyo.Reals
        ph = handle
        if not (handle.persistent or handle.name in ("gurobi", "cplex", "xpress", "mosek")):
            ph = pricing_handle or make_solver("highs", name)
            if hasattr(m, "cone"):
                m.cone.deactivate()
            if nb and len(m.cuts) == 0:
                add_initial_cuts(m, p)
            P, Q, L, V = _cone_values(m, T)
            _add_cuts(m, P, Q, L, V[m._d["from"]], np.ones_like(P, dtype=bool))
        try:
            res, rounds, viol = _cut_loop(ph, m, p, options, name + " (pricing)", rounds, duals=True)
            tcons = [m.tbal[i, t] for i in range(p.n_t) for t in range(T)]
            dcons = [m.dbal[j, t] for j in range(m._d["n_nodes"]) for t in range(T)]
            td = _duals(ph, res, m, tcons)
            dd = _duals(ph, res, m, dcons)
            if td:
                t_price = np.array(td).reshape(p.n_t, T) / p.dt_h
            if dd:
                d_price = np.array(dd).reshape(-1, T) / (m._d["S"][:, None] * p.dt_h)
            # the pricing LP may move continuous variables among equal-cost optima: keep its point
            objective = float(pyo.value(m.obj))
            a = _read_activations(m, p)
        finally:
            for var, _ in fixed:
                var.unfix()
                var.domain = pyo.Binary
            if hasattr(m, "cone") and handle.native_cones:
                m.cone.activate()
    solve_time = time.perf_counter() - t0
    P, Q, L, V = _cone_values(m, T) if nb else (np.zeros((0, T)),) * 4
    if nb and not handle.native_cones:
        viol = float(cone_violation(P, Q, L, V[m._d["from"]]).max())
    elif nb:
        viol = float(max(cone_violation(P, Q, L, V[m._d["from"]]).max(), 0.0))
    nt = p.n_t if p.slack_at_t_nodes else 0

    def grab(comp: Any, n: int) -> np.ndarray:
        return np.array([[comp[i, t].value or 0.0 for t in range(T)] for i in range(n)]).reshape(n, T)

    clip = lambda x: np.where(x > SLACK_TOL_MW, x, 0.0)  # noqa: E731  (solver noise is no slack)
    G = len(p.dgrids)
    imp = (
        grab(m.imp, G) * np.array([d.grid.base_mva for d in p.dgrids]).reshape(G, 1)
        if G
        else np.zeros((0, T))
    )
    su = clip(grab(m.su, nt)) if nt else np.zeros((p.n_t, T))
    sd = clip(grab(m.sd, nt)) if nt else np.zeros((p.n_t, T))
    if p.tgrid is not None and p.tgrid.n_branches:
        th = grab(m.theta, p.n_t)
        g = p.tgrid
        t_flow = (g.base_mva * g.branch_b_pu)[:, None] * (th[g.branch_from] - th[g.branch_to])
    else:
        t_flow = np.zeros((0, T))
    return Solution(
        a=a,
        t_flow=t_flow,
        su=su,
        sd=sd,
        dsu=clip(grab(m.dsu, m._d["n_nodes"])),
        dsd=clip(grab(m.dsd, m._d["n_nodes"])),
        t_price=t_price,
        d_price=d_price,
        imp_mw=imp,
        P=P,
        Q=Q,
        l=L,
        v=V,
        objective=objective,
        max_cone_violation=max(viol, 0.0) if nb else 0.0,
        cut_rounds=rounds,
        solve_time_s=solve_time,
        n_variables=sum(1 for _ in m.component_data_objects(pyo.Var)),
        n_binaries=len(bins),
    )


def _read_activations(m: pyo.ConcreteModel, p: Problem) -> np.ndarray:
    a = np.zeros((p.bids.n_bids, p.n_steps))
    if m._pairs:
        bb, tt = np.array(m._pairs).T
        a[bb, tt] = [m.a[i].value or 0.0 for i in range(len(m._pairs))]
    return np.maximum(a, 0.0)
