"""The SGAM/ICT model of a study: pure data, persisted in the study file under ``sgam:``.

The model follows the Smart Grid Architecture Model (SGAM, CEN-CENELEC-ETSI SG-CG, mandate M/490) and the
IEC 62559-2:2015 use-case template:

* the **frame**: five interoperability layers (:class:`Layer`), five domains (:class:`Domain`) and six zones
  (:class:`Zone`); actors and components are placed on a domain x zone cell;
* **actors** (organisations, systems, devices) and **components** (hardware or software items with a cost,
  owned by an actor, e.g. RTUs, DER gateways, a local market platform);
* **use cases** with the IEC 62559-2 fields, their **scenarios** and **steps** (service CREATE, GET, ...),
  and the template's per-use-case tables as flat lists keyed by ``use_case_id``: versions (1.2), KPIs (1.5),
  conditions (1.6), diagrams (2), actor information (3.1), references (3.2), terms (7), custom information
  (8); :mod:`sgam.iec62559` exchanges one use case in the template's layout (``docs/iec62559.md``);
* **requirements** (IEC 62559-2 requirement list) carrying the hard ICT limits: latency, data rate,
  availability, security level;
* **information objects** (payload in bytes) and **interaction events** (producer -> receiver, information
  object, trigger, rate, multiplicity, requirement ids, link);
* **links**: the physical communication path an event travels on; events on the same link share it and
  the link is paid once;
* the **technology catalogue** (fibre, PLC, cellular, ...) with performance, costs and a ``source``;
* **endpoint counts**: default counts of each multiplicity (how many DER, aggregators, substations...), used
  when the scenario gives none.

All references are by id (strings). Every list item lives in a flat top-level list, so that each object kind
maps to one table (one Excel sheet, one GUI table). :class:`SgamModel` validates that every reference resolves
and raises a pydantic ``ValidationError`` whose location is ``(list name, object id, field)``, for example
``('events', 'CMS-E01', 'producer_id')``.

Units are in field names: ``_ms`` milliseconds, ``_s`` seconds, ``_bytes`` bytes, ``_kbps`` kilobit per
second (1 kbit = 1000 bit), ``_pct`` percent, ``_km`` kilometres, ``_eur`` euro, ``_eur_per_year`` euro per
year, ``_years`` years.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from coordstudio.sgam.vocabulary import (
    ActorRole,
    ActorType,
    Domain,
    Layer,
    RequirementCategory,
    SecurityLevel,
    StepService,
    Trigger,
    Zone,
)

__all__ = [
    "ITEM_LISTS",
    "SCHEMA_VERSION",
    "SCHEME_IDS",
    "Actor",
    "ActorRole",
    "ActorType",
    "Component",
    "CustomInformation",
    "Domain",
    "EndpointCount",
    "InformationObject",
    "InteractionEvent",
    "Layer",
    "Link",
    "Problem",
    "Requirement",
    "RequirementCategory",
    "Scheme",
    "SecurityLevel",
    "SgamModel",
    "StepService",
    "Technology",
    "Term",
    "Trigger",
    "UseCase",
    "UseCaseActorInfo",
    "UseCaseCondition",
    "UseCaseDiagram",
    "UseCaseKpi",
    "UseCaseReference",
    "UseCaseScenario",
    "UseCaseStep",
    "UseCaseVersion",
    "Zone",
]

SCHEME_IDS: tuple[str, ...] = ("CMS", "LMS", "SBR", "CM", "CM-D", "IFM")
"""The TSO-DSO coordination schemes of the default library (``library/``), in its order.

