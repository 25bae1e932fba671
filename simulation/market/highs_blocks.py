"""A compiled clearing LP held by HiGHS as independent blocks, solved side by side.

A clearing whose steps are linked by no constraint (no ramp limit, minimum duration, energy group or
exclusive group across steps) is ``T`` independent problems: the rows of step ``t`` touch only the
columns of step ``t``. The connected components of the bipartite row-column graph of the constraint
matrix find such blocks whatever their origin. Each block of at least :data:`MIN_BLOCK_COLUMNS`
columns gets its own HiGHS instance (the smaller components share one), so

* each dual simplex works on a sixth of the rows (its per-iteration cost falls with the size while the
  iteration count splits between the blocks: 1.4x less work at the Italian scale),
* the blocks run in parallel threads (``highspy`` releases the GIL in ``run``; HiGHS gives every calling
  thread its own scheduler),
* a cut round re-solves only the blocks whose rows changed.

The optimum of the whole LP is the union of the blocks' optima (the objective is separable and no row
links two blocks), and so are its duals.

**Linked steps.** When rows of the families that link steps exist (``linking``: energy groups, ramps,
minimum durations, exclusive groups), the clearing works in two phases. Phase 1 solves the blocks
*without* the linking rows as above, cut rounds included (every appended row is also written into one
instance of the whole LP). When phase 1 has converged, :meth:`HighsBlocks.release_linking` hands the
whole LP the joined basis of the blocks, with the linking rows' slacks basic. That basis is dual
feasible for the whole LP (the linking rows' duals are zero, every block's reduced costs are
optimal), so the dual simplex only repairs the linking rows the blocks violate; from then on the whole
LP is the only instance (phase 2).

Every index that enters or leaves this class is *global* (a column or row of the compiled model);
appended rows (cuts, lazy limits) go to the block of their columns.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from coordstudio.simulation.errors import InfeasibleMarketError, SolverFailedError

MIN_BLOCK_COLUMNS = 2000
"""Components with fewer columns are solved together in one instance (a HiGHS call costs about 1 ms)."""

_POOL_LOCK = threading.Lock()
"""Serialises the first call of :func:`_pool_of_process` in a process (one pool, never two)."""


@functools.cache
def _pool_of_process(pid: int) -> ThreadPoolExecutor:
    """The worker pool of process ``pid``, made at its first use and kept for the process's life (its
    threads keep their HiGHS task schedulers between clearings). Keyed by the pid because a pool
    inherited through ``fork`` has no threads behind it: a forked child makes its own."""
    return ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))


def _pool() -> ThreadPoolExecutor:
    """This process's worker pool for the blocks."""
    with _POOL_LOCK:
        return _pool_of_process(os.getpid())


