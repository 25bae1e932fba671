"""The architecture rules of the brief (section 2) hold, checked statically on every module's AST.

* Dependency direction ``gui -> cba -> (sgam, simulation)``: PySide6 only under ``gui/``; ``sgam`` and
  ``simulation`` import neither ``cba`` nor ``gui`` nor each other; ``cba`` does not import ``gui``.
* No import circles between the modules of the four packages.
* No module-level mutable state written after import (results go back in return values).

Imports inside functions count too, so a lazy import cannot hide a violation. Each checker has a test
that plants violations in a temporary tree and asserts they are caught, so a checker that silently
stopped working would fail.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
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


NAMESPACE = "coordstudio"  # the one import name the packages are installed under (issue 19)


def _unprefixed(name: str) -> str:
    """``coordstudio.cba.study`` -> ``cba.study``: the rules below speak of the repository's folders."""
    return name.removeprefix(NAMESPACE + ".")


def imported_top_modules(path: Path) -> set[tuple[str, int]]:
    """Top-level names of every absolute import in a file, with line numbers (``coordstudio.`` stripped;
    ``from coordstudio import cba`` counts as importing ``cba``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add((_unprefixed(alias.name).split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == NAMESPACE:
                found.update((alias.name, node.lineno) for alias in node.names)
            else:
                found.add((_unprefixed(node.module).split(".")[0], node.lineno))
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


def unprefixed_imports(root: Path) -> list[str]:
    """Every absolute import of one of our packages (or ``main``) without the ``coordstudio.`` prefix, in
    the packages, ``main.py``, the tests and the benchmarks. Such an import would load a second copy of
    the module under another name in a checkout (two ``Study`` classes, two sets of module constants) and
    fail outright in an installed wheel, where only ``coordstudio.*`` exists."""
    ours = {*PACKAGES, "main"}
    files = [root / "main.py", root / "conftest.py"]
    for folder in (*PACKAGES, "tests", "benchmarks"):
        files += sorted((root / folder).rglob("*.py"))
    bad: list[str] = []
    for path in files:
        if not path.is_file() or path.resolve() == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            bad += [f"{path.relative_to(root)}:{node.lineno} imports {n}" for n in names
                    if n.split(".")[0] in ours]
    return sorted(bad)


def test_every_import_uses_the_one_import_name() -> None:
    assert unprefixed_imports(ROOT) == []


def test_unprefixed_import_checker_catches_a_planted_import(tmp_path: Path) -> None:
    for folder in (*PACKAGES, "tests"):
        (tmp_path / folder).mkdir()
    (tmp_path / "main.py").write_text("from coordstudio.cba import study\n")
    (tmp_path / "tests" / "test_x.py").write_text("import numpy\n\ndef f():\n    import simulation.kpis\n")
    (tmp_path / "cba" / "x.py").write_text("from coordstudio import sgam\nfrom main import main\n")
    assert unprefixed_imports(tmp_path) == ["cba/x.py:2 imports main", "tests/test_x.py:4 imports simulation.kpis"]


def test_checker_catches_a_planted_violation(tmp_path: Path) -> None:
    """The checker itself can fail: plant PySide6 in simulation/ and cba in sgam/."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "simulation" / "bad.py").write_text("def f():\n    from PySide6 import QtCore\n")
    (tmp_path / "sgam" / "bad.py").write_text("import cba.study\n")
    (tmp_path / "cba" / "ok.py").write_text("import sgam\nimport simulation.kpis\n")
    (tmp_path / "simulation" / "bad2.py").write_text("from coordstudio.cba import study\nfrom coordstudio import gui\n")
    assert violations(tmp_path) == [
        "sgam/bad.py:1 imports cba",
        "simulation/bad.py:2 imports PySide6",
        "simulation/bad2.py:1 imports cba",
        "simulation/bad2.py:2 imports gui",
    ]


