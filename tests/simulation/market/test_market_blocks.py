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
