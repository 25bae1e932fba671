"""The API reference builds from the docstrings (``mkdocs build --strict``, as ``make docs`` runs it) and
lists the public API; ``docs/api-notebooks.md`` documents every frame of :class:`cba.api.Results`.

Reference: the names themselves (``cba.api.__all__`` and the public methods of ``Results``), looked up as
the anchors mkdocstrings writes (``id="coordstudio.cba.api.Results.prices"``) in the built page. Strict mode turns
every warning (a broken link, a docstring mkdocstrings cannot parse) into a failed build.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from coordstudio.cba import api

ROOT = Path(__file__).resolve().parents[2]
FRAME_METHODS = [n for n, f in inspect.getmembers(api.Results, inspect.isfunction)
                 if not n.startswith("_") and n not in ("cba_result", "reappraise")]


def test_reference_builds_strict_and_lists_the_api(tmp_path: Path) -> None:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": path}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in api.__all__:
        assert f'id="coordstudio.cba.api.{name}"' in page, name
    for name in (*FRAME_METHODS, "reappraise", "cba_result"):
        assert f'id="coordstudio.cba.api.Results.{name}"' in page, name
    assert (tmp_path / "site" / "api-notebooks" / "index.html").exists()


def test_notebook_guide_documents_every_frame() -> None:
    guide = (ROOT / "docs" / "api-notebooks.md").read_text(encoding="utf-8")
    assert len(FRAME_METHODS) >= 14
    for name in FRAME_METHODS:
        assert f"`{name}()`" in guide, name
