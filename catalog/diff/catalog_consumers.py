"""Consumers from the catalog: `catalog.impact.impact` over the serving snapshot's tables, so the
guard names who breaks exactly as `agora catalog impact` and landing's breaking-extract block do —
declared consumers, hidden ones observed in the query log, and every model downstream through
table and column lineage.

Impact's rules are taken as they are, so one rule answers every question put to the catalog;
three of them are worth knowing when reading a diff:
- a *failed* query counts as a read (catalog.usage.COUNTED_AS_READ): it was authorised and named
  the column, so its author depends on it; a refused one read nothing and breaks nobody;
- an observed table-level read (`count(*)`: a NULL column) does not break on a change to one
  column: it touched none (a declaration of the whole dataset still covers every column);
- lineage recorded only by Dagster (the landing folder feeding a dataset, the publish step) is not
  followed: neither end is a dataset anybody reads.
impact() refuses a dataset or column the catalog does not know (UnknownNameError). A column only
the working tree has, or one the last refresh did not see, is answered with the whole dataset's
impact; a dataset the catalog does not know names nobody. Either way the answer carries a note,
printed with the change, so a reader knows what was asked instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from catalog.diff.consumers import Affected, Answer, unique_affected

if TYPE_CHECKING:
    from catalog.impact import Impact
    from catalog.store import CatalogTables


class CatalogWhoBreaks:
    """who_breaks over catalog tables (read once by the caller): each question is one impact()."""

    def __init__(self, tables: CatalogTables, contacts: Mapping[str, str]) -> None:
        """`contacts`: access.yml principal → contact, the owner of a reader acting for no consumer."""
        self._tables = tables
        self._contacts = dict(contacts)

    def __call__(self, dataset: str, column: str | None) -> Answer:
        # catalog.impact pulls in the query-log parser (sqlglot): imported when a question is asked,
        # so `agora` starts fast
        from catalog.impact import impact
        from catalog.validate import UnknownNameError

        try:
            return Answer(self._affected(impact(self._tables, dataset, column)))
        except UnknownNameError:
            if column is None:
                return Answer(
                    (), (f"{dataset} is not in the catalog (last refreshed before it was built?): nobody named",)
                )
        whole = self(dataset, None)
        note = f"column {dataset}.{column} is not in the catalog: named the consumers of all of {dataset}"
        return Answer(whole.affected, whole.notes or (note,))

    def _affected(self, found: Impact) -> tuple[Affected, ...]:
        """Impact's datasets and consumers as Affected, each with its path from the changed dataset
        rebuilt from `reached_from` (the payload routing keeps only direct reads by their path)."""
        paths: dict[str, tuple[str, ...]] = {}
        for reached in found.datasets:  # by distance: a dataset's parent has its path already
            parent = paths.get(reached.reached_from or "", ())
            paths[reached.dataset] = (*parent, reached.dataset)
        affected = [
            Affected(d.dataset, "model", d.owner_contact or d.owner_team or "", paths[d.dataset][:-1])
            for d in found.datasets
            if d.distance > 0
        ]
        for consumer in found.consumers:
            via = paths[consumer.dataset]
            if consumer.consumer is None:  # principals acting for no consumer, one entry each
                affected += [Affected(p, "observed", self._contacts.get(p, ""), via) for p in consumer.principals]
                continue
            owner = consumer.owner or ""
            if consumer.declared:
                affected.append(Affected(consumer.consumer, "declared", owner, via))
            if consumer.observed:
                affected.append(Affected(consumer.consumer, "observed", owner, via))
        return unique_affected(affected)
