"""A draft of policy recommendations, written from a CBA result as Markdown and DOCX.

The draft is for policy advisers to edit. Every statement is tied to the figure that supports it (the
figures come from :class:`~cba.analysis.CbaResult`); where this study's results cannot support a
consideration, the draft says so instead of asserting it. Sections:

1. Which scheme ranks first, and how robust that is (Monte Carlo: probability of ranking first and of a
   negative NPV).
2. Which inputs would change the conclusion (switching values), flagged when they lie inside the range
   the study considers plausible (tornado range or distribution bounds).
3. Local-market liquidity per DSO area (bids submitted and activated per day).
4. The ICT cost share, and who pays for ICT.
5. Business cases per actor group (micro level).
6. The regulatory considerations of the SmartNet paper's conclusion, each marked *supported*, *partly
   supported* or *not supported by this study's results*, with the figures behind the verdict.

One neutral document model (:mod:`cba.draft_document`: headings, paragraphs, bullets, tables) is
rendered twice, to Markdown and to DOCX (python-docx), so both files say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cba.analysis import CbaResult, SchemeResult
from cba.assessment import kpi_warnings, not_assessed
from cba.draft_document import Document, render_docx, render_markdown
from cba.fileio import atomic_write_bytes, atomic_write_text
from cba.parameters import ACTOR_LABELS, BENEFIT_LABELS, CbaParameters
from sgam.costs import SchemeIctCost
from simulation.kpis import SchemeKpis

if TYPE_CHECKING:
    from cba.ictcheck_data import IctCheckResult

__all__ = [
    "LIQUIDITY_THIN_BIDS_PER_DAY",
    "ROBUST_PROB_FIRST",
    "Document",
    "build_document",
    "render_markdown",
    "write_recommendations",
]

#: A scheme ranks first *robustly* when it does so in at least this share of Monte Carlo samples.
ROBUST_PROB_FIRST = 0.8
#: A scheme's NPV is *at risk* when it is negative in more than this share of samples.
RISK_PROB_NEGATIVE = 0.1
#: A DSO area with fewer bids submitted per day than this is flagged as a thin local market.
LIQUIDITY_THIN_BIDS_PER_DAY = 10.0

SCHEME_NAMES = {
    "CMS": "centralized AS market",
    "LMS": "local AS market",
    "SBR": "shared balancing responsibility",
    "CM": "common TSO-DSO AS market, centralised",
    "CM-D": "common TSO-DSO AS market, decentralised",
    "IFM": "integrated flexibility market",
}
_LOCAL_MARKET_SCHEMES = ("LMS", "SBR")
_COMMON_MARKET_SCHEMES = ("CM", "CM-D", "IFM")
_DSO_ROLE_SCHEMES = ("LMS", "SBR", "CM", "CM-D", "IFM")

SUPPORTED = "Supported"
PARTLY = "Partly supported"
NOT_SUPPORTED = "Not supported by this study's results"


def _meur(value: float) -> str:
    return f"{value / 1e6:,.2f} M EUR"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None, fmt: str = ".2f") -> str:
    return "n/a" if value is None else format(value, fmt)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _payback(s: SchemeResult, result: CbaResult) -> str:
    if s.scheme == result.reference_scheme and result.ict_cost_basis == "incremental":
        return "-"
    return "never" if s.discounted_payback_years is None else f"{s.discounted_payback_years:.1f} years"


def _name(scheme: str) -> str:
    return f"{scheme} ({SCHEME_NAMES[scheme]})" if scheme in SCHEME_NAMES else scheme


def _ranked(result: CbaResult) -> list[SchemeResult]:
    return sorted(result.schemes, key=lambda s: s.rank)


# ------------------------------------------------------------------------------- sections


def _section_ranking(doc: Document, params: CbaParameters, result: CbaResult) -> str:
    """Returns the verdict word on robustness, reused in the summary."""
    mc = result.monte_carlo
    leader = result.ranking[0]
    lead = result.scheme(leader)
    ref = result.reference_scheme
    doc.heading("1. Which scheme ranks first, and how robust that is", 2)
    doc.para("Schemes: " + "; ".join(f"{s} {SCHEME_NAMES.get(s, '')}".strip() for s in result.ranking) + ".")
    doc.table(
        ["Rank", "Scheme", "NPV", "BCR", "IRR", "Discounted payback", "P(NPV < 0)", "P(ranks first)"],
        [
            [
                str(s.rank),
                s.scheme,
                _meur(s.npv_eur),
                _num(s.bcr),
                _pct(s.irr),
                _payback(s, result),
                _pct(mc.scheme(s.scheme).prob_npv_negative),
                _pct(mc.scheme(s.scheme).prob_rank_first),
            ]
            for s in _ranked(result)
        ],
    )
    basis = (
        f"over {result.horizon_years} years at a {result.discount_rate:.1%} {result.price_basis} discount "
        f"rate, relative to {_name(ref)}, with {result.ict_cost_basis} ICT costs"
    )
    p_first = mc.scheme(leader).prob_rank_first
    p_neg = mc.scheme(leader).prob_npv_negative
    case, about = result.outcome()
    subject = result.scheme(about) if about is not None else lead
    if case == "reference_wins":
        doc.para(
            f"No scheme improves on the reference {_name(ref)} {basis}: the best alternative, "
            f"{_name(subject.scheme)}, has an NPV of {_meur(subject.npv_eur)} (benefit-cost ratio "
            f"{_num(subject.bcr)}); its benefits of {_meur(subject.pv_benefits_eur)} in present value do not "
            f"cover its ICT costs of {_meur(subject.pv_costs_eur)}. On these figures the draft recommends "
            f"keeping {_name(ref)}."
        )
    elif case == "no_positive_npv":
        doc.para(
            f"No scheme has a positive NPV {basis}; the least negative is {_name(leader)} with "
            f"{_meur(lead.npv_eur)}."
        )
    else:
        doc.para(
            f"{_name(leader)} has the highest net present value, {_meur(lead.npv_eur)} {basis} "
            f"(benefit-cost ratio {_num(lead.bcr)}, discounted payback {_payback(lead, result)})."
        )
    if p_first >= ROBUST_PROB_FIRST and p_neg <= RISK_PROB_NEGATIVE:
        verdict = "robust"
    elif p_first >= 0.5:
        verdict = "moderately robust"
    else:
        verdict = "not robust"
    runner = next((s for s in result.ranking[1:]), None)
    text = (
        f"Robustness ({mc.samples:,} Monte Carlo samples of {', '.join(mc.inputs) or 'no input'}): "
        f"{leader} ranks first in {_pct(p_first)} of the samples and its NPV is negative in {_pct(p_neg)}; "
        f"the ranking is {verdict}"
    )
    if runner is not None:
        text += (
            f". The runner-up, {_name(runner)}, ranks first in "
            f"{_pct(mc.scheme(runner).prob_rank_first)} of the samples"
        )
    doc.para(text + ".")
    top_benefits = sorted(subject.annual_benefits_eur_per_year.items(), key=lambda kv: -abs(kv[1]))[:3]
    doc.para(
        f"Where {subject.scheme}'s benefit comes from (yearly, base-year prices): "
        + "; ".join(f"{_lower_first(BENEFIT_LABELS[c])} {_meur(v)}/a" for c, v in top_benefits)
        + "."
    )
    return verdict


def _plausible_range(params: CbaParameters, name: str) -> tuple[float, float] | None:
    bounds: list[float] = []
    for rng in params.tornado_ranges:
        if rng.parameter == name:
            bounds += [rng.low, rng.high]
    for dist in params.uncertain_inputs:
        if dist.parameter == name:
            if dist.distribution == "normal":
                # mean +- 2 std, inside the clipping bounds (which are limits, not plausible values)
                mean, std = float(dist.mean or 0.0), float(dist.std or 0.0)
                lo = mean - 2 * std if dist.min is None else max(dist.min, mean - 2 * std)
                hi = mean + 2 * std if dist.max is None else min(dist.max, mean + 2 * std)
                bounds += [lo, hi]
            else:
                bounds += [v for v in (dist.min, dist.max) if v is not None]
    return (min(bounds), max(bounds)) if bounds else None


def _section_switching(doc: Document, params: CbaParameters, result: CbaResult) -> list[str]:
    """Returns the inputs whose switching value lies in their plausible range."""
    leader = result.ranking[0]
    doc.heading("2. Which inputs would change the conclusion (switching values)", 2)
    rows = []
    sensitive: list[str] = []
    for sv in result.switching_values:
        if sv.scheme != leader:
            continue
        what = "first place" if sv.kind == "ranking" else "sign of NPV"
        plausible = _plausible_range(params, sv.parameter)
        inside = (
            sv.switching_value is not None
            and plausible is not None
            and plausible[0] <= sv.switching_value <= plausible[1]
        )
        if inside:
            sensitive.append(sv.parameter)
        if sv.switching_value is None:
            value = f"none in [{sv.domain_low:g}, {sv.domain_high:g}]"
            change = "-"
        else:
            value = f"{sv.switching_value:.4g}" + ("" if sv.unit == "-" else f" {sv.unit}")
            change = "-" if sv.change_fraction is None else f"{sv.change_fraction:+.0%}"
        rows.append(
            [
                sv.parameter,
                what,
                f"{sv.base_value:g}",
                value,
                change,
                (sv.other_scheme or "-") if sv.kind == "ranking" else "-",
                "yes" if inside else "no",
            ]
        )
    if rows:
        doc.table(
            [
                "Input",
                "What flips",
                "Base value",
                "Switching value",
                "Change from base",
                "New first",
                "Inside the plausible range",
            ],
            rows,
        )
    if sensitive:
        doc.para(
            f"The conclusion for {leader} is sensitive to {', '.join(sorted(set(sensitive)))}: the value "
            "at which it flips lies inside the range this study considers plausible. These inputs deserve "
            "better data before a decision."
        )
    else:
        doc.para(
            f"No switching value of {leader}'s first place or NPV sign lies inside the ranges this study "
            "considers plausible (tornado ranges and distribution bounds): the conclusion holds over them."
        )
    return sensitive


def _section_liquidity(doc: Document, result: CbaResult) -> tuple[list[str], bool]:
    """Returns the thin (scheme, area) labels and whether any liquidity data exists."""
    doc.heading("3. Local-market liquidity per DSO area", 2)
    rows = [r for r in result.liquidity if r.scheme in _DSO_ROLE_SCHEMES or r.scheme not in SCHEME_NAMES]
    if not rows:
        doc.para(
            f"{NOT_SUPPORTED}: the simulation reported no bids per DSO area, so the liquidity of local "
            "markets cannot be judged from this study."
        )
        return [], False
    doc.table(
        ["Scheme", "DSO area", "Bids submitted per day", "Bids activated per day", "Activated share"],
        [
            [
                r.scheme,
                r.area,
                f"{r.bids_submitted_per_day:,.1f}",
                f"{r.bids_activated_per_day:,.1f}",
                _pct(r.activation_ratio),
            ]
            for r in rows
        ],
    )
    thin = [
        f"{r.area} in {r.scheme} ({r.bids_submitted_per_day:,.1f} bids/day)"
        for r in rows
        if r.bids_submitted_per_day < LIQUIDITY_THIN_BIDS_PER_DAY
    ]
    if thin:
        doc.para(
            f"Thin local markets (fewer than {LIQUIDITY_THIN_BIDS_PER_DAY:g} bids submitted per day): "
            + "; ".join(thin)
            + ". Local congestion markets there risk too little competition."
        )
    else:
        doc.para(
            f"Every DSO area receives at least {LIQUIDITY_THIN_BIDS_PER_DAY:g} bids per day in every "
            "scheme simulated."
        )
    return thin, True


def _section_ict(doc: Document, result: CbaResult) -> None:
    doc.heading("4. The ICT cost share", 2)
    doc.table(
        [
            "Scheme",
            "ICT CAPEX",
            "ICT OPEX per year",
            "ICT PV over the horizon",
            "ICT annualised",
            "Activation + aFRR per year",
            "ICT cost share",
        ],
        [
            [
                s.scheme,
                _meur(s.ict_capex_eur),
                _meur(s.ict_opex_eur_per_year),
                _meur(s.ict_pv_cost_eur),
                _meur(s.ict_annualised_cost_eur_per_year),
                _meur(s.ancillary_cost_eur_per_year),
                _pct(s.ict_cost_share),
            ]
            for s in result.schemes
        ],
    )
    shares = [s for s in result.schemes if s.ict_cost_share is not None]
    if shares:
        hi = max(shares, key=lambda s: s.ict_cost_share or 0.0)
        lo = min(shares, key=lambda s: s.ict_cost_share or 0.0)
        leader = result.scheme(result.ranking[0])
        doc.para(
            f"ICT is {_pct(hi.ict_cost_share)} of the yearly cost (annualised ICT plus activation and aFRR) "
            f"of {hi.scheme}, the highest share, and {_pct(lo.ict_cost_share)} of {lo.scheme}'s, the lowest. "
            f"For the first-ranked {leader.scheme}, the present value of the ICT costs counted is "
            f"{_meur(leader.pv_costs_eur)} against {_meur(leader.pv_benefits_eur)} of benefits."
        )
    for s in result.schemes:
        if s.unserved_events:
            doc.bullet(
                f"{s.scheme}: {len(s.unserved_events)} interaction event(s) have no technology meeting "
                f"their requirements, so its ICT cost is understated: {', '.join(s.unserved_events[:5])}."
            )


def _section_actors(doc: Document, result: CbaResult) -> list[str]:
    """Returns the actor groups that lose in the first-ranked scheme."""
    leader = result.ranking[0]
    doc.heading("5. Business cases per actor (micro level)", 2)
    rows = [a for a in result.actors if a.scheme == leader]
    doc.table(
        ["Actor group", "PV of benefits", "PV of ICT costs", "NPV", "Business case"],
        [
            [
                ACTOR_LABELS[a.actor],
                _meur(a.pv_benefits_eur),
                _meur(a.pv_costs_eur),
                _meur(a.npv_eur),
                a.business_case,
            ]
            for a in rows
        ],
    )
    losers = [ACTOR_LABELS[a.actor] for a in rows if a.business_case == "negative"]
    if losers:
        doc.para(
            f"In {leader}, {', '.join(losers)} bear more ICT cost than their share of the benefits under "
            "the allocation keys of the Assumptions: without a remuneration or an incentive they have no "
            "business case."
        )
    else:
        doc.para(f"In {leader}, no actor group loses under the allocation keys of the Assumptions.")
    return losers


#: A regulatory consideration judged against this study: (title, verdict word, evidence in words).
_Consideration = tuple[str, str, str]

#: SmartNet conclusions 4-6, outside what the simulation models.
_OUT_OF_SCOPE: tuple[_Consideration, ...] = (
    (
        "Integrate AS markets seamlessly with day-ahead and intraday markets to avoid gaming.",
        NOT_SUPPORTED,
        "The simulation clears real-time AS markets only; day-ahead/intraday markets and strategic bidding "
        "are not modelled.",
    ),
    (
        "Integrate with the ENTSO-E balancing platforms (TSO-TSO coordination).",
        NOT_SUPPORTED,
        "The study models one country without cross-border exchange of balancing energy.",
    ),
    (
        "Harmonise AS markets and TSO-DSO schemes across Europe.",
        NOT_SUPPORTED,
        "The study covers one scenario of one country.",
    ),
)


def _section_regulatory(
    doc: Document, result: CbaResult, thin: list[str], has_liquidity: bool, losers: list[str]
) -> None:
    """Section 6: each conclusion of the SmartNet paper, marked supported or not by this study's figures."""
    doc.heading("6. Regulatory considerations (SmartNet conclusions) against this study's figures", 2)
    by = {s.scheme: s for s in result.schemes}
    dso_schemes = [s for s in _DSO_ROLE_SCHEMES if s in by]
    considerations = [
        _dso_role(result, by, dso_schemes),
        _common_market(by),
        _liquidity_first(thin, has_liquidity),
        *_OUT_OF_SCOPE,
        *_dso_pooling(result, dso_schemes),
        _der_level_playing_field(result),
        _business_models(result, losers),
        _reinforcement_or_markets(result),
        _ict_analysis(result),
    ]
    for title, verdict, evidence in considerations:
        doc.bullet(f"**{title}** {verdict}. {evidence}")


