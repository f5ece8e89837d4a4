"""The `agora` command line (DESIGN.md): commands parse arguments and delegate.

Heavy imports live inside the commands so `agora --help` stays instant. Expected errors are
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, ClassVar

import click

from pipelines.errors import AgoraError
from pipelines.home import Home


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"agora: error: {message}", err=True)
    sys.exit(code)


def expected_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AgoraError as exc:
            _fail(str(exc))
        except FileExistsError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="AGORA_HOME",
    default=None,
    help="Agora home (landing zone, warehouse, snapshots, run history). Env AGORA_HOME; default ./.agora",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: bool) -> None:
    """Agora: shared data for analytics, with a governance catalog."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # libraries that set their own loggers' levels (Dagster, Great Expectations) still propagate
    # INFO records to this handler: the handler's level is what keeps them off the console
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    ctx.obj = Home.resolve(home)


@main.command()
@click.option(
    "--days", type=click.IntRange(1, 3650), default=14, show_default=True, help="Days of activity to simulate."
)
@click.option(
    "--scale",
    type=click.FloatRange(0.01, 10000),
    default=1.0,
    show_default=True,
    help="Volume multiplier (1 ≈ 2k events/day).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same files.")
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d"]), default="2026-10-01", show_default=True, help="First simulated day."
)
@click.option(
    "--dirt",
    type=click.FloatRange(0, 100),
    default=1.0,
    show_default=True,
    help="Multiplier on every dirt rate (0 = clean data).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest totals as JSON.")
@click.pass_obj
@expected_errors
def simulate(home: Home, days: int, scale: float, seed: int, start: Any, dirt: float, as_json: bool) -> None:
    """Write six microsites' events and extracts to the landing zone."""
    from pipelines.reporting import progress_bar  # rich: imported by the commands that show progress
    from pipelines.simulator import SimulationConfig
    from pipelines.simulator import simulate as run_simulation

    config = SimulationConfig(days=days, scale=scale, seed=seed, start=date.fromordinal(start.toordinal()), dirt=dirt)
    home.ensure()
    with progress_bar(not as_json and sys.stderr.isatty()) as progress:
        manifest = run_simulation(home.landing, home.manifest, config, progress=progress)
    if as_json:
        click.echo(json.dumps(manifest["totals"], indent=2))
        return
    _print_simulation(home, manifest)


