"""`agora run` and `agora ui`: the whole Dagster job on a home, recorded in its Dagster history.

DAGSTER_HOME is `<home>/dagster`; its dagster.yaml gives every pool one slot, so steps that write
the warehouse (they all take the `warehouse` pool) queue instead of colliding on DuckDB's lock.

That holds across processes too, with no lock of our own: `execute_in_process` claims a pool slot
through the instance before each step like any executor, and the instance's sqlite storage
supports pools, so two `agora run`s on one home (or one beside a run launched from `agora ui`)
interleave their warehouse steps one at a time (tests/dagster_project/test_one_writer.py).
A run whose `agora` process died (SIGKILL, out of memory) would stay STARTED and keep its slot,
so every later run would wait for ever. Each `agora run` is tagged with its host, pid and the
pid's start time; the next `agora run` on the home marks such orphans failed and frees their
slots before it starts (`release_orphaned_runs`). Runs launched from the UI are left to Dagster.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home
from pipelines.transform import point_dbt_at

INSTANCE_YAML = """\
# Written by agora: one slot per pool, so warehouse writers run one at a time.
concurrency:
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
"""


@contextmanager
def _instance(home: Home) -> Iterator[Any]:
    """The home's Dagster instance. Opening it creates and migrates its SQLite storage, which two
    processes starting at once would race on (alembic ends with two heads), so the opening is
    serialized with a file lock; the run itself is not."""
    import dagster as dg

    with open(home.dagster / ".instance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
        _initialize_pools(instance)
        fcntl.flock(lock, fcntl.LOCK_UN)
    with instance:
        yield instance


_HOST, _PID, _PID_STARTED = "agora/host", "agora/pid", "agora/pid_started"


def _process_started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None if there is none.

    Compared with the value recorded at launch, it tells a live run from a dead one whose pid
    was reused by another process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5); the name before it may hold spaces


def owner_tags() -> dict[str, str]:
    """Tags naming the process that runs a job here (read by `release_orphaned_runs`)."""
    pid = os.getpid()
    return {_HOST: socket.gethostname(), _PID: str(pid), _PID_STARTED: _process_started(pid) or ""}


def _alive(pid: int, started: str) -> bool:
    if started:
        return _process_started(pid) == started
    try:  # no /proc when the run started: existence is all that can be checked
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_orphaned_runs(instance: Any) -> list[str]:
    """Fail the unfinished runs of `agora` processes of this host that are gone, and free the pool
    slots they held. Returns a line per released run."""
    import dagster as dg

    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    released = []
    for run in instance.get_runs(dg.RunsFilter(statuses=unfinished, tags={_HOST: socket.gethostname()})):
        pid = run.tags.get(_PID, "")
        if not pid.isdigit() or _alive(int(pid), run.tags.get(_PID_STARTED, "")):
            continue
        message = f"the agora process that ran it (pid {pid}) ended without finishing it (killed?)"
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(f"run {run.run_id} marked failed: {message}; its warehouse slot is free again")
    return released


def _initialize_pools(instance: Any) -> None:
    """Create the warehouse pool's one slot now, under the instance lock: left to the first step
    that claims it, two runs starting together could each initialise the pool and each hold a
    slot (seen in CI as two landing steps writing at once)."""
    from dagster_project.resources import WAREHOUSE_POOL

    storage = instance.event_log_storage
    if WAREHOUSE_POOL not in storage.get_concurrency_keys():
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)


def prepare_instance(home: Home) -> None:
    """Point this process at the home's Dagster instance (created on first use)."""
    home.dagster.mkdir(parents=True, exist_ok=True)
    config = home.dagster / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home.dagster)
    os.environ["AGORA_HOME"] = str(home.root)
    point_dbt_at(home)


@dataclass
class BuildRun:
    run_id: str
    success: bool
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds
    failed_checks: list[str] = field(default_factory=list)


