"""Impact: everything downstream of a dataset or one of its columns, and who to tell.

    from catalog.store import read_tables
    from catalog.impact import impact

    tables = read_tables(con)                      # catalog.* of the warehouse or serving.duckdb
    result = impact(tables, "sales.customers", "email")
    result.datasets    # ImpactedDataset per downstream dataset: which columns (() = all of it)
    result.consumers   # ImpactedConsumer per (consumer, dataset): declared and/or observed
    result.notify      # every owner contact to tell, sorted
    result.as_dict()   # the same, JSON-ready

It works from the catalog tables only (no manifest, no log), so `agora catalog diff`, landing's
breaking-extract guard and the CLI all give the same answer. Rules:
- a whole dataset changing (column=None) impacts every dataset downstream of it, whole;
- a column follows column lineage; an edge into '*' (the column filters, joins, groups or
  orders the downstream rows) makes that whole downstream dataset impacted, and so everything
  below it; a downstream model with table lineage but no column lineage from the dataset
  (its SQL could not be read) is taken as wholly impacted — unknown is not "safe" — except
  below an ephemeral model, which dbt inlines: there the column edges start at its inputs;
- consumers of an impacted dataset are impacted when they declare it (whole, or one of the
  impacted columns) or were observed reading it (the whole dataset, or an impacted column);
  observed but not declared is a hidden consumer, reported as such.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

from catalog.store import CatalogTables
from catalog.usage import COUNTED_AS_READ
from catalog.validate import UnknownNameError, closest

WHOLE = None  # the impacted columns of a dataset: None = all of it
# what impact() reads: a caller with a database reads just these (not the query shapes or findings)
IMPACT_TABLES = ("datasets", "columns", "consumers", "declared_reads", "observed_reads", "lineage", "column_lineage")


@dataclass(frozen=True)
class ImpactedDataset:
    dataset: str
    columns: tuple[str, ...]  # () = the whole dataset
    distance: int  # 0: the dataset asked about; 1: read it directly; …
    reached_from: str | None  # the upstream dataset it was reached through
    layer: str
    domain: str | None
    owner_team: str | None
    owner_contact: str | None


@dataclass(frozen=True)
class ImpactedConsumer:
    consumer: str | None  # None: principals acting for no consumer
    principals: tuple[str, ...]
    owner: str | None  # the consumer's owner email (None for principals without consumer)
    dataset: str
    columns: tuple[str, ...]  # the impacted columns it declares or read (() = the whole dataset)
    declared: bool
    observed: bool

    @property
    def hidden(self) -> bool:
        return self.observed and not self.declared


@dataclass(frozen=True)
class Impact:
    dataset: str
    column: str | None
    datasets: tuple[ImpactedDataset, ...]
    consumers: tuple[ImpactedConsumer, ...]
    notify: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "datasets": [asdict(d) for d in self.datasets],
            "consumers": [{**asdict(c), "hidden": c.hidden} for c in self.consumers],
            "notify": list(self.notify),
        }


def _check_target(tables: CatalogTables, dataset: str, column: str | None) -> None:
    names = {d.dataset for d in tables.datasets}
    if dataset not in names:
        found = closest(dataset, names)
        raise UnknownNameError(f"unknown dataset {dataset!r}" + (f" (closest: {', '.join(found)})" if found else ""))
    if column is not None:
        known = [c.column for c in tables.columns if c.dataset == dataset]
        if column not in known:
            found = closest(column, known)
            raise UnknownNameError(
                f"{dataset} has no column {column!r}" + (f" (closest: {', '.join(found)})" if found else "")
            )


def downstream(
    tables: CatalogTables, dataset: str, column: str | None = None
) -> dict[str, tuple[set[str] | None, int, str | None]]:
    """dataset → (impacted columns or None for all of it, distance, reached from)."""
    names = {d.dataset for d in tables.datasets}
    children: dict[str, set[str]] = {}
    for edge in tables.lineage:
        if edge.via in ("dbt", "sql") and edge.upstream in names and edge.downstream in names:
            children.setdefault(edge.upstream, set()).add(edge.downstream)
    column_children: dict[tuple[str, str], set[tuple[str, str]]] = {}
    traced: set[tuple[str, str]] = set()
    for column_edge in tables.column_lineage:
        column_children.setdefault((column_edge.upstream, column_edge.upstream_column), set()).add(
            (column_edge.downstream, column_edge.downstream_column)
        )
        traced.add((column_edge.upstream, column_edge.downstream))
        children.setdefault(column_edge.upstream, set()).add(column_edge.downstream)
    ephemeral = {d.dataset for d in tables.datasets if d.materialized == "ephemeral"}
    read_by_sql = {edge.downstream for edge in tables.column_lineage}  # models whose SQL was read
    impacted: dict[str, tuple[set[str] | None, int, str | None]] = {
        dataset: ({column} if column is not None else WHOLE, 0, None)
    }
    queue = deque([dataset])
    while queue:
        parent = queue.popleft()
        columns, distance, _ = impacted[parent]
        for child in sorted(children.get(parent, ())):
            if child == parent:
                continue
            reached: set[str] | None
            if columns is WHOLE:
                reached = WHOLE
            elif (parent, child) not in traced:
                if parent in ephemeral and child in read_by_sql:
                    continue  # dbt inlines an ephemeral model: the child's edges start at its inputs
                reached = WHOLE  # the child's SQL could not be read: unknown is not "safe"
            else:
                reached = set()
                for col in columns:
                    for target, target_column in column_children.get((parent, col), ()):
                        if target != child:
                            continue
                        if target_column == "*":
                            reached = WHOLE
                            break
                        reached.add(target_column)
                    if reached is WHOLE:
                        break
                if reached is not WHOLE and not reached:
                    continue
            known = impacted.get(child)
            if known is None:
                impacted[child] = (reached, distance + 1, parent)
                queue.append(child)
            elif known[0] is not WHOLE and (reached is WHOLE or not reached <= known[0]):
                merged = WHOLE if reached is WHOLE else known[0] | reached
                impacted[child] = (merged, known[1], known[2])
                queue.append(child)
    return impacted


def impact(tables: CatalogTables, dataset: str, column: str | None = None) -> Impact:
    """Everything downstream of `dataset` (or its `column`), its declared and observed
    consumers, and the owners to notify. Raises UnknownNameError (with the closest names) for a
    dataset or column the catalog does not know."""
    _check_target(tables, dataset, column)
    reached = downstream(tables, dataset, column)
    rows = {d.dataset: d for d in tables.datasets}
    datasets = tuple(
        ImpactedDataset(
            dataset=name,
            columns=() if cols is WHOLE else tuple(sorted(cols)),
            distance=distance,
            reached_from=parent,
            layer=rows[name].layer,
            domain=rows[name].domain,
            owner_team=rows[name].owner_team,
            owner_contact=rows[name].owner_contact,
        )
        for name, (cols, distance, parent) in sorted(reached.items(), key=lambda i: (i[1][1], i[0]))
    )
    consumers = _consumers(tables, reached)
    notify = {d.owner_contact for d in datasets if d.distance > 0 and d.owner_contact}
    notify |= {c.owner for c in consumers if c.owner}
    return Impact(dataset, column, datasets, consumers, tuple(sorted(notify)))


def _hit(impacted: set[str] | None, column: str | None, declared: bool) -> str | bool | None:
    """What of the impacted part a read touches: None (all of it), one column, or False (nothing).
    A declaration of the whole dataset covers every impacted column; an observed table-level read
    (`count(*)`) touches no column."""
    if impacted is WHOLE:
        return None
    if column is None:
        return None if declared else False
    return column if column in impacted else False


def _consumers(
    tables: CatalogTables, reached: dict[str, tuple[set[str] | None, int, str | None]]
) -> tuple[ImpactedConsumer, ...]:
    owners = {c.consumer: c.owner_email for c in tables.consumers}
    principals_of = {c.consumer: tuple(c.principals) for c in tables.consumers}
    found: dict[tuple[str | None, str], dict] = {}

    def entry(consumer: str | None, dataset: str) -> dict:
        return found.setdefault(
            (consumer, dataset),
            {"columns": set(), "whole": False, "declared": False, "observed": False, "principals": set()},
        )

    declared_reads = (
        (r.consumer, r.dataset, r.column, True, principals_of.get(r.consumer, ())) for r in tables.declared_reads
    )
    observed_reads = (
        (r.consumer, r.dataset, r.column, False, (r.principal,))
        for r in tables.observed_reads
        if r.decision in COUNTED_AS_READ
    )
    for consumer, dataset, column, declared, principals in (*declared_reads, *observed_reads):
        if dataset not in reached:
            continue
        hit = _hit(reached[dataset][0], column, declared=declared)
        if hit is False:
            continue
        item = entry(consumer, dataset)
        item["declared" if declared else "observed"] = True
        item["principals"].update(principals)
        if hit is None:
            item["whole"] = True
        else:
            item["columns"].add(hit)
    result = []
    for (consumer, dataset), item in sorted(found.items(), key=lambda i: (i[0][1], i[0][0] or "")):
        impacted = reached[dataset][0]
        if impacted is WHOLE:
            columns: tuple[str, ...] = ()
        else:
            columns = tuple(sorted(impacted if item["whole"] else item["columns"]))
        result.append(
            ImpactedConsumer(
                consumer=consumer,
                principals=tuple(sorted(item["principals"])),
                owner=owners.get(consumer) if consumer else None,
                dataset=dataset,
                columns=columns,
                declared=item["declared"],
                observed=item["observed"],
            )
        )
    return tuple(result)
