"""The seed's first finding, end to end through the real simulation (issue 16, must-show).

SmartNet's first finding: *with distribution feeders loaded so that they never congest, the centralised
AS market (CMS) and the common TSO-DSO market (CM) have equal operating cost; with congested feeders,
CM's operating cost plus its priced violations is below CMS's.*

Independent reference: the finding itself (a property of the two market designs, not of this code):
when no distribution constraint binds, CM's joint clearing has the same feasible set as CMS's
transmission-only clearing, so the same least-cost activations.

Both studies derive from the default scenario, two hours of the evening peak (16:00 or 17:00), CMS and
CM only:

* **uncongested**: every feeder's load scaled to 0.3 of the default, line ratings x5 and a 0.8-1.2 p.u.
  voltage band, so no feeder line or voltage ever leaves its limits (checked);
* **congested**: the default feeders (F2 is overloaded and under-voltage in the evening).

Operating cost = resource cost of the activated flexibility (as bid) + aFRR energy cost + losses at the
CBA's losses price; priced violations = overload energy, voltage violations and unserved need (market
slack) at the CBA's default prices (:func:`cba.benefits.category_prices`). Payments at nodal prices are
transfers and are not part of it (issue 16 item 4).

What this model shows (measured 2026-12-06/07, see ``docs/simulation.md``, "Resource cost and payments"):
the congested half holds; the uncongested half holds to the solver's tolerance when the feeders are also
lossless (8e-7 relative, ``test_uncongested_lossless_...``); with their real losses it does **not**, and the
strict ``xfail`` below keeps it as a test that turns red the day it holds. The cause is in the model,
not the solver: CM's clearing models the distribution feeders with their losses (DistFlow), CMS's does
not (its distribution bids sit at their interface node, lossless), so a bid in an exporting feeder is
worth less to CM than to CMS (F1's nodal prices in the first clearing are 51.8-56.8 EUR/MWh under CM,
56.8 everywhere under CMS) and the two clearings pick a slightly different merit order (first clearing:
CMS takes the CHP at F1:28 bid at 55.12 EUR/MWh, which CM values at 54.31 and leaves; 34 against 31
bids, resource cost 67.50 against 67.72 EUR); the rolling forecast then carries the
difference into every later clearing (issue 16 item 1), and the aFRR each leaves differs with it: over
these two hours the operating costs are 193 (CMS) against 216 EUR (CM), over four 1,295 against 1,281.
"""

from __future__ import annotations

from typing import Any

import pytest

from coordstudio.cba.benefits import category_prices
from coordstudio.cba.parameters import BENEFIT_CATEGORIES, CbaParameters
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.scenario import default_scenario_spec
from coordstudio.simulation.simulate import simulate

SCHEMES = ("CMS", "CM")
HOURS = 2.0
SOLVER_REL_TOL = 1e-4
"""Relative tolerance of "equal within the solver's tolerance" (HiGHS' optimality and feasibility
tolerances are 1e-7; summed over a day of clearings and a physics loop, 1e-4 is generous)."""


def _spec(uncongested: bool, start_h: float) -> Any:
    spec = default_scenario_spec()
    feeders = []
    for f in spec.feeders:
        if uncongested:
            f = f.model_copy(
                update={
                    "load_scale_frac": 0.3 * f.load_scale_frac,
                    "line_rating_factor": 5.0,
                    "vm_min_pu": 0.8,
                    "vm_max_pu": 1.2,
                }
            )
        feeders.append(f)
    timing = spec.timing.model_copy(update={"duration_h": HOURS, "start_h": start_h})
    return spec.model_copy(update={"feeders": feeders, "timing": timing})


def _price(params: CbaParameters, category: str) -> float:
    return float(category_prices(params)[BENEFIT_CATEGORIES.index(category)])


def operating_cost_eur(k: SchemeKpis, params: CbaParameters) -> float:
    """Resource cost of the activations + aFRR energy cost + losses at the losses price, EUR."""
    return k.resource_cost_eur + k.afrr_cost_eur + k.losses_mwh * _price(params, "losses")


def priced_violations_eur(k: SchemeKpis, params: CbaParameters) -> float:
    """Overload energy, voltage violations and unserved need at the CBA's prices, EUR."""
    return (
        k.overload_energy_mwh * _price(params, "congestion")
        + k.voltage_violation_hours_h * _price(params, "voltage")
        + k.slack_energy_mwh * _price(params, "unserved_need")
    )


def _feeder_violations(k: SchemeKpis) -> float:
    grids = set(k.congestion_hours_by_grid) | set(k.voltage_violation_hours_by_grid)
    return sum(
        k.congestion_hours_by_grid.get(g, 0.0) + k.voltage_violation_hours_by_grid.get(g, 0.0)
        for g in grids
        if g != "transmission"
    )


