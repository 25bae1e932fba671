"""A few LP branchings in place of HiGHS's MIP solver, for a relaxation with a handful of fractional binaries.

A clearing whose converged LP relaxation is integral skips the mixed-integer solve
(:func:`~simulation.market.highs_direct.milp_settled_by_relaxation`); one whose relaxation rounds to a
point within the MIP gap does too. The rest went to HiGHS's MIP solver, which starts from scratch (no
warm start: presolve, root cuts, heuristics) and took 0.2-0.3 CPU s per solve on the default day's
disaggregations where the LP takes a few milliseconds: 3.5 of CM-D's 22 CPU s over the day, for 16
sub-clearings whose relaxation had one to six fractional binaries (issue 21, BENCHMARKS.md).

:func:`branch_on_relaxation` solves such a problem by a small branch and bound on the model HiGHS already
holds, each node's LP warm-started from the last basis with its tangent-cut rounds (the cuts are outer
approximations of the cones, valid in every node, so they are shared):

* a node is the relaxation with some binaries fixed at 0 or 1; its LP optimum ``z`` bounds the MILP's
  optimum over the node from below (the LP is a relaxation of that part of the MILP);
* the node with the lowest bound branches on its most fractional binary (two children);
* a child whose relaxation is integral within ``INTEGRAL_TOL`` is a MILP-feasible point: its objective
  is an upper bound; a child's binaries rounded and fixed, re-solved, give another;
* it ends when the best point's objective ``ub`` and the lowest bound ``lb`` of the nodes left satisfy
  ``ub - lb <= mip_rel_gap * |ub|``: the test HiGHS's MIP solver ends on, so the point is optimal within
  the same gap. After ``max_nodes`` LPs without that, it gives up (the caller runs the MIP solver as
  before).

The point left in HiGHS at the end is the best one, binaries fixed, LP re-solved, bounds released (as
the rounding test leaves it).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from coordstudio.simulation.errors import InfeasibleMarketError, SolverFailedError

MAX_NODES = 12
"""Largest number of node LPs (each with its cut rounds) tried before the MIP solver takes over."""


def branch_on_relaxation(
    hd: Any,
    options: Any,
    name: str,
    rounds: int,
    root_lb: float,
    root_b: np.ndarray,
    loop: Callable[[Any, Any, str, int], tuple[int, float]],
    integral_tol: float,
    incumbent: tuple[float, np.ndarray] | None = None,
    max_nodes: int = MAX_NODES,
) -> tuple[bool, int, float]:
    """Branch and bound over the binaries of ``hd`` (a :class:`~simulation.market.highs_direct.
    HighsDirect`, binaries free in ``[0, 1]``) whose converged relaxation had the objective ``root_lb``
    and the binaries ``root_b``; ``incumbent``: a point feasible for the MILP already found (objective,
    binaries), e.g. the relaxation rounded; see the module docstring.
    ``loop`` is the cut-round loop (:func:`~simulation.market.highs_direct._direct_loop`).
    Returns whether it settled the MILP, the cut rounds so far and the last cone violation."""
    cols = hd.col_bin
    n = len(cols)
    gap = options.mip_rel_gap
    viol = 0.0
    best_ub, best_b = incumbent if incumbent is not None else (math.inf, None)
    tick = 0  # tie-break of the heap
    heap: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray]] = [
        (root_lb, tick, np.zeros(n), np.ones(n), root_b)
    ]
    nodes = 0

    def solve_at(lo: np.ndarray, hi: np.ndarray, label: str) -> tuple[float, np.ndarray] | None:
        """The node LP with the binaries' bounds ``lo, hi``: (objective, binaries), None if infeasible."""
        nonlocal rounds, viol
        hd.hb.change_col_bounds(cols, lo, hi)
        try:
            rounds, viol = loop(hd, options, f"{name} ({label})", rounds)
        except InfeasibleMarketError:
            return None
        return hd.objective(), hd.val(cols)

    try:
        while heap:
            lb = heap[0][0]
            if best_b is not None and best_ub - lb <= gap * abs(best_ub):
                break
            _, _, lo, hi, b = heapq.heappop(heap)
            frac = np.abs(b - np.round(b))
            j = int(np.argmax(frac))
            for v in (0.0, 1.0):
                nodes += 1
                if nodes > max_nodes:
                    return False, rounds, viol
                clo, chi = lo.copy(), hi.copy()
                clo[j] = chi[j] = v
                got = solve_at(clo, chi, "branch")
                if got is None:
                    continue  # infeasible child: pruned
                z, cb = got
                if best_b is not None and z - best_ub >= -gap * abs(best_ub):
                    continue  # cannot improve on the best point within the gap
                if float(np.abs(cb - np.round(cb)).max()) <= integral_tol:
                    best_ub, best_b = z, np.round(cb)
                    continue
                tick += 1
                heapq.heappush(heap, (z, tick, clo, chi, cb))
                # the child's binaries rounded: a point feasible for the MILP, if its LP is
                r = np.round(cb)
                nodes += 1
                got_r = solve_at(r, r, "rounded")
                if got_r is not None and got_r[0] < best_ub:
                    best_ub, best_b = got_r[0], r
        if best_b is None:
            return False, rounds, viol
        lb = min(heap[0][0], best_ub) if heap else best_ub
        if best_ub - lb > gap * abs(best_ub):
            return False, rounds, viol
        # leave HiGHS at the best point (binaries fixed, LP re-solved warm)
        if solve_at(best_b, best_b, "best") is None:
            return False, rounds, viol
        return True, rounds, viol
    except SolverFailedError:  # cut rounds exhausted in a node: the MIP solver decides
        return False, rounds, viol
    finally:
        hd.hb.change_col_bounds(cols, np.zeros(n), np.ones(n))
