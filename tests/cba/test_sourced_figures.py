"""Every cost and price the shipped study and the ICT catalogue use has a source, or is an assumption
with a low-high range that both the tornado and the Monte Carlo use (issue 17, item 3).

* CBA prices, rates and multipliers (:data:`cba.parameters.SCALAR_PARAMETERS`): a citation in
  ``cba.sources``, or ``assumption (...)`` plus a tornado range (low < high, around the study's value) and
  a Monte Carlo distribution with a spread.
* ICT cost figures (technologies and components of the catalogue and of the study's SGAM model): a
  ``source``; an assumed one is covered by the ranges of ``ict_capex_factor`` and ``ict_opex_factor``,
  which must then have both a tornado range and a distribution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from coordstudio.cba.parameters import SCALAR_PARAMETERS, CbaParameters, anchored_inputs, parse_parameters

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "cba" / "data" / "default_study.yaml"
CATALOGUE = ROOT / "sgam" / "library" / "catalogue.yaml"
_COST_FIELDS = ("capex_eur_per_unit", "opex_eur_per_unit_year", "capex_eur_per_endpoint", "capex_eur_per_km",
                "capex_eur_per_gateway", "opex_eur_per_endpoint_year", "opex_eur_per_gateway_year",
                "opex_eur_per_gb")


def _is_assumption(source: str) -> bool:
    return "assumption" in source.lower()


def _ranged(params: CbaParameters, name: str) -> list[str]:
    """What is missing for ``name`` to be an assumption with a range both analyses use (empty: none)."""
    problems = []
    base = params.scalar(name)
    tornado = [r for r in params.tornado_ranges if r.parameter == name]
    if not tornado or not tornado[0].low < tornado[0].high:
        problems.append("no tornado range with low < high")
    elif not tornado[0].low <= base <= tornado[0].high:
        low, high = tornado[0].low, tornado[0].high
        problems.append(f"tornado range {low:g}-{high:g} leaves out the study's {base:g}")
    dist = [d for d in anchored_inputs(params) if d.parameter == name]
    if not dist:
        problems.append("no Monte Carlo distribution")
    else:
        d = dist[0]
        spread = (d.std or 0.0) > 0 if d.distribution == "normal" else (d.max or 0.0) > (d.min or 0.0)
        if not spread:
            problems.append("a Monte Carlo distribution without spread")
    return problems


def unsourced(params: CbaParameters, sgam_sections: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Every cost or price with neither a source nor an assumption range, as ``where: why`` lines."""
    out: list[str] = []
    for name in SCALAR_PARAMETERS:
        source = params.sources.get(name, "").strip()
        if not source:
            out.append(f"cba.{name}: no source")
        elif _is_assumption(source):
            out += [f"cba.{name}: assumption with {p}" for p in _ranged(params, name)]
    ict_assumed = False
    for where, section in sgam_sections:
        for kind in ("technologies", "components"):
            for item in section.get(kind) or []:
                if not any(f in item for f in _COST_FIELDS):
                    continue
                source = str(item.get("source") or "").strip()
                if not source:
                    out.append(f"{where} {kind} '{item.get('id')}': cost figures without a source")
                ict_assumed = ict_assumed or _is_assumption(source)
    if ict_assumed:
        for factor in ("ict_capex_factor", "ict_opex_factor"):
            out += [f"cba.{factor} (the range of the assumed ICT costs): {p}"
                    for p in _ranged(params, factor)]
    return out


def _shipped() -> tuple[CbaParameters, list[tuple[str, dict[str, Any]]]]:
    study = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    return parse_parameters(study.get("cba")), [("catalogue", catalogue), ("study sgam", study["sgam"])]


def test_every_cost_and_price_of_the_shipped_study_and_catalogue_is_sourced_or_a_ranged_assumption() -> None:
    params, sections = _shipped()
    assert unsourced(params, sections) == []


def test_the_check_fails_on_an_unsourced_price_and_on_an_assumption_without_range() -> None:
    params, sections = _shipped()
    sources = dict(params.sources)
    sources.pop("losses_price_eur_per_mwh")
    bare = params.model_copy(update={"sources": sources})
    assert unsourced(bare, sections) == ["cba.losses_price_eur_per_mwh: no source"]
    no_range = params.model_copy(update={
        "tornado_ranges": [r for r in params.tornado_ranges
                           if r.parameter != "curtailed_res_price_eur_per_mwh"],
    })
    assert unsourced(no_range, sections) == [
        "cba.curtailed_res_price_eur_per_mwh: assumption with no tornado range with low < high"
    ]
    no_ict_range = params.model_copy(update={
        "uncertain_inputs": [d for d in params.uncertain_inputs if d.parameter != "ict_opex_factor"],
    })
    assert any("ict_opex_factor" in line for line in unsourced(no_ict_range, sections))
    catalogue = dict(sections[0][1])
    catalogue["components"] = [dict(catalogue["components"][0], source="")]
    assert any("components" in line for line in unsourced(params, [("catalogue", catalogue)]))


