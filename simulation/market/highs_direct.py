"""A clearing model compiled to matrices and solved in ``highspy`` directly (the persistent HiGHS path).

:func:`compile_lp` turns a built Pyomo model into arrays once, :class:`HighsDirect` holds them in
HiGHS (as independent blocks, :mod:`~simulation.market.highs_blocks`) and updates them in place when a
re-clearing changes the model's mutable parameters, and :func:`solve_direct` runs the rounds of
tangent cuts and lazy flow limits, the mixed-integer solve and the pricing LP, and reads a
:class:`~simulation.market.solution.Solution` out as arrays.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pyomo.environ as pyo

from coordstudio.simulation.errors import InfeasibleMarketError, SolverFailedError
from coordstudio.simulation.heap import return_freed_memory
from coordstudio.simulation.market.case import ClearingOptions
from coordstudio.simulation.market.cones import cone_violation, initial_cut_points
from coordstudio.simulation.market.direct_model import DirectModel
from coordstudio.simulation.market.highs_blocks import CompiledLP, HighsBlocks
from coordstudio.simulation.market.lp_branching import branch_on_relaxation
from coordstudio.simulation.market.model import gc_paused
from coordstudio.simulation.market.param_map import ParamMap, build_param_map
from coordstudio.simulation.market.price_components import (
    COMPONENTS,
    distribution_components,
    transmission_components,
    transmission_congestion,
)
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.solution import SLACK_TOL_MW, Solution


def binaries(m: pyo.ConcreteModel) -> list[pyo.Var]:
    """The on/off (``u``) and selection (``z``) binaries of a built model."""
    return list(m.u.values()) + list(m.z.values())


# ------------------------------------------------------------------------------------- compiling to matrices
LINKING_FAMILIES = ("energy", "ramp", "min_dur", "excl", "excl_link")
"""Constraint families of :mod:`~simulation.market.model` whose rows link different steps (or bids)."""


def _track_changes(m: pyo.ConcreteModel) -> None:
    """Start noting the model's parameter changes for :meth:`HighsDirect.update` (just before a
    compile): ``_params_changed`` (any, by :func:`~simulation.market.model.set_parameters`) and
    ``_imp_changed`` (the import targets set by :func:`~simulation.market.model.set_import_target`)."""
    m._params_changed = False
    m._imp_changed = set()


def compile_lp(m: pyo.ConcreteModel) -> CompiledLP:
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


def release_rows(m: pyo.ConcreteModel, index: dict[str, np.ndarray], has_flow_limits: bool) -> None:
    """Delete the constraints and the objective of a session's model once its parameter map exists.

    Why: a market session's Pyomo model is re-cleared through its
    :class:`~simulation.market.param_map.ParamMap` (the arrays as functions of the mutable parameters)
    and HiGHS's copy; nothing compiles it again. Its rows (one expression object per term) stayed
    resident for the whole day beside the arrays and HiGHS's copy: deleting them lowered the Italian
    CM session's peak by 0.18 GiB (issue 21, P8, BENCHMARKS.md). What the session still reads stays:
    the mutable parameters (written by :func:`~simulation.market.model.set_parameters`, read by the
    map), the variables (their bounds are the columns' bounds; the binaries), and the numbering
    ``m._d`` and ``m._pairs``. The column and row index of the compiled LP is kept on the model
    (``m._direct_index``) for a reload after a rejected update, which :func:`_pyomo_index` could no
    longer compute without the balance rows."""
    m._direct_index = index
    m._has_flow_limits = has_flow_limits
    with gc_paused():
        for comp in list(m.component_objects((pyo.Constraint, pyo.Objective), descend_into=True)):
            m.del_component(comp)
    for helper in ("_pair_of", "_bid_steps"):  # build-time lookups of the rules
        if hasattr(m, helper):
            delattr(m, helper)


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
    or disappearing) reloads the model instead. A market session's model (``m._stable_structure``)
    skips the compile: its arrays follow the parameters through a
    :class:`~simulation.market.param_map.ParamMap` on a structure that never changes.

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

    def __init__(self, m: Any, p: Problem, comp: CompiledLP | None = None) -> None:
        self.model = m
        direct = isinstance(m, DirectModel)
        pm: ParamMap | None = None if direct else getattr(m, "_param_map", None)
        if comp is None and direct:  # assembled as arrays already (simulation.market.direct_model)
            comp = m.comp
        elif comp is None:  # else the compile of the model as it stands (the one update() rejected)
            _track_changes(m)
            if pm is not None:
                comp = pm.evaluate()
            elif getattr(m, "_stable_structure", False):  # a session's model: see param_map
                pm, comp = build_param_map(m, compile_lp)
                m._param_map = pm
            else:
                comp = compile_lp(m)
        self.pmap = pm
        """The compiled arrays as functions of the mutable parameters (None: compile at each update)."""
        self.comp = comp
        self.hb = HighsBlocks(comp, p.name)
        T = p.n_steps
        d = m._d
        self.T = T
        self.n_pairs = len(m._pairs)
        self.n_t = p.n_t
        if direct:
            idx = dict(m.index)
        else:  # a released model (release_rows) keeps the index it had when its rows went
            idx = getattr(m, "_direct_index", None) or _pyomo_index(m, p, comp)
        self.col_a: np.ndarray = idx["col_a"]
        self.col_su: np.ndarray = idx["col_su"]
        self.col_sd: np.ndarray = idx["col_sd"]
        self.col_dsu: np.ndarray = idx["col_dsu"]
        self.col_dsd: np.ndarray = idx["col_dsd"]
        self.col_P: np.ndarray = idx["col_P"]
        self.col_Q: np.ndarray = idx["col_Q"]
        self.col_l: np.ndarray = idx["col_l"]
        self.col_v: np.ndarray = idx["col_v"]
        self.fix_v: np.ndarray = idx.get("fix_v", np.zeros(self.col_v.shape))
        self.col_imp: np.ndarray = idx["col_imp"]
        self.col_theta: np.ndarray = idx["col_theta"]
        self.fix_theta: np.ndarray = idx.get("fix_theta", np.zeros(self.col_theta.shape))
        self.col_bin: np.ndarray = idx.get("col_bin", np.zeros(0, dtype=np.int64))
        self.row_tbal: np.ndarray = idx["row_tbal"]
        self.row_dbal: np.ndarray = idx["row_dbal"]
        self.fr = d["from"]
        self.nb = d["n_br"]
        self.grid_of_br = d["grid_of_br"]
        self.n_grids = len(p.dgrids)
        # lazy flow limits
        self.flow_added = np.zeros((0, T), dtype=bool)
        self.n_cones = int(d["n_br"]) * T
        if direct:
            limits = m.has_flow_limits
        else:
            limits = getattr(m, "_has_flow_limits", len(getattr(m, "flow_limit", ())) > 0)
        if p.tgrid is not None and limits:
            g = p.tgrid
            self.f_coef = g.base_mva * g.branch_b_pu
            self.f_rating = g.branch_rating_mw
            self.f_shift = g.shift_flow_mw
            self.f_from, self.f_to = g.branch_from, g.branch_to
            self.flow_added = ~np.isfinite(np.repeat(g.branch_rating_mw[:, None], T, axis=1))
        self.iterations = 0
        """Simplex iterations summed over every run of this model."""
        self.x = np.zeros(0)
        self.reloads = 0
        """Structural changes met by :meth:`update` (each reloads the model and loses the basis)."""
        self.rejected: CompiledLP | None = None
        """The compile :meth:`update` found structurally different (None after an accepted update):
        the model as it stands, which the caller loads afresh without compiling it a second time."""
        if pm is not None and not direct and getattr(m, "_stable_structure", False):
            release_rows(m, idx, limits)
            return_freed_memory()  # the map's compiles and the rows, freed but kept by malloc (P8)

    def update(self) -> bool:
        """Bring HiGHS up to date with the model's mutable parameters (see the class docstring).
        Returns False, changing nothing, when the compiled structure differs (a column or row appeared
        or disappeared): the caller then loads the model afresh."""
        m = self.model
        self.rejected = None
        if isinstance(m, DirectModel):
            return self._update_direct(m)
        if self.pmap is not None:
            return self._update_mapped(self.pmap)
        if not m._params_changed:
            done = self._update_import_targets()
            if done is not None:
                return done
        _track_changes(m)
        new = compile_lp(m)
        old = self.comp
        same = (
            len(new.columns) == len(old.columns)
            and len(new.row_lo) == len(old.row_lo)
            and all(a is b for a, b in zip(new.columns, old.columns, strict=True))
            and new.row_ids == old.row_ids
        )
        if not same:
            self.rejected = new
            return False
        return self._send_changes(new, old)

    def _send_changes(self, new: CompiledLP, old: CompiledLP) -> bool:
        """Send HiGHS the matrix entries of ``new`` that differ from ``old`` (same columns and rows; an
        entry that became 0 is set to 0, one that appears is added), one by one, then the vectors."""
        hb = self.hb
        diff = (new.A - old.A).tocoo()
        if diff.nnz:
            Anew = new.A.tocsr()
            for i, j in zip(diff.row.tolist(), diff.col.tolist(), strict=True):
                if not hb.change_coeff(int(i), int(j), float(Anew[i, j])):
                    self.rejected = new
                    return False  # the entry would link two independent blocks
        self._send_vectors(new, old)
        return True

    def _send_vectors(self, new: CompiledLP, old: CompiledLP) -> None:
        """Send HiGHS the costs, column bounds, row bounds and objective offset of ``new`` where they
        differ from ``old`` (whole vectors: one call each), and hold ``new`` as the model's compile."""
        hb = self.hb
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

    def _update_mapped(self, pm: ParamMap) -> bool:
        """:meth:`update` without a Pyomo compile: the arrays evaluated from the parameters through
        the model's :class:`~simulation.market.param_map.ParamMap` (their structure never changes, so
        HiGHS keeps its basis and appended rows at every re-clearing)."""
        m = self.model
        if not m._params_changed and not m._imp_changed:
            return True
        _track_changes(m)
        hb = self.hb
        new = pm.evaluate()
        old = self.comp
        for e in np.flatnonzero(new.A.data != old.A.data).tolist():
            if not hb.change_coeff(int(pm.a_row[e]), int(pm.a_col[e]), float(new.A.data[e])):
                self.rejected = new
                return False  # the entry would link two independent blocks
        self._send_vectors(new, old)
        return True

    def _update_direct(self, m: DirectModel) -> bool:
        """:meth:`update` for a model held as arrays: its arrays were rebuilt from the new data
        (:meth:`~simulation.market.direct_model.DirectModel.set_problem`); same matrix pattern (always,
        for the problems it covers): the changed entries and vectors go to HiGHS in place."""
        if not m.changed:
            return True
        m.changed = False
        new, old = m.comp, self.comp
        # the same columns (raw ids) and rows, as the Pyomo path's test after a compile; an entry that
        # left (a fill-or-kill or exclusive bid's quantity set to 0, its binary kept by another row)
        # is set to 0 in HiGHS, as there, instead of a reload that would lose the basis
        if not (new.A.shape == old.A.shape and new.columns == old.columns):
            self.rejected = new
            return False
        if (
            np.array_equal(new.A.indptr, old.A.indptr)
            and np.array_equal(new.A.indices, old.A.indices)
            and np.array_equal(new.A.data, old.A.data)
        ):  # a session's covered model (its matrix never depends on the data), an import target
            self._send_vectors(new, old)
            return True
        return self._send_changes(new, old)

    def _update_import_targets(self) -> bool | None:
        """:meth:`update` when only import targets changed since the last compile
        (:func:`~simulation.market.model.set_import_target`, as between a curve's points and in the
        disaggregation): the rows ``imp_lo <= S I <= imp_hi`` get their new bounds as the compiler
        would write them (an equality row ``S I = target`` when ``imp_lo == imp_hi``, else a ranged
        row; the body has no constant), and HiGHS receives exactly the calls :meth:`update` makes after
        a full compile. A row that changes its kind (free -> fixed, as from a local market to its
        curve, or back) keeps its place and its entries in the compile; only its id there (equality or
        ranged) follows, so HiGHS keeps its basis and cuts where a compile would have reloaded it.

        Compiling the whole model with Pyomo for two bounds per step cost 40 % of an LMS day."""
        m = self.model
        comp = self.comp
        changed = m._imp_changed
        row_lo, row_hi = comp.row_lo.copy(), comp.row_hi.copy()
        row_ids = comp.row_ids
        for g, t in changed:
            con = m.imp_fix[g, t]
            row = comp.row_of.get(id(con))
            if row is None:
                return None
            lo, hi = float(pyo.value(m.imp_lo[g, t])), float(pyo.value(m.imp_hi[g, t]))
            kind = id(con) * 3 + (1 if lo == hi else 2)  # compile_lp's id: equality (0) or ranged (+1) row
            if row_ids[row] != kind:
                row_ids = list(row_ids) if row_ids is comp.row_ids else row_ids
                row_ids[row] = kind
            row_lo[row], row_hi[row] = lo, hi
        changed.clear()
        if len(row_lo) and not (np.array_equal(row_lo, comp.row_lo) and np.array_equal(row_hi, comp.row_hi)):
            self.hb.change_row_bounds(row_lo, row_hi)
        self.comp = replace(comp, row_lo=row_lo, row_hi=row_hi, row_ids=row_ids)
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
        F = self.f_coef[:, None] * (th[self.f_from] - th[self.f_to]) + self.f_shift[:, None]
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
        shift = self.f_shift[k].copy()  # a phase shifter's flow at equal angles moves to the bounds
        absent = idx < 0
        if absent.any():
            fixed = np.stack([self.fix_theta[self.f_from[k], t], self.fix_theta[self.f_to[k], t]], axis=1)
            shift = shift + (coef * fixed * absent).sum(axis=1)
        self._add_rows(-rating - shift, rating - shift, idx, coef, tags=k * self.T + t)
        return n

    def _add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        idx: np.ndarray,
        coef: np.ndarray,
        cut: bool = False,
        tags: np.ndarray | None = None,
    ) -> None:
        self.hb.add_rows(lower, upper, idx, coef, cut, tags)

    def flow_limit_duals(self) -> np.ndarray:
        """``(n_branches, T)`` duals of the thermal-limit rows added so far (0 for the others)."""
        nb = self.flow_added.shape[0]
        return self.hb.tagged_duals(nb * self.T).reshape(nb, self.T) if nb else np.zeros((0, self.T))

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


