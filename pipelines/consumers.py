"""Who would break if a landed dataset changed — named in a breaking extract's block reason.

When the warehouse holds the catalog (`catalog.*`, rebuilt by every run), the answer is the
catalog's impact set, the same one `agora catalog impact` and `agora catalog diff` give:
declared consumers and the hidden ones observed in the query log, downstream through models
and columns. Before the first catalog refresh, it falls back to the declarations: consumers in
catalog/consumers.yml that read the dataset directly, and — with a dbt manifest — every
exposure downstream of it through the models.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import duckdb


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


def _from_catalog(con: duckdb.DuckDBPyConnection, dataset: str, columns: list[str] | None) -> dict[str, str] | None:
    """'name' → owner from the catalog's impact set; None when the catalog does not know the dataset."""
    from catalog.impact import IMPACT_TABLES, impact
    from catalog.store import read_tables
    from catalog.validate import UnknownNameError

    tables = read_tables(con, only=IMPACT_TABLES)
    found: dict[str, str] = {}
    asked: list[str | None] = list(columns) if columns else [None]
    for column in asked:
        try:
            result = impact(tables, dataset, column)
        except UnknownNameError:
            if column is None:
                return None
            result = impact(tables, dataset)  # a column the catalog never saw: the whole dataset
        for hit in result.consumers:
            name = hit.consumer or f"principal {', '.join(hit.principals)}"
            label = hit.owner or "no owner"
            found[name] = f"{label}, hidden" if hit.hidden else label
    return found


def declared_consumers(
    dataset: str,
    columns: list[str] | None = None,
    path: Path | None = None,
    manifest: Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[str]:
    """'name (owner)' of every consumer a change to `dataset` (or its `columns`) would break."""
    from catalog.store import has_catalog

    if con is not None and path is None and has_catalog(con):
        known = _from_catalog(con, dataset, columns)
        if known is not None:
            return sorted(f"{name} ({owner})" for name, owner in known.items())
    from catalog.declarations import load_consumers

    found: dict[str, str] = {}
    for consumer in load_consumers(path):
        for read in consumer.reads:
            if read.dataset != dataset:
                continue
            if columns and read.columns and not set(read.columns) & set(columns):
                continue
            found[consumer.name] = consumer.owner_email
    if manifest is not None:
        found.update(_downstream_exposures(dataset, manifest))
    return sorted(f"{name} ({owner})" for name, owner in found.items())
