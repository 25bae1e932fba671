"""The scheme registry: what differs between the TSO-DSO coordination schemes in a simulated day, as data.

Every stage of the day (:mod:`simulation.run`) asks this table, never ``if scheme == ...``: which market
architecture clears the scheme's market (:func:`simulation.market.clear` under
:attr:`SchemeBehaviour.market_architecture`), which SGAM actor runs the market that receives the
distribution-connected bids (the message log's roles, matched against the SGAM library by the ICT check),
whether commercial parties trade in it (IFM), whether the DSOs' grids carry the TSO's interface schedule
(SBR), whether a day can be cleared in one :class:`simulation.market.MarketSession`, and which messages
each DSO exchanges per clearing.

Adding a sixth scheme: add one :class:`SchemeBehaviour` to :data:`SCHEMES` (and its SGAM/ICT library
entry on the sgam side); ``simulation.kpis.SCHEME_IDS`` follows from this table. Every step, with its
text: ``docs/architecture.md`` ("How to add a sixth scheme").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageFlow:
    """One message a DSO area exchanges with a market or operator per clearing (count 1).

    Names and roles are templates: ``{dso}`` is the DSO id, ``{central}`` the central market's name
    (:attr:`SchemeBehaviour.central_name`), ``{central_role}`` its SGAM role."""

    sender: str
    """Sender name template, e.g. ``"DMS@{dso}"``."""
    sender_role: str
    """Sender SGAM actor role template, e.g. ``"dso_dms"``."""
    receiver: str
    """Receiver name template."""
    receiver_role: str
    """Receiver SGAM actor role template."""
    information_object: str
    """Information object (a key of :data:`simulation.recording.messages.MESSAGE_BYTES`)."""


@dataclass(frozen=True)
class SchemeBehaviour:
    """How one coordination scheme runs in the simulated day (see module docstring)."""

    scheme_id: str
    """Id used everywhere (KPIs, database runs, CBA, SGAM library)."""
    description: str
    """One line: who clears what."""
    market_architecture: str
    """Market-layer clearing the scheme uses (one of :data:`simulation.market.SCHEMES`)."""
    local_market_role: str
    """SGAM role of the market operator that receives the distribution-connected bids."""
    local_market_name: str
    """Actor name template of that market in the message log (``{dso}``: the bidder's DSO)."""
    central_role: str = "tso_market"
    """SGAM role of the central market (receives the TSO's need and transmission-connected bids)."""
    central_name: str = "TSO_MARKET"
    """Actor name of the central market in the message log."""
    commercial_parties: bool = False
    """Commercial parties bid in the market and take a share of the TSO's need (IFM)."""
    interface_schedule: bool = False
    """The DSOs' grids carry the TSO's scheduled interface draw into the clearing (SBR)."""
    market_session: bool = False
    """The day may be cleared in one :class:`simulation.market.MarketSession` while the structure holds
    (:class:`simulation.clearing_stage.SessionClearer`); True only where a session run was compared with
    fresh clearings. CMS is left to ``clear()``: its DSO pre-qualification depends on the grid state of each
    clearing, and a session fixes it at its first clearing. LMS and SBR were left out when a session could
    not update the storage pools' energy limits, which their sub-clearings (local markets, curve points,
    disaggregation) carry; ``MarketSession.update`` now takes them, but no platform run of these schemes
    with a session has been compared with fresh clearings yet."""
    dso_messages: tuple[MessageFlow, ...] = ()
    """Messages every DSO exchanges per clearing, in this order."""


_STATE_ESTIMATE_TO_LOCAL = MessageFlow("DMS@{dso}", "dso_dms", "{dso}_MARKET", "dso_market", "state_estimate")
_STATE_ESTIMATE_TO_CENTRAL = MessageFlow(
    "DMS@{dso}", "dso_dms", "{central}", "{central_role}", "state_estimate"
)

SCHEMES: dict[str, SchemeBehaviour] = {
    s.scheme_id: s
    for s in (
        SchemeBehaviour(
            "CMS",
            "centralized AS market: the TSO clears all bids after the DSOs' pre-qualification",
            market_architecture="CMS",
            local_market_role="tso_market",
            local_market_name="TSO_MARKET",
            dso_messages=(
                MessageFlow("DMS@{dso}", "dso_dms", "TSO_MARKET", "tso_market", "prequal_result"),
                MessageFlow("TSO_MARKET", "tso_market", "DMS@{dso}", "dso_dms", "activation_info"),
            ),
        ),
        SchemeBehaviour(
            "LMS",
            "local AS market: DSO markets clear first and pass aggregated curves to the TSO market",
            market_architecture="LMS",
            local_market_role="dso_market",
            local_market_name="{dso}_MARKET",
            dso_messages=(
                MessageFlow("{dso}_MARKET", "dso_market", "TSO_MARKET", "tso_market", "aggregated_curve"),
                MessageFlow("TSO_MARKET", "tso_market", "{dso}_MARKET", "dso_market", "interface_activation"),
                _STATE_ESTIMATE_TO_LOCAL,
            ),
        ),
        SchemeBehaviour(
            "SBR",
            "shared balancing responsibility: each DSO keeps its interface schedule with local resources",
            market_architecture="SBR",
            local_market_role="dso_market",
            local_market_name="{dso}_MARKET",
            interface_schedule=True,
            dso_messages=(
                _STATE_ESTIMATE_TO_LOCAL,
                MessageFlow("EMS@TSO", "tso_ems", "DMS@{dso}", "dso_dms", "interface_schedule"),
            ),
        ),
        SchemeBehaviour(
            "CM",
            "common TSO-DSO AS market, centralised: one market operator clears transmission and distribution"
            " grids together",
            market_architecture="CM",
            local_market_role="tso_market",  # the common market runs on the TSO's platform (SGAM library)
            local_market_name="TSO_MARKET",
            market_session=True,
            dso_messages=(_STATE_ESTIMATE_TO_CENTRAL,),
        ),
        SchemeBehaviour(
            "CM-D",
            "common TSO-DSO AS market, decentralised: each DSO's local market platform passes its least-cost"
            " interface curve and needs to the common clearing, then disaggregates what it takes",
            market_architecture="CM-D",
            local_market_role="dso_market",
            local_market_name="{dso}_MARKET",
            # market_session stays False: like LMS's, no session run of its sub-clearings (local markets,
            # curve points, disaggregation) has been compared with fresh clearings yet
            dso_messages=(
                _STATE_ESTIMATE_TO_LOCAL,
                MessageFlow("{dso}_MARKET", "dso_market", "{central}", "{central_role}", "dso_needs"),
                MessageFlow("{dso}_MARKET", "dso_market", "{central}", "{central_role}", "aggregated_curve"),
                MessageFlow(
                    "{central}", "{central_role}", "{dso}_MARKET", "dso_market", "interface_activation"
                ),
            ),
        ),
        SchemeBehaviour(
            "IFM",
            "integrated flexibility market: an independent operator clears AS and commercial bids together",
            market_architecture="IFM",
            local_market_role="imo_platform",
            local_market_name="IMO",
            central_role="imo_platform",
            central_name="IMO",
            commercial_parties=True,
            market_session=True,
            dso_messages=(_STATE_ESTIMATE_TO_CENTRAL,),
        ),
    )
}
"""Every scheme the platform simulates, by id, in the order results are reported."""


def scheme_behaviour(scheme: str) -> SchemeBehaviour:
    """The registry entry of ``scheme`` (KeyError names the known ids)."""
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise KeyError(f"unknown scheme {scheme!r}; known: {list(SCHEMES)}") from None


__all__ = ["SCHEMES", "MessageFlow", "SchemeBehaviour", "scheme_behaviour"]
