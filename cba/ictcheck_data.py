"""The ICT check's data: its options and the rows and result it produces (plain pydantic models).

Kept apart from the computation (:mod:`cba.ictcheck`) so that the writers (:mod:`cba.ictcheck_output`,
the Excel report, the recommendations draft) and the GUI view depend on the shape of a result, not on
pandas or the results database.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coordstudio.sgam.costs import SchemeIctCost

__all__ = [
    "EventCheckRow",
    "IctCheckOptions",
    "IctCheckResult",
    "LinkLoadRow",
    "MessageTypeRow",
    "SchemeIctDelta",
    "UnseenEventRow",
    "Verdict",
]

Verdict = Literal["consistent", "under_specified", "over_specified", "not_observed"]


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
    max_payload_ratio: float | None = Field(
        default=None,
        ge=0,
        description="Largest measured p95 payload over the stated payload among the link's observed "
        "events (None: none observed), -.",
    )
    oversized_event_ids: list[str] = Field(
        default_factory=list,
        description="Events of the link whose measured p95 payload exceeds the stated (design) payload by "
        "more than the tolerance.",
    )
    payload_exceeds_design: bool = Field(
        default=False,
        description="True when at least one event of the link carries messages larger than its design "
        "payload (oversized_event_ids is not empty).",
    )


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
