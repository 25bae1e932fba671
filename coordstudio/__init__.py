"""Coordination Studio's public Python API: ``import coordstudio as cs``.

Only re-exports (the code lives in :mod:`cba.api`), so this file stays tiny while the packages move under
the ``coordstudio.*`` namespace.
"""

from cba.api import DEFAULT_STUDY_FILE, Results, default_study, load_study, open_results, run_study
from main import __version__

__all__ = [
    "DEFAULT_STUDY_FILE",
    "Results",
    "__version__",
    "default_study",
    "load_study",
    "open_results",
    "run_study",
]
