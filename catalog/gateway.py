"""The governed SQL gateway: analysts and AI agents read the serving snapshot through it.

DuckDB has no users and no grants, so the gateway decides everything before DuckDB runs
anything (DESIGN.md, guarantee 6):

1. parse with sqlglot (DuckDB dialect): exactly one read-only query, no write, DDL, COPY,
   ATTACH, INSTALL/LOAD, SET/PRAGMA, CALL, EXPORT/IMPORT, SELECT INTO;
2. refuse table functions and functions that reach the file system, the network, settings or
   DuckDB's own metadata (`read_csv`, `glob`, `query`, `duckdb_tables()`, `getenv`, …);
3. resolve every relation the query reads, through CTEs, subqueries, set operations, lateral
   joins and views (expanded to what they read), with sqlglot's scope analysis; a table name
   that is not a CTE in scope is a relation, so anything unrecognised fails closed;
4. check them all against the principal's permissions in one bulk check; anything not granted
   (or not a dataset, or a system catalog) refuses the whole query, naming every relation;
5. rewrite: qualify dataset names, mask PII at the source (catalog.masking), expand views;
6. run the regenerated SQL — what was checked is what runs — on a read-only connection with
   external access disabled, configuration locked, and memory, thread, time and row limits.

The answer is all rows or one error. Every request is appended to the query log.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from catalog.access import Access, Dataset, Permissions, load_access, load_datasets
from catalog.masking import masked_source, masking_key
from catalog.sql_reads import nesting
from pipelines.errors import AgoraError
from pipelines.home import Home

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

SERVING_SCHEMAS = ("public", "marts", "catalog")
SERVING_CATALOG = "serving"
METADATA_SCHEMAS = frozenset({"information_schema", "pg_catalog"})
METADATA_CATALOGS = frozenset({"system", "temp"})
METADATA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"})

_STATEMENT_NAMES = (
    "Insert Update Delete Merge Create Drop Alter Copy Command Attach Detach Install Set Pragma Use "
    "Describe Summarize Show Into Export LoadData Transaction Commit Rollback TruncateTable Analyze "
    "Kill Grant Revoke Cache Uncache Refresh Comment Declare Execute"
)
FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in _STATEMENT_NAMES.split() if hasattr(exp, name)
)

# Scalar functions that read the environment, files, settings, variables or DuckDB's catalog.
# Table functions are refused wherever they appear, whatever their name.
DENIED_FUNCTIONS = frozenset(
    {
        "getenv",
        "query",
        "query_table",
        "current_setting",
        "getvariable",
        "load_extension",
        "which_secret",
        "checkpoint",
        "force_checkpoint",
        "glob",
        "sniff_csv",
        "json_execute_serialized_sql",
        "json_serialize_sql",
        "json_deserialize_sql",
        "current_schemas",
        "has_table_privilege",
        "has_schema_privilege",
        "has_database_privilege",
        "has_any_column_privilege",
        "has_column_privilege",
        "has_function_privilege",
        "pg_get_viewdef",
        "pg_table_is_visible",
        "pg_get_constraintdef",
        "col_description",
        "obj_description",
        "format_pg_type",
        "enable_logging",
        "disable_logging",
        "truncate_duckdb_logs",
    }
)
DENIED_PREFIXES = (
    "read_",
    "duckdb_",
    "pragma_",
    "parquet_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
    "http",
    "s3",
    "glob",
    "icu_",
    "test_",
    "system.",
)
_CALL = re.compile(r"^\s*([\"\w.]+?)\s*\(", re.S)

log = logging.getLogger(__name__)


class QueryRefused(AgoraError):
    """The gateway refused a request before running anything."""

    def __init__(self, reason: str, message: str, relations: tuple[str, ...] = ()) -> None:
        super().__init__(f"refused: {message}")
        self.reason = reason
        self.relations = relations


class QueryLimitExceeded(AgoraError):
    """A query ran into its time, memory or row limit and was stopped; nothing was returned."""


class QueryFailed(AgoraError):
    """DuckDB could not run an authorised query (a typo, a type error, …)."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 30.0
    memory: str = "1GB"
    threads: int = 2
    max_rows: int = 1_000_000
    max_sql_chars: int = 100_000
    max_nesting: int = 100


