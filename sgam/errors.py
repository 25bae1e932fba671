"""Typed errors of the SGAM/ICT package; ``main.py`` maps them to exit code 2.

Messages name the object's id and the field (and the file, sheet, row, column for imports).
"""

from __future__ import annotations

from coordstudio.sgam.quoting import shorten_message


class SgamError(Exception):
    """Base class of every error caused by the user's SGAM/ICT model."""

    def __str__(self) -> str:
        """The message with long quoted values cut (:func:`sgam.quoting.shorten_message`)."""
        return shorten_message(super().__str__())


class SgamValidationError(SgamError):
    """The model refers to something that does not exist, or holds an impossible value."""


class UnservedEventError(SgamError):
    """No technology of the catalogue meets every hard requirement of an interaction event."""


class SgamImportError(SgamError):
    """An Excel workbook could not be imported; the message names sheet, row and column."""


class LibraryError(SgamValidationError):
    """A YAML library file is missing, is not valid YAML, or holds an object the model rejects.

    The message is one line: file, line, object and field of the first problem.
    """
