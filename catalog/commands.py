"""The answers behind `agora catalog …`, read from the serving snapshot.

Readers never open the warehouse (DESIGN.md, guarantee 5): these questions read `catalog.*`
from `serving.duckdb`, read-only, so they work while a build runs. Each question returns plain
rows (lists of dicts, JSON-ready); `as_table` turns rows into a rich table for a person.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.impact import impact
from catalog.store import CatalogTables, has_catalog, read_tables
from catalog.usage import COUNTED_AS_READ
from catalog.validate import UnknownNameError, resolve_target
from pipelines.errors import AgoraError
from pipelines.home import Home

if TYPE_CHECKING:
    import duckdb

FINDING_KINDS = ("hidden", "stale", "bypass", "unowned")


def open_serving(home: Home) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the home's serving snapshot; a clear error when there is none."""
    import duckdb

    if not home.serving.exists():
        raise AgoraError(f"no serving snapshot in {home.root} yet: run `agora catalog refresh` (or `agora run`)")
    try:
        return duckdb.connect(str(home.serving), read_only=True)
    except duckdb.Error as exc:
        raise AgoraError(f"cannot open the serving snapshot {home.serving}: {str(exc).splitlines()[0]}") from None


def load_serving_catalog(home: Home) -> CatalogTables:
    """`catalog.*` of the serving snapshot; a clear error when there is none yet."""
    con = open_serving(home)
    try:
        if not has_catalog(con):
            raise AgoraError(f"the serving snapshot {home.serving} has no catalog yet: run `agora catalog refresh`")
        return read_tables(con)
    finally:
        con.close()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def findings(tables: CatalogTables, kind: str) -> list[dict[str, Any]]:
    if kind not in FINDING_KINDS:
        raise AgoraError(f"unknown finding kind {kind!r}; use one of {', '.join(FINDING_KINDS)}")
    return [{k: _plain(v) for k, v in asdict(f).items()} for f in tables.findings if f.kind == kind]


def _dataset(tables: CatalogTables, text: str, column_allowed: bool) -> tuple[str, str | None]:
    columns: dict[str, list[str]] = {d.dataset: [] for d in tables.datasets}
    for row in tables.columns:
        columns.setdefault(row.dataset, []).append(row.column)
    aliases = {d.relation: d.dataset for d in tables.datasets if d.relation and d.relation != d.dataset}
    dataset, column = resolve_target(text, {d: tuple(c) for d, c in columns.items()}, aliases)
    if column is not None and not column_allowed:
        raise UnknownNameError(f"name a dataset, not a column: {dataset}")
    return dataset, column


def owners(tables: CatalogTables, dataset: str | None = None) -> list[dict[str, Any]]:
    """Who owns each dataset (or one), with its layer and access."""
    wanted = _dataset(tables, dataset, column_allowed=False)[0] if dataset else None
    return [
        {
            "dataset": d.dataset,
            "relation": d.relation,
            "layer": d.layer,
            "access": d.access,
            "domain": d.domain,
            "owner_team": d.owner_team,
            "owner_contact": d.owner_contact,
        }
        for d in sorted(tables.datasets, key=lambda d: (d.domain or "~", d.layer, d.dataset))
        if wanted is None or d.dataset == wanted
    ]


def consumers(tables: CatalogTables, dataset: str) -> list[dict[str, Any]]:
    """Every consumer of one dataset, declared and observed, with its status: ok (declared and
    read), hidden (read, not declared), stale (declared, not read lately), refused (declared,
    tried, and the gateway refused every attempt: access.yml lacks a grant)."""
    name = _dataset(tables, dataset, column_allowed=False)[0]
    owner = {c.consumer: c.owner_email for c in tables.consumers}
    acting = {c.consumer: c.principals for c in tables.consumers}
    rows: dict[tuple[str | None, str | None], dict[str, Any]] = {}

    def row(consumer: str | None, principal: str | None) -> dict[str, Any]:
        return rows.setdefault(
            (consumer, None if consumer else principal),
            {
                "consumer": consumer,
                "owner": owner.get(consumer) if consumer else None,
                "principals": set(),
                "declared_columns": None,
                "declared": False,
                "observed_columns": set(),
                "queries": 0,
                "refused": 0,
                "last_seen": None,
                "status": "ok",
            },
        )

    for read in tables.declared_reads:
        if read.dataset == name:
            item = row(read.consumer, None)
            item["declared"] = True
            item["principals"].update(acting.get(read.consumer, ()))
            if read.column:
                item["declared_columns"] = sorted({*(item["declared_columns"] or []), read.column})
    for seen in tables.observed_reads:
        if seen.dataset != name:
            continue
        if seen.decision not in COUNTED_AS_READ:
            if seen.column is None and (seen.consumer, None) in rows:
                rows[(seen.consumer, None)]["refused"] += seen.queries
            continue
        item = row(seen.consumer, seen.principal)
        item["principals"].add(seen.principal)
        if seen.column is None:
            item["queries"] += seen.queries
            item["last_seen"] = max(filter(None, (item["last_seen"], seen.last_seen)))
        else:
            item["observed_columns"].add(seen.column)
    for finding in tables.findings:
        if finding.dataset == name and finding.kind in ("hidden", "stale"):
            key = (finding.consumer, None if finding.consumer else finding.principal)
            if key in rows and (finding.kind == "hidden" or finding.column is None):
                rows[key]["status"] = finding.kind
    for item in rows.values():
        if item["status"] == "ok" and item["declared"] and not item["queries"] and item["refused"]:
            item["status"] = "refused"
    result = []
    for item in sorted(rows.values(), key=lambda r: (r["consumer"] or "~", sorted(r["principals"]))):
        item["principals"] = sorted(item["principals"])
        item["observed_columns"] = sorted(item["observed_columns"])
        item["last_seen"] = _plain(item["last_seen"])
        result.append(item)
    return result


def impact_of(tables: CatalogTables, target: str) -> dict[str, Any]:
    dataset, column = _dataset(tables, target, column_allowed=True)
    return impact(tables, dataset, column).as_dict()


def as_table(rows: list[dict[str, Any]], title: str, columns: tuple[str, ...] | None = None) -> Any:
    """A rich table of rows (lists shown comma-separated, None as blank)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    names = list(columns or (rows[0].keys() if rows else ()))
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in names))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def as_findings(rows: list[dict[str, Any]], title: str) -> Any:
    """Findings for a person: one block each (what, who, detail, notify) — too wordy for columns."""
    from rich.console import Group
    from rich.text import Text

    blocks: list[Any] = [Text(f"{title}: {len(rows)}", style="bold")]
    for row in rows:
        target = f"{row['dataset']}.{row['column']}" if row.get("column") else row["dataset"]
        who = row.get("consumer") or (f"principal {row['principal']}" if row.get("principal") else "")
        if row.get("model"):
            who = f"model {row['model']}"
        head = Text()
        head.append(f"{row['severity']:<5} ", style="red" if row["severity"] == "error" else "yellow")
        head.append(target, style="bold")
        if who:
            head.append(f"  {who}")
        blocks.append(head)
        blocks.append(Text(f"      {row['detail']}"))
        if row.get("notify"):
            blocks.append(Text(f"      notify: {row['notify']}", style="dim"))
    return Group(*blocks)
