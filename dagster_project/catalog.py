"""The governance catalog as an asset, and a governance check on every dataset.

`catalog` rebuilds the catalog.* tables after dbt (observed lineage, query log, findings); the
serving snapshot is published after it. A bad declaration (catalog/*.yml) fails the catalog's
`declarations` check naming the file and entry, keeps the previous catalog tables, and does not
stop the build from publishing. Every landed dataset and dbt model gets a `governance` check that
warns when someone reads it without declaring it (hidden dependency) or bypasses its domain's
interface, naming the consumers and principals.
"""

from collections.abc import Iterator

import dagster as dg

from catalog.store import FindingRow
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome, dbt_manifest, dbt_manifest_doc

CATALOG_KEY = dg.AssetKey(["catalog"])
DECLARATIONS_CHECK = "declarations"
GOVERNANCE_CHECK = "governance"
GOVERNED_KINDS = ("hidden", "bypass")


def dataset_keys() -> dict[str, dg.AssetKey]:
    """Catalog dataset name → asset key: dbt models as the translator keys them, landed
    datasets (`sales.events`) as the landing assets (`raw_sales/events`)."""
    from dagster_project.landing import landing_keys
    from dagster_project.transform import AgoraTranslator
    from pipelines.contracts import DOMAINS

    translator = AgoraTranslator()
    manifest = dbt_manifest_doc()
    keys = {
        node["name"]: translator.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") != "ephemeral"
    }  # ephemeral models are inlined by dbt: no relation, no asset
    for domain in DOMAINS:
        for key in landing_keys(domain):
            keys[f"{domain}.{key.path[-1]}"] = key
    return keys


def governance_result(key: dg.AssetKey, dataset: str, findings: list[FindingRow]) -> dg.AssetCheckResult:
    """WARN with every hidden reader and bypass named; passes when there is none."""
    hidden = [f for f in findings if f.kind == "hidden"]
    bypasses = [f for f in findings if f.kind == "bypass"]
    readers = sorted({f.consumer or f"principal {f.principal}" for f in hidden})
    bypassers = sorted({f.model or f.principal or "?" for f in bypasses})
    metadata: dict[str, dg.RawMetadataValue] = {"hidden_dependencies": len(hidden), "bypasses": len(bypasses)}
    if readers:
        metadata["undeclared readers"] = ", ".join(readers)
    if bypassers:
        metadata["bypassed by"] = ", ".join(bypassers)
    for i, finding in enumerate(findings[:20]):
        metadata[f"finding {i + 1}"] = finding.detail
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=GOVERNANCE_CHECK,
        passed=not findings,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=(
            f"{dataset}: read without declaration by {', '.join(readers) or 'nobody'}; "
            f"bypassed by {', '.join(bypassers) or 'nobody'}"
            if findings
            else f"{dataset}: every reader is declared, no bypass"
        ),
    )


def catalog_defs() -> dg.Definitions:
    keys = dataset_keys()

    @dg.asset(
        key=CATALOG_KEY,
        deps=sorted(set(keys.values())),
        group_name="analytics",
        owners=["data-platform@agora.example", "team:data-platform"],
        kinds={"duckdb", "python"},
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                DECLARATIONS_CHECK,
                asset=CATALOG_KEY,
                description="catalog/domains.yml, consumers.yml and access.yml are well-formed and consistent.",
            )
        ],
    )
    def catalog(
        context: dg.AssetExecutionContext, agora: AgoraHome
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """catalog.* tables: datasets and owners, declared and observed reads, table and column
        lineage, and the findings (hidden dependencies, stale declarations, bypasses, unowned)."""
        from catalog.declarations import DeclarationError
        from catalog.refresh import refresh_with
        from pipelines.transform import dbt_target
        from pipelines.warehouse import connect

        home = agora.home
        manifest = dbt_target(home) / "manifest.json"
        con = connect(home.warehouse)
        try:
            try:
                result = refresh_with(con, home, manifest if manifest.exists() else dbt_manifest())
            except DeclarationError as exc:
                context.log.error(f"catalog not refreshed: {exc}")
                yield dg.MaterializeResult(metadata={"error": str(exc)})
                yield dg.AssetCheckResult(
                    check_name=DECLARATIONS_CHECK,
                    passed=False,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=str(exc),
                    metadata={"error": str(exc)},
                )
                return
        finally:
            con.close()
        context.log.info(result.summary())
        yield dg.MaterializeResult(metadata=result.metadata())  # type: ignore[arg-type]
        yield dg.AssetCheckResult(check_name=DECLARATIONS_CHECK, passed=True)

    specs = [
        dg.AssetCheckSpec(
            GOVERNANCE_CHECK,
            asset=key,
            additional_deps=[CATALOG_KEY],
            description="Warns on undeclared readers (hidden dependencies) and bypasses of this dataset.",
        )
        for key in sorted(set(keys.values()))
    ]
    by_key = {key: name for name, key in keys.items()}

    @dg.multi_asset_check(specs=specs, name="catalog_governance", pool=WAREHOUSE_POOL, can_subset=True)
    def governance(context: dg.AssetCheckExecutionContext, agora: AgoraHome) -> Iterator[dg.AssetCheckResult]:
        """One governance check per dataset, from catalog.findings."""
        from catalog.store import has_catalog, read_tables
        from pipelines.warehouse import connect

        con = connect(agora.home.warehouse, read_only=True)
        try:
            if not has_catalog(con):
                raise dg.Failure("catalog.findings does not exist: the catalog asset has not run on this home")
            findings = read_tables(con, only=("findings",)).findings
        finally:
            con.close()
        by_dataset: dict[str, list[FindingRow]] = {}
        for finding in sorted(findings, key=lambda f: (f.kind, f.detail)):
            if finding.kind in GOVERNED_KINDS:
                by_dataset.setdefault(finding.dataset, []).append(finding)
        for check_key in context.selected_asset_check_keys:
            dataset = by_key[check_key.asset_key]
            yield governance_result(check_key.asset_key, dataset, by_dataset.get(dataset, []))

    return dg.Definitions(assets=[catalog], asset_checks=[governance])
