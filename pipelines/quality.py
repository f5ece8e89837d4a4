"""Data quality: run the Great Expectations suites of `expectations/` against the warehouse.

The suites say what dbt tests cannot: value ranges and distributions, null rates under a
threshold, row-count drift against the previous validated load, freshness of event time, and
how bad a failure is (`error` blocks downstream, `warn` does not). Their format is described in
expectations/README.md.

Lives in pipelines/ beside `checks.py` (contracts compiled to checks) because it is the same kind
of thing: declarations in YAML compiled to checks and run over warehouse tables through a
connection. It reads only the warehouse and writes only `<home>/quality/`; it imports nothing
from models/ or catalog/, so both raw tables and marts can use it without a backwards import.

GE 1.x has no DuckDB engine (its SQLAlchemy route fails on metrics), so the dataset is pulled out
of DuckDB into pandas: only the columns the suite names, payload fields extracted by DuckDB in
SQL, never the raw JSON, through Arrow into numpy dtypes that GE's pandas engine compares and
aggregates vectorised (a nullable `Int32` or a `Decimal` column makes it call Python per row).
Every expectation runs on every row; nothing is sampled. The GE context is ephemeral (in memory,
no network, no usage statistics); only its Data Docs are written, to
`<home>/quality/data_docs/<dataset>/` (latest run), after the validation and timed apart from it,
with views that compile GE's page templates once per process (`pipelines.quality_docs`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Final

import duckdb

from pipelines import yaml_text
from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home

log = logging.getLogger(__name__)

# GE reads this when it is imported; set it before any import of great_expectations.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

STATE_FILE = "state.json"
DOCS_DIR = "data_docs"
DOCS_SITE = "agora"
CLOCK_ENV = "AGORA_QUALITY_CLOCK"  # `now` makes every suite use the wall clock (production)
# BASIC has everything an Outcome reports (counts, percentages, up to 20 unexpected values);
# SUMMARY adds the unexpected rows' index list and a query over them, two more passes over the
# whole frame per column-map expectation that nothing here reads.
RESULT_FORMAT: Final = "BASIC"


class Severity(StrEnum):
    ERROR = "error"  # blocks downstream assets
    WARN = "warn"  # reported, never blocks


class Clock(StrEnum):
    """What "now" means for freshness. Simulated data lives in its own time line, so the
    default is the data's own clock, never the wall clock."""

    SNAPSHOT = "snapshot"  # the validated extract snapshot's own time (`_snapshot_at`)
    DATA = "data"  # the latest time any producer stamped on anything landed in the warehouse
    NOW = "now"  # the wall clock


class SuiteError(AgoraError):
    """A suite file that cannot be compiled (unknown expectation, missing key…)."""


# ---------------------------------------------------------------- suites (pure, from YAML)


@dataclass(frozen=True)
class ExpectationSpec:
    expect: str  # GE name without the `expect_` prefix, or `row_count_drift` / `freshness`
    kwargs: dict[str, Any]
    severity: Severity
    why: str = ""
    name: str | None = None  # a label of the suite's choosing, when the default is ambiguous

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        column = self.kwargs.get("column") or ",".join(self.kwargs.get("column_list", [])) or ""
        condition = self.kwargs.get("row_condition")
        where = f" where {condition}" if condition else ""
        return f"{self.expect}({column}){where}"


@dataclass(frozen=True)
class Suite:
    dataset: str  # schema.table
    asset: tuple[str, ...]  # the Dagster asset key the check attaches to
    description: str
    severity: Severity  # the suite's default (expectations may override)
    clock: Clock
    columns: dict[str, str]  # pandas column name -> SQL expression over the table
    where: str | None
    snapshot: str | None  # "latest": validate only the latest extract snapshot
    expectations: tuple[ExpectationSpec, ...]
    path: Path | None = None

    @property
    def blocking(self) -> bool:
        """An error-severity expectation makes the check blocking (a WARN result never blocks)."""
        return any(e.severity is Severity.ERROR for e in self.expectations)


