"""What a SQL statement reads: relations and columns, and column-level lineage of a SELECT.

The catalog needs both from the same analysis: `reads` feeds observed usage (who reads which
relation and column, in any clause), `column_lineage` feeds impact analysis of dbt models.

How a statement is analysed (DuckDB dialect, sqlglot):
1. parse; fold every identifier to lower case (DuckDB matches identifiers without regard to
   case, quoted or not), so CTE shadowing and relation names match exactly afterwards;
2. canonicalise every table reference that is not a CTE in lexical scope to 'schema.table'
   through the Schema's `search_path` (a catalog part naming the current database is dropped);
3. qualify columns with sqlglot's optimizer against only the relations the statement names
   (cheap: one small MappingSchema), which expands `*`, USING, alias and positional references;
4. walk sqlglot's scopes from the root: each scope maps its output columns to the base columns
   that flow into them and collects the base columns that shape its rows (WHERE, JOIN, GROUP BY,
   HAVING, ORDER BY, window PARTITION/ORDER, QUALIFY, DISTINCT ON, subqueries there).

What counts as read — decisions a reviewer should know:
- A CTE or derived table contributes only the output columns its readers use (plus everything
  that shapes its rows): `with o as (select * from orders) select order_id from o` reads
  orders.order_id only, because that is all the query would need if a column were dropped.
  A DISTINCT or set-deduplicating subquery contributes all its outputs (they decide its rows).
- A CTE nobody uses is not read: DuckDB does not even bind it.
- `count(*)` reads the relation, no column. EXISTS reads its subquery's filters, not its
  select list.
- Table functions (`read_parquet(...)`) and file paths used as tables (`from 'x.csv'`) are not
  relations and are ignored: the catalog governs warehouse relations; the gateway refuses both.
- Relations not in the schema are listed in `tables` and `unknown` (an unqualified one under the
  first search-path schema); their columns are attributed when the query names them (`t.col`),
  when the relation is the only source, or when it is the only source of unknown columns and no
  known source has the column.
- UPDATE/DELETE/MERGE: what their subqueries read; INSERT … SELECT, CREATE … AS and EXPLAIN: the
  query; SUMMARIZE: every column; PIVOT: its ON/USING/GROUP BY columns (all, without GROUP BY),
  as role `group` — sqlglot cannot trace pivot outputs, so they carry no projection lineage.
- A schema that lags the warehouse (a column the SQL names but the schema does not list, e.g. a
  dbt manifest documenting only some columns) does not fail the analysis: the query is analysed
  again with sqlglot qualifying without column lists and the stars expanded here, so the column
  is attributed to the relation behind it.
- Nothing here raises on SQL: unreadable SQL, SQL nested deeper than MAX_NESTING, or SQL sqlglot
  cannot qualify yields best-effort reads (tables from the tokens after FROM/JOIN, columns whose
  owner is plain) with `partial=True` and the reason in `error`; in a script, one broken
  statement does not hide the others.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, find_all_in_scope
from sqlglot.schema import MappingSchema
from sqlglot.tokens import TokenType

ROLES = ("projection", "filter", "join", "group", "order", "window", "having")
MAX_NESTING = 200  # deeper SQL is not parsed: compiled sqlglot can overflow the C stack (DataHub guards the same)
FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson", ".gz", ".zst", ".xlsx", ".arrow")

DUCKDB = sqlglot.Dialect.get_or_raise("duckdb")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schema:
    """The relations a query can name.

    `relations`: lower-case 'schema.table' → its columns in order (lower-case).
    `views`: lower-case 'schema.view' → the view's SQL (views are also in `relations`).
    `search_path`: schemas tried, in order, for an unqualified name.
    `databases`: names the current database goes by; a catalog part equal to one of them is
    dropped (`warehouse.marts.x` is `marts.x`), any other catalog names a foreign relation."""

    relations: dict[str, tuple[str, ...]]
    views: dict[str, str] = field(default_factory=dict)
    search_path: tuple[str, ...] = ("main",)
    databases: tuple[str, ...] = ("warehouse", "serving", "memory")


@dataclass(frozen=True)
class Reads:
    """Relations ('schema.table', lower-case) and (relation, column) pairs a statement reads,
    in any clause. Views count as the view itself (and, with expand_views, also what they read).
    `unknown`: relations named but absent from the schema (still listed in `tables`).
    `partial`: the analysis fell back to best effort (`error` says why); table-level reads are
    then still complete for the statements that parsed, columns may be missing."""

    tables: frozenset[str]
    columns: frozenset[tuple[str, str]]
    unknown: frozenset[str] = frozenset()
    partial: bool = False
    error: str = ""


@dataclass(frozen=True)
class ColumnEdge:
    """One column of a base relation feeding the statement's output.

    `target`: the output column it flows into, or '*' when it shapes every row (filter, join,
    group, order, window partition/order, having, qualify). `role`: projection | filter | join |
    group | order | window | having."""

    source_table: str
    source_column: str
    target: str
    role: str


def reads(sql: str, schema: Schema, expand_views: bool = False) -> Reads:
    """Every relation and column `sql` reads, in any clause of any of its statements."""
    analysis = _analyse(sql, schema)
    tables, columns, unknown = set(analysis.tables), set(analysis.columns), set(analysis.unknown)
    partial, errors = analysis.partial, [analysis.error] if analysis.error else []
    if expand_views:
        views = _Relations.of(schema).views
        seen: set[str] = set()
        pending = sorted(t for t in analysis.tables if t in views)
        while pending:
            view = pending.pop()
            if view in seen:
                continue  # a cycle, or a view reached twice
            seen.add(view)
            inner = _analyse(views[view], schema)
            tables |= inner.tables
            columns |= inner.columns
            unknown |= inner.unknown
            if inner.partial:
                partial = True
                errors.append(f"view {view}: {inner.error}")
            pending.extend(sorted(t for t in inner.tables if t in views and t not in seen))
    return Reads(frozenset(tables), frozenset(columns), frozenset(unknown), partial, "; ".join(errors))


def column_lineage(sql: str, schema: Schema) -> list[ColumnEdge]:
    """Edges from base-relation columns to the output columns of `sql` (a compiled dbt model),
    plus '*' edges for the columns that shape its rows; sorted, without duplicates."""
    analysis = _analyse(sql, schema)
    edges = {ColumnEdge(t, c, target, "projection") for t, c, target in analysis.projections}
    edges |= {ColumnEdge(t, c, "*", role) for t, c, role in analysis.shaping}
    return sorted(edges, key=lambda e: (e.source_table, e.source_column, e.target, e.role))


@dataclass
class _Analysis:
    tables: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    projections: set[tuple[str, str, str]] = field(default_factory=set)  # (relation, column, output)
    shaping: set[tuple[str, str, str]] = field(default_factory=set)  # (relation, column, role)
    partial: bool = False
    error: str = ""

    @property
    def columns(self) -> set[tuple[str, str]]:
        return {(t, c) for t, c, _ in self.projections} | {(t, c) for t, c, _ in self.shaping}

    def fail(self, error: str) -> None:
        self.partial = True
        self.error = "; ".join(filter(None, (self.error, error)))


def _analyse(sql: str, schema: Schema) -> _Analysis:
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # sqlglot warns on Command fallbacks and scopes it cannot follow
    try:
        try:
            return _analyse_quietly(sql, schema)
        except _StaleSchema:  # the SQL names a column the schema lacks: let the schema guide, not veto
            return _analyse_quietly(sql, schema, tolerant=True)
    finally:
        quiet.setLevel(level)


class _StaleSchema(Exception):
    """sqlglot refused a column that a relation's schema does not list."""


