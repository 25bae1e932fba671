"""ICT check: compare the SGAM interaction events with the messages the simulation actually exchanged.

ICT architects size communication from *assumed* message rates and payloads (the study's SGAM model); the
simulation platform logs every message it exchanged between actors (``simulation.db.messages``: time,
sender, sender role, receiver, receiver role, information object, number of messages, bytes). This module
closes that loop. It lives in ``cba`` because it needs both ``sgam`` and ``simulation``, which must not
import each other.

Steps (one completed run per scheme, the latest one of this study in the results database):

1. **Mapping.** Each simulated message type ``(sender_role, receiver_role, information_object)`` is mapped
   to the interaction event of the scheme it realises (:func:`map_message_types`): the event's information
   object must equal the message's (after normalisation and :data:`DEFAULT_INFORMATION_OBJECT_ALIASES`),
   and each role name must name the event's producer/receiver actor: its id (score 3), its owning
   organisation (score 2) or its economic role or multiplicity (score 1). The highest total score wins.
   Message types with no event, and events with no message, are both listed.
2. **Measured figures per event and scheme** over the simulated duration ``D`` hours, with ``N`` messages
   of sizes ``s_i``:

   * messages per hour ``N / D``, against the stated ``m f_d r / 24`` (``m`` instances of the event's
     multiplicity, ``f_d`` triggers per day, ``r`` messages per trigger: what ``sgam.matching`` costs);
   * payload mean, p95 (smallest size ``s`` with at least 95 % of the messages ``<= s``) and max;
   * peak data rate: the bytes ``B_k`` of the busiest market interval ``k`` (length ``Δ`` = the scenario's
     market granularity) as ``8 B_k / Δ / 1000`` kbit/s, and per link endpoint (divided by the link's
     endpoint count ``n``, the unit the matching compares with a technology's data rate);
   * share of messages later than the event's latency requirement with the technology the matching chose:
     message ``i`` takes ``latency_t + 8 s_i / rate_t`` ms (``sgam.matching`` step 2);
   * load of each link: the sum over its events of the bytes per interval, per endpoint, peak against the
     chosen technology's data rate.

3. **Re-matching on measured figures** (:func:`measured_model`): a copy of the SGAM model in which each
   observed event of the scheme carries its own information object with payload = the measured p95,
   ``rate_per_trigger`` such that the model's bytes per day equal the measured bytes per day, and a
   requirement with the original latency/availability/security and ``min_data_rate_kbps`` = the measured
   peak load per endpoint of its link. ``sgam.matching`` (not a re-implementation) then picks the
   technologies again; the difference of present values is the ICT cost of the mis-specification.
4. **Verdict per event**: ``under_specified`` when the measured rate or p95 payload exceeds the stated
   one by more than the tolerance, messages arrive late, or the link's peak exceeds the chosen technology's
   capacity; ``over_specified`` when the measured rate or payload is below the stated one by more than the
   tolerance and the re-matching picks a different, cheaper technology for its link; ``consistent``
   otherwise;
   ``not_observed`` when the simulation exchanged no message of the event.

Public API: :func:`ict_check` (study, results URL) -> :class:`IctCheckResult` (plain pydantic data);
``cba.ictcheck_output`` writes the CSV tables, the chart, the Excel sheet and the recommendations paragraph.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cba.errors import StudyError
from sgam.costs import SchemeIctCost

if TYPE_CHECKING:
    from cba.study import Study
    from sgam.matching import LinkMatch
    from sgam.model import InteractionEvent, SgamModel

Verdict = Literal["consistent", "under_specified", "over_specified", "not_observed"]

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


# ------------------------------------------------------------------------------------------- data model
class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IctCheckOptions(_Row):
    """Thresholds of the check (defaults are assumptions of this tool, editable)."""

    tolerance_frac: float = Field(
        default=0.10,
        ge=0,
        description="Relative deviation of measured rate/payload from the stated one still called "
        "consistent, fraction (assumption: 10 %).",
    )
    material_change_frac: float = Field(
        default=0.05,
        ge=0,
        description="Relative change of a scheme's ICT present value on measured figures that makes the "
        "recommendations mention it, fraction (assumption: 5 %).",
    )
    role_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Extra simulation role name -> SGAM actor id mappings (added to the defaults).",
    )
    information_object_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Extra simulation information-object name -> SGAM information-object id mappings.",
    )


class MessageTypeRow(_Row):
    """One simulated message type of one scheme and the interaction event it realises."""

    scheme: str = Field(description="Coordination scheme id.")
    sender_role: str = Field(description="Sender role as logged by the simulation.")
    receiver_role: str = Field(description="Receiver role as logged by the simulation.")
    information_object: str = Field(description="Information object as logged by the simulation.")
    event_id: str = Field(description="Id of the SGAM interaction event it realises; empty: none.")
    n_messages: int = Field(ge=0, description="Messages of this type over the run, count.")
    bytes_total: int = Field(ge=0, description="Bytes of this type over the run, B.")
    hint: str = Field(
        default="", description="For a type with no event: the nearest events of the model, in words."
    )


class UnseenEventRow(_Row):
    """An interaction event of a scheme that the simulation never exchanged."""

    scheme: str = Field(description="Coordination scheme id.")
    event_id: str = Field(description="Id of the SGAM interaction event.")
    information_object_id: str = Field(description="Information object the event carries.")
    producer_id: str = Field(description="Producer actor id.")
    receiver_id: str = Field(description="Receiver actor id.")


class EventCheckRow(_Row):
    """Measured against stated figures of one interaction event in one scheme, and the verdict."""

    scheme: str = Field(description="Coordination scheme id.")
    event_id: str = Field(description="Id of the SGAM interaction event.")
    producer_id: str = Field(description="Producer actor id.")
    receiver_id: str = Field(description="Receiver actor id.")
    information_object_id: str = Field(description="Information object the event carries.")
    link_id: str = Field(description="Link the event travels on.")
    instances: int = Field(ge=0, description="Instances of the event (count of its multiplicity), count.")
    n_messages: int = Field(ge=0, description="Messages exchanged over the run, count.")
    stated_messages_per_h: float = Field(ge=0, description="Messages per hour the model states, 1/h.")
    measured_messages_per_h: float = Field(ge=0, description="Messages per hour simulated, 1/h.")
    stated_bytes_per_h: float = Field(ge=0, description="Data volume per hour the model states, B/h.")
    measured_bytes_per_h: float = Field(ge=0, description="Data volume per hour simulated, B/h.")
    stated_payload_bytes: int = Field(ge=0, description="Payload of one message the model states, B.")
    payload_mean_bytes: float | None = Field(description="Mean simulated payload, B (empty: no message).")
    payload_p95_bytes: float | None = Field(description="95th percentile of simulated payload, B.")
    payload_max_bytes: float | None = Field(description="Largest simulated payload, B.")
    stated_load_kbps_per_endpoint: float = Field(
        ge=0, description="Average load per link endpoint the model implies, kbit/s."
    )
    peak_data_rate_kbps: float = Field(
        ge=0, description="Data rate of the event in the busiest market interval, all instances, kbit/s."
    )
    peak_data_rate_kbps_per_endpoint: float = Field(
        ge=0, description="Peak data rate divided by the link's endpoint count, kbit/s."
    )
    busiest_interval_start_min: float | None = Field(
        description="Start of the busiest market interval of the event, min from the run start."
    )
    max_latency_ms: float | None = Field(description="Strictest latency requirement of the event, ms.")
    technology_id: str = Field(description="Technology the matching chose for the link (stated figures).")
    technology_latency_ms: float | None = Field(description="Network latency of that technology, ms.")
    late_share_frac: float = Field(
        ge=0, le=1, description="Share of messages whose transfer time exceeds the latency requirement, -."
    )
    link_peak_load_kbps_per_endpoint: float = Field(
        ge=0, description="Peak load of the whole link per endpoint in its busiest market interval, kbit/s."
    )
    link_capacity_kbps: float | None = Field(description="Data rate of the chosen technology, kbit/s.")
    link_load_frac: float | None = Field(description="Link peak load over the technology's data rate, -.")
    measured_technology_id: str = Field(
        description="Technology the matching chooses for the link on measured figures (empty: none serves)."
    )
    link_pv_stated_eur: float = Field(description="Present value of the link on stated figures, EUR.")
    link_pv_measured_eur: float | None = Field(
        description="Present value of the link on measured figures, EUR (empty: no technology serves)."
    )
    link_delta_pv_eur: float | None = Field(description="Measured minus stated link present value, EUR.")
    verdict: Verdict = Field(description="consistent, under_specified, over_specified or not_observed.")
    reasons: str = Field(description="Why the verdict, in words.")


class LinkLoadRow(_Row):
    """Peak load of one shared link of one scheme against the chosen technology's capacity."""

    scheme: str = Field(description="Coordination scheme id.")
    link_id: str = Field(description="Link id.")
    event_ids: list[str] = Field(description="Events of the scheme on the link.")
    endpoints: int = Field(ge=0, description="Endpoints of the link, count.")
    technology_id: str = Field(description="Technology chosen on stated figures.")
    capacity_kbps: float | None = Field(description="Data rate of that technology per endpoint, kbit/s.")
    stated_load_kbps_per_endpoint: float = Field(ge=0, description="Average load the model implies, kbit/s.")
    peak_load_kbps_per_endpoint: float = Field(
        ge=0, description="Measured load per endpoint in the busiest market interval, kbit/s."
    )
    load_frac: float | None = Field(description="Peak load over capacity, -.")
    busiest_interval_start_min: float | None = Field(description="Start of the busiest interval, min.")
    measured_technology_id: str = Field(description="Technology chosen on measured figures (empty: none).")
    pv_stated_eur: float = Field(description="Present value on stated figures, EUR.")
    pv_measured_eur: float | None = Field(description="Present value on measured figures, EUR.")
    unserved_reason: str = Field(default="", description="Why no technology serves the measured figures.")