def _print_simulation(home: Home, manifest: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    totals = manifest["totals"]
    table = Table(title=f"Simulated into {home.landing}")
    for column in ("domain", "events", "lines", "files"):
        table.add_column(column, justify="right" if column != "domain" else "left")
    files_by_domain: dict[str, int] = {}
    for info in manifest["files"].values():
        files_by_domain[info["domain"]] = files_by_domain.get(info["domain"], 0) + 1
    for domain, row in totals["by_domain"].items():
        table.add_row(domain, f"{row['events']:,}", f"{row['lines']:,}", str(files_by_domain.get(domain, 0)))
    console = Console()
    console.print(table)
    dirt = ", ".join(f"{k} {v:,}" for k, v in totals["quarantined_by_reason"].items())
    console.print(
        f"dirt: {totals['duplicates_within_file']:,} duplicates in a file, {totals['duplicates_across_files']:,} across files, "
        f"{totals['late_events']:,} late; malformed: {dirt or 'none'}"
    )
    console.print(f"ground truth: {home.manifest}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print totals, per-domain and per-file counts as JSON.")
@click.pass_obj
@expected_errors
def ingest(home: Home, as_json: bool) -> None:
    """Land what is new; print counts (read/loaded/duplicate/quarantined)."""
    from pipelines.ingest import ingest as run_ingest

    if as_json:  # for scripts: no progress bar, and rich is not even imported
        report = run_ingest(home)
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        from pipelines.reporting import print_ingest, progress_bar

        with progress_bar(sys.stderr.isatty()) as progress:
            report = run_ingest(home, progress=lambda label, done, total: progress(f"landing: {label}", done, total))
        print_ingest(home, report)
    if any(not f.balanced for f in report.files if f.status in ("landed", "blocked")):
        _fail("some files do not reconcile; see ops.file_reconciliation")


@main.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
@click.option("--scale", type=click.FloatRange(0.01, 10000), default=2.0, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.pass_obj
@expected_errors
def demo(home: Home, days: int, scale: float, seed: int) -> None:
    """Fresh home: simulate, land everything, print where to look."""
    from pipelines.demo import run_demo

    run_demo(home, days=days, scale=scale, seed=seed)


@main.command(name="run")
@click.pass_obj
@expected_errors
def run_command(home: Home) -> None:
    """The whole Dagster job: ingest → checks → dbt build → publish (recorded in the UI's history)."""
    from pipelines.orchestration import run_build
    from pipelines.reporting import progress_bar

    with progress_bar(sys.stderr.isatty()) as progress:
        build = run_build(home, echo=click.echo, progress=progress)
    click.echo(f"run {build.run_id} {'succeeded' if build.success else 'FAILED'} in {build.seconds:.1f} s")
    for check in build.failed_checks:
        click.echo(f"  check did not pass: {check}")
    if not build.success:
        _fail(f"the build failed; see `agora ui` (run {build.run_id})")


@main.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=3000, show_default=True, help="Port to serve on (0: any free one)."
)
@click.pass_obj
@expected_errors
def ui(home: Home, port: int) -> None:
    """Dagster UI on this home: the asset graph, runs, checks (webserver + daemon, Ctrl-C to stop)."""
    from pipelines.orchestration import serve_ui

    sys.exit(serve_ui(home, port, echo=click.echo))


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to serve on.")
@click.option("--no-serve", is_flag=True, help="Only build the docs and print where they are.")
@click.pass_obj
@expected_errors
def docs(home: Home, port: int, no_serve: bool) -> None:
    """dbt docs for this home: lineage, owners (groups) and consumers (exposures)."""
    import time

    from pipelines.docs import build_docs, serve

    target = build_docs(home)
    if no_serve:
        click.echo(f"docs built in {target} (index.html)")
        return
    server = serve(target, port)
    click.echo(f"dbt docs for {home.root}: http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
@expected_errors
def dbt(home: Home, args: tuple[str, ...]) -> None:
    """Run dbt on this home's warehouse (e.g. `agora dbt build`, `agora dbt test -s order_to_cash`)."""
    from pipelines.transform import run_dbt

    run = run_dbt(home, *(args or ("build",)), echo=click.echo, check=False)
    sys.exit(run.returncode)


@main.command()
@click.option("--as", "principal", required=True, help="Principal to query as (catalog/access.yml).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True, help="Seconds.")
@click.argument("sql")
@click.pass_obj
@expected_errors
def sql(home: Home, principal: str, fmt: str, timeout: float, sql: str) -> None:
    """Governed, read-only SQL on the serving snapshot: checked, masked, logged."""
    from catalog.gateway import Limits, Session
    from pipelines.reporting import print_arrow

    table = Session(principal, home, limits=Limits(seconds=timeout), source="cli").query(sql)
    print_arrow(table, fmt)


@main.command()
@click.argument("principal")
@click.option("--json", "as_json", is_flag=True, help="Every dataset's decision as JSON.")
@click.pass_obj
@expected_errors
def access(home: Home, principal: str, as_json: bool) -> None:
    """Every dataset: allowed or denied for PRINCIPAL, the deciding rule, masked columns (one call)."""
    from catalog.gateway import Session

    permissions = Session(principal, home).permissions()
    if as_json:
        click.echo(json.dumps(permissions.as_dict(), indent=2))
        return
    from pipelines.reporting import print_permissions

    print_permissions(permissions)


@main.command()
@click.option("--as", "principal", required=True, help="Principal the agent acts as (catalog/access.yml).")
@click.pass_obj
@expected_errors
def mcp(home: Home, principal: str) -> None:
    """Model Context Protocol server (stdio) for AI agents, through the same gateway."""
    from catalog.gateway import Session
    from catalog.mcp_server import serve_stdio

    session = Session(principal, home, source="mcp")
    session.permissions()  # an unknown principal fails here, as one line
    serve_stdio(session)


class _CatalogGroup(click.Group):
    """`catalog report` and `catalog diff` live beside the catalog code they use. They are
    imported when asked for (or listed in help), not at every `agora` start (~65 ms)."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "report": ("catalog.report", "report_command"),
        "diff": ("catalog.diff", "diff_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@main.group(cls=_CatalogGroup)
def catalog() -> None:
    """The governance catalog: owners, consumers, hidden dependencies, bypasses, impact."""


@catalog.command(name="refresh")
@click.option(
    "--window-days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Days of query log (ending at its newest entry) a declared read must show up in.",
)
@click.option(
    "--declarations",
    type=click.Path(file_okay=False, exists=True),
    envvar="AGORA_CATALOG_DIR",
    default=None,
    help="Folder with domains.yml, consumers.yml and access.yml (env AGORA_CATALOG_DIR; default: the repo's catalog/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what the refresh did as JSON.")
@click.pass_obj
@expected_errors
def catalog_refresh(home: Home, window_days: int, declarations: str | None, as_json: bool) -> None:
    """Rebuild catalog.* from the manifest, the warehouse and the query log, then publish."""
    from pathlib import Path

    from catalog.refresh import refresh_catalog
    from pipelines.publish import publish

    result = refresh_catalog(
        home, window_days=window_days, declarations_dir=Path(declarations).absolute() if declarations else None
    )
    publication = publish(home)
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "published": publication.path}, indent=2))
        return
    click.echo(result.summary())
    for problem in result.problems:
        click.echo(f"  not read: {problem}", err=True)
    click.echo(f"published {publication.path}")


def _print_rows(rows: list, as_json: bool, title: str, columns: tuple[str, ...] | None = None) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console

    from catalog.commands import as_table

    console = Console()
    if rows:
        console.print(as_table(rows, title, columns))
    else:
        console.print(f"{title}: none")


def _findings_command(kind: str, summary: str) -> None:
    @catalog.command(name=kind, help=summary)
    @click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
    @click.pass_obj
    @expected_errors
    def command(home: Home, as_json: bool) -> None:
        from catalog.commands import as_findings, findings, load_serving_catalog

        rows = findings(load_serving_catalog(home), kind)
        if as_json:
            click.echo(json.dumps(rows, indent=2, default=str))
            return
        from rich.console import Console

        Console().print(as_findings(rows, f"{kind} findings"))


_findings_command("hidden", "Consumers reading datasets or columns they did not declare in consumers.yml.")
_findings_command("stale", "Declared reads not observed in the query log's window.")
_findings_command("bypass", "Reads of another domain's private data, inside dbt or through the gateway.")
_findings_command("unowned", "Relations in the warehouse that no domain owns.")


@catalog.command(name="owners")
@click.argument("dataset", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the owners as a JSON list.")
@click.pass_obj
@expected_errors
def catalog_owners(home: Home, dataset: str | None, as_json: bool) -> None:
    """Who owns every dataset (or DATASET): domain, team, contact."""
    from catalog.commands import load_serving_catalog, owners

    columns = ("dataset", "layer", "access", "domain", "owner_team", "owner_contact")
    _print_rows(owners(load_serving_catalog(home), dataset), as_json, "owners", columns)


@catalog.command(name="consumers")
@click.argument("dataset")
@click.option("--json", "as_json", is_flag=True, help="Print the consumers as a JSON list.")
@click.pass_obj
@expected_errors
def catalog_consumers(home: Home, dataset: str, as_json: bool) -> None:
    """Who reads DATASET: declared and observed consumers, with status ok / hidden / stale."""
    from catalog.commands import consumers, load_serving_catalog

    rows = consumers(load_serving_catalog(home), dataset)
    if not as_json:
        for row in rows:
            declared = row["declared_columns"] or ("all" if row["declared"] else "not declared")
            row.update(declared_columns=declared, observed_columns=row["observed_columns"] or "")
    columns = ("consumer", "principals", "owner", "declared_columns", "observed_columns", "queries", "status")
    _print_rows(rows, as_json, f"consumers of {dataset}", columns)


@catalog.command(name="impact")
@click.argument("target", metavar="DATASET[.COLUMN]")
@click.option("--json", "as_json", is_flag=True, help="Print the impact as a JSON object.")
@click.pass_obj
@expected_errors
def catalog_impact(home: Home, target: str, as_json: bool) -> None:
    """Everything downstream of DATASET (or one column), its consumers, and who to notify."""
    from catalog.commands import impact_of, load_serving_catalog

    result = impact_of(load_serving_catalog(home), target)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    name = f"{result['dataset']}.{result['column']}" if result["column"] else result["dataset"]
    _print_rows(
        result["datasets"],
        False,
        f"impacted by a change to {name}",
        ("distance", "dataset", "columns", "domain", "owner_contact", "reached_from"),
    )
    for row in result["consumers"]:
        row["status"] = "hidden" if row["hidden"] else "declared" + (", observed" if row["observed"] else "")
    _print_rows(
        result["consumers"], False, "consumers", ("consumer", "principals", "owner", "dataset", "columns", "status")
    )
    click.echo(f"notify: {', '.join(result['notify']) or 'nobody'}")


if __name__ == "__main__":
    main()
