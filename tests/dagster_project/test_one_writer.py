"""Guarantee 5, one writer, across runs: two `agora run` started at the same moment on one home
both succeed. Every step that opens the warehouse takes the `warehouse` pool; the home's
instance (sqlite storage, which supports pools) gives it one slot, so the second run's steps
queue behind the first's instead of failing on DuckDB's file lock — `execute_in_process`
claims pool slots through the instance like any executor, so no extra lock is needed."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import dagster as dg
import pytest

from dagster_project.automation import BUILD_JOB
from pipelines.home import Home
from tests.conftest import AGORA, REPO, make_home, warehouse_state
from tests.dagster_project.conftest import run_statuses, step_windows

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("dagster_one_writer")]

# steps that open the warehouse: they all take the pool
WRITERS = ("land_", "dbt_build", "serving", "great_expectations")


@pytest.fixture(scope="module")
def two_runs(
    simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Home, list[subprocess.CompletedProcess[str]]]:
    home = make_home(tmp_path_factory.mktemp("one_writer") / "home")
    shutil.copytree(simulated[0].landing, home.landing)
    logs = [home.root.parent / f"run{i}.log" for i in range(2)]
    procs = [
        subprocess.Popen(
            [*AGORA, "--home", str(home.root), "run"],
            cwd=REPO,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        for log in logs
    ]
    results = []
    for proc, log in zip(procs, logs, strict=True):
        proc.wait(timeout=600)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text(), ""))
    return home, results


def test_both_runs_succeed(two_runs: tuple[Home, list[subprocess.CompletedProcess[str]]]) -> None:
    _, results = two_runs

    assert [r.returncode for r in results] == [0, 0], [r.stdout[-2000:] for r in results]


def test_run_history_records_both_runs_as_successes(
    two_runs: tuple[Home, list[subprocess.CompletedProcess[str]]],
) -> None:
    home, _ = two_runs

    result = run_statuses(home.dagster, BUILD_JOB)

    assert result == [dg.DagsterRunStatus.SUCCESS] * 2


def test_warehouse_steps_of_the_two_runs_never_overlap(
    two_runs: tuple[Home, list[subprocess.CompletedProcess[str]]],
) -> None:
    home, _ = two_runs
    windows = sorted(
        (start, end, run_id, step)
        for run_id, steps in step_windows(home.dagster, BUILD_JOB).items()
        for step, start, end in steps
        if any(marker in step for marker in WRITERS)
    )

    overlaps = [(a, b) for a, b in itertools.pairwise(windows) if b[0] < a[1]]

    assert len({w[2] for w in windows}) == 2
    assert overlaps == []


def test_warehouse_holds_what_one_run_lands(
    two_runs: tuple[Home, list[subprocess.CompletedProcess[str]]], landed: tuple[Home, dict]
) -> None:
    home, _ = two_runs

    result = warehouse_state(home)

    assert result == warehouse_state(landed[0])


def test_both_runs_published_the_serving_snapshot(
    two_runs: tuple[Home, list[subprocess.CompletedProcess[str]]],
) -> None:
    home, results = two_runs

    assert home.serving.exists()
    assert all("serving" in r.stdout for r in results)