class SchemeIctDelta(_Row):
    """ICT cost of one scheme on stated and on measured figures."""

    scheme: str = Field(description="Coordination scheme id.")
    run_id: int = Field(description="Run of the results database the figures come from.")
    stated_capex_eur: float = Field(description="ICT investment on stated figures, EUR.")
    measured_capex_eur: float = Field(description="ICT investment on measured figures, EUR.")
    stated_opex_eur_per_year: float = Field(description="ICT operating cost on stated figures, EUR/a.")
    measured_opex_eur_per_year: float = Field(description="ICT operating cost on measured figures, EUR/a.")
    stated_pv_eur: float = Field(description="ICT present value on stated figures, EUR.")
    measured_pv_eur: float = Field(description="ICT present value on measured figures, EUR.")
    delta_pv_eur: float = Field(description="Measured minus stated present value, EUR.")
    delta_frac: float = Field(description="delta_pv_eur over stated_pv_eur, -.")
    material: bool = Field(description="True when |delta_frac| reaches the material-change threshold.")
    unserved_measured: list[str] = Field(
        default_factory=list, description="Events no technology serves on measured figures."
    )
    counts: dict[str, int] = Field(default_factory=dict, description="Verdict -> number of events.")


class IctCheckResult(_Row):
    """Everything the ICT check found, as plain data (CSV, chart, Excel sheet, GUI view, paragraph)."""

    study_title: str = Field(description="Title of the study checked.")
    results_db: str = Field(description="Results database URL (password hidden).")
    duration_h: float = Field(gt=0, description="Simulated duration of each run, h.")
    interval_min: float = Field(gt=0, description="Market interval used for peak rates, min.")
    horizon_years: int = Field(description="Horizon of the present values, years.")
    discount_rate: float = Field(description="Discount rate of the present values, fraction.")
    options: IctCheckOptions = Field(description="Thresholds used.")
    events: list[EventCheckRow] = Field(description="One row per event and scheme.")
    links: list[LinkLoadRow] = Field(description="One row per link and scheme.")
    message_types: list[MessageTypeRow] = Field(description="Simulated message types and their events.")
    unmatched_messages: list[MessageTypeRow] = Field(description="Message types with no interaction event.")
    unseen_events: list[UnseenEventRow] = Field(description="Events the simulation never exchanged.")
    schemes: list[SchemeIctDelta] = Field(description="ICT cost per scheme, stated and measured.")
    stated_ict: dict[str, SchemeIctCost] = Field(
        default_factory=dict,
        description="ICT cost per scheme on the model's stated figures (sgam.matching.ict_costs).",
    )
    measured_ict: dict[str, SchemeIctCost] = Field(
        default_factory=dict,
        description="ICT cost per scheme re-matched on measured figures; run_cba(params, kpis, measured_ict) "
        "gives the cost-benefit analysis on the simulated traffic.",
    )
    schemes_not_simulated: list[str] = Field(
        default_factory=list,
        description="Schemes of the SGAM model with no completed run of this study in the database.",
    )


