"""The serving snapshot: published after a successful build so readers never touch the warehouse."""

import dagster as dg

from dagster_project.catalog import CATALOG_KEY
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome, dbt_manifest_doc

SERVING_KEY = dg.AssetKey(["serving"])


def _published_models() -> list[dg.AssetKey]:
    """Marts and public interfaces, keyed as the dbt translator keys them."""
    from dagster_project.transform import AgoraTranslator

    translator = AgoraTranslator()
    manifest = dbt_manifest_doc()
    return sorted(
        translator.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    )


def publish_defs() -> dg.Definitions:
    @dg.asset(
        key=SERVING_KEY,
        deps=[*_published_models(), CATALOG_KEY],
        group_name="analytics",
        owners=["data-platform@agora.example", "team:data-platform"],
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
    )
    def serving(context: dg.AssetExecutionContext, agora: AgoraHome) -> dg.MaterializeResult:
        """serving.duckdb: marts, public models and catalog tables, replaced atomically after a
        successful build. Analysts, the SQL gateway and agents read only this file."""
        from pipelines.publish import publish

        publication = publish(agora.home)
        context.log.info(f"published {len(publication.tables)} tables in {publication.seconds:.2f} s")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(publication.path),
                "tables": len(publication.tables),
                "rows": sum(publication.tables.values()),
                "seconds": publication.seconds,
            }
        )

    return dg.Definitions(assets=[serving])
