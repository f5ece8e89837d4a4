"""Agora's Dagster code location: per-domain landing, dbt, publish, and their automation.

Thin wiring only: the work is in pipelines/ and catalog/. Nothing heavy happens at import —
definitions are built when Dagster asks for them, from the dbt manifest `make setup` prepares.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.landing import landing_assets
from dagster_project.resources import AgoraHome
from dagster_project.transform import dbt_project, transform_assets
from pipelines.contracts import DOMAINS
from pipelines.transform import dbt_executable


def domain_defs(domain: str) -> dg.Definitions:
    return dg.Definitions(assets=[landing_assets(domain)])


@dg.definitions
def defs() -> dg.Definitions:
    from dagster_dbt import DbtCliResource

    from dagster_project.automation import automation_defs
    from dagster_project.catalog import catalog_defs
    from dagster_project.publish import publish_defs
    from dagster_project.quality import quality_defs

    return dg.Definitions.merge(
        *(domain_defs(domain) for domain in DOMAINS),
        dg.Definitions(assets=[transform_assets()]),
        catalog_defs(),
        publish_defs(),
        quality_defs(),
        automation_defs(),
        dg.Definitions(
            resources={
                "agora": AgoraHome(),
                "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
            }
        ),
    )
