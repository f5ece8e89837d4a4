"""`agora run` on the demo data: wall time, and how much of it is Dagster rather than the steps.

A fresh home gets the demo's landing zone (`agora simulate --days 30 --scale 2`), then one
`agora run` in its own process is timed from start to exit. The steps' own durations come from
the run's event log (STEP_START → STEP_SUCCESS/FAILURE); Dagster overhead is everything else:
interpreter start and imports, loading definitions, creating the instance, the executor and
the event log between steps. Nothing here asserts on time.

    python -m benchmarks.dagster_run [WORKDIR]     # prints the figures, writes WORKDIR/dagster_run.json
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGORA = [sys.executable, "-m", "pipelines.cli"]
DEMO = ("--days", "30", "--scale", "2")


def _agora(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*AGORA, "--home", str(home), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"agora {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def _run_timeline(dagster_home: Path) -> dict:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (run,) = instance.get_runs(limit=1)
        starts: dict[str, float] = {}
        steps: dict[str, float] = {}
        first_event = last_event = None
        for entry in instance.all_logs(run.run_id):
            first_event = entry.timestamp if first_event is None else first_event
            last_event = entry.timestamp
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                steps[event.step_key] = entry.timestamp - starts[event.step_key]
        return {
            "run_id": run.run_id,
            "status": run.status.value,
            "run_events_seconds": (last_event or 0) - (first_event or 0),
            "steps": steps,
        }


def measure(workdir: Path) -> dict:
    """Simulate the demo data into a fresh home under `workdir`, time one `agora run`."""
    home = Path(workdir) / "dagster_run_home"
    shutil.rmtree(home, ignore_errors=True)
    _agora(home, "simulate", *DEMO)
    started = time.perf_counter()
    _agora(home, "run")
    wall = time.perf_counter() - started
    timeline = _run_timeline(home / "dagster")
    step_seconds = sum(timeline["steps"].values())
    overhead = wall - step_seconds
    result = {
        "data": "agora simulate " + " ".join(DEMO),
        "wall_seconds": round(wall, 2),
        "run_seconds": round(timeline["run_events_seconds"], 2),  # first to last event of the run
        "step_seconds": round(step_seconds, 2),
        "overhead_seconds": round(overhead, 2),
        "overhead_share": round(overhead / wall, 3),
        "in_run_overhead_seconds": round(timeline["run_events_seconds"] - step_seconds, 2),
        "steps": {k: round(v, 2) for k, v in sorted(timeline["steps"].items(), key=lambda kv: -kv[1])},
        "status": timeline["status"],
    }
    (Path(workdir) / "dagster_run.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="agora-bench-"))
    print(json.dumps(measure(target), indent=2))
