"""aFRR limited to the TSO's reserve and its ramp; what it cannot cover is energy not served.

Reference: hand calculation (written out in each docstring) of

    a_k = clip(R_k, max(-D, a_{k-1} - r dt), min(U, a_{k-1} + r dt)),   u_k = R_k - a_k

(``simulation.physical.afrr``), and of the KPI sums of ``simulation.recording.kpi_accumulator``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sim_fixtures import small_spec

from coordstudio.simulation import db as simdb
from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.physical.afrr import AfrrLimits, limit_afrr, resolve_limits, sized_reserve_mw
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.physical.step import PhysicsOutcome
from coordstudio.simulation.recording.kpi_accumulator import KpiAccumulator
from coordstudio.simulation.scenario import AfrrSpec, ImbalanceSpec, ScenarioSpec
from coordstudio.simulation.scenario.build import build_scenario

LIMITS = AfrrLimits(reserve_up_mw=5.0, reserve_down_mw=3.0, ramp_mw_per_min=0.2)
DT_MIN = 10.0
NEEDS = [1.0, 4.5, 6.0, 2.0, -4.0, -1.0]
HAND = [  # (delivered a_k, uncovered u_k)
    (1.0, 0.0),  # window [-2, 2]: covered
    (3.0, 1.5),  # window [-1, 3]: the ramp stops it at 3
    (5.0, 1.0),  # window [1, 5]: the upward reserve stops it at 5
    (3.0, -1.0),  # window [3, 5]: the ramp cannot come down to 2 (surplus not absorbed)
    (1.0, -5.0),  # window [1, 5]: ramp again, 5 MW of surplus left
    (-1.0, 0.0),  # window [-1, 3]: covered
]


def test_ramp_and_reserve_limits_against_a_hand_calculation() -> None:
    """Reserve +5/-3 MW, ramp 0.2 MW/min, 10-min steps (window +-2 MW around the last value), a_{-1} = 0.

    k=0: need 1 in [-2, 2] -> a = 1. k=1: 4.5 -> [-1, 3] -> 3, u = 1.5. k=2: 6 -> [1, 5] (ramp to 5, reserve
    5) -> 5, u = 1. k=3: 2 -> [3, 7] cut to [3, 5] -> 3, u = -1. k=4: -4 -> [1, 5] -> 1, u = -5. k=5: -1 ->
    [-1, 3] -> -1, u = 0."""
    prev = 0.0
    for need, (a_hand, u_hand) in zip(NEEDS, HAND, strict=True):
        a = limit_afrr(need, prev, LIMITS, DT_MIN)
        assert a == pytest.approx(a_hand, abs=1e-12)
        assert need - a == pytest.approx(u_hand, abs=1e-12)
        prev = a
    assert limit_afrr(123.0, 0.0, None, DT_MIN) == 123.0  # unlimited: the need itself


def test_kpis_of_the_hand_sequence() -> None:
    """The same sequence through the KPI accumulator (dt = 1/6 h):

    aFRR energy = (1 + 3 + 5 + 3 + 1 + 1) / 6 = 14/6 MWh, of which up (1 + 3 + 5 + 3 + 1) / 6 = 13/6 and down
    (k = 5 only) 1/6; need energy = (1 + 4.5 + 6 + 2 + 4 + 1) / 6 = 18.5/6 MWh; energy not served =
    (1.5 + 1) / 6 = 2.5/6 MWh; surplus not absorbed = (1 + 5) / 6 = 1 MWh; 4 short steps; cost =
    150 x 13/6 + 40 x 1/6 EUR."""
    acc = KpiAccumulator()
    prev = 0.0
    for need in NEEDS:
        a = limit_afrr(need, prev, LIMITS, DT_MIN)
        prev = a
        acc.add_physics(PhysicsOutcome(afrr_mw=a, afrr_need_mw=need), DT_MIN / 60, 150.0, 40.0)
    k = acc.to_kpis("CMS", "d", 1.0, {}, {})
    assert k.afrr_energy_mwh == pytest.approx(14 / 6, rel=1e-12)
    assert k.afrr_up_energy_mwh == pytest.approx(13 / 6, rel=1e-12)
    assert k.afrr_down_energy_mwh == pytest.approx(1 / 6, rel=1e-12)
    assert k.afrr_need_energy_mwh == pytest.approx(18.5 / 6, rel=1e-12)
    assert k.afrr_energy_not_served_mwh == pytest.approx(2.5 / 6, rel=1e-12)
    assert k.afrr_surplus_not_absorbed_mwh == pytest.approx(1.0, rel=1e-12)
    assert k.afrr_short_steps == 4
    assert k.afrr_cost_eur == pytest.approx(150 * 13 / 6 + 40 / 6, rel=1e-12)


def test_default_reserve_is_sized_by_hand() -> None:
    """A + z99 sqrt(std^2 + (f |L|)^2) with A = 3, std = 4, f = 0.03, L = (30, 40) MW (|L| = 50):
    sqrt(16 + 2.25) = 4.27200, 3 + 2.3263479 x 4.27200 = 12.93817 MW; ramp: 12.93817 / 5 min."""
    spec = ScenarioSpec(imbalance=ImbalanceSpec(std_mw=4.0, daily_amplitude_mw=3.0,
                                                load_forecast_error_std_frac=0.03))
    expected = 3.0 + 2.3263478740408408 * np.sqrt(18.25)
    assert sized_reserve_mw(spec, np.array([30.0, 40.0, -5.0])) == pytest.approx(expected, rel=1e-12)
    lim = resolve_limits(spec, np.array([30.0, 40.0]))
    assert (lim.reserve_up_mw, lim.reserve_down_mw) == (pytest.approx(expected), pytest.approx(expected))
    assert lim.ramp_mw_per_min == pytest.approx(expected / 5.0)
    own = resolve_limits(spec.model_copy(update={"afrr": AfrrSpec(reserve_up_mw=7.0, reserve_down_mw=2.0,
                                                                   ramp_mw_per_min=0.5)}), np.zeros(2))
    assert own == AfrrLimits(7.0, 2.0, 0.5)


def test_transmission_step_delivers_the_limited_afrr_and_the_slack_takes_the_rest() -> None:
    """In the network: a residual larger than a 1 MW reserve gives aFRR = 1 MW (ramp not binding), the
    generators move by exactly that, and the next step's ramp starts from it."""
    spec = small_spec()
    spec = spec.model_copy(update={"afrr": AfrrSpec(reserve_up_mw=1.0, reserve_down_mw=1.0)})
    scen = build_scenario(spec)
    schedule = compute_schedule(scen)
    net = PhysicalNetwork(scen)
    k = 0
    draws = {a: float(schedule.area_draw_mw[a][k]) for a in spec.area_ids}
    gen = schedule.gen_mw[:, k].copy()
    afrr, residual, _slack, _losses = net.transmission_step(
        draws, {}, np.zeros(net.t_node_idx.size), float(schedule.load_frac[k]), None, 4.0, gen, None,
        float(schedule.nonslack_injection_mw[k]),
    )
    assert residual > 1.0
    assert afrr == pytest.approx(1.0, abs=1e-12)
    assert net.afrr_previous_mw == afrr
    moved = net.tnet.gen.loc[scen.tso_gens.get("id", net.tnet.gen.index.to_numpy()), "p_mw"].sum() - gen.sum()
    assert moved == pytest.approx(1.0, abs=1e-9)