def _analyse_quietly(sql: str, schema: Schema, tolerant: bool = False) -> _Analysis:
    result = _Analysis()
    relations = _Relations.of(schema)
    if nesting(sql) > MAX_NESTING:
        result.fail(f"the SQL nests more than {MAX_NESTING} parentheses")
        _tables_from_tokens(sql, relations, result)
        return result
    statements = _parse(sql, result)
    if statements is None:
        chunks = _split_statements(sql)
        if len(chunks) > 1:  # one bad statement must not hide what the others read
            result.partial, result.error = False, ""
            for chunk in chunks:
                _merge(result, _analyse_quietly(chunk, schema, tolerant))
        else:
            _tables_from_tokens(sql, relations, result)
        return result
    for statement in statements:
        _fold_identifiers(statement)
        for root in _query_roots(statement, result):
            _analyse_query(root, relations, result, tolerant)
    return result


def _merge(into: _Analysis, other: _Analysis) -> None:
    into.tables |= other.tables
    into.unknown |= other.unknown
    into.projections |= other.projections
    into.shaping |= other.shaping
    if other.partial:
        into.fail(other.error)


def _split_statements(sql: str) -> list[str]:
    """The text of each statement, split at top-level semicolons found by the tokenizer."""
    try:
        tokens = DUCKDB.tokenize(sql)
    except (SqlglotError, ValueError):
        return [sql]
    chunks, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            chunks.append(sql[start : token.start])
            start = token.end + 1
    chunks.append(sql[start:])
    return [c for c in chunks if c.strip()]


def _parse(sql: str, result: _Analysis) -> list[exp.Expr] | None:
    try:
        return [s for s in sqlglot.parse(sql, read=DUCKDB) if s is not None]
    except (SqlglotError, RecursionError, ValueError) as exc:
        result.fail(f"cannot parse: {_first_line(exc)}")
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def nesting(sql: str) -> int:
    """How deep the parentheses go (the gateway and this module refuse deeper SQL before parsing)."""
    if sql.count("(") <= MAX_NESTING:  # fast path: cannot nest deeper than it opens
        return sql.count("(")
    depth = deepest = 0
    for char in sql:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _fold(name: str) -> str:
    """DuckDB's identifier folding: ASCII letters only (str.lower() also folds e.g. the Kelvin sign)."""
    return name.translate(_ASCII_LOWER)


