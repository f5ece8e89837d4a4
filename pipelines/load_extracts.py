"""Land one extract snapshot in one transaction (DESIGN.md, guarantees 1–4).

A snapshot is compared with its contract first. Missing a contract column, or carrying it in a
type that cannot hold the contract's, is a breaking change: the snapshot is blocked whole (every
row kept in quarantine.extract_rows with the reason and the consumers it would break) and
nothing of it lands. Extra columns are an additive change: the raw table gains the column and
ops.schema_changes says so. Rows are then checked one set at a time: required values, types,
allowed values, one row per primary key.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines import arrow
from pipelines.checks import extract_cast_sql, quote_ident, quote_literal
from pipelines.consumers import declared_consumers
from pipelines.contracts import ExtractContract
from pipelines.landing import LandedFile
from pipelines.lines import UnreadableFileError
from pipelines.results import FileResult
from pipelines.warehouse import extract_table, raw_schema, record_batch, table_columns, transaction

ROW_NO = "_row_no"

# Arrow types a contract type can be read from without losing meaning.
_COMPATIBLE = {
    "string": ("string", "large_string", "string_view", "dictionary"),
    "integer": ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "string", "large_string"),
    "number": ("int", "uint", "float", "double", "halffloat", "decimal", "string", "large_string"),
    "boolean": ("bool", "string", "large_string"),
    "timestamp": ("timestamp", "date32", "date64", "string", "large_string"),
    "date": ("date32", "date64", "timestamp", "string", "large_string"),
}


@dataclass
class Snapshot:
    file: LandedFile
    contract: ExtractContract
    sha256: str  # the file identity (pipelines.warehouse.file_identity)
    content_sha256: str
    bytes: int
    mtime_ns: int
    table: pa.Table  # every column as read, plus _row_no
    unreadable_rows: list[tuple[int, str]]  # (row number, raw text) of rows the reader could not split
    manifest: Path | None = None  # the home's dbt manifest, to name consumers downstream


def _csv_python(data: bytes) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Slow path for a CSV with malformed rows: keep good rows, report bad ones by number."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")))
    header = next(reader, [])
    columns: dict[str, list[str]] = {h: [] for h in header}
    numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    for number, row in enumerate(reader, start=1):
        if len(row) != len(header):
            bad.append((number, ",".join(row)))
            continue
        numbers.append(number)
        for name, value in zip(header, row, strict=True):
            columns[name].append(value)
    table = pa.table({**{k: arrow.strings(v) for k, v in columns.items()}, ROW_NO: arrow.ints(numbers)})
    return table, bad


def read_snapshot(file: LandedFile, payload: bytes) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The snapshot's rows with their 1-based row numbers (header excluded)."""
    name = file.path.name
    if name.endswith(".parquet"):
        try:
            table = pq.ParquetFile(pa.BufferReader(payload)).read()
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnreadableFileError(f"{file.rel}: not a readable Parquet file ({exc})") from None
        return table.append_column(ROW_NO, arrow.ints(range(1, table.num_rows + 1))), []
    data = payload
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(payload)
        except (OSError, EOFError) as exc:
            raise UnreadableFileError(f"{file.rel}: not a valid gzip file ({exc})") from None
    if data.startswith(b"PAR1") or b"\x00" in data[:4096]:
        raise UnreadableFileError(f"{file.rel}: binary content in a .csv file")
    try:
        text_head = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise UnreadableFileError(f"{file.rel}: header row is not UTF-8 text") from None
    header = next(csv.reader([text_head]), [])
    if not header or len(set(header)) != len(header):
        raise UnreadableFileError(f"{file.rel}: missing or duplicated CSV header")
    bad: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row.text or "")
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"{file.rel}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    if bad:
        return _csv_python(data)
    return table.append_column(ROW_NO, arrow.ints(range(1, table.num_rows + 1))), []


def _arrow_kind(dtype: pa.DataType) -> str:
    return str(dtype).split("[")[0].split("<")[0].split("(")[0]


