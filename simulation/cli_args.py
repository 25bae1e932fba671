"""Argument types for the command lines: numbers that are finite and inside their range.

Why: ``type=float`` lets ``nan``, ``inf`` and ``-1`` through to code that loops, divides or sizes arrays
by them (``simulate --hours nan`` ended in a traceback). Each numeric option names its bounds here, and
argparse turns a refusal into one line and exit code 2. A leaf module: it imports only the standard
library, so every command line (``simulation``, ``simulation.market``, ``cba``) may use it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def number(
    kind: type[int] | type[float],
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> Callable[[str], float]:
    """An argparse ``type``: a finite ``kind`` in [``low``, ``high``] (``(low, high]`` if ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if kind is int else float(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text[:40]!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text[:40]!r}")
        if low is not None and (value < low or (low_open and value == low)):
            relation = "above" if low_open else "at least"
            raise argparse.ArgumentTypeError(f"must be {relation} {low:g}, got {text[:40]}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, got {text[:40]}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid <name> value" messages
    return parse