def _fold_identifiers(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Identifier) and isinstance(node.this, str):
            node.args["this"] = _fold(node.this)


def _query_roots(statement: exp.Expr, result: _Analysis) -> list[exp.Query]:
    """The queries whose reads are the statement's reads."""
    if isinstance(statement, exp.Subquery):
        return _query_roots(statement.unnest(), result)
    if isinstance(statement, exp.Query):
        return [statement]
    if isinstance(statement, exp.Command):
        inner = statement.expression
        if str(statement.this).upper() == "EXPLAIN" and isinstance(inner, exp.Literal):
            text = re.sub(r"^\s*analyze\b", "", inner.this, flags=re.IGNORECASE)
            explained = _parse(text, result) or []  # EXPLAIN [ANALYZE] runs or plans the query
            for tree in explained:
                _fold_identifiers(tree)
            return [q for s in explained for q in _query_roots(s, result)]
        result.fail(f"not analysed: {str(statement.this).upper()} statement")
        return []
    if isinstance(statement, exp.Pivot):  # DuckDB's PIVOT statement: a query over the pivot
        return [exp.select("*").from_(exp.Subquery(this=statement))]
    if isinstance(statement, exp.Summarize):  # SUMMARIZE reads every column
        target = statement.this
        return [target] if isinstance(target, exp.Query) else [exp.select("*").from_(target)]
    query: exp.Expr | None = statement.args.get("expression")
    if isinstance(statement, (exp.Insert, exp.Create)):
        if not isinstance(query, exp.Query):
            return []
        with_ = statement.args.get("with_")
        if isinstance(with_, exp.With) and not query.args.get("with_"):  # WITH … INSERT: the CTEs serve the query
            query.set("with_", with_.pop())
        return [query]
    outermost = [
        q for q in statement.find_all(exp.Query) if not any(isinstance(a, exp.Query) for a in _ancestors(q, None))
    ]
    unwrapped = [q.unnest() if isinstance(q, exp.Subquery) else q for q in outermost]
    return [q for q in unwrapped if isinstance(q, exp.Query)]


class _Relations:
    """A Schema prepared for lookups, built once per Schema object (they are immutable)."""

    _cache: ClassVar[dict[int, tuple[weakref.ref[Schema], _Relations]]] = {}

    def __init__(self, schema: Schema) -> None:
        self.columns = {_fold(name): tuple(_fold(c) for c in cols) for name, cols in schema.relations.items()}
        self.views = {_fold(name): sql for name, sql in schema.views.items()}
        self.typed = {name: dict.fromkeys(cols, "UNKNOWN") for name, cols in self.columns.items()}
        self.schemas = {name.split(".", 1)[0] for name in self.columns}
        self.search_path = tuple(_fold(s) for s in schema.search_path) or ("main",)
        self.databases = frozenset(_fold(d) for d in schema.databases)

    @classmethod
    def of(cls, schema: Schema) -> _Relations:
        cached = cls._cache.get(id(schema))
        if cached is not None and cached[0]() is schema:
            return cached[1]
        prepared = cls(schema)
        key = id(schema)

        def forget(_: weakref.ref[Schema]) -> None:
            cls._cache.pop(key, None)

        cls._cache[key] = (weakref.ref(schema, forget), prepared)
        return prepared

    def resolve(self, catalog: str, db: str, name: str) -> tuple[str, str, str]:
        """(catalog, schema, table) as DuckDB would bind it; catalog '' is the current database."""
        if catalog in self.databases:
            catalog = ""
        if catalog:
            return catalog, db or "main", name
        if db:
            if f"{db}.{name}" not in self.columns and db in self.databases and db not in self.schemas:
                return "", self.search_path[0], name  # `warehouse.orders`: catalog.table, default schema
            return "", db, name
        for schema in self.search_path:
            if f"{schema}.{name}" in self.columns:
                return "", schema, name
        return "", self.search_path[0], name


def _relation_name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


def _is_file(table: exp.Table) -> bool:
    """DuckDB reads a quoted path used as a table name (a replacement scan), not a relation."""
    name = table.name
    return not table.db and ("/" in name or name.endswith(FILE_SUFFIXES))


def _is_cte_reference(table: exp.Table) -> bool:
    """Whether an unqualified table name is a CTE visible where it stands (lexical scoping)."""
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name, child, node = table.name, table, table.parent
    while node is not None:  # child: the node below `node` on the way up from the table
        if isinstance(node, exp.With):  # inside CTE `child`: the CTEs before it (and itself if recursive)
            ctes = node.expressions
            index = next((i for i, c in enumerate(ctes) if c is child), len(ctes))
            visible = ctes[: index + 1] if node.args.get("recursive") else ctes[:index]
            if any(c.alias == name for c in visible):
                return True
        else:
            with_ = node.args.get("with_")
            if isinstance(with_, exp.With) and child is not with_ and any(c.alias == name for c in with_.expressions):
                return True
        child, node = node, node.parent  # type: ignore[assignment]
    return False


