"""`agora ui` as a user runs it: the real command, the real webserver and daemon, driven over
GraphQL (the asset graph, a launched build) and looked at in headless Chromium; then stopped
with SIGTERM, leaving no process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dagster_project.automation import BUILD_JOB
from pipelines.contracts import DOMAINS
from pipelines.home import REPO_ROOT, Home
from tests.conftest import AGORA, CHROMIUM_FLAGS, REPO, chromium, make_home

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("dagster_ui")]

ARTIFACTS = REPO_ROOT / "test-artifacts"

ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    kinds
    owners { __typename ... on UserAssetOwner { email } ... on TeamAssetOwner { team } }
    assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
  }
}
"""
REPOSITORY_QUERY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
LAUNCH_RUN = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_STATUS = "query Status($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"


class Ui:
    def __init__(self, home: Home, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [*AGORA, "--home", str(home.root), "ui", "--port", str(self.port)],
            cwd=REPO,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "AGORA_WAREHOUSE")},
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if self.graphql(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"the UI did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]


@pytest.fixture(scope="module")
def ui(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    home = make_home(tmp_path_factory.mktemp("ui") / "home")
    shutil.copytree(simulated[0].landing, home.landing)
    server = Ui(home, home.root.parent / "ui.log")
    try:
        server.wait_until_up()
        yield server
    finally:
        if server.proc.poll() is None:
            for process in server.tree()[::-1]:
                process.kill()
            server.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def assets(ui: Ui) -> dict[str, dict]:
    return {"/".join(n["assetKey"]["path"]): n for n in ui.graphql(ASSETS_QUERY)["assetNodes"]}


def test_ui_shows_every_landing_asset(ui: Ui, assets: dict[str, dict]) -> None:
    from dagster_project.landing import landing_keys

    expected = {key.to_user_string() for domain in DOMAINS for key in landing_keys(domain)}

    assert expected <= set(assets)


def test_ui_shows_dbt_models_and_the_serving_asset(assets: dict[str, dict]) -> None:
    expected = {"staging/stg_sales__orders_placed", "public/sales_orders", "marts/order_to_cash", "serving"}

    assert expected <= set(assets)
    assert "dbt" in assets["marts/order_to_cash"]["kinds"]


def test_ui_shows_owners_as_emails_and_teams(assets: dict[str, dict]) -> None:
    result = {key: sorted(o["__typename"] for o in node["owners"]) for key, node in assets.items()}

    assert all(kinds == ["TeamAssetOwner", "UserAssetOwner"] for kinds in result.values()), result
    assert {"email": "sales-data@agora.example", "__typename": "UserAssetOwner"} in assets["raw_sales/events"]["owners"]


def test_ui_groups_are_the_domains_and_analytics(assets: dict[str, dict]) -> None:
    result = {node["groupName"] for node in assets.values()}

    assert set(DOMAINS) <= result <= {*DOMAINS, "analytics"}


def test_ui_shows_landing_and_dbt_asset_checks(assets: dict[str, dict]) -> None:
    def checks(key: str) -> set[str]:
        return {c["name"] for c in assets[key]["assetChecksOrError"]["checks"]}

    assert {"nothing_lost", "contract"} <= checks("raw_sales/customers")
    assert "nothing_lost" in checks("raw_sales/events")
    assert "unique_order_to_cash_order_id" in checks("marts/order_to_cash")


def test_build_launched_through_graphql_succeeds(ui: Ui) -> None:
    repository = ui.graphql(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"][0]
    selector = {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
        "jobName": BUILD_JOB,
    }

    launched = ui.graphql(LAUNCH_RUN, {"executionParams": {"selector": selector, "runConfigData": {}}})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = "QUEUED"
    deadline = time.monotonic() + 420
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(2)
        status = ui.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]

    assert status == "SUCCESS"


def test_asset_graph_page_renders_in_a_browser(ui: Ui, tmp_path: Path) -> None:
    browser = chromium()
    assert browser, "Chromium is needed for this test (`make test` installs Debian's chromium)"
    repository = ui.graphql(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"][0]
    ui.graphql("mutation { setNuxSeen }")  # no "join the community" dialog over the graph
    url = f"{ui.url}/locations/{repository['name']}@{repository['location']['name']}/asset-groups/analytics"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000"]
    dom = subprocess.run(
        [browser, *flags, "--window-size=1600,1000", "--dump-dom", url], capture_output=True, text=True, timeout=180
    ).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dagster-asset-graph.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1600,1000", url], capture_output=True, timeout=180
    )

    # the graph draws only the nodes in view, so any of the group's assets proves it rendered
    group = (
        "serving",
        "catalog",
        "order_to_cash",
        "customer_360",
        "support_load",
        "delivery_quality",
        "campaign_attribution",
        "int_orders_cashed",
        "int_orders_attributed",
    )
    shown = [name for name in group if f">{name}<" in dom]
    assert shown, dom[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000


def test_sigterm_stops_the_ui_and_its_whole_process_tree(ui: Ui) -> None:
    tree = ui.tree()
    assert len(tree) >= 3  # agora, dagster dev, webserver/daemon/code server

    ui.proc.send_signal(signal.SIGTERM)
    returncode = ui.proc.wait(timeout=150)
    deadline = time.monotonic() + 30
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree) and time.monotonic() < deadline:
        time.sleep(0.5)

    assert returncode == 0
    assert [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
