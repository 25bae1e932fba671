"""ICT check: compare the SGAM interaction events with the messages the simulation actually exchanged.

ICT architects size communication from *assumed* message rates and payloads (the study's SGAM model); the
simulation platform logs every message it exchanged between actors (``simulation.db.messages``: time,
sender, sender role, receiver, receiver role, information object, number of messages, bytes). This module
closes that loop. It lives in ``cba`` because it needs both ``sgam`` and ``simulation``, which must not
import each other.

Steps (one completed run per scheme, the latest one of this study in the results database; with several
representative days, every day's run, weighted as the CBA weights the days: :func:`ict_check`):

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
     chosen technology's data rate;
   * payload of each link: the largest ratio of an event's measured p95 payload to its stated (design)
     payload; events above ``1 + tolerance`` are listed and the link is flagged
     (``LinkLoadRow.payload_exceeds_design``). The simulation sizes each message from the records it
     carries (``simulation.recording.messages``), so this compares the design with what was exchanged.

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

Public API: :func:`ict_check` (study, results URL) -> :class:`IctCheckResult` (plain pydantic data).
The check is spread over a few modules, one job each: :mod:`cba.ictcheck_data` (options, rows, result),
:mod:`cba.ictcheck_log` (reading the runs' message logs), :mod:`cba.ictcheck_mapping` (step 1), this
module (steps 2 to 4) and :mod:`cba.ictcheck_output` (CSV tables, chart, Excel sheet, recommendations
paragraph). The names of the first three are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coordstudio.cba.errors import StudyError
from coordstudio.cba.ictcheck_data import (
    EventCheckRow,
    IctCheckOptions,
    IctCheckResult,
    LinkLoadRow,
    MessageTypeRow,
    SchemeIctDelta,
    UnseenEventRow,
    Verdict,
)
from coordstudio.cba.ictcheck_log import LOG_KEY, WEIGHT_COLUMN, SchemeLog, as_db_url, read_scheme_logs
from coordstudio.cba.ictcheck_mapping import map_message_types, unmatched_hint
from coordstudio.sgam.costs import SchemeIctCost

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study
    from coordstudio.sgam.matching import LinkMatch
    from coordstudio.sgam.model import InteractionEvent, SgamModel
    from coordstudio.simulation.scenario.representative_days import RepresentativeDay

__all__ = [
    "EventCheckRow",
    "IctCheckOptions",
    "IctCheckResult",
    "LinkLoadRow",
    "MessageTypeRow",
    "SchemeIctDelta",
    "UnseenEventRow",
    "Verdict",
    "as_db_url",
    "ict_check",
    "map_message_types",
    "measured_model",
    "read_scheme_logs",
    "unmatched_hint",
    "weighted_p95",
]


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
    keys = pd.DataFrame([(*k, v) for k, v in mapping.items()], columns=[*LOG_KEY, "event_id"])
    df = df.merge(keys, on=LOG_KEY, how="left")
    df = df[df["event_id"].fillna("") != ""]
    out: dict[str, _EventStats] = {}
    for eid, g in df.groupby("event_id", sort=False):
        n_msg = g["n_messages"].to_numpy(dtype=float)
        b = g["bytes"].to_numpy(dtype=float)
        w = _day_weights(g)
        k = np.floor(g["time_min"].to_numpy(dtype=float) / interval_min + 1e-9).astype(int)
        per = pd.Series(b).groupby(k).sum()  # peaks: the busiest interval of any day, not weighted
        intervals = {int(i): float(v) for i, v in per.items()}
        out[str(eid)] = _EventStats(int(round(float((w * n_msg).sum()))), int(round(float((w * b).sum()))),
                                    b / n_msg, w * n_msg, intervals)
    return out


def _day_weights(table: pd.DataFrame) -> np.ndarray:
    """Each log line's day weight (:data:`cba.ictcheck_log.WEIGHT_COLUMN`; 1 for a log without one)."""
    if WEIGHT_COLUMN in table:
        return table[WEIGHT_COLUMN].to_numpy(dtype=float)
    return np.ones(len(table))


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
    from coordstudio.sgam.matching import effective_requirement
    from coordstudio.sgam.model import SgamModel as _Model

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


@dataclass
class _Context:
    """What every scheme's check shares: the model, its endpoint counts and the appraisal figures."""

    model: SgamModel
    counts: Mapping[str, int]
    horizon: int
    rate: float
    duration_h: float
    interval_min: float
    stated_costs: Mapping[str, SchemeIctCost]
    options: IctCheckOptions

    @property
    def interval_s(self) -> float:
        return self.interval_min * 60.0