The same tuple as ``simulation.kpis.SCHEME_IDS``; sgam cannot import it (``tests/test_add_a_scheme.py``
holds the two and the library equal). A sixth scheme is added here too: ``docs/architecture.md``."""

SCHEMA_VERSION = 1
"""Version of the persisted SGAM model layout (the study file migrates older versions)."""

MIN_LIFETIME_YEARS = 0.5
"""Shortest asset lifetime accepted, years: the present value buys a replacement every lifetime, so a
lifetime near zero means millions of purchases (1e-320 years hung the ICT matching)."""

MAX_LIFETIME_YEARS = 200.0
"""Longest asset lifetime accepted, years."""


# ------------------------------------------------------------------------------------------------
# Objects
# ------------------------------------------------------------------------------------------------
class _Item(BaseModel):
    """Base of every list item: an id, unknown fields rejected, assignments validated."""

    # allow_inf_nan=False: 'nan' or '.inf' in a cost or a rate would poison every sum downstream
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    id: str = Field(min_length=1, description="Unique id within its kind.")


class Scheme(_Item):
    """A TSO-DSO coordination scheme of the study."""

    id: str = Field(min_length=1, description="Scheme id (default library: CMS, LMS, SBR, CM, CM-D, IFM).")
    name: str = Field(default="", description="Full name of the scheme.")
    description: str = Field(default="", description="What the scheme changes in the information flows.")


class EndpointCount(_Item):
    """A multiplicity: how many instances of an actor, component or event exist (default when no scenario)."""

    id: str = Field(min_length=1, description="Multiplicity name, e.g. der, aggregator, primary_substation.")
    count: int = Field(ge=0, description="Default number of instances, count.")
    description: str = Field(default="", description="What is counted.")
    source: str = Field(default="assumption", description="Where the default count comes from.")


class Actor(_Item):
    """An IEC 62559-2 actor placed on the SGAM plane (organisations on the business layer, systems below)."""

    id: str = Field(min_length=1, description="Unique actor id.")
    name: str = Field(default="", description="Human-readable name.")
    actor_type: ActorType = Field(default=ActorType.SYSTEM, description="IEC 62559-2 actor type.")
    role: ActorRole = Field(description="Economic role: who pays for links this actor pays for.")
    owner_id: str = Field(
        default="", description="Id of the organisation actor owning this system (or empty)."
    )
    domain: Domain = Field(description="SGAM domain of the actor.")
    zone: Zone = Field(description="SGAM zone of the actor.")
    multiplicity: str = Field(description="Endpoint-count id giving how many instances exist (e.g. der).")
    description: str = Field(default="", description="What the actor does.")


class Component(_Item):
    """A costed hardware or software item owned by an actor and needed by some schemes (non-link ICT cost)."""

    id: str = Field(min_length=1, description="Unique component id.")
    name: str = Field(default="", description="Human-readable name.")
    actor_id: str = Field(description="Id of the actor that owns and pays for the component.")
    layer: Layer = Field(default=Layer.COMPONENT, description="SGAM layer where the cost is booked.")
    domain: Domain = Field(description="SGAM domain of the component.")
    zone: Zone = Field(description="SGAM zone of the component.")
    multiplicity: str = Field(description="Endpoint-count id giving how many units are installed.")
    schemes: list[str] = Field(default_factory=list, description="Ids of the schemes that need it.")
    capex_eur_per_unit: float = Field(ge=0, description="Investment per unit, EUR.")
    opex_eur_per_unit_year: float = Field(ge=0, description="Operating cost per unit and year, EUR/a.")
    lifetime_years: float = Field(
        ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS, description="Lifetime of the item, years."
    )
    source: str = Field(description="Public reference of the cost figures, or 'assumption (...)'.")
    description: str = Field(default="", description="What the component does.")


class UseCase(_Item):
    """An IEC 62559-2 use case: section 1 of the template; its other sections are lists keyed by its id."""

    id: str = Field(min_length=1, description="Use-case id (IEC 62559-2 1.1).")
    name: str = Field(description="Use-case name (IEC 62559-2 1.1).")
    schemes: list[str] = Field(
        default_factory=list, description="Ids of the schemes the use case belongs to."
    )
    domain: str = Field(default="", description="Area or domain of the use case (IEC 62559-2 1.1).")
    scope_and_objectives: str = Field(default="", description="Scope and objectives (IEC 62559-2 1.3).")
    narrative: str = Field(default="", description="Short and complete narrative (IEC 62559-2 1.4).")
    actor_ids: list[str] = Field(default_factory=list, description="Ids of the actors involved (section 3).")
    requirement_ids: list[str] = Field(
        default_factory=list, description="Ids of the requirements of the use case (section 6)."
    )
    objectives: str = Field(default="", description="Objective(s) of the use case (IEC 62559-2 1.3).")
    related_business_cases: str = Field(default="", description="Related business case(s) (IEC 62559-2 1.3).")
    complete_description: str = Field(
        default="", description="Complete description; the narrative is the short one (IEC 62559-2 1.4)."
    )
    relation_to_other_use_cases: str = Field(
        default="", description="Relation to other use cases: include, extend, invoke, associate (1.7)."
    )
    level_of_depth: str = Field(
        default="", description="Level of depth: high level, generic, detailed, specialised (1.7)."
    )
    prioritisation: str = Field(default="", description="Prioritisation, e.g. mandatory or optional (1.7).")
    generic_regional_national: str = Field(
        default="", description="Generic, regional or national relation (IEC 62559-2 1.7)."
    )
    nature: str = Field(
        default="", description="Nature of the use case: technical, business/market, test, ... (1.7)."
    )
    keywords: str = Field(default="", description="Further keywords for classification (1.7).")
    general_remarks: str = Field(default="", description="General remarks (IEC 62559-2 1.8).")


class UseCaseScenario(_Item):
    """A scenario of a use case (IEC 62559-2 section 4.1)."""

    id: str = Field(min_length=1, description="Unique scenario id.")
    use_case_id: str = Field(description="Id of the use case the scenario belongs to.")
    name: str = Field(description="Scenario name.")
    description: str = Field(default="", description="Scenario description (IEC 62559-2 4.1).")
    primary_actor_id: str = Field(description="Id of the primary actor.")
    triggering_event: str = Field(default="", description="What starts the scenario.")
    pre_condition: str = Field(default="", description="Pre-condition.")
    post_condition: str = Field(default="", description="Post-condition.")


class UseCaseStep(_Item):
    """A step of a use-case scenario (IEC 62559-2 section 4.2)."""

    id: str = Field(min_length=1, description="Unique step id.")
    scenario_id: str = Field(description="Id of the scenario the step belongs to.")
    step_no: int = Field(ge=1, description="Step number within the scenario.")
    event: str = Field(default="", description="Event that triggers the step.")
    name: str = Field(description="Name of the process or activity.")
    description: str = Field(default="", description="Description of the process or activity.")
    service: StepService = Field(description="IEC 62559-2 service of the step.")
    producer_id: str = Field(description="Id of the information producer actor.")
    receiver_id: str = Field(description="Id of the information receiver actor.")
    information_object_ids: list[str] = Field(
        default_factory=list, description="Ids of the information objects exchanged."
    )
    interaction_event_ids: list[str] = Field(
        default_factory=list, description="Ids of the costed interaction events realising the step."
    )
    requirement_ids: list[str] = Field(default_factory=list, description="Ids of the requirements (R-IDs).")


class Requirement(_Item):
    """An IEC 62559-2 requirement with optional hard ICT limits; empty limits do not constrain."""

    id: str = Field(min_length=1, description="Requirement id (R-ID).")
    name: str = Field(default="", description="Short name.")
    category: RequirementCategory = Field(
        default=RequirementCategory.PERFORMANCE, description="IEC 62559-2 requirement category."
    )
    description: str = Field(default="", description="Requirement text and its rationale.")
    max_latency_ms: float | None = Field(
        default=None, gt=0, description="Largest allowed one-way transfer time of one message, ms."
    )
    min_data_rate_kbps: float | None = Field(
        default=None, ge=0, description="Smallest data rate the link must offer per endpoint, kbit/s."
    )
    min_availability_pct: float | None = Field(
        default=None, ge=0, le=100, description="Smallest allowed availability of the link, %."
    )
    min_security_level: SecurityLevel | None = Field(
        default=None, description="Lowest security level the technology must provide."
    )
    source: str = Field(default="", description="Where the figure comes from, or 'assumption (...)'.")


class InformationObject(_Item):
    """A piece of information exchanged between actors."""

    id: str = Field(min_length=1, description="Unique information-object id.")
    name: str = Field(default="", description="Human-readable name.")
    payload_bytes: int = Field(ge=0, description="Size of one message carrying the object, bytes.")
    standard: str = Field(default="", description="Data model or standard (e.g. IEC 62325, IEC 61850).")
    description: str = Field(default="", description="Content of the object.")
    requirement_ids: list[str] = Field(
        default_factory=list, description="Ids of the requirements to the information (R-IDs, IEC 62559-2 5)."
    )


class Link(_Item):
    """A communication path between two actors; every event on it shares it and it is paid once.

    The link has one endpoint per instance of its many side (the larger count of the two actors'
    multiplicities); each endpoint needs ``length_km_per_endpoint`` km of dedicated line for wired
    technologies.
    """

    id: str = Field(min_length=1, description="Unique link id.")
    name: str = Field(default="", description="Human-readable name.")
    actor_a_id: str = Field(description="Id of one end actor.")
    actor_b_id: str = Field(description="Id of the other end actor.")
    payer_id: str = Field(description="Id of the actor that pays for the link.")
    length_km_per_endpoint: float = Field(
        default=0.0, ge=0, description="Dedicated line length per endpoint for per-km costs, km."
    )
    technology_ids: list[str] = Field(
        default_factory=list,
        description="Candidate technology ids; empty means every technology of the catalogue.",
    )
    description: str = Field(default="", description="What the link connects.")


class InteractionEvent(_Item):
    """An information exchange producer -> receiver with its trigger, rate, multiplicity and requirements.

    Number of messages per day: ``count(multiplicity) * rate_per_trigger * triggers_per_day`` where
    ``triggers_per_day = 86400 / period_s`` of the trigger (``rate_per_day`` for ``on_event``).
    """

    id: str = Field(min_length=1, description="Unique event id.")
    name: str = Field(default="", description="Human-readable name.")
    schemes: list[str] = Field(default_factory=list, description="Ids of the schemes that need the event.")
    use_case_id: str = Field(default="", description="Id of the use case the event serves (or empty).")
    producer_id: str = Field(description="Id of the producing actor.")
    receiver_id: str = Field(description="Id of the receiving actor.")
    information_object_id: str = Field(description="Id of the information object carried.")
    link_id: str = Field(description="Id of the link the event travels on.")
    trigger: Trigger = Field(description="What triggers the event.")
    rate_per_trigger: float = Field(
        default=1.0, ge=0, description="Messages per trigger per instance, count."
    )
    rate_per_day: float = Field(
        default=0.0, ge=0, description="Occurrences per day per instance for trigger on_event, 1/d."
    )
    multiplicity: str = Field(description="Endpoint-count id: one event instance per counted object.")
    requirement_ids: list[str] = Field(default_factory=list, description="Ids of the requirements (R-IDs).")
    description: str = Field(default="", description="Why the scheme needs this exchange.")


class Technology(_Item):
    """A communication technology of the catalogue, with performance, costs and their source.

    Cost of serving a link of ``n`` endpoints of length ``l`` km each (``g = ceil(n / endpoints_per_gateway)``
    gateways, 0 when ``endpoints_per_gateway`` is 0):
    ``CAPEX = n (capex_eur_per_endpoint + l capex_eur_per_km) + g capex_eur_per_gateway``,
    ``OPEX = n opex_eur_per_endpoint_year + g opex_eur_per_gateway_year + V opex_eur_per_gb`` with ``V`` the
    yearly volume in GB (10^9 bytes).
    """

    id: str = Field(min_length=1, description="Unique technology id.")
    name: str = Field(default="", description="Human-readable name.")
    medium: str = Field(default="", description="Wired, wireless, satellite, ...")
    latency_ms: float = Field(ge=0, description="Typical one-way network latency, ms.")
    data_rate_kbps: float = Field(gt=0, description="Usable data rate per endpoint, kbit/s.")
    availability_pct: float = Field(ge=0, le=100, description="Availability of the link, %.")
    security_level: SecurityLevel = Field(description="Highest security level the technology supports.")
    max_length_km: float | None = Field(
        default=None, gt=0, description="Longest reachable line per endpoint, km (empty: unlimited)."
    )
    capex_eur_per_endpoint: float = Field(ge=0, description="Investment per endpoint (modem, port), EUR.")
    capex_eur_per_km: float = Field(
        default=0.0, ge=0, description="Investment per km of dedicated line, EUR/km."
    )
    capex_eur_per_gateway: float = Field(
        default=0.0, ge=0, description="Investment per gateway or concentrator, EUR."
    )
    endpoints_per_gateway: int = Field(
        default=0, ge=0, description="Endpoints served by one gateway, count (0: no gateway needed)."
    )
    opex_eur_per_endpoint_year: float = Field(
        ge=0, description="Operating cost per endpoint and year, EUR/a."
    )
    opex_eur_per_gateway_year: float = Field(
        default=0.0, ge=0, description="Operating cost per gateway and year, EUR/a."
    )
    opex_eur_per_gb: float = Field(default=0.0, ge=0, description="Traffic cost per GB carried, EUR/GB.")
    lifetime_years: float = Field(
        ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS, description="Lifetime of the equipment, years."
    )
    source: str = Field(min_length=1, description="Public reference of the figures, or 'assumption (...)'.")
    description: str = Field(default="", description="Notes on the technology.")


class _UseCasePart(_Item):
    """A row of one of the IEC 62559-2 template's per-use-case tables (versions, KPIs, conditions, ...)."""

    use_case_id: str = Field(min_length=1, description="Id of the use case the row belongs to.")


