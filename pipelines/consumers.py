"""Who would break if a landed dataset changed: consumers declared in catalog/consumers.yml that
read it directly, and — when a dbt manifest for the home exists — every exposure downstream of
it through the models. (Column-level impact is the catalog's job; landing needs the names to put
in a block reason.)"""

from __future__ import annotations

import json
from collections import deque
from functools import cache
from pathlib import Path

import yaml

from pipelines.home import catalog_dir


@cache
def _declared(path: Path) -> tuple[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    if not path.exists():
        return ()
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result = []
    for consumer in doc.get("consumers", []) or []:
        owner = consumer.get("owner") or {}
        owner_label = owner.get("email") or owner.get("name") or "no owner" if isinstance(owner, dict) else str(owner)
        reads = []
        for read in consumer.get("reads", []) or []:
            if isinstance(read, str):
                reads.append((read, ()))
            else:
                reads.append((str(read.get("dataset")), tuple(read.get("columns") or ())))
        result.append((str(consumer.get("name")), owner_label, tuple(reads)))
    return tuple(result)


def _downstream_exposures(dataset: str, manifest: Path) -> dict[str, str]:
    """Exposure name → owner for every exposure downstream of the landed `dataset`."""
    if not manifest.exists() or "." not in dataset:
        return {}
    doc = json.loads(manifest.read_text())
    domain, table = dataset.split(".", 1)
    start = f"source.{doc['metadata'].get('project_name', 'agora')}.raw_{domain}.{table}"
    children = doc.get("child_map", {})
    seen, queue, found = {start}, deque([start]), {}
    while queue:
        for child in children.get(queue.popleft(), []):
            if child in seen:
                continue
            seen.add(child)
            if child.startswith("exposure."):
                exposure = doc["exposures"][child]
                owner = exposure.get("owner") or {}
                found[exposure["name"]] = owner.get("email") or owner.get("name") or "no owner"
            elif child.startswith(("model.", "snapshot.")):
                queue.append(child)
    return found


def declared_consumers(
    dataset: str, columns: list[str] | None = None, path: Path | None = None, manifest: Path | None = None
) -> list[str]:
    """'name (owner)' of every consumer that reads `dataset`, directly or through dbt models."""
    found: dict[str, str] = {}
    for name, owner, reads in _declared(path or catalog_dir() / "consumers.yml"):
        for read_dataset, read_columns in reads:
            if read_dataset != dataset:
                continue
            if columns and read_columns and not set(read_columns) & set(columns):
                continue
            found[name] = owner
    if manifest is not None:
        found.update(_downstream_exposures(dataset, manifest))
    return sorted(f"{name} ({owner})" for name, owner in found.items())
