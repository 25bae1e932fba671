"""Grid data read as pandapower defines them (issue 16, item 7).

(a) Phase-shifting transformers enter the market's DC model: its base flows equal pandapower's own DC
power flow. (b) A net without ``max_loading_percent`` gets each branch's own rating, not a flat 100 MW.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from coordstudio.simulation.market import TransmissionGrid

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")


def _rundcpp_flows(net: object) -> np.ndarray:
    """pandapower's DC branch flows in ppc branch order (lines, then transformers), in service only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(net)
    ref = np.r_[net.res_line.p_from_mw.to_numpy(float), net.res_trafo.p_hv_mw.to_numpy(float)]  # type: ignore[attr-defined]
    on = np.r_[net.line.in_service.to_numpy(bool), net.trafo.in_service.to_numpy(bool)]  # type: ignore[attr-defined]
    return ref[on]


def test_base_flows_equal_pandapower_rundcpp_on_case1354pegase() -> None:
    """Reference: pandapower's DC power flow ``pp.rundcpp`` (``res_line.p_from_mw``,
    ``res_trafo.p_hv_mw``) on pandapower's case1354pegase, which has six phase-shifting transformers.
    The model works in MW on float64 without rounding: equal within 1e-6 MW (before: up to 1.73 MW)."""
    net = pn.case1354pegase()
    assert (net.trafo.shift_degree != 0).sum() > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(net)
    assert np.count_nonzero(tg.shift_flow_mw) == int((net.trafo.shift_degree != 0).sum())
    ref = _rundcpp_flows(net)
    flows = tg.base_flows_mw()
    assert flows.shape == ref.shape
    np.testing.assert_allclose(flows, ref, rtol=0, atol=1e-6)
    # the shift injections balance (a shifter moves power between its ends, it creates none)
    assert abs(tg.shift_injection_mw().sum()) < 1e-9


def test_no_shifter_means_zero_offsets_and_unchanged_flows() -> None:
    """Reference: pandapower's ``rundcpp`` on case30 (no phase shifter): zero offsets, equal flows."""
    net = pn.case30()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(net)
    assert not tg.shift_flow_mw.any()
    np.testing.assert_allclose(tg.base_flows_mw(), _rundcpp_flows(net), rtol=0, atol=1e-6)


def test_cigre_hv_ratings_from_max_i_ka_and_sn_mva() -> None:
    """Reference: ratings computed by hand, as pandapower defines them at 100 % loading:
    ``sqrt(3) * vn_kv * max_i_ka * df * parallel`` for a line and ``sn_mva`` for a transformer.
    The CIGRE HV network has no ``max_loading_percent``; pandapower's converter writes 100 MVA there."""
    net = pn.create_cigre_network_hv()
    assert "max_loading_percent" not in net.line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(net)
    nl, nt = len(net.line), len(net.trafo)
    assert tg.n_branches == nl + nt
    # by hand: line 0 (bus 0-1, 220 kV, 1.14 kA) and line 7 (bus 7-8, 380 kV, 1.32 kA)
    assert tg.branch_rating_mw[0] == pytest.approx(math.sqrt(3) * 220.0 * 1.14, abs=1e-9)  # 434.4 MVA
    assert tg.branch_rating_mw[7] == pytest.approx(math.sqrt(3) * 380.0 * 1.32, abs=1e-9)  # 868.8 MVA
    vn = net.bus.vn_kv.loc[net.line.from_bus].to_numpy(float)
    own = math.sqrt(3) * vn * net.line.max_i_ka.to_numpy(float) * net.line.df * net.line.parallel
    np.testing.assert_allclose(tg.branch_rating_mw[:nl], own, rtol=1e-12)
    np.testing.assert_allclose(tg.branch_rating_mw[nl:], net.trafo.sn_mva.to_numpy(float), rtol=1e-12)
    assert not np.any(tg.branch_rating_mw == 100.0)