@pytest.mark.parametrize("package", ["sgam", "simulation", "cba"])
def test_packages_import_without_qt(package: str) -> None:
    """Importing a non-GUI package must not load PySide6 (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = f"import sys, coordstudio.{package}; import pkgutil, importlib\n" \
           f"print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------- import circles


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages (a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """``name`` if it is one of our modules, else its nearest ancestor that is (None outside the packages)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(module: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """Our modules that ``module`` imports anywhere in its file (also inside functions and
    ``if TYPE_CHECKING:``: a circle a type checker or a lazy import walks is still a circle).

    ``import a.b`` imports ``a.b``; ``from a import n`` imports ``a.n`` when that is a module, else ``a``
    (its ``__init__``); relative imports are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [_unprefixed(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = "" if node.module == NAMESPACE else _unprefixed(node.module or "")
            for alias in node.names:
                submodule = f"{source}.{alias.name}" if source else alias.name
                targets.append(submodule if submodule in modules else source)
        for target in targets:
            known = _known(target, modules)
            if known is not None and known != module:
                found.add(known)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the four packages it imports."""
    modules = module_files(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def import_circles(root: Path) -> list[list[str]]:
    """Every import circle, as one closed path ``[a, b, ..., a]`` per strongly connected component.

    Tarjan's algorithm finds the components with more than one module; within each, a breadth-first
    search gives the shortest circle through its first module, which is what a reader has to break.
    """
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    circles = []
    for component in sorted(components):
        start, members = component[0], set(component)
        previous: dict[str, str] = {}
        queue = [start]
        while queue and start not in previous:
            v = queue.pop(0)
            for w in sorted(graph[v] & members):
                if w not in previous:
                    previous[w] = v
                    queue.append(w)
        path = [start]
        v = previous[start]
        while v != start:
            path.append(v)
            v = previous[v]
        circles.append([start, *reversed(path[1:]), start])
    return circles


def test_no_import_circles() -> None:
    """No module of gui/sgam/simulation/cba imports (directly or through others) a module that imports it."""
    assert [" -> ".join(c) for c in import_circles(ROOT)] == []


def test_circle_checker_catches_planted_circles(tmp_path: Path) -> None:
    """Absolute, relative, ``from package import module``, in-function and TYPE_CHECKING imports all count;
    ``from package import NAME`` of a non-module points at the package, and an acyclic chain is fine."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "cba" / "a.py").write_text("import cba.b\n")
    (tmp_path / "cba" / "b.py").write_text("def f():\n    from . import a\n")
    (tmp_path / "sgam" / "x.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sgam.y import Y\n"
    )
    (tmp_path / "sgam" / "y.py").write_text("from sgam import z\n")
    (tmp_path / "sgam" / "z.py").write_text("from .x import X\n")
    (tmp_path / "simulation" / "__init__.py").write_text("from simulation.core import run\n")
    (tmp_path / "simulation" / "core.py").write_text("import numpy\n")
    (tmp_path / "simulation" / "user.py").write_text("from simulation import core, VERSION\n")
    assert import_circles(tmp_path) == [
        ["cba.a", "cba.b", "cba.a"],
        ["sgam.x", "sgam.y", "sgam.z", "sgam.x"],
    ]
    assert import_graph(tmp_path)["simulation.user"] == {"simulation", "simulation.core"}


# ------------------------------------------------------------------------ module state written after import

#: Calls that build a mutable container: a module-level name bound to one of these is watched.
MUTABLE_FACTORIES = frozenset({
    "dict", "list", "set", "bytearray", "defaultdict", "OrderedDict", "Counter", "deque", "ChainMap",
    "WeakKeyDictionary", "WeakValueDictionary", "WeakSet",
})
#: Methods that change a container in place.
MUTATING_METHODS = frozenset({
    "append", "appendleft", "extend", "extendleft", "insert", "remove", "pop", "popleft", "popitem",
    "clear", "update", "setdefault", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "sort", "reverse", "rotate", "__setitem__", "__delitem__",
})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _is_mutable_value(node: ast.expr | None) -> bool:
    if isinstance(node, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    return _factory_name(node) in MUTABLE_FACTORIES


def _factory_name(node: ast.expr | None) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return ""


def _module_containers(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names the module binds, at import time, to a mutable container (``__all__`` excepted), and those
    of them that are ``defaultdict`` (where even reading a missing key inserts it)."""
    names: set[str] = set()
    defaultdicts: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        bound: list[str] = []
        if isinstance(stmt, ast.Assign) and _is_mutable_value(stmt.value):
            bound = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and _is_mutable_value(
            stmt.value
        ):
            bound = [stmt.target.id]
        names.update(bound)
        if _factory_name(getattr(stmt, "value", None)) == "defaultdict":
            defaultdicts.update(bound)
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(getattr(stmt, field, []))
    return names - {"__all__"}, defaultdicts


def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[set[str], set[str]]:
    """(names local to a function, names it declares ``global``), nested functions and classes aside."""
    args = fn.args
    local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    local |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global: set[str] = set()
    pending: list[ast.AST] = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
        pending.extend(ast.iter_child_nodes(node))
    return local - declared_global, declared_global


def _root_name(node: ast.expr) -> str | None:
    """``X`` of ``X``, ``X[k]``, ``X[k][j]`` (None for anything else, e.g. ``obj.attr``)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def module_state_writes(path: Path) -> list[str]:
    """Every place a function of ``path`` writes module-level state, as 'file:line: what'.

    Caught: ``global X`` followed by a (re)binding or ``del`` of ``X`` (any value), and, for a module-level
    name bound to a mutable container, ``X[k] = ...``, ``X[k][j] += ...``, ``del X[k]``, ``X.append(...)``
    (and every other in-place method of :data:`MUTATING_METHODS`) and, for a ``defaultdict``, any
    ``X[k]`` (the read inserts the key). A method called on an *item* (``X[k].insert()``) is not reported:
    the item's type is unknown (a SQLAlchemy table's ``insert()`` builds a statement). A name a function
    binds itself (parameter, assignment, import, loop variable) is local and never reported; neither is
    the module's own import-time code filling its tables.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    containers, defaultdicts = _module_containers(tree)
    found: list[str] = []

    def visit(
        nodes: Sequence[ast.AST], scopes: list[set[str]], declared: set[str] | None, where: str
    ) -> None:
        for node in nodes:
            if isinstance(node, _FUNCTIONS):
                local, declared_global = _local_names(node)
                name = getattr(node, "name", "<lambda>")
                body = node.body if isinstance(node.body, list) else [node.body]
                visit([*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None],
                       *getattr(node, "decorator_list", [])], scopes, declared, where)
                visit(body, [*scopes, local], declared_global, name)
                continue
            if declared is not None:  # inside a function: code that runs after import
                check(node, scopes, declared, where)
            visit(list(ast.iter_child_nodes(node)), scopes, declared, where)

    def is_module_container(name: str | None, scopes: list[set[str]], declared: set[str]) -> bool:
        if name is None or name not in containers:
            return False
        return name in declared or not any(name in scope for scope in scopes)

    def check(node: ast.AST, scopes: list[set[str]], declared: set[str], where: str) -> None:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in declared:
            found.append(f"{path}:{line}: {where}() rebinds the module global {node.id}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = _root_name(node)
            if is_module_container(root, scopes, declared):
                verb = "deletes an item of" if isinstance(node.ctx, ast.Del) else "writes an item of"
                found.append(f"{path}:{line}: {where}() {verb} the module-level {root}")
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in defaultdicts
            and is_module_container(node.value.id, scopes, declared)
        ):
            found.append(f"{path}:{line}: {where}() reads (so inserts) a key of the module-level defaultdict "
                         f"{node.value.id}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in MUTATING_METHODS
        ):
            root = node.func.value.id
            if is_module_container(root, scopes, declared):
                found.append(f"{path}:{line}: {where}() calls {node.func.attr}() on the module-level {root}")

    visit(list(tree.body), [], None, "<module>")
    return found


