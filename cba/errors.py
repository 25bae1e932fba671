"""Typed errors of the study and cost-benefit layer; ``main.py`` maps them to exit code 2."""

from __future__ import annotations


class StudyError(Exception):
    """A study file cannot be read, parsed, validated or migrated; the message names file and field."""


class CbaError(Exception):
    """Cost-benefit inputs are inconsistent (negative lifetime, weights not summing to a year, ...)."""