# ----------------------------------------------------------------------------------------- reading runs
@dataclass
class SchemeLog:
    """The message log of one run as a table: one row per logged line (several messages of one type at
    one time). Columns: ``time_min`` (from the run start, min), ``sender_role``, ``receiver_role``,
    ``information_object``, ``n_messages`` (count), ``bytes`` (of all the line's messages, B).

    A pandas table, not a pydantic list model: a scaled-up run logs hundreds of thousands of lines."""

    scheme: str
    run_id: int
    table: pd.DataFrame


LOG_COLUMNS: tuple[str, ...] = (
    "time_min", "sender_role", "receiver_role", "information_object", "n_messages", "bytes",
)
_KEY = ["sender_role", "receiver_role", "information_object"]


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path)


def as_db_url(results: str | Path) -> str:
    """A results database given as a URL or a path to an SQLite file -> a SQLAlchemy URL."""
    text = str(results)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def _same_scenario(run_spec_json: Any, study: Study) -> bool:
    """True when a run's stored scenario, read with today's schema, equals the study's scenario.

    The fingerprint hashes the scenario's JSON, so a field added to ``ScenarioSpec`` after the run (with a
    default) changes it although the scenario simulated is the same; comparing the validated specs is
    robust to that and still tells another study apart.
    """
    from pydantic import ValidationError

    from simulation.scenario import ScenarioSpec

    if not isinstance(run_spec_json, str) or not run_spec_json:
        return False
    try:
        return ScenarioSpec.model_validate_json(run_spec_json) == study.scenario
    except ValidationError:
        return False


