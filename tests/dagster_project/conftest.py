"""Helpers for the Dagster tests: homes holding part of a simulated landing zone, run records."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg

from pipelines.home import Home

# events/2026-10-03.jsonl[.gz] and extracts/<table>/20261003T120000Z.csv: the day a file belongs to
_DAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def land_days(source: Home, target: Home, first: str, last: str) -> int:
    """Copy the landing files of days first..last (YYYY-MM-DD, inclusive) as a microsite would drop them."""
    copied = 0
    for path in sorted(source.landing.rglob("*")):
        match = _DAY.match(path.name)
        if not path.is_file() or not match or not first <= "-".join(match.groups()) <= last:
            continue
        destination = target.landing / path.relative_to(source.landing)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied += 1
    return copied


def step_windows(dagster_home: Path, job: str) -> dict[str, list[tuple[str, float, float]]]:
    """Per run of `job` in an instance: (step, started, finished) for every step that finished."""
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result: dict[str, list[tuple[str, float, float]]] = {}
        for run in instance.get_runs(dg.RunsFilter(job_name=job)):
            starts: dict[str, float] = {}
            windows = result.setdefault(run.run_id, [])
            for entry in instance.all_logs(run.run_id):
                event = entry.dagster_event
                if event is None or not event.step_key:
                    continue
                if event.event_type_value == "STEP_START":
                    starts[event.step_key] = entry.timestamp
                elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                    windows.append((event.step_key, starts[event.step_key], entry.timestamp))
        return result


def run_statuses(dagster_home: Path, job: str) -> list[dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return [run.status for run in instance.get_runs(dg.RunsFilter(job_name=job))]
