"""Sensitivity of the NPVs: tornado, switching values and Monte Carlo, all vectorised with numpy.

* **Tornado**: each input of :attr:`~cba.parameters.CbaParameters.tornado_ranges` is set to its low
  and its high value, all others at base, and the NPV of every scheme recorded; a range that leaves out
  the study's value is moved around it (:func:`cba.parameters.anchored_ranges`).
* **Switching values**: the value of an input at which a scheme's NPV changes sign, and the value at
  which the first-ranked scheme loses first place, each the root nearest to the base value within the
  input's search domain (found on a grid of :data:`GRID_POINTS` values, then refined by bisection).
* **Monte Carlo**: :attr:`~cba.parameters.CbaParameters.monte_carlo_samples` draws of the uncertain
  inputs (triangular by inverse CDF, uniform, normal clipped to its optional bounds), each distribution
  centred on the study's own value (:func:`cba.parameters.anchored_inputs`), one NPV matrix
  evaluation (:class:`cba.cashflows.NpvModel`), then per scheme the mean, spread, percentiles,
  ``P(NPV < 0)`` and the probability of ranking first, and a histogram on common bin edges.
  With two or more representative days, or seed replicates of a day, the simulated days and their
  seeds are resampled too (:func:`day_bootstrap`), so the spread of the simulation itself enters the NPV
  distribution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from coordstudio.cba.benefits import CATEGORY_KPIS, AnnualQuantities
from coordstudio.cba.cashflows import NpvModel
from coordstudio.cba.parameters import (
    BENEFIT_CATEGORIES,
    SCALAR_PARAMETERS,
    CbaParameters,
    UncertainInput,
    anchored_inputs,
    anchored_ranges,
)
from coordstudio.simulation.scenario.representative_days import replicate_groups

__all__ = [
    "GRID_POINTS",
    "MonteCarloResult",
    "MonteCarloScheme",
    "SwitchingValue",
    "TornadoEntry",
    "day_bootstrap",
    "effective_days",
    "monte_carlo",
    "replicate_spread",
    "sample_inputs",
    "search_domain",
    "switching_values",
    "tornado",
]

FloatArray = NDArray[np.float64]

#: Grid points of the switching-value search before bisection.
GRID_POINTS = 801


class TornadoEntry(BaseModel):
    """NPV of one scheme with one input at its low and its high value, all else at base."""

    model_config = ConfigDict(extra="forbid")

    parameter: str = Field(description="Input moved.")
    unit: str = Field(description="Unit of the input.")
    scheme: str = Field(description="Scheme id.")
    base_value: float = Field(description="Base value of the input, in its unit.")
    low_value: float = Field(description="Low value of the input, in its unit.")
    high_value: float = Field(description="High value of the input, in its unit.")
    npv_base_eur: float = Field(description="NPV at base, EUR.")
    npv_low_eur: float = Field(description="NPV with the input at its low value, EUR.")
    npv_high_eur: float = Field(description="NPV with the input at its high value, EUR.")

    @property
    def swing_eur(self) -> float:
        """Width of the bar, ``|NPV(high) - NPV(low)|``, EUR."""
        return abs(self.npv_high_eur - self.npv_low_eur)


class SwitchingValue(BaseModel):
    """The value of an input at which a conclusion flips (NPV sign or first place)."""

    model_config = ConfigDict(extra="forbid")

    parameter: str = Field(description="Input moved.")
    unit: str = Field(description="Unit of the input.")
    kind: str = Field(description="'npv_sign': the scheme's NPV crosses 0; 'ranking': first place changes.")
    scheme: str = Field(description="Scheme whose NPV sign (or first place) is tested.")
    other_scheme: str | None = Field(default=None, description="Scheme taking first place (ranking only).")
    base_value: float = Field(description="Base value of the input, in its unit.")
    switching_value: float | None = Field(
        default=None, description="Value at which the conclusion flips, in the input's unit; None if none."
    )
    change_fraction: float | None = Field(
        default=None, description="(switching - base) / |base|, a fraction; None if base is 0 or no switch."
    )
    domain_low: float = Field(description="Lowest value searched, in the input's unit.")
    domain_high: float = Field(description="Highest value searched, in the input's unit.")


class MonteCarloScheme(BaseModel):
    """Distribution of one scheme's NPV over the Monte Carlo samples."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    mean_npv_eur: float = Field(description="Mean NPV, EUR.")
    std_npv_eur: float = Field(description="Standard deviation of the NPV, EUR.")
    p05_npv_eur: float = Field(description="5th percentile of the NPV, EUR.")
    p50_npv_eur: float = Field(description="Median NPV, EUR.")
    p95_npv_eur: float = Field(description="95th percentile of the NPV, EUR.")
    prob_npv_negative: float = Field(description="Share of samples with NPV < 0, fraction.")
    prob_rank_first: float = Field(description="Share of samples in which the scheme has the highest NPV.")
    histogram_counts: list[int] = Field(description="Samples per bin of MonteCarloResult.bin_edges_eur.")