def _require_results_tables(db_url: str, label: str) -> None:
    """Refuse a database without the platform's ``runs`` and ``messages`` tables, without touching it.

    ``simulation.db.make_engine`` creates missing tables; on a file that is not a results database (a
    wrong path given by the user) that would modify the user's file, so look first with a plain engine.
    """
    import sqlalchemy as sa

    from simulation.errors import ResultsDatabaseError

    try:
        engine = sa.create_engine(db_url)
    except Exception as exc:  # bad URL, missing driver
        raise ResultsDatabaseError(f"results database {label}: cannot be opened ({exc})") from exc
    try:
        tables = set(sa.inspect(engine).get_table_names())
    except Exception as exc:  # not a database, unreachable server
        raise ResultsDatabaseError(f"results database {label}: cannot be opened ({exc})") from exc
    finally:
        engine.dispose()
    missing = {"runs", "messages"} - tables
    if missing:
        raise ResultsDatabaseError(
            f"results database {label}: not a results database of this tool (no table "
            f"{', '.join(sorted(missing))})"
        )


def read_scheme_logs(study: Study, db_url: str) -> tuple[dict[str, SchemeLog], str]:
    """The latest run of each scheme of this study in the results database, and the redacted URL.

    Raises
    ------
    simulation.errors.ResultsDatabaseError
        The file does not exist; it holds no run; its runs belong to another study (scenario
        fingerprint differs); or the latest run of a scheme is cancelled, failed or still running.
        Every message names the database.
    """
    import sqlalchemy as sa

    from simulation import db as simdb
    from simulation.errors import ResultsDatabaseError

    label = simdb._redact(db_url)
    path = _sqlite_path(db_url)
    if path is not None and not path.is_file():
        # make_engine would silently create an empty database: refuse first.
        raise ResultsDatabaseError(f"results database {path}: file not found")
    _require_results_tables(db_url, label)
    runs = simdb.read_runs(db_url)
    if not runs:
        raise ResultsDatabaseError(f"results database {label}: holds no simulation run")
    spec_json = simdb.spec_json_of(study.scenario)
    fingerprint = simdb.fingerprint_of(spec_json)
    accepted = {fingerprint}
    from cba import study as study_module

    study_fp = getattr(study_module, "study_fingerprint", None)
    if callable(study_fp):  # the lead may store a whole-study fingerprint instead of the scenario's
        accepted.add(str(study_fp(study)))
    # A run belongs to this study when its fingerprint is one of ours or it simulated the same scenario.
    mine = [r for r in runs if r["fingerprint"] in accepted or _same_scenario(r.get("spec_json"), study)]
    if not mine:
        other = sorted({str(r["fingerprint"])[:12] for r in runs})
        raise ResultsDatabaseError(
            f"results database {label}: its runs belong to another study (scenario fingerprint "
            f"{', '.join(other)}, this study's is {fingerprint[:12]}); simulate this study into it first"
        )
    latest: dict[str, dict[str, Any]] = {}
    for r in mine:
        latest[str(r["scheme"])] = r  # read_runs orders by run_id
    for scheme, r in latest.items():
        if r["status"] != "completed":
            raise ResultsDatabaseError(
                f"results database {label}: run {r['run_id']} (scheme {scheme}) is {r['status']}, "
                f"not completed; its message log is incomplete, simulate the scheme again"
            )
    engine = simdb.make_engine(db_url)
    logs: dict[str, SchemeLog] = {}
    m = simdb.messages
    try:
        with engine.connect() as conn:
            for scheme, r in latest.items():
                rows = conn.execute(
                    sa.select(
                        m.c.time_min,
                        m.c.sender_role,
                        m.c.receiver_role,
                        m.c.information_object,
                        m.c.n_messages,
                        m.c.bytes,
                    ).where(m.c.run_id == r["run_id"])
                ).all()
                table = pd.DataFrame.from_records(
                    [tuple(x) for x in rows], columns=list(LOG_COLUMNS)
                ).astype({"time_min": float, "n_messages": "int64", "bytes": "int64",
                          "sender_role": str, "receiver_role": str, "information_object": str})
                logs[scheme] = SchemeLog(scheme=scheme, run_id=int(r["run_id"]), table=table)
    except sa.exc.SQLAlchemyError as exc:
        raise ResultsDatabaseError(f"results database {label}: cannot read the message log ({exc})") from exc
    finally:
        engine.dispose()
    return logs, label


# ---------------------------------------------------------------------------------------------- mapping
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


