"""`agora demo`: a fresh home, six simulated microsites, everything landed, and where to look."""

from __future__ import annotations

import shutil
import sys
from datetime import date

from rich.console import Console

from pipelines.errors import AgoraError
from pipelines.home import Home
from pipelines.reporting import progress_bar

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

# A morning of governed queries, so the catalog has usage to compare with the declarations: most
# are what consumers.yml declares; a few are not (the AI support agent reading the agents table,
# an analyst team acting for no declared consumer, test-run columns nobody declared, an attempt
# at another domain's raw data) — `agora catalog hidden|bypass` and the report show them.
DEMO_QUERIES: tuple[tuple[str, str], ...] = (
    ("exec-dashboard", "select status, count(*) as orders, sum(order_amount) from marts.order_to_cash group by all"),
    ("exec-dashboard", "select segment, region, sum(lifetime_revenue_eur) from marts.customer_360 group by all"),
    ("exec-dashboard", "select campaign_id, attributed_revenue_eur, return_on_budget from marts.campaign_attribution"),
    ("exec-dashboard", "select service_id, week_start, change_failure_rate from marts.delivery_quality"),
    ("exec-dashboard", "select day, tickets_opened_per_100_orders, sla_breaches from marts.support_load"),
    ("finance-analyst", "select currency, sum(payment_amount) from public.finance_payments group by all"),
    ("finance-analyst", "select count(*) from public.finance_invoices where due_date < current_date"),
    ("marketing-analyst", "select campaign_name, channel, budget from public.marketing_campaigns"),
    ("support-agent-bot", "select priority, count(*) from public.support_tickets group by all"),
    ("support-agent-bot", "select team, count(*) from public.support_agents where is_active group by all"),
    (
        "sales-analyst",
        "select customer_id, segment, count(*) from public.sales_orders join public.sales_customers using (customer_id) group by all",
    ),
    ("revenue-analyst", "select segment, count(*) from marts.customer_360 group by all"),
    ("reliability-analyst", "select service_id, avg(change_failure_rate) from marts.delivery_quality group by all"),
    (
        "reliability-analyst",
        "select service_id, avg(duration_seconds) from public.qa_testruns where not is_green group by all",
    ),
    ("marketing-analyst", "select * from raw_sales.customers limit 5"),
)


def run_demo(home: Home, *, days: int = 30, scale: float = 2.0, seed: int = 7) -> None:
    from pipelines.orchestration import run_build
    from pipelines.simulator import SimulationConfig, simulate

    console = Console()
    reset_home(home)
    console.rule("[bold]1/3 simulate six microsites")
    config = SimulationConfig(days=days, scale=scale, seed=seed, start=date(2026, 10, 1))
    manifest = simulate(home.landing, home.manifest, config)
    totals = manifest["totals"]
    console.print(f"{len(manifest['files'])} files, {totals['lines']:,} event lines into {home.landing}")
    console.rule("[bold]2/3 agora run: land → checks → dbt build → quality → catalog → publish (Dagster)")
    with progress_bar(sys.stderr.isatty()) as progress:
        build = run_build(home, echo=lambda line: console.print("  " + line, highlight=False), progress=progress)
    console.print(f"run {build.run_id} {'succeeded' if build.success else 'FAILED'} in {build.seconds:.1f} s")
    for check in build.failed_checks:
        console.print(f"  [yellow]check did not pass[/yellow]: {check}", soft_wrap=True)
    if build.success:
        console.rule("[bold]3/3 analysts query the serving snapshot; the catalog compares usage with declarations")
        catalog_tour(home, console)
    summarize(home, console)
    if not build.success:
        raise AgoraError(f"the build failed; see `agora ui` (run {build.run_id})")


