"""The shipped default study on its one ``day_of_year`` (``profiles.representative_days: 0``), for tests.

The shipped default study simulates ``cba.study_file.DEFAULT_REPRESENTATIVE_DAYS`` representative days
(issue 17 item 1), N times the work of one day. A test that runs the default study to check something
other than the days (a chain, a view, a file) runs it on one day, visibly, through this one helper (or
``coordstudio run --days 0`` on the command line), so the suite does not grow N-fold. The days themselves
are tested on their own: ``tests/cba/test_representative_days.py`` (the selection, a multi-day run) and
``tests/cba/test_study.py`` (the shipped study has them, weights summing to 365).
"""

from __future__ import annotations

from coordstudio.cba.study_file import Study, default_study


def one_day(study: Study) -> Study:
    """``study`` simulating its one ``profiles.day_of_year`` (``representative_days: 0``), else unchanged."""
    profiles = study.scenario.profiles.model_copy(update={"representative_days": 0})
    return study.model_copy(update={"scenario": study.scenario.model_copy(update={"profiles": profiles})})


def one_day_default_study() -> Study:
    """The shipped default study on its one ``day_of_year`` (24 June, day 175) instead of its
    representative days."""
    return one_day(default_study())
