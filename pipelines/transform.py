"""Run the repo's dbt project against a home's warehouse.

dbt runs as a subprocess with the home in its environment: the profile reads the warehouse from
AGORA_WAREHOUSE, and target/ and logs/ live in the home, so several homes (tests, demo) can
build side by side from one checkout.

`build_models` is Agora's own build: after a first full one, it builds only what the batches
landed since the last successful build reach (`source:raw_<domain>.<table>+`), and tells dbt
when those batches landed (AGORA_LANDED_SINCE) so incremental models and their data tests look
at those rows only (macros/incremental.sql, macros/test_scope.sql). The batches are known by id
in ops.batches, so the watermark is exact: no time margin, no batch missed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home

# what a build's result depends on besides the data: a change here makes the next build a full one
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "data-tests")
BUILD = ("build", "--exclude-resource-type", "unit_test")
FULL_BUILD = (*BUILD, "--full-refresh")


class DbtError(AgoraError):
    """dbt failed; the message carries its summary line."""


# dbt's last line, after its timestamp: "12:00:00  Done. PASS=10 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=13"
_SUMMARY = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?(Done\. PASS=.*?)\s*$")


@dataclass(frozen=True)
class DbtRun:
    args: tuple[str, ...]
    returncode: int
    output: str
    target: Path

    def results(self) -> list[dict]:
        path = self.target / "run_results.json"
        return json.loads(path.read_text())["results"] if path.exists() else []


def dbt_target(home: Home) -> Path:
    return home.root / "dbt" / "target"


# dbt settings every Agora dbt run gets unless the environment sets them. dbt's file log at its
# default (debug) level records every statement: measured on an incremental build of 2M events,
# 0.3–0.5 s of its ~10 s; at warn it keeps warnings and errors (set DBT_LOG_LEVEL_FILE=debug).
DBT_DEFAULTS = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_LOG_LEVEL_FILE": "warn"}


def point_dbt_at(home: Home) -> None:
    """Set this process's environment for dbt runs it starts (Dagster's dbt resource passes its
    environment on): the home's warehouse for the profile, and DBT_DEFAULTS where unset."""
    os.environ["AGORA_WAREHOUSE"] = home.warehouse
    for name, value in DBT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def dbt_env(home: Home, landed_since: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AGORA_LANDED_SINCE"}
    return {
        **DBT_DEFAULTS,
        **env,
        **({"AGORA_LANDED_SINCE": landed_since} if landed_since else {}),
        "AGORA_HOME": str(home.root),
        "AGORA_WAREHOUSE": home.warehouse,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_PROJECT_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(dbt_target(home)),
        "DBT_LOG_PATH": str(home.root / "dbt" / "logs"),
        "DBT_USE_COLORS": "false",
    }


def dbt_executable() -> str:
    """`agora-dbt`, dbt's command line with its thread-race guard (pipelines/dbt_command.py)."""
    candidate = Path(sys.executable).parent / "agora-dbt"
    if not candidate.exists():
        raise AgoraError(f"agora-dbt is not installed next to {sys.executable}; run `make setup`")
    return str(candidate)


def run_dbt(
    home: Home,
    *args: str,
    echo: Callable[[str], None] | None = None,
    check: bool = True,
    landed_since: str | None = None,
) -> DbtRun:
    """`dbt <args>` on `home`; lines are passed to `echo` as they come."""
    home.ensure()
    command = [dbt_executable(), *args]
    target = dbt_target(home)
    (target / "run_results.json").unlink(missing_ok=True)  # what it holds is this run's
    proc = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=dbt_env(home, landed_since),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            echo(line.rstrip("\n"))
    returncode = proc.wait()
    run = DbtRun(tuple(args), returncode, "".join(lines), target)
    if check and returncode != 0:
        failures = _failures(run) or [ln.strip() for ln in lines if " ERROR " in ln or "FAIL " in ln or "Error" in ln]
        summary = next((m[1] for ln in reversed(lines) if (m := _SUMMARY.match(ln))), "dbt failed")
        detail = "; ".join(failures[:8])
        raise DbtError(f"dbt {' '.join(args)} failed: {summary}{(' — ' + detail) if detail else ''}")
    return run


def _failures(run: DbtRun) -> list[str]:
    """`node: message` for each node that errored or failed, from the run's run_results.json
    (the console shows a message's first line only, which may not say why)."""
    return [
        f"{result['unique_id']}: {' '.join(str(result.get('message') or '').split())[:400]}"
        for result in run.results()
        if result.get("status") in ("error", "fail", "runtime error")
    ]


@dataclass(frozen=True)
class Landings:
    """The batches in ops.batches that the last successful build had not seen."""

    batch_ids: frozenset[str]  # every committed batch now, seen or not
    new_batch_ids: frozenset[str]
    landed_since: str | None  # earliest landing time (UTC) of the new batches that loaded rows
    sources: tuple[str, ...]  # `raw_<domain>.<table>` those batches loaded rows into


@dataclass(frozen=True)
class BuildState:
    """What the last successful `build_models` saw: written after it, read before the next."""

    project: str
    batch_ids: frozenset[str]

    @classmethod
    def read(cls, home: Home) -> BuildState | None:
        path = build_state_path(home)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(project=data["project"], batch_ids=frozenset(data["batch_ids"]))

    def write(self, home: Home) -> None:
        path = build_state_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"project": self.project, "batch_ids": sorted(self.batch_ids)})
        temporary = path.with_suffix(".tmp")
        temporary.write_text(payload)
        temporary.replace(path)


