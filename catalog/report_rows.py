"""What the catalog report reads, and who reads what.

The `catalog.*` tables (catalog/store.py) are read once, into small sorted rows (`load_catalog`);
everything after loading is pure, so the same tables always give the same page. The marks say,
per consumer × dataset (and per column where the declaration names columns):
✓ declared and read · ? declared, not read lately (stale) · ✗ read, never declared (hidden).
The query log says what was read and consumers.yml what was declared; the findings the refresh
derived win where they are more precise (a declared read last seen outside the window is stale,
even though it was observed once).

Datasets, consumers and findings are catalog.store's rows, read back with `read_tables`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.store import ConsumerRow, DatasetRow, FindingRow, read_tables
from pipelines.errors import AgoraError

if TYPE_CHECKING:
    import duckdb

READ, STALE, HIDDEN = "read", "stale", "hidden"
MARK_GLYPH = {READ: "✓", STALE: "?", HIDDEN: "✗"}
MARK_MEANING = {
    READ: "declared and read",
    STALE: "stale: declared, not read lately",
    HIDDEN: "hidden: read, never declared",
}

# The layers a dataset is shown in, left to right; `raw` is what the pipelines landed.
LAYERS = ("raw", "staging", "intermediate", "public", "marts", "other")

REQUIRED_TABLES = ("datasets", "columns", "consumers", "declared_reads", "observed_reads", "lineage", "findings")


# ---------------------------------------------------------------------------------------------
# What the report reads

# the report's names for catalog.store's rows
Dataset = DatasetRow
Consumer = ConsumerRow
Finding = FindingRow


@dataclass(frozen=True)
class ObservedRead:
    """Reads of one principal (acting for `consumer`, or for nobody) of a dataset/column; a refused
    query read nothing, so it is not one."""

    principal: str
    consumer: str | None
    dataset: str
    column: str | None
    queries: int
    last_seen: str


@dataclass(frozen=True)
class Refresh:
    refreshed_at: str
    window_days: int
    window_end: str | None
    log_entries: int
    shapes: int


@dataclass(frozen=True)
class CatalogRows:
    """The catalog tables as the report needs them, each sorted."""

    datasets: tuple[Dataset, ...]
    consumers: tuple[Consumer, ...]
    declared_reads: tuple[tuple[str, str, str | None], ...]
    observed_reads: tuple[ObservedRead, ...]
    lineage: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]
    pii_columns: frozenset[tuple[str, str]] = frozenset()
    refresh: Refresh | None = None


def sort_key(*values: object) -> tuple:
    """None sorts first and never meets a str in a comparison."""
    return tuple((value is not None, value if value is not None else "") for value in values)


def load_catalog(con: duckdb.DuckDBPyConnection) -> CatalogRows:
    """Read the `catalog.*` tables; a snapshot without them is one clear error."""
    from catalog.usage import COUNTED_AS_READ  # what the findings count as a read, so marks agree

    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'catalog'"
        ).fetchall()
    }
    missing = [f"catalog.{name}" for name in REQUIRED_TABLES if name not in present]
    if missing:
        raise AgoraError(
            f"no catalog in this snapshot yet (missing {', '.join(missing)}): run `agora catalog refresh` (or `agora run`)"
        )
    tables = read_tables(con, ("datasets", "consumers", "findings"))
    datasets = tuple(sorted(tables.datasets, key=lambda d: d.dataset))
    consumers = tuple(sorted(tables.consumers, key=lambda c: c.consumer))
    declared = tuple(
        sorted(
            con.execute('SELECT DISTINCT consumer, dataset, "column" FROM catalog.declared_reads').fetchall(),
            key=lambda row: sort_key(*row),
        )
    )
    observed = tuple(
        sorted(
            (
                ObservedRead(*row)
                for row in con.execute(
                    'SELECT principal, consumer, dataset, "column", sum(queries)::BIGINT, '
                    "strftime(timezone('UTC', max(last_seen)), '%Y-%m-%d') "
                    "FROM catalog.observed_reads WHERE list_contains(?, decision) GROUP BY ALL",
                    [list(COUNTED_AS_READ)],
                ).fetchall()
            ),
            key=lambda read: sort_key(read.principal, read.consumer, read.dataset, read.column),
        )
    )
    lineage = tuple(con.execute("SELECT DISTINCT upstream, downstream FROM catalog.lineage ORDER BY ALL").fetchall())
    findings = tuple(
        sorted(
            tables.findings,
            key=lambda f: sort_key(f.kind, f.dataset, f.column, f.consumer, f.principal, f.model, f.detail),
        )
    )
    pii = frozenset(
        (dataset, column)
        for dataset, column in con.execute('SELECT dataset, "column" FROM catalog.columns WHERE pii').fetchall()
    )
    refresh = None
    if "refreshes" in present:
        row = con.execute(
            "SELECT strftime(timezone('UTC', refreshed_at), '%Y-%m-%d %H:%M UTC'), window_days, "
            "strftime(timezone('UTC', window_end), '%Y-%m-%d'), log_entries, shapes "
            "FROM catalog.refreshes ORDER BY refreshed_at DESC LIMIT 1"
        ).fetchall()
        refresh = Refresh(*row[0]) if row else None
    return CatalogRows(datasets, consumers, declared, observed, lineage, findings, pii, refresh)


# ---------------------------------------------------------------------------------------------
# Who reads what: declared against observed


@dataclass(frozen=True, order=True)
class Reader:
    """A consumer (consumers.yml), or a principal that reads for no consumer."""

    name: str
    kind: str  # consumer | principal

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.name}"


@dataclass(frozen=True)
class ReaderMark:
    reader: Reader
    dataset: str
    mark: str
    columns: tuple[tuple[str, str], ...]  # (column, mark), sorted; only where columns are known
    queries: int  # queries that read it (allowed or failed), 0 if never observed
    last_seen: str | None


def reader_marks(rows: CatalogRows) -> list[ReaderMark]:
    """One mark per reader × dataset: ✓ declared and read, ? declared only, ✗ read only.

    Columns are listed where the declaration names them (each ✓ or ?), and for reads nobody
    declared (each ✗); a declaration of the whole dataset covers every column read.
    """
    declared: dict[tuple[Reader, str], set[str | None]] = defaultdict(set)
    for consumer, dataset, column in rows.declared_reads:
        declared[(Reader(consumer, "consumer"), dataset)].add(column)
    observed: dict[tuple[Reader, str], set[str | None]] = defaultdict(set)
    usage: dict[tuple[Reader, str], tuple[int, str]] = {}
    for read in rows.observed_reads:
        key = (reader_of(read.consumer, read.principal), read.dataset)
        observed[key].add(read.column)
        queries, last = usage.get(key, (0, ""))
        usage[key] = (queries + read.queries, max(last, read.last_seen or ""))
    hidden_found: dict[tuple[Reader, str], set[str | None]] = defaultdict(set)
    stale_found: set[tuple[Reader, str, str | None]] = set()
    for finding in rows.findings:
        if finding.kind not in (HIDDEN, STALE) or not (finding.consumer or finding.principal):
            continue
        reader = reader_of(finding.consumer, finding.principal)
        if finding.kind == HIDDEN:
            hidden_found[(reader, finding.dataset)].add(finding.column)
        else:
            stale_found.add((reader, finding.dataset, finding.column))

    marks = []
    for key in sorted(set(declared) | set(observed) | set(hidden_found)):
        reader, dataset = key
        declared_columns = declared.get(key, set())
        read_columns = {c for c in observed.get(key, set()) | hidden_found.get(key, set()) if c is not None}
        if not declared_columns:
            mark = HIDDEN
        elif key not in observed or (reader, dataset, None) in stale_found:
            mark = STALE
        else:
            mark = READ
        columns: dict[str, str] = {}
        for column in sorted(c for c in declared_columns if c is not None):
            seen = column in read_columns and (reader, dataset, column) not in stale_found
            columns[column] = READ if seen and mark == READ else STALE
        if None not in declared_columns:
            for column in read_columns - set(columns):
                columns[column] = HIDDEN
        queries, last_seen = usage.get(key, (0, None))
        marks.append(ReaderMark(reader, dataset, mark, tuple(sorted(columns.items())), queries, last_seen or None))
    return marks


def all_readers(rows: CatalogRows, marks: Sequence[ReaderMark]) -> list[Reader]:
    """Every consumer, every principal seen reading for none, and whoever tried a bypass (a refused
    attempt reads nothing, but its owner still has to hear about it)."""
    readers = {Reader(c.consumer, "consumer") for c in rows.consumers} | {m.reader for m in marks}
    readers |= {
        reader_of(f.consumer, f.principal)
        for f in rows.findings
        if f.kind == "bypass" and not f.model and (f.consumer or f.principal)
    }
    return sorted(readers)


def reader_of(consumer: str | None, principal: str | None) -> Reader:
    """Who read: the consumer a principal acts for, else the principal itself (never dropped)."""
    return Reader(consumer, "consumer") if consumer else Reader(principal or "?", "principal")


def layer_of(dataset: Dataset) -> str:
    """A layer the report knows; anything else (a scratch table, a seed) is shown as `other`."""
    return dataset.layer if dataset.layer in LAYERS else "other"
