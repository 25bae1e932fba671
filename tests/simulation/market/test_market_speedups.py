"""Issue 21 speed-ups of the market layer that must not move any result: the batched branch-flow sweep
(CMS pre-qualification) and the import-target update without a Pyomo compile (LMS, CM-D curves).

References: the unbatched :meth:`DistributionGrid.branch_flow` per case and the per-bid loop the
pre-qualification ran before (bit for bit), and Pyomo's standard-form compile of the whole model
(arrays equal) and a clearing with the fast path switched off (objective equal, exactly)."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    DistributionGrid,
    MarketCase,
    MarketTiming,
    TransmissionGrid,
    clear,
)
from coordstudio.simulation.market import highs_direct as hdm
from coordstudio.simulation.market.prepare import participating, prepare_case, prequalify

T = 4


@pytest.fixture(scope="module")
def feeder() -> DistributionGrid:
    return DistributionGrid.from_pandapower(pn.case33bw(), "d1", interface_node="T1")


def _case(dg: DistributionGrid, q_mw: float = 0.1) -> MarketCase:
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    bids = [
        Bid.simple(f"db{j}", f"d1:{j}", "up", q_mw * (1 + j % 7), 20 + j, n_steps=T) for j in range(1, 33)
    ]
    bids += [Bid.simple(f"dd{j}", f"d1:{j}", "down", q_mw, -5 + j, n_steps=T) for j in range(2, 33, 3)]
    bids += [
        Bid.simple("tA", "T0", "up", 50, 45, n_steps=T),
        Bid.simple("tD", "T0", "down", 50, -10, n_steps=T),
    ]
    return MarketCase(tg, BidTable.from_bids(bids, T), {"T1": [3.0, 2.0, 1.0, 0.5]}, distribution=[dg],
                      timing=MarketTiming(horizon_steps=T), name="speed-up case")


def test_branch_flow_cases_equal_one_by_one_bit_for_bit(feeder: DistributionGrid) -> None:
    """K cases in one sweep (some collapsing to NaN, some converging in few iterations) give each
    case's own ``branch_flow`` result exactly (``np.array_equal``, NaN equal to NaN)."""
    rng = np.random.default_rng(3)
    p0, q0 = feeder.base(T)
    cases = []
    for k in range(12):
        p = p0.copy()
        p[rng.integers(1, feeder.n_nodes)] += rng.uniform(-2, 2, T) * k  # k = 11: several MW, collapses
        cases.append(p)
    v, P, Q, L = feeder.branch_flow_cases(np.concatenate(cases, axis=1), np.tile(q0, (1, len(cases))), T)
    for k, p in enumerate(cases):
        for one, many in zip(feeder.branch_flow(p, q0), (v, P, Q, L), strict=True):
            assert np.array_equal(one, many[:, k * T : (k + 1) * T], equal_nan=True), k


def test_prequalify_equals_the_per_bid_loop(feeder: DistributionGrid) -> None:
    """Reference: the pre-qualification's former loop (one exact power flow per bid), on bids large
    enough that some break a limit."""
    prep = prepare_case(_case(feeder, q_mw=0.6))
    mask = participating(prep, "CMS")
    ok = prequalify(prep, mask)
    dg, bt = feeder, prep.bids
    p0 = prep.d_base[0][0] + prep.d_need[0]
    q0 = prep.d_base[0][1]
    vlo, vhi = dg.vmin_pu**2, dg.vmax_pu**2
    lmax = np.where(np.isfinite(dg.imax_pu), dg.imax_pu**2, np.inf)
    v0, _, _, l0 = dg.branch_flow(p0, q0)
    base_v = (v0 < vlo[:, None] - 1e-9) | (v0 > vhi[:, None] + 1e-9)
    base_l = l0 > lmax[:, None] + 1e-9
    ref = np.ones(bt.n_bids, dtype=bool)
    for b in np.flatnonzero(mask & (prep.loc_kind == "D")).tolist():
        pb = p0.copy()
        pb[prep.loc_row[b]] -= bt.direction[b] * bt.quantity_mw[b]
        v, _, _, L = dg.branch_flow(pb, q0)
        bad_v = ((v < vlo[:, None] - 1e-9) | (v > vhi[:, None] + 1e-9) | ~np.isfinite(v)) & ~base_v
        bad_l = ((L > lmax[:, None] + 1e-9) | ~np.isfinite(L)) & ~base_l
        ref[b] = not (bad_v.any() or bad_l.any())
    assert not ref.all() and ref[mask & (prep.loc_kind == "D")].any()  # the case tests both outcomes
    assert np.array_equal(ok, ref)


@pytest.mark.parametrize("scheme", ["LMS"])  # CM-D builds its curves by the same code
def test_import_target_update_equals_a_full_compile(
    feeder: DistributionGrid, scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every fast update leaves the compiled arrays equal to Pyomo's compile of the whole model, and
    the clearing's objective equals the one with the fast path switched off (to 1e-12: HiGHS gets the
    same rows and bounds, warm where the reference reloads). On the Pyomo model, whose update this is
    (the sub-models are held as arrays since issue 21's fourth session: test_market_direct_model)."""
    from coordstudio.simulation.market import direct_model

    monkeypatch.setattr(direct_model, "supports_direct", lambda p, reusable=False: False)
    fast = hdm.HighsDirect._update_import_targets
    n_fast = 0

    def checked(self: hdm.HighsDirect) -> bool | None:
        nonlocal n_fast
        r = fast(self)
        if r:
            n_fast += 1
            full = hdm.compile_lp(self.model)
            assert full.row_ids == self.comp.row_ids
            for f in ("cost", "col_lo", "col_hi", "row_lo", "row_hi", "integer"):
                assert np.array_equal(getattr(full, f), getattr(self.comp, f)), f
            assert (full.A != self.comp.A).nnz == 0
        return r

    monkeypatch.setattr(hdm.HighsDirect, "_update_import_targets", checked)
    res = clear(_case(feeder), scheme)
    assert n_fast >= 4  # the curve's points and the disaggregation
    monkeypatch.setattr(hdm.HighsDirect, "_update_import_targets", lambda self: None)
    ref = clear(_case(feeder), scheme)
    # not bit for bit since the import rows change kind (free -> fixed) on the fast path too: without
    # it, that change reloads HiGHS, which then starts the curve cold (another simplex path)
    assert res.objective_eur == pytest.approx(ref.objective_eur, rel=1e-12)
    assert np.allclose(np.asarray(res.activation_mw), np.asarray(ref.activation_mw), rtol=0, atol=1e-9)
