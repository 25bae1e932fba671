"""What system a study's figures stand for (``cba.system`` of the study file), as pure data.

The rule that scales benefits and ICT costs to it, and the break-even scale, are in
:mod:`cba.system_scale`; this module only holds the model, so that :mod:`cba.parameters` can hold one
without importing the CBA's arithmetic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PLATFORM_MULTIPLICITIES: frozenset[str] = frozenset(
    {"tso", "dso", "market_operator", "data_hub", "commercial_party"}
)
"""Multiplicities that count organisations: their lines are the organisations' (shared) platforms."""


class SystemScale(BaseModel):
    """The system the study's figures stand for (module docstring for the rule)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="the simulated grid",
        description="What the figures stand for, in words (e.g. 'distribution of northern Italy').",
    )
    scale_factor: float = Field(
        default=1.0, gt=0,
        description="Size of that system in multiples of the simulated grid (devices, substations, "
        "benefits), -; 1: the simulated grid itself.",
    )
    platform_share: float = Field(
        default=1.0, gt=0, le=1,
        description="Share of each organisation's platform (TSO, DSO, market operator, data hub, commercial "
        "party) the simulated grid accounts for, -; 1: its operators carry whole platforms.",
    )
    source: str = Field(
        default="assumption (the simulated grid stands for itself and carries whole platforms)",
        description="Where scale_factor and platform_share come from (a publication or 'assumption ...').",
    )
