"""`agora demo`: a fresh home, six simulated microsites, everything landed, and where to look."""

from __future__ import annotations

import shutil
import sys
from datetime import date

from rich.console import Console
from rich.table import Table

from pipelines.errors import AgoraError
from pipelines.home import Home

MARKER = ".agora-home"


def reset_home(home: Home) -> None:
    """Empty `home` for a fresh demo, refusing to touch a folder Agora did not create."""
    if home.root.exists() and any(home.root.iterdir()) and not (home.root / MARKER).exists():
        raise AgoraError(f"{home.root} is not empty and not an Agora home; pick another --home")
    if home.root.exists():
        shutil.rmtree(home.root)
    home.ensure()
    (home.root / MARKER).write_text("created by agora demo; `agora demo` may empty this folder\n")


def run_demo(home: Home, *, days: int = 14, scale: float = 1.0, seed: int = 7) -> None:
    from pipelines.ingest import ingest
    from pipelines.simulator import SimulationConfig, simulate
    from pipelines.warehouse import connect

    console = Console()
    reset_home(home)
    console.rule("[bold]1/2 simulate six microsites")
    config = SimulationConfig(days=days, scale=scale, seed=seed, start=date(2026, 10, 1))
    manifest = simulate(home.landing, home.manifest, config)
    totals = manifest["totals"]
    console.print(f"{len(manifest['files'])} files, {totals['lines']:,} event lines into {home.landing}")
    console.rule("[bold]2/2 land everything")
    report = ingest(home)
    t = report.totals()
    console.print(
        f"{t['records']:,} records read: {t['loaded']:,} loaded, {t['duplicates']:,} duplicates, "
        f"{t['quarantined']:,} quarantined ({report.seconds:.1f} s); {t['blocked_files']} snapshot(s) blocked"
    )
    con = connect(home.warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT table_schema || '.' || table_name, estimated_size FROM duckdb_tables() "
            "WHERE table_schema LIKE 'raw_%' OR table_schema IN ('ops', 'quarantine') ORDER BY 1"
        ).fetchall()
        counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name, _ in rows}  # type: ignore[index]
    finally:
        con.close()
    table = Table(title="What landed")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, _ in rows:
        table.add_row(name, f"{counts[name]:,}")
    console.print(table)
    for f in report.files:
        if f.status == "blocked":
            console.print(f"[red]blocked[/red] {f.rel}: {f.detail}")
        elif f.schema_change:
            console.print(f"[yellow]additive[/yellow] {f.rel}: {f.detail}")
    console.print(f"\nwarehouse: {home.warehouse}")
    console.print("look at:   ops.files (every file's fate), quarantine.events / quarantine.extract_rows (why)")
    console.print(f"try:       duckdb -readonly {home.warehouse} \"select * from ops.file_reconciliation\"")
    sys.stdout.flush()
