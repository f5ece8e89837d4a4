"""Observed structure: which datasets exist, who owns them, and what feeds what.

Three sources, compared rather than trusted alone:
- the dbt manifest: models (group → domain, access, materialisation), sources (landed datasets
  `<domain>.<table>`), documented columns with their PII meta, and `depends_on` edges (via='dbt');
- the warehouse itself (`duckdb_columns()`, `duckdb_views()`): what really exists, with types —
  a relation no model or source describes is unowned;
- the compiled SQL of each model, parsed with `catalog.sql_reads`: column lineage, and relations
  named in the SQL that dbt does not list as dependencies (via='sql': a hard-coded name that
  bypasses `ref()`/`source()` and so every access check dbt makes).
Dagster adds what dbt lacks: the landing step feeding each landed dataset and the publish step
reading the served models (via='dagster'; derived from the same contracts and manifest the
Dagster definitions are built from, so no Dagster import is needed here).

Only `read_warehouse` touches a database; everything else is a function of its inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb

from catalog.sql_reads import ColumnEdge, Reads, Schema, column_lineage, reads
from catalog.store import ColumnLineageRow, ColumnRow, DatasetRow, LineageRow

LAYERS = ("staging", "intermediate", "public", "marts")
# Schemas that hold bookkeeping, not shared data: never datasets, never "unowned".
NOT_DATA_SCHEMAS = frozenset({"ops", "quarantine", "catalog", "information_schema", "pg_catalog"})
# Unqualified names in analysts' queries resolve like the gateway resolves them: served schemas
# first, then the private layers (a query naming a staging model is still a read of it).
SEARCH_PATH = ("marts", "public", "catalog", "staging", "intermediate", "main")
SERVING_NODE = "serving"


@dataclass(frozen=True)
class Owner:
    team: str
    contact: str


@dataclass(frozen=True)
class Warehouse:
    """What the warehouse holds: relation ('schema.table', lower-case) → ((column, type), …)."""

    relations: dict[str, tuple[tuple[str, str], ...]]
    views: dict[str, str] = field(default_factory=dict)
    database: str = "warehouse"  # the name compiled SQL qualifies relations with

    def schema(self, search_path: tuple[str, ...] = SEARCH_PATH) -> Schema:
        defaults = Schema(relations={}).databases
        return Schema(
            relations={r: tuple(c.lower() for c, _ in cols) for r, cols in self.relations.items()},
            views=dict(self.views),
            search_path=search_path,
            databases=tuple(dict.fromkeys((self.database.lower(), *defaults))),
        )


@dataclass
class Inventory:
    datasets: dict[str, DatasetRow]
    columns: list[ColumnRow]
    lineage: list[LineageRow] = field(default_factory=list)
    column_lineage: list[ColumnLineageRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # models whose SQL could not be read, and why

    def by_relation(self) -> dict[str, str]:
        """'schema.table' (lower-case) → dataset name."""
        return {d.relation.lower(): d.dataset for d in self.datasets.values() if d.relation}

    def columns_of(self) -> dict[str, tuple[str, ...]]:
        result: dict[str, list[str]] = {}
        for column in self.columns:
            result.setdefault(column.dataset, []).append(column.column)
        return {d: tuple(c) for d, c in result.items()}


def read_warehouse(con: duckdb.DuckDBPyConnection) -> Warehouse:
    """Every relation of the connection's current database with its columns, and view bodies."""
    relations: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal "
        "ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        relations.setdefault(f"{schema}.{table}".lower(), []).append((column, dtype))
    views = {
        f"{schema}.{name}".lower(): sql
        for schema, name, sql in con.execute(
            "SELECT schema_name, view_name, sql FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal"
        ).fetchall()
    }
    database = con.execute("SELECT current_database()").fetchone()
    return Warehouse({r: tuple(c) for r, c in relations.items()}, views, str(database[0]) if database else "warehouse")


def schema_hash(schema: Schema, by_relation: dict[str, str]) -> str:
    """Identifies what a query shape's parse depends on: relations, columns, views, search path
    and the relation → dataset names. A cached parse is reused only under the same hash."""

    def served(name: str) -> bool:  # bookkeeping (and the catalog itself) hold no dataset
        return name.split(".", 1)[0] not in NOT_DATA_SCHEMAS

    doc = [
        sorted(i for i in schema.relations.items() if served(i[0])),
        sorted(i for i in schema.views.items() if served(i[0])),
        schema.search_path,
        sorted(by_relation.items()),
    ]
    return hashlib.sha256(json.dumps(doc, default=list).encode()).hexdigest()[:16]


def landed_name(source: dict) -> str:
    """`<domain>.<table>` of a dbt source (sources are named raw_<domain>)."""
    domain = (source.get("meta") or {}).get("domain") or str(source["source_name"]).removeprefix("raw_")
    return f"{domain}.{source['name']}"