def expectations_dir() -> Path:
    return Path(os.environ.get("AGORA_EXPECTATIONS") or REPO_ROOT / "expectations")


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _payload_expression(name: str, spec: Mapping[str, Any]) -> str:
    """`{event_type, field, as}` -> the field of that event type's payload, typed; null elsewhere."""
    field_name = spec.get("field", name)
    sql_type = spec.get("as", "VARCHAR")
    event_type = spec["event_type"]
    for value in (field_name, event_type):
        if not re.fullmatch(r"[A-Za-z0-9_.]+", str(value)):
            raise SuiteError(f"payload column {name}: bad field or event type {value!r}")
    extract = f"TRY_CAST(json_extract_string(data, '$.{field_name}') AS {sql_type})"
    return f"CASE WHEN type = '{event_type}' THEN {extract} END"


def parse_suite(document: Mapping[str, Any], path: Path | None = None) -> Suite:
    where = f" ({path.name})" if path else ""
    try:
        dataset = str(document["dataset"])
        default = Severity(document.get("severity", "error"))
        columns: dict[str, str] = {}
        for name, expression in (document.get("columns") or {}).items():
            columns[name] = str(expression if expression is not None else name)
        for name, spec in (document.get("payload") or {}).items():
            columns[name] = _payload_expression(name, spec)
        for name in columns:
            if not _IDENT.match(name):
                raise SuiteError(f"column name {name!r} is not an identifier{where}")
        expectations = []
        for item in document.get("expectations") or []:
            item = dict(item)
            expect = str(item.pop("expect")).removeprefix("expect_")
            severity = Severity(item.pop("severity", default))
            why = " ".join(str(item.pop("why", "")).split())
            name = item.pop("name", None)
            spec = ExpectationSpec(expect=expect, kwargs=item, severity=severity, why=why, name=name)
            _ge_class(spec)  # fail on load, not at validation time
            expectations.append(spec)
        snapshot = document.get("snapshot")
        clock = Clock(document.get("clock", Clock.SNAPSHOT if snapshot else Clock.DATA))
        asset = tuple(document.get("asset") or dataset.split("."))
        return Suite(
            dataset=dataset,
            asset=asset,
            description=" ".join(str(document.get("description", "")).split()),
            severity=default,
            clock=clock,
            columns=columns,
            where=document.get("where"),
            snapshot=snapshot,
            expectations=tuple(expectations),
            path=path,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SuiteError(f"invalid expectation suite{where}: {exc}") from None


def load_suite(path: Path) -> Suite:
    return parse_suite(yaml_text.safe_load(path.read_text()), path)


def load_suites(directory: Path | None = None) -> dict[str, Suite]:
    """Every suite in expectations/, by dataset (`raw_sales.events`, `marts.order_to_cash`)."""
    suites = [load_suite(p) for p in sorted((directory or expectations_dir()).glob("*.yml"))]
    return {s.dataset: s for s in suites}


# ---------------------------------------------------------------- GE expectations

_SPECIAL = {"row_count_drift", "freshness"}


def _camel(name: str) -> str:
    return "Expect" + "".join(part.capitalize() for part in name.split("_"))


def _ge_class(spec: ExpectationSpec) -> type:
    if spec.expect in _SPECIAL:
        return type(None)
    import great_expectations as gx

    cls = getattr(gx.expectations, _camel(spec.expect), None)
    if cls is None:
        raise SuiteError(f"unknown expectation expect_{spec.expect}")
    return cls  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Context:
    """What a suite is compiled against at run time."""

    clock: datetime  # "now" for freshness
    previous_rows: int | None  # rows at the previous validated load (row-count drift)


def compile_expectation(spec: ExpectationSpec, context: Context) -> Any:
    """A suite entry -> a GE expectation. The two specials become plain GE expectations whose
    bounds come from the run context, so Data Docs show the bounds actually applied."""
    import great_expectations as gx

    meta: dict[str, Any] = {"severity": str(spec.severity), "why": spec.why, "agora": spec.expect}
    kwargs = dict(spec.kwargs)
    if spec.expect == "row_count_drift":
        previous = context.previous_rows
        shrink = kwargs.get("max_shrink")
        growth = kwargs.get("max_growth")
        if previous is None:
            meta["note"] = "no previous validated load: nothing to compare with"
            bounds: dict[str, Any] = {"min_value": 0, "max_value": None}
        else:
            meta["previous_rows"] = previous
            bounds = {
                "min_value": int(previous * (1 - shrink)) if shrink is not None else None,
                "max_value": int(previous * (1 + growth)) + 1 if growth is not None else None,
            }
        return gx.expectations.ExpectTableRowCountToBeBetween(**bounds, meta=meta)
    if spec.expect == "freshness":
        clock = context.clock
        within = timedelta(days=float(kwargs["within_days"]))
        ahead = kwargs.get("ahead_days")
        meta["clock"] = clock.isoformat()
        return gx.expectations.ExpectColumnMaxToBeBetween(
            column=kwargs["column"],
            min_value=clock - within,
            max_value=clock + timedelta(days=float(ahead)) if ahead is not None else None,
            meta=meta,
        )
    if kwargs.get("row_condition"):
        kwargs.setdefault("condition_parser", "pandas")
    return _ge_class(spec)(**kwargs, meta=meta)


# ---------------------------------------------------------------- loading (I/O)


def _relation(suite: Suite) -> str:
    schema, table = suite.dataset.split(".", 1)
    return f'"{schema}"."{table}"'


def _filter(suite: Suite) -> str:
    conditions = []
    if suite.snapshot == "latest":
        conditions.append(f"_snapshot_at = (SELECT max(_snapshot_at) FROM {_relation(suite)})")
    if suite.where:
        conditions.append(f"({suite.where})")
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def load_sql(suite: Suite) -> str:
    """Column projection: only what the expectations need, payload fields parsed by DuckDB."""
    select = ", ".join(f'{expression} AS "{name}"' for name, expression in suite.columns.items()) or "1 AS _row"
    return f"SELECT {select} FROM {_relation(suite)}{_filter(suite)}"


def _numpy_friendly(column: Any) -> Any:
    """One Arrow column cast to what GE's pandas engine handles vectorised: GE compares and
    aggregates only int64/float64/datetime64 columns in numpy; a nullable `Int32`, a `float32`
    or a `Decimal` object column makes it call Python once per row (`map`, Decimal scans).

    Integers with nulls become float64 (NaN is pandas' null; exact up to 2**53), other integers
    int64; decimals and floats float64; dates and time-zoned timestamps naive datetimes (UTC
    instants). Everything else is left to Arrow's own conversion."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return column.cast(pa.timestamp(kind.unit))  # keeps the UTC instant, drops the zone
    if pa.types.is_date(kind):
        return column.cast(pa.timestamp("us"))
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        return column.cast(pa.float64())
    if pa.types.is_integer(kind):
        if column.null_count == 0:
            try:
                return column.cast(pa.int64())
            except pa.ArrowInvalid:  # an unsigned 64-bit value beyond int64
                pass
        return column.cast(pa.float64())
    return column


def frame_from_arrow(table: Any) -> Any:
    """An Arrow table as the pandas frame GE validates (see `_numpy_friendly`); strings stay
    Arrow-backed (pandas' `str`), booleans nullable `boolean`, so nothing becomes object dtype."""
    import pandas as pd
    import pyarrow as pa

    table = pa.table([_numpy_friendly(c) for c in table.columns], names=table.column_names)
    return table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, split_blocks=True)


def floated_integers(table: Any) -> frozenset[str]:
    """The integer columns `frame_from_arrow` holds as float64 (they have nulls): their unexpected
    values are reported as the integers they are."""
    import pyarrow as pa

    return frozenset(
        name
        for name, column in zip(table.column_names, table.columns, strict=True)
        if pa.types.is_integer(column.type) and column.null_count
    )


def load_table(con: duckdb.DuckDBPyConnection, suite: Suite) -> Any:
    """The dataset as an Arrow table (DuckDB's columnar result, no per-row Python).

    A relation's Arrow output is zero-copy (a DB-API result's is copied once more), but a relation
    refuses to run while the connection holds an unfinished `execute()` result, which `execute()`
    itself would silently drop: run any such result to its end first, as `execute()` would have."""
    con.complete()
    return con.sql(load_sql(suite)).to_arrow_table()


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime.fromisoformat(str(value))


def data_clock(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest producer time landed anywhere: event `time` and extract `_snapshot_at`.
    In production that tracks the wall clock; in a simulation it is the simulated now."""
    tables = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema LIKE 'raw\\_%' ESCAPE '\\' "
        "AND ((table_name = 'events' AND column_name = 'time') OR column_name = '_snapshot_at')"
    ).fetchall()
    if not tables:
        return None
    union = " UNION ALL ".join(f'SELECT max("{c}") AS t FROM "{s}"."{t}"' for s, t, c in tables)
    # fetchall, not fetchone: a result left unfinished blocks the connection's next statement
    ((latest,),) = con.execute(f"SELECT max(t) FROM ({union})").fetchall()
    return _timestamp(latest)


def clock_for(con: duckdb.DuckDBPyConnection, suite: Suite) -> datetime:
    clock = Clock(os.environ.get(CLOCK_ENV) or suite.clock)
    if clock is Clock.SNAPSHOT:
        ((latest,),) = con.execute(f"SELECT max(_snapshot_at) FROM {_relation(suite)}").fetchall()
        found = _timestamp(latest)
    elif clock is Clock.DATA:
        found = data_clock(con)
    else:
        found = None
    return found or datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict."""

    label: str
    expectation: str  # the GE expectation type run
    column: str | None
    severity: Severity
    passed: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    partial_unexpected: list[Any] = field(default_factory=list)
    bounds: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-able, for metadata and logs."""
        summary: dict[str, Any] = {"severity": str(self.severity), "passed": self.passed}
        for key in ("observed_value", "unexpected_count", "unexpected_percent", "element_count"):
            value = getattr(self, key)
            if value is not None:
                summary[key] = _jsonable(value)
        if self.partial_unexpected:
            summary["unexpected_examples"] = _jsonable(self.partial_unexpected[:5])
        if self.bounds:
            summary["expected"] = _jsonable(self.bounds)
        if self.error:
            summary["error"] = self.error
        return summary


@dataclass(frozen=True)
class QualityResult:
    dataset: str
    asset: tuple[str, ...]
    rows: int
    seconds: float  # load + validate + docs
    load_seconds: float  # DuckDB -> Arrow -> pandas, and the run context (clock, previous load)
    validate_seconds: float  # GE: its ephemeral context, the suite, the checkpoint run
    clock: datetime
    outcomes: tuple[Outcome, ...]
    docs_page: Path | None
    previous_rows: int | None
    docs_seconds: float = 0.0  # writing Data Docs, after the validation

    @property
    def failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def severity(self) -> Severity | None:
        """ERROR when an error-severity expectation failed, WARN when only warn ones did."""
        failures = self.failures
        if not failures:
            return None
        return Severity.ERROR if any(o.severity is Severity.ERROR for o in failures) else Severity.WARN

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.ERROR

    def outcome(self, label_prefix: str) -> Outcome:
        return next(o for o in self.outcomes if o.label.startswith(label_prefix))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _bounds(config: Any) -> dict[str, Any]:
    kwargs = dict(config.kwargs)
    keys = ("min_value", "max_value", "mostly", "value_set", "quantile_ranges")
    return {k: kwargs[k] for k in keys if kwargs.get(k) is not None}


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _outcome(spec: ExpectationSpec, result: Any, floated: frozenset[str] = frozenset()) -> Outcome:
    body = result.result or {}
    partial = _jsonable(list(body.get("partial_unexpected_list") or []))
    if spec.column in floated:
        partial = [_integral(v) for v in partial]
    exception = result.exception_info or {}
    error = exception.get("exception_message") if exception.get("raised_exception") else None
    return Outcome(
        label=spec.label,
        expectation=str(result.expectation_config.type),
        column=spec.column,
        severity=spec.severity,
        passed=bool(result.success),
        observed_value=_jsonable(body.get("observed_value")),
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=body.get("unexpected_percent"),
        element_count=body.get("element_count"),
        partial_unexpected=partial,
        bounds=_jsonable(_bounds(result.expectation_config)),
        why=spec.why,
        error=error,
    )


# ---------------------------------------------------------------- state (previous validated load)


def quality_dir(home: Home) -> Path:
    return home.root / "quality"


def read_state(home: Home) -> dict[str, Any]:
    path = quality_dir(home) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {"datasets": {}}


def previous_rows(home: Home, dataset: str) -> int | None:
    entry = read_state(home)["datasets"].get(dataset)
    return int(entry["rows"]) if entry else None


def record_validated(home: Home, result: QualityResult) -> None:
    """Remember this load as the baseline, only when it passed or merely warned: an error
    load must not become the yardstick of the next one."""
    if result.blocks:
        return
    state = read_state(home)
    state["datasets"][result.dataset] = {
        "rows": result.rows,
        "validated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "outcome": "passed" if result.passed else "warned",
        "docs_page": str(result.docs_page) if result.docs_page else None,
    }
    path = quality_dir(home) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=2, sort_keys=True))
    scratch.replace(path)


# ---------------------------------------------------------------- the run


@cache
def _quiet_ge() -> None:
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _context(docs: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_ge()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs is not None:
        # GE's TypedDict for a site omits `site_section_builders`, which its SiteBuilder takes
        context.add_data_docs_site(site_name=DOCS_SITE, site_config=_site_config(docs))  # type: ignore[arg-type]
    return context


def _site_config(docs: Path) -> dict[str, Any]:
    """GE's default site, but with views that compile the page templates once per process."""
    page = {"view": {"module_name": "pipelines.quality_docs", "class_name": "PageView"}}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": "pipelines.quality_docs", "class_name": "IndexPageView"},
        },
        "site_section_builders": {"expectations": page, "validations": page, "profiling": page},
    }


