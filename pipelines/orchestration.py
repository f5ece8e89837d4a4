"""`agora run` and `agora ui`: the whole Dagster job on a home, recorded in its Dagster history.

DAGSTER_HOME is `<home>/dagster`; its dagster.yaml gives every pool one slot, so steps that write
the warehouse (they all take the `warehouse` pool) queue instead of colliding on DuckDB's lock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.errors import AgoraError
from pipelines.home import Home

INSTANCE_YAML = """\
# Written by agora: one slot per pool, so warehouse writers run one at a time.
concurrency:
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
"""


def prepare_instance(home: Home) -> None:
    """Point this process at the home's Dagster instance (created on first use)."""
    home.dagster.mkdir(parents=True, exist_ok=True)
    config = home.dagster / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home.dagster)
    os.environ["AGORA_HOME"] = str(home.root)
    os.environ["AGORA_WAREHOUSE"] = home.warehouse
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@dataclass
class BuildRun:
    run_id: str
    success: bool
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds
    failed_checks: list[str] = field(default_factory=list)


def run_build(home: Home, echo: Callable[[str], None] | None = None) -> BuildRun:
    """Execute the `agora_build` job in this process against the home's Dagster instance."""
    if not home.landing.is_dir():
        raise AgoraError(f"no landing zone at {home.landing} — run `agora simulate` first")
    prepare_instance(home)
    import dagster as dg

    from dagster_project.automation import BUILD_JOB
    from dagster_project.definitions import defs

    echo = echo or (lambda line: None)
    job = defs().resolve_job_def(BUILD_JOB)
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
        entries = instance.all_logs(result.run_id)
    seconds = time.perf_counter() - started
    steps: dict[str, float] = {}
    starts: dict[str, float] = {}
    failed_checks = []
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START" and event.step_key:
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            steps[event.step_key] = entry.timestamp - starts[event.step_key]
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data  # an AssetCheckEvaluation
            if not evaluation.passed:
                failed_checks.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({evaluation.severity.value})"
                )
    for step, took in steps.items():
        echo(f"{step:<40} {took:7.2f} s")
    return BuildRun(result.run_id, result.success, seconds, steps, failed_checks)
