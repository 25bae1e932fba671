"""CbaParameters: defaults with sources, YAML round trip, and bad input named by its field."""

from __future__ import annotations

import os

import pytest
import yaml

from coordstudio.cba.errors import CbaError
from coordstudio.cba.fileio import atomic_write_bytes, atomic_write_text
from coordstudio.cba.parameters import SCALAR_PARAMETERS, CbaParameters, parse_parameters


def test_defaults_are_the_issue_defaults_and_carry_sources() -> None:
    """Issue 6: 4 % real rate (EC DG REGIO 2014), 20 years, reference CMS; every default has a source."""
    p = CbaParameters()
    assert p.discount_rate == pytest.approx(0.04, abs=0.0)
    assert p.horizon_years == 20
    assert p.reference_scheme == "CMS"
    assert p.price_basis == "real"
    assert "DG REGIO" in p.sources["discount_rate"]
    for name in SCALAR_PARAMETERS:
        source = p.source_of(name)
        assert source != "user input", name
    for name, field in CbaParameters.model_fields.items():
        assert field.description, name


def test_yaml_round_trip_is_lossless() -> None:
    """The study stores the parameters as YAML under ``cba:``; dump then load gives the same model."""
    weights = {"winter_wd": 65.0, "winter_we": 25.0, "summer_wd": 195.0, "summer_we": 80.0}
    p = CbaParameters(day_weights_days_per_year=weights)
    text = yaml.safe_dump({"cba": p.model_dump()})
    again = parse_parameters(yaml.safe_load(text)["cba"])
    assert again == p


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"day_weights_days_per_year": {"a": 100.0, "b": 200.0}}, "cba.day_weights_days_per_year", "300"),
        ({"day_weights_days_per_year": {"a": -5.0, "b": 370.0}}, "cba.day_weights_days_per_year", ">= 0"),
        (
            {"uncertain_inputs": [{"parameter": "discount_rate", "distribution": "uniform",
                                   "min": 0.1, "max": 0.01}]},
            "cba.uncertain_inputs[0]",
            "min (0.1) > max (0.01)",
        ),
        (
            {"uncertain_inputs": [{"parameter": "benefit_factor", "distribution": "triangular",
                                   "min": 0.5, "mode": 2.0, "max": 1.5}]},
            "cba.uncertain_inputs[0]",
            "mode (2)",
        ),
        (
            {"uncertain_inputs": [{"parameter": "benefit_factor", "distribution": "normal", "mean": 1.0,
                                   "std": -0.1}]},
            "cba.uncertain_inputs[0]",
            "std",
        ),
        ({"tornado_ranges": [{"parameter": "ict_capex_factor", "low": 2.0, "high": 1.0}]},
         "cba.tornado_ranges[0]", "low (2) > high (1)"),
        ({"tornado_ranges": [{"parameter": "nonsense", "low": 0.0, "high": 1.0}]},
         "cba.tornado_ranges[0].parameter", "nonsense"),
        ({"benefit_allocation": {"activation": {"tso": 0.5}}}, "cba.benefit_allocation", "sum to 0.5"),
        ({"horizon_years": 0}, "cba.horizon_years", "greater than or equal to 1"),
        ({"cost_role_to_actor": {"tso": "regulator"}}, "cba.cost_role_to_actor", "regulator"),
    ],
)
def test_bad_input_names_the_field(data: dict[str, object], field: str, words: str) -> None:
    """Each problem is one CbaError whose message starts with the file and the field path."""
    with pytest.raises(CbaError) as info:
        parse_parameters(data, "study.yaml")
    message = str(info.value)
    assert message.startswith(f"study.yaml: {field}"), message
    assert words in message, message


def test_with_scalar_validates() -> None:
    p = CbaParameters()
    assert p.with_scalar("discount_rate", 0.07).discount_rate == pytest.approx(0.07, abs=0.0)
    with pytest.raises(CbaError, match="curtailed_res_price_eur_per_mwh"):
        p.with_scalar("curtailed_res_price_eur_per_mwh", -1.0)
    with pytest.raises(CbaError, match="horizon_years"):
        p.scalar("horizon_years")


def test_atomic_write_replaces_whole_file(tmp_path: os.PathLike[str]) -> None:
    """The new content appears whole and no temporary file is left beside it."""
    target = os.path.join(tmp_path, "report.txt")
    atomic_write_text(target, "old")
    atomic_write_bytes(target, b"new content")
    with open(target, "rb") as fh:
        assert fh.read() == b"new content"
    assert os.listdir(tmp_path) == ["report.txt"]


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path: os.PathLike[str]) -> None:
    """A failure while writing (here: data that is not bytes) leaves the old file untouched."""
    target = os.path.join(tmp_path, "study.yaml")
    atomic_write_text(target, "schema_version: 1\n")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    with open(target, encoding="utf-8") as fh:
        assert fh.read() == "schema_version: 1\n"
    assert os.listdir(tmp_path) == ["study.yaml"]
