"""Sources of the figures that price something *inside* the simulation (``cba.simulation_figures``).

The CBA's own prices carry their sources in ``cba.sources`` (:mod:`cba.parameters`). The scenario has
prices of its own that shape the simulated KPIs the CBA turns into money: the aFRR energy prices (the
``afrr`` benefit is the simulated aFRR energy times them), the slack penalty (how hard a clearing tries to
serve a need), the aggregators' risk premium, the commercial parties' bid spread, the transmission
generators' bid prices and the default bid-cost distributions of each device category. Their sources are
kept here, in the study's ``cba`` section, and not in the scenario, on purpose: the scenario's fingerprint
decides whether stored simulation results still apply (:mod:`cba.fingerprint`), and editing a citation
must not make results stale.

Each figure names its place in the scenario by a dotted path (``prices.afrr_price_up_eur_per_mwh``,
``transmission.generator_cost_eur_per_mwh``; ``categories.<category>.<parameter>`` for the defaults of
:data:`simulation.scenario.categories.CATEGORY_PARAMETERS`) and carries a source, or says
``assumption (...)`` and gives the ``low``-``high`` range the figure may take. The CBA cannot move these
ranges itself (a new price means a new simulation); they are explored with
``coordstudio sweep STUDY --over variants --variants FILE`` (overrides of the same dotted paths), and the
draft lists them among its assumptions. ``tests/cba/test_sourced_figures.py`` fails on a price or cost of
the shipped scenario with neither a source nor a range containing its value.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_SIMULATION_FIGURES", "SimulationFigure", "default_simulation_figures"]


class SimulationFigure(BaseModel):
    """The source of one price or cost figure of the scenario, and its range when it is an assumption."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        pattern=r"^[a-z_]+(\.[A-Za-z0-9_\-]+)+$",
        description="Where the figure is in the scenario, as a dotted path "
        "(prices.slack_penalty_eur_per_mwh); categories.<category>.<parameter> for a device category's "
        "default distribution.",
    )
    source: str = Field(min_length=1, description="A citation, or 'assumption (...)' with the reason.")
    low: float | None = Field(default=None, description="Lowest plausible value, in the figure's unit.")
    high: float | None = Field(default=None, description="Highest plausible value, in the figure's unit.")

    @model_validator(mode="after")
    def _range_ordered(self) -> SimulationFigure:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"{self.path}: low ({self.low:g}) > high ({self.high:g})")
        return self

    @property
    def is_assumption(self) -> bool:
        """True when the source is an assumption rather than a citation."""
        return "assumption" in self.source.lower()


_BIDS = ("assumption (bid-cost distribution set for this tool: the order of magnitude of the variable "
         "cost or lost comfort of the category; no primary source checked; the distribution is its range)")
DEFAULT_SIMULATION_FIGURES: tuple[tuple[str, str, float | None, float | None], ...] = (
    ("prices.afrr_price_up_eur_per_mwh",
     "assumption (upward aFRR energy at 150 EUR/MWh, the order of magnitude of European aFRR energy "
     "prices outside scarcity events; not checked against a TSO's published prices; range 80-400 EUR/MWh)",
     80.0, 400.0),
    ("prices.afrr_price_down_eur_per_mwh",
     "assumption (downward aFRR energy settled at 40 EUR/MWh, below the day-ahead price; not checked against "
     "a TSO's published prices; range 0-80 EUR/MWh)", 0.0, 80.0),
    ("prices.risk_premium_eur_per_mwh",
     "assumption (premium an aggregator adds to act now rather than later; range 0-20 EUR/MWh)", 0.0, 20.0),
    ("prices.slack_penalty_eur_per_mwh",
     "assumption (penalty of unserved need in the clearing, of the order of a value of lost load; a "
     "modelling device that makes the clearing serve the need whenever a bid can; range 1,000-10,000 "
     "EUR/MWh, above every bid, so the clearing's choices do not change within it)", 1000.0, 10000.0),
    ("prices.commercial_bid_price_spread_eur_per_mwh",
     "assumption (spread of the commercial parties' bids around 60 EUR/MWh in IFM; range 10-60 EUR/MWh)",
     10.0, 60.0),
    ("transmission.generator_cost_eur_per_mwh",
     "assumption (bid prices of the transmission generators, uniform 55-95 EUR/MWh, the order of magnitude "
     "of gas-fired marginal costs; the distribution is its range)", 55.0, 95.0),
    ("categories.storage.flex_cost_eur_per_mwh", _BIDS, 30.0, 60.0),
    ("categories.ev.flex_cost_eur_per_mwh", _BIDS, 20.0, 50.0),
    ("categories.variable_res.flex_cost_eur_per_mwh", _BIDS, 10.0, 40.0),
    ("categories.chp.marginal_cost_eur_per_mwh", _BIDS, 50.0, 80.0),
    ("categories.conventional.marginal_cost_eur_per_mwh", _BIDS, 60.0, 110.0),
    ("categories.shiftable_load.flex_cost_eur_per_mwh", _BIDS, 20.0, 60.0),
    ("categories.curtailable_load.flex_cost_eur_per_mwh", _BIDS, 80.0, 150.0),
    ("categories.tcl.flex_cost_eur_per_mwh", _BIDS, 15.0, 40.0),
)
"""(path, source, low, high) of the default figures."""


def default_simulation_figures() -> list[SimulationFigure]:
    """The sources of the default scenario's prices and costs (:data:`DEFAULT_SIMULATION_FIGURES`)."""
    return [SimulationFigure(path=p, source=s, low=lo, high=hi)
            for p, s, lo, hi in DEFAULT_SIMULATION_FIGURES]
