"""Consumers from the declarations, for a home whose serving snapshot has no catalog tables yet
(before the first `agora catalog refresh`): consumers.yml's reads, and below the changed dataset
the dbt manifest's child_map — table-level only (the manifest has no column lineage), and no
observed reads, so nobody hidden is named. Exposures dbt knows but consumers.yml does not
declare are named too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.diff.consumers import Affected, unique_affected

if TYPE_CHECKING:
    from catalog.declarations import Consumer


@dataclass(frozen=True)
class _Read:
    consumer: str
    owner: str
    dataset: str
    column: str | None  # None: the whole dataset


class DeclaredWhoBreaks:
    """who_breaks from consumers.yml and the dbt manifest's child_map: declared reads only, and
    below the changed dataset table-level (the manifest has no column lineage)."""

    def __init__(self, consumers: list[Consumer], manifest: dict | None) -> None:
        self._reads = [
            _Read(c.name, c.owner_email or c.owner_name, r.dataset, column)
            for c in consumers
            for r in c.reads
            for column in (r.columns or (None,))
        ]
        declared = {c.name for c in consumers}
        self._ids: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._exposures: dict[str, str] = {}
        self._children_of: dict[str, list[str]] = {}
        if not manifest:
            return
        groups = {g.get("name"): g.get("owner") or {} for g in (manifest.get("groups") or {}).values()}
        for uid, node in (manifest.get("nodes") or {}).items():
            if node.get("resource_type") in ("model", "snapshot", "seed"):
                owner = groups.get(node.get("group")) or {}
                self._register(uid, node["name"], owner.get("email") or owner.get("name") or "")
        for uid, source in (manifest.get("sources") or {}).items():
            domain = str(source.get("source_name", "")).removeprefix("raw_")
            self._register(uid, f"{domain}.{source['name']}", "")
        for uid, exposure in (manifest.get("exposures") or {}).items():
            owner = exposure.get("owner") or {}
            if exposure["name"] not in declared:  # a generated exposure repeats its declaration
                self._exposures[uid] = exposure["name"]
                self._owners[exposure["name"]] = owner.get("email") or owner.get("name") or ""
        self._children_of = manifest.get("child_map") or {}

    def _register(self, uid: str, name: str, owner: str) -> None:
        self._ids[name], self._names[uid], self._owners[name] = uid, name, owner

    def _paths(self, dataset: str) -> dict[str, tuple[str, ...]]:
        """Breadth-first through child_map: `dataset` and every dataset below it → the datasets
        on its shortest path from `dataset` (both ends included)."""
        paths: dict[str, tuple[str, ...]] = {dataset: (dataset,)}
        queue = deque([dataset])
        while queue:
            name = queue.popleft()
            for child in self._children_of.get(self._ids.get(name, ""), ()):
                child_name = self._names.get(child)
                if child_name is not None and child_name not in paths:
                    paths[child_name] = (*paths[name], child_name)
                    queue.append(child_name)
        return paths

    def __call__(self, dataset: str, column: str | None) -> list[Affected]:
        paths = self._paths(dataset)
        found = []
        for name, path in paths.items():
            if name != dataset:
                found.append(Affected(name, "model", self._owners.get(name, ""), path[:-1]))
            wanted = column if name == dataset else None  # below the change: table-level only
            found += [
                Affected(r.consumer, "declared", r.owner, path)
                for r in self._reads
                if r.dataset == name and (wanted is None or r.column is None or r.column == wanted)
            ]
        for name in sorted(paths):
            for child in self._children_of.get(self._ids.get(name, ""), ()):
                if child in self._exposures:
                    exposure = self._exposures[child]
                    found.append(Affected(exposure, "exposure", self._owners.get(exposure, ""), paths[name]))
        return list(unique_affected(found))
