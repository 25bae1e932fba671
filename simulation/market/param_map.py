"""A compiled clearing model's arrays as affine functions of its mutable parameters: :class:`ParamMap`.

A market session re-clears one built model with new data written into its mutable Pyomo parameters
(:func:`~simulation.market.model.set_parameters`). Compiling the whole model again with Pyomo's
standard-form compiler for every clearing cost a third of the CM scheme's time, and the compile's
*structure* moved between clearings, so HiGHS reloaded the model and lost its basis at 5 of 6
clearings (BENCHMARKS.md, issue 21, second session). Two causes, both verified on the default day:

* an energy group's row is an equality row when its two limits are equal (``e_lo == e_hi``) and a
  ranged row otherwise, so the row's identity changed as the limits moved;
* a coefficient that is a parameter (a fill-or-kill bid's ``a = q u`` with ``q = 0``) vanishes from
  the compiled matrix, and a binary left in no other row vanishes from the columns.

Every number of the compiled LP (costs, objective offset, matrix entries, row bounds) is an affine
function of the parameters, ``y = y_0 + c p_k``, each depending on at most one parameter ``k`` in the
clearing model. :func:`build_param_map` finds ``y_0``, ``c`` and ``k`` for every entry from three
compiles at probe values of all parameters at once (all 0; all :data:`PROBE`; ``p_k = k + 1``):

``y_0 = y(0)``,  ``c = (y(PROBE) - y_0) / PROBE``,  ``k + 1 = (y(k+1) - y_0) / c``  (an integer),

on the structure of the all-:data:`PROBE` compile, where every parameter-borne entry is non-zero
(explicit zeros are kept there afterwards: the structure never changes). A fourth compile at the real
values verifies the map (to :data:`VERIFY_RTOL`); if any entry depends on two parameters, or the
verification fails, there is no map and the caller compiles as before. Re-clearing then costs one
gather of the parameter values and a few numpy operations instead of a Pyomo compile. Column bounds
are read from the variables each time (a feeder root's voltage bounds are set directly, not through a
parameter: :func:`~simulation.market.model.set_root_voltage`); fixing or unfixing a variable after the
map is built is not followed (the clearing model fixes only the reference angles, at build).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from coordstudio.simulation.market.highs_blocks import CompiledLP

PROBE = 1024.0
"""The all-equal probe value: a power of two, so ``(y(PROBE) - y_0) / PROBE`` divides exactly."""

VERIFY_RTOL = 1e-12
"""The map's values at the real parameters equal a compile's within this (relative to ``max(1, |y|)``)."""


def mutable_params(m: pyo.ConcreteModel) -> list[Any]:
    """Every mutable parameter (ParamData) of ``m``, in component order."""
    out: list[Any] = []
    for comp in m.component_objects(pyo.Param, descend_into=True):
        if comp.mutable:
            out.extend(comp.values())
    return out


def _values(params: list[Any]) -> np.ndarray:
    return np.fromiter((float(p.value) for p in params), dtype=float, count=len(params))


def _set(params: list[Any], vals: np.ndarray) -> None:
    for p, v in zip(params, vals.tolist(), strict=True):
        p.set_value(v)


@dataclass
class ParamMap:
    """``y = y0 + c * p[k]`` for the entries ``dep`` of the target vector ``y`` = costs, offset,
    matrix entries (in the CSC order of ``comp.A``), row lower and upper bounds of ``comp``."""

    comp: CompiledLP
    """The compiled LP on the fixed structure (every parameter-borne entry present)."""
    params: list[Any]
    y0: np.ndarray
    dep: np.ndarray
    """Entries of ``y`` that depend on a parameter."""
    c: np.ndarray
    k: np.ndarray
    a_row: np.ndarray
    """Row of each stored matrix entry (CSC order)."""
    a_col: np.ndarray

    def targets(self, vals: np.ndarray) -> np.ndarray:
        y = self.y0.copy()
        y[self.dep] = self.y0[self.dep] + self.c * vals[self.k]
        return y

    def evaluate(self) -> CompiledLP:
        """The compiled LP at the parameters' current values (column bounds read from the variables)."""
        import highspy

        comp = self.comp
        y = self.targets(_values(self.params))
        n, nnz, r = len(comp.columns), comp.A.nnz, len(comp.row_lo)
        A = sp.csc_matrix((y[n + 1 : n + 1 + nnz], comp.A.indices, comp.A.indptr), shape=comp.A.shape)
        inf = float(highspy.kHighsInf)
        lo = np.array([v.lb for v in comp.columns], dtype=object)
        hi = np.array([v.ub for v in comp.columns], dtype=object)
        return replace(
            comp,
            cost=y[:n],
            offset=float(y[n]),
            A=A,
            row_lo=y[n + 1 + nnz : n + 1 + nnz + r],
            row_hi=y[n + 1 + nnz + r :],
            col_lo=np.where(lo == None, -inf, lo).astype(float),  # noqa: E711
            col_hi=np.where(hi == None, inf, hi).astype(float),  # noqa: E711
        )


