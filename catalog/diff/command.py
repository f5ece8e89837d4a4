"""`agora catalog diff --base REV`: the result for a person (a rich table) or a script (--json),
and an exit status a domain team can put in its CI: 0 no breaking change, 1 a breaking change,
2 the comparison could not run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.diff.guard import DiffResult, diff
from catalog.diff.revisions import resolve_revision
from catalog.diff.sources import default_who_breaks
from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home


def print_diff(result: DiffResult) -> None:
    """The changes as a table: one row each, breaking ones with who they break and, dimmed, how
    those were found where the answer is not exactly the question."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not result.changes:
        console.print(f"no changes to contracts or models since {result.base} ({result.commit[:12]})")
        console.print(f"consumers from {result.consumers_source}", style="dim")
        return
    table = Table(title=f"Changes since {result.base} ({result.commit[:12]})", show_lines=True)
    for column in ("dataset", "column", "change", "breaking", "consumers (kind, owner)"):
        table.add_column(column, overflow="fold")
    for change in result.changes:
        column = change.column or "—"
        if change.new_column:
            column = f"{change.column} → {change.new_column}"
        consumers = "\n".join(f"{a.name} ({a.kind}, {a.owner or 'no owner'})" for a in change.consumers)
        if change.breaking and not consumers:
            consumers = "none known"
        table.add_row(
            Text(change.dataset),
            Text(column),
            Text.assemble(change.kind, "\n", (change.detail, "dim")),
            Text("yes", style="bold red") if change.breaking else Text("no"),
            Text.assemble(consumers or "—", *(("\n" + note, "dim") for note in change.notes)),
        )
    console.print(table)
    breaking = sum(c.breaking for c in result.changes)
    console.print(f"{len(result.changes)} change(s), {breaking} breaking")
    console.print(f"consumers from {result.consumers_source}", style="dim")


@click.command(name="diff")
@click.option("--base", "base", required=True, metavar="REV", help="Git revision to compare the working tree with.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes and their consumers as JSON.")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Repository holding catalog/ and models/ (default: this Agora checkout).",
)
@click.pass_context
def diff_command(ctx: click.Context, base: str, as_json: bool, repo: str | None) -> None:
    """Breaking changes to contracts and dbt models since REV, and every consumer each breaks.

    Exit status: 0 no breaking change, 1 a breaking change, 2 the comparison could not run.
    """
    home = ctx.find_object(Home) or Home.resolve(None)
    root = Path(repo).absolute() if repo else REPO_ROOT
    try:
        resolve_revision(root, base)  # an unknown revision fails before anything is read
        who_breaks, source = default_who_breaks(home, root)
        result = diff(root, base, who_breaks, source)
    except AgoraError as exc:
        click.echo(f"agora: error: {exc}", err=True)
        ctx.exit(2)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        print_diff(result)
    ctx.exit(1 if result.breaking else 0)