def _layer_of_schema(schema: str) -> str:
    if schema.startswith("raw_"):
        return "raw"
    return schema if schema in LAYERS else "other"


def _is_pii(column: dict) -> bool:
    meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
    return bool(meta.get("pii"))


def node_names(manifest: dict) -> dict[str, str]:
    """dbt unique_id → dataset name, for models and sources."""
    names = {uid: n["name"] for uid, n in manifest.get("nodes", {}).items() if n.get("resource_type") == "model"}
    names.update({uid: landed_name(s) for uid, s in manifest.get("sources", {}).items()})
    return names


def _model_row(node: dict, owners: dict[str, Owner]) -> DatasetRow:
    materialized = (node.get("config") or {}).get("materialized")
    fqn = node.get("fqn") or []
    layer = fqn[1] if len(fqn) > 2 and fqn[1] in LAYERS else "other"
    domain = node.get("group")
    owner = owners.get(domain) if domain else None
    relation = None if materialized == "ephemeral" else f"{node['schema']}.{node.get('alias') or node['name']}"
    return DatasetRow(
        dataset=node["name"],
        relation=relation.lower() if relation else None,
        layer=layer,
        domain=domain,
        owner_team=owner.team if owner else None,
        owner_contact=owner.contact if owner else None,
        access="public" if node.get("access") == "public" else "private",
        materialized=materialized,
        description=node.get("description") or None,
    )


def _source_row(source: dict, owners: dict[str, Owner]) -> DatasetRow:
    name = landed_name(source)
    domain = name.split(".", 1)[0]
    owner = owners.get(domain)
    return DatasetRow(
        dataset=name,
        relation=f"{source['schema']}.{source.get('identifier') or source['name']}".lower(),
        layer="raw",
        domain=domain,
        owner_team=owner.team if owner else None,
        owner_contact=owner.contact if owner else None,
        access="private",
        materialized="landed",
        description=source.get("description") or None,
    )


def _columns(dataset: str, documented: dict, observed: tuple[tuple[str, str], ...]) -> list[ColumnRow]:
    """Warehouse columns in their order (types from the warehouse), then documented-only ones."""
    by_lower = {name.lower(): c for name, c in documented.items()}
    rows = []
    for name, dtype in observed:
        doc = by_lower.pop(name.lower(), {})
        rows.append(ColumnRow(dataset, name, dtype, _is_pii(doc), doc.get("description") or None))
    for name, doc in by_lower.items():
        rows.append(
            ColumnRow(
                dataset,
                doc.get("name") or name,
                doc.get("data_type") or None,
                _is_pii(doc),
                doc.get("description") or None,
            )
        )
    return rows


def build_datasets(manifest: dict, warehouse: Warehouse, owners: dict[str, Owner]) -> Inventory:
    """Datasets and columns from the manifest and the warehouse (no lineage yet)."""
    datasets: dict[str, DatasetRow] = {}
    documented: dict[str, dict] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model":
            datasets[node["name"]] = _model_row(node, owners)
            documented[node["name"]] = node.get("columns") or {}
    for source in manifest.get("sources", {}).values():
        row = _source_row(source, owners)
        datasets[row.dataset] = row
        documented[row.dataset] = source.get("columns") or {}
    described = {d.relation for d in datasets.values() if d.relation}
    for relation in sorted(warehouse.relations):
        schema = relation.split(".", 1)[0]
        if relation in described or schema in NOT_DATA_SCHEMAS:
            continue
        datasets[relation] = DatasetRow(
            dataset=relation,
            relation=relation,
            layer=_layer_of_schema(schema),
            domain=None,
            owner_team=None,
            owner_contact=None,
            access="private",
            materialized="view" if relation in warehouse.views else "table",
            description="in the warehouse, but neither a dbt model nor a dbt source",
        )
        documented[relation] = {}
    columns = []
    for name, row in datasets.items():
        observed = warehouse.relations.get(row.relation or "", ())
        columns.extend(_columns(name, documented.get(name, {}), observed))
    return Inventory(datasets, columns)


def dbt_lineage(manifest: dict) -> list[LineageRow]:
    names = node_names(manifest)
    rows = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        for upstream in (node.get("depends_on") or {}).get("nodes") or ():
            if upstream in names:
                rows.append(LineageRow(names[upstream], node["name"], "dbt"))
    return rows


def dagster_lineage(manifest: dict) -> list[LineageRow]:
    """The landing step feeds each landed dataset; the publish step reads each served model."""
    rows = []
    for source in manifest.get("sources", {}).values():
        name = landed_name(source)
        domain, table = name.split(".", 1)
        folder = f"landing/{domain}/events" if table == "events" else f"landing/{domain}/extracts/{table}"
        rows.append(LineageRow(folder, name, "dagster"))
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("access") == "public":
            rows.append(LineageRow(node["name"], SERVING_NODE, "dagster"))
    return rows


