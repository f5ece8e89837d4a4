"""How landing results look to a person (the CLI and the demo share it)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pipelines.home import Home
from pipelines.results import IngestReport


def print_ingest(home: Home, report: IngestReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"Landed into {home.warehouse}")
    for column in ("domain", "files", "records", "loaded", "duplicates", "quarantined"):
        table.add_column(column, justify="left" if column == "domain" else "right")
    for domain, row in report.by_domain().items():
        table.add_row(domain, *(f"{row[k]:,}" for k in ("files", "records", "loaded", "duplicates", "quarantined")))
    totals = report.totals()
    table.add_section()
    table.add_row(
        "total", *(f"{totals[k]:,}" for k in ("files", "records", "loaded", "duplicates", "quarantined")), style="bold"
    )
    console.print(table)
    rate = totals["records"] / report.seconds if report.seconds else 0
    console.print(
        f"{report.seconds:.1f} s ({rate:,.0f} records/s); {totals['unchanged_files']} files unchanged, "
        f"{totals['replayed_files']} replayed (same bytes), {totals['rejected_files']} rejected, "
        f"{totals['blocked_files']} blocked"
    )
    for f in report.files:
        if f.status == "blocked":
            console.print(f"[red]blocked[/red] {f.rel}: {f.detail}")
        elif f.status == "rejected":
            console.print(f"[red]rejected[/red] {f.detail}")
        elif f.schema_change and f.schema_change.get("change") == "additive":
            console.print(f"[yellow]additive[/yellow] {f.rel}: {f.detail}")
