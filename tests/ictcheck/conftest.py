"""Fixtures of the ICT-check tests (helpers live in ``ictcheck_fixtures.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ictcheck_fixtures import results_db_factory


@pytest.fixture
def results_db(tmp_path: Path) -> Callable[..., str]:
    """Factory writing a run into a fresh SQLite results database (see ``results_db_factory``)."""
    return results_db_factory(tmp_path)
