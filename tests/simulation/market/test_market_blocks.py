"""Independent blocks of a clearing LP (simulation.market.highs_blocks).

Reference: the same clearing solved as one HiGHS instance (``MIN_BLOCK_COLUMNS`` above the model
size). A clearing whose steps no constraint links is T independent LPs, so the block solution must
give the same optimum (objective to 1e-9 relative) and the same locational prices; a ramp limit links
the steps: the blocks are solved first without it, then the whole LP from their joined basis.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandapower.networks as pn
import pytest

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    DistributionGrid,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    highs_blocks,
)

T = 4


def _case(ramp: bool = False) -> MarketCase:
    """case9 at 60 % ratings (thermal limits bind) with a case33bw feeder at node 5: transmission and
    distribution bids, needs that change sign over the steps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(pn.case9())
        feeder = DistributionGrid.from_pandapower(pn.case33bw(), "d0", interface_node=tg.node_ids[4])
    tg.branch_rating_mw = np.minimum(tg.branch_rating_mw, 60.0)
    rng = np.random.default_rng(11)
    bids = []
    for k, node in enumerate(tg.node_ids):
        bids.append(
            Bid.simple(f"u{k}", node, "up", float(rng.uniform(20, 80)), float(rng.uniform(10, 90)), T)
        )
        bids.append(
            Bid.simple(f"d{k}", node, "down", float(rng.uniform(20, 80)), float(rng.uniform(-30, 10)), T)
        )
    for k in range(12):
        j = int(rng.integers(1, 33))
        bids.append(
            Bid.simple(f"f{k}", f"d0:{j}", "up", float(rng.uniform(0.05, 0.3)), float(rng.uniform(5, 40)), T)
        )
    if ramp:
        bids.append(Bid.simple("ramped", tg.node_ids[2], "up", 40.0, 1.0, T, ramp_mw_per_step=5.0))
    needs = {tg.node_ids[4]: [90.0, 60.0, -40.0, 20.0], tg.node_ids[8]: [70.0, -50.0, 30.0, 10.0]}
    return MarketCase(
        tg, BidTable.from_bids(bids, T), needs, distribution=[feeder], timing=MarketTiming(horizon_steps=T)
    )


def _clear(case: MarketCase, min_cols: int, monkeypatch: pytest.MonkeyPatch) -> tuple[object, int]:
    monkeypatch.setattr(highs_blocks, "MIN_BLOCK_COLUMNS", min_cols)
    session = MarketSession(case, "CM")
    res = session.clear()
    return res, len(session._model._highs_direct.hb.blocks)


def test_uncoupled_steps_solve_as_blocks_with_the_single_lp_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, n_whole = _clear(_case(), 10**9, monkeypatch)
    split, n_split = _clear(_case(), 1, monkeypatch)
    assert n_whole == 1
    assert n_split == T  # one block per step: nothing links the steps
    assert split.objective_eur == pytest.approx(whole.objective_eur, rel=1e-9)
    pw = whole.prices.set_index(["node", "step"])["price_eur_per_mwh"]
    ps = split.prices.set_index(["node", "step"])["price_eur_per_mwh"]
    assert np.isfinite(pw.to_numpy()).all()
    # thermal limits bind, so the prices separate; each block's duals are the whole LP's duals
    trans = [n for n in pw.index if not str(n[0]).startswith("d0")]
    dist = [n for n in pw.index if str(n[0]).startswith("d0")]
    assert pw.loc[trans].nunique() > 1
    np.testing.assert_allclose(ps.loc[trans].to_numpy(), pw.loc[trans].to_numpy(), rtol=1e-6, atol=1e-6)
    # inside the feeder the prices carry the loss sensitivities of the tangent cuts, which sit at
    # slightly different points in the two runs (both within the 1e-6 pu cone tolerance): 1e-3 relative
    np.testing.assert_allclose(ps.loc[dist].to_numpy(), pw.loc[dist].to_numpy(), rtol=1e-3)


