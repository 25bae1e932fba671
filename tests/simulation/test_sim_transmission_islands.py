"""The market's DC transmission model of a grid whose tripped line isolates buses (regression, issue 8).

Seen at the Italian scale (case30 plus a SimBench grid): protections trip a line that isolates a bus, and
``TransmissionGrid.from_pandapower`` raised ``IndexError: index 29 is out of bounds for axis 0 with size
29`` because pandapower's lookup maps the isolated bus past the end of the reduced ppc bus table, while
its DC power flow still reports a finite ``p_mw`` (0) for it.
"""

from __future__ import annotations

import pandapower.networks as pn
from pandapower.toolbox import drop_buses

from simulation.market.grids import TransmissionGrid

ISOLATING_LINE = 12
"""case30 line 12 (pandapower buses 8-10) is bus 10's only connection: out of service, bus 10 is isolated."""


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
