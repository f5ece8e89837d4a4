"""Landing names who a breaking extract would break: the catalog's impact set once the catalog
exists (declared and hidden consumers, through models and columns), the declarations before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog.store import (
    CATALOG_DDL,
    CatalogTables,
    ColumnLineageRow,
    ColumnRow,
    ConsumerRow,
    DatasetRow,
    DeclaredReadRow,
    LineageRow,
    ObservedReadRow,
    RefreshRow,
    write_tables,
)
from pipelines.consumers import declared_consumers

SEEN = datetime(2026, 11, 1, tzinfo=UTC)


def _catalog(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(CATALOG_DDL)
    tables = CatalogTables(
        datasets=[
            DatasetRow(
                "sales.customers", "raw_sales.customers", "raw", "sales", "sales-eng", "sales@x", "private", "landed"
            ),
            DatasetRow(
                "sales_customers",
                "public.sales_customers",
                "public",
                "sales",
                "sales-eng",
                "sales@x",
                "public",
                "table",
            ),
        ],
        columns=[
            ColumnRow("sales.customers", "email", "VARCHAR", True),
            ColumnRow("sales.customers", "segment", "VARCHAR", False),
            ColumnRow("sales_customers", "email", "VARCHAR", True),
            ColumnRow("sales_customers", "segment", "VARCHAR", False),
        ],
        consumers=[
            ConsumerRow("crm_sync", "application", "CRM", "crm@x", "high", None, ("crm-bot",)),
            ConsumerRow("segment_report", "analysis", "BI", "bi@x", "low", None, ("bi-team",)),
        ],
        declared_reads=[
            DeclaredReadRow("crm_sync", "sales_customers", "email"),
            DeclaredReadRow("segment_report", "sales_customers", "segment"),
        ],
        observed_reads=[
            ObservedReadRow("bi-team", "segment_report", "sales_customers", "segment", "allowed", 3, 1, SEEN, SEEN),
            ObservedReadRow("growth-bot", None, "sales_customers", "email", "allowed", 9, 2, SEEN, SEEN),
        ],
        lineage=[LineageRow("sales.customers", "sales_customers", "dbt")],
        column_lineage=[
            ColumnLineageRow("sales.customers", "email", "sales_customers", "email", "projection"),
            ColumnLineageRow("sales.customers", "segment", "sales_customers", "segment", "projection"),
        ],
        refreshes=[RefreshRow(SEEN, None, 12, 3, 30, SEEN, 0, 0.1)],
    )
    write_tables(con, tables)


def test_declared_consumers_come_from_the_catalog_impact_with_hidden_readers(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _catalog(con)

    result = declared_consumers("sales.customers", ["email"], con=con)

    assert result == ["crm_sync (crm@x)", "principal growth-bot (no owner, hidden)"]


def test_declared_consumers_fall_back_to_declarations_without_a_catalog(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    consumers = tmp_path / "consumers.yml"
    consumers.write_text(
        "consumers:\n"
        "  - name: crm_sync\n    owner: {name: CRM, email: crm@x}\n"
        "    reads: [{dataset: sales.customers, columns: [email]}]\n"
        "  - name: segment_report\n    owner: {name: BI, email: bi@x}\n"
        "    reads: [{dataset: sales.customers, columns: [segment]}]\n"
    )

    result = declared_consumers("sales.customers", ["email"], path=consumers, con=con)

    assert result == ["crm_sync (crm@x)"]
