"""Coordination Studio under one import name: ``coordstudio.sgam``, ``coordstudio.simulation``,
``coordstudio.cba``, ``coordstudio.gui`` and ``coordstudio.main`` (issue 19).

Why one name: the distribution used to install ``main``, ``gui``, ``cba``, ``sgam`` and ``simulation`` as
top-level packages, so a user's own ``simulation.py`` beside a notebook, or any other project's ``gui``,
shadowed or clashed with ours. The repository keeps its shape (the packages sit at the top, ``main.py`` is
the entry); how each layout reaches them:

* installed wheel: ``pyproject.toml`` maps each top-level folder into this package (setuptools
  ``package-dir``), so ``site-packages/coordstudio/simulation`` is a real folder;
* source checkout: this folder holds symbolic links to the top-level folders and ``main.py``, so Python,
  mypy and editors resolve ``coordstudio.simulation`` to ``simulation/`` without an install;
* a checkout whose file system has no symbolic links (git on Windows without ``core.symlinks``): the
  links are plain files, so the repository root is appended to this package's search path below.
"""

from __future__ import annotations

from pathlib import Path as _Path

if not (_Path(__file__).parent / "simulation").is_dir():  # links checked out as plain files
    __path__.append(str(_Path(__file__).resolve().parent.parent))  # noqa: F821 (module __path__)
