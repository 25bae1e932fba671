"""The dependency direction of the brief (section 2) holds: ``gui -> cba -> (sgam, simulation)``.

Walks every module's AST (static imports, including those inside functions, so a lazy import cannot hide
a violation) and checks: PySide6 only under ``gui/``; ``sgam`` and ``simulation`` import neither ``cba``
nor ``gui`` nor each other; ``cba`` does not import ``gui``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gui", "sgam", "simulation", "cba")

FORBIDDEN: dict[str, set[str]] = {
    "sgam": {"cba", "gui", "simulation", "PySide6"},
    "simulation": {"cba", "gui", "sgam", "PySide6"},
    "cba": {"gui", "PySide6"},
    "gui": set(),
}


def imported_top_modules(path: Path) -> set[tuple[str, int]]:
    """Top-level names of every absolute import in a file, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add((alias.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def violations(root: Path) -> list[str]:
    """Every import that breaks the dependency direction, as 'file:line imports X'."""
    bad: list[str] = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            for name, line in imported_top_modules(path):
                if name in forbidden:
                    bad.append(f"{path.relative_to(root)}:{line} imports {name}")
    return sorted(bad)


def test_no_import_breaks_the_dependency_direction() -> None:
    assert violations(ROOT) == []


def test_checker_catches_a_planted_violation(tmp_path: Path) -> None:
    """The checker itself can fail: plant PySide6 in simulation/ and cba in sgam/."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "simulation" / "bad.py").write_text("def f():\n    from PySide6 import QtCore\n")
    (tmp_path / "sgam" / "bad.py").write_text("import cba.study\n")
    (tmp_path / "cba" / "ok.py").write_text("import sgam\nimport simulation.kpis\n")
    assert violations(tmp_path) == [
        "sgam/bad.py:1 imports cba",
        "simulation/bad.py:2 imports PySide6",
    ]


@pytest.mark.parametrize("package", ["sgam", "simulation", "cba"])
def test_packages_import_without_qt(package: str) -> None:
    """Importing a non-GUI package must not load PySide6 (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = f"import sys, {package}; import pkgutil, importlib\n" \
           f"print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
