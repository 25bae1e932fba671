"""The GUI's price chart shows the price components (issue 16 item 6): the selector picks a component
or stacks them per scheme / per node; a database written before the components says so."""

from __future__ import annotations

from typing import Any

import pandas as pd

from coordstudio.gui.series import RunSeries
from coordstudio.gui.views.timeseries import PRICE_COMPONENTS, STACKED, TimeSeriesPanel


def _series(with_components: bool) -> RunSeries:
    clearings = pd.DataFrame(
        {
            "run_id": [1, 1, 2, 2],
            "clearing": [0, 1, 0, 1],
            "time_min": [0.0, 60.0, 0.0, 60.0],
            "activation_cost_eur": [1.0, 2.0, 1.0, 2.0],
            "slack_energy_mwh": [0.0] * 4,
            "n_activated": [1] * 4,
            "scheme": ["CMS", "CMS", "CM", "CM"],
        }
    )
    rows = []
    for scheme in ("CMS", "CM"):
        for t in (0.0, 60.0):
            for node, volt in (("t1", 0.0), ("F2:3", 5.0 if scheme == "CM" else 0.0)):
                row = {"scheme": scheme, "time_min": t, "node": node, "price_eur_per_mwh": 40.0 + volt}
                if with_components:
                    row.update({f"{c}_eur_per_mwh": 0.0 for c in PRICE_COMPONENTS})
                    row.update(energy_eur_per_mwh=40.0, voltage_eur_per_mwh=volt)
                rows.append(row)
    return RunSeries(
        clearings=clearings,
        prices=pd.DataFrame(rows),
        activations=pd.DataFrame(columns=["scheme", "time_min", "activation_mw"]),
        measurements=pd.DataFrame(columns=["scheme", "time_min", "node", "vm_pu"]),
    )


def test_the_component_selector_stacks_and_maps(qtbot: Any) -> None:
    panel = TimeSeriesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_series(_series(True))
    panel.price_part.setCurrentIndex(panel.price_part.findData(STACKED))
    assert "Price components: day mean per scheme" in panel.price_chart.title_label.text()
    panel.price_mode.setCurrentIndex(panel.price_mode.findData("CM"))
    assert "Price components of CM: every node" in panel.price_chart.title_label.text()
    panel.price_part.setCurrentIndex(panel.price_part.findData("voltage"))
    assert "voltage component of the nodal prices of CM" in panel.price_chart.title_label.text()


def test_an_older_database_says_it_has_no_components(qtbot: Any) -> None:
    panel = TimeSeriesPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_series(_series(False))
    panel.price_part.setCurrentIndex(panel.price_part.findData("congestion"))
    texts = [t.get_text() for t in panel.price_chart.figure.texts]
    assert any("no price components" in t for t in texts)
