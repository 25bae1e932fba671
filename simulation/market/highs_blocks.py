"""A compiled clearing LP held by HiGHS as independent blocks, solved side by side.

A clearing whose steps are linked by no constraint (no ramp limit, minimum duration, energy group,
exclusive group or multi-step fill-or-kill across steps) is ``T`` independent problems: the rows of
step ``t`` touch only the columns of step ``t``. The connected components of the bipartite row-column
graph of the constraint matrix find such blocks whatever their origin. Each block of at least
:data:`MIN_BLOCK_COLUMNS` columns gets its own HiGHS instance (the smaller components share one), so

* each dual simplex works on a sixth of the rows (its per-iteration cost falls with the size while the
  iteration count splits between the blocks: 1.4x less work at the Italian scale),
* the blocks run in parallel threads (``highspy`` releases the GIL in ``run``; HiGHS gives every calling
  thread its own scheduler),
* a cut round re-solves only the blocks whose rows changed.

The optimum of the whole LP is the union of the blocks' optima (the objective is separable and no row
links two blocks), and so are its duals. A problem that is one block (coupled steps) is one HiGHS
instance, exactly as without this class. Every index that enters or leaves this class is *global*
(a column or row of the compiled model); appended rows (cuts, lazy limits) go to the block of their
columns.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from simulation.errors import InfeasibleMarketError, SolverFailedError

MIN_BLOCK_COLUMNS = 2000
"""Components with fewer columns are solved together in one instance (a HiGHS call costs about 1 ms)."""

_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One worker pool per process (a pool inherited through ``fork`` has no threads behind it)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)))
        return _POOL[1]


@dataclass
class _Block:
    h: Any
    cols: np.ndarray
    """Global column of each local column."""
    n_base: int
    """Rows of the compiled model in this block (appended rows follow them)."""
    appended_cut: list[bool] = field(default_factory=list)
    """Per appended row: True for a tangent cut (prunable), False for a thermal limit."""
    dirty: bool = True
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))


class HighsBlocks:
    """Independent blocks of one compiled LP/MILP, each in its own ``highspy.Highs`` (module docstring).

    ``A`` is the compiled constraint matrix (rows x columns); the other arrays are over its columns and
    rows.
    """

    def __init__(
        self,
        A: Any,
        cost: np.ndarray,
        offset: float,
        col_lo: np.ndarray,
        col_hi: np.ndarray,
        row_lo: np.ndarray,
        row_hi: np.ndarray,
        integer: np.ndarray,
        name: str,
    ) -> None:
        import highspy

        self.name = name
        A = sp.csr_matrix(A)
        r, n = A.shape
        self.n_cols = n
        self.n_rows = r
        graph = sp.bmat([[None, A], [A.T, None]], format="csr") if r and n else sp.csr_matrix((r + n, r + n))
        _, label = connected_components(graph, directed=False)
        row_label, col_label = label[:r], label[r:]
        sizes = np.bincount(col_label, minlength=label.max() + 1 if label.size else 0)
        big = np.flatnonzero(sizes >= MIN_BLOCK_COLUMNS)
        block_of_label = np.full(sizes.size, len(big), dtype=np.int64)
        block_of_label[big] = np.arange(len(big))
        col_block = block_of_label[col_label] if n else np.zeros(0, dtype=np.int64)
        row_block = block_of_label[row_label] if r else np.zeros(0, dtype=np.int64)
        n_blocks = len(big) + int((col_block == len(big)).any() or (row_block == len(big)).any())
        if n_blocks == 0:
            n_blocks = 1
        self.col_block = col_block
        self.col_local = np.zeros(n, dtype=np.int64)
        self.row_block = row_block
        self.row_local = np.zeros(r, dtype=np.int64)
        self.blocks: list[_Block] = []
        for b in range(n_blocks):
            cols = np.flatnonzero(col_block == b)
            rows = np.flatnonzero(row_block == b)
            self.col_local[cols] = np.arange(len(cols))
            self.row_local[rows] = np.arange(len(rows))
            sub = A[rows][:, cols].tocsc()
            lp = highspy.HighsLp()
            lp.num_col_ = len(cols)
            lp.num_row_ = len(rows)
            lp.col_cost_ = cost[cols]
            lp.offset_ = offset if b == 0 else 0.0
            lp.col_lower_ = col_lo[cols]
            lp.col_upper_ = col_hi[cols]
            lp.row_lower_ = row_lo[rows]
            lp.row_upper_ = row_hi[rows]
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.num_col_ = len(cols)
            lp.a_matrix_.num_row_ = len(rows)
            lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
            lp.a_matrix_.index_ = sub.indices.astype(np.int32)
            lp.a_matrix_.value_ = sub.data.astype(float)
            if integer[cols].any():
                k_int, k_cont = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
                lp.integrality_ = [k_int if i else k_cont for i in integer[cols].tolist()]
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            if h.passModel(lp) == highspy.HighsStatus.kError:
                raise SolverFailedError(f"{name}: HiGHS refused the compiled model")
            self.blocks.append(_Block(h, cols, len(rows)))
        self.x = np.zeros(n)
        self.iterations = 0

    # ------------------------------------------------------------------ changes (global indices)
    def change_costs(self, cost: np.ndarray) -> None:
        for blk in self.blocks:
            blk.h.changeColsCost(len(blk.cols), np.arange(len(blk.cols), dtype=np.int32), cost[blk.cols])
            blk.dirty = True

    def change_col_bounds(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of the global columns ``cols``."""
        cols = np.asarray(cols, dtype=np.int64)
        for b, blk in enumerate(self.blocks):
            sel = self.col_block[cols] == b
            if sel.any():
                loc = self.col_local[cols[sel]].astype(np.int32)
                blk.h.changeColsBounds(len(loc), loc, np.asarray(lo)[sel], np.asarray(hi)[sel])
                blk.dirty = True

    def change_row_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of every compiled (not appended) row."""
        for b, blk in enumerate(self.blocks):
            rows = np.flatnonzero(self.row_block == b)
            if rows.size:
                blk.h.changeRowsBounds(len(rows), self.row_local[rows].astype(np.int32), lo[rows], hi[rows])
                blk.dirty = True

    def change_coeff(self, row: int, col: int, value: float) -> bool:
        """One matrix entry of a compiled row; False when it would link two blocks."""
        b = int(self.row_block[row])
        if int(self.col_block[col]) != b:
            return False
        blk = self.blocks[b]
        blk.h.changeCoeff(int(self.row_local[row]), int(self.col_local[col]), float(value))
        blk.dirty = True
        return True

    def change_offset(self, offset: float) -> None:
        self.blocks[0].h.changeObjectiveOffset(offset)

    def set_integrality(self, cols: np.ndarray, integral: bool) -> None:
        import highspy

        kind = highspy.HighsVarType.kInteger if integral else highspy.HighsVarType.kContinuous
        cols = np.asarray(cols, dtype=np.int64)
        for b, blk in enumerate(self.blocks):
            loc = self.col_local[cols[self.col_block[cols] == b]].astype(np.int32)
            if loc.size:
                blk.h.changeColsIntegrality(len(loc), loc, np.array([kind] * len(loc)))
                blk.dirty = True

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, idx: np.ndarray, coef: np.ndarray, cut: bool
    ) -> None:
        """Rows ``lower <= sum_k coef[i, k] x[idx[i, k]] <= upper`` (``idx < 0``: no entry), each in the
        block of its columns."""
        keep = (idx >= 0) & (np.abs(coef) > 1e-9)  # HiGHS drops smaller entries itself, with a warning
        first = np.where(keep, idx, -1).max(axis=1)
        has = first >= 0
        block = np.where(has, self.col_block[np.maximum(first, 0)], 0)
        for b, blk in enumerate(self.blocks):
            sel = np.flatnonzero(block == b)
            if not sel.size:
                continue
            k = keep[sel]
            if (self.col_block[idx[sel][k]] != b).any():
                raise SolverFailedError(f"{self.name}: an added row links two independent blocks")
            counts = k.sum(axis=1)
            starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32)
            blk.h.addRows(
                len(sel),
                np.asarray(lower, float)[sel],
                np.asarray(upper, float)[sel],
                int(counts.sum()),
                starts,
                self.col_local[idx[sel][k]].astype(np.int32),
                coef[sel][k].astype(float),
            )
            blk.appended_cut += [cut] * len(sel)
            blk.dirty = True

    def prune_cuts(self, keep_max: int) -> int:
        """Delete tangent cuts that are slack (and without dual) in the last solution, once the blocks
        hold more than ``keep_max`` cuts together. Returns the number deleted."""
        total = sum(sum(blk.appended_cut) for blk in self.blocks)
        if total <= keep_max:
            return 0
        deleted = 0
        for blk in self.blocks:
            is_cut = np.array(blk.appended_cut, dtype=bool)
            if not is_cut.any():
                continue
            sol = blk.h.getSolution()
            if not sol.value_valid:
                continue
            rows = blk.n_base + np.arange(len(is_cut))
            act = np.asarray(sol.row_value, dtype=float)[rows]
            dual = np.asarray(sol.row_dual, dtype=float)[rows] if sol.dual_valid else np.zeros(len(rows))
            upper = np.asarray(blk.h.getLp().row_upper_, dtype=float)[rows]  # cut rows are "<= upper"
            drop = is_cut & (upper - act > 1e-7) & (np.abs(dual) < 1e-12)
            n = int(drop.sum())
            if n:
                blk.h.deleteRows(n, rows[drop].astype(np.int32))
                blk.appended_cut = [bool(c) for c in is_cut[~drop]]
                deleted += n
        return deleted

    # ------------------------------------------------------------------ solving
    def set_options(self, options: dict[str, Any]) -> None:
        for blk in self.blocks:
            for key, val in options.items():
                blk.h.setOptionValue(key, val)

    def run(self, workers: int | None = None) -> None:
        """Solve every block changed since its last solve (in parallel threads when there are several);
        raise :class:`InfeasibleMarketError` / :class:`SolverFailedError` naming the clearing."""
        todo = [blk for blk in self.blocks if blk.dirty]
        if len(todo) > 1 and (workers is None or workers > 1):
            results = list(_pool().map(self._run_block, todo))
        else:
            results = [self._run_block(blk) for blk in todo]
        for err, iterations in results:
            self.iterations += iterations
            if err is not None:
                raise err
        for blk in self.blocks:
            self.x[blk.cols] = blk.x

    def _run_block(self, blk: _Block) -> tuple[Exception | None, int]:
        import highspy

        MS = highspy.HighsModelStatus
        h = blk.h
        for attempt in range(2):
            h.run()
            st = h.getModelStatus()
            if st == MS.kOptimal:
                break
            if st in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
                return InfeasibleMarketError(
                    f"{self.name}: the clearing is infeasible even with slack ({st.name})"
                ), 0
            if st == MS.kTimeLimit and h.getInfo().primal_solution_status == 2:
                break
            if attempt == 0:
                h.clearSolver()  # a warm start that ran into numerical trouble: solve again from scratch
                continue
            err = SolverFailedError(f"{self.name}: solver 'highs' returned no optimal solution ({st.name})")
            return err, 0
        blk.x = np.asarray(h.getSolution().col_value, dtype=float)
        blk.dirty = False
        return None, int(h.getInfo().simplex_iteration_count)

    def objective(self) -> float:
        return float(sum(blk.h.getInfo().objective_function_value for blk in self.blocks))

    def row_duals(self, rows: np.ndarray) -> np.ndarray:
        """Duals of compiled rows (global indices, any shape)."""
        out = np.zeros(rows.shape)
        if not rows.size:
            return out
        flat = rows.ravel()
        res = np.zeros(flat.size)
        for b, blk in enumerate(self.blocks):
            sel = self.row_block[flat] == b
            if sel.any():
                d = np.asarray(blk.h.getSolution().row_dual, dtype=float)
                res[sel] = d[self.row_local[flat[sel]]]
        return res.reshape(rows.shape)

    @property
    def num_col(self) -> int:
        return self.n_cols
