"""All dbt models as assets (dagster-dbt), owned and grouped by the dbt groups = domains."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.owners import freshness_of, owners_of
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome, dbt_manifest
from pipelines.home import REPO_ROOT


class AgoraTranslator(DagsterDbtTranslator):
    """dbt groups are domains: they give the Dagster group, the owners and the freshness SLA."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        group = dbt_resource_props.get("config", {}).get("group")
        if group:
            return group
        if dbt_resource_props.get("resource_type") == "source":
            return str(dbt_resource_props.get("source_name", "")).removeprefix("raw_") or None
        return None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        group = self.get_group_name(dbt_resource_props)
        return owners_of(group) if group else None

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        access = props.get("access")
        tags = {**spec.tags, **({"access": access} if access else {})}
        group = spec.group_name
        policy = freshness_of(group) if group and props.get("resource_type") == "model" else None
        return (
            spec.replace_attributes(tags=tags, freshness_policy=policy)
            if policy
            else spec.replace_attributes(tags=tags)
        )


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT)


def transform_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=AgoraTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
        name="dbt_build",
    )
    def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, agora: AgoraHome):  # type: ignore[no-untyped-def]
        """dbt build: staging views, public interfaces and marts, with their tests as asset checks."""
        agora.dbt_env()
        # unit tests check code, not data: CI runs them (tests/models), data builds skip them
        yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()

    return dbt_build