def _pyomo_index(m: pyo.ConcreteModel, p: Problem, comp: CompiledLP) -> dict[str, np.ndarray]:
    """Columns of the Pyomo model's variables and rows of its balances in the compiled LP (-1 for a
    column the compiler dropped: ``fix_*`` then holds the fixed value)."""
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
    out: dict[str, np.ndarray] = {}
    out["col_a"], _ = cols(m.a, list(range(len(m._pairs))))
    nt = len(m.su) // T if T else 0
    out["col_su"], _ = grid2(m.su, nt)
    out["col_sd"], _ = grid2(m.sd, nt)
    out["col_dsu"], _ = grid2(m.dsu, d["n_nodes"])
    out["col_dsd"], _ = grid2(m.dsd, d["n_nodes"])
    out["col_P"], _ = grid2(m.P, d["n_br"])
    out["col_Q"], _ = grid2(m.Q, d["n_br"])
    out["col_l"], _ = grid2(m.l, d["n_br"])
    out["col_v"], out["fix_v"] = grid2(m.v, d["n_nodes"])
    out["col_imp"], _ = grid2(m.imp, len(p.dgrids))
    if p.tgrid is not None:
        out["col_theta"], out["fix_theta"] = grid2(m.theta, p.n_t)
    else:
        out["col_theta"], out["fix_theta"] = np.zeros((0, T), dtype=np.int64), np.zeros((0, T))
    out["col_bin"] = np.array([col_of[id(v)] for v in binaries(m) if id(v) in col_of], dtype=np.int64)
    out["row_tbal"] = rows(m.tbal, p.n_t) if p.tgrid is not None else np.zeros((0, T), int)
    out["row_dbal"] = rows(m.dbal, d["n_nodes"])
    return out