class UseCaseVersion(_UseCasePart):
    """A version of a use-case description (IEC 62559-2 1.2 version management)."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-V<n>').")
    version_no: str = Field(default="", description="Version number as written, e.g. 0.1.")
    date: str = Field(default="", description="Date of the version as written (ISO 8601 preferred).")
    authors: str = Field(default="", description="Name of author(s).")
    changes: str = Field(default="", description="Changes made in this version.")
    approval_status: str = Field(default="", description="Approval status, e.g. draft, for comments, final.")


class UseCaseKpi(_UseCasePart):
    """A key performance indicator of a use case (IEC 62559-2 1.5)."""

    id: str = Field(min_length=1, description="KPI id as written in the template (unique in the model).")
    name: str = Field(default="", description="Name of the KPI.")
    description: str = Field(default="", description="How the KPI is measured or computed.")
    objectives_reference: str = Field(
        default="", description="Reference to the use-case objectives (1.3) the KPI measures."
    )


class UseCaseCondition(_UseCasePart):
    """A row of the use-case conditions (IEC 62559-2 1.6): an assumption and/or a prerequisite."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-C<n>').")
    assumption: str = Field(default="", description="General presumption about conditions or configuration.")
    prerequisite: str = Field(default="", description="What must hold for the use case to succeed.")


