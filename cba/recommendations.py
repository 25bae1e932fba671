"""A draft of policy recommendations, written from a CBA result as Markdown and DOCX.

The draft is for policy advisers to edit. Every statement is tied to the figure that supports it (the
figures come from :class:`~cba.analysis.CbaResult`); where this study's results cannot support a
consideration, the draft says so instead of asserting it. Sections:

1. Which scheme ranks first, and how robust that is (Monte Carlo: probability of ranking first and of a
   negative NPV, judged on the schemes that can lose, never on the reference's NPV of 0 by construction).
   A degenerate outcome (no alternative beats the reference, no positive NPV, NPVs within the Monte Carlo
   noise) is said as such, with the switching values that would change first place (the benefit
   multiplier and the ICT cost factor at which another scheme draws level, :mod:`cba.findings`) and the
   ICT item that dominates the best alternative's extra cost.
2. Which inputs would change the conclusion (switching values), flagged when they lie inside the range
   the study considers plausible (tornado range or distribution bounds).
3. Local-market liquidity per DSO area (bids submitted and activated per day).
4. The ICT cost share, and who pays for ICT.
5. Business cases per actor group (micro level) in the first-ranked scheme, or in the best alternative
   when the reference ranks first (never the reference against itself).
6. The regulatory considerations of the SmartNet paper's conclusion, each judged by the figure that tests
   it (*supported*, *partly supported*, *not supported by this study's results*) or marked *not tested by
   this study* where the study does not vary what the conclusion is about.

Then the limitations, generated from the study: the simulated days and their weights, platform-scale
ICT items against the simulated grid's benefits, failed clearings, and the unsourced assumptions with
their ranges.

One neutral document model (:mod:`cba.draft_document`: headings, paragraphs, bullets, tables) is
rendered twice, to Markdown and to DOCX (python-docx), so both files say the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coordstudio.cba.analysis import CbaResult, SchemeResult
from coordstudio.cba.assessment import kpi_warnings, not_assessed
from coordstudio.cba.draft_document import Document, render_docx, render_markdown
from coordstudio.cba.fileio import atomic_write_bytes, atomic_write_text
from coordstudio.cba.findings import PLATFORM_UNIT_EUR, cost_items, crossing, platform_items, within_noise
from coordstudio.cba.parameters import (
    ACTOR_LABELS,
    BENEFIT_LABELS,
    CbaParameters,
    anchored_inputs,
    anchored_ranges,
    assumed_inputs,
)
from coordstudio.cba.sensitivity import effective_days
from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.scenario.representative_days import replicate_groups

if TYPE_CHECKING:
    from coordstudio.cba.ictcheck_data import IctCheckResult
    from coordstudio.cba.provenance import Provenance

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
NOT_TESTED = "Not tested by this study"


def _meur(value: float) -> str:
    """``value`` (EUR) in M EUR to two decimals; one that rounds to zero prints as 0.00, never -0.00 (the
    resolution :data:`cba.allocation.NEUTRAL_EUR` and :func:`cba.allocation.business_case` follow)."""
    text = f"{value / 1e6:,.2f}"
    return f"{'0.00' if float(text.replace(',', '')) == 0.0 else text} M EUR"


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


def _subject(result: CbaResult) -> str | None:
    """The scheme the draft's statements are about: the leader when it beats the reference, else the best
    alternative; never the reference against itself (``None`` when only the reference was ranked)."""
    case, about = result.outcome()
    if about is None or about == result.reference_scheme:
        alternatives = [s for s in result.ranking if s != result.reference_scheme]
        return alternatives[0] if alternatives else None
    return about


def _ranking_switch_text(params: CbaParameters, result: CbaResult, leader: str) -> str:
    """The switching values that change first place: over every other ranked scheme, the benefit multiplier
    and the ICT cost factor closest to 1 at which it draws level with ``leader`` (:func:`crossing`)."""
    others = [s for s in result.ranking if s != leader]
    benefit = [(c.benefit_multiplier, s) for s in others
               if (c := crossing(result, s, leader)).benefit_multiplier is not None]
    cost = [(c.ict_cost_factor, s) for s in others
            if (c := crossing(result, s, leader)).ict_cost_factor is not None]
    parts = []
    if benefit:
        m, scheme = min(benefit, key=lambda x: abs(math.log(x[0])))
        parts.append(
            f"all benefits were {m:.3g} times as high (benefit_factor {params.benefit_factor * m:.3g} "
            f"instead of {params.benefit_factor:g}; {scheme} would draw level with {leader})"
        )
    if cost:
        k, scheme = min(cost, key=lambda x: abs(math.log(x[0])))
        word = "lower" if k < 1 else "higher"
        parts.append(f"all ICT costs were {abs(1 - k):.1%} {word} (ICT cost x {k:.3g}; {scheme} would draw "
                     f"level with {leader})")
    if not parts:
        return (f"No common change of benefits or ICT costs takes first place from {leader}: no other scheme "
                "has both more benefits and more ICT cost than it (or both less).")
    return "The ranking would change if " + ", or if ".join(parts) + "."


def _dominant_cost_text(
    params: CbaParameters, ict: dict[str, SchemeIctCost] | None, scheme: str, reference: str
) -> str:
    items = cost_items(params, ict or {}, scheme, reference)
    if not items:
        return ""
    top = items[0]
    text = (
        f"The cost item that dominates {scheme}'s extra ICT cost over {reference} is {top.item_id} "
        f"({top.description}): {_meur(top.pv_eur)} in present value, {top.share:.0%} of it"
    )
    if len(items) > 1:
        text += f"; next {items[1].item_id} ({items[1].description}) with {items[1].share:.0%}"
    return text + "."


def _section_ranking(
    doc: Document, params: CbaParameters, result: CbaResult, ict: dict[str, SchemeIctCost] | None
) -> str:
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
                s.scheme + (" (reference)" if s.scheme == ref else ""),
                _meur(s.npv_eur),
                _num(s.bcr),
                _pct(s.irr),
                _payback(s, result),
                "-" if _is_reference_zero(s, result) else _pct(mc.scheme(s.scheme).prob_npv_negative),
                _pct(mc.scheme(s.scheme).prob_rank_first),
            ]
            for s in _ranked(result)
        ],
    )
    basis = (
        f"over {result.horizon_years} years at a {result.discount_rate:.1%} {result.price_basis} discount "
        f"rate, relative to {_name(ref)}, with {result.ict_cost_basis} ICT costs"
    )
    case, _ = result.outcome()
    subject_id = _subject(result)
    subject = result.scheme(subject_id) if subject_id is not None else lead
    if case == "reference_wins":
        doc.para(
            f"**Degenerate outcome: no alternative beats the reference.** No scheme improves on the "
            f"reference {_name(ref)} {basis}: the best alternative, {_name(subject.scheme)}, has an NPV of "
            f"{_meur(subject.npv_eur)} (benefit-cost ratio {_num(subject.bcr)}); its benefits of "
            f"{_meur(subject.pv_benefits_eur)} in present value do not cover its extra ICT costs of "
            f"{_meur(subject.pv_costs_eur)}. On these figures the draft recommends keeping {_name(ref)}."
        )
    elif case == "no_positive_npv":
        doc.para(
            f"**Degenerate outcome: no scheme has a positive NPV** {basis}; the least negative is "
            f"{_name(leader)} with {_meur(lead.npv_eur)}."
        )
    else:
        doc.para(
            f"{_name(leader)} has the highest net present value, {_meur(lead.npv_eur)} {basis} "
            f"(benefit-cost ratio {_num(lead.bcr)}, discounted payback {_payback(lead, result)})."
        )
    if len(result.ranking) > 1:
        doc.para(_ranking_switch_text(params, result, leader))
    if subject_id is not None:
        dominant = _dominant_cost_text(params, ict, subject_id, ref)
        if dominant:
            doc.para(dominant)
    verdict = _robustness(doc, result, leader, subject_id)
    if subject_id is not None and all(abs(v) < 5e3 for v in subject.annual_benefits_eur_per_year.values()):
        doc.para(f"{subject.scheme}'s simulated KPIs give no measurable benefit over {ref} (every category "
                 "below 0.01 M EUR/a): the simulation does not tell the two apart.")
    elif subject_id is not None:
        top_benefits = sorted(subject.annual_benefits_eur_per_year.items(), key=lambda kv: -abs(kv[1]))[:3]
        doc.para(
            f"Where {subject.scheme}'s benefit over {ref} comes from (yearly, base-year prices): "
            + "; ".join(f"{_lower_first(BENEFIT_LABELS[c])} {_meur(v)}/a" for c, v in top_benefits)
            + "."
        )
    return verdict


def _is_reference_zero(s: SchemeResult, result: CbaResult) -> bool:
    """The reference against itself under incremental costs: NPV 0 by construction, nothing to test."""
    return s.scheme == result.reference_scheme and result.ict_cost_basis == "incremental"


def _robustness(doc: Document, result: CbaResult, leader: str, subject: str | None) -> str:
    """The Monte Carlo verdict, judged on the schemes that can lose (never the reference's P(NPV < 0),
    which is 0 by construction with incremental costs); returns robust / moderately robust / not robust."""
    mc = result.monte_carlo
    ref = result.reference_scheme
    p_first = mc.scheme(leader).prob_rank_first
    inputs = f"{mc.samples:,} Monte Carlo samples of {', '.join(mc.inputs) or 'no input'}"
    if mc.day_spread or mc.seed_spread:
        inputs += ", with the simulated " + (
            "days and their seed replicates" if mc.day_spread and mc.seed_spread
            else "days" if mc.day_spread else "day's seed replicates"
        ) + " resampled"
    else:
        inputs += "; the spread of the simulation itself is not in it (" + (
            "one simulated day)" if len(result.days) == 1 else "monte_carlo_day_spread is off)"
        )
    if leader == ref:
        p_risk = 1.0 - p_first
        text = f"Robustness ({inputs}): the reference {ref} stays first in {_pct(p_first)} of the samples"
        if subject is not None:
            incremental = result.ict_cost_basis == "incremental"
            beat = 1.0 - mc.scheme(subject).prob_npv_negative if incremental else None
            text += (
                f"; the best alternative, {subject}, has a negative NPV in "
                f"{_pct(mc.scheme(subject).prob_npv_negative)}"
                + (f" and beats the reference in {_pct(beat)}" if beat is not None else "")
            )
    else:
        p_risk = mc.scheme(leader).prob_npv_negative
        text = (
            f"Robustness ({inputs}): {leader} ranks first in {_pct(p_first)} of the samples and its NPV is "
            f"negative in {_pct(p_risk)}"
        )
    if p_first >= ROBUST_PROB_FIRST and p_risk <= RISK_PROB_NEGATIVE:
        verdict = "robust"
    elif p_first >= 0.5:
        verdict = "moderately robust"
    else:
        verdict = "not robust"
    text += f"; the ranking is {verdict}"
    if subject is not None and subject != leader and within_noise(result, subject, leader):
        text += (
            f". The NPV difference between {subject} and {leader} is smaller than the Monte Carlo standard "
            f"deviation of {subject}'s NPV ({_meur(mc.scheme(subject).std_npv_eur)}): **the two are within "
            "the noise** of this study"
        )
    doc.para(text + ".")
    return verdict


def _plausible_range(params: CbaParameters, name: str) -> tuple[float, float] | None:
    bounds: list[float] = []
    for rng in anchored_ranges(params):
        if rng.parameter == name:
            bounds += [rng.low, rng.high]
    for dist in anchored_inputs(params):  # as the Monte Carlo sampled them: around the study's values
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
        text = (
            f"ICT is {_pct(hi.ict_cost_share)} of the yearly cost (annualised ICT plus activation and aFRR) "
            f"of {hi.scheme}, the highest share, and {_pct(lo.ict_cost_share)} of {lo.scheme}'s, the lowest."
        )
        subject_id = _subject(result)
        if subject_id is not None:
            subject = result.scheme(subject_id)
            role = "first-ranked" if subject_id == result.ranking[0] else "best alternative"
            text += (
                f" For the {role} {subject.scheme}, the present value of the ICT costs counted (over "
                f"{result.reference_scheme}) is {_meur(subject.pv_costs_eur)} against "
                f"{_meur(subject.pv_benefits_eur)} of benefits."
            )
        doc.para(text)
    for s in result.schemes:
        if s.unserved_events:
            doc.bullet(
                f"{s.scheme}: {len(s.unserved_events)} interaction event(s) have no technology meeting "
                f"their requirements, so its ICT cost is understated: {', '.join(s.unserved_events[:5])}."
            )


def _section_actors(doc: Document, result: CbaResult) -> list[str]:
    """Business cases per actor in the scheme the draft is about (the leader, or the best alternative when
    the reference wins: the reference against itself is all zeros). Returns the losing actor groups."""
    subject = _subject(result)
    ref = result.reference_scheme
    if subject is None:
        doc.heading("5. Business cases per actor (micro level)", 2)
        doc.para(f"No alternative to {ref} was assessed, so there is no business case to split among actors.")
        return []
    role = "the first-ranked scheme" if subject == result.ranking[0] else "the best alternative"
    doc.heading(f"5. Business cases per actor in {subject}, {role}, against {ref} (micro level)", 2)
    rows = [a for a in result.actors if a.scheme == subject]
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
    # the label follows the printed NPV (cba.allocation.business_case): -0.00 M EUR is "neutral"
    losers = [ACTOR_LABELS[a.actor] for a in rows if a.business_case == "negative"]
    if losers:
        doc.para(
            f"Moving from {ref} to {subject}, {', '.join(losers)} would bear more ICT cost than their share "
            "of the benefits under the allocation keys of the Assumptions: without a remuneration or an "
            "incentive they have no business case."
        )
    else:
        doc.para(f"Moving from {ref} to {subject}, no actor group loses under the allocation keys of the "
                 "Assumptions.")
    return losers


#: A regulatory consideration judged against this study: (title, verdict word, evidence in words).
_Consideration = tuple[str, str, str]

#: SmartNet conclusions 4-6, outside what the simulation models.
_OUT_OF_SCOPE: tuple[_Consideration, ...] = (
    (
        "Integrate AS markets seamlessly with day-ahead and intraday markets to avoid gaming.",
        NOT_TESTED,
        "The simulation clears real-time AS markets only; day-ahead/intraday markets and strategic bidding "
        "are not modelled.",
    ),
    (
        "Integrate with the ENTSO-E balancing platforms (TSO-TSO coordination).",
        NOT_TESTED,
        "The study models one country without cross-border exchange of balancing energy.",
    ),
    (
        "Harmonise AS markets and TSO-DSO schemes across Europe.",
        NOT_TESTED,
        "The study covers one scenario of one country.",
    ),
)


def _section_regulatory(
    doc: Document, result: CbaResult, thin: list[str], has_liquidity: bool, losers: list[str]
) -> None:
    """Section 6: each conclusion of the SmartNet paper judged by the figure that tests it, or marked
    not tested by this study."""
    doc.heading("6. Regulatory considerations (SmartNet conclusions) against this study's figures", 2)
    by = {s.scheme: s for s in result.schemes}
    dso_schemes = [s for s in by if s in _DSO_ROLE_SCHEMES or _family(s) in _DSO_ROLE_SCHEMES]
    considerations = [
        _dso_role(result, by, dso_schemes),
        _common_market(result, by),
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


def _family(scheme: str) -> str:
    """The SmartNet scheme a variant belongs to (``CM-D`` -> ``CM``), judged with its family."""
    return scheme.split("-", 1)[0]


def _beats_reference(result: CbaResult, scheme: str) -> bool:
    return result.scheme(scheme).npv_eur > result.scheme(result.reference_scheme).npv_eur


def _dso_role(result: CbaResult, by: dict[str, SchemeResult], dso_schemes: list[str]) -> _Consideration:
    """1. DSOs leave fit-and-forget; TSOs share AS procurement responsibilities. Tested by whether a
    scheme with a DSO market role beats the reference (and ranks first)."""
    title = "DSOs move to real-time monitoring and share AS procurement with the TSO."
    candidates = [s for s in dso_schemes if s != result.reference_scheme]
    if not candidates:
        return title, NOT_TESTED, "No scheme with a DSO market role was simulated against the reference."
    best = max(candidates, key=lambda s: by[s].npv_eur)
    leader = result.ranking[0]
    figure = (f"The best scheme with a DSO market role, {best}, has an NPV of {_meur(by[best].npv_eur)} "
              f"against {result.reference_scheme}")
    if leader == best and _beats_reference(result, best):
        return title, SUPPORTED, figure + " and ranks first."
    if _beats_reference(result, best):
        return title, PARTLY, figure + f", but {leader} ranks first."
    return title, NOT_SUPPORTED, figure + f": it does not pay for its ICT; {leader} ranks first."


def _common_market(result: CbaResult, by: dict[str, SchemeResult]) -> _Consideration:
    """2. Avoid counteracting actions: a common marketplace / common merit order. Tested by the rank of
    every common-market scheme against the schemes with separate local markets, and against the
    reference: supported only if every common-market scheme ranks above every separate one and beats
    the reference."""
    title = "A common marketplace (common merit order) avoids counteracting TSO and DSO actions."
    common = [s for s in by if _family(s) in _COMMON_MARKET_SCHEMES]
    separate = [s for s in by if _family(s) in _LOCAL_MARKET_SCHEMES]
    if not (common and separate):
        return title, NOT_TESTED, "Common and separate local-market schemes were not both simulated."
    rank = {s: by[s].rank for s in by}
    figures = "; ".join(f"{s} rank {rank[s]}, NPV {_meur(by[s].npv_eur)}" for s in common + separate)
    best_common = max(common, key=lambda s: by[s].npv_eur)
    best_separate = max(separate, key=lambda s: by[s].npv_eur)
    worst_common = min(common, key=lambda s: by[s].npv_eur)
    all_above = by[worst_common].npv_eur > by[best_separate].npv_eur
    any_pays = any(_beats_reference(result, s) for s in common)
    if all_above and any_pays and all(_beats_reference(result, s) for s in common):
        return title, SUPPORTED, f"Every common-market scheme ranks above every separate one ({figures})."
    if by[best_common].npv_eur > by[best_separate].npv_eur:
        caveat = (f" {worst_common} ranks below {best_separate}." if not all_above else "")
        if not any_pays:
            caveat += f" No common-market scheme beats the reference {result.reference_scheme}."
        return title, PARTLY, f"{best_common} ranks above the separate local markets ({figures}).{caveat}"
    return title, NOT_SUPPORTED, f"The separate local markets do at least as well ({figures})."


def _liquidity_first(thin: list[str], has_liquidity: bool) -> _Consideration:
    """3. Evaluate local-market liquidity first (the figures are section 3's)."""
    title = "Evaluate the liquidity of local AS markets before creating them."
    if not has_liquidity:
        return title, NOT_TESTED, "The simulation reported no bids per DSO area."
    if thin:
        return title, SUPPORTED, "Thin areas: " + "; ".join(thin) + ". See section 3."
    return (
        title,
        NOT_TESTED,
        f"Every area has at least {LIQUIDITY_THIN_BIDS_PER_DAY:g} bids per day here, so no area shows the "
        "problem the check guards against. See section 3.",
    )


def _dso_pooling(result: CbaResult, dso_schemes: list[str]) -> list[_Consideration]:
    """7. Small DSOs pool / an independent AS market operator: DSO size is not varied, so not tested; the
    DSOs' ICT cost is the figure a pooling study would start from."""
    dso_cost = {
        s: next((a.pv_costs_eur for a in result.actors if a.scheme == s and a.actor == "dso"), 0.0)
        for s in dso_schemes if s != result.reference_scheme
    }
    if not dso_cost:
        return []
    worst = max(dso_cost, key=lambda s: dso_cost[s])
    return [(
        "Small DSOs pool their efforts, possibly under one independent AS market operator.",
        NOT_TESTED,
        f"The study does not vary DSO size or pooling. The DSOs' extra ICT cost over "
        f"{result.reference_scheme} is highest in {worst} ({_meur(dso_cost[worst])} in present value), "
        "which pooling would share.",
    )]


def _der_level_playing_field(result: CbaResult) -> _Consideration:
    """8. Level playing field for DER: market access rules are not varied, so not tested."""
    title = ("Real-time markets take DER constraints into account so that DER compete on a level playing "
             "field.")
    subject = _subject(result)
    if subject is None:
        return title, NOT_TESTED, "No alternative to the reference was assessed."
    curtail = result.scheme(subject).annual_benefits_eur_per_year.get("curtailment", 0.0)
    if abs(curtail) < 5e3:  # rounds to 0.00 M EUR
        change = f"does not measurably change RES curtailment against {result.reference_scheme}"
    else:
        verb = "reduces" if curtail > 0 else "increases"
        change = f"{verb} RES curtailment against {result.reference_scheme} by {_meur(abs(curtail))}/a"
    return (
        title,
        NOT_TESTED,
        f"Market access rules for DER are not varied in this study; for reference, {subject} {change}.",
    )


def _business_models(result: CbaResult, losers: list[str]) -> _Consideration:
    """9. Viable business models, incentives for an initial period (the figures are section 5's)."""
    title = "Viable business models for all market participants; incentives where needed."
    subject = _subject(result)
    if subject is None:
        return title, NOT_TESTED, "No alternative to the reference was assessed."
    if losers:
        return (
            title,
            SUPPORTED,
            f"Moving to {subject}, {', '.join(losers)} have a negative NPV (section 5): an incentive or "
            "remuneration is needed. The split rests on the allocation keys, which are assumptions.",
        )
    return (
        title,
        PARTLY,
        f"Moving to {subject}, every actor group has a business case under the allocation keys used; the "
        "keys themselves are assumptions.",
    )


def _reinforcement_or_markets(result: CbaResult) -> _Consideration:
    """10. Network oversizing vs liquid local congestion markets: reinforcement is not costed."""
    title = "Balance network reinforcement against liquid local congestion markets."
    subject = _subject(result)
    if subject is None:
        return title, NOT_TESTED, "No alternative to the reference was assessed."
    cong = result.scheme(subject).annual_benefits_eur_per_year.get("congestion", 0.0)
    return (
        title,
        NOT_TESTED,
        f"Grid reinforcement as an alternative is not costed in this study; for reference, {subject} "
        f"changes the value of unresolved congestion against {result.reference_scheme} by "
        f"{_meur(cong)}/a.",
    )


def _days_a(weight: float) -> str:
    """A day's weight in days a year as a reader wants it: one decimal at most (25.7317 -> "25.7",
    99.9977 -> "100", 365.0 -> "365"); the exact weights are in representative_days.csv."""
    return f"{weight:.1f}".removesuffix(".0")


def _ict_analysis(result: CbaResult) -> _Consideration:
    """11. ICT analysis is unavoidable (the figures are section 4's): supported when the ICT cost decides
    the ranking, i.e. the spread of ICT costs across schemes exceeds the spread of their benefits."""
    costs = sorted(result.schemes, key=lambda s: s.ict_pv_cost_eur)
    benefits = [s.pv_benefits_eur for s in result.schemes]
    cost_spread = costs[-1].ict_pv_cost_eur - costs[0].ict_pv_cost_eur
    benefit_spread = max(benefits) - min(benefits)
    figure = (
        f"ICT present cost ranges from {_meur(costs[0].ict_pv_cost_eur)} ({costs[0].scheme}) to "
        f"{_meur(costs[-1].ict_pv_cost_eur)} ({costs[-1].scheme}), a spread of {_meur(cost_spread)}; "
        f"the schemes' benefits differ by {_meur(benefit_spread)} at most (present values, section 4)"
    )
    if cost_spread > benefit_spread:
        return (
            "A thorough analysis of information requirements and ICT costs is unavoidable.",
            SUPPORTED,
            figure + ": the ICT cost differences decide the ranking.",
        )
    return (
        "A thorough analysis of information requirements and ICT costs is unavoidable.",
        PARTLY,
        figure + ": the benefit differences are larger than the ICT cost differences.",
    )


def _seed_limitation(result: CbaResult, seeds: int) -> str:
    """How many random seeds each day was simulated with, and the spread of each alternative's NPV over
    them (:mod:`cba.seed_spread`); with one seed, that the spread is not measured."""
    if result.seed_spread is None:
        return ("Every day is simulated with the scenario's one random seed: the spread of the random draws "
                "(imbalance, forecast errors, device parameters) is not measured, and the Monte Carlo cannot "
                "resample it; profiles.seed_replicates (run --seed-replicates K) simulates each day with K "
                "seeds.")
    spread = result.seed_spread
    ref = result.reference_scheme
    others = [s for s in spread.schemes if s.scheme != ref] or spread.schemes
    figures = ", ".join(
        f"{s.scheme} {_meur(s.npv_std_eur)} (annual benefit {s.benefit_std_eur_per_year / 1e3:,.1f} k EUR/a)"
        for s in others
    )
    worst = max(others, key=lambda s: s.npv_stderr_eur)
    resampled = (" The Monte Carlo resamples the seeds within each day." if result.monte_carlo.seed_spread
                 else " The Monte Carlo does not resample them (monte_carlo_day_spread is off).")
    return (
        f"Every day is simulated with {seeds} random seeds (the scenario's seed to seed + {seeds - 1}: new "
        "imbalance draws, forecast errors and device parameters), each with 1/"
        f"{seeds} of its day's weight, so the figures are the seeds' mean. Standard deviation of the NPV "
        f"over the seeds (all other inputs at base): {figures}; the standard error left in the mean is at "
        f"most {_meur(worst.npv_stderr_eur)} ({worst.scheme}). {seeds} seeds measure this spread only "
        "coarsely." + resampled
    )


def _trip_limitation(params: CbaParameters, kpis: Sequence[SchemeKpis], reference: str) -> str | None:
    """The energy that tripped lines disconnected, per scheme and year (``energy_not_served_mwh``,
    annualised as the CBA annualises, :func:`cba.benefits.yearly_kpi`), which no benefit category prices;
    None when no line tripped. Why it must be said: a de-energised feeder counts no voltage violation and
    no losses, so a scheme that trips lines looks better on those categories than one that keeps the load
    supplied, and the benefit of avoiding the outage is not counted at all."""
    from coordstudio.cba.benefits import yearly_kpi

    weights = params.day_weights_days_per_year
    table = {(k.scheme, k.day): k for k in kpis}
    schemes = list(dict.fromkeys(k.scheme for k in kpis))
    ens: dict[str, float] = {}
    tripped: dict[str, list[str]] = {}
    for scheme in schemes:
        days = [d for d in weights if (scheme, d) in table]
        if len(days) != len(weights):
            continue  # a scheme without every weighted day is not annualised (the CBA says so)
        by_day = [table[(scheme, d)] for d in days]
        ens[scheme] = yearly_kpi(by_day, [weights[d] for d in days], ("energy_not_served_mwh",))
        tripped[scheme] = [d for d, k in zip(days, by_day, strict=True) if k.lines_tripped > 0]
    if not any(ens.values()) and not any(tripped.values()):
        return None
    listed = "; ".join(
        f"{s} {ens[s]:,.0f} MWh/a (lines tripped on {len(tripped[s])} of {len(weights)} simulated days)"
        for s in ens if ens[s] > 0 or tripped[s]
    )
    voll = params.energy_not_served_price_eur_per_mwh
    assumed = "energy_not_served_price_eur_per_mwh" in assumed_inputs(params)
    text = (
        f"Protection tripped lines and disconnected load until restored (scada.restore_after_min): "
        f"{listed}. The CBA prices the energy not served at {voll:,.0f} EUR/MWh "
        f"(energy_not_served_price_eur_per_mwh, {'an assumption' if assumed else 'sourced'}; "
        "the benefit category 'Less load disconnected by tripped lines'), and a de-energised feeder "
        "counts no voltage violation and no losses"
    )
    ref = ens.get(reference)
    fewer = [s for s in ens if s != reference and ref is not None and ens[s] < ref]
    if fewer:
        text += (f": the benefits over {reference} of {', '.join(fewer)}, which disconnect less, rest on "
                 "that value of lost load, and their voltage and losses benefits are understated by the "
                 "violations and losses the dark feeder did not have.")
    else:
        text += "."
    return text


def _stress_limitation(result: CbaResult) -> str | None:
    """Whether the simulated days sample the year's most loaded evenings (:mod:`cba.stress_coverage`); None
    when the run did not say (one day, or days the study weights itself). Why: rare events of those
    evenings (a protection trip and the load it disconnects) can be worth more than every other benefit,
    and a clustering of a few days gives them no weight or a whole cluster's (docs/cba.md, "The full
    year")."""
    cov = result.stress_coverage
    if cov is None:
        return None
    stratum = (f"the year's {cov.stratum_days} days of the highest mean load 17:00-21:00 (the stress "
               f"stratum, {cov.stress_share_frac:.0%} of the year)")
    if cov.stress_days > 0:
        weight = sum(cov.in_stratum.values())
        return (
            f"{cov.stress_days} of the {cov.simulated_days} simulated days are drawn from {stratum}, "
            f"standing for {_days_a(weight)} d/a together (profiles.stress_days): an event of those "
            "evenings, such as a protection trip, is counted at the frequency the stratum gives it, but "
            f"from {cov.stress_days} day(s) only, so its estimate is unbiased and coarse; the Monte Carlo's "
            "day resampling carries that spread."
        )
    if not cov.in_stratum:
        return (
            f"None of the {cov.simulated_days} simulated days is among {stratum}: events of those evenings, "
            "such as protection trips and the load they disconnect, are not sampled, so neither they nor "
            "the benefit of the schemes that avoid them are in these figures. profiles.stress_days draws "
            "days from the stratum."
        )
    listed = ", ".join(f"{d} ({_days_a(w)} d/a)" for d, w in cov.in_stratum.items())
    return (
        f"{len(cov.in_stratum)} of the {cov.simulated_days} simulated days are among {stratum}: {listed}, "
        "weighted by their clusters, not by the stratum's frequency, so events of those evenings (such as "
        "protection trips) are counted on as many days a year as those weights say. profiles.stress_days "
        "draws days from the stratum with its frequency."
    )


def _section_limitations(
    doc: Document, params: CbaParameters, result: CbaResult, ict: dict[str, SchemeIctCost] | None,
    kpis: Sequence[SchemeKpis] = (),
) -> list[str]:
    """What the figures rest on, generated from the study: the simulated days and their weights, the
    scale of the grid against platform costs, failed clearings, load that tripped lines disconnected
    (:func:`_trip_limitation`) and the unsourced assumptions. Returns the bullets (also used by the
    tests)."""
    doc.heading("Limitations of this study", 2)
    bullets: list[str] = []
    weights = params.day_weights_days_per_year
    total = sum(weights.values())
    groups = [[result.days[i] for i in g] for g in replicate_groups(result.days)]
    days = len(groups)
    seeds = result.seed_spread.replicates if result.seed_spread is not None else 1
    day_w = {g[0]: sum(weights[d] for d in g) for g in groups}
    largest = max(day_w.values())
    text = (
        f"{days} simulated day(s) stand for the year: "
        + ", ".join(f"{d} ({_days_a(w)} d/a)" for d, w in day_w.items())
        + f"; the heaviest stands for {largest / total:.0%} of the year."
    )
    mc = result.monte_carlo
    if days == 1:
        text += " Seasons, weekdays and weather other than that day's are not represented" + (
            ", and the Monte Carlo contains no spread of the simulation itself." if seeds == 1 else
            "; the only spread of the simulation in the Monte Carlo is that of the day's seeds."
        )
    else:
        # representative days are chosen on the profiles (means and peaks kept), not on the KPIs, and
        # weights a user gives are chosen on neither: the annual KPIs' error is a separate measurement
        # against a simulated year (docs/cba.md, "Error of the annual KPIs")
        text += (" How far the annual KPIs these days give lie from those of a simulated year is not "
                 "measured by this run (benchmarks/repdays_error.py measures it).")
        d_eff = effective_days(np.array(list(day_w.values()), dtype=float))
        text += (f" With their weights the {days} days carry the information of {d_eff:.1f} equally "
                 "weighted days (Kish's effective number of days)")
        if not mc.day_spread:
            text += "; the Monte Carlo does not resample the days (monte_carlo_day_spread is off)."
        else:
            text += (", which the Monte Carlo's resampling of the days uses; it cannot see how the year's "
                     "other days differ from the chosen ones, so its spread and P(NPV<0) are on the low "
                     "side (for the default study's 8 days it is 25-107 % of what its simulated year's "
                     "day-to-day spread gives, SBR's the narrowest; docs/cba.md, \"The full year\").")
    text += " " + _seed_limitation(result, seeds)
    bullets.append(text)
    subject = _subject(result)
    system = result.system
    if system.scale_factor == 1.0 and system.platform_share == 1.0:
        scale = ("the figures stand for the simulated grid itself, carrying whole platforms "
                 f"(source: {system.source}).")
    else:
        scale = (
            f"the figures stand for {system.name}: {system.scale_factor:g} x the simulated grid, with "
            f"{system.platform_share:.0%} of each organisation's platform charged to it "
            f"(source: {system.source})."
        )
    if subject is not None and ict:
        names, share = platform_items(params, ict, subject)
        s = result.scheme(subject)
        if names:
            scale += (
                " Platform-scale ICT items (one unit per operator, at least "
                f"{PLATFORM_UNIT_EUR / 1e3:,.0f} k EUR each: {', '.join(names)}) are {share:.0%} of "
                f"{subject}'s own ICT cost; {subject}'s benefits are {_meur(s.pv_benefits_eur)} in present "
                f"value against {_meur(s.pv_costs_eur)} of extra ICT cost."
            )
    if subject is not None and subject in result.break_even_scale:
        even = result.break_even_scale[subject]
        scale += (
            f" With whole platforms, {subject} would break even from a system of {even:.3g} simulated grids."
            if even is not None else
            f" With whole platforms, {subject} breaks even at no system size (its device-level ICT costs "
            "exceed its benefits)."
        )
    bullets.append("Scale: " + scale)
    trips = _trip_limitation(params, kpis, result.reference_scheme)
    if trips:
        bullets.append(trips)
    stress = _stress_limitation(result)
    if stress:
        bullets.append(stress)
    failed = sum(a.failed_clearings for a in result.assessments)
    clearings = sum(a.clearings for a in result.assessments)
    if failed:
        bullets.append(f"{failed} market clearing(s) failed; the schemes concerned are flagged above.")
    elif clearings:
        bullets.append(f"All {clearings:,} market clearings of the simulation were solved.")
    assumed = assumed_inputs(params)
    if assumed:
        ranges = {d.parameter: d for d in anchored_inputs(params)}
        described = []
        for name in assumed:
            d = ranges.get(name)
            if d is None:
                described.append(f"{name} = {params.scalar(name):g} (no range)")
            elif d.distribution == "normal":
                described.append(f"{name} = {params.scalar(name):g} (normal, std {d.std:g})")
            else:
                described.append(f"{name} = {params.scalar(name):g} ({d.min:g}-{d.max:g})")
        bullets.append(
            "Unsourced assumptions (no checked primary source; their ranges enter the tornado and the Monte "
            "Carlo): " + "; ".join(described) + ". The ICT catalogue's cost figures are assumptions too, "
            "covered by the ranges of ict_capex_factor and ict_opex_factor."
        )
    figures = [f for f in params.simulation_figures if f.is_assumption]
    if figures:
        bullets.append(
            "Prices inside the simulation are assumptions too (cba.simulation_figures; the CBA cannot move "
            "them without simulating again, e.g. with sweep variants): "
            + "; ".join(f"{f.path}" + (f" ({f.low:g}-{f.high:g})" if f.low is not None and f.high is not None
                                       else " (no range)") for f in figures) + "."
        )
    for b in bullets:
        doc.bullet(b)
    return bullets


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
    weights = params.day_weights_days_per_year
    groups = [[result.days[i] for i in g] for g in replicate_groups(result.days)]
    days = ", ".join(f"{g[0]} ({_days_a(sum(weights[d] for d in g))} d/a)" for g in groups)
    seeds = f", each with {result.seed_spread.replicates} random seeds" if result.seed_spread else ""
    doc.para(
        f"Drafted by Coordination Studio on {datetime.now(UTC).strftime('%Y-%m-%d')} from the "
        f"cost-benefit analysis of {len(result.schemes)} schemes "
        f"({', '.join(s.scheme for s in result.schemes)}) "
        f"simulated over {len(groups)} representative day(s){seeds}: {days}. Every statement cites the "
        "figure behind it; figures are in the Excel report (report.xlsx). Edit freely."
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
    verdict = _section_ranking(doc, params, result, ict)
    for s in full.schemes:
        if not s.assessed:
            doc.para(f"Not assessed, and not ranked: {_name(s.scheme)} ({s.not_assessed_reason}).")
    sensitive = _section_switching(doc, params, result)
    thin, has_liquidity = _section_liquidity(doc, result)
    _section_ict(doc, result)
    if ict_check is not None:
        from coordstudio.cba.ictcheck_output import ict_check_paragraph

        paragraph = ict_check_paragraph(ict_check)
        if paragraph:
            doc.heading("ICT design checked against the simulated messages", 2)
            doc.para(paragraph)
    losers = _section_actors(doc, result)
    _section_regulatory(doc, result, thin, has_liquidity, losers)
    _section_limitations(doc, params, full, ict, kpis)
    doc.heading("Summary", 2)
    case, _ = result.outcome()
    subject = _subject(result)
    if case == "reference_wins" and subject is not None:
        doc.bullet(
            f"No alternative beats the reference {_name(result.reference_scheme)}: the best, {subject}, "
            f"has an NPV of {_meur(result.scheme(subject).npv_eur)}. "
            + _ranking_switch_text(params, result, result.ranking[0])
        )
    else:
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
    provenance: Provenance | None = None,
) -> tuple[Path, Path]:
    """Write the draft as Markdown and as DOCX (both atomically); returns the two paths. ``provenance``
    becomes the documents' footer (:meth:`cba.provenance.Provenance.footer_text`)."""
    doc = build_document(params, kpis, ict, result, ict_check)
    if provenance is not None:
        doc.footer = provenance.footer_text()
    md = atomic_write_text(md_path, render_markdown(doc))
    dx = atomic_write_bytes(docx_path, render_docx(doc))
    return md, dx