def scenario_prices(scenario: dict[str, Any]) -> list[tuple[str, float, float]]:
    """Every price or cost the simulation uses, as (dotted path, lowest, highest value): the scenario's
    ``prices`` (EUR fields), the transmission generators' bid-price distribution, and each device
    category's cost distribution (the defaults of ``CATEGORY_PARAMETERS``, or a device group's override)."""
    from coordstudio.simulation.scenario.categories import CATEGORY_PARAMETERS

    def span(value: Any) -> tuple[float, float]:
        if isinstance(value, dict):  # a ParamDistribution
            kind = value.get("kind")
            if kind == "uniform":
                return float(value["low"]), float(value["high"])
            if kind == "normal":
                return float(value["mean"]), float(value["mean"])
            return float(value["value"]), float(value["value"])
        return float(value), float(value)

    out = [(f"prices.{k}", *span(v)) for k, v in scenario["prices"].items() if "_eur_" in k]
    out.append(("transmission.generator_cost_eur_per_mwh",
                *span(scenario["transmission"]["generator_cost_eur_per_mwh"])))
    for category, params in CATEGORY_PARAMETERS.items():
        out += [(f"categories.{category}.{k}", *span(v)) for k, v in params.items() if "_eur_" in k]
    for group in scenario.get("device_groups") or []:
        out += [(f"categories.{group['category']}.{k}", *span(v))
                for k, v in (group.get("parameters") or {}).items() if "_eur_" in k]
    return out


def unsourced_simulation_figures(params: CbaParameters, scenario: dict[str, Any]) -> list[str]:
    """Every price or cost of the scenario with neither a source in ``cba.simulation_figures`` nor, when
    assumed, a low-high range holding its value, as ``where: why`` lines."""
    figures = {f.path: f for f in params.simulation_figures}
    out: list[str] = []
    for path, low, high in scenario_prices(scenario):
        figure = figures.get(path)
        if figure is None or not figure.source.strip():
            out.append(f"cba.simulation_figures {path}: no source")
        elif figure.is_assumption:
            if figure.low is None or figure.high is None or not figure.low < figure.high:
                out.append(f"cba.simulation_figures {path}: assumption without a range low < high")
            elif not figure.low <= low <= high <= figure.high:
                out.append(f"cba.simulation_figures {path}: range {figure.low:g}-{figure.high:g} leaves out "
                           f"the scenario's {low:g}-{high:g}")
    return out


def test_every_price_the_simulation_uses_is_sourced_or_a_ranged_assumption() -> None:
    """The aFRR prices, slack penalty, risk premium, bid spread, generator and device bid costs of the shipped
    study (and of the Italian-scale example, an overlay of it: read merged, as the tool reads it)."""
    from coordstudio.cba.study_file import load_study

    for path in (STUDY, ROOT / "examples" / "italy_scale" / "study.yaml"):
        study = load_study(path).model_dump(mode="json")
        params = parse_parameters(study.get("cba"))
        assert len(scenario_prices(study["scenario"])) >= 14
        assert unsourced_simulation_figures(params, study["scenario"]) == [], path.name


def test_the_simulation_figures_check_fails_on_a_missing_source_and_a_range_without_the_value() -> None:
    study = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    params = parse_parameters(study.get("cba"))
    scenario = study["scenario"]
    bare = params.model_copy(update={"simulation_figures": [
        f for f in params.simulation_figures if f.path != "prices.slack_penalty_eur_per_mwh"]})
    assert unsourced_simulation_figures(bare, scenario) == [
        "cba.simulation_figures prices.slack_penalty_eur_per_mwh: no source"]
    moved = dict(scenario, prices=dict(scenario["prices"], afrr_price_up_eur_per_mwh=500.0))
    assert unsourced_simulation_figures(params, moved) == [
        "cba.simulation_figures prices.afrr_price_up_eur_per_mwh: range 80-400 leaves out the scenario's "
        "500-500"]
    unranged = params.model_copy(update={"simulation_figures": [
        f.model_copy(update={"high": None}) if f.path.startswith("categories.ev.") else f
        for f in params.simulation_figures]})
    assert unsourced_simulation_figures(unranged, scenario) == [
        "cba.simulation_figures categories.ev.flex_cost_eur_per_mwh: assumption without a range low < high"]


@pytest.mark.parametrize("name", list(SCALAR_PARAMETERS))
def test_each_default_price_carries_a_source(name: str) -> None:
    assert CbaParameters().source_of(name) != "user input", name