def compare_schema(
    contract: ExtractContract, table: pa.Table, typed: bool = False
) -> tuple[list[str], list[str], list[str]]:
    """(breaking problems, added columns, missing columns) of a snapshot against its contract.

    `typed` says the file carries its own column types (Parquet): there a string where the
    contract says number, date, … is a type change consumers would feel, not text to parse.
    """
    present = {f.name: f.type for f in table.schema if f.name != ROW_NO}
    problems: list[str] = []
    missing = [c.name for c in contract.columns if c.name not in present]
    added = [name for name in present if contract.column(name) is None]
    if missing:
        hint = f" (renamed to {', '.join(added)}?)" if added else ""
        problems.append(f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing{hint}")
    for column in contract.columns:
        if column.name in present:
            kind = _arrow_kind(present[column.name])
            compatible = _COMPATIBLE[column.type]
            if typed and column.type != "string":
                compatible = tuple(ok for ok in compatible if ok not in ("string", "large_string"))
            if not any(kind.startswith(ok) for ok in compatible):
                problems.append(f"column {column.name} is {present[column.name]}, contract says {column.type}")
    return problems, added, missing


def load_snapshot(con: duckdb.DuckDBPyConnection, snap: Snapshot, batch_id: str, started_at: datetime) -> FileResult:
    contract = snap.contract
    target = extract_table(contract)
    result = FileResult(
        rel=snap.file.rel,
        domain=contract.domain,
        kind="extract",
        dataset=contract.name,
        sha256=snap.sha256,
        bytes=snap.bytes,
    )
    con.register("_snap_in", snap.table)
    problems, added, missing = compare_schema(contract, snap.table, typed=snap.file.path.name.endswith(".parquet"))
    with transaction(con):
        con.execute("SET VARIABLE batch_id = ?", [batch_id])
        con.execute("SET VARIABLE snapshot_at = ?::TIMESTAMPTZ", [snap.file.snapshot_at])
        con.execute("CREATE OR REPLACE TEMP TABLE _snap AS SELECT * FROM _snap_in")
        unreadable = [(n, t, "invalid_row", "wrong number of fields") for n, t in snap.unreadable_rows]
        if problems:
            consumers = declared_consumers(contract.name, missing or None, manifest=snap.manifest, con=con)
            result.status = "blocked"
            result.detail = (
                f"breaking change to {contract.name} (contract v{contract.version}): {'; '.join(problems)}; "
                f"consumers it would break: {', '.join(consumers) if consumers else 'none declared'}"
            )
            result.schema_change = {"change": "breaking", "problems": problems, "consumers": consumers}
            _quarantine_all(con, snap, "breaking_change", result.detail, unreadable)
            con.execute(
                "INSERT INTO ops.schema_changes VALUES (?, ?, ?, getvariable('snapshot_at'), 'breaking', ?, ?, ?, getvariable('batch_id'))",
                [
                    contract.name,
                    snap.sha256,
                    snap.file.rel,
                    missing or [p.split()[1] for p in problems],
                    result.detail,
                    consumers,
                ],
            )
            result.records = snap.table.num_rows + len(unreadable)
            result.quarantined = result.records
        else:
            if added:
                _add_columns(con, snap, added, result)
            _load_rows(con, snap, target, unreadable, result)
        _record_file(con, snap, result)
        record_batch(con, batch_id, "extract", contract.domain, started_at)
        con.execute("DROP TABLE _snap")
    con.unregister("_snap_in")
    return result


def _row_json(names: list[str], alias: str = "s") -> str:
    """The row as a JSON object of its landed columns, for quarantine."""
    return (
        "to_json(struct_pack("
        + ", ".join(f"{quote_ident(n)} := {alias}.{quote_ident(n)}" for n in names)
        + "))::VARCHAR"
    )


def _quarantine_all(
    con: duckdb.DuckDBPyConnection,
    snap: Snapshot,
    reason: str,
    detail: str,
    unreadable: list[tuple[int, str, str, str]],
) -> None:
    names = [n for n in snap.table.column_names if n != ROW_NO]
    con.execute(
        f"""
        INSERT INTO quarantine.extract_rows
        SELECT ?, ?, ?, getvariable('snapshot_at'), s._row_no, {_row_json(names)}, ?, ?, getvariable('batch_id')
        FROM _snap s
        """,
        [snap.contract.name, snap.sha256, snap.file.rel, reason, detail],
    )
    _quarantine_unreadable(con, snap, unreadable)


def _quarantine_unreadable(
    con: duckdb.DuckDBPyConnection, snap: Snapshot, unreadable: list[tuple[int, str, str, str]]
) -> None:
    for row_no, text, reason, detail in unreadable:
        con.execute(
            "INSERT INTO quarantine.extract_rows VALUES (?, ?, ?, getvariable('snapshot_at'), ?, ?, ?, ?, getvariable('batch_id'))",
            [snap.contract.name, snap.sha256, snap.file.rel, row_no, text, reason, detail],
        )


def _add_columns(con: duckdb.DuckDBPyConnection, snap: Snapshot, added: list[str], result: FileResult) -> None:
    contract = snap.contract
    existing = table_columns(con, raw_schema(contract.domain), contract.table)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE _snap)").fetchall())
    new = [name for name in added if name not in existing]
    for name in new:
        con.execute(f"ALTER TABLE {extract_table(contract)} ADD COLUMN {quote_ident(name)} {types[name]}")
    consumers = declared_consumers(contract.name, manifest=snap.manifest, con=con)
    detail = f"additive change to {contract.name}: new column{'s' if len(added) > 1 else ''} {', '.join(added)}"
    result.schema_change = {"change": "additive", "columns": added, "new_in_warehouse": new}
    result.detail = detail
    if new:
        con.execute(
            "INSERT INTO ops.schema_changes VALUES (?, ?, ?, getvariable('snapshot_at'), 'additive', ?, ?, ?, getvariable('batch_id'))",
            [contract.name, snap.sha256, snap.file.rel, new, detail, consumers],
        )


