"""Tier 1 (no display): headers, units, tooltips and editor kinds come from the pydantic schema."""

from __future__ import annotations

from coordstudio.gui.schema import field_spec, field_specs, format_value, parse_text, pretty_name, split_unit


def test_units_are_read_from_field_names() -> None:
    """Unit suffixes of the project's naming convention become bracketed units in headers."""
    assert split_unit("capex_eur_per_endpoint") == ("capex", "EUR/endpoint")
    assert split_unit("opex_eur_per_endpoint_year") == ("opex", "EUR/endpoint/a")
    assert pretty_name("latency_ms") == "Latency [ms]"
    assert pretty_name("availability_pct") == "Availability [%]"
    assert pretty_name("data_rate_kbps") == "Data rate [kbit/s]"
    assert pretty_name("discount_rate") == "Discount rate"
    assert pretty_name("ict_capex_factor") == "ICT CAPEX factor"


def test_sgam_technology_columns_carry_description_and_enum_choices() -> None:
    """Technology.security_level is a StrEnum: a choice column whose choices are its values."""
    from coordstudio.sgam.model import SecurityLevel, Technology

    specs = {s.name: s for s in field_specs(Technology)}
    sec = specs["security_level"]
    assert sec.kind == "choice"
    assert [format_value(sec, c) for c in sec.choices] == [m.value for m in SecurityLevel]
    assert "Highest security level" in sec.tooltip
    assert specs["capex_eur_per_endpoint"].header == "CAPEX [EUR/endpoint]"
    assert specs["latency_ms"].kind == "float" and specs["latency_ms"].minimum == 0.0


def test_optional_enum_and_lists_parse_back() -> None:
    """Requirement.min_security_level is Optional[enum]: '' means None; lists are comma-separated."""
    from coordstudio.sgam.model import InteractionEvent, Requirement, SecurityLevel

    spec = field_spec("min_security_level", Requirement.model_fields["min_security_level"])
    assert spec.kind == "choice" and spec.optional
    assert parse_text(spec, "") is None
    assert parse_text(spec, "high") is SecurityLevel.HIGH
    schemes = field_spec("schemes", InteractionEvent.model_fields["schemes"])
    assert schemes.kind == "list_str"
    assert parse_text(schemes, "CMS, LMS ,") == ["CMS", "LMS"]
    assert format_value(schemes, ["CMS", "LMS"]) == "CMS, LMS"