@pytest.fixture(scope="module")
def uncongested() -> dict[str, SchemeKpis]:
    return simulate(_spec(True, 16.0), schemes=list(SCHEMES), processes=1).kpis


@pytest.fixture(scope="module")
def congested() -> dict[str, SchemeKpis]:
    return simulate(_spec(False, 17.0), schemes=list(SCHEMES), processes=1).kpis


def test_uncongested_study_never_congests_a_feeder(uncongested: dict[str, SchemeKpis]) -> None:
    """The premise of the first half: no feeder line above its rating, no feeder bus outside its band,
    every clearing solved without slack."""
    for scheme, k in uncongested.items():
        assert _feeder_violations(k) == 0.0, scheme
        assert k.failed_clearings == 0 and k.slack_energy_mwh == 0.0, scheme


@pytest.mark.xfail(
    strict=True,
    reason="CM's clearing models the feeders' losses (DistFlow), CMS's does not (lossless interface "
    "node), so their merit orders differ by the marginal losses; the rolling forecast carries the "
    "difference on (module docstring)",
)
def test_uncongested_feeders_cms_and_cm_have_equal_operating_cost(
    uncongested: dict[str, SchemeKpis],
) -> None:
    """Seed's finding, first half: equal operating (resource) cost within the solver's tolerance."""
    params = CbaParameters()
    cms = operating_cost_eur(uncongested["CMS"], params)
    cm = operating_cost_eur(uncongested["CM"], params)
    assert cm == pytest.approx(cms, rel=SOLVER_REL_TOL)


@pytest.fixture(scope="module")
def uncongested_lossless(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SchemeKpis]:
    """The uncongested study with lossless feeders: each feeder's pandapower net with its lines'
    resistance and its transformers' copper losses scaled by 1e-4, given as the feeder's grid file."""
    import copy

    import pandapower as pp

    from coordstudio.simulation.scenario.build import cached_net

    spec = _spec(True, 16.0)
    folder = tmp_path_factory.mktemp("lossless")
    feeders = []
    for f in spec.feeders:
        net = copy.deepcopy(cached_net(f.source, f.case_name))
        net.line["r_ohm_per_km"] *= 1e-4
        if len(net.trafo):
            net.trafo["vkr_percent"] *= 1e-4
        path = folder / f"{f.feeder_id}.json"
        pp.to_json(net, str(path))
        feeders.append(f.model_copy(update={"grid_file": str(path)}))
    return simulate(spec.model_copy(update={"feeders": feeders}), schemes=list(SCHEMES), processes=1).kpis


def test_uncongested_lossless_feeders_cms_and_cm_have_equal_operating_cost(
    uncongested_lossless: dict[str, SchemeKpis],
) -> None:
    """Seed's finding, first half, where CM's model differs from CMS's only by the distribution
    constraints: feeders that never congest and have (almost) no losses. Then the joint clearing has
    CMS's feasible set and merit order, and the operating costs are equal within the solver's tolerance.
    Measured 2026-12-07: 168.25357 (CMS) against 168.25371 EUR (CM), 8e-7 relative; with the feeders'
    real losses they differ (the strict xfail above), which locates the difference in the losses."""
    params = CbaParameters()
    for scheme, k in uncongested_lossless.items():
        assert _feeder_violations(k) == 0.0 and k.slack_energy_mwh == 0.0, scheme
    cms = operating_cost_eur(uncongested_lossless["CMS"], params)
    cm = operating_cost_eur(uncongested_lossless["CM"], params)
    assert cm == pytest.approx(cms, rel=SOLVER_REL_TOL)


def test_congested_feeders_cm_costs_less_than_cms(congested: dict[str, SchemeKpis]) -> None:
    """Seed's finding, second half: with congested feeders, CM's operating cost plus its priced
    violations is below CMS's."""
    params = CbaParameters()
    assert _feeder_violations(congested["CMS"]) > 0.0  # the premise: the feeders do congest
    total = {
        s: operating_cost_eur(k, params) + priced_violations_eur(k, params) for s, k in congested.items()
    }
    assert total["CM"] < total["CMS"]


def test_payments_split_into_resource_cost_and_transfers(congested: dict[str, SchemeKpis]) -> None:
    """The money identities of issue 16 item 4 on a real run: the congestion rent is what buyers pay
    minus what sellers receive (to 1e-6 relative), and CM's rent is not zero: its feeders' nodal prices
    differ from the interface's, so buyers and sellers at different nodes pay and receive different
    prices. Its sign is not an identity: with the single-price curtailable bids CM's counter-trades in
    the congested feeder made it negative; with the product catalogue (issue 16 item 5) and its
    fixed-binary prices it is +16.7 EUR over these two hours (measured 2026-12-07)."""
    for k in congested.values():
        assert k.congestion_rent_eur == pytest.approx(k.buyer_payments_eur - k.activation_cost_eur, rel=1e-6)
    assert abs(congested["CM"].congestion_rent_eur) > 1.0