@dataclass
class Plan:
    """What the gateway decided about one request, before running it."""

    sql: str  # the regenerated, rewritten SQL that runs
    relations: list[str] = field(default_factory=list)  # datasets read (views expanded)
    columns: list[str] = field(default_factory=list)  # dataset.column read, anywhere in the query
    masked: list[str] = field(default_factory=list)  # dataset.column masked for this principal
    columns_known: bool = True


@dataclass(frozen=True)
class Catalog:
    """The datasets of the serving snapshot and the access rules over them."""

    datasets: dict[str, Dataset]
    access: Access

    def by_relation(self) -> dict[tuple[str, str], Dataset]:
        return {(d.schema, (d.table or d.name).lower()): d for d in self.datasets.values()}


def serving_relations(
    serving: Path, connection: duckdb.DuckDBPyConnection | None = None
) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(schema, name, view SQL or "", [(column, type)]) of every relation the snapshot serves.

    `connection` is an open connection to `serving` to read through (DuckDB refuses a second
    connection to one file with another configuration in the same process); without one, a
    read-only connection is opened for this and closed."""
    if connection is None and not serving.exists():
        return []
    con = connection or duckdb.connect(str(serving), read_only=True, config={"enable_external_access": False})
    try:
        schemas = list(SERVING_SCHEMAS)
        views = dict(
            ((s, n), sql)
            for s, n, sql in con.execute(
                "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal "
                "AND database_name = current_database() AND schema_name IN (SELECT unnest(?::VARCHAR[]))",
                [schemas],
            ).fetchall()
        )
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, dtype in con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY schema_name, table_name, column_index",
            [schemas],
        ).fetchall():
            columns.setdefault((schema, table), []).append((column, dtype))
    finally:
        if connection is None:
            con.close()
    return [(s, t, views.get((s, t), ""), cols) for (s, t), cols in columns.items()]


def load_catalog(
    home: Home, access_path: Path | None = None, connection: duckdb.DuckDBPyConnection | None = None
) -> Catalog:
    datasets = load_datasets(home, serving_relations(home.serving, connection))
    return Catalog(datasets, load_access(datasets, access_path))


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):  # a quoted name ("getenv") is the same function to DuckDB
        return (node.this.name if isinstance(node.this, exp.Identifier) else str(node.this)).lower()
    match = _CALL.match(node.sql(dialect="duckdb"))
    return match.group(1).replace('"', "").lower() if match else node.key.lower()


def _denied_function(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return (
        name in DENIED_FUNCTIONS
        or last in DENIED_FUNCTIONS
        or name.startswith(DENIED_PREFIXES)
        or last.startswith(DENIED_PREFIXES)
    )


def _parse_one(sql: str, limits: Limits) -> exp.Query:
    """The single read-only query in `sql`, or a refusal saying why not."""
    if not sql.strip():
        raise QueryRefused("empty", "no SQL given")
    if len(sql) > limits.max_sql_chars:
        raise QueryRefused("too_long", f"the SQL is longer than {limits.max_sql_chars:,} characters")
    if nesting(sql) > limits.max_nesting:
        raise QueryRefused("too_deep", f"the SQL nests more than {limits.max_nesting} parentheses")
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # sqlglot warns when it falls back to a Command: we refuse those
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise QueryRefused("parse_error", f"not a query the gateway can read ({first})") from None
    finally:
        quiet.setLevel(level)
    if len(statements) != 1:
        raise QueryRefused(
            "multiple_statements",
            f"exactly one statement is allowed, got {len(statements)}" if statements else "no statement",
        )
    root = statements[0]
    if not isinstance(root, exp.Query):
        kind = root.key.upper() if not isinstance(root, exp.Command) else str(root.this).upper()
        raise QueryRefused("not_read_only", f"only a read-only query (SELECT) is allowed, not {kind}")
    for node in root.walk():
        if isinstance(node, FORBIDDEN_NODES):
            kind = "SELECT INTO" if isinstance(node, exp.Into) else node.key.upper()
            raise QueryRefused("not_read_only", f"only a read-only query is allowed; it contains {kind}")
    return root


def _check_functions(root: exp.Expression | exp.Query) -> None:
    table_functions = sorted(
        {
            _function_name(t.this) if isinstance(t.this, exp.Func) else t.this.sql("duckdb")
            for t in root.find_all(exp.Table)
            if not isinstance(t.this, exp.Identifier)
        }
    )
    if table_functions:
        raise QueryRefused(
            "table_function",
            f"table functions are not allowed (they can reach files, the network or the catalog): {', '.join(table_functions)}",
        )
    denied = sorted({name for f in root.find_all(exp.Func) if _denied_function(name := _function_name(f))})
    if denied:
        raise QueryRefused(
            "forbidden_function",
            f"functions that reach files, the network, settings or metadata are not allowed: {', '.join(denied)}",
        )


def _relation_tables(root: exp.Expression | exp.Query) -> list[exp.Table]:
    """Every table reference in `root` that is not a CTE or derived table in scope."""
    try:
        scopes = traverse_scope(root)
    except Exception as exc:  # sqlglot cannot follow it, so nobody can say what it reads
        raise QueryRefused("unanalysable", f"the gateway cannot tell what this query reads ({exc})") from None
    references = set()
    for scope in scopes:
        # DuckDB matches a CTE name without regard to (ASCII) case, quoted or not; sqlglot's
        # scopes match it exactly, so `WITH Orders AS (…) FROM ORDERS` is matched here too.
        ctes = {_fold(name) for name in scope.cte_sources}
        for table in scope.tables:
            if table.args.get("db"):
                continue
            if isinstance(scope.sources.get(table.alias_or_name), Scope) or _fold(table.name) in ctes:
                references.add(id(table))
    return [t for t in root.find_all(exp.Table) if id(t) not in references]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(name: str) -> str:
    """DuckDB's identifier case folding: ASCII letters only (Python's lower() also folds e.g. the Kelvin sign)."""
    return name.translate(_ASCII_LOWER)


def _name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


class _Resolver:
    """Resolves table references to datasets, expanding views, and records what is read."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_relation = catalog.by_relation()
        self.by_name: dict[str, list[Dataset]] = {}
        for dataset in catalog.datasets.values():
            self.by_name.setdefault((dataset.table or dataset.name).lower(), []).append(dataset)
        self.read: dict[str, Dataset] = {}
        self.unknown: set[str] = set()
        self.metadata: set[str] = set()
        self.views: dict[str, exp.Query] = {}

    def resolve(self, table: exp.Table) -> Dataset | None:
        cat, db, name = table.catalog.lower(), table.db.lower(), table.name.lower()
        if db in METADATA_SCHEMAS or cat in METADATA_CATALOGS or name in METADATA_TABLES or name.startswith("duckdb_"):
            self.metadata.add(_name(table))
            return None
        if cat not in ("", SERVING_CATALOG):
            self.unknown.add(_name(table))
            return None
        if db:
            dataset = self.by_relation.get((db, name))
        else:
            candidates = self.by_name.get(name, [])
            dataset = candidates[0] if len(candidates) == 1 else None
        if dataset is None:
            self.unknown.add(_name(table))
        return dataset

    def walk(self, root: exp.Expression | exp.Query, depth: int = 0) -> list[tuple[exp.Table, Dataset | None]]:
        if depth > 8:
            raise QueryRefused("unanalysable", "views nest more than 8 levels deep")
        found = []
        for table in _relation_tables(root):
            dataset = self.resolve(table)
            found.append((table, dataset))
            if dataset is None:
                continue
            self.read.setdefault(dataset.name, dataset)
            if dataset.view_sql and dataset.name not in self.views:
                view = sqlglot.parse_one(dataset.view_sql, read="duckdb")
                query = view.expression if isinstance(view, exp.Create) else view
                if not isinstance(query, exp.Query):
                    raise QueryRefused("unanalysable", f"view {dataset.relation} is not a query")
                self.views[dataset.name] = query
                _check_functions(query)
                self.walk(query, depth + 1)
        return found