class UseCaseDiagram(_UseCasePart):
    """A diagram of a use case (IEC 62559-2 section 2), kept as a reference to a drawing file or link."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-D<n>').")
    title: str = Field(default="", description="Title of the diagram, e.g. sequence diagram of scenario 1.")
    description: str = Field(default="", description="What the diagram shows.")
    file: str = Field(default="", description="File name or link of the drawing (UML, PNG, SVG).")


class UseCaseActorInfo(_UseCasePart):
    """Further information on an actor specific to one use case (IEC 62559-2 3.1, last column)."""

    id: str = Field(
        min_length=1, description="Unique id of the row (template import: '<use case>-A-<actor id>')."
    )
    actor_id: str = Field(description="Id of the actor.")
    further_information: str = Field(
        default="", description="Further information on the actor specific to this use case."
    )


class UseCaseReference(_UseCasePart):
    """A reference of a use case: standard, regulation, report (IEC 62559-2 3.2)."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-R<n>').")
    reference_no: str = Field(default="", description="Number of the reference as written (No.).")
    reference_type: str = Field(default="", description="Type: standard, regulation, report, paper, ...")
    reference: str = Field(default="", description="The reference itself (title, number).")
    status: str = Field(default="", description="Status of the reference, e.g. final, draft.")
    impact: str = Field(default="", description="Impact on the use case.")
    originator: str = Field(default="", description="Originator or organisation.")
    link: str = Field(default="", description="Link (URL or DOI).")