def _build_docs(context: Any, identifier: Any, suite_name: str) -> Path | None:
    """Render this validation's page (and its suite's page and the site index), as GE's
    UpdateDataDocsAction would, but after the validation so its time is not counted as GE's."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    context.build_data_docs(
        site_names=[DOCS_SITE], resource_identifiers=[identifier, ExpectationSuiteIdentifier(name=suite_name)]
    )
    urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
    url = urls[0].get("site_url") if urls else None
    if not url:
        return None
    return Path(url.removeprefix("file://"))


def validate(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    home: Home,
    *,
    docs: bool = True,
    record: bool = True,
) -> QualityResult:
    """Load the dataset, run its suite, write Data Docs, and (unless an error-severity
    expectation failed) remember the row count for the next load's drift check."""
    import great_expectations as gx

    started = time.perf_counter()
    table = load_table(con, suite)
    frame, floated = frame_from_arrow(table), floated_integers(table)
    del table  # the frame holds what it needs; free the columns it holds cast before GE runs
    context_values = Context(clock=clock_for(con, suite), previous_rows=previous_rows(home, suite.dataset))
    loaded = time.perf_counter()

    # one site per dataset: GE rebuilds a site from its (in-memory) stores and deletes pages it
    # does not know, so a shared site would keep only the dataset validated last
    docs_dir = quality_dir(home) / DOCS_DIR / suite.dataset if docs else None
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context(docs_dir)
    batch = (
        context.data_sources.add_pandas(name="warehouse")
        .add_dataframe_asset(name=suite.dataset)
        .add_batch_definition_whole_dataframe(name="load")
    )
    ge_suite = context.suites.add(gx.ExpectationSuite(name=suite.dataset))
    # GE folds identical expectations into one (e.g. both drift bounds before any previous load):
    # remember which GE expectation answers each suite entry (a duplicate comes back without an id)
    answered_by = []
    for spec in suite.expectations:
        added = ge_suite.add_expectation(compile_expectation(spec, context_values))
        answered_by.append(
            added
            if added.id
            else next(e for e in ge_suite.expectations if ge_suite._expectations_are_equalish(added, e))
        )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=ge_suite, name=suite.dataset)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name=suite.dataset, validation_definitions=[definition], result_format=RESULT_FORMAT)
    )
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    ((identifier, validation),) = run.run_results.items()
    validated = time.perf_counter()
    docs_page = _build_docs(context, identifier, suite.dataset) if docs else None
    documented = time.perf_counter()

    by_id = {r.expectation_config.id: r for r in validation.results}
    outcomes = tuple(_outcome(s, by_id[e.id], floated) for s, e in zip(suite.expectations, answered_by, strict=True))
    result = QualityResult(
        dataset=suite.dataset,
        asset=suite.asset,
        rows=len(frame),
        seconds=documented - started,
        load_seconds=loaded - started,
        validate_seconds=validated - loaded,
        clock=context_values.clock,
        outcomes=outcomes,
        docs_page=docs_page,
        previous_rows=context_values.previous_rows,
        docs_seconds=documented - validated,
    )
    if record:
        record_validated(home, result)
    return result
