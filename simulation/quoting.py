"""How an error message quotes what the user wrote: short, on one line, never the whole input.

Why: an error that echoes a value in full can be megabytes long (issue 18 saw a 9.7 MB line: an Excel
cell's whole content), which floods a terminal or a dialog and hides the message itself. Every error of
the package passes through :func:`shorten_message` (the base error class's ``__str__``), so the ~80 places
that quote a value need no change; :func:`short` is for code that builds a message from a value itself.
``sgam`` keeps its own copy (``sgam`` and ``simulation`` may not import each other); ``cba`` uses this one.
"""

from __future__ import annotations

import re

__all__ = ["MESSAGE_LIMIT", "QUOTE_LIMIT", "short", "shorten_message"]

#: Longest quoted value kept whole, in characters; longer ones end in an ellipsis.
QUOTE_LIMIT = 80
#: Longest error message kept whole, in characters (a message may list several problems).
MESSAGE_LIMIT = 4000

_N = QUOTE_LIMIT + 1
_QUOTED = re.compile(rf"'([^'\n]{{{_N},}})'|\"([^\"\n]{{{_N},}})\"")


def short(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``str(value)`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = str(value).replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _shorten_quoted(match: re.Match[str]) -> str:
    quote = match.group(0)[0]
    inner = match.group(1) if match.group(1) is not None else match.group(2)
    return f"{quote}{short(inner)}{quote}"


def shorten_message(message: str) -> str:
    """``message`` with every quoted value longer than :data:`QUOTE_LIMIT` cut, and the whole message
    cut at :data:`MESSAGE_LIMIT` characters (saying how much was left out)."""
    if len(message) <= QUOTE_LIMIT:
        return message
    message = _QUOTED.sub(_shorten_quoted, message)
    if len(message) > MESSAGE_LIMIT:
        message = f"{message[:MESSAGE_LIMIT]}\u2026 ({len(message) - MESSAGE_LIMIT} more characters)"
    return message
