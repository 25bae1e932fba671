"""ICT cost results per coordination scheme: the contract between ``sgam`` and the CBA.

The matching in ``sgam`` fills these; ``cba`` turns them into cash flows (with replacements of assets
whose lifetime is shorter than the horizon, and residual value). Fields may be added; existing names and
units do not change.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IctCostLine(BaseModel):
    """One costed item: a technology serving one link (or event) for one paying actor."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Coordination scheme id (CMS, LMS, SBR, CM, IFM).")
    link_id: str = Field(description="Id of the link (or interaction event) this line pays for.")
    technology_id: str = Field(description="Id of the chosen communication technology.")
    actor_id: str = Field(description="Id of the actor that pays for this item.")
    actor_role: str = Field(
        default="",
        description="Role of the paying actor for the per-actor CBA (tso, dso, aggregator, der_owner, "
        "consumer, market_operator, commercial_party).",
    )
    layer: str = Field(default="communication", description="SGAM layer of the item.")
    endpoints: int = Field(ge=0, description="Number of endpoints the item connects, count.")
    capex_eur: float = Field(ge=0, description="Investment at year 0, EUR.")
    opex_eur_per_year: float = Field(ge=0, description="Operating cost per year, EUR/a.")
    lifetime_years: float = Field(gt=0, description="Lifetime of the asset, years.")
    item_kind: str = Field(
        default="link",
        description="What the line pays for: 'link' (a communication link; technology_id is a catalogue id) "
        "or 'component' (a hardware/software item; link_id and technology_id are the component id).",
    )
    present_value_eur: float = Field(
        default=0.0,
        ge=0,
        description="Present value of CAPEX (with replacements, less residual value) and OPEX over the "
        "matching horizon, EUR; the quantity the matching minimised.",
    )
    description: str = Field(default="", description="What the line pays for, in words.")
    multiplicity: str = Field(
        default="",
        description="Endpoint multiplicity the line's quantity follows (der, smart_meter, dso, tso, ...): "
        "a component's own, a link's larger end; the CBA scales lines to the study's system by it.",
    )


class SchemeIctCost(BaseModel):
    """ICT cost of one coordination scheme."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Coordination scheme id.")
    lines: list[IctCostLine] = Field(default_factory=list, description="Costed items of the scheme.")
    unserved_events: list[str] = Field(
        default_factory=list, description="Ids of events no technology can serve (must be fixed)."
    )
    unserved_reasons: dict[str, str] = Field(
        default_factory=dict, description="Unserved event id -> why no technology serves it."
    )

    @property
    def capex_eur(self) -> float:
        """Total investment of the scheme, EUR."""
        return sum(line.capex_eur for line in self.lines)

    @property
    def opex_eur_per_year(self) -> float:
        """Total operating cost per year, EUR/a."""
        return sum(line.opex_eur_per_year for line in self.lines)

    @property
    def present_value_eur(self) -> float:
        """Total present value of the scheme's lines over the matching horizon, EUR."""
        return sum(line.present_value_eur for line in self.lines)
