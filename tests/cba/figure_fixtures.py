"""A small results folder as ``coordstudio run --out`` leaves it, built by hand in well under a second:
``kpis.csv`` and ``cba_result.json`` of two schemes (the CBA run on :mod:`cba_fixtures`' KPIs) and a
``results.sqlite`` with four quarter-hour clearings at three nodes, whose prices are chosen so that the
charts' statistics can be checked by hand:

* CMS prices 40, 42, 44 EUR/MWh at nodes n1, n2, n3 in every clearing (mean 42, range 40..44);
* CM prices 40, 45, 50 (mean 45, range 40..50); the energy component 40 everywhere, the rest of each
  price its voltage component (CMS 0, 2, 4; CM 0, 5, 10);
* one firm activation per clearing, +1.5 MW (CMS) and -2.0 MW (CM); voltages 0.97..1.03 p.u.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from coordstudio.cba.analysis import run_cba
from coordstudio.cba.outputs import write_kpis_csv
from coordstudio.simulation import db as simdb
from coordstudio.simulation.kpis import SchemeKpis

SCHEMES = ("CMS", "CM")
NODE_PRICES = {"CMS": (40.0, 42.0, 44.0), "CM": (40.0, 45.0, 50.0)}
"""EUR/MWh at nodes n1, n2, n3, the same in each of the four clearings."""
ACTIVATION_MW = {"CMS": 1.5, "CM": -2.0}
TIMES_MIN = (0.0, 15.0, 30.0, 45.0)


def write_results_dir(folder: Path) -> Path:
    """Write the three inputs of ``coordstudio figures`` into ``folder`` and return it."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from cba_fixtures import make_ict, make_kpis, make_params

    folder.mkdir(parents=True, exist_ok=True)
    kpis = [k for k in make_kpis({"default": 365.0}) if k.scheme in SCHEMES]
    params = make_params(day_weights_days_per_year={"default": 365.0}, reference_scheme="CMS",
                         monte_carlo_samples=200)
    ict = {s: c for s, c in make_ict().items() if s in SCHEMES}
    write_kpis_csv(kpis, folder / "kpis.csv")
    (folder / "cba_result.json").write_text(run_cba(params, kpis, ict).model_dump_json(), encoding="utf-8")
    _write_database(f"sqlite:///{(folder / 'results.sqlite').resolve()}")
    return folder


def _write_database(url: str) -> None:
    engine = simdb.make_engine(url)
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as conn:
        for run_id, scheme in enumerate(SCHEMES, start=1):
            conn.execute(sa.insert(simdb.runs).values(
                run_id=run_id, scheme=scheme, fingerprint="f", scenario="hand-built", status="completed",
                started_at=now, updated_at=now, finished_at=now, n_clearings=len(TIMES_MIN), spec_json="{}"))
            for clearing, t in enumerate(TIMES_MIN):
                conn.execute(sa.insert(simdb.clearings).values(
                    run_id=run_id, clearing=clearing, time_min=t, status="optimal",
                    activation_cost_eur=10.0 * run_id, slack_energy_mwh=0.0, n_activated=1))
                conn.execute(sa.insert(simdb.activations).values(
                    run_id=run_id, clearing=clearing, bid_id="b", step=0, firm=True,
                    activation_mw=ACTIVATION_MW[scheme]))
                for node, price in zip(("n1", "n2", "n3"), NODE_PRICES[scheme], strict=True):
                    conn.execute(sa.insert(simdb.prices).values(
                        run_id=run_id, clearing=clearing, node=node, step=0, price_eur_per_mwh=price,
                        energy_eur_per_mwh=40.0, congestion_eur_per_mwh=0.0, losses_eur_per_mwh=0.0,
                        current_eur_per_mwh=0.0, voltage_eur_per_mwh=price - 40.0))
                    vm_pu = 0.97 + 0.03 * ("n1", "n2", "n3").index(node)
                    conn.execute(sa.insert(simdb.measurements).values(
                        run_id=run_id, time_min=t, node=node, vm_pu=vm_pu))
    engine.dispose()


def two_day_afrr_kpis() -> list[SchemeKpis]:
    """KPIs of two made-up representative days, aFRR cost only (every other summed KPI 0): day a over 24 h,
    day b over 12 h; CMS 10 and 4 EUR, CM 20 and 6 EUR. With weights a 300 and b 65 d/a the yearly
    amounts are, by hand, CMS 300*10 + 65*4*2 = 3520 EUR/a and CM 6000 + 780 = 6780 EUR/a."""
    afrr = {("CMS", "a"): 10.0, ("CMS", "b"): 4.0, ("CM", "a"): 20.0, ("CM", "b"): 6.0}
    zero = dict.fromkeys(("activation_cost_eur", "afrr_energy_mwh", "congestion_hours_h",
                          "overload_energy_mwh", "voltage_violation_hours_h", "curtailed_res_mwh",
                          "losses_mwh", "slack_energy_mwh", "slack_cost_eur"), 0.0)
    return [SchemeKpis(scheme=s, day=d, duration_h=24.0 if d == "a" else 12.0, afrr_cost_eur=v, **zero)
            for (s, d), v in afrr.items()]