def _canonicalise(root: exp.Query, relations: _Relations) -> set[str]:
    """Rewrite every relation reference to its bound schema.table (in place); return them."""
    named = set()
    for table in list(root.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or _is_file(table) or _is_cte_reference(table):
            continue
        catalog, db, _ = relations.resolve(table.catalog, table.db, table.name)
        table.set("catalog", exp.to_identifier(catalog) if catalog else None)
        table.set("db", exp.to_identifier(db))
        named.add(_relation_name(table))
    return named


def _analyse_query(root: exp.Query, relations: _Relations, result: _Analysis, tolerant: bool) -> None:
    """Qualify and walk one query. `tolerant`: qualify without column lists and expand stars here,
    so a column the schema does not (yet) list is attributed instead of failing the query."""
    named = _canonicalise(root, relations)
    for pivot in list(root.find_all(exp.Pivot)):
        _pivot_reads(pivot, relations, result)
        cte = pivot.parent
        if isinstance(cte, exp.CTE) and pivot.arg_key == "this":  # sqlglot scopes only follow queries
            cte.set("this", exp.select("*").from_(exp.Subquery(this=pivot), copy=False))
    known = {name for name in named if name in relations.columns}
    mapping: dict[str, object] = {}
    for name in known if not tolerant else ():  # only what it names: a MappingSchema costs per relation
        db, table = name.split(".", 1)
        tables = mapping.setdefault(db, {})
        assert isinstance(tables, dict)
        tables[table] = relations.typed[name]
    try:
        qualified = qualify(
            root,
            schema=MappingSchema(mapping, dialect=DUCKDB, normalize=False),  # names are folded already
            dialect=DUCKDB,
            expand_stars=not tolerant,
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
        scope = build_scope(qualified)
        if scope is None:
            raise SqlglotError("no scope")
        outcome = _Lineage(relations, scope, tolerant).result(scope)
    except OptimizeError as exc:
        if not tolerant and str(exc).startswith("Unknown column"):
            raise _StaleSchema(str(exc)) from exc
        result.fail(f"columns not resolved: {_first_line(exc)}")
        _best_effort(root, named, relations, result)
        return
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError) as exc:
        result.fail(f"columns not resolved: {_first_line(exc)}")
        _best_effort(root, named, relations, result)
        return
    result.tables |= outcome.tables
    result.unknown |= {t for t in outcome.tables if t not in relations.columns}
    for name in outcome.order:
        result.projections |= {(t, c, name) for t, c in outcome.outputs[name]}
    result.shaping |= outcome.shaping


@dataclass
class _ScopeResult:
    """What one scope makes of the base relations: its outputs and what shapes its rows."""

    outputs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    shaping: set[tuple[str, str, str]] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    passthrough: list[exp.Table | Scope] = field(default_factory=list)  # sources of a `*` that could not expand

    def add_output(self, name: str, bases: Iterable[tuple[str, str]]) -> None:
        if name not in self.outputs:
            self.outputs[name] = set()
            self.order.append(name)
        self.outputs[name] |= set(bases)

    def absorb(self, other: _ScopeResult) -> None:
        """A source or subquery was used: its relations and row-shaping columns are read."""
        self.tables |= other.tables
        self.shaping |= other.shaping

    def shape(self, bases: Iterable[tuple[str, str]], role: str) -> None:
        self.shaping |= {(t, c, role) for t, c in bases}

    def all_outputs(self) -> set[tuple[str, str]]:
        return {base for bases in self.outputs.values() for base in bases}


_CLAUSE_ROLES = {
    "where": "filter",
    "prewhere": "filter",
    "qualify": "filter",
    "limit": "filter",
    "offset": "filter",
    "joins": "join",
    "laterals": "join",
    "from_": "join",
    "group": "group",
    "distinct": "group",
    "having": "having",
    "order": "order",
    "windows": "window",
}


@dataclass(frozen=True)
class _Place:
    """Where a node sits in its scope's query: a projection (index) or a clause role."""

    projection: int | None
    role: str
    in_exists: bool = False
    in_aggregate: bool = False


class _Lineage:
    """Resolves scopes to base columns, each scope once (a CTE read twice is resolved once)."""

    def __init__(self, relations: _Relations, root: Scope, tolerant: bool = False) -> None:
        self.relations = relations
        self.root = root
        self.tolerant = tolerant
        self.done: dict[int, _ScopeResult] = {}
        self.active: set[int] = set()

    def result(self, scope: Scope) -> _ScopeResult:
        key = id(scope)
        if key in self.done:
            return self.done[key]
        if key in self.active:  # a recursive CTE reading itself: its own rows add nothing new
            return _ScopeResult()
        self.active.add(key)
        try:
            if isinstance(scope.expression, exp.SetOperation):
                outcome = self._set_operation(scope)
            elif isinstance(scope.expression, exp.Select):
                outcome = self._select(scope)
            else:
                outcome = self._udtf(scope)
        finally:
            self.active.discard(key)
        self.done[key] = outcome
        return outcome

    # scopes

    def _select(self, scope: Scope) -> _ScopeResult:
        select = scope.expression
        out = _ScopeResult()
        for source in self._used(scope):
            if isinstance(source, exp.Table):
                name = self._table(source)
                if name:
                    out.tables.add(name)
            else:
                out.absorb(self.result(source))
        projections = select.expressions
        names = [p.alias_or_name for p in projections]
        per_projection: list[set[tuple[str, str]]] = [set() for _ in projections]
        grouped: set[tuple[str, str]] = set()
        later: list[tuple[exp.Column, _Place]] = []
        for column in _scope_columns(scope):
            place = self._place(column, select)
            if place is None:
                continue
            if place.projection is not None and place.role == "projection":
                bases = self._column(scope, column, names, per_projection, in_projection=True)
                per_projection[place.projection] |= bases
                if not place.in_aggregate:
                    grouped |= bases
            else:
                later.append((column, place))
        for index, projection in enumerate(projections):
            projection = projection.this if isinstance(projection, exp.Alias) else projection
            if _is_star(projection) or isinstance(projection, exp.Columns):
                self._expand_star(scope, projection, out)
                continue
            for columns in projection.find_all(exp.Columns):  # min(COLUMNS(*)) and the like
                if not any(isinstance(a, exp.Query) for a in _ancestors(columns, projection)):
                    matched = _ScopeResult()
                    self._expand_star(scope, columns, matched)
                    per_projection[index] |= matched.all_outputs()
            out.add_output(names[index], per_projection[index])
        for column, place in later:  # after the projections: ORDER BY may name an output alias
            out.shape(self._column(scope, column, names, per_projection, in_projection=False), place.role)
        for subquery in scope.subquery_scopes:
            inner = self.result(subquery)
            out.absorb(inner)
            place = self._place(subquery.expression, select)
            if place is None or place.in_exists:
                continue
            if place.projection is not None and place.role == "projection":
                name = names[place.projection]
                out.add_output(name, inner.all_outputs())
            else:
                out.shape(inner.all_outputs(), place.role)
        group = select.args.get("group")
        if isinstance(group, exp.Group) and group.args.get("all"):
            out.shape(grouped, "group")
        order = select.args.get("order")
        if isinstance(order, exp.Order) and any(_is_all(o) for o in order.expressions):
            out.shape(out.all_outputs(), "order")
        if select.args.get("distinct") and scope is not self.root:
            out.shape(out.all_outputs(), "group")  # every output decides which rows survive
        return out

    def _set_operation(self, scope: Scope) -> _ScopeResult:
        out = _ScopeResult()
        branches = [self.result(branch) for branch in scope.set_operation_scopes]
        for branch in branches:
            out.absorb(branch)
            out.passthrough.extend(branch.passthrough)
        if branches:
            first = branches[0]
            for position, name in enumerate(first.order):
                bases = set(first.outputs[name])
                for other in branches[1:]:
                    if len(other.order) == len(first.order):
                        bases |= other.outputs[other.order[position]]
                    else:  # an unexpanded `*` on one side: match by name
                        bases |= other.outputs.get(name, set())
                out.add_output(name, bases)
        for column in scope.columns:  # ORDER BY of the whole set operation names its outputs
            if column.name in out.outputs:
                out.shape(out.outputs[column.name], "order")
        order = scope.expression.args.get("order")
        if isinstance(order, exp.Order) and any(_is_all(o) for o in order.expressions):
            out.shape(out.all_outputs(), "order")
        if scope.expression.args.get("distinct") and scope is not self.root:
            out.shape(out.all_outputs(), "group")
        return out

    def _udtf(self, scope: Scope) -> _ScopeResult:
        """LATERAL subqueries, UNNEST, VALUES: outputs come from the subquery or the arguments."""
        out = _ScopeResult()
        for subquery in scope.subquery_scopes:
            inner = self.result(subquery)
            out.absorb(inner)
            for name in inner.order:
                out.add_output(name, inner.outputs[name])
            out.passthrough.extend(inner.passthrough)
        arguments: set[tuple[str, str]] = set()
        for column in scope.columns:
            if any(isinstance(a, exp.Query) for a in _ancestors(column, scope.expression)):
                continue  # inside the lateral subquery: resolved there
            arguments |= self._column(scope, column, [], [], in_projection=False)
        alias = scope.expression.args.get("alias")
        columns = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        if arguments or not out.order:
            for name in columns or ([alias.name] if isinstance(alias, exp.TableAlias) and alias.name else []):
                out.add_output(name, arguments)
        return out

    # sources and columns

    def _selected(self, scope: Scope) -> list[exp.Table | Scope]:
        """The sources whose columns this scope outputs (not the right side of SEMI/ANTI joins)."""
        return [s for _node, s in scope.selected_sources.values() if isinstance(s, (exp.Table, Scope))]

    def _used(self, scope: Scope) -> list[exp.Table | Scope]:
        """Every source named in FROM or JOIN, SEMI/ANTI joins included: all of them are read."""
        found = [scope.sources.get(name) for name, _node in scope.references]
        return [s for s in found if isinstance(s, (exp.Table, Scope))]

    def _table(self, table: exp.Table) -> str:
        """The relation a source table is, or '' for a table function or a file."""
        if not isinstance(table.this, exp.Identifier) or _is_file(table):
            return ""
        return _relation_name(table)

    def _lookup(self, scope: Scope, alias: str) -> exp.Table | Scope | None:
        current: Scope | None = scope
        while current is not None:
            source = current.sources.get(alias)
            if isinstance(source, (exp.Table, Scope)):
                return source
            current = current.parent
        return None

    def _column(
        self,
        scope: Scope,
        column: exp.Column,
        names: list[str],
        per_projection: list[set[tuple[str, str]]],
        in_projection: bool,
    ) -> set[tuple[str, str]]:
        name, alias = column.name, column.table
        if not name or isinstance(column.this, exp.Star):
            return set()
        if alias:
            source = self._lookup(scope, alias)
            if source is not None:
                return self._from_source(source, name)
            owner = column.args.get("db")
            if owner is not None:  # tbl.struct_column.field
                source = self._lookup(scope, owner.name)
                if source is not None:
                    return self._from_source(source, alias)
            return self._unqualified(scope, alias, strict=True)  # struct_column.field
        if not in_projection and name in names:  # ORDER BY / QUALIFY naming an output alias
            return set(per_projection[names.index(name)])
        return self._unqualified(scope, name)

    def _unqualified(self, scope: Scope, name: str, strict: bool = False) -> set[tuple[str, str]]:
        """A column qualify could not place: the one source known to have it; else, unless
        `strict`, the only source, or the only source whose columns are unknown."""
        sources = self._selected(scope)
        having = [s for s in sources if self._has_column(s, name)]
        if len(having) == 1:
            return self._from_source(having[0], name)
        if strict or having:
            return set()
        if len(sources) == 1:
            return self._from_source(sources[0], name)
        unknown = [s for s in sources if not self._columns_known(s)]
        if len(unknown) == 1:
            return self._from_source(unknown[0], name)
        return set()

    def _columns_known(self, source: exp.Table | Scope) -> bool:
        if isinstance(source, exp.Table):
            return _relation_name(source) in self.relations.columns
        return not self.result(source).passthrough

    def _has_column(self, source: exp.Table | Scope, name: str) -> bool:
        if isinstance(source, exp.Table):
            return name in self.relations.columns.get(_relation_name(source), ())
        return name in self.result(source).outputs

    def _from_source(self, source: exp.Table | Scope, name: str) -> set[tuple[str, str]]:
        if isinstance(source, exp.Table):
            relation = self._table(source)
            return {(relation, name)} if relation else set()
        inner = self.result(source)
        if name in inner.outputs:
            return set(inner.outputs[name])
        through = self._owner(inner.passthrough, name)
        if through is not None:
            return self._from_source(through, name)
        stale = not inner.passthrough and isinstance(source.expression, (exp.Select, exp.SetOperation))
        if stale and not self.tolerant and id(source) not in self.active:
            raise _StaleSchema(f"no column {name} in a query whose columns are all known")
        return set()

    def _owner(self, candidates: list[exp.Table | Scope], name: str) -> exp.Table | Scope | None:
        """Which of the sources behind a `*` has column `name`: the one known to have it, else
        the one whose columns are unknown, else (a stale schema) the only one."""
        for pool in (
            [c for c in candidates if self._has_column(c, name)],
            [c for c in candidates if not self._columns_known(c)],
            candidates,
        ):
            if len(pool) == 1:
                return pool[0]
            if pool:
                return None
        return None

    def _expand_star(self, scope: Scope, star: exp.Expr, out: _ScopeResult) -> None:
        """A `*`, `t.*`, `* LIKE '…'` or COLUMNS(…) qualify left alone: expand what is known."""
        keep = _name_filter(star)
        if isinstance(star, (exp.Like, exp.ILike, exp.SimilarTo, exp.RegexpLike)):
            star = star.this
        if isinstance(star, exp.Column):
            source = self._lookup(scope, star.table)
            sources = [source] if source is not None else []
        else:
            sources = self._selected(scope)
        for source in sources:
            self._add_all(source, out, keep)

    def _add_all(self, source: exp.Table | Scope, out: _ScopeResult, keep: Callable[[str], bool]) -> None:
        if isinstance(source, exp.Table):
            relation = self._table(source)
            if not relation:
                return
            if relation not in self.relations.columns or self.tolerant:
                out.passthrough.append(source)  # a name the schema does not list may come from here
            for name in self.relations.columns.get(relation, ()):
                if keep(name):
                    out.add_output(name, {(relation, name)})
            return
        inner = self.result(source)
        for name in inner.order:
            if keep(name):
                out.add_output(name, inner.outputs[name])
        if inner.passthrough:
            out.passthrough.append(source)

    def _place(self, node: exp.Expr, top: exp.Expr) -> _Place | None:
        """The clause of `top` that holds `node`; None when a nested query owns it."""
        in_window = in_exists = in_aggregate = False
        child, parent = node, node.parent
        while parent is not None and parent is not top:
            if isinstance(parent, exp.Window) and child.arg_key in ("partition_by", "order"):
                in_window = True
            elif isinstance(parent, exp.Exists):
                in_exists = True
            elif isinstance(parent, exp.AggFunc):
                in_aggregate = True
            elif isinstance(parent, exp.Query) and child is not node:
                return None
            child, parent = parent, parent.parent
        if parent is None:
            return None
        key = child.arg_key
        if key == "expressions":
            role = "window" if in_window else "projection"
            return _Place(child.index, role, in_exists, in_aggregate)
        role = "window" if in_window else _CLAUSE_ROLES.get(key or "", "filter")
        return _Place(None, role, in_exists, in_aggregate)


def _scope_columns(scope: Scope) -> list[exp.Column]:
    """sqlglot's scope columns plus the unqualified ones it leaves out under ORDER BY, HAVING,
    QUALIFY and DISTINCT (it takes them for output aliases): an output alias resolves to its
    projection, anything else to its source — which matters when qualify could not place it."""
    columns = list(scope.columns)
    seen = {id(c) for c in columns}
    for column in find_all_in_scope(scope.expression, exp.Column):
        if id(column) in seen or column.table or isinstance(column.this, exp.Star):
            continue
        clause = column.find_ancestor(exp.Qualify, exp.Having, exp.Order, exp.Distinct, exp.Star, exp.Lambda)
        if isinstance(clause, (exp.Qualify, exp.Having, exp.Order, exp.Distinct)) and not _is_lambda_parameter(column):
            columns.append(column)
    return columns


def _is_lambda_parameter(column: exp.Column) -> bool:
    for lambda_ in _ancestors(column, None):
        if isinstance(lambda_, exp.Lambda) and column.name in {p.name for p in lambda_.expressions}:
            return True
    return False


def _ancestors(node: exp.Expr, stop: exp.Expr | None) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None and parent is not stop:
        yield parent
        parent = parent.parent


def _is_star(node: exp.Expr) -> bool:
    """`*`, `t.*`, or DuckDB's `* LIKE '…'` / `* SIMILAR TO '…'`."""
    if isinstance(node, (exp.Like, exp.ILike, exp.SimilarTo, exp.RegexpLike)):
        node = node.this
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star))


