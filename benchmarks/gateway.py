"""What governance costs: the SQL gateway against plain DuckDB, and the bulk access check.

Run by benchmarks.run (section "gateway"), or alone: `python -m benchmarks.gateway [--quick]`.

(a) Overhead. Realistic analyst queries over the five marts (aggregates, filters, joins with
    public models), each run by a principal granted what it reads, through a `Session`
    (parse, resolve, bulk check, masking rewrite, limits, query log) and, as the baseline, as
    the same SQL on a plain read-only DuckDB connection to the same serving snapshot with the
    same thread count and memory limit as the gateway's (so the ratio is what the gateway adds,
    not a different thread policy). Both sides keep their connection open and fetch Arrow;
    each query is timed `repeat` times, alternating sides, median reported.
    The snapshot is the dbt benchmark's 2M-event warehouse (`<workdir>/dbt-2m`) copied into
    `<workdir>/gateway/serving.duckdb` read-only (the shared warehouse is not opened for
    writing), else a fresh `agora demo` home of its own.
(b) Bulk check. `Access.check(principal)` over a synthetic catalog of 1,000 datasets in 20
    domains with grants by dataset name, domain and tag: the time of the check itself, median.

Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from catalog.access import Access, Column, Dataset, Grant, Principal, Role
from catalog.gateway import Limits, Session
from pipelines.home import REPO_ROOT, Home

SERVED_SCHEMAS = ("public", "marts", "catalog")

# (name, principal, sql): two or three queries an analyst would write against each mart.
QUERIES: list[tuple[str, str, str]] = [
    (
        "otc-cash-by-month",
        "finance-analyst",
        "select date_trunc('month', placed_date) as month, currency, count(*) as orders, "
        "sum(cash_received_eur) as cash_eur, avg(days_to_cash) as days_to_cash "
        "from marts.order_to_cash where not is_cancelled group by all order by month, currency",
    ),
    (
        "otc-outstanding",
        "finance-analyst",
        "select status, count(*) as orders, sum(amount_outstanding) as outstanding "
        "from marts.order_to_cash where amount_outstanding > 0 group by status order by outstanding desc",
    ),
    (
        "otc-join-payments",
        "finance-analyst",
        "select payments.method, count(distinct otc.order_id) as orders, sum(payments.payment_amount) as paid "
        "from marts.order_to_cash as otc "
        "join public.finance_payments as payments on payments.invoice_id = otc.invoice_id "
        "where otc.placed_date >= date '2026-10-10' group by payments.method order by paid desc",
    ),
    (
        "c360-by-segment",
        "sales-analyst",
        "select segment, region, count(*) as customers, avg(lifetime_revenue_eur) as mean_revenue, "
        "sum(open_tickets) as open_tickets from marts.customer_360 group by all order by customers desc",
    ),
    (
        "c360-top-customers",
        "sales-analyst",
        "select customer_id, segment, orders_count, lifetime_revenue_eur from marts.customer_360 "
        "where orders_count >= 3 order by lifetime_revenue_eur desc limit 50",
    ),
    (
        "c360-join-orders",
        "sales-analyst",
        "select customers.segment, orders.channel, count(*) as orders, sum(orders.order_amount) as amount "
        "from marts.customer_360 as customers "
        "join public.sales_orders as orders on orders.customer_id = customers.customer_id "
        "where not orders.is_cancelled group by all order by amount desc",
    ),
    (
        "campaign-roi",
        "marketing-analyst",
        "select channel, sum(budget_eur) as budget_eur, sum(attributed_revenue_eur) as revenue_eur, "
        "sum(attributed_revenue_eur) / nullif(sum(budget_eur), 0) as roi "
        "from marts.campaign_attribution group by channel order by roi desc",
    ),
    (
        "campaign-join-leads",
        "marketing-analyst",
        "select attribution.campaign_name, attribution.return_on_budget, count(leads.lead_id) as leads "
        "from marts.campaign_attribution as attribution "
        "left join public.marketing_leads as leads on leads.campaign_id = attribution.campaign_id "
        "group by all order by leads desc limit 20",
    ),
    (
        "delivery-by-domain",
        "platform-admin",
        "select owner_domain, avg(change_failure_rate) as change_failure_rate, "
        "median(median_lead_time_hours) as lead_time_hours, sum(incidents) as incidents "
        "from marts.delivery_quality group by owner_domain order by change_failure_rate desc",
    ),
    (
        "delivery-join-services",
        "platform-admin",
        "select services.tier, count(*) as service_weeks, avg(quality.test_pass_rate) as pass_rate "
        "from marts.delivery_quality as quality "
        "join public.devops_services as services using (service_id) group by services.tier order by services.tier",
    ),
    (
        "support-load-weekly",
        "exec-dashboard",
        "select date_trunc('week', day) as week, sum(tickets_opened) as opened, sum(sla_breaches) as breaches, "
        "avg(tickets_opened_per_100_orders) as per_100_orders from marts.support_load group by week order by week",
    ),
    (
        "support-load-join-tickets",
        "platform-admin",
        "with daily as (select cast(opened_at as date) as day, priority, count(*) as tickets "
        "from public.support_tickets group by all) "
        "select load.day, load.orders_placed, daily.priority, daily.tickets "
        "from marts.support_load as load join daily using (day) order by load.day, daily.priority",
    ),
]


def _copy_serving(warehouse: Path, manifest: Path, home: Home) -> None:
    """The reporting schemas of `warehouse` as `home`'s serving snapshot, read-only on the source."""
    home.ensure()
    staging = home.root / ".serving-bench.duckdb"
    staging.unlink(missing_ok=True)
    con = duckdb.connect(str(staging))
    try:
        con.execute(f"ATTACH '{warehouse}' AS source (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'source' "
            "AND schema_name IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2",
            [list(SERVED_SCHEMAS)],
        ).fetchall()
        for schema in sorted({s for s, _ in tables}):
            con.execute(f'CREATE SCHEMA "{schema}"')
        for schema, table in tables:
            con.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM source."{schema}"."{table}"')
        con.execute("DETACH source")
    finally:
        con.close()
    staging.replace(home.serving)
    target = home.root / "dbt" / "target"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest, target / "manifest.json")