def _dso_role(result: CbaResult, by: dict[str, SchemeResult], dso_schemes: list[str]) -> _Consideration:
    """1. DSOs leave fit-and-forget; TSOs share AS procurement responsibilities."""
    title = "DSOs move to real-time monitoring and share AS procurement with the TSO."
    leader = result.ranking[0]
    lead = result.scheme(leader)
    if leader in _DSO_ROLE_SCHEMES and lead.npv_eur > 0:
        return (
            title,
            SUPPORTED,
            f"The first-ranked scheme, {leader}, gives DSOs a market role and has an NPV of "
            f"{_meur(lead.npv_eur)} over the centralized reference.",
        )
    if dso_schemes:
        best = max(dso_schemes, key=lambda s: by[s].npv_eur)
        return (
            title,
            NOT_SUPPORTED,
            f"The best scheme with a DSO market role, {best}, has an NPV of {_meur(by[best].npv_eur)}, and "
            f"{leader} ranks first.",
        )
    return title, NOT_SUPPORTED, "No scheme with a DSO market role was simulated."


def _common_market(by: dict[str, SchemeResult]) -> _Consideration:
    """2. Avoid counteracting actions: a common marketplace / common merit order."""
    title = "A common marketplace (common merit order) avoids counteracting TSO and DSO actions."
    common = [s for s in _COMMON_MARKET_SCHEMES if s in by]
    separate = [s for s in _LOCAL_MARKET_SCHEMES if s in by]
    if not (common and separate):
        return title, NOT_SUPPORTED, "Common and separate local-market schemes were not both simulated."
    bc = max(common, key=lambda s: by[s].npv_eur)
    bs = max(separate, key=lambda s: by[s].npv_eur)
    better = by[bc].npv_eur > by[bs].npv_eur
    return (
        title,
        SUPPORTED if better else NOT_SUPPORTED,
        f"Best common-market scheme {bc}: NPV {_meur(by[bc].npv_eur)}; best scheme with separate local "
        f"markets {bs}: NPV {_meur(by[bs].npv_eur)}.",
    )