# ------------------------------------------------------------------------------------------- statistics
def weighted_p95(sizes: np.ndarray, weights: np.ndarray) -> float:
    """Smallest size ``s`` such that at least 95 % of the messages (weights) are ``<= s``."""
    order = np.argsort(sizes, kind="stable")
    s, w = sizes[order], weights[order]
    cum = np.cumsum(w)
    k = int(np.searchsorted(cum, 0.95 * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(s[min(k, len(s) - 1)])


class _EventStats:
    """Measured figures of one event in one scheme (internal)."""

    def __init__(self, n: int, bytes_total: int, sizes: np.ndarray, weights: np.ndarray,
                 interval_bytes: dict[int, float]) -> None:
        self.n = n
        self.bytes_total = bytes_total
        self.sizes = sizes
        self.weights = weights
        self.interval_bytes = interval_bytes

    @property
    def mean(self) -> float:
        return self.bytes_total / self.n

    @property
    def p95(self) -> float:
        return weighted_p95(self.sizes, self.weights)

    @property
    def max(self) -> float:
        return float(self.sizes.max())


def _event_stats(log: SchemeLog, mapping: Mapping[tuple[str, str, str], str],
                 interval_min: float) -> dict[str, _EventStats]:
    """Measured figures of every event that has messages in the log (vectorised per event)."""
    df = log.table[log.table["n_messages"] > 0]
    if df.empty:
        return {}
    keys = pd.DataFrame([(*k, v) for k, v in mapping.items()], columns=[*_KEY, "event_id"])
    df = df.merge(keys, on=_KEY, how="left")
    df = df[df["event_id"].fillna("") != ""]
    out: dict[str, _EventStats] = {}
    for eid, g in df.groupby("event_id", sort=False):
        n_msg = g["n_messages"].to_numpy(dtype=float)
        b = g["bytes"].to_numpy(dtype=float)
        k = np.floor(g["time_min"].to_numpy(dtype=float) / interval_min + 1e-9).astype(int)
        per = pd.Series(b).groupby(k).sum()
        intervals = {int(i): float(v) for i, v in per.items()}
        out[str(eid)] = _EventStats(int(n_msg.sum()), int(b.sum()), b / n_msg, n_msg, intervals)
    return out


# -------------------------------------------------------------------------------------- re-matching
def measured_model(
    model: SgamModel,
    scheme: str,
    measured: Mapping[str, tuple[float, float, float]],
    counts: Mapping[str, int],
) -> SgamModel:
    """Copy of ``model`` in which the scheme's observed events carry measured requirements.

    ``measured``: event id -> ``(payload_p95_bytes, bytes_per_day, peak_kbps_per_endpoint_of_its_link)``.
    For each such event ``e`` with ``m`` instances and ``f_d`` triggers per day, the copy gets

    * an information object ``<io>@<e>`` with ``payload_bytes = ceil(p95)``;
    * ``rate_per_trigger = bytes_per_day / (m f_d ceil(p95))``, so that the matching's volume and average
      load ``m f_d r b`` equal the measured bytes per day;
    * a requirement ``<e>@measured`` keeping the strictest stated latency, availability and security, with
      ``min_data_rate_kbps`` = the measured peak load per endpoint of the event's link (the busiest market
      interval must fit in the technology's data rate).

    Events of other schemes are untouched; events shared with other schemes are copied under the same id
    (the copy is only matched for ``scheme``).
    """
    from sgam.matching import effective_requirement
    from sgam.model import SgamModel as _Model

    data = model.model_dump(mode="python")
    ios = model.index("information_objects")
    for ev in data["events"]:
        eid = ev["id"]
        if scheme not in ev["schemes"] or eid not in measured:
            continue
        p95, bytes_day, peak_kbps = measured[eid]
        event = model.get("events", eid)
        base_io = ios[event.information_object_id]
        payload = max(1, math.ceil(p95))
        io_id = f"{base_io.id}@{eid}"
        data["information_objects"].append(
            {**base_io.model_dump(mode="python"), "id": io_id, "payload_bytes": payload,
             "description": f"measured p95 payload of event {eid} in scheme {scheme}"}
        )
        per_day = counts.get(event.multiplicity, 0) * model.events_per_day(event)
        req = effective_requirement(model, event)
        req_id = f"{eid}@measured"
        data["requirements"].append(
            {
                "id": req_id,
                "name": f"measured requirement of {eid}",
                "max_latency_ms": req.max_latency_ms,
                "min_data_rate_kbps": peak_kbps,
                "min_availability_pct": req.min_availability_pct,
                "min_security_level": req.min_security_level,
                "source": f"measured by the ICT check (scheme {scheme})",
            }
        )
        ev["information_object_id"] = io_id
        ev["requirement_ids"] = [req_id]
        ev["rate_per_trigger"] = bytes_day / (per_day * payload) if per_day > 0 else 0.0
    return _Model.model_validate(data)


# ------------------------------------------------------------------------------------------------ check
def _fmt(x: float) -> str:
    return f"{x:,.4g}"


def ict_check(study: Study, db_url: str | Path, options: IctCheckOptions | None = None) -> IctCheckResult:
    """Check the study's SGAM interaction events against the messages of its simulation runs.

    Parameters
    ----------
    study : cba.study.Study
        The study (its ``sgam`` model, ``scenario`` and ``cba`` horizon/discount rate).
    db_url : str or Path
        Results database: a SQLAlchemy URL or the path of an SQLite file.
    options : IctCheckOptions, optional
        Tolerances and extra name aliases.

    Returns
    -------
    IctCheckResult
        Plain data; see the module docstring for every figure.

    Raises
    ------
    simulation.errors.ResultsDatabaseError
        Missing file, no run, runs of another study, a cancelled/failed/unfinished run.
    cba.errors.StudyError
        The study's SGAM model cannot be matched (e.g. an unknown multiplicity).
    """
    from sgam.matching import ict_costs, match_scheme, resolve_counts
    from simulation.scenario import endpoint_counts

    opts = options or IctCheckOptions()
    url = as_db_url(db_url)
    logs, label = read_scheme_logs(study, url)
    model = study.sgam
    timing = study.scenario.timing
    duration_h = float(timing.duration_h)
    interval_min = float(timing.granularity_min)
    interval_s = interval_min * 60.0
    horizon = int(study.cba.horizon_years)
    rate = float(study.cba.discount_rate)
    try:
        counts = resolve_counts(model, endpoint_counts(study.scenario))
        stated_costs = ict_costs(model, counts, horizon, rate)
    except KeyError as exc:
        raise StudyError(f"sgam: cannot match the model: unknown id {exc}") from None
    actors = model.index("actors")
    ios = model.index("information_objects")
    techs = model.index("technologies")
    tol = opts.tolerance_frac

    event_rows: list[EventCheckRow] = []
    link_rows: list[LinkLoadRow] = []
    type_rows: list[MessageTypeRow] = []
    unseen: list[UnseenEventRow] = []
    schemes_out: list[SchemeIctDelta] = []
    measured_ict: dict[str, SchemeIctCost] = {}

    for scheme in model.scheme_ids():
        log = logs.get(scheme)
        if log is None:
            continue
        # 1. mapping
        grouped = log.table.groupby(_KEY, sort=True)[["n_messages", "bytes"]].sum()
        totals: dict[tuple[str, str, str], list[int]] = {
            (str(k[0]), str(k[1]), str(k[2])): [int(v[0]), int(v[1])]
            for k, v in zip(grouped.index, grouped.to_numpy(), strict=True)
        }
        mapping = map_message_types(model, scheme, totals, opts)
        for key, (n, b) in sorted(totals.items()):
            type_rows.append(
                MessageTypeRow(
                    scheme=scheme, sender_role=key[0], receiver_role=key[1], information_object=key[2],
                    event_id=mapping[key], n_messages=n, bytes_total=b,
                    hint="" if mapping[key] else unmatched_hint(model, scheme, key, opts),
                )
            )
        stats = _event_stats(log, mapping, interval_min)

        # 2. stated matching, link loads
        stated_matches: dict[str, LinkMatch] = {
            m.link_id: m for m in match_scheme(model, scheme, counts, horizon, rate)
        }
        link_peak: dict[str, tuple[float, float | None]] = {}
        for link_id, lm in stated_matches.items():
            per_interval: dict[int, float] = {}
            for eid in lm.event_ids:
                if eid in stats:
                    for k, bb in stats[eid].interval_bytes.items():
                        per_interval[k] = per_interval.get(k, 0.0) + bb
            if per_interval and lm.endpoints > 0:
                k_max = max(per_interval, key=lambda k: per_interval[k])
                peak = per_interval[k_max] * 8.0 / interval_s / 1000.0 / lm.endpoints
                link_peak[link_id] = (peak, k_max * interval_min)
            else:
                link_peak[link_id] = (0.0, None)

        # 3. re-matching on measured figures
        measured_inputs = {
            eid: (st.p95, st.bytes_total * 24.0 / duration_h,
                  link_peak[model.get("events", eid).link_id][0])
            for eid, st in stats.items()
        }
        mmodel = measured_model(model, scheme, measured_inputs, counts)
        measured_matches = {m.link_id: m for m in match_scheme(mmodel, scheme, counts, horizon, rate)}
        measured_cost = ict_costs(mmodel, counts, horizon, rate)[scheme]
        measured_ict[scheme] = measured_cost
        stated_cost = stated_costs[scheme]

        for link_id, lm in stated_matches.items():
            mm = measured_matches[link_id]
            tech = techs[lm.chosen.technology_id] if lm.chosen else None
            peak, start = link_peak[link_id]
            link_rows.append(
                LinkLoadRow(
                    scheme=scheme,
                    link_id=link_id,
                    event_ids=lm.event_ids,
                    endpoints=lm.endpoints,
                    technology_id=tech.id if tech else "",
                    capacity_kbps=tech.data_rate_kbps if tech else None,
                    stated_load_kbps_per_endpoint=lm.load_kbps_per_endpoint,
                    peak_load_kbps_per_endpoint=peak,
                    load_frac=peak / tech.data_rate_kbps if tech else None,
                    busiest_interval_start_min=start,
                    measured_technology_id=mm.chosen.technology_id if mm.chosen else "",
                    pv_stated_eur=lm.chosen.present_value_eur if lm.chosen else 0.0,
                    pv_measured_eur=mm.chosen.present_value_eur if mm.chosen else None,
                    unserved_reason="; ".join(f"{k}: {v}" for k, v in mm.unserved.items()),
                )
            )

        # 4. per event rows and verdicts
        verdict_counts: dict[str, int] = {}
        for e in (ev for ev in model.events if scheme in ev.schemes):
            row = _event_row(
                model, scheme, e, stats.get(e.id), stated_matches[e.link_id], measured_matches[e.link_id],
                link_peak[e.link_id], counts, duration_h, interval_s, tol, actors, ios, techs,
            )
            event_rows.append(row)
            verdict_counts[row.verdict] = verdict_counts.get(row.verdict, 0) + 1
            if row.verdict == "not_observed":
                unseen.append(
                    UnseenEventRow(
                        scheme=scheme, event_id=e.id, information_object_id=e.information_object_id,
                        producer_id=e.producer_id, receiver_id=e.receiver_id,
                    )
                )
        s_pv, m_pv = stated_cost.present_value_eur, measured_cost.present_value_eur
        delta_frac = (m_pv - s_pv) / s_pv if s_pv > 0 else 0.0
        schemes_out.append(
            SchemeIctDelta(
                scheme=scheme,
                run_id=log.run_id,
                stated_capex_eur=stated_cost.capex_eur,
                measured_capex_eur=measured_cost.capex_eur,
                stated_opex_eur_per_year=stated_cost.opex_eur_per_year,
                measured_opex_eur_per_year=measured_cost.opex_eur_per_year,
                stated_pv_eur=s_pv,
                measured_pv_eur=m_pv,
                delta_pv_eur=m_pv - s_pv,
                delta_frac=delta_frac,
                material=abs(delta_frac) >= opts.material_change_frac or bool(measured_cost.unserved_events),
                unserved_measured=list(measured_cost.unserved_events),
                counts=verdict_counts,
            )
        )

    return IctCheckResult(
        study_title=study.metadata.title,
        results_db=label,
        duration_h=duration_h,
        interval_min=interval_min,
        horizon_years=horizon,
        discount_rate=rate,
        options=opts,
        events=event_rows,
        links=link_rows,
        message_types=type_rows,
        unmatched_messages=[t for t in type_rows if not t.event_id],
        unseen_events=unseen,
        schemes=schemes_out,
        stated_ict={sc: stated_costs[sc] for sc in measured_ict},
        measured_ict=measured_ict,
        schemes_not_simulated=[sc for sc in model.scheme_ids() if sc not in logs],
    )


def _event_row(
    model: SgamModel,
    scheme: str,
    e: InteractionEvent,
    st: _EventStats | None,
    lm: LinkMatch,
    mm: LinkMatch,
    link_peak: tuple[float, float | None],
    counts: Mapping[str, int],
    duration_h: float,
    interval_s: float,
    tol: float,
    actors: Mapping[str, Any],
    ios: Mapping[str, Any],
    techs: Mapping[str, Any],
) -> EventCheckRow:
    """One row of the table: measured figures, stated ones and the verdict (module docstring step 4)."""
    from sgam.matching import effective_requirement

    instances = counts.get(e.multiplicity, 0)
    stated_per_h = instances * model.events_per_day(e) * e.rate_per_trigger / 24.0
    stated_payload = int(ios[e.information_object_id].payload_bytes)
    endpoints = lm.endpoints
    stated_load = (
        stated_per_h * 24.0 * stated_payload * 8.0 / 86400.0 / 1000.0 / endpoints if endpoints else 0.0
    )
    req = effective_requirement(model, e)
    tech = techs[lm.chosen.technology_id] if lm.chosen else None
    link_peak_kbps, _ = link_peak
    capacity = tech.data_rate_kbps if tech else None
    link_frac = link_peak_kbps / capacity if capacity else None
    pv_stated = lm.chosen.present_value_eur if lm.chosen else 0.0
    pv_measured = mm.chosen.present_value_eur if mm.chosen else None
    common: dict[str, Any] = dict(
        scheme=scheme, event_id=e.id, producer_id=e.producer_id, receiver_id=e.receiver_id,
        information_object_id=e.information_object_id, link_id=e.link_id, instances=instances,
        stated_messages_per_h=stated_per_h, stated_payload_bytes=stated_payload,
        stated_bytes_per_h=stated_per_h * stated_payload,
        stated_load_kbps_per_endpoint=stated_load, max_latency_ms=req.max_latency_ms,
        technology_id=tech.id if tech else "", technology_latency_ms=tech.latency_ms if tech else None,
        link_peak_load_kbps_per_endpoint=link_peak_kbps, link_capacity_kbps=capacity,
        link_load_frac=link_frac,
        measured_technology_id=mm.chosen.technology_id if mm.chosen else "",
        link_pv_stated_eur=pv_stated, link_pv_measured_eur=pv_measured,
        link_delta_pv_eur=None if pv_measured is None else pv_measured - pv_stated,
    )
    if st is None:
        return EventCheckRow(
            **common, n_messages=0, measured_messages_per_h=0.0, measured_bytes_per_h=0.0,
            payload_mean_bytes=None,
            payload_p95_bytes=None, payload_max_bytes=None, peak_data_rate_kbps=0.0,
            peak_data_rate_kbps_per_endpoint=0.0, busiest_interval_start_min=None, late_share_frac=0.0,
            verdict="not_observed",
            reasons="the simulation exchanged no message of this event (the simulation does not model this "
            "flow, or names it differently: see the unmatched message types)",
        )
    measured_per_h = st.n / duration_h
    k_max = max(st.interval_bytes, key=lambda k: st.interval_bytes[k])
    peak = st.interval_bytes[k_max] * 8.0 / interval_s / 1000.0
    late = 0.0
    if tech is not None and req.max_latency_ms is not None:
        transfer = tech.latency_ms + 8.0 * st.sizes / tech.data_rate_kbps
        late = float(st.weights[transfer > req.max_latency_ms].sum() / st.weights.sum())
    p95 = st.p95
    under: list[str] = []
    over: list[str] = []
    if measured_per_h > stated_per_h * (1 + tol):
        under.append(f"rate {_fmt(measured_per_h)}/h > stated {_fmt(stated_per_h)}/h")
    elif measured_per_h < stated_per_h * (1 - tol):
        over.append(f"rate {_fmt(measured_per_h)}/h < stated {_fmt(stated_per_h)}/h")
    if p95 > stated_payload * (1 + tol):
        under.append(f"p95 payload {_fmt(p95)} B > stated {stated_payload} B")
    elif p95 < stated_payload * (1 - tol):
        over.append(f"p95 payload {_fmt(p95)} B < stated {stated_payload} B")
    if late > 0:
        under.append(
            f"{late:.1%} of messages later than {_fmt(req.max_latency_ms or 0)} ms "
            f"on {tech.id if tech else ''}"
        )
    if link_frac is not None and link_frac > 1:
        under.append(
            f"link {e.link_id} peak {_fmt(link_peak_kbps)} kbit/s per endpoint > {_fmt(capacity or 0)} "
            f"kbit/s of {tech.id if tech else ''}"
        )
    # Over-specified means a *cheaper technology* serves the measured traffic; a lower traffic-volume
    # charge on the same technology does not change the design.
    cheaper = (
        pv_measured is not None
        and mm.chosen is not None
        and mm.chosen.technology_id != common["technology_id"]
        and pv_measured < pv_stated * (1 - 1e-9) - 1e-6
    )
    tech_note = (
        f"; re-matched on measured figures: {common['technology_id'] or '-'} -> "
        f"{common['measured_technology_id'] or 'none serves'}"
    )
    verdict: Verdict
    if under:
        verdict, reasons = "under_specified", "; ".join(under) + tech_note
    elif over and cheaper:
        verdict, reasons = "over_specified", "; ".join(over) + tech_note
    else:
        verdict = "consistent"
        reasons = (
            "measured rate and payload within tolerance" if not over
            else "; ".join(over) + ", but the same technology still serves the link"
        ) + tech_note
    return EventCheckRow(
        **common, n_messages=st.n, measured_messages_per_h=measured_per_h,
        measured_bytes_per_h=st.bytes_total / duration_h, payload_mean_bytes=st.mean,
        payload_p95_bytes=p95, payload_max_bytes=st.max, peak_data_rate_kbps=peak,
        peak_data_rate_kbps_per_endpoint=peak / endpoints if endpoints else 0.0,
        busiest_interval_start_min=k_max * interval_s / 60.0, late_share_frac=min(1.0, late),
        verdict=verdict, reasons=reasons,
    )
