"""Typed errors of the simulation package.

Every message names the file (when there is one), the object and the field, so the CLI can print it
as one line and the GUI can show it in a dialog. ``main.py`` maps these to exit code 2.
"""

from __future__ import annotations

from coordstudio.simulation.quoting import shorten_message


class SimulationError(Exception):
    """Base class of every error caused by the user's simulation input or an unusable solver."""

    def __str__(self) -> str:
        """The message with long quoted values cut (:func:`simulation.quoting.shorten_message`)."""
        return shorten_message(super().__str__())


class ScenarioError(SimulationError):
    """A scenario is inconsistent: unknown node, NaN in a profile, negative capacity, ..."""


class MarketError(SimulationError):
    """A market case is malformed (unknown node, negative quantity, non-radial grid, ...)."""


class InfeasibleMarketError(MarketError):
    """A clearing has no solution even with its slack variables (should not happen: names the clearing)."""


class SolverUnavailableError(SimulationError):
    """The optimisation solver the user asked for cannot be reached from Pyomo on this machine."""


class SolverFailedError(SimulationError):
    """The solver ran but returned no usable solution; the message names the clearing."""


class PhysicsFailedError(SimulationError):
    """A physical step failed inside a run (a power flow that does not converge, a singular grid model);
    the message names the step and the grid. The run of that scheme is reported failed, not crashed."""


class ResultsDatabaseError(SimulationError):
    """A results database cannot be opened, belongs to another study, or holds a cancelled run."""


class WorkerCrashed(RuntimeError):
    """A worker process failed with an unexpected exception (a bug, exit code 1, not bad input).

    ``str()`` is one line, the exception's own last line; :attr:`worker_traceback` keeps the worker's whole
    traceback, which the command line saves to the crash log instead of printing it.
    """

    def __init__(self, worker_traceback: str) -> None:
        lines = [line for line in worker_traceback.strip().splitlines() if line.strip()]
        super().__init__(f"in a worker process: {lines[-1].strip() if lines else 'unknown failure'}")
        self.worker_traceback = worker_traceback
