"""Key performance indicators of one simulated scheme over one representative day.

This is the contract between the simulation platform (which fills it) and the cost-benefit analysis
(which monetises it). Fields may be added; existing names and units do not change.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coordstudio.simulation.schemes import SCHEMES

SCHEME_IDS: tuple[str, ...] = tuple(SCHEMES)
"""Identifiers of the TSO-DSO coordination schemes (the keys of :data:`simulation.schemes.SCHEMES`), used
by every package.

CMS centralized AS market; LMS local AS market; SBR shared balancing responsibility; CM common TSO-DSO
AS market; IFM integrated flexibility market.
"""


class SchemeKpis(BaseModel):
    """KPIs of one coordination scheme simulated over one representative day."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Coordination scheme id (CMS, LMS, SBR, CM, IFM).")
    day: str = Field(default="default", description="Id of the representative day simulated.")
    duration_h: float = Field(default=24.0, gt=0, description="Simulated duration in hours.")
    activation_cost_eur: float = Field(
        description="Payments to the activated sellers at their nodal clearing prices (pay-as-clear), EUR: "
        "what the operators pay, a transfer that includes the sellers' surplus (the system's cost is "
        "resource_cost_eur)."
    )
    resource_cost_eur: float = Field(
        default=0.0,
        description="Resource cost of the activated flexibility: sum over activated sell bids and firm "
        "steps of quantity x the bid's own price x step length, EUR (records written before this field "
        "existed take activation_cost_eur).",
    )
    buyer_payments_eur: float = Field(
        default=0.0,
        description="Payments by the buyers of flexibility at their nodal clearing prices (the operators' "
        "needs; IFM's commercial buy bids), EUR.",
    )
    need_payments_eur: float = Field(
        default=0.0,
        description="The part of buyer_payments_eur paid for the operators' needs (the rest: commercial "
        "parties' buy bids, IFM), EUR.",
    )
    congestion_rent_eur: float = Field(
        default=0.0,
        description="buyer_payments_eur - activation_cost_eur: the transfer the nodal prices leave with the "
        "operators (negative: the counter-trading they pay for), EUR.",
    )
    afrr_energy_mwh: float = Field(ge=0, description="Residual imbalance energy covered by aFRR, MWh.")
    afrr_cost_eur: float = Field(ge=0, description="Cost of the aFRR energy at the aFRR price, EUR.")
    afrr_need_energy_mwh: float = Field(
        default=0.0,
        ge=0,
        description="Residual imbalance energy the market left (sum of |need| dt over the physical steps), "
        "which an unlimited aFRR would cover; afrr_energy_mwh is what the reserve and its ramp covered of "
        "it, MWh.",
    )
    afrr_up_energy_mwh: float = Field(default=0.0, ge=0, description="Upward aFRR energy delivered, MWh.")
    afrr_down_energy_mwh: float = Field(
        default=0.0, ge=0, description="Downward aFRR energy delivered, MWh."
    )
    afrr_energy_not_served_mwh: float = Field(
        default=0.0,
        ge=0,
        description="Deficit beyond the TSO's upward aFRR reserve or ramp (energy not served by the "
        "balancing reserves; the slack bus, i.e. the interconnection, supplied it), MWh.",
    )
    afrr_surplus_not_absorbed_mwh: float = Field(
        default=0.0,
        ge=0,
        description="Surplus beyond the TSO's downward aFRR reserve or ramp (not absorbed by the balancing "
        "reserves; exported through the slack bus), MWh.",
    )
    afrr_short_steps: int = Field(
        default=0,
        ge=0,
        description="Physical steps in which aFRR could not cover the whole residual imbalance, count.",
    )
    congestion_hours_h: float = Field(ge=0, description="Line-hours with loading above 100 %, h.")
    overload_energy_mwh: float = Field(ge=0, description="Energy flowing above line ratings, MWh.")
    voltage_violation_hours_h: float = Field(
        ge=0, description="Bus-hours with voltage outside its limits, h."
    )
    curtailed_res_mwh: float = Field(ge=0, description="Curtailed variable-RES energy, MWh.")
    losses_mwh: float = Field(ge=0, description="Grid losses of the detailed distribution grids, MWh.")
    slack_energy_mwh: float = Field(ge=0, description="Market slack (unserved need) energy, MWh.")
    slack_cost_eur: float = Field(ge=0, description="Penalty cost of market slack, EUR.")
    lines_tripped: int = Field(default=0, ge=0, description="Lines tripped by protection, count.")
    failed_clearings: int = Field(
        default=0,
        ge=0,
        description="Clearings the solver could not solve (nothing activated; aFRR covered), count.",
    )
    energy_not_served_mwh: float = Field(
        default=0.0, ge=0, description="Load disconnected by tripped lines in the detailed feeders, MWh."
    )
    congestion_hours_by_grid: dict[str, float] = Field(
        default_factory=dict, description="Line-hours above 100 % per grid ('transmission' or feeder id), h."
    )
    voltage_violation_hours_by_grid: dict[str, float] = Field(
        default_factory=dict, description="Bus-hours outside voltage limits per grid, h."
    )
    bids_submitted_by_area: dict[str, int] = Field(
        default_factory=dict, description="Bids submitted per DSO area (local market liquidity), count."
    )
    bids_activated_by_area: dict[str, int] = Field(
        default_factory=dict, description="Bids activated per DSO area, count."
    )
    messages_by_pair: dict[str, int] = Field(
        default_factory=dict, description="Messages exchanged per 'sender->receiver' actor pair, count."
    )
    bytes_by_pair: dict[str, int] = Field(
        default_factory=dict, description="Bytes exchanged per 'sender->receiver' actor pair, B."
    )
    clearings: int = Field(
        default=0,
        ge=0,
        description="Clearings made over the run, failed ones included (0 when not recorded, e.g. KPIs "
        "written before this field existed), count.",
    )
    infeasible_clearings: int = Field(
        default=0,
        ge=0,
        description="Failed clearings the solver proved infeasible even with slack (part of "
        "failed_clearings), count.",
    )
    time_limited_clearings: int = Field(
        default=0,
        ge=0,
        description="Failed clearings stopped by the solver's time limit without a usable solution (part "
        "of failed_clearings), count.",
    )
    slack_clearings: int = Field(
        default=0,
        ge=0,
        description="Solved clearings whose firm steps used market slack (unserved need, priced in "
        "slack_cost_eur), count.",
    )
    run_failed: int = Field(
        default=0,
        ge=0,
        le=1,
        description="1 when the run stopped on a physics or solver failure (the KPIs cover only the steps "
        "before it), else 0.",
    )
    run_failure: str = Field(
        default="",
        description="Why the run stopped (the failure's message, naming the step and the grid or "
        "clearing); empty when it completed.",
    )

    @model_validator(mode="before")
    @classmethod
    def _resource_cost_of_older_records(cls, data: Any) -> Any:
        """A record written before ``resource_cost_eur`` existed has only the payments: they stand in for
        the resource cost (an upper bound: payments = resource cost + the sellers' surplus), so older
        databases and KPI files still load and rank as they did."""
        if isinstance(data, dict) and "resource_cost_eur" not in data and "activation_cost_eur" in data:
            data = {**data, "resource_cost_eur": data["activation_cost_eur"]}
        return data
