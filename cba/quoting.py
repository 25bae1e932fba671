"""How an error message of ``cba`` quotes what the user wrote: short, on one line, never the whole input.

The simulation package's implementation (``cba`` may import ``simulation``; ``sgam`` keeps its own copy
because it may not): every error passes through :func:`shorten_message` (the base error class's
``__str__``); :func:`short` is for code that builds a message from a value itself.
"""

from __future__ import annotations

from coordstudio.simulation.quoting import MESSAGE_LIMIT, QUOTE_LIMIT, short, shorten_message

__all__ = ["MESSAGE_LIMIT", "QUOTE_LIMIT", "short", "shorten_message"]
