"""An `agora run` killed with SIGKILL while it holds the warehouse slot must not block the home:
the next `agora run` marks the orphan failed, frees its slot and runs (pipelines.orchestration)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import dagster as dg
import pytest

from dagster_project.automation import BUILD_JOB
from dagster_project.resources import WAREHOUSE_POOL
from pipelines.home import Home
from pipelines.orchestration import owner_tags, release_orphaned_runs
from tests.conftest import AGORA, REPO, make_home
from tests.dagster_project.conftest import run_statuses

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("dagster_orphaned_run")]


def _slot_holders(home: Home) -> set[str]:
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        if WAREHOUSE_POOL not in instance.event_log_storage.get_concurrency_keys():
            return set()
        return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids


def test_run_after_a_killed_run_frees_its_slot_and_succeeds(simulated: tuple[Home, dict], tmp_path) -> None:
    home = make_home(tmp_path / "home")
    shutil.copytree(simulated[0].landing, home.landing)
    command = [*AGORA, "--home", str(home.root), "run"]
    killed = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    holders: set[str] = set()
    while not holders and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        holders = _slot_holders(home) if home.dagster.joinpath("dagster.yaml").exists() else set()
    assert holders, "the first run never took the warehouse slot"
    os.killpg(killed.pid, signal.SIGKILL)  # the run and its dbt child, mid-step
    killed.wait(timeout=60)
    assert _slot_holders(home) == holders  # the dead run still holds it

    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)

    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"pid {killed.pid}" in rerun.stdout and "marked failed" in rerun.stdout
    assert run_statuses(home.dagster, BUILD_JOB) == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
    assert _slot_holders(home) == set()


def test_release_leaves_runs_of_live_processes_alone(tmp_path) -> None:
    """A run tagged by this (live) process, or by a process of another host, is not touched."""
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        mine = instance.create_run_for_job(_job(), tags=owner_tags(), status=dg.DagsterRunStatus.STARTED)
        elsewhere = instance.create_run_for_job(
            _job(),
            tags={**owner_tags(), "agora/host": "another-host", "agora/pid": "1"},
            status=dg.DagsterRunStatus.STARTED,
        )
        gone = instance.create_run_for_job(
            _job(), tags={**owner_tags(), "agora/pid": str(_dead_pid())}, status=dg.DagsterRunStatus.STARTED
        )

        released = release_orphaned_runs(instance)

        assert len(released) == 1 and gone.run_id in released[0]
        statuses = {run.run_id: run.status for run in instance.get_runs()}
        assert statuses[mine.run_id] == dg.DagsterRunStatus.STARTED
        assert statuses[elsewhere.run_id] == dg.DagsterRunStatus.STARTED
        assert statuses[gone.run_id] == dg.DagsterRunStatus.FAILURE


def _job() -> dg.JobDefinition:
    @dg.op
    def noop() -> None:
        pass

    @dg.job
    def orphan_probe() -> None:
        noop()

    return orphan_probe


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
