"""Endpoint counts of a scenario for the SGAM ICT costing, read from the spec without building grids."""

from __future__ import annotations

from coordstudio.simulation.scenario.categories import DER_CATEGORIES
from coordstudio.simulation.scenario.spec import ScenarioSpec

_FEEDER_SECONDARY: dict[str, int] = {
    "case33bw": 32,
    "create_cigre_network_mv": 18,
    "1-MV-rural--0-sw": 96,
    "1-MV-semiurb--0-sw": 115,
}
"""Load buses (MV/LV substations) of the grids the default scenarios use, so that endpoint counting
does not need to build the grids; other grids count 30 (assumption)."""


def endpoint_counts(spec: ScenarioSpec) -> dict[str, int]:
    """Endpoint multiplicities of the scenario for the SGAM ICT costing.

    Keys: ``der`` (flexible devices of the eight DER categories, each with its own controller),
    ``aggregator`` (``aggregators_per_area`` per distribution area, plus one for the transmission-connected
    units), ``primary_substation`` (one per TSO-DSO interface: every feeder and copper-plate node),
    ``secondary_substation`` (MV/LV substations: the load buses of the detailed feeders, plus an
    assumed 20 per copper-plate node), ``dso``, ``tso`` (1), ``market_operator`` (1), ``commercial_party``,
    ``smart_meter`` (every distribution-connected device, flexible or not).
    """
    der = sum(g.count for g in spec.device_groups if g.category in DER_CATEGORIES)
    dist_devices = sum(g.count for g in spec.device_groups if g.area != "transmission")
    n_areas = len(spec.feeders) + len(spec.copper_plate_nodes)
    return {
        "der": der,
        "aggregator": spec.aggregators_per_area * n_areas + 1,
        "primary_substation": n_areas,
        "secondary_substation": sum(_FEEDER_SECONDARY.get(f.case_name, 30) for f in spec.feeders)
        + 20 * len(spec.copper_plate_nodes),
        "dso": len(spec.dso_ids),
        "tso": 1,
        "market_operator": 1,
        "commercial_party": spec.commercial_parties,
        "smart_meter": dist_devices,
    }
