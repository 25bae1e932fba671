"""The days a study simulates: its representative days and their seed replicates, with their weights.

One function, so ``run``, ``run --resume``, ``cba --results``, the ICT check, the price components and the
notebook API all read the same days with the same weights
(:func:`simulation.scenario.representative_days.simulated_days`). The study's one day
(``representative_days: 0``) simulated with ``seed_replicates: K >= 2`` is split into K replicates of the
days a year the CBA gives it (the sum of ``cba.day_weights_days_per_year``), so the year the weights make
is the study's own (365 or 366 days).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from coordstudio.simulation.scenario.representative_days import RepresentativeDay, simulated_days

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study

__all__ = ["study_days"]


def study_days(study: Study) -> list[RepresentativeDay]:
    """The days ``study`` simulates, each with its weight and seed (empty: its one day, simulated once)."""
    year = math.fsum(study.cba.day_weights_days_per_year.values())
    return simulated_days(study.scenario, year)