def module_state_violations(root: Path) -> list[str]:
    """:func:`module_state_writes` over the four packages, paths relative to ``root``."""
    found: list[tuple[str, int, str]] = []
    for path in module_files(root).values():
        rel = str(path.relative_to(root))
        for finding in module_state_writes(path):
            line, text = finding.removeprefix(f"{path}:").split(":", 1)
            found.append((rel, int(line), f"{rel}:{line}:{text}"))
    return [text for *_, text in sorted(found)]


def test_no_module_state_written_after_import() -> None:
    """Results are returned, never left in module globals for callers to read after a call."""
    assert module_state_violations(ROOT) == []


def test_state_checker_catches_planted_writes(tmp_path: Path) -> None:
    """Every kind of write is caught; constants, locals, shadowing parameters, attribute writes to
    objects made in a function, import-time filling and ``__all__`` are not."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "simulation" / "bad.py").write_text(
        "from collections import defaultdict\n"
        "LAST: dict[str, float] = {}\n"          # 2
        "SEEN = set()\n"
        "BY = defaultdict(list)\n"
        "_CACHE = None\n"
        "def run(x):\n"
        "    LAST['t'] = x\n"                     # 7
        "    SEEN.add(x)\n"                       # 8
        "    BY[x].append(1)\n"                   # 9
        "    del LAST['t']\n"                     # 10
        "    global _CACHE\n"
        "    _CACHE = x\n"                        # 12
        "class C:\n"
        "    def m(self):\n"
        "        LAST.update(a=1)\n"              # 15
        "        f = lambda: SEEN.clear()\n"      # 16
        "        return f\n"
    )
    (tmp_path / "cba" / "ok.py").write_text(
        "__all__ = ['f']\n"
        "TABLE = {'a': 1}\n"
        "ITEMS = [1, 2]\n"
        "NAMES = ('x', 'y')\n"
        "ROWS = {'t': object()}\n"
        "TABLE['b'] = 2\n"                        # import time: allowed
        "for i in range(3):\n"
        "    ITEMS.append(i)\n"
        "__all__.append('g')\n"
        "class Obj:\n"
        "    pass\n"
        "def f(TABLE):\n"
        "    TABLE['c'] = 3\n"                    # a parameter shadows the module name
        "    o = Obj()\n"
        "    o.items = []\n"
        "    o.items.append(1)\n"
        "    ROWS['t'].insert()\n"                # a method of an item: type unknown, not reported
        "    ITEMS = []\n"
        "    ITEMS.append(2)\n"                   # a local list
        "    return {**TABLE, 'n': NAMES, 'x': ITEMS}\n"
        "def g():\n"
        "    return TABLE.get('a'), sorted(ITEMS)\n"
    )
    assert module_state_violations(tmp_path) == [
        "simulation/bad.py:7: run() writes an item of the module-level LAST",
        "simulation/bad.py:8: run() calls add() on the module-level SEEN",
        "simulation/bad.py:9: run() reads (so inserts) a key of the module-level defaultdict BY",
        "simulation/bad.py:10: run() deletes an item of the module-level LAST",
        "simulation/bad.py:12: run() rebinds the module global _CACHE",
        "simulation/bad.py:15: m() calls update() on the module-level LAST",
        "simulation/bad.py:16: <lambda>() calls clear() on the module-level SEEN",
    ]
