"""Renaming an id everywhere it is used, and naming a dangling reference in words.

An architect renaming actor ``agg_platform`` expects what a refactoring tool does: every event, link,
component, use case and scenario that names it follows, in one undo step. Renaming only the actor left
64 validation problems and an ICT cost that vanished. :func:`renamed_sgam` returns a copy of the SGAM
model with the id changed and every reference to it rewritten (:mod:`sgam.rename`, model logic that
the GUI only calls); :func:`describe_problem` turns pydantic's
location (``sgam.events.CMS-BID.producer_id``) into a sentence naming the object that holds the
reference.

Which field refers to which list is read from the field's name, the convention of ``sgam.model``
(``producer_id`` -> an actor id, ``information_object_ids`` -> information-object ids, ``multiplicity`` ->
an endpoint-count id, ``schemes`` -> scheme ids); the table below is that convention, checked against
``sgam.model`` by the tests (every ``*_id``/``*_ids`` field of the model must be in it). It lives in
:mod:`sgam.rename`.
"""

from __future__ import annotations

from coordstudio.gui.document import Problem, format_path
from coordstudio.gui.schema import pretty_name

__all__ = ["KIND_NAMES", "describe_problem"]

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