class Term(_UseCasePart):
    """A common term and its definition (IEC 62559-2 section 7)."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-T<n>').")
    term: str = Field(default="", description="The term.")
    definition: str = Field(default="", description="Its definition.")


class CustomInformation(_UseCasePart):
    """A key-value pair of custom information (IEC 62559-2 section 8)."""

    id: str = Field(min_length=1, description="Unique id of the row (template import: '<use case>-X<n>').")
    key: str = Field(default="", description="Key.")
    value: str = Field(default="", description="Value.")
    refers_to_section: str = Field(default="", description="Section of the template the row refers to.")


# ------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------
#: Top-level list fields of :class:`SgamModel` and their item classes (one table / Excel sheet each).
ITEM_LISTS: dict[str, type[_Item]] = {
    "schemes": Scheme,
    "endpoint_counts": EndpointCount,
    "actors": Actor,
    "components": Component,
    "use_cases": UseCase,
    "scenarios": UseCaseScenario,
    "steps": UseCaseStep,
    "requirements": Requirement,
    "information_objects": InformationObject,
    "links": Link,
    "events": InteractionEvent,
    "technologies": Technology,
    "use_case_versions": UseCaseVersion,
    "kpis": UseCaseKpi,
    "use_case_conditions": UseCaseCondition,
    "use_case_diagrams": UseCaseDiagram,
    "use_case_actors": UseCaseActorInfo,
    "use_case_references": UseCaseReference,
    "terms": Term,
    "custom_information": CustomInformation,
}


_USE_CASE_PARTS: tuple[str, ...] = (
    "use_case_versions",
    "kpis",
    "use_case_conditions",
    "use_case_diagrams",
    "use_case_actors",
    "use_case_references",
    "terms",
    "custom_information",
)
"""The lists whose rows belong to one use case (``use_case_id``): the template's per-use-case tables."""

USE_CASE_TEMPLATE_TABLES: tuple[str, ...] = (
    "use_cases",
    "use_case_versions",
    "kpis",
    "use_case_conditions",
    "use_case_diagrams",
    "use_case_actors",
    "use_case_references",
    "scenarios",
    "steps",
    "terms",
    "custom_information",
)
"""Every list of the IEC 62559-2 use-case template in the template's section order (the use case itself
holds sections 1.1, 1.3, 1.4, 1.7 and 1.8); editors show them together in this order."""

Problem = tuple[tuple[str, ...], str, Any]
"""A validation problem: (location ``(list, object id, field)``, message, offending value)."""


def _ref(
    ids: Mapping[str, set[str]],
    kind: str,
    item_id: str,
    field: str,
    value: str,
    target: str,
    *,
    optional: bool = False,
) -> Iterator[Problem]:
    """The problem of a reference ``value`` that is not an id of list ``target`` (none if it is)."""
    if optional and value == "":
        return
    if value not in ids[target]:
        yield (kind, item_id, field), f"'{value}' is not the id of any of the {target}", value


