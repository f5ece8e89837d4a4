"""The Dagster asset graph as reviewers see it: keys, lineage, owners, groups, kinds and checks.

The snapshot makes a change of ownership or lineage show up in review (STYLE.md). Nothing here
needs a warehouse: definitions load from the dbt manifest and catalog/ alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.resources import dbt_manifest
from dagster_project.transform import AgoraTranslator
from pipelines.contracts import DOMAINS
from pipelines.home import REPO_ROOT


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.Definitions]:
    home = tmp_path_factory.mktemp("specs") / "home"
    previous = os.environ.get("AGORA_HOME")
    os.environ["AGORA_HOME"] = str(home)
    try:
        from dagster_project.definitions import defs as load

        yield load()
    finally:
        if previous is None:
            os.environ.pop("AGORA_HOME", None)
        else:
            os.environ["AGORA_HOME"] = previous


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions):  # type: ignore[no-untyped-def]
    return defs.resolve_asset_graph()


def _landing_keys(graph) -> set[dg.AssetKey]:  # type: ignore[no-untyped-def]
    return {
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).assets_def.node_def.name in {f"land_{d}" for d in DOMAINS}
    }


def _owner(owner: str) -> bool:
    return owner.startswith("team:") or ("@" in owner and "." in owner.split("@")[-1])


def test_asset_specs_match_the_snapshot(defs: dg.Definitions, graph, snapshot) -> None:  # type: ignore[no-untyped-def]
    result = {
        spec.key.to_user_string(): {
            "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
            "owners": sorted(spec.owners),
            "group": spec.group_name,
            "kinds": sorted(spec.kinds),
            "checks": sorted(check.name for check in graph.get_check_keys_for_assets({spec.key})),
        }
        for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())
    }

    assert result == snapshot


def test_landing_keys_are_the_dbt_source_keys(graph) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads(dbt_manifest().read_text())
    translator = AgoraTranslator()
    expected = {translator.get_asset_key(source) for source in manifest["sources"].values()}

    result = _landing_keys(graph)

    assert result == expected
    assert len(result) > len(DOMAINS)  # events and the extracts of every domain


def test_every_landing_asset_feeds_a_dbt_staging_model(graph) -> None:  # type: ignore[no-untyped-def]
    result = {
        key.to_user_string(): sorted(
            child.path[-1]
            for child in graph.get(key).child_keys
            if graph.get(child).assets_def.node_def.name == "dbt_build" and child.path[-1].startswith("stg_")
        )
        for key in _landing_keys(graph)
    }

    assert all(result.values()), {k: v for k, v in result.items() if not v}


def test_landing_asset_keys_name_their_domain(graph) -> None:  # type: ignore[no-untyped-def]
    result = {key.path[0] for key in _landing_keys(graph)}

    assert result == {f"raw_{d}" for d in DOMAINS}


def test_every_asset_has_an_owner_email_a_team_and_a_group(defs: dg.Definitions) -> None:
    specs = defs.resolve_all_asset_specs()

    unowned = [s.key.to_user_string() for s in specs if not s.owners or not all(_owner(o) for o in s.owners)]
    no_team = [s.key.to_user_string() for s in specs if not any(o.startswith("team:") for o in s.owners)]
    ungrouped = [s.key.to_user_string() for s in specs if not s.group_name or s.group_name == "default"]

    assert (unowned, no_team, ungrouped) == ([], [], [])


def test_groups_are_the_domains_and_analytics(defs: dg.Definitions) -> None:
    result = {spec.group_name for spec in defs.resolve_all_asset_specs()}

    assert set(DOMAINS) <= result <= {*DOMAINS, "analytics"}


def test_definitions_are_loadable(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


# Runs in a fresh interpreter. The libraries are imported first (dagster's own import asks
# `file` about the interpreter); after that any DuckDB connection or child process (dbt) while
# our module is imported, or while Dagster builds the definitions as a code server does, fails.
NO_WORK = textwrap.dedent(
    """
    import subprocess, duckdb, dagster, dagster_dbt

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"work at load time: {args[:1]}")

    duckdb.connect = refuse
    subprocess.Popen.__init__ = refuse
    import dagster_project.definitions as module
    module.defs()
    print("loaded")
    """
)


def test_loading_definitions_opens_no_database_and_starts_no_process(tmp_path: Path) -> None:
    home = tmp_path / "absent"
    env = {**os.environ, "AGORA_HOME": str(home), "AGORA_WAREHOUSE": str(home / "warehouse.duckdb")}
    env.pop("DAGSTER_HOME", None)

    result = subprocess.run(
        [sys.executable, "-c", NO_WORK], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120
    )

    assert (result.returncode, result.stdout.strip()) == (0, "loaded"), result.stderr
    assert not home.exists()
