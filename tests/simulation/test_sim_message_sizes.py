"""Message sizes from the records each message carries (``simulation.recording.messages``).

Reference: hand calculation from the documented record sizes (``MESSAGE_BYTES`` per record,
``STEP_BYTES`` per time-series point), written out in each docstring.
"""

from __future__ import annotations

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook
from coordstudio.simulation.recording.messages import (
    DEFAULT_RECORD_BYTES,
    MESSAGE_BYTES,
    STEP_BYTES,
    MessageLog,
    log_clearing,
    record_bytes,
)
from coordstudio.simulation.schemes import SCHEMES

# nodes: 0 transmission, 1-3 feeder F1 (DSO1), 4 copper-plate CP1 (DSO2)
AREA_OF_NODE = np.array(["transmission", "F1", "F1", "F1", "CP1"], dtype=object)
DSO_OF_AREA = {"F1": "DSO1", "CP1": "DSO2"}


def _book(n_bids: int, steps: int = 2, node: int = 1, owner: str = "AGG_F1") -> BidBook:
    """``n_bids`` bids of ``owner`` at ``node``, each with a non-zero quantity in every step."""
    return BidBook(
        bid_id=[f"b{i}" for i in range(n_bids)],
        owner=[owner] * n_bids,
        node=np.full(n_bids, node, np.int64),
        node_name=[f"n{node}"] * n_bids,
        direction=np.ones(n_bids, np.int8),
        aggregator=np.zeros(n_bids, np.int64),
        model=["curtailable"] * n_bids,
        pool=np.arange(n_bids, dtype=np.int64),
        gen=np.full(n_bids, -1, np.int64),
        party=[""] * n_bids,
        side=["sell"] * n_bids,
        quantity_mw=np.full((n_bids, steps), 0.5),
        price_eur_per_mwh=np.full((n_bids, steps), 80.0),
        energy_groups={},
        energy_group=[""] * n_bids,
    )


def _rows(log: MessageLog, obj: str) -> list[dict]:
    return [r for r in log.rows if r["information_object"] == obj]


def test_a_clearing_with_n_bids_logs_one_bid_message_of_n_records() -> None:
    """N = 7 bids of one aggregator over 2 steps: one message of 7 x (1000 + 2 x 120) = 8680 B. Two of them
    activated, one in both steps, one in step 0 only: one result message of (600 + 2 x 100) + (600 + 100) =
    1500 B. The TSO's need: one series of 1000 + 2 x 120 = 1240 B."""
    assert (MESSAGE_BYTES["bid"], STEP_BYTES["bid"]) == (1000, 120)
    assert (MESSAGE_BYTES["clearing_result"], STEP_BYTES["clearing_result"]) == (600, 100)
    n = 7
    act = np.zeros((n, 2))
    act[0] = [0.5, 0.5]
    act[3, 0] = 0.2
    log = MessageLog()
    log_clearing(log, 0.0, _book(n), act, SCHEMES["CM"], AREA_OF_NODE, DSO_OF_AREA, horizon_steps=2)
    (bid,) = _rows(log, "bid")
    assert (bid["n_messages"], bid["bytes"]) == (1, n * (1000 + 2 * 120)) == (1, 8680)
    (res,) = _rows(log, "clearing_result")
    assert (res["n_messages"], res["bytes"]) == (1, 1500)
    (need,) = _rows(log, "imbalance_need")
    assert need["bytes"] == 1240
    # a bid with one non-zero step carries one point
    one = _book(1)
    one.quantity_mw[0, 1] = 0.0
    log = MessageLog()
    log_clearing(log, 0.0, one, np.zeros((1, 2)), SCHEMES["CM"], AREA_OF_NODE, DSO_OF_AREA, horizon_steps=2)
    assert _rows(log, "bid")[0]["bytes"] == 1000 + 120
    assert _rows(log, "clearing_result") == []  # nothing activated, no result message


def test_dso_messages_are_sized_by_what_the_dso_area_holds() -> None:
    """CMS, 4 bids in F1 (DSO1), bid 1 activated in both steps: DSO1's pre-qualification result carries 4 x
    200 = 800 B, its activation information (600 + 2 x 100) = 800 B; DSO2 (no bids): one record each, 200
    and 600 B. CM: each DSO's state estimate = nodes x steps x 300 B: DSO1 3 x 2 x 300 = 1800 B, DSO2
    1 x 2 x 300 = 600 B. LMS: aggregated curve = interfaces x 2 directions x 3 points x 2 steps x 120 B =
    1440 B per one-interface DSO; interface activation = 1000 + 2 x 120 = 1240 B."""
    act = np.zeros((4, 2))
    act[1] = [1.0, 1.0]
    log = MessageLog()
    log_clearing(log, 0.0, _book(4), act, SCHEMES["CMS"], AREA_OF_NODE, DSO_OF_AREA, horizon_steps=2)
    pq = {r["sender"]: r["bytes"] for r in _rows(log, "prequal_result")}
    assert pq == {"DMS@DSO1": 800, "DMS@DSO2": 200}
    ai = {r["receiver"]: r["bytes"] for r in _rows(log, "activation_info")}
    assert ai == {"DMS@DSO1": 800, "DMS@DSO2": 600}
    log = MessageLog()
    log_clearing(log, 0.0, _book(4), act, SCHEMES["CM"], AREA_OF_NODE, DSO_OF_AREA, horizon_steps=2)
    se = {r["sender"]: r["bytes"] for r in _rows(log, "state_estimate")}
    assert se == {"DMS@DSO1": 1800, "DMS@DSO2": 600}
    log = MessageLog()
    log_clearing(log, 0.0, _book(4), act, SCHEMES["LMS"], AREA_OF_NODE, DSO_OF_AREA, horizon_steps=2,
                 curve_points=3)
    assert {r["bytes"] for r in _rows(log, "aggregated_curve")} == {2 * 3 * 2 * 120}
    assert {r["bytes"] for r in _rows(log, "interface_activation")} == {1240}


def test_per_pair_totals_and_unknown_objects() -> None:
    """The per-pair KPIs add the message's bytes; an object no table lists is one record of
    DEFAULT_RECORD_BYTES per message (3 messages: 1500 B)."""
    log = MessageLog()
    log.log(0.0, "a", "ra", "b", "rb", "something_new", 3)
    assert log.rows[0]["bytes"] == 3 * DEFAULT_RECORD_BYTES == 1500
    assert record_bytes("bid", 4) == 1000 + 4 * 120
    log.log(0.0, "a", "ra", "b", "rb", "bid", 1, 1234)
    assert log.bytes_by_pair["ra->rb"] == 1500 + 1234
    assert log.messages_by_pair["ra->rb"] == 4