def _project(S: CompiledLP, X: CompiledLP, s_keys: np.ndarray) -> np.ndarray | None:
    """``X``'s target vector on ``S``'s structure (absent entries 0), None if ``X`` has a column, row
    or matrix entry ``S`` lacks."""
    col_of = {id(v): j for j, v in enumerate(S.columns)}
    cmap = np.array([col_of.get(id(v), -1) for v in X.columns], dtype=np.int64)
    rid_x = np.empty(len(X.row_lo), dtype=np.int64)
    for cid, i in X.row_of.items():
        rid_x[i] = S.row_of.get(cid, -1)
    if (cmap < 0).any() or (rid_x < 0).any() or len(set(rid_x.tolist())) != len(rid_x):
        return None
    n, r = len(S.columns), len(S.row_lo)
    cost = np.zeros(n)
    cost[cmap] = X.cost
    coo = sp.coo_matrix(X.A)
    keys = cmap[coo.col].astype(np.int64) * r + rid_x[coo.row]
    pos = np.searchsorted(s_keys, keys)
    if len(keys) and ((pos >= len(s_keys)).any() or (s_keys[np.minimum(pos, len(s_keys) - 1)] != keys).any()):
        return None
    data = np.zeros(len(s_keys))
    data[pos] = coo.data
    if len(rid_x) != r:
        return None  # a row of S is constant in X (all its entries 0): not followed
    lo = np.empty(r)
    hi = np.empty(r)
    lo[rid_x], hi[rid_x] = X.row_lo, X.row_hi
    return np.concatenate([cost, [X.offset], data, lo, hi])


def _columns_first(S: CompiledLP, X: CompiledLP) -> CompiledLP:
    """``S`` with ``X``'s columns first, in ``X``'s order, and the others after them: HiGHS then
    receives the first clearing's LP as the compile at the real values gives it (the explicit zeros
    HiGHS drops itself), plus the empty columns of the entries that are zero now."""
    pos = {id(v): j for j, v in enumerate(S.columns)}
    first = [pos.get(id(v), -1) for v in X.columns]
    if -1 in first:
        return S  # _project rejects X
    rest = sorted(set(range(len(S.columns))) - set(first))
    order = np.array(first + rest, dtype=np.int64)
    return replace(
        S,
        columns=[S.columns[j] for j in order.tolist()],
        cost=S.cost[order],
        col_lo=S.col_lo[order],
        col_hi=S.col_hi[order],
        integer=S.integer[order],
        A=sp.csc_matrix(S.A)[:, order],
    )


def build_param_map(
    m: pyo.ConcreteModel, compile_fn: Callable[[pyo.ConcreteModel], CompiledLP]
) -> tuple[ParamMap | None, CompiledLP]:
    """The map of ``m`` (module docstring) and the compiled LP at the real values on its structure;
    ``(None, compile)`` when the model's numbers are not affine in one parameter each."""
    params = mutable_params(m)
    real = _values(params)
    K = len(params)
    # the compiles one after another, each projected and dropped before the next (a compile of the
    # Italian CM session holds its rows' ids and the matrix: four at once were its process's peak,
    # issue 21, P8); the structure S comes from the all-PROBE compile and the one at the real values
    try:
        _set(params, np.full(K, PROBE))
        c1 = compile_fn(m)
    finally:
        _set(params, real)
    cr = compile_fn(m)
    S = _columns_first(c1, cr)
    A = sp.csc_matrix(S.A)
    A.sort_indices()
    S = replace(S, A=A)
    coo = A.tocoo()
    r = len(S.row_lo)
    s_keys = coo.col.astype(np.int64) * r + coo.row
    y1, yr = _project(S, c1, s_keys), _project(S, cr, s_keys)
    del c1
    if y1 is None or yr is None:
        return None, cr
    ys: list[np.ndarray | None] = []
    try:
        for vals in (np.zeros(K), np.arange(1, K + 1, dtype=float)):
            _set(params, vals)
            ys.append(_project(S, compile_fn(m), s_keys))
            if ys[-1] is None:
                break
    finally:
        _set(params, real)
    if any(y is None for y in ys):
        return None, cr
    ys = [ys[0], y1, ys[1], yr]
    y0, y1, y2, yr = (np.asarray(y) for y in ys)
    with np.errstate(invalid="ignore", divide="ignore"):
        const = (y0 == y1) & (y1 == y2)
        dep = np.flatnonzero(~const)
        c = (y1[dep] - y0[dep]) / PROBE
        ratio = (y2[dep] - y0[dep]) / c
    k1 = np.rint(ratio)
    near = np.abs(ratio - k1) <= 1e-6 * np.maximum(1.0, np.abs(k1))
    ok = np.isfinite(ratio) & near & (k1 >= 1) & (k1 <= K)
    if not ok.all():
        return None, cr
    k = (k1 - 1).astype(np.int64)
    pm = ParamMap(S, params, y0, dep, c, k, coo.row.astype(np.int64), coo.col.astype(np.int64))
    y = pm.targets(real)
    finite = np.isfinite(yr)
    if not (np.array_equal(finite, np.isfinite(y)) and (y[~finite] == yr[~finite]).all()):
        return None, cr
    if (np.abs(y[finite] - yr[finite]) > VERIFY_RTOL * np.maximum(1.0, np.abs(yr[finite]))).any():
        return None, cr
    pm.comp = pm.evaluate()
    return pm, pm.comp
