"""The SGAM frame and the vocabularies of the SGAM/ICT model (enumerations, pure data).

The frame follows the Smart Grid Architecture Model (CEN-CENELEC-ETSI SG-CG, mandate M/490): five
interoperability layers, five domains, six zones. The other enumerations are the IEC 62559-2 actor types and
step services, the economic roles that decide who pays, the triggers that fix an event's period, the ordered
security levels and the requirement categories. :mod:`sgam.model` builds its objects on these and re-exports
them, so ``from sgam.model import Layer`` keeps working.
"""

from __future__ import annotations

from enum import StrEnum


# ------------------------------------------------------------------------------------------------
# SGAM frame and vocabularies
# ------------------------------------------------------------------------------------------------
class Layer(StrEnum):
    """SGAM interoperability layers, top to bottom."""

    BUSINESS = "business"
    FUNCTION = "function"
    INFORMATION = "information"
    COMMUNICATION = "communication"
    COMPONENT = "component"


class Domain(StrEnum):
    """SGAM domains (electrical energy conversion chain), left to right."""

    GENERATION = "generation"
    TRANSMISSION = "transmission"
    DISTRIBUTION = "distribution"
    DER = "der"
    CUSTOMER_PREMISES = "customer_premises"


class Zone(StrEnum):
    """SGAM zones (hierarchy of power system management), bottom to top."""

    PROCESS = "process"
    FIELD = "field"
    STATION = "station"
    OPERATION = "operation"
    ENTERPRISE = "enterprise"
    MARKET = "market"


class ActorType(StrEnum):
    """IEC 62559-2 actor types."""

    ORGANISATION = "organisation"
    PERSON = "person"
    SYSTEM = "system"
    DEVICE = "device"


class ActorRole(StrEnum):
    """Economic role of an actor: who pays in the CBA's per-actor split (``IctCostLine.actor_role``)."""

    TSO = "tso"
    DSO = "dso"
    AGGREGATOR = "aggregator"
    DER_OWNER = "der_owner"
    CONSUMER = "consumer"
    MARKET_OPERATOR = "market_operator"
    COMMERCIAL_PARTY = "commercial_party"


class StepService(StrEnum):
    """IEC 62559-2 step services (the verb of a use-case step)."""

    CREATE = "CREATE"
    GET = "GET"
    CHANGE = "CHANGE"
    DELETE = "DELETE"
    CANCEL = "CANCEL"
    CLOSE = "CLOSE"
    EXECUTE = "EXECUTE"
    REPORT = "REPORT"
    TIMER = "TIMER"
    REPEAT = "REPEAT"


class Trigger(StrEnum):
    """What makes an interaction event happen; fixes its period (see :meth:`SgamModel.trigger_period_s`).

    ``market_clearing``: once per market clearing (``SgamModel.market_clearing_period_s``);
    ``time_step``: once per physical time step (``SgamModel.time_step_s``); ``hourly``; ``daily``;
    ``on_event``: sporadic, at ``InteractionEvent.rate_per_day`` occurrences per day.
    """

    MARKET_CLEARING = "market_clearing"
    TIME_STEP = "time_step"
    HOURLY = "hourly"
    DAILY = "daily"
    ON_EVENT = "on_event"


class SecurityLevel(StrEnum):
    """Security level a requirement asks for or a technology provides.

    Ordered low < medium < high < very_high.

    low: no confidentiality need; medium: encrypted transport; high: encrypted and authenticated end to end
    with key management (IEC 62351 profile); very_high: high plus a private or dedicated network.
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"

    @property
    def rank(self) -> int:
        """Position in the order low (0) < medium < high < very_high (3)."""
        return _SECURITY_RANK[self.value]


_SECURITY_RANK = {"low": 0, "medium": 1, "high": 2, "very_high": 3}


class RequirementCategory(StrEnum):
    """IEC 62559-2 requirement categories used here."""

    PERFORMANCE = "performance"
    AVAILABILITY = "availability"
    SECURITY = "security"
    DATA_MANAGEMENT = "data_management"
    OTHER = "other"
