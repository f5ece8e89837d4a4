"""Derived findings: declared and observed compared. Pure functions of their inputs.

- hidden: a consumer read a dataset it did not declare in consumers.yml, or a column outside
  the columns it declared for that dataset. A principal acting for no consumer is reported
  with consumer NULL. Only reads that happened count (allowed, or authorised and failed).
- stale: a declared read (dataset, or declared column) with no attempt in the window — a
  refused attempt still shows the dependency is wanted, so it is not stale.
- bypass: inside dbt, a model reading another domain's private model or landed data (dbt only
  checks `ref()` against access, never `source()`), or naming a relation in its SQL instead of
  `ref()`/`source()`; outside dbt, a logged query — allowed or refused — on another domain's
  private dataset.
- unowned: a relation in the warehouse that no dbt model or source describes.

Every finding names who to notify: the producer (the dataset's owning domain) and the reader
(the consumer's owner, or the principal's contact).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from catalog.store import DatasetRow, FindingRow, LineageRow
from catalog.usage import COUNTED_AS_READ, Use
from catalog.validate import Declarations

WARN, ERROR = "warn", "error"


@dataclass(frozen=True)
class Window:
    days: int
    end: str | None  # the newest log entry ('2026-11-27 09:09 UTC'); None: the log is empty

    @property
    def phrase(self) -> str:
        return f"in the {self.days} days of log up to {self.end}" if self.end else "(the query log is empty)"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _notify(*contacts: str | None) -> str | None:
    found = sorted({c for c in contacts if c})
    return ", ".join(found) or None


def _evidence(fingerprints: Iterable[str], queries: int) -> str:
    shown = list(fingerprints)
    more = f" (+{len(shown) - 3} more)" if len(shown) > 3 else ""
    return f"{queries} {'query' if queries == 1 else 'queries'}; shapes {', '.join(shown[:3])}{more}"


def _declared(declarations: Declarations) -> dict[str, dict[str, frozenset[str] | None]]:
    """consumer → dataset → declared columns (None: the whole dataset)."""
    result: dict[str, dict[str, frozenset[str] | None]] = {}
    for consumer in declarations.consumers:
        reads = result.setdefault(consumer.name, {})
        for read in consumer.reads:
            reads[read.dataset] = frozenset(read.columns) if read.columns else None
    return result


def hidden(
    uses: Iterable[Use], declarations: Declarations, datasets: dict[str, DatasetRow], window: Window
) -> list[FindingRow]:
    declared = _declared(declarations)
    owners = {c.name: c.owner_email for c in declarations.consumers}
    merged: dict[tuple[str | None, str, str, str | None], list] = {}
    for use in uses:
        if use.decision not in COUNTED_AS_READ:
            continue
        reads = declared.get(use.consumer or "", {})
        if use.dataset not in reads:
            if use.column is not None:  # the dataset-level finding covers its columns
                continue
        else:
            columns = reads[use.dataset]
            if use.column is None or columns is None or use.column in columns:
                continue
        entry = merged.setdefault((use.consumer, use.principal, use.dataset, use.column), [0, set()])
        entry[0] += use.queries
        entry[1].update(use.fingerprints)
    findings = []
    for (consumer, principal, dataset, column), (queries, fingerprints) in merged.items():
        target = f"{dataset}.{column}" if column else dataset
        reader = (
            f"consumer {consumer} (principal {principal})"
            if consumer
            else f"principal {principal}, which acts for no consumer,"
        )
        if consumer is None:
            why = "access.yml links it to no consumer in consumers.yml"
        elif column is None:
            why = f"consumers.yml does not declare {dataset} for {consumer}"
        else:
            why = f"consumers.yml declares other columns of {dataset} for {consumer}"
        owner = datasets.get(dataset)
        findings.append(
            FindingRow(
                kind="hidden",
                severity=WARN,
                dataset=dataset,
                column=column,
                consumer=consumer,
                principal=principal,
                notify=_notify(
                    owner.owner_contact if owner else None,
                    owners.get(consumer or "") or declarations.contact_of(principal),
                ),
                detail=f"{reader} read {target} {_times(queries)} {window.phrase}, but {why}",
                evidence=_evidence(sorted(fingerprints), queries),
            )
        )
    return findings


def stale(uses: Iterable[Use], declarations: Declarations, window: Window) -> list[FindingRow]:
    seen: set[tuple[str, str, str | None]] = set()
    for use in uses:
        if use.consumer is not None:
            seen.add((use.consumer, use.dataset, use.column))
    findings = []
    file = declarations.folder / "consumers.yml"
    for consumer in declarations.consumers:
        principals = declarations.principals_of(consumer.name)
        note = "" if principals else " (no principal in access.yml acts for it, so its reads cannot be observed)"
        for read in consumer.reads:
            unused: list[str | None]
            if (consumer.name, read.dataset, None) not in seen:
                unused = [None]
            else:
                unused = [c for c in read.columns if (consumer.name, read.dataset, c) not in seen]
            for column in unused:
                target = f"{read.dataset}.{column}" if column else read.dataset
                findings.append(
                    FindingRow(
                        kind="stale",
                        severity=WARN,
                        dataset=read.dataset,
                        column=column,
                        consumer=consumer.name,
                        principal=", ".join(principals) or None,
                        notify=consumer.owner_email,
                        detail=f"{consumer.name} declares a read of {target} but never read it {window.phrase}{note}",
                        evidence=f"{file}: consumer {consumer.name}",
                    )
                )
    return findings


def bypass_in_dbt(lineage: Iterable[LineageRow], datasets: dict[str, DatasetRow]) -> list[FindingRow]:
    findings = []
    for edge in lineage:
        up, down = datasets.get(edge.upstream), datasets.get(edge.downstream)
        if up is None or down is None or edge.via not in ("dbt", "sql"):
            continue
        if edge.via == "sql":
            detail = (
                f"model {down.dataset} names the relation {up.relation} in its SQL instead of "
                f"ref()/source(), so dbt neither tracks nor access-checks the read"
            )
            evidence = f"compiled SQL of {down.dataset}"
        elif up.access == "private" and up.domain != down.domain:
            kind = "landed data" if up.layer == "raw" else f"private {up.layer} model"
            detail = (
                f"model {down.dataset} ({down.domain}) reads {up.domain}'s {kind} {up.dataset} "
                f"instead of its public interface"
            )
            evidence = f"{down.dataset} depends_on {up.dataset} (dbt manifest)"
        else:
            continue
        findings.append(
            FindingRow(
                kind="bypass",
                severity="error",
                dataset=up.dataset,
                model=down.dataset,
                notify=_notify(up.owner_contact, down.owner_contact),
                detail=detail,
                evidence=evidence,
            )
        )
    return findings


def bypass_in_queries(
    uses: Iterable[Use], declarations: Declarations, datasets: dict[str, DatasetRow], window: Window
) -> list[FindingRow]:
    merged: dict[tuple[str, str], list] = {}
    for use in uses:
        dataset = datasets.get(use.dataset)
        if use.column is not None or dataset is None or dataset.access != "private" or dataset.domain is None:
            continue
        if dataset.domain in declarations.domains_of(use.principal):
            continue
        entry = merged.setdefault((use.principal, use.dataset), [use.consumer, 0, set(), set()])
        entry[1] += use.queries
        entry[2].add(use.decision)
        entry[3].update(use.fingerprints)
    findings = []
    for (principal, name), (consumer, queries, decisions, fingerprints) in merged.items():
        dataset = datasets[name]
        findings.append(
            FindingRow(
                kind="bypass",
                severity=ERROR,
                dataset=name,
                consumer=consumer,
                principal=principal,
                notify=_notify(dataset.owner_contact, declarations.contact_of(principal)),
                detail=(
                    f"principal {principal} queried {dataset.domain}'s private {dataset.layer} dataset {name} "
                    f"{_times(queries)} {window.phrase} ({', '.join(sorted(decisions))}) instead of a public model"
                ),
                evidence=_evidence(sorted(fingerprints), queries),
            )
        )
    return findings


def unowned(datasets: dict[str, DatasetRow], declarations: Declarations) -> list[FindingRow]:
    contacts = {d.name: d.contact for d in declarations.domains}
    findings = []
    for dataset in datasets.values():
        if dataset.domain is not None:
            continue
        schema = (dataset.relation or dataset.dataset).split(".", 1)[0]
        schema_domain = schema.removeprefix("raw_") if schema.startswith("raw_") else None
        findings.append(
            FindingRow(
                kind="unowned",
                severity=WARN,
                dataset=dataset.dataset,
                notify=_notify(declarations.platform.contact, contacts.get(schema_domain or "")),
                detail=(
                    f"{dataset.relation} ({dataset.materialized}) is in the warehouse but no dbt model or source "
                    f"describes it, so no domain owns it"
                ),
                evidence="duckdb_tables()/duckdb_views() of the warehouse",
            )
        )
    return findings


def derive_findings(
    uses: list[Use],
    lineage: list[LineageRow],
    datasets: dict[str, DatasetRow],
    declarations: Declarations,
    window: Window,
) -> list[FindingRow]:
    """Every finding, in a stable order (kind, dataset, column, consumer, principal, model)."""
    findings = [
        *hidden(uses, declarations, datasets, window),
        *stale(uses, declarations, window),
        *bypass_in_dbt(lineage, datasets),
        *bypass_in_queries(uses, declarations, datasets, window),
        *unowned(datasets, declarations),
    ]
    return sorted(
        findings,
        key=lambda f: (f.kind, f.dataset, f.column or "", f.consumer or "", f.principal or "", f.model or ""),
    )
