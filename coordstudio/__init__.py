"""Coordination Studio's public Python API: ``import coordstudio as cs`` (``docs/api-notebooks.md``).

Only re-exports (the code lives in :mod:`cba.api`), resolved lazily on first use (PEP 562 module
``__getattr__``): importing ``coordstudio`` or any ``coordstudio.*`` module must not pull in pandas and the
simulation, which would slow every command's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coordstudio.cba.api import DEFAULT_STUDY_FILE, Results, default_study, load_study, open_results, run_study
    from coordstudio.main import __version__

__all__ = [
    "DEFAULT_STUDY_FILE",
    "Results",
    "__version__",
    "default_study",
    "load_study",
    "open_results",
    "run_study",
]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from coordstudio.cba import api

        return getattr(api, name)
    if name == "__version__":
        from coordstudio.main import __version__

        return __version__
    raise AttributeError(f"module 'coordstudio' has no attribute {name!r}")