def highspy_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


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


INTEGRAL_TOL = 1e-9
"""Largest distance of a binary from 0 or 1 in an LP relaxation's optimum that counts as integral (far
below HiGHS's own ``mip_feasibility_tolerance``, 1e-6): :func:`milp_settled_by_relaxation`."""


def milp_settled_by_relaxation(
    hd: HighsDirect, options: ClearingOptions, name: str, rounds: int, viol: float
) -> tuple[bool, int, float]:
    """Whether the converged LP relaxation just solved settles the mixed-integer problem, so that its
    MILP solves can be skipped; returns that with the cut rounds and cone violation so far.

    Asked only for a model marked ``_skip_integral_milp`` (the decentralised schemes' sub-clearings,
    :mod:`~simulation.market.clearing`). The MILP's own rounds solve the same LP again from scratch in
    the MIP solver (no warm start) once per cut round, and were a quarter of those schemes' CPU time on
    the default day (issue 21, BENCHMARKS.md). Two cases settle it:

    * every binary is 0 or 1 within :data:`INTEGRAL_TOL` (95 % of the day's local markets and
      disaggregations): the LP optimum is feasible for the MILP and bounds its optimum from below, so it
      is the MILP's optimum;
    * otherwise the binaries rounded and fixed, the LP re-solved (warm, with cut rounds): its objective
      ``ub`` is that of a point feasible for the MILP, the relaxation's ``lb`` bounds the MILP's optimum
      from below, and ``ub - lb <= mip_rel_gap * |ub|`` is the test the MIP solver ends on. The binaries
      are released again; the point kept is the rounded one;
    * otherwise a small branch and bound of warm LPs, with the same end test
      (:func:`~simulation.market.lp_branching.branch_on_relaxation`; it gives up after a few nodes).

    Where the optimum is not unique, the point returned may be another point of the optimal face than
    the MILP solver's."""
    if not hd.col_bin.size:
        return False, rounds, viol
    b = hd.val(hd.col_bin)
    if float(np.abs(b - np.round(b)).max()) <= INTEGRAL_TOL:
        return True, rounds, viol
    lb = hd.objective()
    hd.fix_binaries(b)
    ub = math.inf
    try:
        rounds, viol = _direct_loop(hd, options, name + " (rounded)", rounds)
        ub = hd.objective()
    except (InfeasibleMarketError, SolverFailedError):  # rounding broke a linking row
        pass
    finally:
        hd.fix_binaries(None)
    if math.isfinite(ub) and ub - lb <= options.mip_rel_gap * abs(ub):
        return True, rounds, viol
    # a few fractional binaries: warm LP branchings instead of the MIP solver from scratch
    inc = (ub, np.round(b)) if math.isfinite(ub) else None
    return branch_on_relaxation(hd, options, name, rounds, lb, b, _direct_loop, INTEGRAL_TOL, inc)