@dataclass
class _SchemeCheck:
    """The rows of one scheme, concatenated over the schemes into the :class:`IctCheckResult`."""

    message_types: list[MessageTypeRow] = field(default_factory=list)
    events: list[EventCheckRow] = field(default_factory=list)
    links: list[LinkLoadRow] = field(default_factory=list)
    unseen: list[UnseenEventRow] = field(default_factory=list)
    delta: SchemeIctDelta | None = None
    measured_cost: SchemeIctCost | None = None


def ict_check(
    study: Study, db_url: str | Path, options: IctCheckOptions | None = None,
    days: Sequence[RepresentativeDay] | None = None,
) -> IctCheckResult:
    """Check the study's SGAM interaction events against the messages of its simulation runs.

    Parameters
    ----------
    study : cba.study_file.Study
        The study (its ``sgam`` model, ``scenario`` and ``cba`` horizon/discount rate).
    db_url : str or Path
        Results database: a SQLAlchemy URL or the path of an SQLite file.
    options : IctCheckOptions, optional
        Tolerances and extra name aliases.
    days : list of RepresentativeDay, optional
        The study's simulated days (default: :func:`cba.study_days.study_days`, its representative days
        and seed replicates; none for its one day simulated once). With days, every day's run of a
        scheme is read (:func:`cba.ictcheck_log.read_scheme_logs`):
        rates, bytes, payload percentiles and late shares are those of the days weighted as the CBA weights
        them (the year's mean day), peaks those of the busiest interval of any day, over ``n x duration``
        hours.

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
    from coordstudio.sgam.matching import ict_costs, resolve_counts
    from coordstudio.simulation.scenario import endpoint_counts

    opts = options or IctCheckOptions()
    if days is None:
        from coordstudio.cba.study_days import study_days

        days = study_days(study)  # seed replicates included; none for the one day simulated once
    days = list(days or [])
    logs, label = read_scheme_logs(study, as_db_url(db_url), days)
    model = study.sgam
    timing = study.scenario.timing
    horizon = int(study.cba.horizon_years)
    rate = float(study.cba.discount_rate)
    try:
        counts = resolve_counts(model, endpoint_counts(study.scenario))
        stated_costs = ict_costs(model, counts, horizon, rate)
    except KeyError as exc:
        raise StudyError(f"sgam: cannot match the model: unknown id {exc}") from None
    ctx = _Context(model, counts, horizon, rate, float(timing.duration_h) * max(1, len(days)),
                   float(timing.granularity_min), stated_costs, opts)
    checks = {scheme: _check_scheme(ctx, scheme, logs[scheme]) for scheme in model.scheme_ids()
              if scheme in logs}
    parts = list(checks.values())
    type_rows = [row for part in parts for row in part.message_types]
    measured_ict = {
        scheme: part.measured_cost for scheme, part in checks.items() if part.measured_cost is not None
    }
    return IctCheckResult(
        study_title=study.metadata.title,
        results_db=label,
        duration_h=ctx.duration_h,
        interval_min=ctx.interval_min,
        horizon_years=horizon,
        discount_rate=rate,
        options=opts,
        events=[row for part in parts for row in part.events],
        links=[row for part in parts for row in part.links],
        message_types=type_rows,
        unmatched_messages=[t for t in type_rows if not t.event_id],
        unseen_events=[row for part in parts for row in part.unseen],
        schemes=[part.delta for part in parts if part.delta is not None],
        stated_ict={sc: stated_costs[sc] for sc in measured_ict},
        measured_ict=measured_ict,
        schemes_not_simulated=[sc for sc in model.scheme_ids() if sc not in logs],
        days={d.day_id: d.weight_days for d in days},
    )


def _check_scheme(ctx: _Context, scheme: str, log: SchemeLog) -> _SchemeCheck:
    """Steps 1 to 4 of the module docstring for one scheme's run."""
    from coordstudio.sgam.matching import ict_costs, match_scheme

    model, opts = ctx.model, ctx.options
    out = _SchemeCheck()
    # 1. mapping
    mapping, out.message_types = _message_types(model, scheme, log, opts)
    stats = _event_stats(log, mapping, ctx.interval_min)
    # 2. stated matching, link loads
    stated_matches: dict[str, LinkMatch] = {
        m.link_id: m for m in match_scheme(model, scheme, ctx.counts, ctx.horizon, ctx.rate)
    }
    link_peak = _link_peaks(stated_matches, stats, ctx)
    # 3. re-matching on measured figures
    measured_inputs = {
        eid: (st.p95, st.bytes_total * 24.0 / ctx.duration_h, link_peak[model.get("events", eid).link_id][0])
        for eid, st in stats.items()
    }
    mmodel = measured_model(model, scheme, measured_inputs, ctx.counts)
    measured_matches = {m.link_id: m for m in match_scheme(mmodel, scheme, ctx.counts, ctx.horizon, ctx.rate)}
    out.measured_cost = ict_costs(mmodel, ctx.counts, ctx.horizon, ctx.rate)[scheme]
    out.links = _link_rows(
        model, scheme, stated_matches, measured_matches, link_peak, stats, opts.tolerance_frac
    )
    # 4. per event rows and verdicts
    verdict_counts: dict[str, int] = {}
    techs = model.index("technologies")
    ios = model.index("information_objects")
    for e in (ev for ev in model.events if scheme in ev.schemes):
        row = _event_row(
            model, scheme, e, stats.get(e.id), stated_matches[e.link_id], measured_matches[e.link_id],
            link_peak[e.link_id], ctx.counts, ctx.duration_h, ctx.interval_s, opts.tolerance_frac, ios, techs,
        )
        out.events.append(row)
        verdict_counts[row.verdict] = verdict_counts.get(row.verdict, 0) + 1
        if row.verdict == "not_observed":
            out.unseen.append(
                UnseenEventRow(
                    scheme=scheme, event_id=e.id, information_object_id=e.information_object_id,
                    producer_id=e.producer_id, receiver_id=e.receiver_id,
                )
            )
    out.delta = _scheme_delta(scheme, log.run_id, ctx.stated_costs[scheme], out.measured_cost,
                              verdict_counts, opts)
    return out


