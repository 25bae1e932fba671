"""Which schemes' benefits were measured: the one rule that marks a scheme *not assessed*.

A scheme's benefits are its KPIs subtracted from the reference scheme's (:mod:`cba.benefits`). When a
market clearing has no usable solution (``SchemeKpis.failed_clearings``: infeasible, stopped by the time
limit, or any other solver failure) nothing is activated for its delivery steps and aFRR covers them, so
the KPIs describe a market that did not work, not the scheme; when the run stopped on a physics or solver
failure (``SchemeKpis.run_failed``) they cover only part of the day. Such a scheme is **not assessed**:
its figures are still computed and shown, but it is not ranked and no recommendation rests on it. If the
**reference** scheme is not assessed, no benefit of any scheme is measured, and nothing is ranked.

Market slack (``slack_clearings``, ``slack_energy_mwh``) is different: the clearing was solved, the
unserved need is priced at the slack penalty inside the market and reaches the CBA as its own benefit
category (``unserved_need``, at ``unserved_need_price_eur_per_mwh``) and is shown, but does not by itself
make a scheme not assessed.

Every place that shows the result uses these functions: the CBA's ranking (:func:`cba.analysis.run_cba`),
the printed summary, the Excel report, the recommendations draft, the GUI's banner, and the exit status
of the command line (:data:`EXIT_NOT_ASSESSED`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "EXIT_NOT_ASSESSED",
    "SchemeAssessment",
    "assess",
    "clearing_summary",
    "kpi_warnings",
    "not_assessed",
    "not_assessed_line",
    "not_assessed_warnings",
]

EXIT_NOT_ASSESSED = 3
"""Exit status of ``run`` and ``cba`` when the study ran and its outputs are written but at least one
scheme is not assessed (``main.EXIT_NOT_ASSESSED``; docs/reliability.md, section 1)."""


class SchemeAssessment(BaseModel):
    """Whether a scheme's benefits were measured, and the clearing figures behind the verdict (summed
    over the representative days)."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description="Scheme id.")
    assessed: bool = Field(description="True when the scheme's benefits were measured and it may be ranked.")
    reason: str = Field(default="", description="Why the scheme is not assessed; empty when it is.")
    clearings: int = Field(default=0, description="Clearings made (0 when not recorded), count.")
    failed_clearings: int = Field(default=0, description="Clearings without a usable solution, count.")
    infeasible_clearings: int = Field(default=0, description="Failed clearings proved infeasible, count.")
    time_limited_clearings: int = Field(
        default=0, description="Failed clearings stopped by the solver's time limit, count."
    )
    slack_clearings: int = Field(default=0, description="Solved clearings that used market slack, count.")
    slack_energy_mwh: float = Field(default=0.0, description="Market slack (unserved need) energy, MWh.")
    run_failure: str = Field(
        default="",
        description="Why the scheme's run stopped (physics or solver failure); empty if it did not.",
    )


def clearing_summary(a: SchemeAssessment) -> str:
    """``"24 of 24 market clearings failed (24 infeasible)"``; empty when none failed."""
    if a.failed_clearings <= 0:
        return ""
    of = f" of {a.clearings}" if a.clearings >= a.failed_clearings and a.clearings > 0 else ""
    kinds = [
        f"{n} {what}"
        for n, what in ((a.infeasible_clearings, "infeasible"), (a.time_limited_clearings, "time-limited"))
        if n > 0
    ]
    other = a.failed_clearings - a.infeasible_clearings - a.time_limited_clearings
    if kinds and other > 0:
        kinds.append(f"{other} solver failure{'s' if other > 1 else ''}")
    return f"{a.failed_clearings}{of} market clearings failed" + (f" ({', '.join(kinds)})" if kinds else "")


def _own_reason(a: SchemeAssessment) -> str:
    parts = []
    if a.run_failure:
        parts.append(f"the run failed: {a.run_failure}")
    summary = clearing_summary(a)
    if summary:
        parts.append(summary)
    return "; ".join(parts)