def allowed_upstreams(manifest: dict) -> dict[str, set[str]]:
    """Per model, the datasets its compiled SQL may name: its dbt dependencies, and theirs
    through ephemeral models (dbt inlines those, so their inputs appear in the caller's SQL)."""
    names = node_names(manifest)
    nodes = manifest.get("nodes", {})

    def expand(uid: str, seen: set[str]) -> set[str]:
        result = set()
        for upstream in (nodes.get(uid, {}).get("depends_on") or {}).get("nodes") or ():
            if upstream in seen or upstream not in names:
                continue
            seen.add(upstream)
            result.add(names[upstream])
            if (nodes.get(upstream, {}).get("config") or {}).get("materialized") == "ephemeral":
                result |= expand(upstream, seen)
        return result

    return {n["name"]: expand(uid, set()) for uid, n in nodes.items() if n.get("resource_type") == "model"}


def has_compiled_sql(manifest: dict) -> bool:
    return any(n.get("compiled_code") for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model")


def compiled_lineage(
    manifest: dict,
    schema: Schema,
    by_relation: dict[str, str],
    read: Callable[[str, Schema], Reads] = reads,
    lineage: Callable[[str, Schema], list[ColumnEdge]] = column_lineage,
) -> tuple[list[LineageRow], list[ColumnLineageRow], list[str]]:
    """Hard-coded relations (via='sql') and column lineage from every model's compiled SQL.

    A model reading itself (an incremental model's `{{ this }}`) is not an edge. Returns
    (table edges, column edges, problems) — a model whose SQL cannot be read is a problem,
    never silently skipped."""
    if not has_compiled_sql(manifest):
        return [], [], ["the dbt manifest has no compiled SQL: no column lineage, hard-coded relations not checked"]
    allowed = allowed_upstreams(manifest)
    table_rows: list[LineageRow] = []
    column_rows: list[ColumnLineageRow] = []
    problems: list[str] = []
    for node in sorted(manifest.get("nodes", {}).values(), key=lambda n: n.get("name", "")):
        if node.get("resource_type") != "model":
            continue
        model, sql = node["name"], node.get("compiled_code")
        if not sql:
            problems.append(f"model {model}: no compiled SQL in the manifest (run dbt compile)")
            continue
        try:
            found = read(sql, schema)
        except Exception as exc:  # a parser failure on one model must not hide the others
            problems.append(f"model {model}: cannot read its compiled SQL ({_first_line(exc)})")
            continue
        if found.partial:
            problems.append(f"model {model}: read in part only ({found.error})")
        for relation in sorted(found.tables):
            dataset = by_relation.get(relation)
            if dataset is None:
                problems.append(f"model {model}: names {relation}, which is not in the warehouse")
            elif dataset != model and dataset not in allowed.get(model, set()):
                table_rows.append(LineageRow(dataset, model, "sql"))
        try:
            edges = lineage(sql, schema)
        except Exception as exc:
            problems.append(f"model {model}: no column lineage ({_first_line(exc)})")
            continue
        column_rows.extend(_column_rows(model, edges, by_relation))
    return table_rows, column_rows, problems


def _column_rows(model: str, edges: Iterable[ColumnEdge], by_relation: dict[str, str]) -> list[ColumnLineageRow]:
    rows = set()
    for edge in edges:
        upstream = by_relation.get(edge.source_table.lower())
        if upstream is None or upstream == model:
            continue
        rows.add(ColumnLineageRow(upstream, edge.source_column, model, edge.target, edge.role))
    return sorted(rows, key=lambda r: (r.upstream, r.upstream_column, r.downstream_column, r.role))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def build_inventory(
    manifest: dict,
    warehouse: Warehouse,
    owners: dict[str, Owner],
    read: Callable[[str, Schema], Reads] = reads,
    lineage: Callable[[str, Schema], list[ColumnEdge]] = column_lineage,
) -> Inventory:
    """Datasets, columns, table lineage (dbt, sql, dagster) and column lineage."""
    inventory = build_datasets(manifest, warehouse, owners)
    sql_edges, column_rows, problems = compiled_lineage(
        manifest, warehouse.schema(), inventory.by_relation(), read, lineage
    )
    add_lineage(inventory, [*dbt_lineage(manifest), *sql_edges, *dagster_lineage(manifest)], column_rows, problems)
    return inventory


def add_lineage(
    inventory: Inventory, edges: list[LineageRow], column_rows: list[ColumnLineageRow], problems: list[str]
) -> None:
    inventory.lineage = sorted(set(edges), key=lambda r: (r.downstream, r.upstream, r.via))
    inventory.column_lineage = column_rows
    inventory.problems = problems
