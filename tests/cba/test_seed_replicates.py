"""Seed replicates: each simulated day simulated with K seeds, and the Monte Carlo resampling them (issue 17
item 4, "add the simulation's own spread (days, stochastic seeds) where measured"; docs/cba.md "Seed
replicates").

* The days: ``profiles.seed_replicates: K`` expands each simulated day into K days of their own (ids
  ``d175``, ``d175r1``, ...), each with ``w_d / K`` and the seed ``seed + j``; replicate 0 is the
  scenario the run without replicates simulates (same spec, so the same rows), ``K = 1`` changes nothing.
* The CBA (synthetic KPIs, no simulation): the deterministic annual benefit is the replicates' mean (hand
  sum); the Monte Carlo's spread with one day and two seeds equals the two-stage bootstrap formula
  ``W^2 s^2 / K`` (``cba.sensitivity.day_bootstrap``) within 2 %; with several days and seeds the
  bootstrap's mean is the deterministic value and its variance
  ``W^2 / D (var_w(rbar_d) + sum_d w_d / W s_d^2 / K)``; without replicates the draws are those of the
  one-stage day bootstrap of before (same samples).
* One tiny run (the small scenario, one hour, CMS and CM, one day, K = 2): 2 rows per scheme, weights
  summing to the year, replicate 0 identical to a simulation of the study's own scenario, the CBA's
  benefit the mean of the two replicates, the draft stating the seeds and their spread.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from cba_fixtures import make_ict, make_kpis, make_params

from coordstudio.cba.analysis import run_cba
from coordstudio.cba.benefits import annual_quantities
from coordstudio.cba.finance import discount_factors
from coordstudio.cba.sensitivity import day_bootstrap
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.scenario.representative_days import (
    RepresentativeDay,
    replicate_groups,
    simulated_days,
    spec_for_day,
    with_seed_replicates,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulation"))
from sim_fixtures import small_spec  # noqa: E402


def _with_replicates(spec, k: int, days: int = 0):  # type: ignore[no-untyped-def]
    profiles = spec.profiles.model_copy(update={"seed_replicates": k, "representative_days": days})
    return spec.model_copy(update={"profiles": profiles})


# ----------------------------------------------------------------------------------------- the days


def test_the_study_day_is_split_into_k_seeded_replicates_and_k_1_changes_nothing() -> None:
    spec = small_spec(duration_h=1.0)
    assert simulated_days(_with_replicates(spec, 1)) == []  # the run without days, as before
    days = simulated_days(_with_replicates(spec, 3), 366.0)
    assert [d.day_id for d in days] == ["d175", "d175r1", "d175r2"]
    assert [d.seed_offset for d in days] == [0, 1, 2]
    assert [d.weight_days for d in days] == pytest.approx([122.0] * 3)
    specs = [spec_for_day(_with_replicates(spec, 3), d) for d in days]
    assert [s.seed for s in specs] == [spec.seed, spec.seed + 1, spec.seed + 2]
    assert specs[0] == spec  # replicate 0 simulates the study's own scenario: the rows of the run without
    assert all(s.profiles.seed_replicates == 1 for s in specs)


def test_representative_days_keep_their_scenario_with_one_seed_and_split_their_weight_with_k() -> None:
    day = RepresentativeDay("d015", 15, 200.0, "medoid", 1.5)
    spec = small_spec(duration_h=1.0)
    # the day's scenario as it was before seed replicates existed (day of year, temperature, no days)
    before = spec.model_copy(update={"profiles": spec.profiles.model_copy(
        update={"day_of_year": 15, "ambient_temp_c": 1.5, "representative_days": 0})})
    assert with_seed_replicates([day], 1) == [day]
    assert spec_for_day(spec, day) == before
    two = with_seed_replicates([day, RepresentativeDay("d190", 190, 165.0, "peak pv", 18.0)], 2)
    assert [(d.day_id, d.weight_days, d.seed_offset) for d in two] == [
        ("d015", 100.0, 0), ("d015r1", 100.0, 1), ("d190", 82.5, 0), ("d190r1", 82.5, 1)]
    assert sum(d.weight_days for d in two) == pytest.approx(365.0)
    assert replicate_groups([d.day_id for d in two]) == [[0, 1], [2, 3]]
    assert replicate_groups(["weekday", "weekend"]) == [[0], [1]]  # user-named days are days of their own


# ------------------------------------------------------------------------------- the CBA, synthetic

_SEED_FACTORS = (1.0, 0.8, 1.3)
"""Replicate j's quantities are the fixture day's times this factor: three seeds that disagree."""


def _replicated_kpis(days: dict[str, float], k: int) -> tuple[list[SchemeKpis], dict[str, float]]:
    """The fixture's KPIs with every day replicated ``k`` times; replicate j of scheme s != CMS has its
    reduction against CMS scaled by ``_SEED_FACTORS[j]`` (CMS's KPIs stay), weights ``w_d / k``."""
    base = make_kpis(days)
    cms = {k_.day: k_ for k_ in base if k_.scheme == "CMS"}
    out, weights = [], {}
    fields = ("resource_cost_eur", "afrr_cost_eur", "overload_energy_mwh", "voltage_violation_hours_h",
              "curtailed_res_mwh", "losses_mwh")
    for day, w in days.items():
        for j in range(k):
            day_id = day if j == 0 else f"{day}r{j}"
            weights[day_id] = w / k
            for rec in (r for r in base if r.day == day):
                f = _SEED_FACTORS[j]
                update = {name: getattr(cms[day], name) - f * (getattr(cms[day], name) - getattr(rec, name))
                          for name in fields}
                out.append(rec.model_copy(update={**update, "day": day_id}))
    return out, weights


def test_one_day_two_seeds_the_cba_is_their_mean_and_the_monte_carlo_spread_is_the_formula() -> None:
    """Hand calculation: with one day of weight W = 365 and two seeds, LMS's annual activation benefit is
    W x the mean of the two replicates' reductions, and its NPV's Monte Carlo standard deviation (no
    uncertain input: the seeds are the only spread) is A x W x s / sqrt(K), s = |b_0 - b_1| / 2 the
    seeds' population standard deviation of the priced daily reduction, A the annuity: within 2 %
    (20,000 samples of a three-valued variable; the estimate's relative error is about 0.4 %)."""
    kpis, weights = _replicated_kpis({"d175": 365.0}, 2)
    kpis = [k for k in kpis if k.scheme in ("CMS", "LMS")]
    params = make_params(day_weights_days_per_year=weights, uncertain_inputs=[], monte_carlo_samples=20_000)
    result = run_cba(params, kpis, make_ict())
    by = {(k.scheme, k.day): k for k in kpis}
    saving = [by[("CMS", d)].resource_cost_eur - by[("LMS", d)].resource_cost_eur for d in ("d175", "d175r1")]
    lms = result.scheme("LMS")
    assert lms.annual_benefits_eur_per_year["activation"] == pytest.approx(365.0 * sum(saving) / 2, rel=1e-12)
    mc = result.monte_carlo
    assert mc.seed_spread and not mc.day_spread
    annual = [sum(b for b in _priced(params, by, d)) for d in ("d175", "d175r1")]
    annuity = float(discount_factors(params.discount_rate, params.horizon_years)[1:].sum())
    expected = annuity * 365.0 * abs(annual[0] - annual[1]) / 2 / math.sqrt(2)
    assert expected > 0
    assert mc.scheme("LMS").std_npv_eur == pytest.approx(expected, rel=0.02)
    assert abs(mc.scheme("LMS").mean_npv_eur - lms.npv_eur) <= 4 * expected / math.sqrt(mc.samples)
    # the seeds' own figures: each replicate's NPV at the day's whole weight, their std with ddof 1
    spread = result.seed_spread
    assert spread is not None and spread.replicates == 2
    s = spread.scheme("LMS")
    assert s.npv_std_eur == pytest.approx(annuity * 365.0 * abs(annual[0] - annual[1]) / math.sqrt(2),
                                          rel=1e-9)
    assert np.mean(s.npv_eur) == pytest.approx(lms.npv_eur, rel=1e-12)
    assert np.mean(s.benefit_eur_per_year) == pytest.approx(sum(lms.annual_benefits_eur_per_year.values()),
                                                            rel=1e-12)


def _priced(params, by, day):  # type: ignore[no-untyped-def]
    """LMS's reductions against CMS on ``day`` at the base prices, EUR per simulated (24 h) day."""
    from coordstudio.cba.benefits import CATEGORY_KPIS, category_prices
    from coordstudio.cba.parameters import BENEFIT_CATEGORIES

    prices = category_prices(params)
    out = []
    for ci, c in enumerate(BENEFIT_CATEGORIES):
        red = sum(getattr(by[("CMS", day)], f) - getattr(by[("LMS", day)], f) for f in CATEGORY_KPIS[c])
        out.append(prices[ci] * red * 24.0 / by[("LMS", day)].duration_h)
    return out


def test_two_days_three_seeds_the_two_stage_bootstrap_has_its_stated_mean_and_variance() -> None:
    """Two days (261 and 104 d/a) with three seeds each: the bootstrap's deviations have mean 0 (within 4
    standard errors) and the standard deviation of ``W^2 / D_eff (var_w(rbar_d) + sum_d (w_d / W) s_d^2 /
    K)`` within 2 % (200,000 samples), computed here from the per-replicate reductions, with Kish's
    effective number of days ``D_eff = 365^2 / (261^2 + 104^2) = 1.688`` (hand calculation) for the two
    unequally weighted days."""
    kpis, weights = _replicated_kpis({"d010": 261.0, "d200": 104.0}, 3)
    params = make_params(day_weights_days_per_year=weights)
    q = annual_quantities(params, kpis)
    assert replicate_groups(list(q.days)) == [[0, 1, 2], [3, 4, 5]]
    n = 200_000
    dev = day_bootstrap(params, q, n, np.random.default_rng(5))
    assert dev is not None
    # per-replicate reductions r[s, c, m] scaled to a day (durations are 24 h in the fixture)
    from coordstudio.cba.benefits import CATEGORY_KPIS
    from coordstudio.cba.parameters import BENEFIT_CATEGORIES

    table = {(k.scheme, k.day): k for k in kpis}
    r = np.array([[[sum(getattr(table[(q.reference, d)], f) - getattr(table[(s, d)], f)
                        for f in CATEGORY_KPIS[c]) for d in q.days] for c in BENEFIT_CATEGORIES]
                  for s in q.schemes])
    w = np.array([weights[d] for d in q.days])
    total, days, k = w.sum(), 2, 3
    groups = [[0, 1, 2], [3, 4, 5]]
    wd = np.array([w[g].sum() for g in groups])
    rbar = np.stack([(r[..., g] * w[g]).sum(-1) / w[g].sum() for g in groups], axis=-1)  # (S, C, D)
    s2 = np.stack([((r[..., g] - rbar[..., [i]]) ** 2 * w[g]).sum(-1) / w[g].sum()
                   for i, g in enumerate(groups)], axis=-1)
    mean = (rbar * wd / total).sum(-1)
    var_between = ((rbar - mean[..., None]) ** 2 * wd / total).sum(-1)
    within = (s2 * wd / total).sum(-1) / k
    d_eff = 365.0**2 / (261.0**2 + 104.0**2)
    assert d_eff == pytest.approx(1.688, abs=1e-3) and days == 2
    var = total**2 / d_eff * (var_between + within)
    assert (var > 0).any()
    assert np.abs(dev.mean(axis=0)).max() <= 4 * np.sqrt(var.max() / n) + 1e-9
    assert dev.std(axis=0) == pytest.approx(np.sqrt(var), rel=0.02, abs=1e-9)


def test_without_replicates_the_draws_are_the_one_stage_day_bootstrap_of_before() -> None:
    """K = 1: the same generator calls as the day bootstrap before seed replicates (written out here), so
    the Monte Carlo draws of every study without replicates are unchanged; the deviations are those of
    before times Kish's ``sqrt(D / D_eff)``, ``D_eff = (sum w)^2 / sum w^2`` (1e-12 relative)."""
    params = make_params()
    q = annual_quantities(params, make_kpis())
    n = 1000
    got = day_bootstrap(params, q, n, np.random.default_rng(11))
    rng = np.random.default_rng(11)
    w = np.array([params.day_weights_days_per_year[d] for d in q.days])
    picks = rng.choice(len(w), size=(n, len(w)), p=w / w.sum())
    counts = np.zeros((n, len(w)))
    np.add.at(counts, (np.arange(n)[:, None], picks), 1.0)
    from coordstudio.cba.sensitivity import _daily_reductions

    before = w.sum() / len(w) * np.einsum("nd,scd->nsc", counts, _daily_reductions(params, q)) - q.reduction
    kish = np.sqrt(len(w) / (w.sum() ** 2 / np.sum(w * w)))
    assert got is not None and np.allclose(got, kish * before, rtol=1e-12, atol=1e-9)
    assert run_cba(params, make_kpis(), make_ict(), monte_carlo_samples=50).seed_spread is None


# -------------------------------------------------------------------------------- a tiny real run


def test_a_tiny_run_with_two_seeds_gives_two_rows_per_scheme_and_their_mean() -> None:
    """The small scenario, one hour, CMS and CM, the study day with ``seed_replicates: 2``: rows
    (CMS|CM) x (d175, d175r1), weights 182.5 each; replicate 0's KPIs equal those of a simulation of the
    study's own scenario (the run without replicates) exactly; CM's activation benefit is W x the mean
    of the two replicates' savings (hand sum, 1e-9 relative); the draft names the 2 seeds."""
    from coordstudio.cba.draft_document import render_markdown
    from coordstudio.cba.recommendations import build_document
    from coordstudio.cba.study import default_study, run_study
    from coordstudio.simulation.simulate import simulate

    study = default_study()
    spec = small_spec(duration_h=1.0, start_h=11.0).model_copy(update={"schemes": ["CMS", "CM"],
                                                                       "name": "default"})
    cba = study.cba.model_copy(update={"monte_carlo_samples": 500})
    study = study.model_copy(update={"scenario": _with_replicates(spec, 2), "cba": cba})
    result = run_study(study)
    assert sorted((k.scheme, k.day) for k in result.kpis) == sorted(
        (s, d) for s in ("CMS", "CM") for d in ("d175", "d175r1"))
    assert result.day_weights == pytest.approx({"d175": 182.5, "d175r1": 182.5})
    by = {(k.scheme, k.day): k for k in result.kpis}
    alone = simulate(spec, ["CMS"], None, processes=1).kpis["CMS"]
    rep0 = by[("CMS", "d175")]
    assert rep0.model_dump(exclude={"day"}) == alone.model_copy(update={"day": "d175"}).model_dump(
        exclude={"day"})
    saving = [by[("CMS", d)].resource_cost_eur - by[("CM", d)].resource_cost_eur for d in ("d175", "d175r1")]
    assert result.cba.scheme("CM").annual_benefits_eur_per_year["activation"] == pytest.approx(
        365.0 * 24.0 * sum(saving) / 2, rel=1e-9)
    assert result.cba.seed_spread is not None and result.cba.seed_spread.replicates == 2
    assert result.cba.monte_carlo.seed_spread
    md = render_markdown(build_document(study.cba.model_copy(
        update={"day_weights_days_per_year": result.day_weights}), result.kpis, result.ict, result.cba))
    assert "simulated with 2 random seeds" in md
    assert "1 simulated day(s) stand for the year: d175 (365 d/a)" in md


def test_run_seed_replicates_option_is_checked(tmp_path: Path) -> None:
    """``coordstudio run --seed-replicates 0`` is bad input: one line naming the option, exit 2, nothing
    written (in-process, as tests/test_bad_input.py runs the command line)."""
    from coordstudio import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main.main(["run", "--seed-replicates", "0", "--out", str(tmp_path / "o")])
    assert code == 2, err.getvalue()
    assert "--seed-replicates 0" in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