class DbtConsole:
    """What dbt prints while a run builds (dagster-dbt writes it to sys.stdout).

    Every line goes to `<home>/dbt/logs/console.log`; the console gets a progress update per
    finished node ("12 of 277 OK …") and, at the end, dbt's summary and its errors.
    """

    _NODE = re.compile(r"^(\d+) of (\d+) (?!START)")
    # warnings are not repeated: the run's failed checks already name each warning test
    _KEEP = ("Done.", "Failure in ", "Error in ", "Completed with ")

    def __init__(self, log: Path, progress: Callable[[str, int, int], None]) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.file = log.open("w", encoding="utf-8")
        self.progress = progress
        self.summary: list[str] = []
        self.pending = ""

    def write(self, text: str) -> int:
        if self.file.closed:  # a straggler after the run: the console it was meant for is gone
            return len(text)
        self.file.write(text)
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            plain = _ANSI.sub("", line).strip()
            node = self._NODE.match(plain)
            if node:
                self.progress(f"dbt build: {plain.split(' ', 4)[-1][:50]}", int(node[1]), int(node[2]))
            elif plain.startswith(self._KEEP):
                self.summary.append(plain)
        return len(text)

    def flush(self) -> None:
        if not self.file.closed:
            self.file.flush()

    def close(self) -> None:
        self.file.close()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_build(
    home: Home,
    echo: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildRun:
    """Execute the `agora_build` job in this process against the home's Dagster instance.

    `echo` gets the per-step times and dbt's summary at the end; `progress` gets dbt's progress
    while it builds. dbt's full console output is kept in `<home>/dbt/logs/console.log`.
    """
    if not home.landing.is_dir():
        raise AgoraError(f"no landing zone at {home.landing} — run `agora simulate` first")
    prepare_instance(home)

    from dagster_project.automation import BUILD_JOB
    from dagster_project.definitions import defs

    echo = echo or (lambda line: None)
    job = defs().resolve_job_def(BUILD_JOB)
    started = time.perf_counter()
    with _instance(home) as instance:
        for line in release_orphaned_runs(instance):
            echo(line)
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        console = DbtConsole(home.root / "dbt" / "logs" / "console.log", progress or (lambda *_: None))
        try:
            with contextlib.redirect_stdout(console):  # type: ignore[type-var]
                result = job.execute_in_process(
                    instance=instance, raise_on_error=False, run_config=quiet, tags=owner_tags()
                )
        finally:
            console.close()
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
    width = max(map(len, steps), default=0)
    for step, took in steps.items():
        echo(f"{step:<{width}} {took:7.2f} s")
    for line in console.summary:
        echo(f"dbt: {line}")
    return BuildRun(result.run_id, result.success, seconds, steps, failed_checks)


# `dagster dev` stops its webserver and daemon itself (each given up to a minute); past this,
# whatever is left of its process tree is killed so `agora ui` never leaves orphans behind.
UI_SHUTDOWN_SECONDS = 90


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise AgoraError(f"port {port} is already in use; pick another with --port") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ui_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "dagster_project.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]


def serve_ui(home: Home, port: int, echo: Callable[[str], None] | None = None) -> int:
    """`dagster dev` (webserver + daemon) on the home's instance until Ctrl-C or SIGTERM.

    The child runs in its own session so a terminal's Ctrl-C reaches only us: we forward one
    interrupt, give `dagster dev` time to stop its webserver, daemon, code server and runs, then
    kill what remains of its process tree. Returns the child's exit code (0 after a clean stop).
    """
    import psutil

    if not home.landing.is_dir():
        raise AgoraError(f"no landing zone at {home.landing} — run `agora simulate` first")
    if port == 0:
        port = _free_port()
    else:
        _check_port_free(port)
    prepare_instance(home)
    echo = echo or (lambda line: None)
    with _instance(home) as instance:  # the UI would show them running for ever
        for line in release_orphaned_runs(instance):
            echo(line)
    proc = subprocess.Popen(ui_command(port), cwd=REPO_ROOT, env=dict(os.environ), start_new_session=True)
    stop_requested: list[float] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if not stop_requested:
            stop_requested.append(time.monotonic())
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # dagster dev's shutdown signal

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    tree: dict[int, psutil.Process] = {}
    try:
        echo(f"Dagster UI for {home.root}: http://127.0.0.1:{port}  (Ctrl-C to stop)")
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                tree.update({child.pid: child for child in psutil.Process(proc.pid).children(recursive=True)})
            if stop_requested and time.monotonic() - stop_requested[0] > UI_SHUTDOWN_SECONDS:
                proc.kill()
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        returncode = proc.wait()
        _reap(proc.pid, list(tree.values()))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop_requested:
        return 0
    if returncode != 0:
        raise AgoraError(f"dagster dev stopped with exit code {returncode}; see its log above")
    return 0


def _reap(group: int, processes: list) -> None:
    """Stop what outlived `dagster dev`: its process group, then any descendant seen running."""
    import psutil

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)
    alive = [p for p in processes if p.is_running()]
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(alive, timeout=10)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=5)
