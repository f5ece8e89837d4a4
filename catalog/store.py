"""The catalog's tables (`catalog.*`): what analysts query in SQL, what the report, the Dagster
checks and `agora catalog …` read. One refresh rewrites all of them in one transaction.

Names: a dataset is a dbt model's name (`order_to_cash`, `stg_sales__orders_placed`) or a landed
dataset `<domain>.<table>` (`sales.events`, `sales.customers`; relation `raw_<domain>.<table>`).
A column of NULL means "the whole dataset" (a table-level read or a declaration without columns);
a `downstream_column` of '*' in column lineage means the column shapes every row of the
downstream dataset (it is used in a WHERE, JOIN, GROUP BY, window …), not one output column.

Below the DDL: one dataclass per table (fields = the table's columns), `write_tables` (one
transaction per refresh) and `read_tables` (from the warehouse or the serving snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

import duckdb

from pipelines.warehouse import transaction

CATALOG_DDL = """
CREATE SCHEMA IF NOT EXISTS catalog;
CREATE TABLE IF NOT EXISTS catalog.datasets (
    dataset VARCHAR NOT NULL PRIMARY KEY,  -- model name, or <domain>.<table> for landed data
    relation VARCHAR,                      -- schema.table in the warehouse (NULL: not materialised)
    layer VARCHAR NOT NULL,                -- raw | staging | intermediate | public | marts | other
    domain VARCHAR,                        -- owning domain (dbt group); NULL = unowned
    owner_team VARCHAR,
    owner_contact VARCHAR,
    access VARCHAR NOT NULL,               -- public | private
    materialized VARCHAR,                  -- table | view | incremental | ephemeral | landed
    description VARCHAR
);
CREATE TABLE IF NOT EXISTS catalog.columns (
    dataset VARCHAR NOT NULL,
    "column" VARCHAR NOT NULL,
    data_type VARCHAR,
    pii BOOLEAN NOT NULL,
    description VARCHAR
);
CREATE TABLE IF NOT EXISTS catalog.consumers (
    consumer VARCHAR NOT NULL PRIMARY KEY,
    type VARCHAR,
    owner_name VARCHAR NOT NULL,
    owner_email VARCHAR NOT NULL,
    maturity VARCHAR,
    url VARCHAR,
    principals VARCHAR[] NOT NULL          -- access.yml principals that act for it
);
CREATE TABLE IF NOT EXISTS catalog.declared_reads (
    consumer VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    "column" VARCHAR                       -- NULL: the whole dataset
);
CREATE TABLE IF NOT EXISTS catalog.observed_reads (
    principal VARCHAR NOT NULL,
    consumer VARCHAR,                      -- NULL: the principal acts for no consumer
    dataset VARCHAR NOT NULL,
    "column" VARCHAR,                      -- NULL: the table-level read
    decision VARCHAR NOT NULL,             -- allowed | refused | failed
    queries BIGINT NOT NULL,               -- log entries
    shapes BIGINT NOT NULL,                -- distinct query fingerprints
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog.lineage (
    upstream VARCHAR NOT NULL,
    downstream VARCHAR NOT NULL,
    via VARCHAR NOT NULL                   -- dbt | dagster | sql (a relation named in compiled SQL, not ref/source)
);
CREATE TABLE IF NOT EXISTS catalog.column_lineage (
    upstream VARCHAR NOT NULL,
    upstream_column VARCHAR NOT NULL,
    downstream VARCHAR NOT NULL,
    downstream_column VARCHAR NOT NULL,    -- '*': shapes every row (filter, join, group, window …)
    role VARCHAR NOT NULL                  -- projection | filter | join | group | order | window | having
);
CREATE TABLE IF NOT EXISTS catalog.query_shapes (
    fingerprint VARCHAR NOT NULL PRIMARY KEY,
    example_sql VARCHAR NOT NULL,
    queries BIGINT NOT NULL,
    principals VARCHAR[] NOT NULL,
    datasets VARCHAR[] NOT NULL,
    parsed BOOLEAN NOT NULL,
    error VARCHAR,
    "columns" VARCHAR[] NOT NULL,          -- 'dataset.column' read (the parse cache keeps them)
    schema_hash VARCHAR NOT NULL           -- the schema it was parsed against; another one re-parses
);
CREATE TABLE IF NOT EXISTS catalog.findings (
    kind VARCHAR NOT NULL,                 -- hidden | stale | bypass | unowned
    severity VARCHAR NOT NULL,             -- warn | error
    dataset VARCHAR NOT NULL,
    "column" VARCHAR,
    consumer VARCHAR,
    principal VARCHAR,
    model VARCHAR,                         -- bypass inside dbt: the reading model
    notify VARCHAR,                        -- who to tell: owner contact(s)
    detail VARCHAR NOT NULL,               -- one sentence a person understands
    evidence VARCHAR                       -- a fingerprint, a model, a declaration
);
CREATE TABLE IF NOT EXISTS catalog.refreshes (
    refreshed_at TIMESTAMPTZ NOT NULL,
    manifest VARCHAR,
    log_entries BIGINT NOT NULL,
    shapes BIGINT NOT NULL,
    window_days INTEGER NOT NULL,
    window_end TIMESTAMPTZ,
    findings BIGINT NOT NULL,
    seconds DOUBLE NOT NULL
);
"""

CATALOG_TABLES = (
    "datasets",
    "columns",
    "consumers",
    "declared_reads",
    "observed_reads",
    "lineage",
    "column_lineage",
    "query_shapes",
    "findings",
    "refreshes",
)

# The rows of each table, one dataclass per table with the table's column names as fields, so
# a row is written and read back by name. Pure values: the logic that derives them never opens
# a database, and `impact()` and the CLI work from rows read back from any copy of the tables.


@dataclass(frozen=True)
class DatasetRow:
    dataset: str
    relation: str | None
    layer: str
    domain: str | None
    owner_team: str | None
    owner_contact: str | None
    access: str
    materialized: str | None
    description: str | None = None


@dataclass(frozen=True)
class ColumnRow:
    dataset: str
    column: str
    data_type: str | None
    pii: bool
    description: str | None = None


@dataclass(frozen=True)
class ConsumerRow:
    consumer: str
    type: str | None
    owner_name: str
    owner_email: str
    maturity: str | None
    url: str | None
    principals: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeclaredReadRow:
    consumer: str
    dataset: str
    column: str | None


@dataclass(frozen=True)
class ObservedReadRow:
    principal: str
    consumer: str | None
    dataset: str
    column: str | None
    decision: str
    queries: int
    shapes: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class LineageRow:
    upstream: str
    downstream: str
    via: str


@dataclass(frozen=True)
class ColumnLineageRow:
    upstream: str
    upstream_column: str
    downstream: str
    downstream_column: str
    role: str


@dataclass(frozen=True)
class ShapeRow:
    fingerprint: str
    example_sql: str
    queries: int
    principals: tuple[str, ...]
    datasets: tuple[str, ...]
    parsed: bool
    error: str | None
    columns: tuple[str, ...]
    schema_hash: str


@dataclass(frozen=True)
class FindingRow:
    kind: str
    severity: str
    dataset: str
    column: str | None = None
    consumer: str | None = None
    principal: str | None = None
    model: str | None = None
    notify: str | None = None
    detail: str = ""
    evidence: str | None = None


@dataclass(frozen=True)
class RefreshRow:
    refreshed_at: datetime
    manifest: str | None
    log_entries: int
    shapes: int
    window_days: int
    window_end: datetime | None
    findings: int
    seconds: float


@dataclass
class CatalogTables:
    """Every `catalog.*` table as rows: what one refresh writes, or what a reader read back."""

    datasets: list[DatasetRow] = field(default_factory=list)
    columns: list[ColumnRow] = field(default_factory=list)
    consumers: list[ConsumerRow] = field(default_factory=list)
    declared_reads: list[DeclaredReadRow] = field(default_factory=list)
    observed_reads: list[ObservedReadRow] = field(default_factory=list)
    lineage: list[LineageRow] = field(default_factory=list)
    column_lineage: list[ColumnLineageRow] = field(default_factory=list)
    query_shapes: list[ShapeRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    refreshes: list[RefreshRow] = field(default_factory=list)


ROW_TYPES: dict[str, type] = {
    "datasets": DatasetRow,
    "columns": ColumnRow,
    "consumers": ConsumerRow,
    "declared_reads": DeclaredReadRow,
    "observed_reads": ObservedReadRow,
    "lineage": LineageRow,
    "column_lineage": ColumnLineageRow,
    "query_shapes": ShapeRow,
    "findings": FindingRow,
    "refreshes": RefreshRow,
}

# Derived tables are dropped and recreated by each refresh (so a column added to the DDL
# reaches old warehouses); the refresh history is appended to.
REWRITTEN_TABLES = tuple(t for t in CATALOG_TABLES if t != "refreshes")


def _column_names(row_type: type) -> list[str]:
    return [f.name for f in fields(row_type)]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def write_tables(con: duckdb.DuckDBPyConnection, tables: CatalogTables) -> None:
    """Replace every derived `catalog.*` table and append the refresh row, in one transaction:
    a reader (or the next publish) sees the old catalog or the new one, never a mix."""
    import pyarrow as pa

    with transaction(con):
        for table in REWRITTEN_TABLES:
            con.execute(f"DROP TABLE IF EXISTS catalog.{table}")
        con.execute(CATALOG_DDL)
        for table in CATALOG_TABLES:
            rows = getattr(tables, table)
            if not rows:
                continue
            names = _column_names(ROW_TYPES[table])
            data = pa.Table.from_pylist([_as_record(row, names) for row in rows])
            con.register("catalog_rows", data)
            try:
                con.execute(f"INSERT INTO catalog.{table} ({_quoted(names)}) SELECT {_quoted(names)} FROM catalog_rows")
            finally:
                con.unregister("catalog_rows")


def _as_record(row: object, names: list[str]) -> dict[str, object]:
    record = {}
    for name in names:
        value = getattr(row, name)
        record[name] = list(value) if isinstance(value, tuple) else value
    return record


def has_catalog(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database holds catalog tables (a snapshot published before any refresh does not)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'catalog' AND table_name = 'findings'"
    ).fetchone()
    return bool(found and found[0])


def read_tables(con: duckdb.DuckDBPyConnection, only: tuple[str, ...] = CATALOG_TABLES) -> CatalogTables:
    """Read `catalog.*` back into rows (from the warehouse or any snapshot that holds them).
    A column the reader's DDL lacks (an older snapshot) reads as the field's default or NULL."""
    result = CatalogTables()
    for table in only:
        row_type = ROW_TYPES[table]
        present = {
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = 'catalog' AND table_name = ?",
                [table],
            ).fetchall()
        }
        if not present:
            continue
        names = [n for n in _column_names(row_type) if n in present]
        rows = con.execute(f"SELECT {_quoted(names)} FROM catalog.{table}").fetchall()
        setattr(result, table, [row_type(**_from_record(dict(zip(names, row, strict=True)), row_type)) for row in rows])
    return result


def _from_record(record: dict[str, object], row_type: type) -> dict[str, object]:
    for f in fields(row_type):
        if f.name not in record:
            record[f.name] = () if "tuple" in str(f.type) else None
        elif isinstance(record[f.name], list):
            record[f.name] = tuple(record[f.name])  # type: ignore[arg-type]
    return record