def assess(kpis: Iterable[SchemeKpis], reference_scheme: str | None = None) -> list[SchemeAssessment]:
    """The assessment of every scheme in ``kpis`` (in the order of first appearance), by the rule of the
    module docstring. With ``reference_scheme`` not assessed, every other scheme is not assessed either
    (its reason says so)."""
    sums: dict[str, dict[str, float]] = {}
    failures: dict[str, list[tuple[str, str]]] = {}
    records: dict[str, int] = {}
    for k in kpis:
        records[k.scheme] = records.get(k.scheme, 0) + 1
        acc = sums.setdefault(k.scheme, {})
        for name in (
            "clearings",
            "failed_clearings",
            "infeasible_clearings",
            "time_limited_clearings",
            "slack_clearings",
            "slack_energy_mwh",
            "run_failed",
        ):
            acc[name] = acc.get(name, 0.0) + float(getattr(k, name))
        text = k.run_failure
        if text or k.run_failed:
            failures.setdefault(k.scheme, []).append((k.day, text or "stopped before the end of the day"))
    out: list[SchemeAssessment] = []
    for scheme, acc in sums.items():
        a = SchemeAssessment(
            scheme=scheme,
            assessed=True,
            clearings=int(acc["clearings"]),
            failed_clearings=int(acc["failed_clearings"]),
            infeasible_clearings=int(acc["infeasible_clearings"]),
            time_limited_clearings=int(acc["time_limited_clearings"]),
            slack_clearings=int(acc["slack_clearings"]),
            slack_energy_mwh=acc["slack_energy_mwh"],
            run_failure="; ".join(
                f"day {day}: {text}" if records[scheme] > 1 else text
                for day, text in failures.get(scheme, [])
            ),
        )
        reason = _own_reason(a)
        out.append(a.model_copy(update={"assessed": not reason, "reason": reason}))
    ref = next((a for a in out if a.scheme == reference_scheme), None)
    if ref is not None and not ref.assessed:
        because = f"the reference scheme {ref.scheme} is not assessed, so no benefit is measured against it"
        out = [
            a
            if a.scheme == ref.scheme
            else a.model_copy(
                update={"assessed": False, "reason": f"{a.reason}; {because}" if a.reason else because}
            )
            for a in out
        ]
    return out


def not_assessed(assessments: Sequence[SchemeAssessment]) -> list[SchemeAssessment]:
    """The schemes that are not assessed."""
    return [a for a in assessments if not a.assessed]


def not_assessed_line(assessments: Sequence[SchemeAssessment]) -> str:
    """One line for the command line's stderr naming each scheme not assessed and why; '' if none."""
    bad = not_assessed(assessments)
    if not bad:
        return ""
    return "not assessed: " + "; ".join(f"{a.scheme} ({a.reason})" for a in bad)


def not_assessed_warnings(
    assessments: Sequence[SchemeAssessment], reference_scheme: str | None = None
) -> list[str]:
    """A line per scheme not assessed, with its reason (first a line saying that nothing is ranked when the
    reference scheme is among them); empty when every scheme is assessed."""
    out: list[str] = []
    bad = not_assessed(assessments)
    if any(a.scheme == reference_scheme for a in bad):
        out.append(f"The reference scheme {reference_scheme} is not assessed: no scheme is ranked.")
    for a in bad:
        out.append(f"{a.scheme} is not assessed (not ranked): {a.reason}.")
    return out


def kpi_warnings(assessments: Sequence[SchemeAssessment], reference_scheme: str | None = None) -> list[str]:
    """The warning lines of the draft and the GUI's banner: each scheme not assessed with its reason
    (:func:`not_assessed_warnings`), then the market slack per scheme (priced, shown, but not a reason to
    drop a scheme)."""
    out = not_assessed_warnings(assessments, reference_scheme)
    slack = [a for a in assessments if a.slack_energy_mwh > 1e-9]
    if slack:
        out.append(
            "Market slack (need left unserved, priced at the slack penalty): "
            + ", ".join(
                f"{a.scheme} {a.slack_energy_mwh:,.2f} MWh in {a.slack_clearings} clearing(s)"
                if a.slack_clearings
                else f"{a.scheme} {a.slack_energy_mwh:,.2f} MWh"
                for a in slack
            )
            + "."
        )
    return out