def _refuse_unauthorised(resolver: _Resolver, permissions: Permissions) -> None:
    denied = sorted(d.relation for d in resolver.read.values() if not (permissions.decision(d.name) or _DENY).allowed)
    parts = []
    if denied:
        parts.append(f"{permissions.principal} may not read {', '.join(denied)}")
    if resolver.unknown:
        parts.append(f"not datasets of the serving snapshot: {', '.join(sorted(resolver.unknown))}")
    if resolver.metadata:
        parts.append(
            f"system catalogs are not queryable ({', '.join(sorted(resolver.metadata))}); "
            f"`agora access {permissions.principal}` lists what you may read"
        )
    if parts:
        reason = "unauthorized" if denied else ("unknown_relation" if resolver.unknown else "metadata")
        relations = tuple(sorted({*denied, *resolver.unknown, *resolver.metadata}))
        raise QueryRefused(reason, "; ".join(parts) + " (nothing was run)", relations)


class _Deny:
    allowed = False


_DENY = _Deny()


def _columns_read(root: exp.Query, resolver: _Resolver) -> list[str] | None:
    """dataset.column for every column the query touches (SELECT, WHERE, JOIN, GROUP BY, …)."""
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for read in resolver.read.values():
        tables.setdefault(read.schema, {})[read.table or read.name] = {c.name: "VARCHAR" for c in read.columns}
    schema: dict[str, object] = dict(tables)
    copy = root.copy()
    for reference in _relation_tables(copy):
        found = resolver.resolve(reference)
        if found:
            reference.set("catalog", None)
            reference.set("db", exp.to_identifier(found.schema))
            reference.set("this", exp.to_identifier(found.table or found.name))
    try:
        qualified = qualify(copy, schema=schema, dialect="duckdb", validate_qualify_columns=False)
        scopes = traverse_scope(qualified)
    except Exception:  # the query is authorised; only the column-level detail is lost
        return None
    by_relation = resolver.by_relation
    result = set()
    for scope in scopes:
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                dataset = by_relation.get((source.db.lower(), source.name.lower()))
                if dataset:
                    result.add(f"{dataset.name}.{column.name}")
    return sorted(result)


