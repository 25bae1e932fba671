"""The ``clear`` command on the shipped example cases, and the bid file formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.market import (
    Bid,
    BidTable,
    EnergyConstraint,
    read_bids_csv,
    read_bids_json,
    write_bids_csv,
    write_bids_json,
)
from coordstudio.simulation.market.casefile import load_case

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "market"


def test_clear_command_writes_the_three_files(tmp_path: Path) -> None:
    """Reference: the two-node congestion case by hand (LMPs 20 and 60 EUR/MWh, cost 2800 EUR)."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "clear",
            str(EXAMPLES / "two_node_congestion.json"),
            "--scheme",
            "CM",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    prices = pd.read_csv(out / "prices.csv")
    assert dict(zip(prices.node, prices.price_eur_per_mwh, strict=True)) == pytest.approx(
        {"A": 20.0, "B": 60.0}
    )
    acts = pd.read_csv(out / "activations.csv")
    assert dict(zip(acts.bid_id, acts.activation_mw, strict=True)) == pytest.approx({"a": 50.0, "b": 30.0})
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["objective_eur"] == pytest.approx(2800.0)


def test_clear_command_bad_case_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "transmission": {"nodes": ["A"]},
                "bids": {
                    "bids": [
                        {
                            "bid_id": "x",
                            "node": "Z",
                            "direction": "up",
                            "steps": [{"step": 0, "quantity_mw": 1, "price_eur_per_mwh": 1}],
                        }
                    ]
                },
                "timing": {"horizon_steps": 1},
            }
        )
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "clear",
            str(bad),
            "--scheme",
            "CM",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "'node' = 'Z'" in proc.stderr


def test_example_feeder_case_loads_and_clears() -> None:
    from coordstudio.simulation.market import clear

    case = load_case(EXAMPLES / "tso_case33bw.json")
    assert case.distribution[0].n_nodes == 33 and case.bids.energy_constraints["hp1"].max_mwh == 0.0
    cm = clear(case, "CM")
    assert cm.status == "optimal" and cm.max_cone_violation < 1e-6
    cms = clear(case, "CMS")
    assert cms.status == "optimal" and cms.voltages.empty  # CMS does not model the feeder


def test_bid_files_round_trip(tmp_path: Path) -> None:
    bids = BidTable.from_bids(
        [
            Bid.simple("u", "N", "up", [1.0, 2.0], [10.0, 11.0], energy_group="g", ramp_mw_per_step=0.5),
            Bid.simple(
                "d",
                "N",
                "down",
                [0.0, 3.0],
                [0.0, -4.0],
                fill_or_kill=True,
                min_duration_steps=2,
                energy_group="g",
            ),
            Bid.simple(
                "r", "N", "up", [5.0, 5.0], [90.0, 90.0], side="buy", party="commercial", exclusive_group="x"
            ),
        ],
        2,
        [EnergyConstraint("g", 0.0, 0.0)],
    )
    write_bids_json(bids, tmp_path / "b.json")
    write_bids_csv(bids, tmp_path / "b.csv")
    pd.DataFrame({"group": ["g"], "min_mwh": [0.0], "max_mwh": [0.0]}).to_csv(tmp_path / "e.csv", index=False)
    for back in (
        read_bids_json(tmp_path / "b.json"),
        read_bids_csv(tmp_path / "b.csv", 2, tmp_path / "e.csv"),
    ):
        assert list(back.bid_id) == ["u", "d", "r"]
        np.testing.assert_allclose(back.quantity_mw, bids.quantity_mw)
        np.testing.assert_allclose(back.price_eur_per_mwh, bids.price_eur_per_mwh)
        assert list(back.fill_or_kill) == [False, True, False] and list(back.is_buy) == [False, False, True]
        assert back.ramp_mw_per_step[0] == 0.5 and np.isinf(back.ramp_mw_per_step[1])
        assert back.min_duration_steps[1] == 2 and back.exclusive_group[2] == "x"
        assert back.energy_constraints["g"].min_mwh == 0.0


def test_bad_csv_is_named(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text("bid_id,node,direction,step,quantity_mw\nx,N,up,0,1\n")
    with pytest.raises(MarketError, match=r"b\.csv: required column 'price_eur_per_mwh'"):
        read_bids_csv(p)
    p.write_text("bid_id,node,direction,step,quantity_mw,price_eur_per_mwh\nx,N,up,0,-1,5\n")
    with pytest.raises(MarketError, match="bid 'x'.*negative"):
        read_bids_csv(p)
