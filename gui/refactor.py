"""Renaming an id everywhere it is used, and naming a dangling reference in words.

An architect renaming actor ``agg_platform`` expects what a refactoring tool does: every event, link,
component, use case and scenario that names it follows, in one undo step. Renaming only the actor left
64 validation problems and an ICT cost that vanished. :func:`renamed_sgam` returns a copy of the SGAM
model with the id changed and every reference to it rewritten; :func:`describe_problem` turns pydantic's
location (``sgam.events.CMS-BID.producer_id``) into a sentence naming the object that holds the
reference.

Which field refers to which list is read from the field's name, the convention of ``sgam.model``
(``producer_id`` -> an actor id, ``information_object_ids`` -> information-object ids, ``multiplicity`` ->
an endpoint-count id, ``schemes`` -> scheme ids); the table below is that convention, checked against
``sgam.model`` by the tests (every ``*_id``/``*_ids`` field of the model must be in it).
"""

from __future__ import annotations

from typing import Any

from gui.document import Problem, format_path
from gui.schema import pretty_name

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

#: SGAM list name -> how one of its objects is called in a sentence.
KIND_NAMES: dict[str, str] = {
    "actors": "actor",
    "information_objects": "information object",
    "events": "interaction event",
    "requirements": "requirement",
    "technologies": "technology",
    "links": "link",
    "components": "component",
    "use_cases": "use case",
    "scenarios": "use-case scenario",
    "steps": "use-case step",
    "schemes": "scheme",
    "endpoint_counts": "endpoint count",
}


def _rewrite(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [new if v == old else v for v in value]
    return value


def renamed_sgam(sgam_model: Any, list_name: str, old: str, new: str) -> tuple[Any, int]:
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


def describe_problem(problem: Problem) -> str:
    """A validation problem as a sentence naming the object that holds it and the field, e.g.
    "Actor 'dso_dms', field Owner id: 'dso' is not the id of any of the actors"."""
    path = problem.path
    if len(path) >= 4 and path[0] == "sgam" and isinstance(path[1], str):
        kind = KIND_NAMES.get(path[1], path[1].replace("_", " "))
        key = path[2]
        name = kind.capitalize()
        holder = f"{name} '{key}'" if isinstance(key, str) else f"{name} no. {key + 1}"
        field = pretty_name(str(path[3]))
        return f"{holder}, field {field}: {problem.message}"
    return f"{format_path(path)}: {problem.message}"
