"""`agora-dbt` guards dbt's threads against CPython's AST-constructor race (gh-106905): a build
failed in CI with "AST constructor recursion depth mismatch" inside a unit test's fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dagster_project.definitions import defs
from pipelines.home import REPO_ROOT
from pipelines.transform import dbt_executable

# Four threads at different stack depths parse literals while the collector keeps finding cycles
# whose finalizers run Python code, which lets another thread in mid-parse: what dbt's four
# threads do when they render Jinja natively.
RACE = """
import ast, gc, json, sys, threading, time
if sys.argv[1] == "guarded":
    from pipelines.dbt_command import guard_ast_parse
    guard_ast_parse()
gc.set_threshold(50, 1, 1)

class Cycle:
    def __del__(self):
        for _ in range(50):
            pass

source = "[" + ",".join("{'a': (1, 2, [3, 4])}" for _ in range(200)) + "]"
errors = []

def parse_until(deadline, depth):
    if depth:
        return parse_until(deadline, depth - 1)
    while time.monotonic() < deadline and not (errors and stop_at_first):
        cycle = Cycle()
        cycle.me = cycle
        try:
            ast.literal_eval(source)
        except SystemError as error:
            errors.append(str(error))

deadline = time.monotonic() + float(sys.argv[2])
stop_at_first = sys.argv[1] == "unguarded"
threads = [threading.Thread(target=parse_until, args=(deadline, d)) for d in (3, 7, 11, 15)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(errors[:3] + [len(errors)]))
"""


def _python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO_ROOT, check=True, timeout=120
    )
    return done.stdout


def _race(mode: str, seconds: float = 2.0) -> list:
    return json.loads(_python(RACE, mode, str(seconds)))


def test_guarded_parse_never_raises_the_recursion_depth_mismatch() -> None:
    result = _race("guarded")

    assert result == [0]


def test_the_race_shows_without_the_guard_exactly_on_the_affected_pythons() -> None:
    """The test above is only worth something where the race is real: up to 3.11.7 and in
    3.12.0–3.12.1 (this machine's and CI's Python is 3.11.7)."""
    affected = sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 2)

    result = _race("unguarded", seconds=20.0)  # stops at the first error: ~0.1 s here

    assert (result[-1] > 0, affected and "AST constructor recursion depth mismatch" in result[0]) == (
        affected,
        affected,
    )


def test_the_guard_reaches_jinjas_native_rendering_inside_dbt() -> None:
    """jinja2.nativetypes binds `parse` by name at import; dbt must be imported after the guard."""
    result = _python(
        "from pipelines.dbt_command import guard_ast_parse; guard_ast_parse();"
        "import ast, dbt.cli.main, jinja2.nativetypes;"
        "print(jinja2.nativetypes.parse is ast.parse, hasattr(ast.parse, '_agora_one_thread_at_a_time'))"
    )

    assert result.split() == ["True", "True"]


def test_the_guard_refuses_to_come_after_jinja() -> None:
    result = _python(
        "import jinja2.nativetypes\n"
        "from pipelines.dbt_command import guard_ast_parse\n"
        "try:\n    guard_ast_parse()\nexcept RuntimeError as e:\n    print(e)\n"
    )

    assert result.strip() == "guard_ast_parse() must run before jinja2.nativetypes is imported"


def test_agora_and_dagster_run_dbt_through_agora_dbt() -> None:
    resource = defs().resources["dbt"]

    assert (Path(dbt_executable()).name, Path(resource.dbt_executable).name) == ("agora-dbt", "agora-dbt")


def test_agora_dbt_is_dbts_command_line() -> None:
    done = subprocess.run([dbt_executable(), "--help"], capture_output=True, text=True, timeout=120)

    assert (done.returncode, done.stdout.startswith("Usage: agora-dbt [OPTIONS]")) == (0, True)