def test_a_ramp_limit_links_the_steps_and_the_warm_started_lp_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cheapest offer (1 EUR/MWh, 40 MW) may ramp by 5 MW per step from 0: in the first three steps
    it is worth more than the ramp allows (5, 10, 15 MW, binding); in the last the smaller need and the
    grid take 17.1 MW. The phase-2 LP, warm-started from the blocks (which ignore the ramp), must end at
    the single-instance optimum."""
    split, n = _clear(_case(ramp=True), 1, monkeypatch)
    assert n == 1  # phase 2: the whole LP
    whole, _ = _clear(_case(ramp=True), 10**9, monkeypatch)
    assert split.objective_eur == pytest.approx(whole.objective_eur, rel=1e-9)
    act = split.activations
    ramped = act[act.bid_id == "ramped"].set_index("step")["activation_mw"].reindex(range(T), fill_value=0.0)
    np.testing.assert_allclose(ramped.to_numpy()[:3], [5.0, 10.0, 15.0], atol=1e-6)
    assert np.diff(np.r_[0.0, ramped.to_numpy()]).max() <= 5.0 + 1e-6
    wa = whole.activations
    ref = wa[wa.bid_id == "ramped"].set_index("step")["activation_mw"].reindex(range(T), fill_value=0.0)
    np.testing.assert_allclose(ramped.to_numpy(), ref.to_numpy(), atol=1e-5)


# ------------------------------------------------------------------- a false infeasible verdict of HiGHS
def _tiny_milp(row_lo: float) -> highs_blocks.HighsBlocks:
    """``min x + 2 y`` s.t. ``x + y >= row_lo``, ``x`` in {0, 1}, ``0 <= y <= 10``, as one block.
    Hand calculation for ``row_lo = 1.5``: x = 1 (the cheaper unit first), y = 0.5, objective 2.0."""
    import highspy
    import scipy.sparse as sp

    lp = highs_blocks.CompiledLP(
        columns=["x", "y"],
        cost=np.array([1.0, 2.0]),
        offset=0.0,
        col_lo=np.array([0.0, 0.0]),
        col_hi=np.array([1.0, 10.0]),
        integer=np.array([True, False]),
        A=sp.csr_matrix(np.array([[1.0, 1.0]])),
        row_lo=np.array([row_lo]),
        row_hi=np.array([highspy.kHighsInf]),
        row_of={},
        row_ids=[0],
        linking=np.zeros(1, dtype=bool),
    )
    return highs_blocks.HighsBlocks(lp, "tiny [LMS central]")


def _run_in_a_thread_of_its_own(hb: highs_blocks.HighsBlocks) -> None:
    """``hb.run(threads=1, workers=1)`` in a new thread: HiGHS sizes each calling thread's task scheduler
    at that thread's first solve and refuses another size later, so the test's solves must not meet the
    scheduler an earlier test left in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(hb.run, threads=1, workers=1).result()


class _PresolveRejects:
    """A HiGHS instance as the Italian day's TSO clearings met it: every solve *with* presolve ends
    ``kInfeasible`` (HiGHS's MIP found its optimum, but the point mapped back through the presolve broke a
    nodal balance by 1.7e-6 MW, over the 1e-6 tolerance, and was rejected); without presolve it is the
    real solver."""

    def __init__(self, h: object) -> None:
        self._h = h
        self.presolve_of_runs: list[str] = []

    def run(self) -> object:
        self.presolve_of_runs.append(str(self._h.getOptionValue("presolve")[1]))  # type: ignore[attr-defined]
        return self._h.run()  # type: ignore[attr-defined]

    def getModelStatus(self) -> object:  # noqa: N802 (highspy's name)
        import highspy

        if self.presolve_of_runs[-1] != "off":
            return highspy.HighsModelStatus.kInfeasible
        return self._h.getModelStatus()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._h, name)


def test_a_false_infeasible_verdict_is_checked_once_without_presolve() -> None:
    """A clearing with slack always has a feasible point; HiGHS's verdict ``kInfeasible`` after presolve
    (LMS / CM-D clearings 6, 20, 21, 23 of the Italian day) is checked by one solve without presolve,
    which gives the hand-calculated optimum (x = 1, y = 0.5, objective 2.0, to 1e-9); the presolve option
    is left as it was."""
    hb = _tiny_milp(1.5)
    fake = _PresolveRejects(hb.blocks[0].h)
    hb.blocks[0].h = fake
    _run_in_a_thread_of_its_own(hb)  # raised InfeasibleMarketError before the check
    assert fake.presolve_of_runs == ["choose", "off"]
    np.testing.assert_allclose(hb.x, [1.0, 0.5], atol=1e-9)
    assert hb.objective() == pytest.approx(2.0, abs=1e-9)
    assert fake.getOptionValue("presolve")[1] == "choose"


def test_an_infeasible_model_stays_infeasible_after_the_check() -> None:
    """The check does not hide a real contradiction: ``x + y >= 20`` with ``x <= 1, y <= 10`` is
    infeasible with or without presolve, and the clearing fails naming itself."""
    from coordstudio.simulation.errors import InfeasibleMarketError

    hb = _tiny_milp(20.0)
    with pytest.raises(InfeasibleMarketError, match=r"tiny \[LMS central\]: the clearing is infeasible"):
        _run_in_a_thread_of_its_own(hb)