class MonteCarloResult(BaseModel):
    """Monte Carlo over the uncertain inputs."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(description="Number of samples, count.")
    seed: int = Field(description="Seed of the sampler.")
    inputs: list[str] = Field(description="Inputs sampled (the others stay at base).")
    bin_edges_eur: list[float] = Field(description="Common NPV histogram bin edges, EUR.")
    schemes: list[MonteCarloScheme] = Field(description="NPV distribution per scheme.")
    elapsed_s: float = Field(default=0.0, description="Time the sampling and evaluation took, s.")
    day_spread: bool = Field(
        default=False, description="Whether the simulated days were resampled (two or more days)."
    )
    seed_spread: bool = Field(
        default=False,
        description="Whether the seed replicates of the simulated days were resampled within each day "
        "(profiles.seed_replicates >= 2).",
    )

    def scheme(self, scheme_id: str) -> MonteCarloScheme:
        """The distribution of ``scheme_id``."""
        for item in self.schemes:
            if item.scheme == scheme_id:
                return item
        raise KeyError(scheme_id)


# ------------------------------------------------------------------------------------------ tornado


def tornado(model: NpvModel, params: CbaParameters) -> list[TornadoEntry]:
    """One entry per (tornado range, scheme), ranges in the order given."""
    base = model.npv({}, 1)[0]
    entries: list[TornadoEntry] = []
    for rng in anchored_ranges(params):
        npv = model.npv_at(rng.parameter, np.array([rng.low, rng.high]))
        for si, scheme in enumerate(model.schemes):
            entries.append(
                TornadoEntry(
                    parameter=rng.parameter,
                    unit=SCALAR_PARAMETERS[rng.parameter],
                    scheme=scheme,
                    base_value=params.scalar(rng.parameter),
                    low_value=rng.low,
                    high_value=rng.high,
                    npv_base_eur=float(base[si]),
                    npv_low_eur=float(npv[0, si]),
                    npv_high_eur=float(npv[1, si]),
                )
            )
    return entries


# -------------------------------------------------------------------------------- switching values


def search_domain(params: CbaParameters, name: str) -> tuple[float, float]:
    """Range searched for a switching value of input ``name``.

    Rates: discount rate 0..50 %/a, escalation -5..+20 %/a. Prices and multipliers: 0 up to ten times
    the largest of the base value and the bounds of its tornado range and distribution (at least 1).
    """
    if name == "discount_rate":
        return 0.0, 0.5
    if name == "escalation_rate":
        return -0.05, 0.2
    top = max(abs(params.scalar(name)), 1e-300)
    for rng in anchored_ranges(params):
        if rng.parameter == name:
            top = max(top, abs(rng.low), abs(rng.high))
    for dist in anchored_inputs(params):
        if dist.parameter == name:
            for v in (dist.min, dist.mode, dist.max, dist.mean):
                if v is not None:
                    top = max(top, abs(v))
    return 0.0, 10.0 * max(top, 1.0)


def _bisect(
    func: Callable[[float], float], lo: float, hi: float, f_lo: float, iterations: int = 100
) -> float:
    """Root of ``func`` in ``[lo, hi]`` where ``func(lo) = f_lo`` and ``func(hi)`` differ in sign."""
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        f_mid = func(mid)
        if f_mid == 0.0:
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, abs(lo)):
            break
    return 0.5 * (lo + hi)


def _nearest_root(
    grid: FloatArray, values: FloatArray, base: float, func: Callable[[float], float]
) -> float | None:
    """Root of ``func`` nearest to ``base`` from the sign changes of ``values`` on ``grid``."""
    sign = np.sign(values)
    roots: list[float] = []
    exact = np.flatnonzero(sign == 0)
    roots.extend(float(grid[i]) for i in exact)
    changes = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    for i in changes:
        roots.append(_bisect(func, float(grid[i]), float(grid[i + 1]), float(values[i])))
    if not roots:
        return None
    return min(roots, key=lambda r: abs(r - base))


def _parameters_for_switching(params: CbaParameters) -> list[str]:
    names = [r.parameter for r in params.tornado_ranges] + [u.parameter for u in params.uncertain_inputs]
    ordered = list(dict.fromkeys(names))
    if params.price_basis == "real":
        ordered = [n for n in ordered if n != "escalation_rate"]
    return ordered


def switching_values(
    model: NpvModel, params: CbaParameters, ranking: Sequence[str]
) -> list[SwitchingValue]:
    """Switching values of the NPV sign of each non-reference scheme and of first place.

    Inputs considered: those with a tornado range or a distribution. With the incremental cost basis
    the reference scheme's NPV is identically 0 and has no sign switch, so it is skipped.
    """
    out: list[SwitchingValue] = []
    schemes = list(model.schemes)
    leader = ranking[0] if ranking else None
    for name in _parameters_for_switching(params):
        lo, hi = search_domain(params, name)
        base = params.scalar(name)
        grid = np.unique(np.concatenate([np.linspace(lo, hi, GRID_POINTS), [base]]))
        grid = grid[(grid >= lo) & (grid <= hi)] if lo <= base <= hi else grid
        npv = model.npv_at(name, grid)  # (G, S)
        unit = SCALAR_PARAMETERS[name]

        def change(value: float | None, base: float = base) -> float | None:
            if value is None or base == 0.0:
                return None
            return (value - base) / abs(base)

        for si, scheme in enumerate(schemes):
            if params.ict_cost_basis == "incremental" and scheme == params.reference_scheme:
                continue
            col = npv[:, si]

            def f_sign(x: float, si: int = si, name: str = name) -> float:
                return float(model.npv_at(name, np.array([x]))[0, si])

            root = _nearest_root(grid, col, base, f_sign)
            out.append(
                SwitchingValue(
                    parameter=name, unit=unit, kind="npv_sign", scheme=scheme, base_value=base,
                    switching_value=root, change_fraction=change(root), domain_low=lo, domain_high=hi,
                )
            )
        if leader is None or len(schemes) < 2:
            continue
        li = schemes.index(leader)
        others = [i for i in range(len(schemes)) if i != li]
        gap = npv[:, li] - npv[:, others].max(axis=1)

        def f_gap(x: float, li: int = li, others: list[int] = others, name: str = name) -> float:
            row = model.npv_at(name, np.array([x]))[0]
            return float(row[li] - row[others].max())

        root = _nearest_root(grid, gap, base, f_gap)
        taker: str | None = None
        if root is not None:
            # Which scheme leads just past the root (on the side away from the base value)?
            step = 1e-6 * max(1.0, abs(root)) * (1.0 if root >= base else -1.0)
            row = model.npv_at(name, np.array([root + step]))[0]
            taker = schemes[others[int(np.argmax(row[others]))]]
        out.append(
            SwitchingValue(
                parameter=name, unit=unit, kind="ranking", scheme=leader, other_scheme=taker,
                base_value=base, switching_value=root, change_fraction=change(root),
                domain_low=lo, domain_high=hi,
            )
        )
    return out


# ------------------------------------------------------------------------------------- Monte Carlo


def _sample(dist: UncertainInput, n: int, rng: np.random.Generator) -> FloatArray:
    if dist.distribution == "uniform":
        return rng.uniform(float(dist.min), float(dist.max), n)  # type: ignore[arg-type]
    if dist.distribution == "triangular":
        a, c, b = float(dist.min), float(dist.mode), float(dist.max)  # type: ignore[arg-type]
        u = rng.random(n)
        if b == a:
            return np.full(n, a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)
    x = rng.normal(float(dist.mean), float(dist.std), n)  # type: ignore[arg-type]
    if dist.min is not None or dist.max is not None:
        x = np.clip(x, dist.min, dist.max)
    return np.asarray(x, dtype=float)


def sample_inputs(
    params: CbaParameters, n: int | None = None, seed: int | None = None
) -> dict[str, FloatArray]:
    """Draw ``n`` samples of every uncertain input (independent), reproducible from ``seed``, each
    distribution centred on the study's value (:func:`cba.parameters.anchored_inputs`)."""
    n = params.monte_carlo_samples if n is None else n
    rng = np.random.default_rng(params.monte_carlo_seed if seed is None else seed)
    return {dist.parameter: _sample(dist, n, rng) for dist in anchored_inputs(params)}


