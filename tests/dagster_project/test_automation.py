"""Automation: the build job, its daily schedule, the landing-zone sensor and freshness SLAs.

The sensor runs in the long-lived code server, so it must look at files only: a DuckDB
connection there would hold the warehouse lock against every run (reference/dagster.md §2.5).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import timedelta

import dagster as dg
import duckdb
import pytest

from catalog.declarations import load_domains
from dagster_project.automation import BUILD_JOB
from dagster_project.landing import landing_keys
from pipelines.contracts import DOMAINS
from pipelines.home import Home


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from dagster_project.definitions import defs as load

    return load()


@pytest.fixture
def landing_home(
    simulated: tuple[Home, dict], copy_of: Callable[[Home], Home], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Home]:
    """A copy of the simulated landing zone as AGORA_HOME; any DuckDB connection fails."""
    home = copy_of(simulated[0])
    monkeypatch.setenv("AGORA_HOME", str(home.root))
    monkeypatch.delenv("AGORA_WAREHOUSE", raising=False)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sensor opened a database")

    monkeypatch.setattr(duckdb, "connect", refuse)
    yield home
    assert not os.path.exists(home.warehouse)


def _tick(defs: dg.Definitions, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    """One evaluation as the daemon does it: run requests resolved against the job, new cursor, skip."""
    sensor = defs.resolve_sensor_def("landing_zone")
    context = dg.build_sensor_context(cursor=cursor, repository_def=defs.get_repository_def())
    data = sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor, data.skip_message


def _land_event_file(home: Home, domain: str) -> None:
    folder = home.landing / domain / "events"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "late-arrival.jsonl").write_text("{}\n")


def test_sensor_first_look_requests_every_domain_with_files(defs: dg.Definitions, landing_home: Home) -> None:
    requests, _, _ = _tick(defs, None)

    assert len(requests) == 1
    assert requests[0].tags["agora/domains"] == ",".join(sorted(DOMAINS))


def test_sensor_skips_when_nothing_changed(defs: dg.Definitions, landing_home: Home) -> None:
    _, cursor, _ = _tick(defs, None)

    requests, _, skip = _tick(defs, cursor)

    assert requests == []
    assert skip == "no new files in the landing zone"


def test_sensor_requests_exactly_the_domains_that_changed(defs: dg.Definitions, landing_home: Home) -> None:
    _, cursor, _ = _tick(defs, None)
    _land_event_file(landing_home, "finance")
    _land_event_file(landing_home, "qa")

    requests, _, _ = _tick(defs, cursor)

    assert [r.tags["agora/domains"] for r in requests] == ["finance,qa"]
    assert set(requests[0].asset_selection or []) == {*landing_keys("finance"), *landing_keys("qa")}


def test_sensor_run_request_targets_the_build_job(defs: dg.Definitions, landing_home: Home) -> None:
    _, cursor, _ = _tick(defs, None)
    _land_event_file(landing_home, "sales")

    requests, _, _ = _tick(defs, cursor)
    job = defs.resolve_job_def(BUILD_JOB).get_subset(asset_selection=set(requests[0].asset_selection or []))

    assert defs.resolve_sensor_def("landing_zone").job_name == BUILD_JOB
    nodes = {n.name for n in job.graph.node_defs}
    assert {n for n in nodes if n.startswith("land_")} == {"land_sales"}
    assert not nodes & {"dbt_build", "serving"}


def test_sensor_run_key_is_stable_for_the_same_files(defs: dg.Definitions, landing_home: Home) -> None:
    first, _, _ = _tick(defs, None)
    second, _, _ = _tick(defs, None)

    assert first[0].run_key == second[0].run_key


def test_sensor_cursor_lists_landing_files_only(defs: dg.Definitions, landing_home: Home) -> None:
    _, cursor, _ = _tick(defs, None)

    files = [path for domain in json.loads(cursor or "{}").values() for path in domain]

    assert files and all(path.split("/")[1] in ("events", "extracts") for path in files)


def test_build_job_selects_every_asset(defs: dg.Definitions) -> None:
    result = defs.resolve_job_def(BUILD_JOB).asset_layer.selected_asset_keys

    assert result == defs.resolve_asset_graph().materializable_asset_keys
    assert dg.AssetKey(["serving"]) in result


def test_daily_schedule_runs_the_build_job(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_build")

    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == (BUILD_JOB, "0 5 * * *", "UTC")


def test_landing_assets_carry_their_domain_sla_as_freshness(defs: dg.Definitions) -> None:
    sla = {d.name: timedelta(hours=d.sla_hours) for d in load_domains()}
    specs = [s for s in defs.resolve_all_asset_specs() if s.key.path[0].startswith("raw_")]

    result = {
        s.key.to_user_string(): (
            s.freshness_policy.fail_window.to_timedelta(),
            s.freshness_policy.warn_window.to_timedelta(),
        )
        for s in specs
        if s.freshness_policy is not None
    }
    expected = {s.key.to_user_string(): (sla[s.group_name], sla[s.group_name] / 2) for s in specs}

    assert result == expected
