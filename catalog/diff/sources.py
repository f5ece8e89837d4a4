"""Where the consumers come from, and the sentence that says so with every result.

The serving snapshot's catalog tables when a catalog refresh has published them (declared and
observed reads, column lineage: catalog/diff/catalog_consumers.py); otherwise consumers.yml plus
the dbt manifest's child_map (catalog/diff/declared_consumers.py), with the reason the catalog
could not answer. Readers never open the warehouse: the snapshot is opened read-only, so the
guard runs while a build does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.diff.catalog_consumers import CatalogWhoBreaks
from catalog.diff.consumers import WhoBreaks
from catalog.diff.declared_consumers import DeclaredWhoBreaks
from catalog.diff.specs import parse_yaml

if TYPE_CHECKING:
    from catalog.store import CatalogTables
    from pipelines.home import Home

# what catalog.impact.impact reads
IMPACT_TABLES = ("datasets", "columns", "consumers", "declared_reads", "observed_reads", "lineage", "column_lineage")


def serving_tables(serving: Path) -> tuple[CatalogTables | None, str]:
    """The catalog tables of the serving snapshot, or None and why not."""
    if not serving.exists():
        return None, f"no serving snapshot at {serving}"
    import duckdb

    from catalog.store import read_tables

    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error as exc:
        return None, f"cannot open {serving} ({exc.__class__.__name__})"
    try:
        names = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'catalog'"
            ).fetchall()
        }
        if not set(IMPACT_TABLES) <= names:
            return None, f"{serving} has no catalog tables"
        tables = read_tables(con, IMPACT_TABLES)
    finally:
        con.close()
    if not tables.datasets:
        return None, f"{serving} has empty catalog tables"
    return tables, ""


def principal_contacts(repo: Path) -> dict[str, str]:
    """access.yml principal → contact, to name the owner of an undeclared reader."""
    path = repo / "catalog" / "access.yml"
    doc = parse_yaml(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}
    return {
        str(p["name"]): str(p.get("contact") or "")
        for p in (doc or {}).get("principals") or ()
        if isinstance(p, dict) and p.get("name")
    }


def _manifest(home: Home, repo: Path) -> Path | None:
    """The home's last dbt build, else the project's parsed manifest."""
    for path in (home.root / "dbt" / "target" / "manifest.json", repo / "target" / "manifest.json"):
        if path.exists():
            return path
    return None


def default_who_breaks(home: Home, repo: Path) -> tuple[WhoBreaks, str]:
    """The catalog tables of the serving snapshot when published, else the declarations; the
    second value says which answered (printed with the result)."""
    tables, why_not = serving_tables(home.serving)
    if tables is not None:
        return CatalogWhoBreaks(tables, principal_contacts(repo)), (
            f"catalog tables in {home.serving} (declared and observed reads, column lineage)"
        )
    from catalog.declarations import load_consumers

    path = repo / "catalog" / "consumers.yml"
    consumers = load_consumers(path) if path.exists() else []
    manifest_path = _manifest(home, repo)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path else None
    lineage = f"dbt manifest {manifest_path} (table-level)" if manifest_path else "no dbt manifest: direct reads only"
    return DeclaredWhoBreaks(consumers, manifest), (f"declarations in {path} + {lineage}; no observed reads: {why_not}")