def _home(workdir: Path, quick: bool) -> Home:
    home = Home(workdir.absolute() / ("gateway-quick" if quick else "gateway"))
    if home.serving.exists() and (home.root / "dbt" / "target" / "manifest.json").exists():
        return home
    source = workdir / ("dbt-demo" if quick else "dbt-2m")
    manifest = source / "dbt" / "target" / "manifest.json"
    if (source / "warehouse.duckdb").exists() and manifest.exists():
        _copy_serving(source / "warehouse.duckdb", manifest, home)
        return home
    shutil.rmtree(home.root, ignore_errors=True)
    days, scale = ("3", "0.3") if quick else ("30", "5")
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--home", str(home.root), "demo", "--days", days, "--scale", scale],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    from pipelines.publish import publish

    publish(home)
    return home


def _plain(serving: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        str(serving), read_only=True, config={"threads": limits.threads, "memory_limit": limits.memory}
    )
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def overhead(home: Home, repeat: int) -> dict:
    limits = Limits()
    sessions = {principal: Session(principal, home, source="benchmark") for _, principal, _ in QUERIES}
    # DuckDB refuses a second connection to one file with another configuration in the same
    # process, so the baseline reads a byte copy of the snapshot.
    copy = home.root / "serving-plain.duckdb"
    shutil.copyfile(home.serving, copy)
    plain = _plain(copy, limits)
    per_query: dict[str, dict[str, float]] = {}
    try:
        for name, principal, sql in QUERIES:
            session = sessions[principal]
            expected = plain.sql(sql).to_arrow_table()
            got = session.query(sql)  # warm-up both sides; also checks the gateway answers the same
            if got.num_rows != expected.num_rows:
                raise RuntimeError(f"{name}: gateway returned {got.num_rows} rows, DuckDB {expected.num_rows}")
            gateway_times, plain_times = [], []
            for _ in range(repeat):
                plain_times.append(_timed(lambda: plain.sql(sql).to_arrow_table()))  # noqa: B023
                gateway_times.append(_timed(lambda: session.query(sql)))  # noqa: B023
            gateway_ms = statistics.median(gateway_times) * 1000
            plain_ms = statistics.median(plain_times) * 1000
            per_query[name] = {
                "principal": principal,  # type: ignore[dict-item]
                "rows": got.num_rows,
                "duckdb_ms": round(plain_ms, 3),
                "gateway_ms": round(gateway_ms, 3),
                "overhead_ms": round(gateway_ms - plain_ms, 3),
                "ratio": round(gateway_ms / plain_ms, 3),
            }
    finally:
        plain.close()
        copy.unlink(missing_ok=True)
        for session in sessions.values():
            session.close()
    ratios = [q["ratio"] for q in per_query.values()]
    return {
        "queries": per_query,
        "median_ratio": round(statistics.median(ratios), 3),
        "max_ratio": round(max(ratios), 3),
        "median_overhead_ms": round(statistics.median(q["overhead_ms"] for q in per_query.values()), 3),
        "repeat": repeat,
        "threads": limits.threads,
    }


