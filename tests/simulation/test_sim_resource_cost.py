"""Resource cost, payments and congestion rent of a clearing (issue 16 item 4), against hand computation.

Independent reference: the definitions worked by hand on a two-node, two-step clearing (numbers in the
test), and the KPI records written before the resource cost existed still load.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from coordstudio.simulation.bidding.aggregators import BidBook
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.recording.kpi_accumulator import KpiAccumulator

PENALTY = 3000.0


def _book() -> BidBook:
    """Three bids over two steps: an upward seller at A (40 EUR/MWh), a downward seller at B (bid -10:
    it pays 10 EUR/MWh to reduce), an upward buyer at A (commercial, IFM)."""
    return BidBook(
        bid_id=["up@A", "down@B", "buy@A"],
        owner=["AGG1", "AGG2", "CP0"],
        node=np.array([0, 1, 0], dtype=np.int64),
        node_name=["A", "B", "A"],
        direction=np.array([1, -1, 1], dtype=np.int8),
        aggregator=np.array([0, 1, -2], dtype=np.int64),
        model=["storage", "tcl", "commercial"],
        pool=np.array([0, 1, -1], dtype=np.int64),
        gen=np.array([-1, -1, 0], dtype=np.int64),
        party=["bsp", "bsp", "commercial"],
        side=["sell", "sell", "buy"],
        quantity_mw=np.full((3, 2), 10.0),
        price_eur_per_mwh=np.array([[40.0, 40.0], [-10.0, -10.0], [90.0, 90.0]]),
        energy_groups={},
        energy_group=["", "", ""],
    )


def test_resource_cost_payments_and_rent_by_hand() -> None:
    """Firm step 0 only (n_firm = 1), dt = 0.5 h; prices A = 50, B = 30 EUR/MWh in step 0.

    resource = 4 MW x 40 x 0.5 + 2 MW x (-10) x 0.5 = 80 - 10 = 70 EUR
    paid     = 4 x (+1 x 50) x 0.5 + 2 x (-1 x 30) x 0.5 = 100 - 30 = 70 EUR
    bought   = need 3 MW at A x 50 x 0.5 + buyer 1 MW up at A x 50 x 0.5 = 75 + 25 = 100 EUR
    rent     = 100 - 70 = 30 EUR
    (step 1 is advisory and counts nothing; a need at a penalty-priced node is left out.)
    """
    a = np.array([[4.0, 9.0], [2.0, 9.0], [1.0, 9.0]])
    prices = {("A", 0): 50.0, ("B", 0): 30.0, ("A", 1): 55.0, ("B", 1): 35.0, ("C", 0): PENALTY}
    result = SimpleNamespace(slack=pd.DataFrame(columns=["node", "step", "slack_up_mw", "slack_down_mw"]))
    acc = KpiAccumulator()
    money = acc.add_clearing(
        _book(), result, a, prices, 1, 0.5, PENALTY, np.array(["F1", "F1"]),
        needs_mw={"A": np.array([3.0, 7.0]), "C": 5.0},
    )
    assert money.resource_cost_eur == pytest.approx(70.0)
    assert money.payment_eur == pytest.approx(70.0)
    assert money.buyer_payment_eur == pytest.approx(100.0)
    k = acc.to_kpis("CMS", "d", 24.0, {}, {})
    assert k.resource_cost_eur == pytest.approx(70.0)
    assert k.activation_cost_eur == pytest.approx(70.0)
    assert k.buyer_payments_eur == pytest.approx(100.0)
    assert k.need_payments_eur == pytest.approx(75.0)
    assert k.congestion_rent_eur == pytest.approx(30.0)


def test_seller_at_a_penalty_price_is_paid_its_bid() -> None:
    """Where the nodal price is the slack penalty's, the seller's payment is its own bid (not 3000):
    payment = resource there."""
    a = np.array([[4.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    result = SimpleNamespace(slack=pd.DataFrame(columns=["node", "step", "slack_up_mw", "slack_down_mw"]))
    acc = KpiAccumulator()
    money = acc.add_clearing(_book(), result, a, {("A", 0): PENALTY}, 1, 0.5, PENALTY, np.array(["F1", "F1"]))
    assert money.payment_eur == pytest.approx(80.0) and money.resource_cost_eur == pytest.approx(80.0)
    assert money.buyer_payment_eur == 0.0


def test_older_kpi_records_take_the_payments_as_resource_cost() -> None:
    """A record written before ``resource_cost_eur`` existed (old database, kpis.csv) still loads; its
    payments stand in for the resource cost, so it ranks as it did."""
    old = {
        "scheme": "CMS", "activation_cost_eur": 123.0, "afrr_energy_mwh": 0.0, "afrr_cost_eur": 0.0,
        "congestion_hours_h": 0.0, "overload_energy_mwh": 0.0, "voltage_violation_hours_h": 0.0,
        "curtailed_res_mwh": 0.0, "losses_mwh": 0.0, "slack_energy_mwh": 0.0, "slack_cost_eur": 0.0,
    }
    k = SchemeKpis.model_validate(old)
    assert k.resource_cost_eur == 123.0
    assert SchemeKpis.model_validate({**old, "resource_cost_eur": 100.0}).resource_cost_eur == 100.0


def test_an_older_database_gains_the_money_columns(tmp_path: Path) -> None:
    """A results database written before the resource-cost columns existed opens for writing: the
    writer adds the columns (its older rows read None), and a reader of the older file is not refused."""
    import sqlite3

    import sqlalchemy as sa

    from coordstudio.simulation import db

    path = tmp_path / "old.sqlite"
    url = f"sqlite:///{path}"
    db.make_engine(url).dispose()  # today's schema ...
    con = sqlite3.connect(path)  # ... made old: the clearings and activations tables as they were
    con.execute("DROP TABLE clearings")
    con.execute(
        "CREATE TABLE clearings (id INTEGER PRIMARY KEY, run_id INTEGER, clearing INTEGER, time_min FLOAT, "
        "status VARCHAR(300), objective_eur FLOAT, activation_cost_eur FLOAT, slack_energy_mwh FLOAT, "
        "n_bids INTEGER, n_activated INTEGER, build_time_s FLOAT, solve_time_s FLOAT)"
    )
    con.execute("INSERT INTO clearings (run_id, clearing, activation_cost_eur) VALUES (1, 0, 5.0)")
    con.execute("ALTER TABLE activations DROP COLUMN bid_price_eur_per_mwh")
    con.commit()
    con.close()
    assert db.read_runs(url) == []  # a reader opens the old file as it is
    engine = db.make_engine(url)  # a writer brings it up to date
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("clearings")}
        assert {"resource_cost_eur", "payment_eur", "buyer_payment_eur"} <= cols
        assert "bid_price_eur_per_mwh" in {c["name"] for c in sa.inspect(conn).get_columns("activations")}
        row = conn.execute(sa.text("SELECT activation_cost_eur, resource_cost_eur FROM clearings")).one()
        assert tuple(row) == (5.0, None)
    engine.dispose()