def _message_types(
    model: SgamModel, scheme: str, log: SchemeLog, opts: IctCheckOptions
) -> tuple[dict[tuple[str, str, str], str], list[MessageTypeRow]]:
    """Step 1: the event of each simulated message type, and one row per type with its totals."""
    weighted = log.table[LOG_KEY].copy()  # totals of the weighted days (the year's mean day times n)
    w = _day_weights(log.table)
    weighted["n_messages"] = log.table["n_messages"].to_numpy(dtype=float) * w
    weighted["bytes"] = log.table["bytes"].to_numpy(dtype=float) * w
    grouped = weighted.groupby(LOG_KEY, sort=True)[["n_messages", "bytes"]].sum().round()
    totals: dict[tuple[str, str, str], list[int]] = {
        (str(k[0]), str(k[1]), str(k[2])): [int(v[0]), int(v[1])]
        for k, v in zip(grouped.index, grouped.to_numpy(), strict=True)
    }
    mapping = map_message_types(model, scheme, totals, opts)
    rows = [
        MessageTypeRow(
            scheme=scheme, sender_role=key[0], receiver_role=key[1], information_object=key[2],
            event_id=mapping[key], n_messages=n, bytes_total=b,
            hint="" if mapping[key] else unmatched_hint(model, scheme, key, opts),
        )
        for key, (n, b) in sorted(totals.items())
    ]
    return mapping, rows


def _link_peaks(
    stated_matches: Mapping[str, LinkMatch], stats: Mapping[str, _EventStats], ctx: _Context
) -> dict[str, tuple[float, float | None]]:
    """Per link: the measured load per endpoint of its busiest market interval (kbit/s), and that
    interval's start (min); ``(0, None)`` for a link without messages."""
    link_peak: dict[str, tuple[float, float | None]] = {}
    for link_id, lm in stated_matches.items():
        per_interval: dict[int, float] = {}
        for eid in lm.event_ids:
            if eid in stats:
                for k, bb in stats[eid].interval_bytes.items():
                    per_interval[k] = per_interval.get(k, 0.0) + bb
        if per_interval and lm.endpoints > 0:
            k_max = max(per_interval, key=lambda k: per_interval[k])
            peak = per_interval[k_max] * 8.0 / ctx.interval_s / 1000.0 / lm.endpoints
            link_peak[link_id] = (peak, k_max * ctx.interval_min)
        else:
            link_peak[link_id] = (0.0, None)
    return link_peak