def _liquidity_first(thin: list[str], has_liquidity: bool) -> _Consideration:
    """3. Evaluate local-market liquidity first (the figures are section 3's)."""
    title = "Evaluate the liquidity of local AS markets before creating them."
    if not has_liquidity:
        return title, NOT_SUPPORTED, "The simulation reported no bids per DSO area."
    return (
        title,
        SUPPORTED if thin else PARTLY,
        (
            "Thin areas: " + "; ".join(thin) + "."
            if thin
            else f"Every area has at least {LIQUIDITY_THIN_BIDS_PER_DAY:g} bids per day here; "
            f"the need for the "
            "check is not contradicted, but no area shows the problem."
        )
        + " See section 3.",
    )


def _dso_pooling(result: CbaResult, dso_schemes: list[str]) -> list[_Consideration]:
    """7. Small DSOs pool / an independent AS market operator (only with a DSO-role scheme simulated)."""
    dso_cost = {
        s: next((a.pv_costs_eur for a in result.actors if a.scheme == s and a.actor == "dso"), 0.0)
        for s in dso_schemes
    }
    if not dso_cost:
        return []
    worst = max(dso_cost, key=lambda s: dso_cost[s])
    return [(
        "Small DSOs pool their efforts, possibly under one independent AS market operator.",
        PARTLY,
        f"The DSOs' ICT cost is highest in {worst} ({_meur(dso_cost[worst])} in present value, "
        "incremental "
        "over the reference), which pooling would share; the study does not model DSO size.",
    )]


