"""Which optimisation solvers Pyomo can reach, and how each is driven.

``highs`` (default): HiGHS (``highspy``), LP and MILP, loaded from Pyomo's standard-form compiler and
driven directly (:class:`simulation.market.highs_direct.HighsDirect`); second-order cones are handled by an
outer approximation with tangent cuts (see :mod:`simulation.market.solve`). ``scip``: SCIP through
``scip_direct`` (pip ``pyscipopt``), native mixed-integer SOCP, no duals (prices are then computed by
HiGHS on the continuous problem with the binaries fixed). ``gurobi``, ``cplex``, ``xpress``: native
quadratic (cone) constraints through their ``*_direct`` interfaces; ``mosek``: ``mosek_direct`` driven
like HiGHS with tangent cuts.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Any

from coordstudio.simulation.errors import SolverUnavailableError

_PYOMO_NAMES = {
    "highs": "highs",
    "scip": "scip_direct",
    "gurobi": "gurobi_direct",
    "cplex": "cplex_direct",
    "xpress": "xpress_direct",
    "mosek": "mosek_direct",
}
_MODULES = {
    "highs": "highspy",
    "scip": "pyscipopt",
    "gurobi": "gurobipy",
    "cplex": "cplex",
    "xpress": "xpress",
    "mosek": "mosek",
}
NATIVE_CONES = {"scip", "gurobi", "cplex", "xpress"}
"""Solvers given the cones as quadratic constraints rather than tangent cuts."""

SOLVER_NAMES: tuple[str, ...] = tuple(_PYOMO_NAMES)
DEFAULT_SOLVER = "highs"
"""The default: HiGHS with tangent cuts (measured faster than SCIP on the benchmark cases, see
BENCHMARKS.md, and the only one that gives prices by itself)."""

_NOTES = {
    "highs": "HiGHS via highspy (Pyomo standard form); LP/MILP, cones by tangent cuts (default)",
    "scip": "SCIP via scip_direct (pip pyscipopt); native MISOCP, prices computed with HiGHS",
    "gurobi": "Gurobi via gurobi_direct (gurobipy + licence); native cones",
    "cplex": "CPLEX via cplex_direct (cplex + licence); native cones",
    "xpress": "FICO Xpress via xpress_direct (xpress + licence); native cones",
    "mosek": "MOSEK via mosek_direct (mosek + licence); cones by tangent cuts",
}


@dataclass(frozen=True)
class SolverStatus:
    """Whether a solver is reachable, and a note on it. Truthy exactly when available; unpacks as
    ``available, note = status``."""

    available: bool
    note: str

    def __bool__(self) -> bool:
        return self.available

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.available, self.note))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return self.available is other
        if isinstance(other, SolverStatus):
            return (self.available, self.note) == (other.available, other.note)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.available, self.note))


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available_solvers() -> dict[str, SolverStatus]:
    """Solver name -> whether Pyomo can drive it on this machine (licence checks included where cheap).

    Each value is truthy exactly when the solver is available (``available_solvers()["highs"] == True``)
    and unpacks as ``(available, note)``."""
    return {name: SolverStatus(_is_available(name), _NOTES[name]) for name in SOLVER_NAMES}


def _is_available(name: str) -> bool:
    if not _module_available(_MODULES[name]):
        return False
    try:
        if name == "highs":
            from pyomo.contrib.solver.solvers.highs import Highs

            return bool(Highs().available())
        import pyomo.environ as pyo

        return bool(pyo.SolverFactory(_PYOMO_NAMES[name]).available(exception_flag=False))
    except Exception:  # a broken installation or licence is "not available"
        return False


@dataclass
class SolverHandle:
    """A solver ready to use: its name, the Pyomo object, whether it is persistent, cones natively."""

    name: str
    pyomo_solver: Any
    persistent: bool
    native_cones: bool


def new_highs() -> Any:
    """A fresh Pyomo persistent HiGHS interface that checks only parameters and variables for changes
    (the clearing adds cuts straight to ``highspy``, see
    :class:`simulation.market.highs_direct.HighsDirect`)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = Highs()
    au = opt.config.auto_updates
    au.check_for_new_or_removed_vars = False
    au.check_for_new_or_removed_params = False
    au.check_for_new_objective = False
    au.update_constraints = False
    au.update_named_expressions = False
    au.update_objective = False
    au.update_vars = True
    au.update_parameters = True
    au.check_for_new_or_removed_constraints = True
    return opt


def make_solver(name: str, clearing: str = "clearing") -> SolverHandle:
    """Create the solver ``name`` or raise :class:`SolverUnavailableError` saying why."""
    key = name.lower().strip()
    if key not in _PYOMO_NAMES:
        raise SolverUnavailableError(
            f"{clearing}: unknown solver {name!r}; choose one of {', '.join(SOLVER_NAMES)}"
        )
    if not _is_available(key):
        raise SolverUnavailableError(
            f"{clearing}: solver {name!r} is not available on this machine (Python package "
            f"{_MODULES[key]!r} missing or unlicensed); run 'check-solvers' or use 'highs'"
        )
    if key == "highs":
        opt = new_highs()
        return SolverHandle("highs", opt, persistent=True, native_cones=False)
    import pyomo.environ as pyo

    return SolverHandle(
        key, pyo.SolverFactory(_PYOMO_NAMES[key]), persistent=False, native_cones=key in NATIVE_CONES
    )


def silence_highs_banner() -> None:
    """Keep HiGHS's start-up banner off stdout.

    HiGHS prints "Running HiGHS ... Copyright ..." to the C-level stdout at the first ``Highs()`` of a
    process, whatever ``output_flag`` is set to afterwards; under ``--quiet`` (or with a table on stdout)
    that banner is noise. This constructs that first instance with file descriptor 1 pointed at
    ``/dev/null``. Forked worker processes inherit the "already printed" state; spawned ones call this
    themselves (:mod:`simulation.parallel`). Nothing happens without highspy."""
    if importlib.util.find_spec("highspy") is None:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
