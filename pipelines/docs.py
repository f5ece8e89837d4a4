"""`agora docs`: build dbt docs for a home and serve them (lineage, owners, consumers)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path

from pipelines.errors import AgoraError
from pipelines.home import Home
from pipelines.transform import dbt_target, run_dbt


def build_docs(home: Home, echo: Callable[[str], None] | None = None) -> Path:
    """Generate docs (manifest, catalog, index.html) into the home's dbt target; return it."""
    if not Path(home.warehouse).exists() and "://" not in home.warehouse and ":" not in home.warehouse[:3]:
        raise AgoraError(f"no warehouse at {home.warehouse} yet — run `agora demo` (or ingest and build) first")
    run_dbt(home, "docs", "generate", echo=echo)
    target = dbt_target(home)
    if not (target / "index.html").exists():
        raise AgoraError(f"dbt did not write {target / 'index.html'}")
    return target


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def serve(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A static server for `directory` on localhost:`port` (0 picks a free port), started in a thread."""
    handler = functools.partial(_Quiet, directory=str(directory))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise AgoraError(f"cannot serve docs on port {port}: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