def _rewrite(
    root: exp.Expression | exp.Query, resolver: _Resolver, permissions: Permissions, key: str, depth: int = 0
) -> None:
    """Qualify every dataset reference, mask PII at the source and expand views, in place."""
    for table in _relation_tables(root):
        dataset = resolver.resolve(table)
        assert dataset is not None  # unresolved references were refused
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
        masked = (permissions.decision(dataset.name) or _DENY).masked_columns  # type: ignore[union-attr]
        if dataset.view_sql:
            view = resolver.views[dataset.name].copy()
            _rewrite(view, resolver, permissions, key, depth + 1)
            table.replace(_subquery(table, view, alias))
        elif masked:
            table.replace(_subquery(table, masked_source(_relation_sql(dataset), masked, key), alias))
        else:
            table.set("catalog", None)
            table.set("db", exp.to_identifier(dataset.schema, quoted=True))
            table.set("this", exp.to_identifier(dataset.table or dataset.name, quoted=True))
    for column in root.find_all(exp.Column):
        if column.args.get("db"):  # schema.table.column: the table is now known by its alias
            column.set("catalog", None)
            column.set("db", None)


_CARRIED = ("joins", "laterals", "pivots", "sample")  # a parenthesised join hangs its joins on the first table


def _subquery(table: exp.Table, query: exp.Query, alias: exp.Expression) -> exp.Subquery:
    """`query` in place of `table`, keeping what hangs on the table reference."""
    unsupported = [k for k, v in table.args.items() if v and k not in (*_CARRIED, "this", "db", "catalog", "alias")]
    if unsupported:
        raise QueryRefused(
            "unsupported", f"{table.name}: {', '.join(unsupported)} is not supported on masked datasets or views"
        )
    subquery = exp.Subquery(this=query, alias=alias)
    for key in _CARRIED:
        if table.args.get(key):
            subquery.set(key, table.args[key])
    return subquery


def _relation_sql(dataset: Dataset) -> str:
    table = dataset.table or dataset.name
    return f"{exp.to_identifier(dataset.schema, quoted=True).sql()}.{exp.to_identifier(table, quoted=True).sql()}"


def plan(sql: str, permissions: Permissions, catalog: Catalog, key: str, limits: Limits = Limits()) -> Plan:
    """Decide about `sql` for `permissions` without running it: a Plan, or QueryRefused."""
    root = _parse_one(sql, limits)
    _check_functions(root)
    resolver = _Resolver(catalog)
    resolver.walk(root)
    _refuse_unauthorised(resolver, permissions)
    columns = _columns_read(root, resolver)
    masked = sorted(
        f"{d.name}.{c}"
        for d in resolver.read.values()
        for c in (permissions.decision(d.name) or _DENY).masked_columns  # type: ignore[union-attr]
    )
    _rewrite(root, resolver, permissions, key)
    return Plan(
        sql=root.sql(dialect="duckdb"),
        relations=sorted(d.name for d in resolver.read.values()),
        columns=columns or [],
        masked=masked,
        columns_known=columns is not None,
    )


