"""``run_study()``: the one chain the CLI and the GUI share, from a study to its results and outputs.

The study file itself (its model, loading, migration, saving) lives in :mod:`cba.study_file`; its names
are re-exported here because ``cba.study`` is where the GUI and the command line have always found them.
The files a run writes are written by :mod:`cba.outputs`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coordstudio.cba.errors import CbaError, StudyError
from coordstudio.cba.fingerprint import StudyFingerprint, study_fingerprint
from coordstudio.cba.outputs import write_study_outputs
from coordstudio.cba.parameters import CbaParameters
from coordstudio.cba.stored_runs import ResumePlan, resume_day_plans, resume_plan
from coordstudio.cba.study_file import (
    CURRENT_SCHEMA_VERSION,
    MIGRATIONS,
    Migration,
    Study,
    StudyMetadata,
    default_study,
    load_study,
    migrate,
    save_study,
    study_from_mapping,
    study_summary,
    study_to_text,
)
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.console_progress import ConsoleProgress  # the command line's; re-exported here
from coordstudio.simulation.kpis import SCHEME_IDS, SchemeKpis
from coordstudio.simulation.progress import NullProgress, Progress, SubProgress, check_cancelled
from coordstudio.simulation.scenario.representative_days import (
    RepresentativeDay,
    day_weights,
    spec_for_day,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "MIGRATIONS",
    "ConsoleProgress",
    "Migration",
    "Study",
    "StudyMetadata",
    "StudyFingerprint",
    "StudyResult",
    "default_study",
    "format_summary_table",
    "load_study",
    "migrate",
    "run_study",
    "save_study",
    "solver_report",
    "study_fingerprint",
    "study_from_mapping",
    "study_summary",
    "study_to_text",
    "run_days_of",
    "with_run_days",
]


# -------------------------------------------------------------------------------------------- solvers


def solver_report() -> tuple[list[tuple[str, bool, str]], str]:
    """Which optimisation solvers Pyomo reaches here, and the default one for market clearing."""
    from coordstudio.simulation.market import DEFAULT_SOLVER, available_solvers

    rows = [(name, ok, note) for name, (ok, note) in available_solvers().items()]
    return rows, DEFAULT_SOLVER


# ------------------------------------------------------------------------------------------ run_study


@dataclass
class StudyResult:
    """Everything one ``run_study`` produced, as plain data."""

    ict: dict[str, SchemeIctCost]
    kpis: list[SchemeKpis]
    cba: Any
    ict_check: Any = None
    outputs: dict[str, Path] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    day_weights: dict[str, float] = field(default_factory=dict)
    """Day id -> days per year it stands for (the CBA's weights)."""

    def summary_table(self) -> str:
        """A fixed-width table of the key figures per scheme."""
        return format_summary_table(self)


    def assessments(self) -> list[Any]:
        """Per scheme, whether its benefits were measured (:func:`cba.assessment.assess`)."""
        from coordstudio.cba.assessment import assess

        stored = getattr(self.cba, "assessments", None)
        if stored:
            return list(stored)
        return assess(self.kpis, getattr(self.cba, "reference_scheme", None))


def format_summary_table(result: StudyResult) -> str:
    """Per scheme: activation resource cost (as bid), aFRR cost, congestion, failed market clearings (of
    those made), market slack, ICT CAPEX/OPEX, NPV, BCR and rank ("n/a" when the scheme is not
    assessed); then a line per scheme not assessed, with its reason (:mod:`cba.assessment`)."""
    from coordstudio.cba.assessment import not_assessed_warnings

    by_scheme = _average_day(result.kpis, result.day_weights)
    schemes = list(by_scheme) or list(result.ict)
    assessments = result.assessments()
    verdicts = {a.scheme: a for a in assessments}
    header = (f"{'scheme':<7}{'resource EUR':>16}{'aFRR EUR':>12}{'congest. h':>12}"
              f"{'failed clr.':>13}{'slack MWh':>13}"
              f"{'ICT CAPEX EUR':>16}{'ICT OPEX EUR/a':>16}{'NPV EUR':>16}{'BCR':>8}{'rank':>6}")
    rows = [header, "-" * len(header)]
    figures = {s.scheme: s for s in getattr(result.cba, "schemes", [])}
    for scheme in schemes:
        k = by_scheme.get(scheme)
        ict = result.ict.get(scheme)
        f = figures.get(scheme)
        bcr = getattr(f, "bcr", None)
        a = verdicts.get(scheme)
        failed = "-" if a is None else (
            "run failed" if a.run_failure
            else f"{a.failed_clearings}/{a.clearings}" if a.clearings else str(a.failed_clearings)
        )
        rank = "-" if f is None else (str(f.rank) if getattr(f, "assessed", True) else "n/a")
        rows.append(
            f"{scheme:<7}"
            f"{(k.resource_cost_eur if k else float('nan')):>16,.0f}"
            f"{(k.afrr_cost_eur if k else float('nan')):>12,.0f}"
            f"{(k.congestion_hours_h if k else float('nan')):>12,.1f}"
            f"{failed + (' !' if a is not None and not a.assessed else ''):>13}"
            f" {(k.slack_energy_mwh if k else float('nan')):>12,.2f}"
            f"{(ict.capex_eur if ict else float('nan')):>16,.0f}"
            f"{(ict.opex_eur_per_year if ict else float('nan')):>16,.0f}"
            f"{(getattr(f, 'npv_eur', float('nan'))):>16,.0f}"
            f"{(f'{bcr:.2f}' if bcr is not None and bcr == bcr else '-'):>8}"
            f"{rank:>6}"
        )
    reference = getattr(result.cba, "reference_scheme", None)
    rows += [f"! {line}" for line in not_assessed_warnings(assessments, reference)]
    return "\n".join(rows)


def break_even_lines(cba: Any) -> list[str]:
    """The stated system and each alternative's break-even scale (:mod:`cba.system_scale`), as text."""
    system = getattr(cba, "system", None)
    scales = getattr(cba, "break_even_scale", None) or {}
    if system is None:
        return []
    lines = [
        "",
        f"system: {system.name} = {system.scale_factor:g} x the simulated grid, "
        f"{system.platform_share:.0%} of each organisation's platform charged",
    ]
    if scales:
        parts = [f"{s} {'never' if v is None else f'{v:,.1f} x'}" for s, v in scales.items()]
        lines.append("break-even scale (system size, in simulated grids, whose benefits pay whole "
                     "platforms): " + ", ".join(parts))
    return lines


_AVERAGED = ("activation_cost_eur", "resource_cost_eur", "afrr_cost_eur", "congestion_hours_h",
             "slack_energy_mwh")


def _average_day(kpis: Sequence[SchemeKpis], weights: dict[str, float]) -> dict[str, SchemeKpis]:
    """Per scheme, its KPI record, or with several days the weighted average day of the summary's columns:
    ``x_avg = sum_d w_d x_d / sum_d w_d`` (``w_d``: the days a year day ``d`` stands for)."""
    groups: dict[str, list[SchemeKpis]] = {}
    for k in kpis:
        groups.setdefault(k.scheme, []).append(k)
    out: dict[str, SchemeKpis] = {}
    for scheme, records in groups.items():
        if len(records) == 1:
            out[scheme] = records[0]
            continue
        w = [weights.get(k.day, 0.0) for k in records]
        total = sum(w) or float(len(records))
        if not sum(w):
            w = [1.0] * len(records)
        update = {
            f: sum(wi * getattr(k, f) for wi, k in zip(w, records, strict=True)) / total for f in _AVERAGED
        }
        out[scheme] = records[0].model_copy(update={**update, "day": "average"})
    return out


def run_study(
    study: Study,
    progress: Progress | None = None,
    out_dir: Path | str | None = None,
    db_url: str | None = None,
    schemes: Sequence[str] | None = None,
    resume: bool = False,
) -> StudyResult:
    """Run the whole chain on a study: ICT cost, simulation of each scheme, CBA, and the outputs.

    The CLI calls it directly; the GUI calls it in a worker thread with a progress adapter. Progress
    fractions: ICT costing 0-5 %, simulation 5-85 %, CBA 85-92 %, writing outputs 92-100 %. Cancelling
    raises :class:`simulation.progress.RunCancelled` (the results database marks the runs cancelled).
    Every run is stored with the study's fingerprints (:mod:`cba.fingerprint`).

    ``resume``: ``out_dir`` holds an interrupted run of this study; reuse its results database (or
    ``db_url``), simulate only the schemes whose latest run there is not completed
    (:func:`cba.stored_runs.resume_plan`), then write every output as a normal run does.
    """
    from coordstudio.cba.analysis import run_cba
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import endpoint_counts
    from coordstudio.simulation.simulate import simulate

    progress = progress or NullProgress()
    run_schemes = list(schemes) if schemes else list(study.scenario.schemes)
    unknown = [s for s in run_schemes if s not in SCHEME_IDS]
    if unknown:
        raise StudyError(f"schemes: unknown scheme(s) {', '.join(unknown)}; expected {', '.join(SCHEME_IDS)}")
    undesigned = [s for s in run_schemes if s not in study.sgam.scheme_ids()]
    if undesigned:  # the CBA needs each scheme's ICT cost: say so now, not after the simulation
        raise StudyError(
            f"schemes: no SGAM/ICT design of {', '.join(undesigned)} in this (older) study; add it with: "
            "coordstudio sgam import STUDY sgam/library --in-place"
        )
    out = Path(out_dir) if out_dir is not None else None
    if resume and (out is None or not out.is_dir()):
        raise CbaError(f"--resume {out}: no such folder; it must hold the interrupted run's outputs")
    if out is not None:
        from coordstudio.cba.fileio import prepare_out_dir

        prepare_out_dir(out)  # a bad --out fails now (one line, exit 2), not after the simulation
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    progress.report(0.0, "ICT cost per scheme")
    ict = ict_costs(study.sgam, endpoint_counts(study.scenario), study.cba.horizon_years,
                    study.cba.discount_rate)
    timings["ict"] = time.perf_counter() - t0
    logger.info("ICT cost of %d scheme(s) in %.2f s", len(ict), timings["ict"])
    check_cancelled(progress)

    t0 = time.perf_counter()
    if db_url is None and out is not None:
        db_url = f"sqlite:///{(out / 'results.sqlite').resolve()}"
    prints = study_fingerprint(study).as_mapping()
    if logger.isEnabledFor(logging.INFO):
        from sqlalchemy.engine import make_url

        where = make_url(db_url).render_as_string(hide_password=True) if db_url else "none"
        logger.info("study %r: fingerprint %s, schemes %s, results database %s", study.metadata.title,
                    prints.get("study", "")[:16], ", ".join(run_schemes), where)
    to_run, kpi_map = run_schemes, {}
    days = representative_days_of(study)
    if days:
        plans = None
        if resume and db_url:
            # each day is its own set of runs: resume per day and scheme (cba.stored_runs.day_runs)
            plans = resume_day_plans(study, db_url, run_schemes, days)
            done = sum(len(p.reused) for p in plans.values())
            progress.report(0.05, f"resuming: {done} of {len(days) * len(run_schemes)} day-scheme runs "
                                  "completed before, simulating the others")
        kpis = _simulate_days(study, days, run_schemes, db_url, progress, prints, plans)
        params = with_run_days(study.cba, day_weights(days))
    else:
        if resume:
            plan = resume_plan(study, db_url, run_schemes) if db_url else ResumePlan(to_run=run_schemes)
            to_run, kpi_map = plan.to_run, dict(plan.reused)
            progress.report(0.05, f"resuming: {', '.join(plan.reused) or 'no scheme'} completed before, "
                                  f"simulating {', '.join(to_run) or 'nothing'}")
        if to_run:
            sim = simulate(study.scenario, to_run, db_url, SubProgress(progress, 0.05, 0.85),
                           fingerprints=prints)
            kpi_map.update(sim.kpis)
        kpis = [kpi_map[s] for s in run_schemes]
        params = study.cba
    timings["simulation"] = time.perf_counter() - t0
    logger.info("simulation of %s in %.2f s", ", ".join(to_run) or "no scheme", timings["simulation"])
    check_cancelled(progress)

    check = None
    failed_runs = [k.scheme for k in kpis if k.run_failed]
    if db_url is not None and failed_runs:
        # the ICT check reads complete message logs; a failed run's is not (the scheme is not assessed)
        progress.report(0.85, f"ICT check skipped: the run of {', '.join(failed_runs)} failed")
        logger.info("ICT check skipped: the run of %s failed", ", ".join(failed_runs))  # the CLI warns once
    elif db_url is not None:
        t0 = time.perf_counter()
        progress.report(0.85, "ICT design checked against the simulated messages")
        from coordstudio.cba.ictcheck import ict_check

        check = ict_check(study, db_url, days=days)  # every simulated day, weighted as the CBA does
        timings["ict_check"] = time.perf_counter() - t0
    components = None
    if db_url is not None and not failed_runs:
        from coordstudio.cba.price_components import read_price_components

        # the report's "Price components" sheet: every simulated day, weighted as the CBA weights them
        components = read_price_components(study, db_url, days=days)

    t0 = time.perf_counter()
    progress.report(0.87, "cost-benefit analysis")
    cba_result = run_cba(params, kpis, ict)
    from coordstudio.cba.stress_coverage import with_stress_coverage

    cba_result = with_stress_coverage(cba_result, study, days)  # do the days sample the loaded evenings?
    timings["cba"] = time.perf_counter() - t0
    logger.info("cost-benefit analysis in %.2f s", timings["cba"])

    outputs: dict[str, Path] = {}
    if out is not None:
        t0 = time.perf_counter()
        progress.report(0.92, "writing report and recommendations")
        from coordstudio.cba.provenance import build_provenance
        from coordstudio.cba.system_scale import scale_ict
        from coordstudio.cba.tables import monte_carlo_samples, study_run_ids, time_series_tables

        extra = monte_carlo_samples(params, kpis, ict, cba_result)  # the simulated grid's ICT, as run_cba
        if db_url is not None:
            extra.update(time_series_tables(study_run_ids(study, db_url, kpis), db_url))
        # the report's ICT lines are those of the stated system, as the CBA counted them
        outputs = write_study_outputs(out, params, kpis, scale_ict(ict, params.system), cba_result, check,
                                      components, provenance=build_provenance(study_fingerprint(study)),
                                      extra_tables=extra)
        if days:
            outputs["representative_days"] = write_representative_days(out, days)
        timings["outputs"] = time.perf_counter() - t0
        logger.info("%d output file(s) written to %s in %.2f s", len(outputs), out, timings["outputs"])
        for name, path in outputs.items():
            logger.debug("output %s: %s", name, path)
    progress.report(1.0, "done")
    return StudyResult(
        ict=ict, kpis=kpis, cba=cba_result, ict_check=check, outputs=outputs, timings_s=timings,
        day_weights=dict(params.day_weights_days_per_year),
    )


def with_run_days(params: CbaParameters, run_day_weights: Mapping[str, float]) -> CbaParameters:
    """``params`` as a run of representative days appraises them: the weights of the days it simulated
    (``StudyResult.day_weights``) in place of ``cba.day_weights_days_per_year``; unchanged for empty
    ``run_day_weights`` (a study of its one day, whose weights are the study's own to edit).

    Why one function: the run's CBA (:func:`run_study`), the GUI's what-if on the run's KPIs and the draft
    must weight the same days; the study's own weights name a day (``d175``) the run did not simulate."""
    if not run_day_weights:
        return params
    return params.model_copy(update={"day_weights_days_per_year": dict(run_day_weights)})


def run_days_of(study: Study, result: StudyResult) -> dict[str, float]:
    """The day weights :func:`with_run_days` applies for a run of ``study``: the run's own
    (``result.day_weights``) when the study simulates representative days, else none (its one day's
    weights stay the study's own to edit)."""
    if study.scenario.profiles.representative_days > 0:
        return dict(result.day_weights)
    return {}


def representative_days_of(study: Study) -> list[RepresentativeDay]:
    """The days the study simulates, seed replicates included (empty: its one ``day_of_year``, simulated
    once; :func:`cba.study_days.study_days`)."""
    from coordstudio.cba.study_days import study_days

    return study_days(study)


def _simulate_days(
    study: Study,
    days: Sequence[RepresentativeDay],
    schemes: Sequence[str],
    db_url: str | None,
    progress: Progress,
    prints: Any,
    plans: dict[str, ResumePlan] | None = None,
) -> list[SchemeKpis]:
    """Simulate every scheme on every representative day; the KPIs carry the day's id.

    Each day is one :func:`simulation.simulate.simulate` call on the scenario with that day's profiles
    (:func:`simulation.scenario.representative_days.spec_for_day`), writing to the same database.
    ``plans`` (``run --resume``): per day, the schemes whose completed runs are reused and those simulated
    again (:func:`cba.stored_runs.resume_day_plans`); a day whose schemes all completed is not simulated."""
    from coordstudio.simulation.simulate import simulate

    kpis: list[SchemeKpis] = []
    span = 0.80 / len(days)
    for i, day in enumerate(days):
        check_cancelled(progress)
        lo = 0.05 + i * span
        plan = plans.get(day.day_id) if plans is not None else None
        reused = dict(plan.reused) if plan is not None else {}
        to_run = [s for s in schemes if s not in reused]
        progress.report(
            lo, f"day {i + 1}/{len(days)}: {day.day_id} ({day.kind}, {day.weight_days:.1f} days/a"
            + (f", seed + {day.seed_offset})" if day.seed_offset else ")")
            + (f", reusing {', '.join(reused)}" if reused else "")
        )
        by_scheme = {s: k.model_copy(update={"day": day.day_id}) for s, k in reused.items()}
        if to_run:
            # the runs carry the study's scenario fingerprint and the day's scenario: a day is part of
            # this study's scenario, and cba.stored_runs.day_runs finds each day's runs by the two
            sim = simulate(spec_for_day(study.scenario, day), to_run, db_url,
                           SubProgress(progress, lo, lo + span), fingerprint=prints.get("scenario"),
                           fingerprints=prints)
            by_scheme.update({s: sim.kpis[s].model_copy(update={"day": day.day_id}) for s in to_run})
        kpis.extend(by_scheme[s] for s in schemes)
    return kpis


def write_representative_days(out: Path, days: Sequence[RepresentativeDay]) -> Path:
    """``representative_days.csv``: the simulated days, why each was chosen, the days it stands for and its
    seed replicate (``seed_offset`` j: simulated with the scenario's seed + j)."""
    from coordstudio.cba.fileio import atomic_write_text

    lines = ["day_id,day_of_year,kind,weight_days_per_year,ambient_temp_c,seed_offset"]
    lines += [f"{d.day_id},{d.day_of_year},{d.kind},{d.weight_days:.6f},{d.ambient_temp_c},{d.seed_offset}"
              for d in days]
    return atomic_write_text(out / "representative_days.csv", "\n".join(lines) + "\n")
