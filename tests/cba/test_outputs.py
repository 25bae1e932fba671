"""Outputs of the CBA: charts, recommendations draft, cba_outputs(), KPI loading and the ``cba`` command."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from cba_fixtures import DAYS, make_ict, make_kpis, make_params
from matplotlib.image import imread

from coordstudio.cba.analysis import run_cba
from coordstudio.cba.errors import CbaError
from coordstudio.cba.outputs import OUTPUT_FILES, cba_outputs
from coordstudio.cba.reappraisal import load_kpis
from coordstudio.cba.recommendations import NOT_SUPPORTED, NOT_TESTED, build_document, render_markdown
from coordstudio.simulation.errors import ResultsDatabaseError
from coordstudio.simulation.kpis import SchemeKpis


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], object]:
    params = make_params(monte_carlo_samples=2000)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    out = tmp_path_factory.mktemp("cba_out")
    return cba_outputs(params, kpis, ict, out, result=result), result


def test_every_output_is_written(outputs: tuple[dict[str, Path], object]) -> None:
    paths, _ = outputs
    assert set(OUTPUT_FILES) <= set(paths)  # and the tidy tables (tests/cba/test_tables.py)
    for key in OUTPUT_FILES:
        path = paths[key]
        assert path.name == OUTPUT_FILES[key]
        assert path.stat().st_size > 500, key
    leftovers = [p for p in paths["report"].parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_charts_are_readable_pngs(outputs: tuple[dict[str, Path], object]) -> None:
    """Each chart opens as an image of at least 800 x 350 pixels (9-inch figures at 120 dpi)."""
    paths, _ = outputs
    for key in ("chart_cash_flow", "chart_tornado", "chart_monte_carlo"):
        image = imread(paths[key])
        assert image.shape[1] >= 800 and image.shape[0] >= 350, key
        assert image.std() > 0.01, key  # not a blank canvas


def test_result_json_round_trips(outputs: tuple[dict[str, Path], object]) -> None:
    from coordstudio.cba.analysis import CbaResult

    paths, result = outputs
    again = CbaResult.model_validate_json(paths["cba_result"].read_text())
    assert again.provenance is not None  # the written file says where it came from (test_tables.py)
    assert again.model_copy(update={"provenance": None}) == result


def test_recommendations_cite_the_figures(outputs: tuple[dict[str, Path], object]) -> None:
    """The draft names the leader with its NPV and Monte Carlo probability, the thin DSO area, the ICT
    shares, and gives every regulatory consideration a verdict."""
    paths, result = outputs
    md = paths["recommendations_md"].read_text()
    leader = result.scheme(result.ranking[0])  # type: ignore[attr-defined]
    mc = result.monte_carlo.scheme(leader.scheme)  # type: ignore[attr-defined]
    assert f"{leader.scheme} (common TSO-DSO AS market, centralised) has the highest net present value" in md
    assert f"{leader.npv_eur / 1e6:,.2f} M EUR" in md
    assert f"ranks first in {mc.prob_rank_first:.1%} of the samples" in md
    assert "dso_south in SBR (4.4 bids/day)" in md  # (5 x 261 + 3 x 104) / 365 bids per day
    assert f"{leader.ict_cost_share:.1%}" in md or "ICT cost share" in md
    section = md.split("## 6.")[1].split("## Limitations")[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(bullets) >= 9
    for line in bullets:
        assert any(v in line for v in ("Supported.", "Partly supported.", f"{NOT_SUPPORTED}.",
                                       f"{NOT_TESTED}.")), line
    # The DOCX says the same: the same headings and one table per Markdown table.
    d = docx.Document(str(paths["recommendations_docx"]))
    docx_headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    md_headings = [line.lstrip("#").strip() for line in md.splitlines() if line.startswith("#")]
    assert docx_headings == md_headings and len(md_headings) >= 7
    assert len(d.tables) == sum(1 for line in md.splitlines() if line.startswith("|---"))


def test_recommendations_say_when_nothing_supports_a_claim() -> None:
    """Without liquidity data, and with every scheme worse than the reference, the draft says so."""
    params = make_params(monte_carlo_samples=200)
    kpis = [k.model_copy(update={"bids_submitted_by_area": {}, "bids_activated_by_area": {}})
            for k in make_kpis()]
    # Make the alternatives worse than CMS: same KPIs as CMS, but their ICT costs remain.
    cms = {k.day: k for k in kpis if k.scheme == "CMS"}
    kpis = [cms[k.day].model_copy(update={"scheme": k.scheme}) for k in kpis]
    result = run_cba(params, kpis, make_ict())
    md = render_markdown(build_document(params, kpis, make_ict(), result))
    assert "No scheme improves on the reference" in md
    assert f"{NOT_SUPPORTED}: the simulation reported no bids per DSO area" in md  # section 3
    assert f"**Evaluate the liquidity of local AS markets before creating them.** {NOT_TESTED}" in md
    assert "**DSOs move to real-time monitoring and share AS procurement with the TSO.** Not supported" in md


def _flat(k: SchemeKpis) -> dict[str, float]:
    """The flat name -> value rows the simulation platform stores (dicts as ``field[key]``)."""
    out: dict[str, float] = {}
    for name, value in k.model_dump().items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
        elif isinstance(value, dict):
            out.update({f"{name}[{sub}]": float(v) for sub, v in value.items()})
    return out


def test_load_kpis_from_a_results_database_csv_and_json(tmp_path: Path) -> None:
    from coordstudio.simulation.db import ResultsWriter

    kpis = [k for k in make_kpis() if k.day == "weekday"]
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    for k in kpis:
        writer = ResultsWriter(url, k.scheme, "fp", "test", "{}")
        writer.add("kpis", [{"name": n, "value": v} for n, v in _flat(k).items()])
        writer.finish("completed", 1)
    loaded = load_kpis(url, day="weekday")
    assert sorted(loaded, key=lambda k: k.scheme) == sorted(kpis, key=lambda k: k.scheme)
    assert load_kpis(tmp_path / "results.sqlite", day="weekday")[0] in kpis
    cancelled = ResultsWriter(url, "CM", "fp", "test", "{}")  # a later, cancelled run is refused by name
    cancelled.finish("cancelled", 0)
    with pytest.raises(ResultsDatabaseError, match=r"results\.sqlite: incomplete run\(s\) 6 \(CM\) cancel"):
        load_kpis(url, day="weekday")

    as_json = tmp_path / "kpis.json"
    as_json.write_text(json.dumps([k.model_dump() for k in make_kpis()]))
    assert load_kpis(as_json) == make_kpis()

    scalar = [n for n, f in SchemeKpis.model_fields.items() if f.annotation in (str, float, int)]
    as_csv = tmp_path / "kpis.csv"
    as_csv.write_text(",".join(scalar) + "\n" + "\n".join(
        ",".join(str(getattr(k, n)) for n in scalar) for k in kpis) + "\n")
    loaded = load_kpis(as_csv)
    assert [k.activation_cost_eur for k in loaded] == [k.activation_cost_eur for k in kpis]


def test_load_kpis_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "kpis.json"
    record = make_kpis()[0].model_dump()
    record["afrr_cost_eur"] = -5.0
    bad.write_text(json.dumps([record]))
    with pytest.raises(CbaError, match=r"record 1, field 'afrr_cost_eur'"):
        load_kpis(bad)
    with pytest.raises(CbaError, match="file not found"):
        load_kpis(tmp_path / "missing.csv")


def test_cba_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``coordstudio cba STUDY --results KPIS --out DIR`` on the default study with the fixture KPIs."""
    from coordstudio import main
    from coordstudio.cba.study import save_study
    from tests.one_day_study import one_day_default_study

    study = one_day_default_study()  # the fixture KPIs' days are make_params' weights, not tsam's days
    study = study.model_copy(update={"cba": make_params(monte_carlo_samples=500)})
    study_path = tmp_path / "study.yaml"
    save_study(study, study_path)
    kpis_path = tmp_path / "kpis.json"
    kpis_path.write_text(json.dumps([k.model_dump() for k in make_kpis()]))
    code = main.main(["cba", str(study_path), "--results", str(kpis_path), "--out", str(tmp_path / "out")])
    assert code == 0
    for name in OUTPUT_FILES.values():
        assert (tmp_path / "out" / name).exists(), name
    printed = capsys.readouterr().out
    assert "rank" in printed and "CM" in printed

    # Bad input: a day weight without KPIs is one line on stderr naming the field, exit code 2.
    study.cba.day_weights_days_per_year = {**DAYS, "holiday": 0.0}
    save_study(study, study_path)
    code = main.main(["cba", str(study_path), "--results", str(kpis_path), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "cba.day_weights_days_per_year" in err and "holiday" in err