def connect_serving(serving: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot: no files, no network, no extensions, settings locked."""
    if not serving.exists():
        raise AgoraError(f"no serving snapshot at {serving}: run `agora run` first")
    config: dict[str, Any] = {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": limits.memory,
        "threads": limits.threads,
    }
    try:
        con = duckdb.connect(str(serving), read_only=True, config=config)
    except duckdb.Error as exc:
        raise AgoraError(f"cannot open the serving snapshot {serving}: {str(exc).splitlines()[0]}") from None
    # A second connection in this process to the same file shares the first one's database,
    # already set up and locked (the settings below are global, so they hold for it too).
    if not con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
        con.execute("LOAD icu")  # statically linked; time zones need it
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")
    return con


class _Watchdog:
    """One daemon thread that interrupts connections whose query outlived its deadline.

    Cheaper than a timer thread per query; armed before a query runs, disarmed after."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._armed: dict[int, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._tokens = 0
        self._thread: threading.Thread | None = None
        self._wakes_at = float("inf")  # when the thread will look again, unless woken

    def arm(self, con: duckdb.DuckDBPyConnection, seconds: float) -> int:
        with self._wakeup:
            self._tokens += 1
            deadline = time.monotonic() + seconds
            self._armed[self._tokens] = (deadline, con)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="agora-gateway-watchdog", daemon=True)
                self._thread.start()
            if deadline < self._wakes_at:  # waking the thread on every query costs more than the query
                self._wakeup.notify()
            return self._tokens

    def disarm(self, token: int) -> None:
        with self._wakeup:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                for token, (deadline, con) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        con.interrupt()
                self._wakes_at = min((deadline for deadline, _ in self._armed.values()), default=float("inf"))
                self._wakeup.wait(None if self._wakes_at == float("inf") else max(0.0, self._wakes_at - now))


_WATCHDOG = _Watchdog()


