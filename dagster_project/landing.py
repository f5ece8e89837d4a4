"""Landing assets, one multi-asset per domain: its events and each extract, keyed like the
dbt sources (`raw_<domain>/<table>`) so the graph is one graph from file to mart."""

from collections.abc import Iterator

import dagster as dg

from dagster_project.owners import freshness_of, owners_of
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome
from pipelines.contracts import Contracts, load_contracts
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.warehouse import connect

RECONCILED = "nothing_lost"
CONTRACT = "contract"


def _keys(domain: str, contracts: Contracts) -> list[dg.AssetKey]:
    tables = ["events", *sorted(c.table for c in contracts.extract_tables(domain))]
    return [dg.AssetKey([f"raw_{domain}", table]) for table in tables]


def landing_keys(domain: str) -> list[dg.AssetKey]:
    """Every asset one domain's landing step materializes (it lands them together)."""
    return _keys(domain, load_contracts())


def _spec(key: dg.AssetKey, domain: str, contracts: Contracts) -> dg.AssetSpec:
    table = key.path[-1]
    if table == "events":
        types = ", ".join(sorted(c.type for c in contracts.event_types(domain)))
        description = f"Every {domain} CloudEvent landed from landing/{domain}/events/ ({types})."
    else:
        contract = contracts.extract(domain, table)
        assert contract is not None
        description = f"{contract.description} Every snapshot landed from landing/{domain}/extracts/{table}/."
    return dg.AssetSpec(
        key=key,
        description=description,
        group_name=domain,
        owners=owners_of(domain),
        kinds={"duckdb", "python"},
        freshness_policy=freshness_of(domain),
        metadata={"dagster/table_name": f"warehouse.raw_{domain}.{table}"},
    )


def _checks(keys: list[dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    checks = []
    for key in keys:
        checks.append(
            dg.AssetCheckSpec(
                RECONCILED, asset=key, description="Every record read is loaded, a duplicate or quarantined."
            )
        )
        if key.path[-1] != "events":
            checks.append(
                dg.AssetCheckSpec(
                    CONTRACT,
                    asset=key,
                    description="No snapshot landed in this run broke the contract (additive changes warn).",
                )
            )
    return checks


def landing_assets(domain: str) -> dg.AssetsDefinition:
    contracts = load_contracts()
    keys = _keys(domain, contracts)

    @dg.multi_asset(
        name=f"land_{domain}",
        specs=[_spec(k, domain, contracts) for k in keys],
        check_specs=_checks(keys),
        pool=WAREHOUSE_POOL,
        can_subset=False,
    )
    def land(context: dg.AssetExecutionContext, agora: AgoraHome):  # type: ignore[no-untyped-def]
        """Land what is new in this domain's landing folders (agora ingest, one domain)."""
        yield from landing_results(context, agora.home, domain, keys)

    return land


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
