"""Resources: the Agora home every step works on, and dbt pointed at its warehouse."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.home import REPO_ROOT, Home
from pipelines.transform import point_dbt_at

WAREHOUSE_POOL = "warehouse"  # every step that writes warehouse.duckdb takes this one slot


class AgoraHome(dg.ConfigurableResource):
    """The home (landing zone, warehouse, serving snapshot) a run works on."""

    root: str = dg.EnvVar("AGORA_HOME")

    @property
    def home(self) -> Home:
        return Home.resolve(self.root)

    def dbt_env(self) -> None:
        """dbt's profile reads the warehouse from the environment (profiles.yml)."""
        point_dbt_at(self.home)


def dbt_manifest() -> Path:
    """Prepared by `make setup` (`dbt parse`); definitions never parse dbt themselves."""
    return REPO_ROOT / "target" / "manifest.json"


@cache
def dbt_manifest_doc() -> dict[str, Any]:
    """The manifest, read once per process for every module that builds definitions from it."""
    return json.loads(dbt_manifest().read_text())
