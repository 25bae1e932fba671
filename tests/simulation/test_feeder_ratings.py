"""Distribution feeders rated from their own data (issue 16, item 7(b), distribution part).

A feeder line's rating is ``S = sqrt(3) * V_kV * I_kA`` (its ``max_i_ka`` at its from-bus voltage, times
``df * parallel``) and a transformer's ``sn_mva * parallel * df``, the power at which pandapower reports
100 % loading. Before, the market's SOCP DistFlow model took pandapower's converter value, a flat 100 MVA
on every branch of a net without ``max_loading_percent`` (the CIGRE MV grid), while physics tripped the
same lines at 150 % of 5-7 MVA. The documented fallback ((1 + ``unrated_line_margin_frac``) x the current
of a power flow of the grid's own loads) is for lines whose data give no rating only, and says so.

References: pandapower's ``create_cigre_network_mv`` (20 kV; cables ``CABLE_CIGRE_MV`` with
``max_i_ka`` 0.145, overhead lines ``OHL_CIGRE_MV`` 0.195; two 25 MVA 110/20 kV transformers), rated by
hand: sqrt(3) x 20 x 0.145 = 5.02295 MVA, sqrt(3) x 20 x 0.195 = 6.75500 MVA; and pandapower's own AC
power flow (``pp.runpp``) of ``case33bw`` for the fallback.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
from sim_fixtures import small_spec

from coordstudio.simulation.clearing_stage import market_grids
from coordstudio.simulation.market import DistributionGrid
from coordstudio.simulation.scenario import FeederSpec
from coordstudio.simulation.scenario.build import build_scenario

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

CABLE_MVA = 5.0229473419497435  # sqrt(3) * 20 kV * 0.145 kA, by hand
OHL_MVA = 6.754998149518621  # sqrt(3) * 20 kV * 0.195 kA, by hand
# pandapower's branch order (ppc): lines 0-14 by index, then the two transformers; lines 10, 11, 14 are
# overhead lines, the others cables
CIGRE_MV_MVA = np.array([CABLE_MVA] * 10 + [OHL_MVA] * 2 + [CABLE_MVA] * 2 + [OHL_MVA] + [25.0, 25.0])


def _market_mva(dg: DistributionGrid) -> np.ndarray:
    return np.asarray(dg.imax_pu * dg.base_mva, dtype=float)


def test_cigre_mv_market_ratings_are_the_lines_own() -> None:
    """The SOCP model of pandapower's CIGRE MV grid (no ``max_loading_percent``) rates each line from its
    ``max_i_ka`` and each transformer from its ``sn_mva`` (before: 100 MVA everywhere)."""
    net = pn.create_cigre_network_mv()
    assert "max_loading_percent" not in net.line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dg = DistributionGrid.from_pandapower(net, "F3", interface_node="t29")
    np.testing.assert_allclose(_market_mva(dg), CIGRE_MV_MVA, rtol=1e-12)


def _cigre_spec(**feeder_kw: object):  # type: ignore[no-untyped-def]
    spec = small_spec(duration_h=1.0)
    spec.feeders.append(
        FeederSpec(
            feeder_id="F3",
            case_name="create_cigre_network_mv",
            interface_bus=29,
            load_scale_frac=0.2,
            **feeder_kw,  # type: ignore[arg-type]
        )
    )
    return spec


def test_scenario_feeder_market_and_physics_read_the_same_rating(caplog: pytest.LogCaptureFixture) -> None:
    """In a built scenario the CIGRE MV feeder keeps its own ``max_i_ka`` (times ``line_rating_factor``
    0.5: 2.51148 and 3.37750 MVA by hand), physics (pandapower's ``loading_percent``, the protections)
    reads it, and the market's rating of every line is ``sqrt(3) * V * max_i_ka`` of the same net. No
    fallback warning: every line has data."""
    with caplog.at_level(logging.WARNING, logger="coordstudio.simulation.scenario.build"):
        scen = build_scenario(_cigre_spec(line_rating_factor=0.5))
    assert not [r for r in caplog.records if "F3" in r.getMessage()]
    net = scen.feeder_nets["F3"]
    expected_i = np.where(net.line.std_type.to_numpy() == "OHL_CIGRE_MV", 0.195, 0.145) * 0.5
    np.testing.assert_allclose(net.line.max_i_ka.to_numpy(float), expected_i, rtol=1e-12)
    _, dgs, _ = market_grids(scen)
    f1, f3 = dgs
    expected = CIGRE_MV_MVA.copy()
    expected[:15] *= 0.5  # the lines, not the transformers
    np.testing.assert_allclose(_market_mva(f3), expected, rtol=1e-12)
    # case33bw F1 with line_rating_mva 4: every line 4 MVA in the market as in the net
    np.testing.assert_allclose(_market_mva(f1), 4.0, rtol=1e-9)
    vn = scen.feeder_nets["F1"].bus.vn_kv.loc[scen.feeder_nets["F1"].line.from_bus].to_numpy(float)
    np.testing.assert_allclose(np.sqrt(3) * vn * scen.feeder_nets["F1"].line.max_i_ka.to_numpy(float), 4.0)


def test_unrated_lines_fall_back_to_the_documented_rule_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """case33bw's lines carry pandapower's 99999 kA placeholder: without ``line_rating_mva`` each gets 1.3 x
    its current in pandapower's own AC power flow of the grid's loads (at least 5 % of the largest), and
    the build warns, naming the feeder and the count."""
    spec = small_spec(duration_h=1.0)
    spec.feeders[0].line_rating_mva = None
    with caplog.at_level(logging.WARNING, logger="coordstudio.simulation.scenario.build"):
        scen = build_scenario(spec)
    messages = [r.getMessage() for r in caplog.records]
    assert any("feeder 'F1': 37 of 37 lines have no max_i_ka" in m for m in messages), messages
    ref = pn.case33bw()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(ref, numba=False)
    i_ka = np.nan_to_num(ref.res_line.i_ka.to_numpy(float))  # the five open tie lines carry none
    expected = np.maximum(i_ka, 0.05 * i_ka.max()) * 1.3
    np.testing.assert_allclose(scen.feeder_nets["F1"].line.max_i_ka.to_numpy(float), expected, rtol=1e-6)


def test_only_the_line_without_data_takes_the_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A CIGRE MV grid file where one line has lost its ``max_i_ka`` (NaN): that line alone gets the
    fallback; the other 14 keep their own 0.145/0.195 kA, and the warning counts 1 of 15."""
    net = pn.create_cigre_network_mv()
    net.line.loc[3, "max_i_ka"] = np.nan
    path = tmp_path / "cigre_mv.json"
    pp.to_json(net, str(path))
    with caplog.at_level(logging.WARNING, logger="coordstudio.simulation.scenario.build"):
        scen = build_scenario(_cigre_spec(grid_file=str(path)))
    assert any("feeder 'F3': 1 of 15 lines have no max_i_ka" in r.getMessage() for r in caplog.records)
    got = scen.feeder_nets["F3"].line.max_i_ka.to_numpy(float)
    own = np.where(net.line.std_type.to_numpy() == "OHL_CIGRE_MV", 0.195, 0.145)
    keep = np.arange(15) != 3
    np.testing.assert_allclose(got[keep], own[keep], rtol=1e-12)
    assert np.isfinite(got[3]) and 0 < got[3] < 1.0
