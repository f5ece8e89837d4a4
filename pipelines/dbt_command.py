"""`agora-dbt`: dbt's own command line, run with one guard for a CPython 3.11 race.

CPython up to 3.11.7 (the Python of this machine and CI) and 3.12.1 keeps the recursion depth of
its AST constructor in interpreter-wide state (gh-106905, fixed in 3.11.8 and 3.12.2). When two
threads build AST objects at once and one is paused mid-build (a garbage collection runs a
finalizer, which lets the other thread in), the first one fails with
`SystemError: AST constructor recursion depth mismatch`. dbt renders Jinja on four threads and
every native render calls `ast.literal_eval`, so a build failed now and then with a
"Compilation Error" that named no fault in the project. One lock around `ast.parse` (which
`literal_eval` and Jinja's native rendering call) lets only one thread build an AST at a time;
parsing a literal takes microseconds, so the lock costs nothing measurable. It must be installed
before dbt is imported: `jinja2.nativetypes` binds `parse` by name when it is first imported.

Agora runs every dbt command through this executable: `agora build`, the Dagster dbt asset and
the set-up's `dbt parse`.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

_GUARD = "_agora_one_thread_at_a_time"


def guard_ast_parse() -> None:
    """Serialize `ast.parse` across threads (idempotent). Call it before importing dbt."""
    if getattr(ast.parse, _GUARD, False):
        return
    if "jinja2.nativetypes" in sys.modules:
        raise RuntimeError("guard_ast_parse() must run before jinja2.nativetypes is imported")
    parse: Callable[..., Any] = ast.parse
    lock = threading.RLock()

    @functools.wraps(parse)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    setattr(guarded, _GUARD, True)
    ast.parse = guarded  # type: ignore[assignment]


def main() -> None:
    guard_ast_parse()
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
