"""Solving a built clearing model: mixed-integer rounds, cone cuts, pricing, read-out to arrays.

:func:`solve_problem` is the one entry. With HiGHS (the default, a persistent handle) the model goes to
:func:`~simulation.market.highs_direct.solve_direct`, which drives ``highspy`` directly. Every other
solver goes through Pyomo here: cones either natively (SCIP, Gurobi, ...) or as tangent cuts
(:mod:`~simulation.market.cones`), added round after round until the solution satisfies them. With
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

from coordstudio.simulation.errors import SolverFailedError
from coordstudio.simulation.market.case import ClearingOptions
from coordstudio.simulation.market.cones import add_cuts, add_initial_cuts, cone_values, cone_violation
from coordstudio.simulation.market.direct_model import DirectModel
from coordstudio.simulation.market.highs_direct import binaries, solve_direct
from coordstudio.simulation.market.model import add_native_cones
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.solution import SLACK_TOL_MW, Solution
from coordstudio.simulation.market.solvers import SolverHandle, make_solver

__all__ = ["Solution", "solve_problem"]


# ------------------------------------------------------------------------------------------- running a solver
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
            from coordstudio.simulation.errors import InfeasibleMarketError

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
        from coordstudio.simulation.errors import InfeasibleMarketError

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
        P, Q, L, V = cone_values(m, T)
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
        add_cuts(m, P, Q, L, Vf, viol > options.cone_tolerance * 0.5)


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
        return solve_direct(m, p, options, relax_binaries)
    if isinstance(m, DirectModel):
        raise SolverFailedError(f"{name}: a model held as arrays needs HiGHS (solver {handle.name!r})")
    T = p.n_steps
    nb = m._d["n_br"]
    bins = binaries(m)
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
    _, rounds, _ = _cut_loop(handle, m, p, options, name, rounds)
    objective = float(pyo.value(m.obj))
    a = _read_activations(m, p)
    t_price = np.full((p.n_t, T), math.nan)
    d_price = np.full((m._d["n_nodes"], T), math.nan)
    if options.compute_prices:
        t_price, d_price, objective, a, rounds = _price(m, p, options, handle, pricing_handle, bins, rounds)
    solve_time = time.perf_counter() - t0
    return _read_solution(m, p, handle, a, t_price, d_price, objective, rounds, solve_time, len(bins))


def _price(
    m: pyo.ConcreteModel,
    p: Problem,
    options: ClearingOptions,
    handle: SolverHandle,
    pricing_handle: SolverHandle | None,
    bins: list[pyo.Var],
    rounds: int,
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, int]:
    """The pricing LP: binaries fixed at their optimum and made continuous, re-solved (on HiGHS when the
    solver gives no duals, the native cones then replaced by cuts), the nodal-balance duals read.
    Returns the transmission and distribution prices, the objective and activations of the pricing
    LP's point, and the cut rounds so far; the binaries and cones are restored whatever happens."""
    name = p.name
    T = p.n_steps
    nb = m._d["n_br"]
    t_price = np.full((p.n_t, T), math.nan)
    d_price = np.full((m._d["n_nodes"], T), math.nan)
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
        P, Q, L, V = cone_values(m, T)
        add_cuts(m, P, Q, L, V[m._d["from"]], np.ones_like(P, dtype=bool))
    try:
        res, rounds, _ = _cut_loop(ph, m, p, options, name + " (pricing)", rounds, duals=True)
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
    return t_price, d_price, objective, a, rounds


def _read_solution(
    m: pyo.ConcreteModel,
    p: Problem,
    handle: SolverHandle,
    a: np.ndarray,
    t_price: np.ndarray,
    d_price: np.ndarray,
    objective: float,
    rounds: int,
    solve_time: float,
    n_binaries: int,
) -> Solution:
    """The variables' values of a solved Pyomo model as a :class:`Solution` (slack below
    :data:`SLACK_TOL_MW` read as zero; the largest cone violation measured at the final point)."""
    T = p.n_steps
    nb = m._d["n_br"]
    P, Q, L, V = cone_values(m, T) if nb else (np.zeros((0, T)),) * 4
    viol = 0.0
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
        if g.shift_flow_mw.any():  # phase shifters (kept apart so a grid without any is untouched)
            t_flow = t_flow + g.shift_flow_mw[:, None]
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
        n_binaries=n_binaries,
    )


def _read_activations(m: pyo.ConcreteModel, p: Problem) -> np.ndarray:
    a = np.zeros((p.bids.n_bids, p.n_steps))
    if m._pairs:
        bb, tt = np.array(m._pairs).T
        a[bb, tt] = [m.a[i].value or 0.0 for i in range(len(m._pairs))]
    return np.maximum(a, 0.0)