def _cast_name(column: str) -> str:
    return quote_ident(f"__cast_{column}")


def _row_rules(contract: ExtractContract, types: dict[str, str]) -> str:
    branches = []
    for column in contract.columns:
        cast = _cast_name(column.name)
        source = quote_ident(column.name)
        is_text = types[column.name] == "VARCHAR"
        empty = f"({source} IS NULL OR trim({source}) = '')" if is_text else f"{source} IS NULL"
        if column.required:
            branches.append((empty, f"missing_required:{column.name}"))
        branches.append((f"NOT {empty} AND {cast} IS NULL", f"wrong_type:{column.name}"))
        if column.enum:
            allowed = ", ".join(quote_literal(v) for v in column.enum)
            branches.append(
                (f"{cast} IS NOT NULL AND {cast}::VARCHAR NOT IN ({allowed})", f"invalid_value:{column.name}")
            )
    return "CASE " + " ".join(f"WHEN {c} THEN {quote_literal(v)}" for c, v in branches) + " END"


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    snap: Snapshot,
    target: str,
    unreadable: list[tuple[int, str, str, str]],
    result: FileResult,
) -> None:
    contract = snap.contract
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE _snap)").fetchall())
    casts = ", ".join(
        f"{extract_cast_sql(contract, c.name, types[c.name])} AS {_cast_name(c.name)}" for c in contract.columns
    )
    extras = [name for name in types if name != ROW_NO and contract.column(name) is None]
    pk = ", ".join(quote_ident(k) for k in contract.primary_key)
    content = ", ".join(quote_ident(c.name) for c in contract.columns)
    landed = ", ".join(f"{_cast_name(c.name)} AS {quote_ident(c.name)}" for c in contract.columns)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _rows AS
        SELECT _row_no, {landed}{"".join(", " + quote_ident(n) for n in extras)}, verdict, FALSE AS is_copy
        FROM (SELECT *, {_row_rules(contract, types)} AS verdict FROM (SELECT *, {casts} FROM _snap))
        """
    )
    # one row per key: later copies of a row are duplicates; other values under a seen key are not
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _keys AS
        SELECT {pk}, min(_row_no) AS first_row, count(DISTINCT hash({content})) AS variants
        FROM _rows WHERE verdict IS NULL GROUP BY ALL HAVING count(*) > 1
        """
    )
    if con.execute("SELECT count(*) FROM _keys").fetchone() != (0,):
        key_match = " AND ".join(f"r.{quote_ident(k)} = k.{quote_ident(k)}" for k in contract.primary_key)
        con.execute(
            f"""
            UPDATE _rows r SET is_copy = k.variants = 1,
                verdict = CASE WHEN k.variants > 1 THEN 'duplicate_key:same key as an earlier row with other values' END
            FROM _keys k WHERE {key_match} AND r._row_no <> k.first_row
            """
        )
    pk_match = " AND ".join(f"t.{quote_ident(k)} = r.{quote_ident(k)}" for k in contract.primary_key)
    columns = [quote_ident(c.name) for c in contract.columns] + [quote_ident(n) for n in extras]
    con.execute(
        f"""
        INSERT INTO {target} ({", ".join(columns)}, _snapshot_at, _file_id, _row_no, _batch_id, _ingested_at)
        SELECT {", ".join("r." + c for c in columns)}, getvariable('snapshot_at'), ?, r._row_no, getvariable('batch_id'),
               now()
        FROM _rows r
        WHERE r.verdict IS NULL AND NOT r.is_copy
          AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t._snapshot_at = getvariable('snapshot_at') AND {pk_match})
        """,
        [snap.sha256],
    )
    con.execute(
        f"""
        INSERT INTO quarantine.extract_rows
        SELECT ?, ?, ?, getvariable('snapshot_at'), r._row_no, {_row_json([n for n in snap.table.column_names if n != ROW_NO])},
               split_part(r.verdict, ':', 1), substr(r.verdict, strpos(r.verdict, ':') + 1), getvariable('batch_id')
        FROM _rows r JOIN _snap s USING (_row_no) WHERE r.verdict IS NOT NULL
        """,
        [contract.name, snap.sha256, snap.file.rel],
    )
    _quarantine_unreadable(con, snap, unreadable)
    counts = con.execute(
        f"""
        SELECT (SELECT count(*) FROM _rows) + ?,
               (SELECT count(*) FROM {target} WHERE _file_id = ? AND _batch_id = getvariable('batch_id')),
               (SELECT count(*) FROM quarantine.extract_rows WHERE file_id = ? AND batch_id = getvariable('batch_id'))
        """,
        [len(unreadable), snap.sha256, snap.sha256],
    ).fetchone()
    assert counts is not None
    result.records, result.loaded, result.quarantined = (int(v) for v in counts)
    result.duplicates = result.records - result.loaded - result.quarantined
    con.execute("DROP TABLE _rows; DROP TABLE _keys")


def _record_file(con: duckdb.DuckDBPyConnection, snap: Snapshot, result: FileResult) -> None:
    if result.duplicates < 0:
        raise AssertionError(f"reconciliation failed for {snap.file.rel}")
    con.execute(
        """
        INSERT INTO ops.files VALUES (?, ?, ?, ?, 'extract', ?, getvariable('snapshot_at'), ?, ?, ?, ?, ?, ?, ?,
                                      getvariable('batch_id'), now())
        """,
        [
            snap.sha256,
            snap.content_sha256,
            snap.file.rel,
            snap.contract.domain,
            snap.contract.table,
            snap.bytes,
            result.records,
            result.loaded,
            result.duplicates,
            result.quarantined,
            result.status,
            result.detail,
        ],
    )
    con.execute(
        "INSERT INTO ops.paths VALUES (?, ?, ?, ?, now())", [snap.file.rel, snap.sha256, snap.bytes, snap.mtime_ns]
    )
