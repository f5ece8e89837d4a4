"""Who reads a dataset, as declared in catalog/consumers.yml (the catalog refines this with
observed reads and lineage; landing only needs the declared names to put in a block reason)."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.home import catalog_dir


def declared_consumers(dataset: str, columns: list[str] | None = None, path: Path | None = None) -> list[str]:
    """'name (owner)' of every consumer declaring a read of `dataset` (or of one of `columns`)."""
    source = path or catalog_dir() / "consumers.yml"
    if not source.exists():
        return []
    doc = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    found = []
    for consumer in doc.get("consumers", []) or []:
        for read in consumer.get("reads", []) or []:
            name = read if isinstance(read, str) else read.get("dataset")
            cols = [] if isinstance(read, str) else list(read.get("columns") or [])
            if name != dataset:
                continue
            if columns and cols and not set(cols) & set(columns):
                continue
            found.append(f"{consumer.get('name')} ({consumer.get('owner', 'no owner')})")
            break
    return sorted(found)
