"""Shared fixtures of the market tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coordstudio.simulation.market import highs_blocks as hbm


@pytest.fixture
def count_milp_runs(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """Call it to start counting HiGHS runs of a model with integral binaries (MIP solves) from that point
    of the test on; the returned one-element list holds the count."""

    def start() -> list[int]:
        n = [0]
        run = hbm.HighsBlocks.run

        def counted(self: hbm.HighsBlocks, *a: Any, **k: Any) -> None:
            if self.integral:
                n[0] += 1
            run(self, *a, **k)

        monkeypatch.setattr(hbm.HighsBlocks, "run", counted)
        return n

    return start
