"""Whether a study's simulated days sample the year's most loaded evenings (the stress stratum).

The full-year run of the default study (docs/cba.md, "The full year") found lines tripping on six
evenings of the year, worth as much to the alternatives as all their other benefits, and none of them
among 4-16 representative days chosen by clustering. A study's CBA cannot see an event its days do not
contain, so the draft says, from the study itself, whether its days include any day of the stress stratum
(:func:`simulation.scenario.representative_days.stratum_days`: the ``stress_share_frac`` of the year's days
with the highest mean load 17:00-21:00) and how they weight it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study
    from coordstudio.simulation.scenario.representative_days import RepresentativeDay

__all__ = ["StressCoverage", "stress_coverage", "with_stress_coverage"]


class StressCoverage(BaseModel):
    """How a study's simulated days cover the stress stratum of its profile year."""

    model_config = ConfigDict(extra="forbid")

    stress_days: int = Field(description="Days the selection draws from the stratum (profiles.stress_days).")
    stress_share_frac: float = Field(description="Share of the year's days in the stratum, fraction.")
    stratum_days: int = Field(description="Days of the year in the stratum, count.")
    simulated_days: int = Field(description="Days the study simulates (seed replicates not counted).")
    in_stratum: dict[str, float] = Field(
        description="The simulated days that are in the stratum and the days a year each stands for, d/a."
    )


def stress_coverage(study: Study, days: Sequence[RepresentativeDay]) -> StressCoverage | None:
    """The coverage of ``study``'s simulated ``days`` (as :func:`cba.study_days.study_days` gives them,
    seed replicates counted once); None when it simulates no representative days (its one day, or days it
    weights itself) or its profiles hold no year."""
    from coordstudio.simulation.scenario.representative_days import stratum_days, year_profiles

    profiles = study.scenario.profiles
    if profiles.representative_days < 1 or profiles.source != "simbench":
        return None
    year = year_profiles(study.scenario)
    stratum = {i + 1 for i in stratum_days(year, profiles.stress_share_frac, profiles.stress_days)}
    simulated = [d for d in days if d.seed_offset == 0]  # a replicate is its day again, not another day
    weight: dict[int, float] = {}
    for d in days:  # a day's weight is the sum of its replicates' (with_seed_replicates splits it)
        weight[d.day_of_year] = weight.get(d.day_of_year, 0.0) + d.weight_days
    return StressCoverage(
        stress_days=profiles.stress_days,
        stress_share_frac=profiles.stress_share_frac,
        stratum_days=len(stratum),
        simulated_days=len(simulated),
        in_stratum={d.day_id: weight[d.day_of_year] for d in simulated if d.day_of_year in stratum},
    )


Result = TypeVar("Result", bound=BaseModel)
"""A :class:`cba.analysis.CbaResult` (named through a type variable: analysis imports this module)."""


def with_stress_coverage(result: Result, study: Study, days: Sequence[RepresentativeDay]) -> Result:
    """``result`` (a CbaResult) with the coverage of the study's simulated ``days`` recorded: what ``run``,
    ``cba`` and the notebook API do after :func:`cba.analysis.run_cba`, which sees KPIs, not the days'
    selection."""
    if not days:
        return result
    return result.model_copy(update={"stress_coverage": stress_coverage(study, days)})

