"""Provenance of a run's outputs: which tool, study, solver and libraries made them, when, and how.

One function, :func:`build_provenance`, makes the record; every output carries the same one
(``docs/outputs.md``):

* ``provenance.json`` beside ``kpis.csv`` and the tidy tables (a sidecar, so ``pandas.read_csv`` reads
  every CSV without options and ``kpis.csv`` keeps its columns for the readers that load it back);
* the key-value metadata of every Parquet file (key :data:`PARQUET_KEY`, and ``DataFrame.attrs`` that
  ``pandas.read_parquet`` restores);
* ``cba_result.json`` (its ``provenance`` field);
* the "Provenance" section at the foot of the report's Assumptions sheet;
* the footer of the recommendations draft (Markdown and DOCX).

Versions are read from the installed distributions' metadata (:mod:`importlib.metadata`), which costs
no import of the libraries themselves; the tool's own version is the distribution's, which setuptools
takes from ``main.__version__`` (``cba`` does not import ``main``: that would be an import circle).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from coordstudio.cba.fingerprint import StudyFingerprint

__all__ = [
    "DISTRIBUTION",
    "LIBRARIES",
    "PARQUET_KEY",
    "PROVENANCE_FILE",
    "Provenance",
    "build_provenance",
    "read_provenance",
]

DISTRIBUTION = "coordination-studio"
"""The tool's distribution name (its version is ``main.__version__``)."""

PROVENANCE_FILE = "provenance.json"
"""Sidecar file of an output folder: the provenance of every file in it."""

PARQUET_KEY = "coordstudio.provenance"
"""Key of the provenance (JSON text) in each Parquet file's key-value metadata."""

LIBRARIES: tuple[str, ...] = (
    "numpy", "pandas", "pyomo", "highspy", "pandapower", "tsam", "pydantic", "openpyxl", "SQLAlchemy",
    "networkx", "pyarrow",
)
"""Distributions whose versions shape the results or the files (solver, grid model, tables)."""

_SOLVER_DISTRIBUTIONS = {"highs": "highspy", "scip": "PySCIPOpt", "gurobi": "gurobipy", "cplex": "cplex",
                         "xpress": "xpress", "mosek": "Mosek"}


class Provenance(BaseModel):
    """Where a set of outputs came from: enough to reproduce them, or to tell two runs apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str = Field(default=DISTRIBUTION, description="Name of the tool that wrote the outputs.")
    tool_version: str = Field(description="Version of the tool (main.__version__), or 'unknown'.")
    created_utc: str = Field(description="When the provenance was made, ISO 8601 UTC (seconds).")
    command_line: str = Field(description="The command line of the process (shell-quoted argv).")
    study_fingerprint: str = Field(
        description="SHA-256 of the study (cba.fingerprint), hex; '' when the outputs had no study."
    )
    section_fingerprints: dict[str, str] = Field(
        default_factory=dict, description="SHA-256 of the scenario, cba and sgam sections, hex."
    )
    solver: str = Field(description="Market-clearing solver (Pyomo name), e.g. 'highs'.")
    solver_version: str = Field(description="Version of the solver's Python distribution, or 'unknown'.")
    python_version: str = Field(description="Python version (platform.python_version()).")
    platform: str = Field(description="Operating system and machine (platform.platform()).")
    library_versions: dict[str, str] = Field(
        description="Version of each main library (LIBRARIES), 'not installed' when absent."
    )

    def flat(self) -> dict[str, str]:
        """One string per key (library versions as ``version.<name>``, fingerprints as
        ``fingerprint.<section>``): the rows of the Assumptions sheet and flat metadata stores."""
        out = {k: str(v) for k, v in self.model_dump().items() if not isinstance(v, dict)}
        out.update({f"fingerprint.{k}": v for k, v in self.section_fingerprints.items()})
        out.update({f"version.{k}": v for k, v in self.library_versions.items()})
        return out

    def to_json(self) -> str:
        """The record as JSON text (keys in the model's order)."""
        return self.model_dump_json(indent=1)

    def footer_text(self) -> str:
        """One line for the foot of a document: tool, study, solver, date and command."""
        study = self.study_fingerprint[:12] or "none"
        return (
            f"Made by {self.tool} {self.tool_version} on {self.created_utc}; study {study}; solver "
            f"{self.solver} {self.solver_version}; Python {self.python_version}; "
            + ", ".join(f"{k} {v}" for k, v in self.library_versions.items())
            + f"; command: {self.command_line}"
        )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def build_provenance(
    fingerprint: StudyFingerprint | None = None,
    command_line: Sequence[str] | None = None,
    solver: str = "highs",
    now: dt.datetime | None = None,
) -> Provenance:
    """The provenance of outputs made now by this process (``command_line`` defaults to ``sys.argv``).

    ``fingerprint``: the study's (:func:`cba.fingerprint.study_fingerprint`); without one (a bare
    re-appraisal of KPIs) the study fields stay empty."""
    argv = list(sys.argv if command_line is None else command_line)
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    tool_version = _version(DISTRIBUTION)
    solver_dist = _SOLVER_DISTRIBUTIONS.get(solver, solver)
    return Provenance(
        tool_version="unknown" if tool_version == "not installed" else tool_version,
        created_utc=when.isoformat().replace("+00:00", "Z"),
        command_line=shlex.join(argv),
        study_fingerprint=fingerprint.study if fingerprint is not None else "",
        section_fingerprints={k: v for k, v in fingerprint.as_mapping().items() if k != "study"}
        if fingerprint is not None else {},
        solver=solver,
        solver_version=_version(solver_dist),
        python_version=platform.python_version(),
        platform=platform.platform(),
        library_versions={name: _version(name) for name in LIBRARIES},
    )


def read_provenance(text: str | bytes) -> Provenance:
    """A provenance record from its JSON text (``provenance.json``, a Parquet file's metadata value)."""
    return Provenance.model_validate(json.loads(text))
