"""Landing assets, one multi-asset per domain: its events and each extract, keyed like the
dbt sources (`raw_<domain>/<table>`) so the graph is one graph from file to mart."""

import dagster as dg

from dagster_project.owners import freshness_of, owners_of
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome
from pipelines.contracts import Contracts, load_contracts

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
        from dagster_project.landing_results import landing_results

        yield from landing_results(context, agora.home, domain, keys)

    return land