def _link_rows(
    model: SgamModel,
    scheme: str,
    stated_matches: Mapping[str, LinkMatch],
    measured_matches: Mapping[str, LinkMatch],
    link_peak: Mapping[str, tuple[float, float | None]],
    stats: Mapping[str, _EventStats],
    tol: float,
) -> list[LinkLoadRow]:
    """One row per link: measured peak against the chosen technology, stated and measured matching, and
    the events whose measured p95 payload exceeds their stated (design) payload by more than ``tol``."""
    techs = model.index("technologies")
    ios = model.index("information_objects")
    rows = []
    for link_id, lm in stated_matches.items():
        mm = measured_matches[link_id]
        tech = techs[lm.chosen.technology_id] if lm.chosen else None
        peak, start = link_peak[link_id]
        ratios: dict[str, float] = {}
        for eid in lm.event_ids:
            if eid in stats:
                stated = float(ios[model.get("events", eid).information_object_id].payload_bytes)
                ratios[eid] = stats[eid].p95 / stated if stated > 0 else math.inf
        oversized = [eid for eid, r in ratios.items() if r > 1 + tol]
        rows.append(
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
                max_payload_ratio=max(ratios.values()) if ratios else None,
                oversized_event_ids=oversized,
                payload_exceeds_design=bool(oversized),
            )
        )
    return rows


def _scheme_delta(
    scheme: str,
    run_id: int,
    stated_cost: SchemeIctCost,
    measured_cost: SchemeIctCost,
    verdict_counts: dict[str, int],
    opts: IctCheckOptions,
) -> SchemeIctDelta:
    """The scheme's ICT cost on stated and on measured figures, and whether the change is material."""
    s_pv, m_pv = stated_cost.present_value_eur, measured_cost.present_value_eur
    delta_frac = (m_pv - s_pv) / s_pv if s_pv > 0 else 0.0
    return SchemeIctDelta(
        scheme=scheme,
        run_id=run_id,
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
    ios: Mapping[str, Any],
    techs: Mapping[str, Any],
) -> EventCheckRow:
    """One row of the table: measured figures, stated ones and the verdict (module docstring step 4)."""
    from coordstudio.sgam.matching import effective_requirement

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
    under, over = _deviations(
        measured_per_h, stated_per_h, p95, stated_payload, late, req.max_latency_ms, tech, e.link_id,
        link_peak_kbps, link_frac, capacity, tol,
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
    verdict, reasons = _verdict(under, over, cheaper, tech_note)
    return EventCheckRow(
        **common, n_messages=st.n, measured_messages_per_h=measured_per_h,
        measured_bytes_per_h=st.bytes_total / duration_h, payload_mean_bytes=st.mean,
        payload_p95_bytes=p95, payload_max_bytes=st.max, peak_data_rate_kbps=peak,
        peak_data_rate_kbps_per_endpoint=peak / endpoints if endpoints else 0.0,
        busiest_interval_start_min=k_max * interval_s / 60.0, late_share_frac=min(1.0, late),
        verdict=verdict, reasons=reasons,
    )


def _deviations(
    measured_per_h: float,
    stated_per_h: float,
    p95: float,
    stated_payload: int,
    late: float,
    max_latency_ms: float | None,
    tech: Any,
    link_id: str,
    link_peak_kbps: float,
    link_frac: float | None,
    capacity: float | None,
    tol: float,
) -> tuple[list[str], list[str]]:
    """The reasons an event is under-specified (measured above stated, late messages, overloaded link)
    and over-specified (measured below stated by more than the tolerance), in words."""
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
            f"{late:.1%} of messages later than {_fmt(max_latency_ms or 0)} ms "
            f"on {tech.id if tech else ''}"
        )
    if link_frac is not None and link_frac > 1:
        under.append(
            f"link {link_id} peak {_fmt(link_peak_kbps)} kbit/s per endpoint > {_fmt(capacity or 0)} "
            f"kbit/s of {tech.id if tech else ''}"
        )
    return under, over


def _verdict(under: list[str], over: list[str], cheaper: bool, tech_note: str) -> tuple[Verdict, str]:
    """Step 4 of the module docstring: the verdict and its reasons in words."""
    if under:
        return "under_specified", "; ".join(under) + tech_note
    if over and cheaper:
        return "over_specified", "; ".join(over) + tech_note
    reasons = (
        "measured rate and payload within tolerance" if not over
        else "; ".join(over) + ", but the same technology still serves the link"
    ) + tech_note
    return "consistent", reasons