def _group(A: Any, link: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Block of every column and row of ``A`` (CSR) by the connected components of its bipartite
    row-column graph without the ``link`` rows (those get block -1); components of fewer than
    :data:`MIN_BLOCK_COLUMNS` columns share the last block."""
    r, n = A.shape
    keep = ~link
    Ak = A[keep] if link.any() else A
    rk = Ak.shape[0]
    graph = sp.bmat([[None, Ak], [Ak.T, None]], format="csr") if rk and n else sp.csr_matrix((rk + n, rk + n))
    _, label = connected_components(graph, directed=False)
    row_label, col_label = label[:rk], label[rk:]
    sizes = np.bincount(col_label, minlength=label.max() + 1 if label.size else 0)
    big = np.flatnonzero(sizes >= MIN_BLOCK_COLUMNS)
    block_of_label = np.full(sizes.size, len(big), dtype=np.int64)
    block_of_label[big] = np.arange(len(big))
    col_block = block_of_label[col_label] if n else np.zeros(0, dtype=np.int64)
    row_block = np.full(r, -1, dtype=np.int64)
    if rk:
        row_block[keep] = block_of_label[row_label]
    rest = (col_block == len(big)).any() or (row_block == len(big)).any()
    return col_block, row_block, max(len(big) + int(rest), 1)


@dataclass
class CompiledLP:
    """A clearing model as HiGHS takes it: ``min cost x + offset``, ``row_lo <= A x <= row_hi``,
    ``col_lo <= x <= col_hi``, ``integer`` columns; ``columns`` the Pyomo variables in column order,
    ``row_of`` maps ``id(constraint)`` to its row, ``row_ids`` identifies the row structure, ``linking``
    marks the rows that link steps (made by :func:`simulation.market.highs_direct.compile_lp`)."""

    columns: list[Any]
    cost: np.ndarray
    offset: float
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    A: Any
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_of: dict[int, int]
    row_ids: list[int]
    linking: np.ndarray


def _instance(
    lp_data: CompiledLP, A: Any, rows: np.ndarray, cols: np.ndarray, offset: float, name: str
) -> Any:
    """A HiGHS instance holding the rows ``rows`` and columns ``cols`` of the compiled LP."""
    import highspy

    d = lp_data
    cost, col_lo, col_hi, row_lo, row_hi, integer = d.cost, d.col_lo, d.col_hi, d.row_lo, d.row_hi, d.integer
    sub = A[rows][:, cols].tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols)
    lp.num_row_ = len(rows)
    lp.col_cost_ = cost[cols]
    lp.offset_ = offset
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
    return h


@dataclass
class _Block:
    h: Any
    cols: np.ndarray
    """Global column of each local column."""
    n_base: int
    """Rows of the compiled model in this block (appended rows follow them)."""
    appended_cut: list[bool] = field(default_factory=list)
    """Per appended row: True for a tangent cut (prunable), False for a thermal limit."""
    appended_tag: list[int] = field(default_factory=list)
    """Per appended row: the caller's tag (a thermal limit's ``branch * T + step``; -1 for a cut), so
    its dual can be found after cuts were deleted (:meth:`HighsBlocks.tagged_duals`)."""
    dirty: bool = True
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))


class HighsBlocks:
    """Independent blocks of one compiled LP/MILP, each in its own ``highspy.Highs`` (module docstring).

    ``lp`` is the compiled model (its matrix, bounds, costs and linking rows).
    """

    def __init__(self, lp: CompiledLP, name: str) -> None:
        self.name = name
        A = sp.csr_matrix(lp.A)
        r, n = A.shape
        self.n_cols = n
        self.n_rows = r
        link = np.asarray(lp.linking, dtype=bool)
        col_block, row_block, n_blocks = _group(A, link)
        self.full: _Block | None = None
        """Phase 1 of a linked problem: the whole LP, kept up to date, solved from phase 2 on."""
        self.full_app: list[tuple[int, int]] = []
        """Phase 1: (block, appended row in the block) of each row appended to :attr:`full`."""
        self.integral = bool(lp.integer.any())
        if link.any():
            if n_blocks > 1:
                self.full = _Block(
                    _instance(lp, A, np.arange(r), np.arange(n), lp.offset, name), np.arange(n), r
                )
            else:
                row_block = np.zeros(r, dtype=np.int64)
        self.link_rows = np.flatnonzero(link)
        self._set_blocks(lp, A, col_block, row_block, n_blocks)
        self.x = np.zeros(n)
        self.iterations = 0

    def _set_blocks(
        self, lp: CompiledLP, A: Any, col_block: np.ndarray, row_block: np.ndarray, n_blocks: int
    ) -> None:
        self.col_block = col_block
        self.col_local = np.zeros(len(col_block), dtype=np.int64)
        self.row_block = row_block
        self.row_local = np.zeros(len(row_block), dtype=np.int64)
        self.blocks: list[_Block] = []
        for b in range(n_blocks):
            cols = np.flatnonzero(col_block == b)
            rows = np.flatnonzero(row_block == b)
            self.col_local[cols] = np.arange(len(cols))
            self.row_local[rows] = np.arange(len(rows))
            h = _instance(lp, A, rows, cols, lp.offset if b == 0 else 0.0, self.name)
            self.blocks.append(_Block(h, cols, len(rows)))

    def _all(self) -> list[_Block]:
        return self.blocks + ([self.full] if self.full is not None else [])

    # ------------------------------------------------------------------ changes (global indices)
    def change_costs(self, cost: np.ndarray) -> None:
        for blk in self._all():
            blk.h.changeColsCost(len(blk.cols), np.arange(len(blk.cols), dtype=np.int32), cost[blk.cols])
            blk.dirty = True

    def change_col_bounds(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of the global columns ``cols``."""
        cols = np.asarray(cols, dtype=np.int64)
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        for b, blk in enumerate(self.blocks):
            sel = self.col_block[cols] == b
            if sel.any():
                loc = self.col_local[cols[sel]].astype(np.int32)
                blk.h.changeColsBounds(len(loc), loc, lo[sel], hi[sel])
                blk.dirty = True
        if self.full is not None and cols.size:
            self.full.h.changeColsBounds(len(cols), cols.astype(np.int32), lo, hi)
            self.full.dirty = True

    def change_row_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of every compiled (not appended) row."""
        for b, blk in enumerate(self.blocks):
            rows = np.flatnonzero(self.row_block == b)
            if rows.size:
                blk.h.changeRowsBounds(len(rows), self.row_local[rows].astype(np.int32), lo[rows], hi[rows])
                blk.dirty = True
        if self.full is not None and len(lo):
            self.full.h.changeRowsBounds(len(lo), np.arange(len(lo), dtype=np.int32), lo, hi)
            self.full.dirty = True

    def change_coeff(self, row: int, col: int, value: float) -> bool:
        """One matrix entry of a compiled row; False when it would link two blocks."""
        b = int(self.row_block[row])
        if b >= 0:
            if int(self.col_block[col]) != b:
                return False
            blk = self.blocks[b]
            blk.h.changeCoeff(int(self.row_local[row]), int(self.col_local[col]), float(value))
            blk.dirty = True
        if self.full is not None:
            self.full.h.changeCoeff(int(row), int(col), float(value))
            self.full.dirty = True
        return True

    def change_offset(self, offset: float) -> None:
        self.blocks[0].h.changeObjectiveOffset(offset)
        if self.full is not None:
            self.full.h.changeObjectiveOffset(offset)

    def set_integrality(self, cols: np.ndarray, integral: bool) -> None:
        import highspy

        kind = highspy.HighsVarType.kInteger if integral else highspy.HighsVarType.kContinuous
        cols = np.asarray(cols, dtype=np.int64)
        for b, blk in enumerate(self.blocks):
            loc = self.col_local[cols[self.col_block[cols] == b]].astype(np.int32)
            if loc.size:
                blk.h.changeColsIntegrality(len(loc), loc, np.array([kind] * len(loc)))
                blk.dirty = True
        if self.full is not None and cols.size:
            self.full.h.changeColsIntegrality(len(cols), cols.astype(np.int32), np.array([kind] * len(cols)))
            self.full.dirty = True
        self.integral = integral

    def add_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        idx: np.ndarray,
        coef: np.ndarray,
        cut: bool,
        tags: np.ndarray | None = None,
    ) -> None:
        """Rows ``lower <= sum_k coef[i, k] x[idx[i, k]] <= upper`` (``idx < 0``: no entry), each in the
        block of its columns."""
        lower, upper = np.asarray(lower, float), np.asarray(upper, float)
        tag = np.full(len(lower), -1, dtype=np.int64) if tags is None else np.asarray(tags, dtype=np.int64)
        keep = (idx >= 0) & (np.abs(coef) > 1e-9)  # HiGHS drops smaller entries itself, with a warning
        first = np.where(keep, idx, -1).max(axis=1)
        block = np.where(first >= 0, self.col_block[np.maximum(first, 0)], 0)
        order = []
        for b, blk in enumerate(self.blocks):
            sel = np.flatnonzero(block == b)
            if not sel.size:
                continue
            k = keep[sel]
            if (self.col_block[idx[sel][k]] != b).any():
                raise SolverFailedError(f"{self.name}: an added row links two independent blocks")
            self._add(blk, lower[sel], upper[sel], k, self.col_local[idx[sel]], coef[sel], cut, tag[sel])
            order += [(b, len(blk.appended_cut) - len(sel) + j) for j in range(len(sel))]
            if self.full is not None:
                self._add(self.full, lower[sel], upper[sel], k, idx[sel], coef[sel], cut, tag[sel])
        if self.full is not None:
            self.full_app += order

    @staticmethod
    def _add(
        blk: _Block,
        lower: np.ndarray,
        upper: np.ndarray,
        keep: np.ndarray,
        idx: np.ndarray,
        coef: np.ndarray,
        cut: bool,
        tag: np.ndarray,
    ) -> None:
        counts = keep.sum(axis=1)
        starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32)
        blk.h.addRows(
            len(lower),
            lower,
            upper,
            int(counts.sum()),
            starts,
            idx[keep].astype(np.int32),
            coef[keep].astype(float),
        )
        blk.appended_cut += [cut] * len(lower)
        blk.appended_tag += tag.tolist()
        blk.dirty = True

    def prune_cuts(self, keep_max: int) -> int:
        """Delete tangent cuts that are slack (and without dual) in the last solution, once the blocks
        hold more than ``keep_max`` cuts together (phase 2 or unlinked only). Returns the number
        deleted."""
        if self.full is not None:
            return 0
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
                blk.appended_tag = np.asarray(blk.appended_tag, dtype=np.int64)[~drop].tolist()
                deleted += n
        return deleted

    # ------------------------------------------------------------------ phases
    def release_linking(self) -> bool:
        """End phase 1 of a linked problem (module docstring): the whole LP takes over, warm-started
        from the blocks' bases when they are LP optima. False when there is no phase 1 (left)."""
        import highspy

        full = self.full
        if full is None:
            return False
        if not self.integral and all(not blk.dirty for blk in self.blocks):
            basic = highspy.HighsBasisStatus.kBasic
            col_status = np.full(self.n_cols, basic, dtype=object)
            row_status = np.full(self.n_rows + len(self.full_app), basic, dtype=object)
            app_rows: list[list[int]] = [[] for _ in self.blocks]
            app_local: list[list[int]] = [[] for _ in self.blocks]
            for k, (b, j) in enumerate(self.full_app):
                app_rows[b].append(self.n_rows + k)
                app_local[b].append(j)
            for b, blk in enumerate(self.blocks):
                basis = blk.h.getBasis()
                cs = np.array(basis.col_status, dtype=object)
                rs = np.array(basis.row_status, dtype=object)
                col_status[blk.cols] = cs
                base_rows = np.flatnonzero(self.row_block == b)
                row_status[base_rows] = rs[: blk.n_base]
                if app_rows[b]:
                    row_status[np.array(app_rows[b])] = rs[blk.n_base + np.array(app_local[b])]
            start = highspy.HighsBasis()
            start.col_status = col_status.tolist()
            start.row_status = row_status.tolist()
            start.valid = True
            full.h.setBasis(start)
        n, r = self.n_cols, self.n_rows
        self.blocks = [full]
        self.full = None
        self.full_app = []
        self.col_block = np.zeros(n, dtype=np.int64)
        self.col_local = np.arange(n, dtype=np.int64)
        self.row_block = np.zeros(r, dtype=np.int64)
        self.row_local = np.arange(r, dtype=np.int64)
        full.dirty = True
        return True

    # ------------------------------------------------------------------ solving
    def set_options(self, options: dict[str, Any]) -> None:
        for blk in self._all():
            for key, val in options.items():
                blk.h.setOptionValue(key, val)

    def run(self, threads: int | None = None, workers: int | None = None) -> None:
        """Solve every block changed since its last solve; raise :class:`InfeasibleMarketError` /
        :class:`SolverFailedError` naming the clearing.

        ``threads`` is HiGHS's option for solves in the calling thread (None: its default). Several
        changed blocks run in the pool's threads (one HiGHS thread each) unless ``workers`` is 1 (a
        process that shares the cores with others, as the platform's scheme workers do, asks for 1)."""
        if self.full is not None and self.integral:
            self.release_linking()  # MILP blocks would be solved for nothing: the whole MILP at once
        todo = [blk for blk in self.blocks if blk.dirty]
        # HiGHS sizes a thread's task scheduler at its first solve and refuses a later solve in that
        # thread that asks for another size: the pool's threads always ask for 1, the caller's thread
        # for what the caller set
        if len(todo) > 1 and (workers is None or workers > 1):
            for blk in todo:
                blk.h.setOptionValue("threads", 1)
            results = list(_pool().map(self._run_block, todo))
        else:
            for blk in todo:
                blk.h.setOptionValue("threads", 0 if threads is None else threads)
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
        unpresolved = False
        for attempt in range(2):
            status = h.run()
            st = h.getModelStatus()
            if st in (MS.kInfeasible, MS.kUnboundedOrInfeasible) and not unpresolved:
                # a verdict of presolve (or of the MIP's postsolve, which rejects every solution it finds
                # when the presolved model's round-off grows past the feasibility tolerance): checked once
                # on the model as it stands (docs/simulation.md, "Italian day: the infeasible TSO
                # clearings")
                unpresolved = True
                status, st = self._run_unpresolved(h)
            if status == highspy.HighsStatus.kError and st == MS.kNotset:
                # HiGHS refused to start (its reason goes to the log, which output_flag=False hides), so
                # a retry cannot help. The usual cause: the ``threads`` option differs from the size of
                # the calling thread's task scheduler, fixed by that thread's first solve (or inherited
                # through fork); only the owner of the thread may reset it (the parent does, before it
                # forks: simulation.clearing_stage.reset_highs_scheduler).
                msg = (
                    f"{self.name}: HiGHS refused to solve before any iteration (HighsStatus.kError); does "
                    "its 'threads' option differ from that of an earlier HiGHS solve in this thread or in "
                    "the parent of this forked process?"
                )
                return SolverFailedError(msg), 0
            if st == MS.kOptimal:
                break
            if st in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
                err = InfeasibleMarketError(
                    f"{self.name}: the clearing is infeasible even with slack ({st.name})"
                )
                return err, 0
            if st == MS.kTimeLimit and h.getInfo().primal_solution_status == 2:
                break
            if attempt == 0:
                h.clearSolver()  # a warm start that ran into numerical trouble: solve again from scratch
                continue
            return SolverFailedError(
                f"{self.name}: solver 'highs' returned no optimal solution ({st.name})"
            ), 0
        blk.x = np.asarray(h.getSolution().col_value, dtype=float)
        blk.dirty = False
        return None, int(h.getInfo().simplex_iteration_count)

    @staticmethod
    def _run_unpresolved(h: Any) -> tuple[Any, Any]:
        """Solve ``h`` once more with presolve off (its option restored after); returns the run's status
        and the model status.

        Why: a clearing has slack at every node, so the zero activation is always a feasible point, yet
        HiGHS's MIP can report ``kInfeasible`` for it. On the Italian day's TSO clearings (case9241pegase,
        branches of 2e-6 p.u. reactance: nodal-balance coefficients up to 5.2e5 MW/rad) the MIP found the
        optimum at its root again and again, but each time the point mapped back through the presolve
        violated a nodal balance by 1.7e-6 MW, over the 1e-6 MIP feasibility tolerance, and was
        rejected; the search ended with no accepted point: a false verdict. The same model without presolve
        solves to its optimum (violation 4.7e-7 MW) in a quarter of the time. Only an infeasible verdict
        costs this second solve; a model that is infeasible indeed stays so."""
        old = h.getOptionValue("presolve")
        value = old[1] if isinstance(old, tuple) else old
        h.setOptionValue("presolve", "off")
        try:
            status = h.run()
            return status, h.getModelStatus()
        finally:
            h.setOptionValue("presolve", value)

    def objective(self) -> float:
        """Objective of the last solution. A bound change after the solve (the binaries released after
        a rounded or branched point was settled: :mod:`~simulation.market.lp_branching`) makes HiGHS
        drop its info (objective 0); the kept solution's ``c x + offset`` is then the objective."""
        total = 0.0
        for blk in self.blocks:
            info = blk.h.getInfo()
            if info.valid:
                total += info.objective_function_value
            else:
                lp = blk.h.getLp()
                total += float(np.dot(np.asarray(lp.col_cost_, dtype=float), blk.x)) + float(lp.offset_)
        return total

    def row_duals(self, rows: np.ndarray) -> np.ndarray:
        """Duals of compiled rows (global indices, any shape; phase 1 of a linked problem: not of its
        linking rows)."""
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

    def col_duals(self, cols: np.ndarray) -> np.ndarray:
        """Reduced costs ``c - A^T y`` of columns (global indices, any shape; -1: 0)."""
        out = np.zeros(cols.shape)
        flat = cols.ravel()
        res = np.zeros(flat.size)
        ok = flat >= 0
        for b, blk in enumerate(self.blocks):
            sel = ok & (self.col_block[np.maximum(flat, 0)] == b)
            if sel.any():
                d = np.asarray(blk.h.getSolution().col_dual, dtype=float)
                res[sel] = d[self.col_local[flat[sel]]]
        return res.reshape(out.shape)

    def tagged_duals(self, n_tags: int) -> np.ndarray:
        """Dual of each appended row by its tag (``0 <= tag < n_tags``; 0 where no row has the tag)."""
        out = np.zeros(n_tags)
        for blk in self.blocks:
            tag = np.asarray(blk.appended_tag, dtype=np.int64)
            sel = np.flatnonzero(tag >= 0)
            if sel.size:
                d = np.asarray(blk.h.getSolution().row_dual, dtype=float)
                out[tag[sel]] = d[blk.n_base + sel]
        return out

    @property
    def num_col(self) -> int:
        return self.n_cols