def _name_filter(node: exp.Expr) -> Callable[[str], bool]:
    """Which column names a star-like projection keeps; every name when it cannot tell."""
    if isinstance(node, exp.Columns):
        pattern = node.this
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            try:
                regex = re.compile(pattern.this)
            except re.error:
                return lambda _name: True
            return lambda name: regex.search(name) is not None
        if isinstance(pattern, exp.Lambda) and len(pattern.expressions) == 1:
            body, parameter = pattern.this, pattern.expressions[0].name
            return lambda name: _lambda_keeps(body, parameter, name) is not False
        return lambda _name: True
    if isinstance(node, (exp.Star, exp.Column)):
        excluded = {c.name for c in (node if isinstance(node, exp.Star) else node.this).args.get("except_") or []}
        return lambda name: name not in excluded
    matcher = _matcher(node, node.expression)
    return matcher if matcher is not None else lambda _name: True


def _matcher(node: exp.Expr, pattern: exp.Expr) -> Callable[[str], bool] | None:
    """A name test for LIKE / ILIKE / SIMILAR TO / regexp against a string literal."""
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return None
    text = pattern.this
    if isinstance(node, (exp.Like, exp.ILike)):
        regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in text)
        compiled = re.compile(regex, re.IGNORECASE if isinstance(node, exp.ILike) else 0)
        return lambda name: compiled.fullmatch(name) is not None
    try:
        compiled = re.compile(text)
    except re.error:
        return None
    if isinstance(node, exp.SimilarTo):
        return lambda name: compiled.fullmatch(name) is not None
    return lambda name: compiled.search(name) is not None