def _der_level_playing_field(result: CbaResult) -> _Consideration:
    """8. Level playing field for DER."""
    leader = result.ranking[0]
    curtail = result.scheme(leader).annual_benefits_eur_per_year.get("curtailment", 0.0)
    return (
        "Real-time markets take DER constraints into account so that DER compete on a level playing field.",
        PARTLY if curtail > 0 else NOT_SUPPORTED,
        f"{leader} reduces RES curtailment worth {_meur(curtail)}/a; market access rules for DER are not "
        "varied in this study.",
    )


def _business_models(result: CbaResult, losers: list[str]) -> _Consideration:
    """9. Viable business models, incentives for an initial period (the figures are section 5's)."""
    leader = result.ranking[0]
    return (
        "Viable business models for all market participants; incentives where needed.",
        SUPPORTED if losers else PARTLY,
        (
            f"In {leader}, {', '.join(losers)} have a negative NPV (section 5): "
            "an incentive or remuneration is "
            "needed."
            if losers
            else f"In {leader} every actor group has a business case under the allocation "
            "keys used; the keys themselves are assumptions."
        ),
    )


def _reinforcement_or_markets(result: CbaResult) -> _Consideration:
    """10. Network oversizing vs liquid local congestion markets."""
    leader = result.ranking[0]
    cong = result.scheme(leader).annual_benefits_eur_per_year.get("congestion", 0.0)
    return (
        "Balance network reinforcement against liquid local congestion markets.",
        PARTLY,
        f"{leader} relieves unresolved congestion worth {_meur(cong)}/a; grid reinforcement as an "
        "alternative is not costed in this study.",
    )


