"""Hand-built CBA inputs: KPIs of five schemes over two representative days and their ICT costs.

The figures are invented but shaped like a small study: the DSO-involving schemes (LMS, SBR, CM, IFM)
cut activation and aFRR cost, congestion and curtailment relative to the centralised scheme (CMS), and
need more ICT (local-market platforms, DER monitoring) with short-lived field devices.
"""

from __future__ import annotations

from coordstudio.cba.parameters import CbaParameters
from coordstudio.sgam.costs import IctCostLine, SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis

DAYS = {"weekday": 261.0, "weekend": 104.0}

# scheme: (activation EUR, aFRR EUR, overload MWh, voltage bus-h, curtailed MWh, losses MWh) on a weekday
_WEEKDAY = {
    "CMS": (52_000.0, 9_000.0, 3.0, 6.0, 40.0, 30.0),
    "LMS": (47_500.0, 8_000.0, 1.0, 2.0, 31.0, 28.5),
    "SBR": (50_500.0, 9_500.0, 1.5, 2.5, 35.0, 29.0),
    "CM": (45_000.0, 7_600.0, 0.5, 1.0, 27.0, 28.0),
    "IFM": (44_800.0, 7_500.0, 0.4, 1.0, 26.0, 28.2),
}
_AREAS: dict[str, dict[str, int]] = {
    "CMS": {},
    "LMS": {"dso_north": 40, "dso_south": 6},
    "SBR": {"dso_north": 38, "dso_south": 5},
    "CM": {"dso_north": 42, "dso_south": 7},
    "IFM": {"dso_north": 55, "dso_south": 9},
}


def make_kpis(days: dict[str, float] | None = None) -> list[SchemeKpis]:
    """One record per scheme and day; the weekend has 70 % of the weekday's quantities."""
    out = []
    for day, factor in zip(days or DAYS, (1.0, 0.7), strict=False):
        for scheme, (act, afrr, over, volt, curt, loss) in _WEEKDAY.items():
            out.append(
                SchemeKpis(
                    scheme=scheme, day=day, activation_cost_eur=act * factor, afrr_energy_mwh=afrr / 90.0,
                    afrr_cost_eur=afrr * factor, congestion_hours_h=over * 2.0 * factor,
                    overload_energy_mwh=over * factor, voltage_violation_hours_h=volt * factor,
                    curtailed_res_mwh=curt * factor, losses_mwh=loss * factor, slack_energy_mwh=0.0,
                    slack_cost_eur=0.0,
                    bids_submitted_by_area={a: int(n * factor) for a, n in _AREAS[scheme].items()},
                    bids_activated_by_area={a: int(n * factor / 3) for a, n in _AREAS[scheme].items()},
                )
            )
    return out


def _line(
    scheme: str, link: str, tech: str, role: str, capex: float, opex: float, life: float
) -> IctCostLine:
    return IctCostLine(
        scheme=scheme, link_id=link, technology_id=tech, actor_id=f"{role}_1", actor_role=role,
        endpoints=10, capex_eur=capex, opex_eur_per_year=opex, lifetime_years=life,
    )


def make_ict() -> dict[str, SchemeIctCost]:
    """ICT costs per scheme: a shared TSO base plus scheme-specific DSO/aggregator items."""
    base = [
        ("tso_ems", "fibre", "tso", 1.0e6, 50_000.0, 25.0),
        ("agg_gw", "lte", "aggregator", 2.0e5, 30_000.0, 8.0),
    ]
    extra = {
        "CMS": [("dso_preq", "xdsl", "dso", 1.5e5, 10_000.0, 10.0)],
        "LMS": [("dso_market", "fibre", "dso", 2.5e6, 120_000.0, 15.0),
                ("der_rtu", "plc", "der_owner", 8.0e5, 20_000.0, 7.5)],
        "SBR": [("dso_market", "fibre", "dso", 2.8e6, 140_000.0, 15.0),
                ("der_rtu", "plc", "der_owner", 8.0e5, 20_000.0, 7.5)],
        "CM": [("common_platform", "fibre", "market_operator", 3.0e6, 150_000.0, 12.0),
               ("der_rtu", "lte", "der_owner", 9.0e5, 45_000.0, 6.0)],
        "IFM": [("ifm_platform", "fibre", "market_operator", 4.2e6, 260_000.0, 12.0),
                ("der_rtu", "lte", "der_owner", 9.0e5, 45_000.0, 6.0),
                ("cmp_link", "lte", "commercial_party", 1.0e5, 15_000.0, 5.0)],
    }
    return {
        s: SchemeIctCost(scheme=s, lines=[_line(s, *item) for item in base + extra[s]]) for s in extra
    }


def make_params(**overrides: object) -> CbaParameters:
    """Default parameters with the two fixture days as weights."""
    data: dict[str, object] = {"day_weights_days_per_year": dict(DAYS)}
    data.update(overrides)
    return CbaParameters.model_validate(data)
