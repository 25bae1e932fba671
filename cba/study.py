"""The Study: the file a user opens, and ``run_study()``, the one chain the CLI and the GUI share.

A study file (YAML or JSON) holds a ``schema_version``, metadata, the SGAM/ICT model (``sgam:``), the
scenario description (``scenario:``) and the cost-benefit parameters (``cba:``). Loading goes
parse -> migrate (older ``schema_version``) -> validate; every failure becomes a :class:`StudyError`
whose one-line message names the file, the object (by id where the object has one) and the field.
Saving is atomic (temporary file in the same folder, then rename), so a crash mid-save never destroys
the previous version.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cba.errors import StudyError
from cba.fileio import atomic_write_text
from cba.parameters import CbaParameters
from sgam.costs import SchemeIctCost
from sgam.model import SgamModel
from simulation.kpis import SCHEME_IDS, SchemeKpis
from simulation.progress import NullProgress, Progress, SubProgress, check_cancelled
from simulation.scenario import ScenarioSpec

CURRENT_SCHEMA_VERSION = 1
"""Version of the study file format this code writes. Older versions are migrated on load."""


class StudyMetadata(BaseModel):
    """Who made the study, and what it is about."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="Untitled study", min_length=1, description="Title of the study.")
    description: str = Field(default="", description="What the study investigates, in a few sentences.")
    author: str = Field(default="", description="Author or organisation.")
    created: str = Field(
        default_factory=lambda: date.today().isoformat(), description="Creation date, ISO 8601."
    )


class Study(BaseModel):
    """A complete coordination study: ICT model, scenario and cost-benefit parameters."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(
        default=CURRENT_SCHEMA_VERSION, description="Version of the study file format."
    )
    metadata: StudyMetadata = Field(default_factory=StudyMetadata, description="Title, author, date.")
    sgam: SgamModel = Field(description="SGAM/ICT model of the five coordination schemes.")
    scenario: ScenarioSpec = Field(description="Grids, devices, profiles and timing of the simulation.")
    cba: CbaParameters = Field(
        default_factory=CbaParameters, description="Cost-benefit analysis parameters."
    )

    @model_validator(mode="after")
    def _check_cross_references(self) -> Study:
        """The CBA's reference scheme must be one of the five schemes."""
        if self.cba.reference_scheme not in SCHEME_IDS:
            raise ValueError(
                f"cba.reference_scheme: unknown scheme {self.cba.reference_scheme!r}; "
                f"expected one of {', '.join(SCHEME_IDS)}"
            )
        if self.schema_version != CURRENT_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version: {self.schema_version} is not the current version "
                f"{CURRENT_SCHEMA_VERSION}"
            )
        return self


# ------------------------------------------------------------------------------------------ migrations

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: ``MIGRATIONS[v]`` turns a raw version-``v`` study into a version-``v+1`` one. Version 1 is the first
#: released format, so there is nothing to migrate yet; the loader still runs the chain so adding a
#: version is one function here plus a test that keeps loading the old file.
MIGRATIONS: dict[int, Migration] = {}


def migrate(raw: dict[str, Any], source: str = "<study>") -> dict[str, Any]:
    """Bring a raw study mapping up to :data:`CURRENT_SCHEMA_VERSION`."""
    version = raw.get("schema_version")
    if version is None:
        raise StudyError(f"{source}: schema_version: missing required field")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StudyError(f"{source}: schema_version: expected an integer, got {version!r}")
    oldest = min([*MIGRATIONS, CURRENT_SCHEMA_VERSION])
    if version > CURRENT_SCHEMA_VERSION or version < oldest:
        raise StudyError(
            f"{source}: schema_version: unknown version {version}; this Coordination Studio reads "
            f"versions {oldest} to {CURRENT_SCHEMA_VERSION}"
        )
    while version < CURRENT_SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StudyError(f"{source}: schema_version: no migration from version {version}")
        raw = step(dict(raw))
        version += 1
        raw["schema_version"] = version
    return raw


# ---------------------------------------------------------------------------------------- load / save


def _describe_location(raw: Any, loc: Sequence[int | str]) -> str:
    """Render a pydantic error location, naming list items by their ``id`` where they have one.

    ``("sgam", "events", 3, "producer")`` on data whose fourth event has id ``bid-submit`` becomes
    ``sgam.events[bid-submit].producer``, which a user can search for in the file.
    """
    parts: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int):
            label = str(key)
            if isinstance(node, list) and 0 <= key < len(node):
                item = node[key]
                if isinstance(item, dict) and "id" in item:
                    label = f"id={item['id']}"
                node = item
            else:
                node = None
            parts.append(f"[{label}]")
        else:
            if isinstance(node, dict):
                node = node.get(key)
            else:
                node = None
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "<study>"


def _format_validation_error(exc: ValidationError, raw: Any, source: str) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    msg = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if not loc:  # a model-level check: its message starts with the field path itself
        return f"{source}: {msg}{more}"
    return f"{source}: {_describe_location(raw, loc)}: {msg}{more}"