def execute(
    serving: Path, sql: str, limits: Limits, secret: str = "", connection: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Run authorised SQL under the limits: all rows, or QueryLimitExceeded / QueryFailed.

    `connection` is a connection from `connect_serving` to reuse (it stays open); without one,
    a connection is opened for this query and closed after it."""
    con = connection or connect_serving(serving, limits)
    token = _WATCHDOG.arm(con, limits.seconds)
    try:
        table = con.sql(sql).to_arrow_table()
    except duckdb.InterruptException:
        raise QueryLimitExceeded(
            f"query exceeded its limit: still running after {limits.seconds:g} s, so it was stopped (no rows returned)"
        ) from None
    except duckdb.OutOfMemoryException:
        raise QueryLimitExceeded(
            f"query exceeded its limit: it needed more than {limits.memory} of memory (no rows returned)"
        ) from None
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        if secret:
            message = message.replace(secret, "***")
        raise QueryFailed(f"query failed: {message}") from None
    finally:
        _WATCHDOG.disarm(token)
        if connection is None:
            con.close()
    if table.num_rows > limits.max_rows:
        raise QueryLimitExceeded(
            f"query exceeded its limit: {table.num_rows:,} rows, more than {limits.max_rows:,} (no rows returned); "
            "aggregate or add LIMIT"
        )
    return table


class Session:
    """One principal's governed access to the serving snapshot, for notebooks and agents.

    Session("finance-analyst").query("select * from order_to_cash")   # -> pyarrow.Table
    """

    PLAN_CACHE_SIZE = 256

    def __init__(
        self,
        principal: str,
        home: Home | str | Path | None = None,
        *,
        limits: Limits | None = None,
        access_path: Path | None = None,
        source: str = "python",
    ) -> None:
        self.principal = principal
        self.home = home if isinstance(home, Home) else Home.resolve(home)
        self.limits = limits or Limits()
        self.access_path = access_path
        self.source = source
        # What a query needs besides its SQL, kept for the session and dropped together when a
        # new snapshot is published (the serving file is replaced: another inode or mtime).
        self._lock = threading.RLock()
        self._snapshot: tuple[int, int, int] | None = None
        self._catalog: Catalog | None = None
        self._permissions: Permissions | None = None
        self._key: str | None = None
        self._plans: dict[str, Plan] = {}
        self._connection: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connection to the snapshot (a later query opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _refresh(self) -> None:
        try:
            stat = self.home.serving.stat()
            snapshot = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            snapshot = None
        if snapshot != self._snapshot:
            self.close()
            self._snapshot = snapshot
            self._catalog, self._permissions = None, None
            self._plans.clear()

    @property
    def catalog(self) -> Catalog:
        with self._lock:
            self._refresh()
            if self._catalog is None:
                connection = self._connect() if self.home.serving.exists() else None
                self._catalog = load_catalog(self.home, self.access_path, connection)
            return self._catalog

    def permissions(self) -> Permissions:
        """Every permission of the principal in one call (unknown principal: UnknownPrincipalError)."""
        with self._lock:
            catalog = self.catalog
            if self._permissions is None:
                self._permissions = catalog.access.check(self.principal)
            return self._permissions

    def _masking_key(self) -> str:
        if self._key is None:
            self._key = masking_key(self.home)
        return self._key

    def datasets(self) -> list[dict[str, object]]:
        """The datasets the principal may read, with owner, description and masked columns."""
        result: list[dict[str, object]] = []
        for decision in self.permissions().decisions:
            if decision.allowed:
                dataset = self.catalog.datasets[decision.dataset]
                result.append(
                    {
                        "dataset": dataset.name,
                        "relation": dataset.relation,
                        "domain": dataset.domain,
                        "owner": dataset.owner,
                        "description": dataset.description,
                        "masked_columns": list(decision.masked_columns),
                    }
                )
        return result

    def describe(self, name: str) -> dict[str, object]:
        """One dataset the principal may read; any other name is refused without saying more."""
        permissions = self.permissions()
        decision = permissions.decision(name) or permissions.decision(name.lower())
        if decision is None or not decision.allowed:
            raise QueryRefused("unauthorized", f"{self.principal} may not read {name} (or it does not exist)", (name,))
        dataset = self.catalog.datasets[decision.dataset]
        return {
            "dataset": dataset.name,
            "relation": dataset.relation,
            "domain": dataset.domain,
            "owner": dataset.owner,
            "description": dataset.description,
            "tags": list(dataset.tags),
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "description": c.description,
                    "masked": c.name in decision.masked_columns,
                }
                for c in dataset.columns
            ],
            "masked_columns": list(decision.masked_columns),
        }

    def plan(self, sql: str) -> Plan:
        """The gateway's decision about `sql` (QueryRefused if refused), without running it.

        Plans are kept per exact SQL text: the principal, its permissions and the snapshot are
        fixed for the session until a new snapshot is published, which drops them all."""
        with self._lock:
            permissions = self.permissions()
            decided = self._plans.get(sql)
            if decided is None:
                decided = plan(sql, permissions, self.catalog, self._masking_key(), self.limits)
                if len(self._plans) >= self.PLAN_CACHE_SIZE:
                    self._plans.pop(next(iter(self._plans)))
                self._plans[sql] = decided
            return decided

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self._connection = connect_serving(self.home.serving, self.limits)
        return self._connection

    def query(self, sql: str) -> pa.Table:
        """All rows as a pyarrow Table, or one AgoraError; logged either way."""
        from catalog.query_log import QueryRecord, append

        started = time.perf_counter()
        record = QueryRecord.start(self.principal, sql, self.source)
        try:
            with self._lock:  # one query at a time on the session's connection
                decided = self.plan(sql)
                record.relations, record.columns = list(decided.relations), list(decided.columns)
                record.masked = list(decided.masked)
                table = execute(self.home.serving, decided.sql, self.limits, self._masking_key(), self._connect())
        except QueryRefused as exc:
            record.finish("refused", exc.reason, str(exc), started, relations=exc.relations)
            append(self.home, record)
            raise
        except AgoraError as exc:
            decision = "refused" if exc.__class__.__name__ == "UnknownPrincipalError" else "failed"
            reason = "unknown_principal" if decision == "refused" else exc.__class__.__name__
            record.finish(decision, reason, str(exc), started)
            append(self.home, record)
            raise
        record.finish("allowed", "granted", "", started, rows=table.num_rows)
        append(self.home, record)
        return table

    def query_polars(self, sql: str) -> pl.DataFrame:
        import polars as pl

        result = pl.from_arrow(self.query(sql))
        assert isinstance(result, pl.DataFrame)
        return result
