"""Run landing for one domain and turn its report into materializations and check results."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from dagster_project.landing import CONTRACT, RECONCILED
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.warehouse import connect


def landing_results(
    context: dg.AssetExecutionContext, home: Home, domain: str, keys: list[dg.AssetKey]
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    report = ingest(home, domains={domain})
    context.log.info(f"{domain}: {report.totals()}")
    con = connect(home.warehouse, read_only=False)
    try:
        for key in keys:
            table = key.path[-1]
            dataset = f"{domain}.{table}"
            files = [f for f in report.files if f.dataset == dataset and f.status in ("landed", "blocked")]
            rows = con.execute(f'SELECT count(*) FROM raw_{domain}."{table}"').fetchone()[0]  # type: ignore[index]
            unbalanced = con.execute(
                "SELECT count(*) FROM ops.file_reconciliation WHERE domain = ? AND coalesce(table_name, 'events') = ? "
                "AND NOT (balanced AND quarantine_matches)",
                [domain, table],
            ).fetchone()[0]  # type: ignore[index]
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "files_landed": len(files),
                    "records_read": sum(f.records for f in files),
                    "loaded": sum(f.loaded for f in files),
                    "duplicates": sum(f.duplicates for f in files),
                    "quarantined": sum(f.quarantined for f in files),
                    "dagster/row_count": rows,
                },
            )
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=RECONCILED,
                passed=unbalanced == 0 and all(f.balanced for f in files),
                metadata={"files_checked": len(files), "unbalanced_files": unbalanced},
            )
            if table != "events":
                yield _contract_result(key, files)
    finally:
        con.close()


def _contract_result(key: dg.AssetKey, files: list) -> dg.AssetCheckResult:
    blocked = [f for f in files if f.status == "blocked"]
    additive = [f for f in files if f.schema_change and f.schema_change.get("change") == "additive"]
    if blocked:
        consumers = sorted({c for f in blocked for c in f.schema_change.get("consumers", [])})
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CONTRACT,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=blocked[0].detail,
            metadata={
                "blocked_snapshots": [f.rel for f in blocked],
                "problems": sorted({p for f in blocked for p in f.schema_change.get("problems", [])}),
                "consumers_that_would_break": consumers,
            },
        )
    if additive:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CONTRACT,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=additive[0].detail,
            metadata={
                "snapshots": [f.rel for f in additive],
                "new_columns": sorted({c for f in additive for c in f.schema_change.get("columns", [])}),
            },
        )
    return dg.AssetCheckResult(asset_key=key, check_name=CONTRACT, passed=True, metadata={"snapshots": len(files)})
