"""Typed errors of the study and cost-benefit layer; ``main.py`` maps them to exit code 2."""

from __future__ import annotations

from coordstudio.cba.quoting import shorten_message


class StudyError(Exception):
    """A study file cannot be read, parsed, validated or migrated; the message names file and field."""

    def __str__(self) -> str:
        """The message with long quoted values cut (:func:`cba.quoting.shorten_message`)."""
        return shorten_message(super().__str__())


class CbaError(Exception):
    """Cost-benefit inputs are inconsistent (negative lifetime, weights not summing to a year, ...)."""

    def __str__(self) -> str:
        """The message with long quoted values cut (:func:`cba.quoting.shorten_message`)."""
        return shorten_message(super().__str__())
