"""Run the repo's dbt project against a home's warehouse.

dbt runs as a subprocess with the home in its environment: the profile reads the warehouse from
AGORA_WAREHOUSE, and target/ and logs/ live in the home, so several homes (tests, demo) can
build side by side from one checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home


class DbtError(AgoraError):
    """dbt failed; the message carries its summary line."""


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


def dbt_env(home: Home) -> dict[str, str]:
    return {
        **os.environ,
        "AGORA_HOME": str(home.root),
        "AGORA_WAREHOUSE": home.warehouse,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_PROJECT_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(dbt_target(home)),
        "DBT_LOG_PATH": str(home.root / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if not candidate.exists():
        raise AgoraError(f"dbt is not installed next to {sys.executable}; run `make setup`")
    return str(candidate)


def run_dbt(home: Home, *args: str, echo: Callable[[str], None] | None = None, check: bool = True) -> DbtRun:
    """`dbt <args>` on `home`; lines are passed to `echo` as they come."""
    home.ensure()
    command = [dbt_executable(), *args]
    proc = subprocess.Popen(
        command, cwd=REPO_ROOT, env=dbt_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            echo(line.rstrip("\n"))
    returncode = proc.wait()
    run = DbtRun(tuple(args), returncode, "".join(lines), dbt_target(home))
    if check and returncode != 0:
        failures = [ln.strip() for ln in lines if " ERROR " in ln or "FAIL " in ln or "Error" in ln][:8]
        summary = next((ln.strip() for ln in reversed(lines) if ln.strip().startswith("Done.")), "dbt failed")
        detail = "; ".join(failures) if failures else ""
        raise DbtError(f"dbt {' '.join(args)} failed: {summary}{(' — ' + detail) if detail else ''}")
    return run
