"""Rebuild the catalog: declarations + manifest + warehouse + query log → `catalog.*`.

`refresh_catalog(home)` is `agora catalog refresh`: it opens the warehouse read-write (one
writer at a time; a busy warehouse is the usual one-line error), lands the query log first, and
rewrites every catalog table in one transaction. `refresh_with(con, home, manifest)` does the
same on a connection somebody else holds (the Dagster catalog asset). Declarations are checked
before anything is written: an inconsistent consumers.yml fails the refresh and leaves the
previous catalog in place.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog.access import manifest_path
from catalog.findings import Window, derive_findings
from catalog.inventory import (
    add_lineage,
    build_datasets,
    compiled_lineage,
    dagster_lineage,
    dbt_lineage,
    has_compiled_sql,
    read_warehouse,
    schema_hash,
)
from catalog.store import (
    CatalogTables,
    ConsumerRow,
    DeclaredReadRow,
    RefreshRow,
    has_catalog,
    read_tables,
    write_tables,
)
from catalog.usage import DEFAULT_WINDOW_DAYS, observe, read_log
from catalog.validate import Declarations, load_declarations, validate
from pipelines.errors import AgoraError
from pipelines.home import Home
from pipelines.load_query_log import QueryLogLoad

log = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    manifest: str
    datasets: int = 0
    lineage_edges: int = 0
    column_edges: int = 0
    log_entries: int = 0
    shapes: int = 0
    shapes_parsed: int = 0  # parsed by this refresh; the rest came from catalog.query_shapes
    findings: dict[str, int] = field(default_factory=dict)  # kind → count
    problems: list[str] = field(default_factory=list)  # SQL the catalog could not read, and why
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # step → seconds
    query_log: QueryLogLoad | None = None

    def summary(self) -> str:
        """One line for a log: what was rebuilt and what was found."""
        found = ", ".join(f"{self.findings.get(k, 0)} {k}" for k in ("hidden", "stale", "bypass", "unowned"))
        return (
            f"catalog refreshed in {self.seconds:.1f} s: {self.datasets} datasets, {self.lineage_edges} lineage "
            f"edges, {self.column_edges} column edges; {self.log_entries:,} log entries in {self.shapes} shapes "
            f"({self.shapes_parsed} parsed now); findings: {found}"
        )

    def _counts(self) -> dict[str, object]:
        return {
            "datasets": self.datasets,
            "lineage_edges": self.lineage_edges,
            "column_edges": self.column_edges,
            "log_entries": self.log_entries,
            "shapes": self.shapes,
            "shapes_parsed": self.shapes_parsed,
        }

    def metadata(self) -> dict[str, object]:
        """Flat values for a Dagster materialization (numbers and short text)."""
        return {
            **self._counts(),
            **{f"findings_{k}": self.findings.get(k, 0) for k in ("hidden", "stale", "bypass", "unowned")},
            "problems": len(self.problems),
            **({"problem_list": "\n".join(self.problems[:50])} if self.problems else {}),
            "seconds": round(self.seconds, 3),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "manifest": self.manifest,
            **self._counts(),
            "findings": self.findings,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _read_manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_manifest(home: Home, compile_if_needed: bool = True) -> tuple[dict, Path]:
    """The home's dbt manifest; compiled first when it lacks compiled SQL (column lineage and
    hard-coded relations need it). Runs dbt, so call it before opening the warehouse."""
    path = manifest_path(home)
    if not path.exists():
        raise AgoraError(f"no dbt manifest at {path}: run `agora run` first")
    manifest = _read_manifest(path)
    if compile_if_needed and not has_compiled_sql(manifest):
        from pipelines.transform import dbt_target, run_dbt

        log.info("the manifest has no compiled SQL; running dbt compile")
        run_dbt(home, "compile")
        path = dbt_target(home) / "manifest.json"
        manifest = _read_manifest(path)
    return manifest, path


def _require_warehouse(home: Home) -> None:
    default = str(home.root / "warehouse.duckdb")
    if home.warehouse == default and not Path(default).exists():
        raise AgoraError(f"no warehouse in {home.root}: run `agora run` (or `agora demo`) first")


def refresh_catalog(
    home: Home,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    declarations_dir: Path | None = None,
    compile_if_needed: bool = True,
) -> RefreshResult:
    """`agora catalog refresh`: land the query log, then rebuild every catalog table."""
    from pipelines.load_query_log import load_query_log
    from pipelines.warehouse import connect

    _require_warehouse(home)
    connect(home.warehouse).close()  # busy? say so now, not as a failed dbt compile
    manifest, path = load_manifest(home, compile_if_needed)
    con = connect(home.warehouse)
    try:
        loaded = load_query_log(con, home)
        result = refresh_with(
            con, home, manifest, window_days=window_days, declarations_dir=declarations_dir, manifest_name=str(path)
        )
    finally:
        con.close()
    result.query_log = loaded
    return result


def declared_rows(declarations: Declarations) -> tuple[list[ConsumerRow], list[DeclaredReadRow]]:
    consumers, reads = [], []
    for consumer in declarations.consumers:
        consumers.append(
            ConsumerRow(
                consumer=consumer.name,
                type=consumer.type,
                owner_name=consumer.owner_name,
                owner_email=consumer.owner_email,
                maturity=consumer.maturity,
                url=consumer.url or None,
                principals=declarations.principals_of(consumer.name),
            )
        )
        for read in consumer.reads:
            for column in read.columns or (None,):
                reads.append(DeclaredReadRow(consumer.name, read.dataset, column))
    return consumers, reads


def refresh_with(
    con: duckdb.DuckDBPyConnection,
    home: Home,
    manifest: dict | Path | None = None,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    declarations_dir: Path | None = None,
    manifest_name: str | None = None,
) -> RefreshResult:
    """Rebuild `catalog.*` through an open read-write connection (the query log must already be
    landed). `manifest` is the parsed manifest or its path (default: the home's)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    step = started

    def lap(name: str) -> None:
        nonlocal step
        now = time.perf_counter()
        timings[name] = now - step
        step = now

    if isinstance(manifest, dict):
        doc = manifest
    else:
        path = manifest or manifest_path(home)
        manifest_name = manifest_name or str(path)
        doc = _read_manifest(path)
    declarations = load_declarations(doc, declarations_dir)
    warehouse = read_warehouse(con)
    inventory = build_datasets(doc, warehouse, declarations.owners)
    validate(declarations, inventory)
    lap("declarations")
    schema = warehouse.schema()
    by_relation = inventory.by_relation()
    sql_edges, column_rows, problems = compiled_lineage(doc, schema, by_relation)
    add_lineage(inventory, [*dbt_lineage(doc), *sql_edges, *dagster_lineage(doc)], column_rows, problems)
    lap("lineage")
    summary = read_log(con, window_days)
    cache = read_tables(con, only=("query_shapes",)).query_shapes if has_catalog(con) else []
    shape_hash = schema_hash(schema, by_relation)
    usage = observe(summary, cache, schema, shape_hash, by_relation, declarations.consumer_of)
    lap("usage")
    end = summary.window_end.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if summary.window_end else None
    window = Window(window_days, end)
    findings = derive_findings(usage.uses, inventory.lineage, inventory.datasets, declarations, window)
    lap("findings")
    consumers, declared = declared_rows(declarations)
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    refresh = RefreshRow(
        refreshed_at=datetime.now(UTC),
        manifest=manifest_name,
        log_entries=summary.entries,
        shapes=len(usage.shapes),
        window_days=window_days,
        window_end=summary.window_end,
        findings=len(findings),
        seconds=time.perf_counter() - started,
    )
    tables = CatalogTables(
        datasets=sorted(inventory.datasets.values(), key=lambda d: d.dataset),
        columns=inventory.columns,
        consumers=consumers,
        declared_reads=declared,
        observed_reads=usage.observed,
        lineage=inventory.lineage,
        column_lineage=inventory.column_lineage,
        query_shapes=usage.shapes,
        findings=findings,
        refreshes=[refresh],
    )
    write_tables(con, tables)
    lap("write")
    for problem in [*inventory.problems, *usage.problems]:  # the caller shows them (CLI, Dagster metadata)
        log.info("catalog: %s", problem)
    return RefreshResult(
        manifest=manifest_name or "",
        datasets=len(inventory.datasets),
        lineage_edges=len(inventory.lineage),
        column_edges=len(inventory.column_lineage),
        log_entries=summary.entries,
        shapes=len(usage.shapes),
        shapes_parsed=usage.parsed,
        findings=counts,
        problems=[*inventory.problems, *usage.problems],
        seconds=time.perf_counter() - started,
        timings=timings,
    )
