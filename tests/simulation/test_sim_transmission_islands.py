"""The market's DC transmission model of a grid whose tripped line isolates buses (regression, issue 8).

Seen at the Italian scale (case30 plus a SimBench grid): protections trip a line that isolates a bus, and
``TransmissionGrid.from_pandapower`` raised ``IndexError: index 29 is out of bounds for axis 0 with size
29`` because pandapower's lookup maps the isolated bus past the end of the reduced ppc bus table, while
its DC power flow still reports a finite ``p_mw`` (0) for it.
"""

from __future__ import annotations

import pandapower.networks as pn
import pytest
from pandapower.toolbox import drop_buses

from coordstudio.simulation.market.grids import TransmissionGrid

ISOLATING_LINE = 12
"""case30 line 12 (pandapower buses 8-10) is bus 10's only connection: out of service, bus 10 is isolated."""
GEN_LINE, GEN_BUS = 15, 12
"""case30 line 15 (buses 11-12) is the only connection of bus 12, a generator bus (IEEE bus 13)."""


def test_tripped_line_isolating_a_bus_gives_the_grid_without_that_bus() -> None:
    net = pn.case30()
    net.line.at[ISOLATING_LINE, "in_service"] = False
    tg = TransmissionGrid.from_pandapower(net)
    # reference: the same grid with bus 10 and everything at it removed beforehand (nothing is isolated)
    ref_net = pn.case30()
    drop_buses(ref_net, [10])
    ref = TransmissionGrid.from_pandapower(ref_net)
    assert "t10" not in tg.node_index()
    assert tg.n_nodes == 29 == ref.n_nodes
    assert sorted(tg.node_ids) == sorted(ref.node_ids)
    assert tg.n_branches == ref.n_branches == 40  # case30 has 41 branches, one is out
    inj = dict(zip(tg.node_ids, tg.base_injection_mw, strict=True))
    inj_ref = dict(zip(ref.node_ids, ref.base_injection_mw, strict=True))
    for nid, value in inj_ref.items():
        assert abs(inj[nid] - value) < 1e-6, nid
    assert abs(float(tg.base_injection_mw.sum())) < 1e-6  # balanced, as the DC model requires


@pytest.mark.parametrize("sessions", [False, True], ids=["fresh-clear", "market-session"])
def test_platform_clears_after_a_trip_isolates_a_transmission_bus(tmp_path, monkeypatch, sessions) -> None:  # type: ignore[no-untyped-def]
    """A scheme's day goes on after protection isolates bus 12 (it raised ``KeyError: 't12'`` when the
    next clearing looked up the isolated generator's bus in the rebuilt DC model). With market sessions
    the trip starts a new session whose bid universe leaves out the bids at the isolated bus."""
    import pandapower as pp
    from sim_fixtures import small_spec

    import coordstudio.simulation.market as market
    from coordstudio.simulation.forecast import compute_schedule
    from coordstudio.simulation.run import run_scheme
    from coordstudio.simulation.scenario import ScenarioSpec
    from coordstudio.simulation.scenario.build import build_scenario

    net = pn.case30()
    assert (net.gen.bus == GEN_BUS).any()  # the isolated bus carries a generator (and so a generator bid)
    net.line.at[GEN_LINE, "max_i_ka"] = 1e-4  # overloaded in the first power flow: it trips
    pp.to_json(net, str(tmp_path / "case30-weak.json"))
    d = small_spec(duration_h=2.0).model_dump()
    d["transmission"]["grid_file"] = str(tmp_path / "case30-weak.json")
    scen = build_scenario(ScenarioSpec.model_validate(d))
    schedule = compute_schedule(scen)
    cases = []
    real_clear = market.clear

    def recording_clear(case, scheme, options=None):  # type: ignore[no-untyped-def]
        cases.append(case)
        return real_clear(case, scheme, options)

    monkeypatch.setattr(market, "clear", recording_clear)

    class RecordingSession(market.MarketSession):  # type: ignore[misc]
        def __init__(self, case, scheme, options=None):  # type: ignore[no-untyped-def]
            cases.append(case)
            super().__init__(case, scheme, options)

    monkeypatch.setattr(market, "MarketSession", RecordingSession)
    kpis = run_scheme(scen, schedule, "CM", None, market_sessions=sessions).kpis
    assert kpis.lines_tripped >= 1
    assert kpis.failed_clearings == 0
    assert len(cases) == 2  # one clearing per hour (with sessions: one session each, the trip between)
    node = f"t{GEN_BUS}"
    assert node in cases[0].transmission.node_index() and node in set(cases[0].bids.node)
    later = cases[1]
    assert node not in later.transmission.node_index()
    assert node not in set(later.bids.node) and node not in later.needs_mw
    assert abs(float(later.transmission.base_injection_mw.sum())) < 1e-6