def catalog_tour(home: Home, console: Console) -> None:
    """Run DEMO_QUERIES through the governed gateway, refresh the catalog, write its report."""
    from catalog.gateway import Session
    from catalog.refresh import refresh_catalog
    from catalog.report import write_home_report
    from pipelines.publish import publish

    outcomes = {"allowed": 0, "refused": 0}
    for principal, sql in DEMO_QUERIES:
        with Session(principal, home, source="demo") as session:
            try:
                session.query(sql)
                outcomes["allowed"] += 1
            except AgoraError:  # refused (or failed): logged either way, and that is the point
                outcomes["refused"] += 1
    result = refresh_catalog(home)
    publish(home)
    report = write_home_report(home)
    console.print(
        f"{len(DEMO_QUERIES)} governed queries ({outcomes['allowed']} answered, {outcomes['refused']} refused); "
        + result.summary(),
        soft_wrap=True,
    )
    console.print(f"catalog report: {report}", soft_wrap=True)


def summarize(home: Home, console: Console) -> None:
    """What landed per domain, why records were set aside, and the marts readers can query."""
    from rich.table import Table

    from pipelines.warehouse import connect

    con = connect(home.warehouse, read_only=True)
    try:
        per_domain = con.execute(
            "SELECT domain, count(*), sum(records), sum(loaded), sum(duplicates), sum(quarantined), "
            "count(*) FILTER (WHERE status = 'blocked') FROM ops.files GROUP BY ALL ORDER BY 1"
        ).fetchall()
        reasons = con.execute(
            "SELECT reason, count(*) FROM (SELECT reason FROM quarantine.events "
            "UNION ALL SELECT reason FROM quarantine.extract_rows) GROUP BY ALL ORDER BY 2 DESC"
        ).fetchall()
        blocked = con.execute("SELECT path, detail FROM ops.files WHERE status = 'blocked' ORDER BY 1").fetchall()
    finally:
        con.close()
    table = Table(title="Landed (ops.files)")
    for column in ("domain", "files", "records", "loaded", "duplicates", "quarantined", "blocked"):
        table.add_column(column, justify="left" if column == "domain" else "right")
    for row in per_domain:
        table.add_row(row[0], *(f"{v:,}" for v in row[1:]))
    console.print(table)
    console.print("quarantined by reason: " + ", ".join(f"{r} {n:,}" for r, n in reasons), soft_wrap=True)
    for path, detail in blocked:
        console.print(f"[red]blocked[/red] {path}: {detail}", soft_wrap=True)
    if home.serving.exists():
        serving = connect(str(home.serving), read_only=True)
        try:
            present = {
                t
                for (t,) in serving.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
                ).fetchall()
            }
            counts = {
                m: serving.execute(f"SELECT count(*) FROM marts.{m}").fetchall()[0][0] for m in MARTS if m in present
            }
        finally:
            serving.close()
        console.print("marts: " + ", ".join(f"{m} {n:,} rows" for m, n in counts.items()), soft_wrap=True)
    # soft_wrap: a path cut at the terminal width could not be copied, nor read by a script
    console.print(f"\nwarehouse:  {home.warehouse}", soft_wrap=True)
    console.print(f"serving:    {home.serving}  (what readers query)", soft_wrap=True)
    console.print(f"landing:    {home.landing}  (ground truth of the injected dirt: {home.manifest})", soft_wrap=True)
    console.print(
        f"ui:         agora --home {home.root} ui      (Dagster: assets, owners, checks, runs)", soft_wrap=True
    )
    console.print(
        f"docs:       agora --home {home.root} docs    (dbt docs: lineage, owners, consumers)", soft_wrap=True
    )
    console.print(
        f"sql:        agora --home {home.root} sql --as exec-dashboard "
        "'select status, count(*) from marts.order_to_cash group by all'",
        soft_wrap=True,
    )
    console.print(f"access:     agora --home {home.root} access finance-analyst", soft_wrap=True)
    console.print(
        f"catalog:    agora --home {home.root} catalog hidden   (also stale, bypass, owners, impact, report)",
        soft_wrap=True,
    )
    console.print("look at:    ops.file_reconciliation (every file's fate), quarantine.* (what was set aside, and why)")
    sys.stdout.flush()
