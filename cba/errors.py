"""Typed errors of the study and cost-benefit layer; ``main.py`` maps them to exit code 2.
Engineers: read /work/main/CONTRIBUTING.md first (shared venv /work/main/.venv, commit only your own
paths, deadline 07:50 UTC for your final report, do not edit pyproject.toml/Makefile/main.py).
"""

from __future__ import annotations


class StudyError(Exception):
    """A study file cannot be read, parsed, validated or migrated; the message names file and field."""


class CbaError(Exception):
    """Cost-benefit inputs are inconsistent (negative lifetime, weights not summing to a year, ...)."""
