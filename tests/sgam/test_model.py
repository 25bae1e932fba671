"""Tests of the SGAM model: persistence round trips and validation errors that name object id and field."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import ValidationError

from coordstudio.sgam.library import default_model
from coordstudio.sgam.model import SCHEME_IDS, SgamModel


def test_default_and_empty_models_validate_and_round_trip_exactly() -> None:
    """JSON and YAML dumps of ``model_dump(mode="json")`` load back to an equal model (study file path)."""
    for model in (SgamModel(), default_model()):
        data = model.model_dump(mode="json")
        assert SgamModel.model_validate(json.loads(json.dumps(data))) == model
        assert SgamModel.model_validate(yaml.safe_load(yaml.safe_dump(data))) == model
        assert SgamModel.model_validate(json.loads(json.dumps(data))).model_dump(mode="json") == data


def test_default_model_covers_all_schemes_with_scheme_specific_flows() -> None:
    """Every scheme has events; each scheme-specific flow of the issue is present only where it belongs."""
    model = default_model()
    assert tuple(model.scheme_ids()) == SCHEME_IDS
    by_io: dict[str, set[str]] = {}
    for e in model.events:
        by_io.setdefault(e.information_object_id, set()).update(e.schemes)
    assert by_io["prequal_request"] == {"CMS"}
    assert by_io["ss_measurement"] == {"LMS", "SBR", "CM", "CM-D", "IFM"}
    assert by_io["aggregated_curve"] == {"LMS", "CM-D"}  # the centralised CM exchanges no curves
    assert by_io["grid_model"] == {"CM", "IFM"}  # the common platform models the distribution grids
    assert by_io["dso_needs"] == {"CM-D", "IFM"}
    assert by_io["interface_schedule"] == {"SBR"}
    assert by_io["commercial_order"] == {"IFM"}
    local = {c.id: set(c.schemes) for c in model.components}
    assert local["C-LOC-MKT"] == {"LMS", "SBR", "CM-D"}  # no local market platform in the centralised CM
    assert local["C-CURVE"] == {"LMS", "CM-D"}
    assert local["C-COMMON"] == {"CM", "CM-D"}
    assert local["C-IMO"] == {"IFM"}


def _errors(data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        SgamModel.model_validate(data)
    return info.value.errors()


def test_dangling_actor_reference_names_event_id_and_field() -> None:
    data = default_model().model_dump(mode="json")
    ev = next(e for e in data["events"] if e["id"] == "CMS-BID")
    ev["receiver_id"] = "no_such_actor"
    errors = _errors(data)
    locs = [e["loc"] for e in errors]
    assert ("events", "CMS-BID", "receiver_id") in locs
    msg = next(e["msg"] for e in errors if e["loc"] == ("events", "CMS-BID", "receiver_id"))
    assert "no_such_actor" in msg


def test_negative_cost_names_technology_id_and_field() -> None:
    data = default_model().model_dump(mode="json")
    tech = next(t for t in data["technologies"] if t["id"] == "lte")
    tech["opex_eur_per_endpoint_year"] = -5.0
    errors = _errors(data)
    assert [e["loc"] for e in errors] == [("technologies", "lte", "opex_eur_per_endpoint_year")]
    assert "greater than or equal to 0" in errors[0]["msg"]


def test_duplicate_id_and_on_event_without_rate_are_reported() -> None:
    data = default_model().model_dump(mode="json")
    data["actors"].append(dict(data["actors"][0]))
    ev = data["events"][0]
    ev["trigger"] = "on_event"
    ev["rate_per_day"] = 0.0
    locs = [e["loc"] for e in _errors(data)]
    assert ("actors", "tso", "id") in locs
    assert ("events", ev["id"], "rate_per_day") in locs


def test_embedded_model_error_location_is_prefixed_by_parent_field() -> None:
    """The study embeds the model; the error path must still end in (kind, id, field)."""
    from pydantic import BaseModel

    class Study(BaseModel):
        sgam: SgamModel

    data = default_model().model_dump(mode="json")
    data["links"][0]["payer_id"] = "ghost"
    with pytest.raises(ValidationError) as info:
        Study.model_validate({"sgam": data})
    assert ("sgam", "links", data["links"][0]["id"], "payer_id") in [e["loc"] for e in info.value.errors()]


def test_inconsistent_units_are_reported() -> None:
    """A time step longer than the clearing period, and a latency longer than the event's period."""
    data = default_model().model_dump(mode="json")
    data["time_step_s"] = 600.0
    assert ("time_step_s",) in [e["loc"] for e in _errors(data)]
    data = default_model().model_dump(mode="json")
    # E-DER-MEAS is sent every 60 s; allowing it 100 s to arrive is inconsistent
    next(r for r in data["requirements"] if r["id"] == "R-MON-DER")["max_latency_ms"] = 100_000
    errors = _errors(data)
    assert [e["loc"] for e in errors] == [("events", "E-DER-MEAS", "requirement_ids")]
    assert "exceeds the time between two messages (60000 ms" in errors[0]["msg"]