def build_state_path(home: Home) -> Path:
    return home.root / "dbt" / "last_build.json"


def project_fingerprint(root: Path = REPO_ROOT) -> str:
    """Hash of every file the dbt project's result depends on (models, macros, tests, config)."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in (f for f in files if f.exists()):
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def read_landings(home: Home, seen: Iterable[str]) -> Landings:
    """Compare ops.batches with the batches a build saw (read-only; landing is not running)."""
    from pipelines.warehouse import connect

    seen_ids = frozenset(seen)
    con = connect(home.warehouse, read_only=True)
    try:
        rows = con.execute(
            """
            SELECT b.batch_id, b.kind, b.domain, b.loaded,
                   (least(b.started_at, b.committed_at) AT TIME ZONE 'UTC')::VARCHAR,
                   list(DISTINCT f.table_name) FILTER (WHERE f.table_name IS NOT NULL AND f.loaded > 0)
            FROM ops.batches b LEFT JOIN ops.files f USING (batch_id)
            GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    new = [row for row in rows if row[0] not in seen_ids]
    loading = [row for row in new if row[3] > 0]
    sources: set[str] = set()
    for _, kind, domain, _, _, tables in loading:
        if kind == "events":
            sources.add(f"raw_{domain}.events")
        else:
            sources.update(f"raw_{domain}.{table}" for table in tables or [])
    return Landings(
        batch_ids=frozenset(row[0] for row in rows),
        new_batch_ids=frozenset(row[0] for row in new),
        landed_since=min((row[4] for row in loading), default=None),
        sources=tuple(sorted(sources)),
    )


@dataclass(frozen=True)
class BuildPlan:
    """The dbt command `build_models` runs, and why."""

    args: tuple[str, ...]
    landed_since: str | None
    reason: str  # "full: …", "incremental: …" or "nothing landed"

    @property
    def runs_dbt(self) -> bool:
        return bool(self.args)

    @property
    def full_refresh(self) -> bool:
        return "--full-refresh" in self.args


def plan_build(state: BuildState | None, project: str, landings: Landings, full_refresh: bool = False) -> BuildPlan:
    """Full the first time, after a change to the project, or on request; else only what landed.

    A full build is a full refresh: incremental models are rebuilt from every row, so a change to
    a model's SQL or to its contract's constraints reaches the rows built before it, not only the
    new ones (and a home whose last build Agora has no record of is not trusted to be current).
    """
    if full_refresh:
        return BuildPlan(FULL_BUILD, None, "full: --full-refresh")
    if state is None:
        return BuildPlan(FULL_BUILD, None, "full: no earlier build of this home")
    if state.project != project:
        return BuildPlan(FULL_BUILD, None, "full: the dbt project changed since the last build")
    if not landings.sources:
        return BuildPlan((), None, "nothing landed since the last build")
    selection = tuple(f"source:{source}+" for source in landings.sources)
    return BuildPlan(
        (*BUILD, "--select", *selection),
        landings.landed_since,
        f"incremental: {len(landings.new_batch_ids)} new batch(es) into {', '.join(landings.sources)}",
    )


def prepare_build(home: Home, full_refresh: bool = False) -> tuple[BuildPlan, BuildState]:
    """The plan for `home`'s next build, and the state to record once it has succeeded.

    Shared by `build_models` and the Dagster dbt asset, so both decide from the same state.
    """
    project = project_fingerprint()
    state = BuildState.read(home)
    landings = read_landings(home, state.batch_ids if state else ())
    plan = plan_build(state, project, landings, full_refresh)
    return plan, BuildState(project=project, batch_ids=landings.batch_ids)


def build_models(
    home: Home, *, full_refresh: bool = False, echo: Callable[[str], None] | None = None, check: bool = True
) -> tuple[BuildPlan, DbtRun | None]:
    """Agora's dbt build of `home`: full the first time, then only what new batches reach.

    The state is written only after dbt succeeded, so a failed build is redone from the same
    point next time (its data tests keep failing until the data is fixed).
    """
    plan, done = prepare_build(home, full_refresh)
    if echo:
        echo(f"agora: {plan.reason}")
    if not plan.runs_dbt:
        done.write(home)  # the new batches (if any) loaded no rows: nothing to build from them
        return plan, None
    run = run_dbt(home, *plan.args, echo=echo, check=check, landed_since=plan.landed_since)
    if run.returncode == 0:
        done.write(home)
    return plan, run
