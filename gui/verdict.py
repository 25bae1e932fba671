"""What the figures on screen support, in words: the banner above the CBA results (and the Study view).

A ranking alone misleads when the result is degenerate. The reference scheme's NPV is 0 by construction
(benefits and ICT cost are counted relative to it), so when every alternative is negative the reference
ranks first, and "Best: CMS" would read as a finding about CMS when it only says that *no alternative beats
the reference*. The rules here follow the recommendations draft (``cba.recommendations``, section 1):

* the reference ranks first and alternatives exist -> "no alternative beats the reference X";
* the first-ranked NPV is <= 0 -> "no scheme has a positive NPV";
* otherwise -> "X has the highest NPV, relative to the reference Y".

and add what weakens the figures: schemes not assessed (failed market clearings or a failed run) and
market slack, by the same rule and in the same words as the draft (:mod:`cba.assessment`), and CBA inputs
whose source is an assumption (``CbaParameters.sources``). Qt-free presentation logic, tested without a
display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Level of a banner line: "finding" (neutral), "warning" (weakens the figures).
Level = str


@dataclass(frozen=True)
class Verdict:
    """The headline and the caveats of a CBA result, ready to be shown."""

    headline: str
    degenerate: bool
    caveats: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    """Schemes not assessed, with the reason (shown in red, before the caveats)."""

    def html(self) -> str:
        """Rich text for a QLabel: the headline in bold, each alert and caveat on its own line."""
        colour = "#8a5a00" if self.degenerate else "#1b5e20"
        lines = [f"<b style='color:{colour}'>{self.headline}</b>"]
        lines += [f"<b style='color:#b00020'>✖ {a}</b>" for a in self.alerts]
        lines += [f"<span style='color:#8a5a00'>⚠ {c}</span>" for c in self.caveats]
        return "<br>".join(lines)


def _meur(value: float) -> str:
    return f"{value / 1e6:,.2f} M EUR"


def headline(result: Any) -> tuple[str, bool]:
    """The one-sentence finding of a ``CbaResult`` and whether it is degenerate (no alternative wins),
    in the words of the draft's case (:meth:`cba.analysis.CbaResult.outcome`)."""
    ref = result.reference_scheme
    case, about = result.outcome()
    if case == "none_ranked":
        if any(a.scheme == ref and not a.assessed for a in getattr(result, "assessments", [])):
            return f"The reference scheme {ref} is not assessed: no scheme is ranked.", True
        return "No scheme was assessed.", True
    subject = result.scheme(about)
    if case == "reference_wins":
        return (
            f"No alternative beats the reference {ref} (its NPV is 0 by construction): the best "
            f"alternative, {subject.scheme}, has an NPV of {_meur(subject.npv_eur)}.",
            True,
        )
    if case == "no_positive_npv":
        return (
            f"No scheme has a positive NPV; the least negative is {subject.scheme} "
            f"({_meur(subject.npv_eur)}).",
            True,
        )
    return (
        f"{subject.scheme} has the highest NPV, {_meur(subject.npv_eur)}, relative to the reference {ref}.",
        False,
    )


def _assessments(result: Any, kpis: Sequence[Any]) -> list[Any]:
    """The result's assessments (:class:`cba.assessment.SchemeAssessment`), or those of ``kpis``."""
    from coordstudio.cba.assessment import assess

    stored = list(getattr(result, "assessments", None) or [])
    return stored or assess(kpis, getattr(result, "reference_scheme", None))


def kpi_alerts(result: Any, kpis: Sequence[Any] = ()) -> list[str]:
    """The schemes not assessed, with their reasons: the draft's warning lines
    (:func:`cba.assessment.not_assessed_warnings`)."""
    from coordstudio.cba.assessment import not_assessed_warnings

    return not_assessed_warnings(_assessments(result, kpis), getattr(result, "reference_scheme", None))


def kpi_caveats(kpis: Sequence[Any], reference_scheme: str | None = None) -> list[str]:
    """Market slack per scheme (priced, shown, but not a reason to drop a scheme), in the draft's words
    (:func:`cba.assessment.kpi_warnings` without the lines of :func:`kpi_alerts`)."""
    from coordstudio.cba.assessment import assess, kpi_warnings, not_assessed_warnings

    assessments = assess(kpis, reference_scheme)
    alerts = set(not_assessed_warnings(assessments, reference_scheme))
    return [line for line in kpi_warnings(assessments, reference_scheme) if line not in alerts]


def assumption_caveat(params: Any) -> str:
    """The CBA inputs whose source is an assumption rather than a checked primary source ('' if none)."""
    sources: dict[str, str] = dict(getattr(params, "sources", {}) or {})
    unsourced = sorted(k for k, v in sources.items() if str(v).strip().lower().startswith("assumption"))
    if not unsourced:
        return ""
    shown = ", ".join(unsourced[:4]) + (f" and {len(unsourced) - 4} more" if len(unsourced) > 4 else "")
    return f"{len(unsourced)} CBA inputs are assumptions without a checked source ({shown})."


WHATIF_FIELDS: tuple[str, ...] = ("discount_rate", "benefit_factor", "ict_capex_factor", "ict_opex_factor")


def whatif_caveat(shown: Any, study: Any) -> str:
    """Which what-if values the Monte Carlo and the tornado do not follow ('' if none).

    ``cba.analysis.run_cba`` computes the NPVs and the tornado's base at the what-if values, but an input
    that is itself a Monte Carlo input is *sampled* over its own distribution (the what-if value is
    replaced), and a tornado range is absolute (benefit_factor 0.7…1.3 whatever the what-if says). So
    "Benefits × 2" moves the NPV and the tornado's centre line, not the Monte Carlo or that input's bar.
    """
    if shown is None or study is None:
        return ""
    moved = [f for f in WHATIF_FIELDS if getattr(shown, f, None) != getattr(study, f, None)]
    mc = {u.parameter for u in getattr(shown, "uncertain_inputs", [])}
    tornado = {t.parameter for t in getattr(shown, "tornado_ranges", [])}
    hit = [f for f in moved if f in mc or f in tornado]
    if not hit:
        return ""
    return (
        "What-if " + ", ".join(f"{f} = {getattr(shown, f):g}" for f in hit) + ": the Monte Carlo samples "
        "these inputs over their own distributions and the tornado over its own ranges, so P(NPV<0), "
        "P(rank 1), the histograms and these inputs' tornado bars do not follow the what-if value."
    )


def verdict(result: Any, kpis: Sequence[Any] = (), params: Any = None, study_params: Any = None) -> Verdict:
    """Headline and caveats of a CBA result (see the module docstring for the rules)."""
    text, degenerate = headline(result)
    alerts = kpi_alerts(result, kpis)
    caveats = kpi_caveats(kpis, getattr(result, "reference_scheme", None))
    moved = whatif_caveat(params, study_params)
    if moved:
        caveats.append(moved)
    if params is not None:
        note = assumption_caveat(params)
        if note:
            caveats.append(note)
    return Verdict(text, degenerate or bool(alerts), caveats, alerts)