def test_given_max_loading_percent_is_kept() -> None:
    """Reference: pandapower's converter, which scales by ``max_loading_percent`` when it is given
    (case30: all lines have it); a rating factor still multiplies the result."""
    net = pn.case30()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(net, rating_factor=2.0)
    vn = net.bus.vn_kv.loc[net.line.from_bus].to_numpy(float)
    rate = net.line.max_loading_percent / 100 * math.sqrt(3) * vn * net.line.max_i_ka * net.line.df
    rate = (rate * net.line.parallel).to_numpy(float)
    on = net.line.in_service.to_numpy(bool)
    expect = np.where((rate <= 0) | (rate >= 1e5), np.inf, rate)[on] * 2.0
    np.testing.assert_allclose(tg.branch_rating_mw[: on.sum()], expect, rtol=1e-9)


def _triangle(shift_mw: float) -> TransmissionGrid:
    """Three nodes, equal reactances; T0-T1 rated 30 MW; a phase shifter on T0-T2 carrying ``shift_mw``
    at equal angles (its ends take -/+ ``shift_mw``, pandapower's ``Pbusinj``)."""
    tg = TransmissionGrid.from_lines(
        ["T0", "T1", "T2"],
        [("T0", "T1", 0.1, 30.0), ("T0", "T2", 0.1, math.inf), ("T2", "T1", 0.1, math.inf)],
    )
    tg.branch_shift_flow_mw = np.array([0.0, shift_mw, 0.0])
    return tg


@pytest.mark.parametrize("shift_mw", [0.0, 6.0, -6.0])
def test_clearing_flows_include_the_shifter(shift_mw: float) -> None:
    """Reference: the DC flows by hand. A need of 60 MW at T1 met from T0 splits 2/3 on T0-T1 and 1/3
    around T0-T2-T1; a shifter carrying ``s`` on T0-T2 at equal angles drives a loop flow ``s/3``
    against T0-T1 (the loop's three equal reactances share the shift angle), so T0-T1 carries
    ``2/3 P - s/3``. The cheap bid at T0 is limited by T0-T1 <= 30 MW: ``P = (90 + s) / 2``, and the
    rest comes from the dear bid at T1."""
    from coordstudio.simulation.market import Bid, BidTable, MarketCase, MarketTiming, clear

    tg = _triangle(shift_mw)
    bids = BidTable.from_bids(
        [
            Bid.simple("cheap", "T0", "up", 100, 10, n_steps=1),
            Bid.simple("dear", "T1", "up", 100, 50, n_steps=1),
        ],
        1,
    )
    case = MarketCase(tg, bids, {"T1": [60.0]}, timing=MarketTiming(horizon_steps=1), name="triangle")
    res = clear(case, "CM")
    cheap = float(res.activation_mw[0, 0])
    assert cheap == pytest.approx((90.0 + shift_mw) / 2, abs=1e-6)  # 45, 48, 42 MW
    by_id = dict(zip(res.branch_flows["branch"], res.branch_flows["p_mw"], strict=True))
    hand = tg.flows_mw(np.array([cheap, -cheap, 0.0]))  # the dear bid covers the rest at T1
    assert by_id["T0-T1"] == pytest.approx(2 / 3 * cheap - shift_mw / 3, abs=1e-6)
    np.testing.assert_allclose([by_id[b] for b in tg.branch_ids], hand, atol=1e-6)
    assert by_id["T0-T1"] == pytest.approx(30.0, abs=1e-6)


def test_cigre_ratings_follow_their_branches_when_one_is_out_of_service() -> None:
    """Reference: the hand formula of the previous test. pandapower's converter drops an
    out-of-service line from its internal branch table; the remaining ratings stay with their lines."""
    net = pn.create_cigre_network_hv()
    net.line.loc[2, "in_service"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg = TransmissionGrid.from_pandapower(net)
    on = net.line.in_service.to_numpy(bool)
    vn = net.bus.vn_kv.loc[net.line.from_bus].to_numpy(float)
    own = (math.sqrt(3) * vn * net.line.max_i_ka.to_numpy(float))[on]
    assert tg.n_branches == on.sum() + len(net.trafo)
    np.testing.assert_allclose(tg.branch_rating_mw[: on.sum()], own, rtol=1e-12)
    assert tg.branch_rating_mw[7 - 1] == pytest.approx(math.sqrt(3) * 380.0 * 1.32, abs=1e-9)
