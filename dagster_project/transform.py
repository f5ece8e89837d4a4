"""All dbt models as assets (dagster-dbt), owned and grouped by the dbt groups = domains."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.owners import freshness_of, owners_of
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome, dbt_manifest
from pipelines.home import REPO_ROOT, Home
from pipelines.transform import BUILD, FULL_BUILD, BuildPlan, BuildState, dbt_target, prepare_build


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


@contextmanager
def landed_since_env(home: Home) -> Iterator[tuple[BuildPlan, BuildState]]:
    """AGORA_LANDED_SINCE for the dbt subprocess while the block runs (dagster-dbt passes the
    environment on): incremental models and their tests then look only at the batches landed
    since the last successful build; none on a first build or after a change to the project (a
    full refresh: every row processed and tested). Yields the plan and the state to record if
    dbt succeeds."""
    plan, done = prepare_build(home)
    # nothing new: a watermark of now keeps every incremental model and test to no rows
    landed_since = plan.landed_since or (None if plan.runs_dbt else datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    previous = os.environ.pop("AGORA_LANDED_SINCE", None)
    if landed_since:
        os.environ["AGORA_LANDED_SINCE"] = landed_since
    try:
        yield plan, done
    finally:
        os.environ.pop("AGORA_LANDED_SINCE", None)
        if previous is not None:
            os.environ["AGORA_LANDED_SINCE"] = previous


def transform_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=AgoraTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=WAREHOUSE_POOL,
        name="dbt_build",
    )
    def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, agora: AgoraHome):  # type: ignore[no-untyped-def]
        """dbt build: staging views, public interfaces and marts, with their tests as asset checks.

        Incremental after the first build (pipelines.transform): only the rows of batches landed
        since the last successful build are processed and tested. Artifacts go to the home's
        dbt target, so its manifest.json holds the compiled code of every model just built.
        """
        agora.dbt_env()
        home = agora.home
        # a partial selection leaves models unbuilt: it must not move the watermark
        every_model = set(context.selected_asset_keys) == set(context.assets_def.keys)
        with landed_since_env(home) as (plan, state):
            # BUILD skips unit tests (they check code: CI runs them); Dagster selects the nodes
            # itself, so of plan_build's arguments only its full refresh is passed on
            args = list(FULL_BUILD if plan.full_refresh else BUILD)
            invocation = dbt.cli(args, context=context, target_path=dbt_target(home))
            yield from invocation.stream()
        if every_model and invocation.is_successful():
            state.write(home)

    return dbt_build