def solve_direct(
    m: pyo.ConcreteModel, p: Problem, options: ClearingOptions, relax_binaries: bool
) -> Solution:
    """:func:`solve_problem` for HiGHS, driven through :class:`HighsDirect` (loaded once per model)."""
    name = p.name
    T = p.n_steps
    t0 = time.perf_counter()
    hd: HighsDirect | None = getattr(m, "_highs_direct", None)
    load_s = 0.0
    comp = None
    if hd is not None and not hd.update():
        # the structure changed: load afresh, from the compile update() just made of the same model
        # (a market session's universe met a new structure at 5 of 6 clearings: the compile, 3-4 s at
        # the default day's CM under load, was done twice)
        comp, hd = hd.rejected, None
    if hd is None:
        hd = HighsDirect(m, p, comp)
        load_s = time.perf_counter() - t0
        m._highs_direct = hd
        if hd.nb:
            for P0, Q0, L0, V0 in initial_cut_points(p):
                hd.add_cone_cuts(P0, Q0, L0, V0, (P0 != 0) | (Q0 != 0) | (L0 != 0))
    it0 = hd.iterations
    rounds = 0
    binaries = bool(hd.col_bin.size) and not relax_binaries
    settled = False
    if binaries and hd.nb:
        hd.set_integral(False)
        rounds, viol = _direct_loop(hd, options, name, rounds)
        if getattr(m, "_skip_integral_milp", False):
            settled, rounds, viol = milp_settled_by_relaxation(hd, options, name, rounds, viol)
    if not settled:
        hd.set_integral(binaries)
        rounds, viol = _direct_loop(hd, options, name, rounds)
    objective = hd.objective()
    t_price = np.full((p.n_t, T), math.nan)
    d_price = np.full((m._d["n_nodes"], T), math.nan)
    t_comp: np.ndarray | None = None
    d_comp: np.ndarray | None = None
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
            t_comp, d_comp = price_components(hd, m, p, t_price, d_price)
            # the pricing LP may move continuous variables among equal-cost optima: keep its point
            objective = hd.objective()
            direct_session = isinstance(m, DirectModel) and getattr(m, "_stable_structure", False)
            session = hd.pmap is not None or direct_session
            if session:
                # a session's model: the cuts slack at this point go while HiGHS still holds it
                # (restoring the binaries below discards the solution); kept, they made every later
                # mixed-integer solve larger (the rows grew by half in three clearings). The same for
                # a session's array-built model (direct_model): its linked re-clears (energy groups,
                # the whole LP in one instance) took 5-7 % more CPU with the slack cuts kept
                hd.prune_cuts(0)
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
        if g.shift_flow_mw.any():  # phase shifters (kept apart so a grid without any is untouched)
            t_flow = t_flow + g.shift_flow_mw[:, None]
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
        t_components=t_comp,
        d_components=d_comp,
    )


