"""`agora demo`: a fresh home, six simulated microsites, everything landed, and where to look."""

from __future__ import annotations

import shutil
import sys
from datetime import date

from rich.console import Console

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


MARTS = ("order_to_cash", "customer_360", "campaign_attribution", "delivery_quality", "support_load")


def build_models(home: Home, console: Console) -> None:
    """`dbt build`, showing one line per model, then the marts' row counts."""
    from pipelines.transform import run_dbt
    from pipelines.warehouse import connect

    def echo(line: str) -> None:
        text = line.split("  ", 1)[-1].strip()  # without dbt's time stamp
        if " OK created" in text or " ERROR " in text or " FAIL " in text or text.startswith("Done."):
            console.print("  " + text, soft_wrap=True, highlight=False)

    run_dbt(home, "build", "--exclude-resource-type", "unit_test", echo=echo)
    con = connect(home.warehouse, read_only=True)
    try:
        present = {
            name
            for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()
        }
        counts = {m: con.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS if m in present}  # type: ignore[index]
    finally:
        con.close()
    console.print("marts: " + ", ".join(f"{m} {n:,} rows" for m, n in counts.items()), soft_wrap=True)


def run_demo(home: Home, *, days: int = 30, scale: float = 2.0, seed: int = 7) -> None:
    from pipelines.ingest import ingest
    from pipelines.reporting import print_ingest
    from pipelines.simulator import SimulationConfig, simulate
    from pipelines.warehouse import connect

    console = Console()
    reset_home(home)
    console.rule("[bold]1/3 simulate six microsites")
    config = SimulationConfig(days=days, scale=scale, seed=seed, start=date(2026, 10, 1))
    manifest = simulate(home.landing, home.manifest, config)
    totals = manifest["totals"]
    console.print(f"{len(manifest['files'])} files, {totals['lines']:,} event lines into {home.landing}")
    console.rule("[bold]2/3 land everything")
    report = ingest(home)
    print_ingest(home, report, console)
    con = connect(home.warehouse, read_only=True)
    try:
        reasons = con.execute(
            "SELECT reason, count(*) FROM (SELECT reason FROM quarantine.events "
            "UNION ALL SELECT reason FROM quarantine.extract_rows) GROUP BY ALL ORDER BY 2 DESC"
        ).fetchall()
    finally:
        con.close()
    console.print("quarantined by reason: " + ", ".join(f"{reason} {n:,}" for reason, n in reasons))
    console.rule("[bold]3/3 dbt build: staging, public interfaces, cross-domain marts")
    build_models(home, console)
    # soft_wrap: a path cut at the terminal width could not be copied, nor read by a script
    console.print(f"\nwarehouse:  {home.warehouse}", soft_wrap=True)
    console.print(f"landing:    {home.landing}  (ground truth of the injected dirt: {home.manifest})", soft_wrap=True)
    console.print("docs:       agora docs   (dbt docs: lineage, owners, consumers)")
    console.print("look at:    ops.file_reconciliation (every file's fate), ops.files, ops.schema_changes,")
    console.print("            quarantine.events and quarantine.extract_rows (what was set aside, and why)")
    console.print(
        f"""try:        .venv/bin/python -c "import duckdb; duckdb.connect('{home.warehouse}', read_only=True)"""
        """.sql('select * from ops.file_reconciliation').show()\"""",
        soft_wrap=True,
    )
    sys.stdout.flush()
