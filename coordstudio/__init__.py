"""Coordination Studio's public Python API: ``import coordstudio as cs`` (``docs/api-notebooks.md``).

Only re-exports (the code lives in :mod:`cba.api`), resolved lazily on first use (PEP 562 module
``__getattr__``): importing ``coordstudio`` or any ``coordstudio.*`` module must not pull in pandas and the
simulation, which would slow every command's start-up.

One import name (issue 19): the distribution used to install ``main``, ``gui``, ``cba``, ``sgam`` and
``simulation`` as top-level packages, so a user's own ``simulation.py`` beside a notebook, or any other
project's ``gui``, shadowed or clashed with ours. The repository keeps its shape (the packages sit at the
top, ``main.py`` is the entry); how each layout reaches ``coordstudio.simulation`` and the others:

* installed wheel: ``pyproject.toml`` maps each top-level folder into this package (setuptools
  ``package-dir``), so ``site-packages/coordstudio/simulation`` is a real folder;
* source checkout: this folder holds symbolic links to the top-level folders and ``main.py``, so Python,
  mypy and editors resolve ``coordstudio.simulation`` to ``simulation/`` without an install;
* a checkout whose file system has no symbolic links (git on Windows without ``core.symlinks``): the
  links are plain files, so the repository root is appended to this package's search path below.
"""

from __future__ import annotations

from pathlib import Path as _Path
from typing import TYPE_CHECKING, Any

if not (_Path(__file__).parent / "simulation").is_dir():  # links checked out as plain files
    __path__.append(str(_Path(__file__).resolve().parent.parent))  # noqa: F821 (module __path__)

if TYPE_CHECKING:
    from coordstudio.cba.api import (
        DEFAULT_STUDY_FILE,
        Results,
        default_study,
        load_study,
        open_results,
        run_study,
    )
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