def _refs(
    ids: Mapping[str, set[str]], kind: str, item_id: str, field: str, values: list[str], target: str
) -> Iterator[Problem]:
    for value in values:
        yield from _ref(ids, kind, item_id, field, value, target)


class SgamModel(BaseModel):
    """The whole SGAM/ICT model of a study (see the module docstring).

    Validation: besides each field's own checks, every id reference must resolve and ids must be unique per
    kind. Errors are pydantic ``ValidationError`` whose location is ``(list name, object id, field)``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schema_version: int = Field(
        default=SCHEMA_VERSION,
        ge=1,
        le=SCHEMA_VERSION,
        description="Layout version of the SGAM model (only versions this code knows are accepted).",
    )
    name: str = Field(default="SGAM/ICT model", description="Name of the model.")
    description: str = Field(default="", description="Notes on the model.")
    market_clearing_period_s: float = Field(
        default=300.0, gt=0, description="Time between two market clearings (trigger market_clearing), s."
    )
    time_step_s: float = Field(default=60.0, gt=0, description="Physical time step (trigger time_step), s.")
    schemes: list[Scheme] = Field(default_factory=list, description="Coordination schemes.")
    endpoint_counts: list[EndpointCount] = Field(
        default_factory=list, description="Default counts of each multiplicity (used when no scenario)."
    )
    actors: list[Actor] = Field(default_factory=list, description="Actors placed on the SGAM plane.")
    components: list[Component] = Field(default_factory=list, description="Costed hardware/software items.")
    use_cases: list[UseCase] = Field(default_factory=list, description="IEC 62559-2 use cases.")
    scenarios: list[UseCaseScenario] = Field(default_factory=list, description="Use-case scenarios.")
    steps: list[UseCaseStep] = Field(default_factory=list, description="Use-case steps.")
    requirements: list[Requirement] = Field(default_factory=list, description="Requirement list (R-IDs).")
    information_objects: list[InformationObject] = Field(
        default_factory=list, description="Information objects."
    )
    links: list[Link] = Field(default_factory=list, description="Communication links.")
    events: list[InteractionEvent] = Field(default_factory=list, description="Interaction events.")
    technologies: list[Technology] = Field(default_factory=list, description="Technology catalogue.")
    use_case_versions: list[UseCaseVersion] = Field(
        default_factory=list, description="Version management of the use cases (IEC 62559-2 1.2)."
    )
    kpis: list[UseCaseKpi] = Field(
        default_factory=list, description="Key performance indicators of the use cases (IEC 62559-2 1.5)."
    )
    use_case_conditions: list[UseCaseCondition] = Field(
        default_factory=list, description="Assumptions and prerequisites of the use cases (IEC 62559-2 1.6)."
    )
    use_case_diagrams: list[UseCaseDiagram] = Field(
        default_factory=list, description="Diagrams of the use cases (IEC 62559-2 section 2)."
    )
    use_case_actors: list[UseCaseActorInfo] = Field(
        default_factory=list, description="Use-case specific information on actors (IEC 62559-2 3.1)."
    )
    use_case_references: list[UseCaseReference] = Field(
        default_factory=list, description="References of the use cases (IEC 62559-2 3.2)."
    )
    terms: list[Term] = Field(
        default_factory=list, description="Common terms and definitions (IEC 62559-2 section 7)."
    )
    custom_information: list[CustomInformation] = Field(
        default_factory=list, description="Custom information (IEC 62559-2 section 8)."
    )

    # ---- validation
    @model_validator(mode="wrap")
    @classmethod
    def _name_ids_in_errors(cls, data: Any, handler: Any) -> Any:
        """Rewrite field-error locations ``('technologies', 3, 'capex...')`` to name the object id."""
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            details: list[InitErrorDetails] = []
            changed = False
            for err in exc.errors():
                loc = list(err["loc"])
                if len(loc) >= 2 and loc[0] in ITEM_LISTS and isinstance(loc[1], int):
                    items = data.get(str(loc[0]))
                    if isinstance(items, list) and 0 <= loc[1] < len(items):
                        item = items[loc[1]]
                        item_id = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
                        if isinstance(item_id, str) and item_id:
                            loc[1] = item_id
                            changed = True
                details.append(
                    InitErrorDetails(
                        type=PydanticCustomError(err["type"], err["msg"]),
                        loc=tuple(loc),
                        input=err.get("input"),
                    )
                )
            if not changed:
                raise
            raise ValidationError.from_exception_data(cls.__name__, details) from None

    @model_validator(mode="after")
    def _check_references(self) -> SgamModel:
        problems = list(self.reference_problems())
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("sgam_reference", msg),
                        loc=loc,
                        input=value,
                    )
                    for loc, msg, value in problems
                ],
            )
        return self

    def reference_problems(self) -> Iterable[Problem]:
        """Yield ``(location, message, value)`` for every duplicate id and dangling reference.

        Also the consistency checks that need several objects: an event's link joins its producer and
        receiver, a link's payer is an end or the owner of one, ``on_event`` has a rate, and the timing checks
        (:meth:`_timing_problems`). Problems come kind by kind in the order of :data:`ITEM_LISTS`' checks.
        """
        yield from self._duplicate_ids()
        ids = {kind: {item.id for item in getattr(self, kind)} for kind in ITEM_LISTS}
        yield from self._object_reference_problems(ids)
        yield from self._link_problems(ids)
        yield from self._event_problems(ids)
        yield from self._timing_problems()

    def _duplicate_ids(self) -> Iterator[Problem]:
        for kind in ITEM_LISTS:
            seen: set[str] = set()
            for item in getattr(self, kind):
                if item.id in seen:
                    yield (kind, item.id, "id"), f"duplicate {kind} id '{item.id}'", item.id
                seen.add(item.id)

    def _object_reference_problems(self, ids: Mapping[str, set[str]]) -> Iterator[Problem]:
        """Dangling references of actors, components, use cases, scenarios and steps."""
        for a in self.actors:
            yield from _ref(ids, "actors", a.id, "multiplicity", a.multiplicity, "endpoint_counts")
            yield from _ref(ids, "actors", a.id, "owner_id", a.owner_id, "actors", optional=True)
        for c in self.components:
            yield from _ref(ids, "components", c.id, "actor_id", c.actor_id, "actors")
            yield from _ref(ids, "components", c.id, "multiplicity", c.multiplicity, "endpoint_counts")
            yield from _refs(ids, "components", c.id, "schemes", c.schemes, "schemes")
        for u in self.use_cases:
            yield from _refs(ids, "use_cases", u.id, "schemes", u.schemes, "schemes")
            yield from _refs(ids, "use_cases", u.id, "actor_ids", u.actor_ids, "actors")
            yield from _refs(ids, "use_cases", u.id, "requirement_ids", u.requirement_ids, "requirements")
        for s in self.scenarios:
            yield from _ref(ids, "scenarios", s.id, "use_case_id", s.use_case_id, "use_cases")
            yield from _ref(ids, "scenarios", s.id, "primary_actor_id", s.primary_actor_id, "actors")
        for st in self.steps:
            yield from _ref(ids, "steps", st.id, "scenario_id", st.scenario_id, "scenarios")
            yield from _ref(ids, "steps", st.id, "producer_id", st.producer_id, "actors")
            yield from _ref(ids, "steps", st.id, "receiver_id", st.receiver_id, "actors")
            ios = st.information_object_ids
            yield from _refs(ids, "steps", st.id, "information_object_ids", ios, "information_objects")
            yield from _refs(ids, "steps", st.id, "interaction_event_ids", st.interaction_event_ids, "events")
            yield from _refs(ids, "steps", st.id, "requirement_ids", st.requirement_ids, "requirements")
        for io in self.information_objects:
            rids = io.requirement_ids
            yield from _refs(ids, "information_objects", io.id, "requirement_ids", rids, "requirements")
        for kind in _USE_CASE_PARTS:
            for part in getattr(self, kind):
                yield from _ref(ids, kind, part.id, "use_case_id", part.use_case_id, "use_cases")
        for info in self.use_case_actors:
            yield from _ref(ids, "use_case_actors", info.id, "actor_id", info.actor_id, "actors")

    def _link_problems(self, ids: Mapping[str, set[str]]) -> Iterator[Problem]:
        """Dangling references of links, and a payer that is neither an end nor the owner of one."""
        for link in self.links:
            yield from _ref(ids, "links", link.id, "actor_a_id", link.actor_a_id, "actors")
            yield from _ref(ids, "links", link.id, "actor_b_id", link.actor_b_id, "actors")
            yield from _ref(ids, "links", link.id, "payer_id", link.payer_id, "actors")
            yield from _refs(ids, "links", link.id, "technology_ids", link.technology_ids, "technologies")
            if link.payer_id not in (link.actor_a_id, link.actor_b_id) and link.payer_id in ids["actors"]:
                owners = {self._owner(link.actor_a_id), self._owner(link.actor_b_id)}
                if link.payer_id not in owners:
                    yield (
                        ("links", link.id, "payer_id"),
                        f"payer '{link.payer_id}' is neither an end of the link nor the owner of one",
                        link.payer_id,
                    )

    def _event_problems(self, ids: Mapping[str, set[str]]) -> Iterator[Problem]:
        """Dangling references of events, a link that does not join producer and receiver, on_event rates."""
        links = {link.id: link for link in self.links}
        for e in self.events:
            yield from _refs(ids, "events", e.id, "schemes", e.schemes, "schemes")
            yield from _ref(ids, "events", e.id, "use_case_id", e.use_case_id, "use_cases", optional=True)
            yield from _ref(ids, "events", e.id, "producer_id", e.producer_id, "actors")
            yield from _ref(ids, "events", e.id, "receiver_id", e.receiver_id, "actors")
            yield from _ref(
                ids, "events", e.id, "information_object_id", e.information_object_id, "information_objects"
            )
            yield from _ref(ids, "events", e.id, "link_id", e.link_id, "links")
            yield from _ref(ids, "events", e.id, "multiplicity", e.multiplicity, "endpoint_counts")
            yield from _refs(ids, "events", e.id, "requirement_ids", e.requirement_ids, "requirements")
            if e.producer_id == e.receiver_id:
                yield ("events", e.id, "receiver_id"), "receiver equals producer", e.receiver_id
            ev_link = links.get(e.link_id)
            if ev_link is not None and {e.producer_id, e.receiver_id} != {
                ev_link.actor_a_id,
                ev_link.actor_b_id,
            }:
                yield (
                    ("events", e.id, "link_id"),
                    f"link '{ev_link.id}' connects '{ev_link.actor_a_id}' and '{ev_link.actor_b_id}', "
                    f"not the "
                    f"event's producer '{e.producer_id}' and receiver '{e.receiver_id}'",
                    e.link_id,
                )
            if e.trigger == Trigger.ON_EVENT and e.rate_per_day <= 0:
                yield ("events", e.id, "rate_per_day"), "trigger on_event needs rate_per_day > 0 (1/d)", 0.0

    def _timing_problems(self) -> Iterator[Problem]:
        """Units consistent: the physical step is not longer than the clearing period (brief section 8), and a
        message must arrive before the next one of the same event is sent."""
        if self.time_step_s > self.market_clearing_period_s:
            yield (
                ("time_step_s",),
                f"time step {self.time_step_s:g} s is longer than the market clearing period "
                f"{self.market_clearing_period_s:g} s",
                self.time_step_s,
            )
        reqs = {r.id: r for r in self.requirements}
        for e in self.events:
            latencies = [
                reqs[rid].max_latency_ms
                for rid in e.requirement_ids
                if rid in reqs and reqs[rid].max_latency_ms is not None
            ]
            period = self.trigger_period_s(e.trigger)
            if period is None and e.rate_per_day > 0:
                period = 86400.0 / e.rate_per_day
            if latencies and period is not None:
                period_ms = period * 1000.0 / max(e.rate_per_trigger, 1.0)
                worst = min(lat for lat in latencies if lat is not None)
                if worst > period_ms:
                    yield (
                        ("events", e.id, "requirement_ids"),
                        f"max latency {worst:g} ms exceeds the time between two messages "
                        f"({period_ms:g} ms, trigger {e.trigger.value}): a message would still be in "
                        f"transit when the next one is sent",
                        list(e.requirement_ids),
                    )

    # ---- helpers
    def _owner(self, actor_id: str) -> str:
        for a in self.actors:
            if a.id == actor_id:
                return a.owner_id or a.id
        return actor_id

    def get(self, kind: str, item_id: str) -> Any:
        """Return the object of list ``kind`` (e.g. ``"actors"``) with id ``item_id``; KeyError if absent."""
        for item in getattr(self, kind):
            if item.id == item_id:
                return item
        raise KeyError(f"{kind} id '{item_id}' does not exist")

    def index(self, kind: str) -> dict[str, Any]:
        """Map id -> object for list ``kind``."""
        return {item.id: item for item in getattr(self, kind)}

    def scheme_ids(self) -> list[str]:
        """Ids of the model's schemes in their order."""
        return [s.id for s in self.schemes]

    def default_counts(self) -> dict[str, int]:
        """Default endpoint counts (multiplicity id -> count), the documented assumptions."""
        return {c.id: c.count for c in self.endpoint_counts}

    def trigger_period_s(self, trigger: Trigger) -> float | None:
        """Period of a periodic trigger in seconds; ``None`` for ``on_event``."""
        return {
            Trigger.MARKET_CLEARING: self.market_clearing_period_s,
            Trigger.TIME_STEP: self.time_step_s,
            Trigger.HOURLY: 3600.0,
            Trigger.DAILY: 86400.0,
            Trigger.ON_EVENT: None,
        }[trigger]

    def events_per_day(self, event: InteractionEvent) -> float:
        """Occurrences of one instance of ``event`` per day (messages per day = this x rate_per_trigger)."""
        period = self.trigger_period_s(event.trigger)
        return event.rate_per_day if period is None else 86400.0 / period