def price_components(
    hd: HighsDirect, m: pyo.ConcreteModel, p: Problem, t_price: np.ndarray, d_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The components of the pricing LP's nodal prices (:mod:`~simulation.market.price_components`),
    read from its duals: the thermal limits' row duals (transmission congestion through the PTDF), the
    squared currents' and squared voltages' reduced costs (distribution current and voltage), the
    cleared point (the cone gradients). ``(n_t, 5, T)`` and ``(n_d_nodes, 5, T)``, EUR/MWh."""
    T, dt = p.n_steps, p.dt_h
    K = len(COMPONENTS)
    t_comp = np.zeros((p.n_t, K, T))
    g = p.tgrid
    if g is not None and p.n_t:
        cong = np.zeros((p.n_t, T))
        if g.n_branches and hd.flow_added.shape[0] == g.n_branches:
            mu = hd.flow_limit_duals() / dt
            cong = transmission_congestion(
                p.n_t, g.ref_node, g.branch_from, g.branch_to, g.base_mva * g.branch_b_pu, mu
            )
        t_comp = transmission_components(t_price, g.ref_node, cong)
    d = m._d
    d_comp = np.zeros((d["n_nodes"], K, T))
    if not p.dgrids:
        return t_comp, d_comp
    z_l = hd.hb.col_duals(hd.col_l)
    z_v = hd.hb.col_duals(hd.col_v)
    P, Q, L = hd.val(hd.col_P), hd.val(hd.col_Q), hd.val(hd.col_l)
    V = hd.val(hd.col_v, hd.fix_v)
    for gi, dd in enumerate(p.dgrids):
        gr = dd.grid
        o, ob = d["node_off"][gi], d["br_off"][gi]
        n, nb = gr.n_nodes, gr.n_branches
        scale = gr.base_mva * dt
        price = d_price[o : o + n]
        if dd.mode == "coupled" and g is not None:
            split = t_comp[dd.t_row, :2]
        else:  # a feeder cleared on its own: its root is its reference bus
            split = np.stack([price[gr.root], np.zeros(T)])
        comp, _ = distribution_components(
            gr.branch_from,
            gr.branch_to,
            gr.root,
            gr.r_pu,
            gr.x_pu,
            P[ob : ob + nb],
            Q[ob : ob + nb],
            L[ob : ob + nb],
            V[o : o + n],
            price,
            split,
            z_l[ob : ob + nb] / scale,
            z_v[o : o + n] / scale,
            p.loss_penalty_eur_per_mwh * gr.r_pu,
        )
        d_comp[o : o + n] = comp
    return t_comp, d_comp
