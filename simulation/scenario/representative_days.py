"""Representative days: the few days of the profile year a study simulates, and the days each stands for.

A study cannot simulate 365 days of every scheme, so it simulates ``n`` days chosen from the year of its
profiles and weights each by the number of days it represents (the CBA's
``day_weights_days_per_year``). The choice is made by tsam (Kotzur et al., "Impact of different time
series aggregation methods on optimal energy system design", Renewable Energy 117, 2018), the library
PyPSA-Eur and FINE use for the same task:

* the candidates are the year's days, each described by its daily profiles of load, PV and wind (96
  quarter-hours each, the SimBench year of the scenario's ``profiles``) and by its **ambient temperature**
  (the seasonal curve below, constant over the day): every input of the simulation that changes from day
  to day. The temperature drives the heat pumps (TCLs) and the CHP heat; without it the selection chose
  days 2 degC colder than the year on average (8 days: 7.7 against 9.6 degC, 25 % more heating degree
  days), and the cold days' heat-pump load made the reference scheme's congestion and the alternatives'
  congestion benefit too large (docs/cba.md, "Against the 49-day sample, with the temperature"). EV
  schedules, imbalance draws and prices are the same on every simulated day, so they cannot tell days
  apart. tsam min-max normalises each feature over the year;
* the two **extreme days** are kept as days of their own (tsam ``extremePeriodMethod="new_cluster_center"``):
  the day with the year's load peak (the most congested) and the day with the PV peak (the largest reverse
  flows and curtailment), because averaging would lose exactly the days where flexibility is worth most;
* the other ``n - 2`` days are the medoids of Ward's hierarchical clustering of the remaining days (tsam
  ``clusterMethod="hierarchical"``, ``representationMethod="medoidRepresentation"``): each is a real day
  of the year, never an average that no grid ever saw. (tsam's exact k-medoids is a MILP over
  366 x 366 binaries; it did not finish in 10 minutes on the 2-core reference machine, where Ward's
  clustering with medoids takes 0.5 s.)

Weights: the number of days of the year in each cluster, scaled so they sum to 365 days (the SimBench
year, 2016, has 366 days), then changed by the least amount that gives the weighted days the year's mean
load, PV, wind and temperature (:func:`fit_weights`, a linear programme)::

    w0_c = |cluster c| * 365 / N_days,        sum_c w_c = 365,   sum_c w_c mean_c(f) = 365 mean_year(f)

The mean temperature is matched because the heat pumps' electric power is about linear in it: the
ambient stays below the 20-22 degC set points except on summer afternoons, so a heat pump's power is
roughly ``p_rated (T_set - T) / gain`` and its yearly energy follows the weighted mean temperature.

With ``n`` < 3 no extreme day is kept (1: the year's medoid day; 2: two medoids).

Stress stratum (``profiles.stress_days`` ``S`` >= 1, ``profiles.stress_share_frac`` ``q``): an event of the
year's most loaded evenings (the reference scheme's protection tripping a feeder line, docs/cba.md
"Trips on December evenings") happens on a few days a year, and at a value of lost load it can be worth
more than every other benefit. A clustering of a few days gives such a day no weight (none chosen) or a
whole cluster's (one chosen). So the year is split into two strata, as importance subsampling does
(Hilbers, Brayshaw and Gandy, "Importance subsampling: improving power system planning under
climate-based uncertainty", Applied Energy 251, 2019): the ``K = max(S, round(q N_days))`` days of the
highest mean load 17:00-21:00 (:data:`STRESS_WINDOW_STEPS`), and the others. The stratum's days, in
order of that load, are cut into ``S`` runs of (nearly) equal length; the middle day of each run is
simulated and weighted by its run's length, a weight the fit to the year's means keeps. The other
``n - S`` days are chosen from the other days as above. An event that happens on a share ``p`` of the
stratum's days is then counted on ``K j / S`` days a year (``j`` of the ``S`` stress days have it):
unbiased over the choice of days, with the binomial spread ``K sqrt(p (1 - p) / S)``, of which the Monte
Carlo's day resampling sees some when the stress days differ. Without the stratum it is counted on as
many days as the clusters of the days that happen to have it. Measured on the default study's simulated
year (docs/cba.md, "The full year"): unbiased but coarse, so the stratum is opt-in.

Ambient temperature: the day's mean follows the seasonal curve of Germany's climate normals (the SimBench
profiles are German), an assumption that replaces the scenario's fixed ``ambient_temp_c`` for each
representative day so that a January day is not simulated at a June temperature::

    T(doy) = 9.6 + 8.7 cos(2 pi (doy - 197) / 365)  degC

(DWD 1991-2020 normals: January 0.9 degC, July 18.3 degC; annual mean 9.6 degC; warmest around 16 July).

Seed replicates (``profiles.seed_replicates: K``, :func:`simulated_days`): each simulated day is simulated
``K`` times, replicate ``j`` with the seed ``seed + j`` (new imbalance draws, forecast errors and device
parameters), each replicate a day of its own with ``w_d / K`` of the day's weight. Replicate 0 keeps the
day's id and the study's seed, so ``K = 1`` is the run without replicates; replicate ``j >= 1`` has the id
``<day id>r<j>`` (``d175r1``). The CBA's deterministic annual KPI is then the day-weighted mean of the
replicates' means, ``sum_d w_d (1/K) sum_j k_dj``, and its Monte Carlo resamples the replicates within each
day (:func:`replicate_groups`, ``cba.sensitivity.day_bootstrap``). With ``representative_days: 0`` the
study's one day is replicated the same way (id ``d<day_of_year>``, its temperature the scenario's own).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.scenario.spec import ScenarioSpec

STEPS_PER_DAY = 96
"""Quarter-hours per day of the SimBench profiles."""
YEAR_DAYS = 365.0
"""Days a year the weights sum to."""
EXTREME_DAYS: tuple[tuple[str, str], ...] = (("load", "max"), ("pv", "max"))
"""The extreme days kept as days of their own: (profile, which peak)."""
STRESS_WINDOW_STEPS: tuple[int, int] = (68, 84)
"""Quarter-hours of the day whose mean load ranks the days for the stress stratum: 17:00-21:00, when the
household evening peak, the heat pumps and the EVs arriving home coincide on the feeders (module
docstring, "Stress stratum")."""
REPLICATE_ID = re.compile(r"^(?P<day>d\d{3})r(?P<replicate>[1-9]\d*)$")
"""Id of a seed replicate ``j >= 1`` of a simulated day: ``d175r2`` is replicate 2 of day ``d175``."""


@dataclass(frozen=True)
class RepresentativeDay:
    """One simulated day of the year and the days it stands for."""

    day_id: str
    """Id of the day, ``d<day of year>`` (``d015``): the KPIs' ``day`` and the CBA's weight key."""
    day_of_year: int
    """Day of the profile year, 1 = 1 January."""
    weight_days: float
    """Days per year this day stands for, days/a."""
    kind: str
    """``medoid`` (a cluster's medoid) or ``peak load`` / ``peak pv`` (an extreme day kept)."""
    ambient_temp_c: float
    """Daily mean ambient temperature of the day (seasonal curve), degC."""
    seed_offset: int = 0
    """Seed replicate ``j``: the day is simulated with the scenario's seed + j (0: the scenario's seed)."""


def seasonal_ambient_temp_c(day_of_year: int) -> float:
    """Daily mean ambient temperature on ``day_of_year`` (module docstring), degC."""
    return 9.6 + 8.7 * math.cos(2.0 * math.pi * (day_of_year - 197) / 365.0)


def year_profiles(spec: ScenarioSpec) -> dict[str, np.ndarray]:
    """The year of the scenario's profile source as (days, 96) arrays: ``load``, ``pv``, ``wind``.

    Only SimBench profiles hold a year; a CSV or synthetic source has one day, so it cannot be clustered.
    """
    ps = spec.profiles
    if ps.source != "simbench":
        raise ScenarioError(
            f"profiles: field representative_days needs a year of profiles (source simbench); "
            f"source {ps.source!r} holds one day"
        )
    from coordstudio.simulation.scenario.simbench_profiles import grid_profile_tables

    prof = grid_profile_tables(ps.simbench_code)  # cached on disk, not the whole grid (issue 21)
    columns = {
        "load": ("load", f"{ps.load_profile}_pload"),
        "pv": ("renewables", ps.pv_profile),
        "wind": ("renewables", ps.wind_profile),
    }
    out: dict[str, np.ndarray] = {}
    for name, (table, column) in columns.items():
        names, table_values = prof[table]
        if column not in names:
            raise ScenarioError(
                f"profiles: SimBench grid {ps.simbench_code} has no {table} profile {column!r}"
            )
        values = table_values[:, names.index(column)]
        n_days = values.size // STEPS_PER_DAY
        out[name] = values[: n_days * STEPS_PER_DAY].reshape(n_days, STEPS_PER_DAY)
    return out


def year_features(spec: ScenarioSpec) -> dict[str, np.ndarray]:
    """What the selection compares days by, as (days, 96) arrays: the profiles of :func:`year_profiles`
    and ``temperature``, the day's seasonal mean ambient temperature (degC) in each quarter-hour.

    The daily swing (``profiles.ambient_temp_swing_c``) is the same on every day, so only the mean
    tells days apart."""
    out = year_profiles(spec)
    n_days = out["load"].shape[0]
    temps = np.array([seasonal_ambient_temp_c(doy) for doy in range(1, n_days + 1)])
    out["temperature"] = np.repeat(temps[:, None], STEPS_PER_DAY, axis=1)
    return out


def stratum_days(year: dict[str, np.ndarray], share: float, stress_days: int = 0) -> list[int]:
    """Day indices (0 = 1 January) of the stress stratum, highest mean load over :data:`STRESS_WINDOW_STEPS`
    first: the ``K = max(stress_days, round(share N_days))`` days of the module docstring's "Stress
    stratum"."""
    lo, hi = STRESS_WINDOW_STEPS
    evening = year["load"][:, lo:hi].mean(axis=1)
    k = max(int(stress_days), int(round(share * evening.size)))
    return [int(i) for i in np.argsort(-evening, kind="stable")[:k]]


def stress_stratum(year: dict[str, np.ndarray], stress_days: int, share: float) -> list[tuple[int, int]]:
    """The stress stratum's simulated days (module docstring, "Stress stratum"): ``(day index, days it
    stands for)`` per run of the ``K = max(S, round(share N_days))`` days of the highest mean load over
    :data:`STRESS_WINDOW_STEPS`, the middle day of each run of (nearly) equal length in order of that
    load. Empty when ``stress_days`` is 0."""
    s = int(stress_days)
    return _middle_of_runs(stratum_days(year, share, s), s) if s > 0 else []


def _middle_of_runs(ranked: Sequence[int], runs: int) -> list[tuple[int, int]]:
    """``ranked`` cut into ``runs`` consecutive runs of (nearly) equal length: (middle day, run length)."""
    return [(ranked[run[len(run) // 2]], len(run)) for run in np.array_split(np.arange(len(ranked)), runs)]


def _day(index: int, weight_days: float, kind: str) -> RepresentativeDay:
    """The representative day of day index ``index`` (0 = 1 January; SimBench's 366th day is simulated as
    the 365th) at its seasonal temperature."""
    doy = min(int(index) + 1, 365)
    return RepresentativeDay(f"d{doy:03d}", doy, weight_days, kind, round(seasonal_ambient_temp_c(doy), 2))


def select_representative_days(
    spec: ScenarioSpec, n_days: int | None = None, fit_to_means: bool = True,
    stress_days: int | None = None,
) -> list[RepresentativeDay]:
    """The ``n_days`` representative days of the spec's profile year (default: the spec's setting), of
    which ``stress_days`` (default: the spec's ``profiles.stress_days``) from the stress stratum.

    Returns them sorted by day of year; their weights sum to 365 days (module docstring for the method).
    ``fit_to_means=False`` keeps the cluster sizes as weights (scaled to 365 days) instead of
    :func:`fit_weights`: what ``benchmarks/repdays_error.py compare --weights clusters`` measures.
    """
    import pandas as pd
    import tsam.timeseriesaggregation as tsam

    n = int(n_days if n_days is not None else spec.profiles.representative_days)
    if n < 1:
        raise ScenarioError(f"profiles: field representative_days must be >= 1 to select days, got {n}")
    year = year_features(spec)
    total_days = year["load"].shape[0]
    if n > total_days:
        raise ScenarioError(
            f"profiles: field representative_days {n} exceeds the {total_days} days of the year"
        )
    n_stress = int(spec.profiles.stress_days if stress_days is None else stress_days)
    if n_stress >= n:
        raise ScenarioError(
            f"profiles: field stress_days {n_stress} must be below representative_days {n}"
        )
    ranked = stratum_days(year, spec.profiles.stress_share_frac, n_stress) if n_stress else []
    stress = _middle_of_runs(ranked, n_stress) if n_stress else []
    in_stratum = set(ranked)
    rest = np.array([i for i in range(total_days) if i not in in_stratum])  # the clustering's days
    frame = pd.DataFrame({name: arr[rest].ravel() for name, arr in year.items()})
    frame.index = pd.date_range("2016-01-01", periods=len(frame), freq="15min")
    n_rest = n - n_stress
    extremes = EXTREME_DAYS if n_rest >= 3 else ()
    n_typical = n_rest - len(extremes)
    agg = tsam.TimeSeriesAggregation(
        frame,
        noTypicalPeriods=n_typical,
        hoursPerPeriod=24,
        resolution=24.0 / STEPS_PER_DAY,
        clusterMethod="hierarchical",
        representationMethod="medoidRepresentation",
        extremePeriodMethod="new_cluster_center" if extremes else "None",
        addPeakMax=[name for name, _ in extremes],
        rescaleClusterPeriods=False,
    )
    with warnings.catch_warnings():
        # medoids are days of the year, so their maximum cannot exceed the year's; tsam's normalisation
        # round trip leaves 5.6e-17 of it on the load, and tsam compares its numericalTolerance with the
        # largest difference of any column (wind's max is far below), so it warns on every selection
        warnings.filterwarnings("ignore", message="At least one maximal value of the aggregated time series")
        agg.createTypicalPeriods()
    counts = {int(c): int(v) for c, v in agg.clusterPeriodNoOccur.items()}
    day_index: dict[int, tuple[int, str]] = {
        c: (int(i), "medoid") for c, i in enumerate(agg.clusterCenterIndices)
    }
    for info in getattr(agg, "extremePeriods", {}).values():
        kind = "peak " + str(info["column"])
        day_index[int(info["newClusterNo"])] = (int(info["stepNo"]), kind)
    scale = YEAR_DAYS / float(total_days)
    days = [_day(idx, length * scale, "stress") for idx, length in stress]
    for cluster, count in counts.items():
        if count:
            idx, kind = day_index[cluster]
            days.append(_day(int(rest[idx]), count * scale, kind))
    merged: dict[int, RepresentativeDay] = {}
    for d in days:  # a medoid that is also an extreme day: one day, the weights added
        if d.day_of_year in merged:
            old = merged[d.day_of_year]
            d = RepresentativeDay(d.day_id, d.day_of_year, old.weight_days + d.weight_days,
                                  old.kind if old.kind != "medoid" else d.kind, d.ambient_temp_c)
        merged[d.day_of_year] = d
    chosen = sorted(merged.values(), key=lambda d: d.day_of_year)
    fixed = [d.kind == "stress" for d in chosen]
    fitted = fit_weights(year, chosen, fixed) if fit_to_means else [d.weight_days for d in chosen]
    return [
        RepresentativeDay(d.day_id, d.day_of_year, float(w), d.kind, d.ambient_temp_c)
        for d, w in zip(chosen, fitted, strict=True)
    ]


MEAN_TOLERANCES: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
"""Relative tolerances on each feature's weighted mean that :func:`fit_weights` tries, the smallest first."""


def fit_weights(
    year: dict[str, np.ndarray], days: list[RepresentativeDay], fixed: Sequence[bool] | None = None
) -> list[float]:
    """The cluster sizes, changed as little as possible so the weighted days have the year's mean of each
    feature (load, PV, wind, temperature), exactly or within the smallest tolerance the days allow.

    Medoids are real days, so their weighted mean differs from the year's (by 3-13 % for PV and wind with
    8 days); the annual energy a KPI is scaled by must not. A linear programme (scipy's HiGHS) finds::

        min sum_d |w_d - w0_d|   s.t.  sum_d w_d = 365,  w_d >= 1,
                                       |sum_d w_d m_fd - 365 m_f| <= tol 365 |m_f|   (f in ``year``)

    with ``w0`` the cluster sizes, ``m_fd`` the mean of feature f on day d and ``m_f`` its mean over the
    year, for the first ``tol`` of :data:`MEAN_TOLERANCES` (0, 1, 2, 5, 10, 20 %) for which such weights
    exist. Eight days of the default scenario cannot match the four means exactly with every weight at
    least one day; they match each within 1 %. When no tolerance works (4 days: no weights bring wind's
    mean within 20 %), and with fewer than 4 days, the cluster sizes are kept. A day flagged in ``fixed``
    (a stress day: its weight is its run of the stress stratum) keeps ``w_d = w0_d``.
    """
    from scipy.optimize import linprog

    w0 = np.array([d.weight_days for d in days])
    n = len(days)
    if n < 4:
        return list(w0)
    means = np.array([[arr[d.day_of_year - 1].mean() for d in days] for arr in year.values()])
    targets = np.array([arr.mean() for arr in year.values()]) * YEAR_DAYS
    n_f = means.shape[0]
    # variables: w (n), u (n), v (n) with w - w0 = u - v, u, v >= 0; minimise sum(u + v)
    eye = np.eye(n)
    a_eq = np.vstack([
        np.hstack([np.ones((1, n)), np.zeros((1, 2 * n))]),
        np.hstack([eye, -eye, eye]),
    ])
    b_eq = np.concatenate([[YEAR_DAYS], w0])
    a_ub = np.vstack([
        np.hstack([means, np.zeros((n_f, 2 * n))]),
        np.hstack([-means, np.zeros((n_f, 2 * n))]),
    ])
    cost = np.concatenate([np.zeros(n), np.ones(2 * n)])
    keep = [False] * n if fixed is None else list(fixed)
    bounds = [(float(w), float(w)) if k else (1.0, None) for w, k in zip(w0, keep, strict=True)]
    bounds += [(0.0, None)] * (2 * n)
    for tol in MEAN_TOLERANCES:
        if tol == 0.0:  # exact: equality rows (an inequality pair of zero width is numerically fragile)
            res = linprog(cost, A_eq=np.vstack([a_eq, a_ub[:n_f]]), b_eq=np.concatenate([b_eq, targets]),
                          bounds=bounds, method="highs")
        else:
            slack = tol * np.abs(targets)
            res = linprog(cost, A_ub=a_ub, b_ub=np.concatenate([targets + slack, -targets + slack]),
                          A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status == 0:
            w = np.asarray(res.x[:n])
            return list(w * (YEAR_DAYS / w.sum()))
    return list(w0)


def spec_for_day(spec: ScenarioSpec, day: RepresentativeDay) -> ScenarioSpec:
    """The scenario with its profiles taken on ``day`` (day of year and seasonal temperature) and the
    day's seed (``seed + seed_offset``): one simulation, so neither days nor replicates are left in it."""
    profiles = spec.profiles.model_copy(
        update={
            "day_of_year": day.day_of_year,
            "ambient_temp_c": day.ambient_temp_c,
            "representative_days": 0,
            "seed_replicates": 1,
        }
    )
    update: dict[str, object] = {"profiles": profiles}
    if day.seed_offset:
        update["seed"] = spec.seed + day.seed_offset
    return spec.model_copy(update=update)


def replicate_day_id(day_id: str, replicate: int) -> str:
    """Id of seed replicate ``replicate`` of day ``day_id``: the day's own id for 0, else ``d175r<j>``."""
    return day_id if replicate == 0 else f"{day_id}r{replicate}"


def with_seed_replicates(days: Sequence[RepresentativeDay], replicates: int) -> list[RepresentativeDay]:
    """Each day followed by its seed replicates 1..K-1, every one with ``w_d / K`` of the day's weight
    (module docstring); the days themselves when ``replicates`` is 1."""
    k = int(replicates)
    if k < 1:
        raise ScenarioError(f"profiles: field seed_replicates must be >= 1, got {k}")
    if k == 1:
        return list(days)
    return [
        replace(d, day_id=replicate_day_id(d.day_id, j), weight_days=d.weight_days / k, seed_offset=j)
        for d in days for j in range(k)
    ]


def simulated_days(spec: ScenarioSpec, study_day_weight_days: float = YEAR_DAYS) -> list[RepresentativeDay]:
    """Every day a study with this scenario simulates, seed replicates included; empty when it simulates
    its one ``day_of_year`` once (the run without days, its weights the CBA's own).

    * ``representative_days`` >= 1: the selected days (:func:`select_representative_days`), each with its
      ``seed_replicates``;
    * ``representative_days`` 0 and ``seed_replicates`` K >= 2: K replicates of ``day_of_year`` at the
      scenario's own temperature, each standing for ``study_day_weight_days / K`` (the days a year the
      CBA gives the study's day: the sum of its ``day_weights_days_per_year``).
    """
    k = spec.profiles.seed_replicates
    if spec.profiles.representative_days > 0:
        return with_seed_replicates(select_representative_days(spec), k)
    if k <= 1:
        return []
    doy = spec.profiles.day_of_year
    day = RepresentativeDay(f"d{doy:03d}", doy, float(study_day_weight_days), "study day",
                            spec.profiles.ambient_temp_c)
    return with_seed_replicates([day], k)


def replicate_groups(day_ids: Sequence[str]) -> list[list[int]]:
    """The positions in ``day_ids`` of each simulated day's seed replicates, one list per day, days in
    order of first appearance: a ``d175r<j>`` id (:data:`REPLICATE_ID`) joins day ``d175``'s list, any
    other id is a day of its own. ``[[0], [1], ...]`` when no day has replicates."""
    groups: dict[str, list[int]] = {}
    for i, day_id in enumerate(day_ids):
        match = REPLICATE_ID.match(day_id)
        base = match.group("day") if match and match.group("day") in day_ids else day_id
        groups.setdefault(base, []).append(i)
    return list(groups.values())


def day_weights(days: list[RepresentativeDay]) -> dict[str, float]:
    """Day id -> weight (days/a), the CBA's ``day_weights_days_per_year``."""
    return {d.day_id: d.weight_days for d in days}


def profile_statistics(
    year: dict[str, np.ndarray], days: list[RepresentativeDay]
) -> dict[str, dict[str, float]]:
    """Per profile: the year's mean and peak against the representative days' weighted mean and peak.

    ``mean_rep = sum_d w_d mean(profile on d) / sum_d w_d``; ``peak_rep = max_d max(profile on d)``.
    """
    out: dict[str, dict[str, float]] = {}
    weights = np.array([d.weight_days for d in days])
    for name, arr in year.items():
        rows = arr[[d.day_of_year - 1 for d in days]]
        out[name] = {
            "year_mean": float(arr.mean()),
            "rep_mean": float(np.sum(weights * rows.mean(axis=1)) / weights.sum()),
            "year_peak": float(arr.max()),
            "rep_peak": float(rows.max()),
        }
    return out