def _daily_reductions(params: CbaParameters, q: AnnualQuantities) -> FloatArray:
    """``r[s, c, d]``: the reduction of category ``c``'s KPI of scheme ``s`` against the reference on day
    ``d``, scaled to 24 h and to the stated system (so that ``sum_d w_d r[s, c, d]`` is
    ``q.reduction[s, c]``)."""
    days = list(q.days)
    per = np.zeros((len(q.schemes), len(BENEFIT_CATEGORIES), len(days)), dtype=float)
    for si, scheme in enumerate(q.schemes):
        for di, day in enumerate(days):
            k = q.by_scheme_day[(scheme, day)]
            for ci, category in enumerate(BENEFIT_CATEGORIES):
                amount = sum(float(getattr(k, f)) for f in CATEGORY_KPIS[category])
                per[si, ci, di] = amount * 24.0 / k.duration_h
    ref = q.schemes.index(q.reference)
    # the CBA's quantities are those of the stated system (cba.system_scale: scale_factor x the grid's)
    scale = float(params.system.scale_factor)
    return np.asarray((per[ref][None, :, :] - per) * scale, dtype=float)


def day_bootstrap(
    params: CbaParameters, q: AnnualQuantities, n: int, rng: np.random.Generator
) -> FloatArray | None:
    """Deviation of the yearly KPI reductions when the simulated days and their seeds are resampled,
    ``(n, S, C)``; a two-stage bootstrap.

    The simulated days ``d`` (``D`` of them, :func:`simulation.scenario.representative_days.replicate_groups`)
    each have ``K_d`` seed replicates ``m`` with weights ``w_m`` (``w_d = sum_m w_m``, ``W = sum_d w_d``
    the days of the year). Each Monte Carlo sample

    1. draws ``D`` days with replacement, day ``d`` with probability ``w_d / W`` (the days as a sample of
       the year);
    2. for each day drawn, draws ``K_d`` of its replicates with replacement, replicate ``m`` with
       probability ``w_m / w_d`` (the seeds as a sample of the random draws), and takes their mean;

    and the yearly reduction is ``W`` times the mean of the ``D`` day values. Its expectation is the
    deterministic ``sum_m w_m r_m`` (``E[count of m] = D w_m / W``), so only the spread is added. Its
    variance, by the law of total variance over one day's value::

        var = W^2 / D * ( var_w(rbar_d) + sum_d (w_d / W) s_d^2 / K_d )

    with ``rbar_d = sum_m (w_m / w_d) r_m`` the day's replicate mean, ``var_w`` the weighted variance of
    the day means over ``w_d / W`` and ``s_d^2 = sum_m (w_m / w_d) (r_m - rbar_d)^2`` the day's spread over
    seeds. Without replicates (``K_d = 1``) it is ``W^2 var_w(r) / D``, the standard error of an annual
    figure estimated from ``D`` days, and the draws are those of the one-stage bootstrap (same generator
    calls, same samples). With one day and ``K`` seeds it is ``W^2 s^2 / K``, the squared standard error
    of the seeds' mean (with the population variance ``s^2``, so ``(K - 1) / K`` of the unbiased one).
    With two or more days, resampling at both stages counts the seed noise once more than resampling the
    days alone, whose day means already carry it (Davison and Hinkley 1997, section 3.8): by
    ``W^2 / D * sum_d (w_d / W) s_d^2 / K_d``, so the spread errs on the wide side; with one day the
    second stage is the only measure of the spread.

    Unequal day weights: the deviations are multiplied by ``sqrt(D / D_eff)`` (:func:`effective_days`), so
    the variance is ``W^2 / D_eff * (...)``: representative days weighted 118, 104 and 1 d/a carry less
    information about the year than as many equally weighted days. Measured on the default study's 8 days
    (``D_eff`` = 4.3) against its whole simulated year (docs/cba.md, "The full year"): the corrected spread
    of a scheme's yearly benefit (without energy not served) is 25-86 k EUR/a (uncorrected: 18-63), the
    year's own day-to-day spread gives an estimate with these weights 80-102 k EUR/a. The rest of the gap
    no bootstrap of the chosen days can see: they are medoids, and can agree among themselves more than the
    year's days do (SBR: 25 against 102).

    Schemes are resampled on the same days and replicates, which keeps their correlation. ``None`` with
    a single simulation (one day, one seed: no spread is measured).
    """
    if len(q.days) < 2:
        return None
    weights = np.array([params.day_weights_days_per_year[d] for d in q.days], dtype=float)
    total = float(weights.sum())
    groups = replicate_groups(list(q.days))
    days = len(groups)
    group_w = np.array([weights[g].sum() for g in groups], dtype=float)
    r = _daily_reductions(params, q)  # (S, C, M), M = every simulated day and replicate
    picks = rng.choice(days, size=(n, days), p=group_w / total)  # (n, D): stage 1, the days
    drawn = np.zeros((n, days), dtype=float)  # how often each day was drawn
    np.add.at(drawn, (np.arange(n)[:, None], picks), 1.0)
    counts = np.zeros((n, len(q.days)), dtype=float)  # (n, M): weight of each replicate in the D values
    for gi, members in enumerate(groups):
        if len(members) == 1:
            counts[:, members[0]] = drawn[:, gi]
            continue
        # stage 2: K draws per time the day was drawn; the counts of its replicates over all of them are
        # multinomial (same draws, summed), each draw counting 1/K of a day
        k = len(members)
        inner = rng.multinomial((drawn[:, gi] * k).astype(np.int64), weights[members] / group_w[gi])
        counts[:, members] = inner / k
    resampled = total / days * np.einsum("nm,scm->nsc", counts, r)
    # unequal day weights: the spread of an estimate from D days weighted w_d is that of D_eff equally
    # weighted days (Kish's effective sample size), not of D
    inflate = math.sqrt(days / effective_days(group_w))
    return np.asarray(inflate * (resampled - q.reduction[None, :, :]), dtype=float)