def _ict_analysis(result: CbaResult) -> _Consideration:
    """11. ICT analysis is unavoidable (the figures are section 4's)."""
    costs = sorted(result.schemes, key=lambda s: s.ict_pv_cost_eur)
    return (
        "A thorough analysis of information requirements and ICT costs is unavoidable.",
        SUPPORTED,
        f"ICT present cost ranges from {_meur(costs[0].ict_pv_cost_eur)} ({costs[0].scheme}) to "
        f"{_meur(costs[-1].ict_pv_cost_eur)} ({costs[-1].scheme}) across the schemes (section 4).",
    )


def build_document(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: dict[str, SchemeIctCost] | None,
    result: CbaResult,
    ict_check: IctCheckResult | None = None,
) -> Document:
    """The recommendations draft as a neutral document model.

    With ``ict_check``, a paragraph is added when a scheme's ICT cost changes materially once its
    requirements are re-matched on the traffic the simulation actually exchanged.
    """
    doc = Document()
    doc.heading("Recommendations on TSO-DSO coordination (draft for editing)", 1)
    days = ", ".join(f"{d} ({params.day_weights_days_per_year[d]:g} d/a)" for d in result.days)
    doc.para(
        f"Drafted by Coordination Studio on {datetime.now(UTC).strftime('%Y-%m-%d')} from the "
        f"cost-benefit analysis of {len(result.schemes)} schemes "
        f"({', '.join(s.scheme for s in result.schemes)}) "
        f"simulated over {len(result.days)} representative day(s): {days}. Every statement cites the figure "
        "behind it; figures are in the Excel report (report.xlsx). Edit freely."
    )
    failures = _warning_block(doc, result)
    full, result = result, _assessed_view(result)
    if not result.ranking:
        doc.heading("1. Which scheme ranks first", 2)
        doc.para(
            "No scheme is ranked, and the draft recommends none: "
            + _lower_first(failures[0] if failures else "no scheme was assessed.")
        )
        _caveats(doc, full)
        return doc
    verdict = _section_ranking(doc, params, result)
    for s in full.schemes:
        if not s.assessed:
            doc.para(f"Not assessed, and not ranked: {_name(s.scheme)} ({s.not_assessed_reason}).")
    sensitive = _section_switching(doc, params, result)
    thin, has_liquidity = _section_liquidity(doc, result)
    _section_ict(doc, result)
    if ict_check is not None:
        from cba.ictcheck_output import ict_check_paragraph

        paragraph = ict_check_paragraph(ict_check)
        if paragraph:
            doc.heading("ICT design checked against the simulated messages", 2)
            doc.para(paragraph)
    losers = _section_actors(doc, result)
    _section_regulatory(doc, result, thin, has_liquidity, losers)
    doc.heading("Summary", 2)
    doc.bullet(f"First-ranked scheme: {_name(result.ranking[0])}; ranking {verdict} in the Monte Carlo.")
    doc.bullet(
        "Inputs that could change the conclusion within their plausible range: "
        + (", ".join(sorted(set(sensitive))) if sensitive else "none found")
        + "."
    )
    _caveats(doc, full)
    return doc


