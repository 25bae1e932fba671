"""The ICT check flags a link whose messages are larger than the SGAM design's payload.

Reference: hand calculation on the hand-built log of ``ictcheck_fixtures.py``: E1 (link L1, stated
``order`` 1000 B) carries p95 1500 B, ratio 1.5 > 1.1 (tolerance 10 %): L1 flagged with [E1]; E2 (link L2,
stated ``result`` 5000 B) carries 500 B, ratio 0.1: L2 not flagged. E3 (L1) is never observed and does
not count.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ictcheck_fixtures import small_study

from coordstudio.cba.ictcheck import ict_check


def test_link_with_messages_above_the_design_payload_is_flagged(results_db: Callable[..., str]) -> None:
    study = small_study()
    links = {lk.link_id: lk for lk in ict_check(study, results_db(study)).links}
    assert links["L1"].payload_exceeds_design is True
    assert links["L1"].oversized_event_ids == ["E1"]
    assert links["L1"].max_payload_ratio == pytest.approx(1.5, rel=1e-12)
    assert links["L2"].payload_exceeds_design is False
    assert links["L2"].oversized_event_ids == []
    assert links["L2"].max_payload_ratio == pytest.approx(0.1, rel=1e-12)


def test_messages_at_the_design_payload_are_not_flagged(results_db: Callable[..., str]) -> None:
    """1000 B orders on L1 (stated 1000 B): ratio 1.0, not flagged; L2 has no message: ratio None."""
    study = small_study()
    rows = [dict(time_min=t, sender=f"cp{k}", sender_role="cp_platform", receiver="tso",
                 receiver_role="tso_market", information_object="order", n_messages=1, bytes=1000)
            for t in (0.0, 15.0, 30.0, 45.0) for k in range(4)]
    links = {lk.link_id: lk for lk in ict_check(study, results_db(study, rows)).links}
    assert links["L1"].payload_exceeds_design is False
    assert links["L1"].max_payload_ratio == pytest.approx(1.0, rel=1e-12)
    assert links["L2"].max_payload_ratio is None
