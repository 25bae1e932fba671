"""Renaming an id of the SGAM model everywhere it is used, as a refactoring tool does.

An architect renaming actor ``agg_platform`` expects every event, link, component, use case and scenario
that names it to follow; renaming only the actor leaves dozens of dangling references and an ICT cost
that cannot be computed. :func:`renamed_sgam` returns a copy of the model with the id changed and every
reference to it rewritten (the GUI pushes that copy as one undo step).

Which field refers to which list follows the naming convention of :mod:`sgam.model` (``producer_id`` ->
an actor id, ``information_object_ids`` -> information-object ids, ``multiplicity`` -> an endpoint-count
id, ``schemes`` -> scheme ids); :data:`REFERENCE_FIELDS` is that convention, and a test checks that every
``*_id``/``*_ids`` field of the model is in it.
"""

from __future__ import annotations

from typing import Any

from coordstudio.sgam.model import SgamModel

__all__ = ["REFERENCE_FIELDS", "renamed_sgam"]

#: Reference field name (of any SGAM object) -> the SGAM list whose ids it holds.
REFERENCE_FIELDS: dict[str, str] = {
    "owner_id": "actors",
    "actor_id": "actors",
    "actor_ids": "actors",
    "producer_id": "actors",
    "receiver_id": "actors",
    "actor_a_id": "actors",
    "actor_b_id": "actors",
    "payer_id": "actors",
    "primary_actor_id": "actors",
    "information_object_id": "information_objects",
    "information_object_ids": "information_objects",
    "interaction_event_ids": "events",
    "requirement_id": "requirements",
    "requirement_ids": "requirements",
    "technology_ids": "technologies",
    "link_id": "links",
    "use_case_id": "use_cases",
    "scenario_id": "scenarios",
    "multiplicity": "endpoint_counts",
    "schemes": "schemes",
    "scheme": "schemes",
}

def _rewrite(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [new if v == old else v for v in value]
    return value


def renamed_sgam(sgam_model: SgamModel, list_name: str, old: str, new: str) -> tuple[SgamModel, int]:
    """A copy of the SGAM model where object ``old`` of ``list_name`` is called ``new``, and so is every
    reference field pointing into ``list_name`` that held ``old``; returns (model, references changed).

    Objects are copied with ``model_copy(update=...)`` (a string for a string: nothing to re-validate),
    so a rename works even while other parts of the model are still inconsistent.
    """
    fields = [f for f, target in REFERENCE_FIELDS.items() if target == list_name]
    changed = 0
    lists: dict[str, list[Any]] = {}
    for name in type(sgam_model).model_fields:
        items = getattr(sgam_model, name)
        if not isinstance(items, list):
            continue
        new_items = []
        touched = False
        for item in items:
            update: dict[str, Any] = {}
            if name == list_name and getattr(item, "id", None) == old:
                update["id"] = new
            for field in fields:
                if hasattr(item, field):
                    value = getattr(item, field)
                    rewritten = _rewrite(value, old, new)
                    if rewritten != value:
                        update[field] = rewritten
                        changed += 1
            if update:
                touched = True
                item = item.model_copy(update=update)
            new_items.append(item)
        if touched:
            lists[name] = new_items
    return sgam_model.model_copy(update=lists), changed
