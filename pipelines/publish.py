"""Publish the serving snapshot readers use (DESIGN.md, guarantee 5).

The reporting schemas are copied into a new DuckDB file next to the warehouse, which then
replaces `serving.duckdb` with one atomic rename. A reader never opens the warehouse, never
waits for a build, and sees either the previous snapshot or the new one, whole.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

from pipelines.checks import quote_ident
from pipelines.home import Home
from pipelines.warehouse import connect

PUBLISHED_SCHEMAS = ("public", "marts", "catalog")


@dataclass
class Publication:
    path: str
    tables: dict[str, int] = field(default_factory=dict)  # schema.table -> rows
    seconds: float = 0.0


def publish(home: Home, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> Publication:
    started = time.perf_counter()
    staging = home.root / f".serving-{uuid.uuid4().hex}.duckdb"
    result = Publication(str(home.serving))
    con = connect(home.warehouse)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        con.execute(f"ATTACH '{staging}' AS serving_next")
        for schema in sorted({s for s, _ in tables}):
            con.execute(f"CREATE SCHEMA serving_next.{quote_ident(schema)}")
        for schema, table in tables:
            name = f"{quote_ident(schema)}.{quote_ident(table)}"
            con.execute(f"CREATE TABLE serving_next.{name} AS SELECT * FROM {name}")
            result.tables[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM serving_next.{name}").fetchone()[0]  # type: ignore[index]
        con.execute(
            "CREATE TABLE serving_next.main.publication AS SELECT now() AS published_at, ? AS tables",
            [len(tables)],
        )
        con.execute("DETACH serving_next")
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(staging, home.serving)  # atomic: readers see the old file or the new one
    for leftover in home.root.glob(".serving-*.duckdb.wal"):
        leftover.unlink(missing_ok=True)
    result.seconds = time.perf_counter() - started
    return result