def test_old_kpis_and_databases_still_open(tmp_path: Path) -> None:
    """KPIs stored before these fields existed validate (zeros), and a database without the ``balancing``
    table opens read-only and gets the table when a writer opens it."""
    old = SchemeKpis(scheme="CMS", activation_cost_eur=1.0, afrr_energy_mwh=2.0, afrr_cost_eur=3.0,
                     congestion_hours_h=0.0, overload_energy_mwh=0.0, voltage_violation_hours_h=0.0,
                     curtailed_res_mwh=0.0, losses_mwh=0.0, slack_energy_mwh=0.0, slack_cost_eur=0.0)
    raw = json.loads(old.model_dump_json())
    for name in ("afrr_need_energy_mwh", "afrr_up_energy_mwh", "afrr_down_energy_mwh",
                 "afrr_energy_not_served_mwh", "afrr_surplus_not_absorbed_mwh", "afrr_short_steps"):
        raw.pop(name)
    assert SchemeKpis.model_validate(raw).afrr_energy_not_served_mwh == 0.0
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = simdb.make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE balancing")
    engine.dispose()
    ro = simdb.open_read_only(url)
    with ro.connect() as conn:
        assert "balancing" not in sa.inspect(conn).get_table_names()
    ro.dispose()
    assert simdb.read_runs(url) == []
    engine = simdb.make_engine(url)
    with engine.connect() as conn:
        assert "balancing" in sa.inspect(conn).get_table_names()
    engine.dispose()
