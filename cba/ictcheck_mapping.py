"""Step 1 of the ICT check: which SGAM interaction event a simulated message type realises.

A simulated message type is ``(sender_role, receiver_role, information_object)`` as the platform logs
it. It maps to the scheme's event whose information object equals the message's (after normalisation
and :data:`DEFAULT_INFORMATION_OBJECT_ALIASES`) and whose producer and receiver actors the two role
names name: by id (score 3), owning organisation (score 2) or economic role or multiplicity (score 1).
The highest total score wins; a type with no event gets a hint naming the nearest events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from coordstudio.cba.ictcheck_data import IctCheckOptions

if TYPE_CHECKING:
    from coordstudio.sgam.model import SgamModel

__all__ = [
    "DEFAULT_INFORMATION_OBJECT_ALIASES",
    "DEFAULT_ROLE_ALIASES",
    "map_message_types",
    "unmatched_hint",
]

DEFAULT_INFORMATION_OBJECT_ALIASES: dict[str, str] = {
    "bids": "bid",
    "setpoints": "setpoint",
    "set_point": "setpoint",
    "clearing_results": "clearing_result",
    "curve": "aggregated_curve",
}
"""Simulation information-object names (normalised) -> SGAM information-object ids, for names that differ.

An exact id always wins; these only apply when the simulation's name is not an id of the model."""

DEFAULT_ROLE_ALIASES: dict[str, str] = {
    "der": "der_gateway",
    "device": "der_gateway",
    "market": "tso_market",
    "tso_market_platform": "tso_market",
    "dso_market_platform": "dso_market",
    "local_market": "dso_market",
    "imo": "imo_platform",
    "independent_market_operator": "imo_platform",
    "hub": "data_hub",
    "meter": "smart_meter",
    "brp": "commercial_party",
}
"""Simulation role names (normalised) -> SGAM actor ids, for names that are not an actor id, owner, role or
multiplicity of the model."""


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _io_id(model: SgamModel, name: str, aliases: Mapping[str, str]) -> str:
    """SGAM information-object id a simulated name stands for (the name itself when unknown)."""
    ids = {io.id for io in model.information_objects}
    n = _norm(name)
    for cand in (name, n):
        if cand in ids:
            return cand
    if n in aliases:
        return aliases[n]
    if n.endswith("s") and n[:-1] in ids:
        return n[:-1]
    return n


def _actor_score(model: SgamModel, actor_id: str, role_name: str, aliases: Mapping[str, str]) -> int:
    """How specifically ``role_name`` names actor ``actor_id``: 3 id, 2 owner, 1 role/multiplicity, 0 no."""
    actor = model.get("actors", actor_id)
    n = _norm(role_name)
    n = aliases.get(n, n)
    if n == actor.id:
        return 3
    if actor.owner_id and n == actor.owner_id:
        return 2
    if n in (actor.role.value, actor.multiplicity):
        return 1
    return 0


def map_message_types(
    model: SgamModel,
    scheme: str,
    types: Iterable[tuple[str, str, str]],
    options: IctCheckOptions | None = None,
) -> dict[tuple[str, str, str], str]:
    """Map ``(sender_role, receiver_role, information_object)`` to the scheme's event id ('' when none).

    See step 1 of the module docstring for the scoring.
    """
    opts = options or IctCheckOptions()
    role_aliases = {**DEFAULT_ROLE_ALIASES, **{_norm(k): v for k, v in opts.role_aliases.items()}}
    io_aliases = {
        **DEFAULT_INFORMATION_OBJECT_ALIASES,
        **{_norm(k): v for k, v in opts.information_object_aliases.items()},
    }
    events = [e for e in model.events if scheme in e.schemes]
    out: dict[tuple[str, str, str], str] = {}
    for key in types:
        sender, receiver, io_name = key
        io = _io_id(model, io_name, io_aliases)
        best, best_score = "", 0
        for e in events:
            if e.information_object_id != io:
                continue
            s = _actor_score(model, e.producer_id, sender, role_aliases)
            r = _actor_score(model, e.receiver_id, receiver, role_aliases)
            if s and r and s + r > best_score:
                best, best_score = e.id, s + r
        out[key] = best
    return out


def unmatched_hint(
    model: SgamModel, scheme: str, key: tuple[str, str, str], options: IctCheckOptions | None = None
) -> str:
    """Why a message type maps to no event, in words: the nearest events of the model.

    Nearest = an event of *another* scheme with the same actors and information object (the flow exists,
    the scheme lacks it), else an event of this scheme carrying the same object between other actors.
    """
    opts = options or IctCheckOptions()
    role_aliases = {**DEFAULT_ROLE_ALIASES, **{_norm(k): v for k, v in opts.role_aliases.items()}}
    io_aliases = {
        **DEFAULT_INFORMATION_OBJECT_ALIASES,
        **{_norm(k): v for k, v in opts.information_object_aliases.items()},
    }
    sender, receiver, io_name = key
    io = _io_id(model, io_name, io_aliases)
    if io not in model.index("information_objects"):
        return f"the model has no information object '{io_name}'"
    same_flow = [
        e for e in model.events
        if e.information_object_id == io
        and _actor_score(model, e.producer_id, sender, role_aliases)
        and _actor_score(model, e.receiver_id, receiver, role_aliases)
    ]
    if same_flow:
        return "; ".join(f"event {e.id} has this flow in {', '.join(e.schemes)}, not in {scheme}"
                         for e in same_flow)
    same_io = [e for e in model.events if scheme in e.schemes and e.information_object_id == io]
    if same_io:
        return "; ".join(f"in {scheme} event {e.id} carries '{io}' from {e.producer_id} to {e.receiver_id}"
                         for e in same_io)
    return f"no event of {scheme} carries '{io}' and none has this sender and receiver"
