"""The "not assessed" rule (:mod:`cba.assessment`) and where it shows: the CBA's ranking, the outputs with
nothing ranked, and ``cba STUDY --results`` re-appraisal's exit status (issue 18, section 1).

Hand-built KPIs (:mod:`cba_fixtures`, five schemes over two days) with failures set by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cba_fixtures import make_ict, make_kpis, make_params

from coordstudio import main
from coordstudio.cba.analysis import run_cba
from coordstudio.cba.assessment import EXIT_NOT_ASSESSED, assess, clearing_summary, not_assessed_line
from coordstudio.simulation.kpis import SchemeKpis


def _with(kpis: list[SchemeKpis], scheme: str, **update: object) -> list[SchemeKpis]:
    return [k.model_copy(update=update) if k.scheme == scheme else k for k in kpis]


def test_failed_clearings_make_a_scheme_not_assessed_and_slack_does_not() -> None:
    kpis = _with(make_kpis(), "LMS", failed_clearings=24, infeasible_clearings=20, time_limited_clearings=3,
                 clearings=24)
    kpis = _with(kpis, "SBR", slack_energy_mwh=6.2, slack_cost_eur=18_000.0, slack_clearings=6, clearings=24)
    by = {a.scheme: a for a in assess(kpis, "CMS")}
    assert not by["LMS"].assessed
    assert by["LMS"].failed_clearings == 48  # two days
    assert by["LMS"].reason == (
        "48 of 48 market clearings failed (40 infeasible, 6 time-limited, 2 solver failures)"
    )
    assert by["SBR"].assessed and by["SBR"].slack_clearings == 12 and by["SBR"].reason == ""
    assert by["CMS"].assessed
    assert clearing_summary(by["SBR"]) == ""


def test_a_failed_run_names_its_day_when_there_are_several() -> None:
    kpis = _with(make_kpis(), "CM", run_failed=1, run_failure="physical step 3, grid F1: power flow failed")
    by = {a.scheme: a for a in assess(kpis, "CMS")}
    assert by["CM"].reason == (
        "the run failed: day weekday: physical step 3, grid F1: power flow failed; "
        "day weekend: physical step 3, grid F1: power flow failed"
    )
    assert not_assessed_line(assess(kpis, "CMS")).startswith("not assessed: CM (the run failed: day weekday")


def test_run_cba_ranks_only_assessed_schemes() -> None:
    kpis = _with(make_kpis(), "IFM", failed_clearings=2, clearings=96)
    result = run_cba(make_params(), kpis, make_ict(), monte_carlo_samples=200)
    ifm = result.scheme("IFM")
    assert not ifm.assessed and ifm.rank == 0
    assert ifm.not_assessed_reason == "4 of 192 market clearings failed"  # 2 on each of two days
    assert "IFM" not in result.ranking and len(result.ranking) == 4
    assert sorted(s.rank for s in result.schemes if s.assessed) == [1, 2, 3, 4]
    assert "IFM is not assessed (not ranked): 4 of 192 market clearings failed." in result.warnings
    baseline = run_cba(make_params(), make_kpis(), make_ict(), monte_carlo_samples=200)
    assert ifm.npv_eur == baseline.scheme("IFM").npv_eur  # figures are kept, only the ranking drops it
    assert [s for s in baseline.ranking if s != "IFM"] == result.ranking


def test_reference_not_assessed_ranks_nothing_and_the_outputs_say_so(tmp_path: Path) -> None:
    from coordstudio.cba.outputs import write_study_outputs

    kpis = _with(make_kpis(), "CMS", failed_clearings=1)
    params = make_params()
    result = run_cba(params, kpis, make_ict(), monte_carlo_samples=200)
    assert result.ranking == [] and all(not s.assessed and s.rank == 0 for s in result.schemes)
    assert result.scheme("LMS").not_assessed_reason == (
        "the reference scheme CMS is not assessed, so no benefit is measured against it"
    )
    assert result.warnings[0] == "The reference scheme CMS is not assessed: no scheme is ranked."
    paths = write_study_outputs(tmp_path, params, kpis, make_ict(), result, None)
    md = paths["recommendations_md"].read_text()
    assert "> **Warning:** The reference scheme CMS is not assessed: no scheme is ranked." in md
    assert "No scheme is ranked, and the draft recommends none" in md
    assert "First-ranked" not in md and "| 1 |" not in md
    assert paths["report"].exists() and paths["chart_tornado"].exists()


def _write_kpis_csv(kpis: list[SchemeKpis], path: Path) -> None:
    from coordstudio.cba.outputs import write_kpis_csv

    write_kpis_csv(kpis, path)
    with path.open(newline="") as fh:
        assert "failed_clearings" in next(csv.reader(fh))


@pytest.mark.parametrize(("failed", "expected"), [(0, main.EXIT_OK), (3, EXIT_NOT_ASSESSED)])
def test_reappraisal_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str], failed: int,
                                 expected: int) -> None:
    from coordstudio.cba.study import save_study
    from tests.one_day_study import one_day_default_study

    params = make_params(monte_carlo_samples=100)
    study = one_day_default_study()  # the fixture KPIs are one day's; the weights those of make_params
    study = study.model_copy(update={"cba": params})
    save_study(study, tmp_path / "study.yaml")
    kpis = _with(make_kpis(), "SBR", failed_clearings=failed, clearings=24)
    _write_kpis_csv(kpis, tmp_path / "kpis.csv")
    code = main.main(
        ["cba", str(tmp_path / "study.yaml"), "--results", str(tmp_path / "kpis.csv"), "--out",
         str(tmp_path / "out")]
    )
    out, err = capsys.readouterr()
    assert code == expected, err
    sbr = next(line for line in out.splitlines() if line.split()[1:2] == ["SBR"])
    if failed:
        assert sbr.startswith("n/a") and sbr.rstrip().endswith("6/48 !")
        assert err.strip().splitlines() == ["warning: not assessed: SBR (6 of 48 market clearings failed)"]
    else:
        assert sbr.rstrip().endswith("0/48") and err.strip() == ""
