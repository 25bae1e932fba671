"""Price components (issue 16 item 6) on their way out of the market: the database rows (an older file
without the columns still opens, read as it is, and a writer adds them), the GUI's series and the
report's "Price components" sheet."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from openpyxl import Workbook

from coordstudio.cba.price_components import PriceComponentRow, PriceComponentTable
from coordstudio.cba.report_excel_prices import write_price_components
from coordstudio.simulation.db import (
    PRICE_COMPONENT_COLUMNS,
    ResultsWriter,
    has_price_components,
    open_read_only,
    read_table,
)
from coordstudio.simulation.recording.rows import price_components_of


def _old_database(path: Path) -> None:
    """A results file of before the components: one completed run whose ``prices`` table lacks their
    columns (written by today's writer, the columns then dropped as no older file had them)."""
    w = ResultsWriter(f"sqlite:///{path}", "CM", "fp", "old", "{}", columnar=False)  # rows, as then
    w.add("clearings", [{"clearing": 0, "time_min": 0.0, "status": "optimal", "activation_cost_eur": 1.0}])
    w.add("prices", [{"clearing": 0, "node": "n1", "step": 0, "price_eur_per_mwh": 42.0}])
    w.finish("completed", 1)
    w.engine.dispose()
    with sqlite3.connect(path) as conn:
        for col in PRICE_COMPONENT_COLUMNS:
            conn.execute(f"ALTER TABLE prices DROP COLUMN {col}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_an_older_database_opens_without_components_and_a_writer_adds_them(tmp_path: Path) -> None:
    from coordstudio.gui.series import load_series

    path = tmp_path / "old.sqlite"
    _old_database(path)
    url = f"sqlite:///{path}"
    before = path.read_bytes()
    engine = open_read_only(url)
    with engine.connect() as conn:
        assert not has_price_components(conn)
    engine.dispose()
    series = load_series(url)
    assert not series.error and series.prices["price_eur_per_mwh"].tolist() == [42.0]
    assert "energy_eur_per_mwh" not in series.prices.columns
    assert path.read_bytes() == before  # read as it is
    w = ResultsWriter(url, "CMS", "fp", "old", "{}")
    row = {"clearing": 0, "node": "n1", "step": 0, "price_eur_per_mwh": 50.0}
    row.update(dict(zip(PRICE_COMPONENT_COLUMNS, (40.0, 5.0, 3.0, 0.0, 2.0), strict=True)))
    w.add("prices", [row])
    w.finish("completed", 1)
    engine = open_read_only(url)
    with engine.connect() as conn:
        assert has_price_components(conn)
        got = read_table(conn, "prices")  # the old file's row and the new writer's chunk
    engine.dispose()
    assert got["energy_eur_per_mwh"].isna().tolist() == [True, False]  # the old row: NULL
    assert got.loc[1, list(PRICE_COMPONENT_COLUMNS)].sum() == got.loc[1, "price_eur_per_mwh"]


def test_rows_carry_the_components_of_a_market_result() -> None:
    prices = pd.DataFrame(
        {
            "node": ["a", "b"],
            "step": [0, 0],
            "price_eur_per_mwh": [10.0, np.nan],
            **{c: [2.0, np.nan] for c in PRICE_COMPONENT_COLUMNS},
        }
    )
    comps = price_components_of(SimpleNamespace(prices=prices))
    assert comps[("a", 0)] == (2.0,) * 5 and comps[("b", 0)] == (None,) * 5
    assert price_components_of(SimpleNamespace(prices=prices[["node", "step", "price_eur_per_mwh"]])) == {}


def test_the_report_sheet_lists_schemes_then_nodes() -> None:
    def row(scheme: str, node: str, e: float, c: float) -> PriceComponentRow:
        return PriceComponentRow(
            scheme=scheme,
            node=node,
            price_eur_per_mwh=e + c,
            energy_eur_per_mwh=e,
            congestion_eur_per_mwh=c,
            losses_eur_per_mwh=0.0,
            current_eur_per_mwh=0.0,
            voltage_eur_per_mwh=0.0,
            n_values=3,
        )

    table = PriceComponentTable(
        rows=[row("CMS", "", 50, 0), row("CMS", "n1", 50, 0), row("CM", "", 50, 4), row("CM", "n1", 50, 4)],
        source="test.sqlite",
    )
    wb = Workbook()
    ws = wb.active
    write_price_components(ws, table)
    cells = [[c.value for c in r] for r in ws.iter_rows(min_row=1, max_col=9)]
    scheme_rows = [r for r in cells if r[1] == "(all nodes)"]
    assert [r[0] for r in scheme_rows] == ["CMS", "CM"] and scheme_rows[1][2:5] == [54, 50, 4]
    node_rows = [r for r in cells if r[1] == "n1"]
    assert [r[0] for r in node_rows] == ["CMS", "CM"]
    assert len(ws._charts) == 1