def _warning_block(doc: Document, result: CbaResult) -> list[str]:
    """The warning block at the top of the draft when a scheme is not assessed (failed market clearings, a
    failed run: :mod:`cba.assessment`), with the market slack; returns its lines (none: every scheme was
    assessed, and the draft is unchanged)."""
    if not not_assessed(result.assessments):
        return []
    lines = kpi_warnings(result.assessments, result.reference_scheme)
    doc.heading("Warning: not every scheme was assessed", 2)
    for line in lines:
        doc.warning(line)
    return lines


def _assessed_view(result: CbaResult) -> CbaResult:
    """``result`` restricted to the assessed schemes, so that no section cites or ranks the figures of a
    scheme whose benefits were not measured."""
    keep = {s.scheme for s in result.schemes if s.assessed}
    if len(keep) == len(result.schemes):
        return result
    return result.model_copy(
        update={
            "schemes": [s for s in result.schemes if s.scheme in keep],
            "actors": [a for a in result.actors if a.scheme in keep],
            "liquidity": [r for r in result.liquidity if r.scheme in keep],
            "tornado": [t for t in result.tornado if t.scheme in keep],
            "switching_values": [v for v in result.switching_values if v.scheme in keep],
        }
    )


def _caveats(doc: Document, result: CbaResult) -> None:
    if result.warnings:
        doc.heading("Caveats", 2)
        for w in result.warnings:
            doc.bullet(w)
    doc.para(
        "Prices marked 'assumption' on the Assumptions sheet have no checked primary source; replace them "
        "with the figures of the regulator or system operator concerned before relying on this draft."
    )


def write_recommendations(
    md_path: str | Path,
    docx_path: str | Path,
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: dict[str, SchemeIctCost] | None,
    result: CbaResult,
    ict_check: IctCheckResult | None = None,
) -> tuple[Path, Path]:
    """Write the draft as Markdown and as DOCX (both atomically); returns the two paths."""
    doc = build_document(params, kpis, ict, result, ict_check)
    md = atomic_write_text(md_path, render_markdown(doc))
    dx = atomic_write_bytes(docx_path, render_docx(doc))
    return md, dx
