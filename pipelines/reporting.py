"""How results and progress look to a person (the CLI and the demo share it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

from pipelines.home import Home
from pipelines.results import IngestReport


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr when it is a terminal (or forced), silent otherwise."""
    if not enabled:
        yield lambda label, done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}", style="dim"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            step = label.split(":", 1)[0] if ":" in label else "working"
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=max(total, 1), label="")
            bar.update(tasks[step], completed=done, total=max(total, 1), label=label[-60:])

        yield update


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


def print_arrow(table: Any, fmt: str = "table", console: Console | None = None) -> None:
    """A query's answer (a pyarrow Table) on stdout as a table, CSV or JSON rows."""
    import sys

    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
        return
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(table.to_pylist(), indent=1, default=str) + "\n")
        return
    console = console or Console()
    view = Table(show_lines=False)
    for name in table.column_names:
        view.add_column(name)
    for row in table.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(view)
    console.print(f"{table.num_rows:,} rows", style="dim")


def print_permissions(permissions: Any, console: Console | None = None) -> None:
    """`agora access`: every dataset with its decision, rule and masked columns."""
    console = console or Console()
    view = Table(title=f"{permissions.principal} ({permissions.kind}) — {permissions.pii_rule}")
    for column in ("dataset", "relation", "domain", "access", "rule", "masked columns"):
        view.add_column(column)
    for d in permissions.decisions:
        view.add_row(
            d.dataset,
            d.relation,
            d.domain,
            "[green]allowed[/green]" if d.allowed else "[red]denied[/red]",
            d.rule,
            ", ".join(d.masked_columns),
        )
    console.print(view, soft_wrap=True)
