"""The whole build as one job, a daily schedule, and a sensor on the landing zone."""

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from pipelines.contracts import DOMAINS

BUILD_JOB = "agora_build"


def landing_fingerprint(landing: Path, domain: str) -> dict[str, list[int]]:
    """(size, mtime) of every file in a domain's landing folders: files only, never the warehouse."""
    result: dict[str, list[int]] = {}
    root = landing / domain
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            result[str(path.relative_to(landing))] = [stat.st_size, stat.st_mtime_ns]
    return result


def automation_defs() -> dg.Definitions:
    # In-process: every step opens the warehouse and takes the one-slot `warehouse` pool, so they
    # run one at a time anyway; a process per step (the default executor) only added ~8 s of
    # start-up to each of them in runs launched from the UI, schedule or sensor.
    build = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.all(),
        description="ingest → checks → dbt build → catalog → publish",
        executor_def=dg.in_process_executor,
    )

    schedule = dg.ScheduleDefinition(name="daily_build", job=build, cron_schedule="0 5 * * *", execution_timezone="UTC")

    @dg.sensor(
        name="landing_zone",
        job=build,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def landing_zone(context: dg.SensorEvaluationContext):  # type: ignore[no-untyped-def]
        """Launches landing for the domains whose landing folders changed since the last look."""
        from dagster_project.landing import landing_keys
        from pipelines.home import Home

        landing = Home.resolve(os.environ.get("AGORA_HOME")).landing
        previous = json.loads(context.cursor) if context.cursor else {}
        current = {domain: landing_fingerprint(landing, domain) for domain in DOMAINS}
        changed = sorted(d for d in DOMAINS if current[d] and current[d] != previous.get(d))
        context.update_cursor(json.dumps(current))
        if not changed:
            return dg.SkipReason("no new files in the landing zone")
        # a domain lands all its tables in one step, so the request names every one of them
        selection = [key for d in changed for key in landing_keys(d)]
        # a content digest, not hash(): that one is salted per process and the run key must be stable
        digest = hashlib.sha256(json.dumps({d: current[d] for d in changed}, sort_keys=True).encode()).hexdigest()
        return dg.RunRequest(
            run_key=f"landing-{digest[:16]}",
            asset_selection=selection,
            tags={"agora/domains": ",".join(changed)},
        )

    return dg.Definitions(jobs=[build], schedules=[schedule], sensors=[landing_zone])