def study_from_mapping(raw: Any, source: str = "<study>") -> Study:
    """Migrate and validate a parsed study; raise :class:`StudyError` naming file, object and field."""
    if not isinstance(raw, dict):
        raise StudyError(f"{source}: <study>: expected a mapping at the top level, got {type(raw).__name__}")
    raw = migrate(raw, source)
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        raise StudyError(_format_validation_error(exc, raw, source)) from None


def _parse_text(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StudyError(
                f"{path}: line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is not None:
            raise StudyError(
                f"{path}: line {mark.line + 1} column {mark.column + 1}: invalid YAML: {problem}"
            ) from None
        raise StudyError(f"{path}: invalid YAML: {problem}") from None


def load_study(path: Path | str) -> Study:
    """Read, migrate and validate a study file (``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise StudyError(f"{path}: not a text file (expected YAML or JSON in UTF-8)") from None
    except OSError as exc:
        raise StudyError(f"{path}: cannot read: {exc.strerror}") from None
    return study_from_mapping(_parse_text(text, path), str(path))


def study_to_text(study: Study, fmt: str = "yaml") -> str:
    """Serialise a study as YAML (default) or JSON text."""
    data = study.model_dump(mode="json")
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_study(study: Study, path: Path | str) -> None:
    """Write a study atomically; the format follows the extension (``.json`` or YAML)."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    try:
        atomic_write_text(path, study_to_text(study, fmt))
    except OSError as exc:
        raise StudyError(f"{path}: cannot write: {exc.strerror or exc}") from None


def default_study() -> Study:
    """The embedded default study: the SGAM library, the default scenario and default CBA parameters."""
    from sgam.library import default_model
    from simulation.scenario import default_scenario_spec

    return Study(
        metadata=StudyMetadata(
            title="Default TSO-DSO coordination study",
            description=(
                "The five SmartNet coordination schemes on the embedded default scenario: a meshed "
                "transmission grid with detailed distribution feeders, one representative day."
            ),
            author="Coordination Studio",
            created="2026-11-24",
        ),
        sgam=default_model(),
        scenario=default_scenario_spec(),
        cba=CbaParameters(),
    )


def study_summary(study: Study) -> list[str]:
    """A few human-readable lines describing a study (used by ``validate``)."""
    m = study.sgam
    lines = [f"title: {study.metadata.title}"]
    counts = []
    for name in ("actors", "information_objects", "events", "technologies"):
        items = getattr(m, name, None)
        if isinstance(items, list):
            counts.append(f"{len(items)} {name.replace('_', ' ')}")
    if counts:
        lines.append("SGAM/ICT model: " + ", ".join(counts))
    cba = study.cba
    lines.append(f"CBA: discount rate {cba.discount_rate:.1%}, horizon {cba.horizon_years} years, "
                 f"reference scheme {cba.reference_scheme}")
    return lines


# -------------------------------------------------------------------------------------------- solvers


def solver_report() -> tuple[list[tuple[str, bool, str]], str]:
    """Which optimisation solvers Pyomo reaches here, and the default one for market clearing."""
    from simulation.market import DEFAULT_SOLVER, available_solvers

    rows = [(name, ok, note) for name, (ok, note) in available_solvers().items()]
    return rows, DEFAULT_SOLVER


# ------------------------------------------------------------------------------------------ run_study


class ConsoleProgress:
    """Progress printer for the command line.

    Prints a line when the phase changes (the text before the first ``:``) or at most every
    ``interval_s`` seconds, so a day of 96 clearings per scheme does not flood the terminal.
    """

    def __init__(self, quiet: bool = False, interval_s: float = 2.0) -> None:
        self._quiet = quiet
        self._interval_s = interval_s
        self._phase = ""
        self._t0 = time.perf_counter()
        self._last_t = -float("inf")

    def report(self, fraction: float, message: str) -> None:
        if self._quiet:
            return
        now = time.perf_counter()
        phase = message.split(":", 1)[0]
        if phase == self._phase and now - self._last_t < self._interval_s:
            return
        self._phase, self._last_t = phase, now
        print(f"[{100 * fraction:5.1f} % {now - self._t0:6.1f} s] {message}", file=sys.stderr)

    def cancelled(self) -> bool:
        return False


@dataclass
class StudyResult:
    """Everything one ``run_study`` produced, as plain data."""

    ict: dict[str, SchemeIctCost]
    kpis: list[SchemeKpis]
    cba: Any
    ict_check: Any = None
    outputs: dict[str, Path] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    def summary_table(self) -> str:
        """A fixed-width table of the key figures per scheme."""
        return format_summary_table(self)


def format_summary_table(result: StudyResult) -> str:
    """Per scheme: activation cost, aFRR cost, ICT CAPEX/OPEX, NPV, BCR, rank."""
    by_scheme = {k.scheme: k for k in result.kpis}
    schemes = list(by_scheme) or list(result.ict)
    header = (f"{'scheme':<7}{'activation EUR':>16}{'aFRR EUR':>12}{'congest. h':>12}"
              f"{'ICT CAPEX EUR':>16}{'ICT OPEX EUR/a':>16}{'NPV EUR':>16}{'BCR':>8}{'rank':>6}")
    rows = [header, "-" * len(header)]
    figures = {s.scheme: s for s in getattr(result.cba, "schemes", [])}
    for scheme in schemes:
        k = by_scheme.get(scheme)
        ict = result.ict.get(scheme)
        f = figures.get(scheme)
        bcr = getattr(f, "bcr", None)
        rows.append(
            f"{scheme:<7}"
            f"{(k.activation_cost_eur if k else float('nan')):>16,.0f}"
            f"{(k.afrr_cost_eur if k else float('nan')):>12,.0f}"
            f"{(k.congestion_hours_h if k else float('nan')):>12,.1f}"
            f"{(ict.capex_eur if ict else float('nan')):>16,.0f}"
            f"{(ict.opex_eur_per_year if ict else float('nan')):>16,.0f}"
            f"{(getattr(f, 'npv_eur', float('nan'))):>16,.0f}"
            f"{(f'{bcr:.2f}' if bcr is not None and bcr == bcr else '-'):>8}"
            f"{str(getattr(f, 'rank', '-')):>6}"
        )
    return "\n".join(rows)


def _write_kpis_csv(kpis: list[SchemeKpis], path: Path) -> None:
    scalar = [name for name, info in SchemeKpis.model_fields.items() if info.annotation in (str, float, int)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(scalar)
    for k in kpis:
        writer.writerow([getattr(k, name) for name in scalar])
    atomic_write_text(path, buf.getvalue())


def run_study(
    study: Study,
    progress: Progress | None = None,
    out_dir: Path | str | None = None,
    db_url: str | None = None,
    schemes: Sequence[str] | None = None,
) -> StudyResult:
    """Run the whole chain on a study: ICT cost, simulation of each scheme, CBA, and the outputs.

    The CLI calls it directly; the GUI calls it in a worker thread with a progress adapter. Progress
    fractions: ICT costing 0-5 %, simulation 5-85 %, CBA 85-92 %, writing outputs 92-100 %. Cancelling
    raises :class:`simulation.progress.RunCancelled` (the results database marks the run cancelled).
    """
    from cba.analysis import run_cba
    from sgam.matching import ict_costs
    from simulation.scenario import endpoint_counts
    from simulation.simulate import simulate

    progress = progress or NullProgress()
    run_schemes = list(schemes) if schemes else list(study.scenario.schemes)
    unknown = [s for s in run_schemes if s not in SCHEME_IDS]
    if unknown:
        raise StudyError(f"schemes: unknown scheme(s) {', '.join(unknown)}; expected {', '.join(SCHEME_IDS)}")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    progress.report(0.0, "ICT cost per scheme")
    ict = ict_costs(study.sgam, endpoint_counts(study.scenario), study.cba.horizon_years,
                    study.cba.discount_rate)
    timings["ict"] = time.perf_counter() - t0
    check_cancelled(progress)

    t0 = time.perf_counter()
    if db_url is None and out is not None:
        db_url = f"sqlite:///{(out / 'results.sqlite').resolve()}"
    kpi_map = simulate(study.scenario, run_schemes, db_url, SubProgress(progress, 0.05, 0.85)).kpis
    kpis = list(kpi_map.values())
    timings["simulation"] = time.perf_counter() - t0
    check_cancelled(progress)

    check = None
    if db_url is not None:
        t0 = time.perf_counter()
        progress.report(0.85, "ICT design checked against the simulated messages")
        from cba.ictcheck import ict_check

        check = ict_check(study, db_url)
        timings["ict_check"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress.report(0.87, "cost-benefit analysis")
    cba_result = run_cba(study.cba, kpis, ict)
    timings["cba"] = time.perf_counter() - t0

    outputs: dict[str, Path] = {}
    if out is not None:
        t0 = time.perf_counter()
        progress.report(0.92, "writing report and recommendations")
        from cba.cli import cba_outputs

        _write_kpis_csv(kpis, out / "kpis.csv")
        outputs["kpis"] = out / "kpis.csv"
        outputs.update(cba_outputs(study.cba, kpis, ict, out, result=cba_result, ict_check=check))
        if check is not None:
            from cba.ictcheck_output import write_ict_check_chart, write_ict_check_csv

            outputs.update(write_ict_check_csv(check, out))
            outputs["ict_check_chart"] = write_ict_check_chart(check, out / "ict_check.png")
        timings["outputs"] = time.perf_counter() - t0
    progress.report(1.0, "done")
    return StudyResult(
        ict=ict, kpis=kpis, cba=cba_result, ict_check=check, outputs=outputs, timings_s=timings
    )