def effective_days(weights: FloatArray) -> float:
    """Kish's effective number of days of a weighted set, ``D_eff = (sum_d w_d)^2 / sum_d w_d^2``.

    The variance of ``sum_d w_d r_d`` over independent days of variance ``s^2`` is ``s^2 sum_d w_d^2 =
    W^2 s^2 / D_eff`` (Kish, Survey Sampling, 1965, section 11.7): ``D`` days of equal weight count as
    ``D``, and a set whose weight sits on a few days counts as those few. The default study's 8 days
    (weights 1 to 118 d/a, fitted to the year's means) count as 4.3."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / float(np.sum(w * w)))


def replicate_spread(params: CbaParameters, q: AnnualQuantities) -> FloatArray | None:
    """Deviation of the yearly KPI reductions of each seed replicate from the deterministic value,
    ``(K, S, C)``: replicate ``j``'s yearly reduction takes replicate ``j`` of every simulated day at the
    day's whole weight, ``sum_d w_d r_dj``. Their mean is 0 (the deterministic value is the mean of the
    replicates when each day's replicates share its weight equally); their spread is what the seeds
    showed. ``None`` without replicates, or when days have different numbers of replicates."""
    groups = replicate_groups(list(q.days))
    k = len(groups[0])
    if k < 2 or any(len(g) != k for g in groups):
        return None
    weights = np.array([params.day_weights_days_per_year[d] for d in q.days], dtype=float)
    r = _daily_reductions(params, q)  # (S, C, M)
    out = np.zeros((k, *q.reduction.shape), dtype=float)
    for members in groups:
        day_weight = float(weights[members].sum())
        for j, m in enumerate(members):
            out[j] += day_weight * r[:, :, m]
    return np.asarray(out - q.reduction[None, :, :], dtype=float)


def monte_carlo(
    model: NpvModel, params: CbaParameters, n: int | None = None, seed: int | None = None,
    quantities: AnnualQuantities | None = None,
) -> tuple[MonteCarloResult, FloatArray]:
    """Sample, evaluate and summarise; returns the summary and the ``(n, S)`` NPV samples.

    With ``quantities`` (two or more days, or seed replicates of a day) and
    ``params.monte_carlo_day_spread``, the days and their seeds are resampled as well
    (:func:`day_bootstrap`, on a generator of its own so the input draws do not change).
    """
    import time

    start = time.perf_counter()
    n = params.monte_carlo_samples if n is None else n
    seed = params.monte_carlo_seed if seed is None else seed
    draws = sample_inputs(params, n, seed)
    deviation = None
    groups = replicate_groups(list(quantities.days)) if quantities is not None else []
    if quantities is not None and params.monte_carlo_day_spread:
        deviation = day_bootstrap(params, quantities, n, np.random.default_rng(seed + 1))
    npv = model.npv(draws, n, reduction_deviation=deviation)
    best = np.argmax(npv, axis=1)
    lo, hi = float(npv.min()), float(npv.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, params.histogram_bins + 1)
    pct = np.percentile(npv, [5.0, 50.0, 95.0], axis=0)
    schemes = []
    for si, scheme in enumerate(model.schemes):
        counts, _ = np.histogram(npv[:, si], bins=edges)
        schemes.append(
            MonteCarloScheme(
                scheme=scheme,
                mean_npv_eur=float(npv[:, si].mean()),
                std_npv_eur=float(npv[:, si].std(ddof=1)) if n > 1 else 0.0,
                p05_npv_eur=float(pct[0, si]),
                p50_npv_eur=float(pct[1, si]),
                p95_npv_eur=float(pct[2, si]),
                prob_npv_negative=float(np.mean(npv[:, si] < 0.0)),
                prob_rank_first=float(np.mean(best == si)),
                histogram_counts=[int(c) for c in counts],
            )
        )
    elapsed = time.perf_counter() - start
    result = MonteCarloResult(
        samples=n,
        seed=seed,
        inputs=[d.parameter for d in params.uncertain_inputs],
        bin_edges_eur=[float(e) for e in edges],
        schemes=schemes,
        elapsed_s=elapsed,
        day_spread=deviation is not None and len(groups) >= 2,
        seed_spread=deviation is not None and any(len(g) >= 2 for g in groups),
    )
    return result, npv