def _lambda_keeps(body: exp.Expr, parameter: str, name: str) -> bool | None:
    """Evaluate a COLUMNS lambda's body for one column name; None when it is beyond us."""
    if isinstance(body, exp.Paren):
        return _lambda_keeps(body.this, parameter, name)
    if isinstance(body, exp.Not):
        inner = _lambda_keeps(body.this, parameter, name)
        return None if inner is None else not inner
    if isinstance(body, (exp.And, exp.Or)):
        left = _lambda_keeps(body.this, parameter, name)
        right = _lambda_keeps(body.expression, parameter, name)
        if left is None or right is None:
            return None
        return (left and right) if isinstance(body, exp.And) else (left or right)
    if not (isinstance(body.this, (exp.Identifier, exp.Column)) and body.this.name == parameter):
        return None
    if isinstance(body, (exp.Like, exp.ILike, exp.SimilarTo, exp.RegexpLike)):
        matcher = _matcher(body, body.expression)
        return None if matcher is None else matcher(name)
    if isinstance(body, (exp.EQ, exp.NEQ)) and isinstance(body.expression, exp.Literal):
        return (name == body.expression.this) == isinstance(body, exp.EQ)
    if isinstance(body, exp.In) and all(isinstance(e, exp.Literal) for e in body.expressions):
        return name in {e.this for e in body.expressions}
    return None


