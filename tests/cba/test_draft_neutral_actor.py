"""An actor's business-case label follows the NPV the draft prints (issue 17 item 3).

The default study's draft had ``| DER owners | -0.00 M EUR | 0.00 M EUR | -0.00 M EUR | negative |``: the
label used a 1e-6 EUR threshold, the figure was rounded to 0.01 M EUR. Now both follow
``cba.allocation.business_case`` (neutral when the NPV rounds to 0.00 M EUR). The NPV injected below,
-1,826.65 EUR, is the default study's LMS DER owners' NPV (``/tmp/baseline/cba_result.json`` of main
3e335d2); the expected rows are written by hand from the rounding rule.
"""

from __future__ import annotations

import pytest
from cba_fixtures import make_ict, make_kpis, make_params

from coordstudio.cba.allocation import NEUTRAL_EUR, ActorResult, business_case
from coordstudio.cba.analysis import run_cba
from coordstudio.cba.recommendations import build_document, render_markdown


@pytest.mark.parametrize(
    ("npv_eur", "label"),
    [(0.0, "neutral"), (-1826.65, "neutral"), (4999.0, "neutral"), (-4999.999, "neutral"),
     (-5001.0, "negative"), (5001.0, "positive"), (-9.37e6, "negative")],
)
def test_the_label_is_neutral_exactly_when_the_npv_prints_as_zero(npv_eur: float, label: str) -> None:
    assert business_case(npv_eur) == label
    assert (abs(npv_eur) < NEUTRAL_EUR) == (label == "neutral")


def test_the_draft_labels_a_minus_zero_npv_neutral_and_prints_it_as_zero() -> None:
    params, kpis, ict = make_params(monte_carlo_samples=200), make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    subject = result.ranking[0] if result.ranking[0] != params.reference_scheme else result.ranking[1]
    tiny = ActorResult(scheme=subject, actor="der_owner", pv_benefits_eur=-1826.65, pv_costs_eur=0.0,
                       npv_eur=-1826.65, business_case=business_case(-1826.65))
    loser = ActorResult(scheme=subject, actor="consumer", pv_benefits_eur=0.0, pv_costs_eur=12_000.0,
                        npv_eur=-12_000.0, business_case=business_case(-12_000.0))
    actors = [a for a in result.actors if not (a.scheme == subject and a.actor in ("der_owner", "consumer"))]
    result = result.model_copy(update={"actors": [*actors, tiny, loser]})
    md = render_markdown(build_document(params, kpis, ict, result))
    section = md.split("Business cases per actor in", 1)[1].split("\n## ", 1)[0]
    assert "| DER owners | 0.00 M EUR | 0.00 M EUR | 0.00 M EUR | neutral |" in section
    assert "| Consumers | 0.00 M EUR | 0.01 M EUR | -0.01 M EUR | negative |" in section
    assert "-0.00 M EUR" not in md
    # every row of the table: "neutral" exactly where the printed NPV is 0.00 M EUR
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ") and "M EUR" in line]
    assert rows
    for cells in rows:
        npv, label = cells[3].strip(), cells[4].strip()
        assert (npv == "0.00 M EUR") == (label == "neutral"), cells
    # the losers' sentence names the consumers (-0.01 M EUR), not the DER owners (0.00 M EUR)
    losers = [line for line in section.splitlines() if "have no business case" in line]
    assert len(losers) == 1 and "Consumers" in losers[0] and "DER owners" not in losers[0]