def synthetic_access(n: int = 1000, domains: int = 20) -> Access:
    """n datasets over `domains` domains, every tenth tagged pii, with principals granted by
    dataset name, domain and tag, directly, through roles and through a team."""
    datasets = {}
    for i in range(n):
        domain = f"domain_{i % domains:02d}"
        tags = ["public" if i % 3 else "mart", f"tier_{i % 4}"] + (["pii"] if i % 10 == 0 else [])
        columns = (Column("id", "BIGINT"), Column("email", "VARCHAR", pii=i % 10 == 0), Column("amount", "DOUBLE"))
        datasets[f"dataset_{i:04d}"] = Dataset(
            f"dataset_{i:04d}", "public" if i % 3 else "marts", domain, tags=tuple(sorted(tags)), columns=columns
        )
    roles = {
        "tier-reader": Role("tier-reader", grants=(Grant("tag", "tier_1", "role tier-reader"),)),
        "domain-reader": Role(
            "domain-reader",
            grants=tuple(Grant("domain", f"domain_{d:02d}", "role domain-reader") for d in range(0, 20, 4)),
        ),
    }
    named = tuple(Grant("dataset", f"dataset_{i:04d}", "principal analyst") for i in range(7, n, 37))
    principals = {
        "team": Principal("team", "team", roles=("domain-reader",)),
        "analyst": Principal(
            "analyst",
            "person",
            roles=("tier-reader",),
            member_of=("team",),
            grants=(*named, Grant("tag", "pii", "principal analyst")),
        ),
    }
    return Access(principals, roles, datasets, source="synthetic")


def bulk_check(repeat: int) -> dict:
    access = synthetic_access()
    permissions = access.check("analyst")
    times = [_timed(lambda: access.check("analyst")) for _ in range(repeat)]
    return {
        "datasets": len(access.datasets),
        "allowed": len(permissions.allowed),
        "masked": sum(1 for d in permissions.decisions if d.masked_columns),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "repeat": repeat,
    }


def measure(workdir: Path, quick: bool) -> dict:
    home = _home(workdir, quick)
    result = {
        "snapshot_mb": round(home.serving.stat().st_size / 1e6, 1),
        "overhead": overhead(home, 5 if quick else 30),
        "bulk_check": bulk_check(20 if quick else 200),
    }
    report(result)
    return result


def report(result: dict) -> None:
    over = result["overhead"]
    print(f"gateway vs plain DuckDB (serving snapshot {result['snapshot_mb']} MB, median of {over['repeat']}):")
    for name, q in over["queries"].items():
        print(
            f"  {name:<28} {q['principal']:<18} duckdb {q['duckdb_ms']:8.2f} ms  gateway {q['gateway_ms']:8.2f} ms  "
            f"+{q['overhead_ms']:6.2f} ms  {q['ratio']:.3f}x"
        )
    print(f"  median ratio {over['median_ratio']:.3f}x, max {over['max_ratio']:.3f}x")
    bulk = result["bulk_check"]
    print(
        f"agora access bulk check over {bulk['datasets']:,} datasets: {bulk['median_ms']:.3f} ms "
        f"(median of {bulk['repeat']}; {bulk['allowed']} allowed, {bulk['masked']} masked)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    print(json.dumps(measure(args.workdir, args.quick), indent=2))


if __name__ == "__main__":
    main()