def _is_all(ordered: exp.Expr) -> bool:
    this = ordered.this if isinstance(ordered, exp.Ordered) else ordered
    return isinstance(this, exp.Var) and this.name.upper() == "ALL"


def _pivot_reads(pivot: exp.Pivot, relations: _Relations, result: _Analysis) -> None:
    """PIVOT reads its ON/USING/FOR columns and groups by the rest (all of them without GROUP BY).
    sqlglot cannot resolve pivot outputs, so these count as shaping (role group), no projection."""
    table = pivot.this if isinstance(pivot.this, exp.Table) else pivot.parent
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier) or _is_file(table):
        return
    relation = _relation_name(table)
    result.tables.add(relation)
    if relation not in relations.columns:
        result.unknown.add(relation)
    names = {
        c.name
        for c in pivot.find_all(exp.Column)
        if c.name and not any(isinstance(a, exp.Query) for a in _ancestors(c, pivot))
    }
    if not pivot.args.get("group"):
        names |= set(relations.columns.get(relation, ()))
    result.shaping |= {(relation, name, "group") for name in names}


def _best_effort(root: exp.Query, named: set[str], relations: _Relations, result: _Analysis) -> None:
    """Without qualified columns: every named relation, and columns whose owner is plain to see
    (`alias.column`, or any column when the statement names one relation and no derived table)."""
    result.tables |= named
    result.unknown |= {t for t in named if t not in relations.columns}
    owners: dict[str, set[str]] = {}
    for table in root.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and not _is_file(table) and not _is_cte_reference(table):
            owners.setdefault(table.alias_or_name, set()).add(_relation_name(table))
    aliases = {alias: next(iter(names)) for alias, names in owners.items() if len(names) == 1}
    derived = any(True for _ in root.find_all(exp.Subquery, exp.CTE))
    only = next(iter(named)) if len(named) == 1 and not derived else ""
    for column in root.find_all(exp.Column):
        if isinstance(column.this, exp.Star) or not column.name:
            continue
        relation = aliases.get(column.table) if column.table else only
        if relation:
            result.shaping.add((relation, column.name, "filter"))


_TABLE_AFTER = {TokenType.FROM, TokenType.JOIN}
_NAME_TOKENS = {TokenType.VAR, TokenType.IDENTIFIER}


def _tables_from_tokens(sql: str, relations: _Relations, result: _Analysis) -> None:
    """Relations named after FROM or JOIN, for SQL sqlglot cannot parse: table-level only."""
    try:
        tokens = DUCKDB.tokenize(sql)
    except (SqlglotError, ValueError) as exc:
        result.fail(f"cannot tokenize: {_first_line(exc)}")
        return
    ctes = {
        _fold(tokens[i].text)
        for i in range(len(tokens) - 2)
        if tokens[i].token_type in _NAME_TOKENS
        and tokens[i + 1].token_type == TokenType.ALIAS
        and tokens[i + 2].token_type == TokenType.L_PAREN
    }
    i = 0
    while i < len(tokens):
        if tokens[i].token_type in _TABLE_AFTER:
            parts = []
            j = i + 1
            while j < len(tokens) and tokens[j].token_type in _NAME_TOKENS:
                parts.append(_fold(tokens[j].text))
                if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.DOT:
                    j += 2
                else:
                    j += 1
                    break
            is_call = j < len(tokens) and tokens[j].token_type == TokenType.L_PAREN
            if parts and not is_call and not (len(parts) == 1 and parts[0] in ctes):
                catalog, db, name = relations.resolve(*["", "", *parts][-3:])
                relation = ".".join(p for p in (catalog, db, name) if p)
                result.tables.add(relation)
                if relation not in relations.columns:
                    result.unknown.add(relation)
            i = j
        else:
            i += 1
