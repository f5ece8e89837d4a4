"""Event tables: one polars frame per CloudEvents type, generated vectorized over all days.

Frames hold numbers (entity numbers, enum codes, epoch milliseconds); `encode_lines`
turns selected rows into JSON lines only when a file is written, so the strings of at
most one file live in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from pipelines.simulator.config import DAY_MS, HOUR_MS, MINUTE_MS, SimulationConfig
from pipelines.simulator.entities import (
    CAMPAIGN_CHANNELS,
    CURRENCIES,
    Customers,
    MasterData,
)
from pipelines.simulator.identifiers import event_id_expr, id_expr
from pipelines.simulator.randomness import random_stream, times_in_days

ORDER_CHANNELS = ("web", "mobile", "store", "partner")
CANCEL_REASONS = ("customer_request", "payment_failed", "out_of_stock", "fraud")
PAYMENT_METHODS = ("card", "transfer", "direct_debit", "paypal")
REFUND_REASONS = ("damaged", "not_delivered", "goodwill", "duplicate_charge")
TOUCHPOINTS = ("form", "webinar", "ad_click", "referral")
PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_CHANNELS = ("email", "chat", "phone")
RESOLUTIONS = ("answered", "fixed", "refunded", "duplicate", "wont_fix")
DEPLOY_STATUSES = ("succeeded", "failed", "rolled_back")
SEVERITIES = ("sev1", "sev2", "sev3")

FieldKind = Literal["id", "enum", "number", "integer", "string", "timestamp", "date"]


@dataclass(frozen=True)
class FieldSpec:
    """One payload field: its JSON name, how it is encoded, and the frame column it comes from."""

    name: str
    kind: FieldKind
    column: str
    entity: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventType:
    type: str
    source: str
    fields: tuple[FieldSpec, ...]

    @property
    def domain(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def numeric_fields(self) -> tuple[str, ...]:
        """Payload fields a `wrong_type` malformation may turn into strings."""
        return tuple(f.name for f in self.fields if f.kind in ("number", "integer"))


@dataclass
class EventTable:
    """All events of one type, sorted by time; `seq` numbers them per source."""

    event_type: EventType
    frame: pl.DataFrame = field(repr=False)


def _id(name: str, entity: str, column: str | None = None) -> FieldSpec:
    return FieldSpec(name, "id", column or name, entity=entity)


def _enum(name: str, values: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(name, "enum", name, values=values)


ORDER_PLACED = EventType(
    "sales.order.placed",
    "/sales/orders-service",
    (
        _id("order_id", "order"),
        _id("customer_id", "customer"),
        _id("product_id", "product"),
        FieldSpec("quantity", "integer", "quantity"),
        FieldSpec("unit_price", "number", "unit_price"),
        FieldSpec("amount", "number", "amount"),
        _enum("currency", CURRENCIES),
        _enum("channel", ORDER_CHANNELS),
    ),
)
ORDER_CANCELLED = EventType(
    "sales.order.cancelled",
    "/sales/orders-service",
    (_id("order_id", "order"), _enum("reason", CANCEL_REASONS)),
)
INVOICE_ISSUED = EventType(
    "finance.invoice.issued",
    "/finance/billing",
    (
        _id("invoice_id", "invoice"),
        _id("order_id", "order"),
        FieldSpec("amount", "number", "amount"),
        _enum("currency", CURRENCIES),
        FieldSpec("due_date", "date", "due_day"),
    ),
)
PAYMENT_RECEIVED = EventType(
    "finance.payment.received",
    "/finance/billing",
    (
        _id("payment_id", "payment"),
        _id("invoice_id", "invoice"),
        FieldSpec("amount", "number", "amount"),
        _enum("currency", CURRENCIES),
        _enum("method", PAYMENT_METHODS),
    ),
)
REFUND_ISSUED = EventType(
    "finance.refund.issued",
    "/finance/billing",
    (
        _id("refund_id", "refund"),
        _id("payment_id", "payment"),
        FieldSpec("amount", "number", "amount"),
        _enum("currency", CURRENCIES),
        _enum("reason", REFUND_REASONS),
    ),
)
CAMPAIGN_LAUNCHED = EventType(
    "marketing.campaign.launched",
    "/marketing/campaigns",
    (
        _id("campaign_id", "campaign"),
        _enum("channel", CAMPAIGN_CHANNELS),
        FieldSpec("budget", "number", "budget"),
        _enum("currency", CURRENCIES),
    ),
)
LEAD_CAPTURED = EventType(
    "marketing.lead.captured",
    "/marketing/campaigns",
    (
        _id("lead_id", "lead"),
        _id("campaign_id", "campaign"),
        _id("customer_id", "customer"),
        _enum("touchpoint", TOUCHPOINTS),
    ),
)
TICKET_OPENED = EventType(
    "support.ticket.opened",
    "/support/helpdesk",
    (
        _id("ticket_id", "ticket"),
        _id("customer_id", "customer"),
        _id("order_id", "order"),
        _enum("priority", PRIORITIES),
        _enum("channel", TICKET_CHANNELS),
    ),
)
TICKET_RESOLVED = EventType(
    "support.ticket.resolved",
    "/support/helpdesk",
    (
        _id("ticket_id", "ticket"),
        _id("agent_id", "agent"),
        _enum("resolution", RESOLUTIONS),
    ),
)
DEPLOYMENT_FINISHED = EventType(
    "devops.deployment.finished",
    "/devops/deployer",
    (
        _id("deployment_id", "deployment"),
        _id("service_id", "service"),
        FieldSpec("version", "string", "version"),
        _enum("status", DEPLOY_STATUSES),
        FieldSpec("commit_sha", "string", "commit_sha"),
        FieldSpec("committed_at", "timestamp", "committed_ms"),
    ),
)
INCIDENT_OPENED = EventType(
    "devops.incident.opened",
    "/devops/pager",
    (
        _id("incident_id", "incident"),
        _id("service_id", "service"),
        _id("deployment_id", "deployment"),
        _enum("severity", SEVERITIES),
    ),
)
INCIDENT_RESOLVED = EventType("devops.incident.resolved", "/devops/pager", (_id("incident_id", "incident"),))
TESTRUN_COMPLETED = EventType(
    "qa.testrun.completed",
    "/qa/ci",
    (
        _id("testrun_id", "testrun"),
        _id("suite_id", "suite"),
        _id("service_id", "service"),
        FieldSpec("version", "string", "version"),
        FieldSpec("passed", "integer", "passed"),
        FieldSpec("failed", "integer", "failed"),
        FieldSpec("duration_s", "number", "duration_s"),
    ),
)

EVENT_TYPES: tuple[EventType, ...] = (
    ORDER_PLACED,
    ORDER_CANCELLED,
    INVOICE_ISSUED,
    PAYMENT_RECEIVED,
    REFUND_ISSUED,
    CAMPAIGN_LAUNCHED,
    LEAD_CAPTURED,
    TICKET_OPENED,
    TICKET_RESOLVED,
    DEPLOYMENT_FINISHED,
    INCIDENT_OPENED,
    INCIDENT_RESOLVED,
    TESTRUN_COMPLETED,
)


def rfc3339(expr: pl.Expr) -> pl.Expr:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds, e.g. 2026-10-01T08:15:02.123Z."""
    return pl.from_epoch(expr, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def _field_expr(spec: FieldSpec) -> pl.Expr:
    column = pl.col(spec.column)
    if spec.kind == "id":
        assert spec.entity is not None
        expr = id_expr(spec.column, spec.entity)
    elif spec.kind == "enum":
        expr = column.replace_strict(list(range(len(spec.values))), list(spec.values), return_dtype=pl.String)
    elif spec.kind == "timestamp":
        expr = rfc3339(column)
    elif spec.kind == "date":
        expr = column.cast(pl.Int32).cast(pl.Date).dt.to_string("%Y-%m-%d")
    else:
        expr = column
    return expr.alias(spec.name)


def encode_lines(table: EventTable, rows: np.ndarray) -> pl.Series:
    """CloudEvents JSON lines (envelope keys in canonical order) for `rows` of `table`."""
    event_type = table.event_type
    slug = event_type.source.rsplit("/", 1)[-1]
    envelope = pl.struct(
        pl.lit("1.0").alias("specversion"),
        event_id_expr("seq", slug).alias("id"),
        pl.lit(event_type.source).alias("source"),
        pl.lit(event_type.type).alias("type"),
        rfc3339(pl.col("time_ms")).alias("time"),
        pl.lit("application/json").alias("datacontenttype"),
        pl.struct([_field_expr(spec) for spec in event_type.fields]).alias("data"),
    )
    return table.frame[rows].select(envelope.struct.json_encode()).to_series()


def _after(rng: np.random.Generator, t_ms: np.ndarray, low_ms: int, high_ms: int) -> np.ndarray:
    return t_ms + rng.integers(low_ms, high_ms, size=t_ms.size)


def _pick(rng: np.random.Generator, n: int, values: tuple[str, ...], p: list[float]) -> np.ndarray:
    return rng.choice(len(values), size=n, p=p).astype(np.int8)


def _eligible_customers(config: SimulationConfig, customers: Customers, t_ms: np.ndarray) -> np.ndarray:
    """Customers an event at `t_ms` may reference: those in the latest snapshot before it.

    Referencing only customers already published in a snapshot keeps every reference
    resolvable by a consumer that joins events to the snapshot valid at event time.
    """
    snapshot_ms = np.array([config.day_ms(d) for d in config.snapshot_days], dtype=np.int64)
    latest = snapshot_ms[np.searchsorted(snapshot_ms, t_ms, side="right") - 1]
    return customers.count_created_before(latest)


def _random_below(rng: np.random.Generator, upper: np.ndarray) -> np.ndarray:
    """Uniform integers in [0, upper) per element (upper > 0)."""
    return np.minimum((rng.random(upper.size) * upper).astype(np.int64), upper - 1)


def _table(event_type: EventType, columns: dict[str, np.ndarray | pl.Series]) -> EventTable:
    frame = pl.DataFrame(columns).sort("time_ms", maintain_order=True)
    return EventTable(event_type, frame)


def _numbered(t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort times and number the entities 1..n in time order; returns (order, numbers)."""
    order = np.argsort(t_ms, kind="stable")
    return order, np.arange(1, t_ms.size + 1, dtype=np.int64)


def _sales_and_finance(config: SimulationConfig, master: MasterData) -> list[EventTable]:
    rng = random_stream(config.seed, "events.sales")
    scale, end = config.scale, config.end_ms
    t = times_in_days(rng, config.start_ms, 300 * scale, config.days)
    n = t.size
    customer = _random_below(rng, _eligible_customers(config, master.customers, t)) + 1
    products = master.products
    active = np.flatnonzero(products.is_active)
    product = active[rng.integers(0, active.size, size=n)]
    quantity = np.minimum(rng.geometric(0.55, size=n), 20).astype(np.int64)
    discount = rng.choice([0.0, 0.0, 0.0, 0.05, 0.1], size=n)
    unit_price = np.round(products.list_price[product] * (1 - discount), 2)
    amount = np.round(quantity * unit_price, 2)
    currency = products.currency[product]
    order_no = np.arange(1, n + 1, dtype=np.int64)
    orders = _table(
        ORDER_PLACED,
        {
            "time_ms": t,
            "order_id": order_no,
            "customer_id": customer,
            "product_id": product + 1,
            "quantity": quantity,
            "unit_price": unit_price,
            "amount": amount,
            "currency": currency,
            "channel": _pick(rng, n, ORDER_CHANNELS, [0.5, 0.3, 0.12, 0.08]),
        },
    )

    cancelled = rng.random(n) < 0.05
    t_cancel = _after(rng, t[cancelled], MINUTE_MS, 2 * DAY_MS)
    keep = t_cancel < end
    cancels = _table(
        ORDER_CANCELLED,
        {
            "time_ms": t_cancel[keep],
            "order_id": order_no[cancelled][keep],
            "reason": _pick(rng, int(keep.sum()), CANCEL_REASONS, [0.5, 0.2, 0.2, 0.1]),
        },
    )

    invoiced = ~cancelled
    t_inv = _after(rng, t[invoiced], MINUTE_MS, 2 * DAY_MS)
    keep = t_inv < end
    order, inv_no = _numbered(t_inv[keep])
    t_inv = t_inv[keep][order]
    inv_amount = amount[invoiced][keep][order]
    inv_currency = currency[invoiced][keep][order]
    invoices = _table(
        INVOICE_ISSUED,
        {
            "time_ms": t_inv,
            "invoice_id": inv_no,
            "order_id": order_no[invoiced][keep][order],
            "amount": inv_amount,
            "currency": inv_currency,
            "due_day": t_inv // DAY_MS + 30,
        },
    )

    n_inv = t_inv.size
    paid = rng.random(n_inv) < 0.9
    split = paid & (rng.random(n_inv) < 0.2) & (inv_amount >= 1.0)
    first_offset = rng.integers(DAY_MS, 20 * DAY_MS, size=n_inv)
    second_offset = rng.integers(DAY_MS, 20 * DAY_MS, size=n_inv)
    share = np.round(inv_amount * rng.uniform(0.3, 0.7, size=n_inv), 2)
    first_amount = np.where(split, share, inv_amount)
    pay_t = np.concatenate(
        [
            t_inv[paid] + np.minimum(first_offset, second_offset)[paid],
            t_inv[split] + np.maximum(first_offset, second_offset)[split],
        ]
    )
    pay_invoice = np.concatenate([inv_no[paid], inv_no[split]])
    pay_amount = np.concatenate([first_amount[paid], np.round(inv_amount[split] - share[split], 2)])
    pay_currency = np.concatenate([inv_currency[paid], inv_currency[split]])
    keep = pay_t < end
    order, pay_no = _numbered(pay_t[keep])
    pay_t = pay_t[keep][order]
    pay_amount = pay_amount[keep][order]
    pay_currency = pay_currency[keep][order]
    payments = _table(
        PAYMENT_RECEIVED,
        {
            "time_ms": pay_t,
            "payment_id": pay_no,
            "invoice_id": pay_invoice[keep][order],
            "amount": pay_amount,
            "currency": pay_currency,
            "method": _pick(rng, pay_no.size, PAYMENT_METHODS, [0.55, 0.2, 0.15, 0.1]),
        },
    )

    refunded = rng.random(pay_no.size) < 0.03
    full = rng.random(pay_no.size) < 0.5
    partial = np.maximum(0.01, np.round(pay_amount * rng.uniform(0.1, 0.9, size=pay_no.size), 2))
    ref_amount = np.where(full, pay_amount, np.minimum(partial, pay_amount))[refunded]
    ref_t = _after(rng, pay_t[refunded], DAY_MS, 10 * DAY_MS)
    keep = ref_t < end
    order, ref_no = _numbered(ref_t[keep])
    refunds = _table(
        REFUND_ISSUED,
        {
            "time_ms": ref_t[keep][order],
            "refund_id": ref_no,
            "payment_id": pay_no[refunded][keep][order],
            "amount": ref_amount[keep][order],
            "currency": pay_currency[refunded][keep][order],
            "reason": _pick(rng, ref_no.size, REFUND_REASONS, [0.3, 0.25, 0.3, 0.15]),
        },
    )
    return [orders, cancels, invoices, payments, refunds]


def _marketing(config: SimulationConfig, master: MasterData) -> list[EventTable]:
    rng = random_stream(config.seed, "events.marketing")
    campaigns = master.campaigns
    launched = np.arange(campaigns.first_launched_in_window, campaigns.launch_ms.size)
    launches = _table(
        CAMPAIGN_LAUNCHED,
        {
            "time_ms": campaigns.launch_ms[launched],
            "campaign_id": launched + 1,
            "channel": campaigns.channel[launched],
            "budget": campaigns.budget[launched],
            "currency": campaigns.currency[launched],
        },
    )
    t = times_in_days(rng, config.start_ms, 250 * config.scale, config.days)
    n = t.size
    campaign = _random_below(rng, campaigns.count_launched_before(t)) + 1
    known = rng.random(n) < 0.6
    customer = _random_below(rng, _eligible_customers(config, master.customers, t)) + 1
    leads = _table(
        LEAD_CAPTURED,
        {
            "time_ms": t,
            "lead_id": np.arange(1, n + 1, dtype=np.int64),
            "campaign_id": campaign,
            "customer_id": pl.Series(customer).scatter(np.flatnonzero(~known), None),
            "touchpoint": _pick(rng, n, TOUCHPOINTS, [0.45, 0.15, 0.3, 0.1]),
        },
    )
    return [launches, leads]


def _support(config: SimulationConfig, master: MasterData, orders: EventTable) -> list[EventTable]:
    rng = random_stream(config.seed, "events.support")
    t = times_in_days(rng, config.start_ms, 40 * config.scale, config.days)
    n = t.size
    order_t = orders.frame["time_ms"].to_numpy()
    order_customer = orders.frame["customer_id"].to_numpy()
    earlier = np.searchsorted(order_t, t, side="left")
    about_order = (rng.random(n) < 0.5) & (earlier > 0)
    # Tickets are mostly about recent orders: skew the pick towards the newest one.
    back = (earlier * rng.random(n) ** 3).astype(np.int64)
    order_row = np.clip(earlier - 1 - back, 0, None)
    any_customer = _random_below(rng, _eligible_customers(config, master.customers, t)) + 1
    order_of_ticket = np.where(about_order, order_row + 1, 0)
    customer = np.where(about_order, order_customer[order_row], any_customer) if order_t.size else any_customer
    ticket_no = np.arange(1, n + 1, dtype=np.int64)
    opened = _table(
        TICKET_OPENED,
        {
            "time_ms": t,
            "ticket_id": ticket_no,
            "customer_id": customer,
            "order_id": pl.Series(order_of_ticket).scatter(np.flatnonzero(~about_order), None),
            "priority": _pick(rng, n, PRIORITIES, [0.25, 0.5, 0.18, 0.07]),
            "channel": _pick(rng, n, TICKET_CHANNELS, [0.5, 0.35, 0.15]),
        },
    )
    resolved = rng.random(n) < 0.9
    t_res = _after(rng, t[resolved], HOUR_MS, 5 * DAY_MS)
    keep = t_res < config.end_ms
    active = np.flatnonzero(master.agents.is_active)
    m = int(keep.sum())
    resolutions = _table(
        TICKET_RESOLVED,
        {
            "time_ms": t_res[keep],
            "ticket_id": ticket_no[resolved][keep],
            "agent_id": active[rng.integers(0, active.size, size=m)] + 1,
            "resolution": _pick(rng, m, RESOLUTIONS, [0.45, 0.25, 0.1, 0.1, 0.1]),
        },
    )
    return [opened, resolutions]


def _hex_strings(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = digits[rng.integers(0, 16, size=(n, width))]
    return raw.view(f"S{width}").ravel().astype(f"U{width}")


def _devops_and_qa(config: SimulationConfig, master: MasterData) -> list[EventTable]:
    rng = random_stream(config.seed, "events.devops")
    services, suites, end = master.services, master.suites, config.end_ms
    t = times_in_days(rng, config.start_ms, 25 * config.scale, config.days)
    n = t.size
    service = rng.choice(services.name.size, size=n, p=services.deploy_weight)
    by_service = np.argsort(service, kind="stable")
    group_start = np.searchsorted(service[by_service], service[by_service], side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[by_service] = np.arange(n) - group_start
    release = services.prior_deployments[service] + rank
    status = _pick(rng, n, DEPLOY_STATUSES, [0.85, 0.10, 0.05])
    versions = (
        pl.DataFrame(
            {
                "major": services.version_major[service],
                "minor": release // 10,
                "patch": release % 10,
            }
        )
        .select(pl.format("{}.{}.{}", "major", "minor", "patch"))
        .to_series()
    )
    deploy_no = np.arange(1, n + 1, dtype=np.int64)
    deployments = _table(
        DEPLOYMENT_FINISHED,
        {
            "time_ms": t,
            "deployment_id": deploy_no,
            "service_id": service + 1,
            "version": versions,
            "status": status,
            "commit_sha": _hex_strings(rng, n, 40),
            "committed_ms": t - rng.integers(HOUR_MS, 3 * DAY_MS, size=n),
        },
    )

    caused = rng.random(n) < np.array([0.05, 0.25, 0.25])[status]
    t_inc = _after(rng, t[caused], 0, 6 * HOUR_MS)
    keep = t_inc < end
    order, inc_no = _numbered(t_inc[keep])
    t_inc = t_inc[keep][order]
    incidents = _table(
        INCIDENT_OPENED,
        {
            "time_ms": t_inc,
            "incident_id": inc_no,
            "service_id": (service + 1)[caused][keep][order],
            "deployment_id": deploy_no[caused][keep][order],
            "severity": _pick(rng, inc_no.size, SEVERITIES, [0.1, 0.3, 0.6]),
        },
    )
    restored = rng.random(inc_no.size) < 0.9
    t_restore = _after(rng, t_inc[restored], 10 * MINUTE_MS, 2 * DAY_MS)
    keep = t_restore < end
    restores = _table(
        INCIDENT_RESOLVED,
        {"time_ms": t_restore[keep], "incident_id": inc_no[restored][keep]},
    )

    qa = random_stream(config.seed, "events.qa")
    runs = int(qa.poisson(80 * config.scale * config.days)) if n else 0
    of = qa.integers(0, max(n, 1), size=runs)
    # Most suites run just before the deployment they gate, some re-run just after it.
    offset = qa.integers(5 * MINUTE_MS, 6 * HOUR_MS, size=runs)
    run_t = t[of] + np.where(qa.random(runs) < 0.75, -offset, offset)
    keep = (run_t >= config.start_ms) & (run_t < end)
    of, run_t = of[keep], run_t[keep]
    order, run_no = _numbered(run_t)
    of, run_t = of[order], run_t[order]
    run_service = service[of]
    suite = suites.first_of_service[run_service] + _random_below(qa, suites.count_of_service[run_service])
    tests = suites.test_count[suite]
    fail_rate = np.where(status[of] == 0, 0.005, 0.08)
    failed = qa.binomial(tests, fail_rate)
    kind_speed = np.array([0.01, 0.2, 1.5, 4.0])[suites.kind[suite]]
    testruns = _table(
        TESTRUN_COMPLETED,
        {
            "time_ms": run_t,
            "testrun_id": run_no,
            "suite_id": suite + 1,
            "service_id": run_service + 1,
            "version": versions.gather(of),
            "passed": (tests - failed).astype(np.int64),
            "failed": failed.astype(np.int64),
            "duration_s": np.round(tests * kind_speed * qa.uniform(0.7, 1.5, size=run_t.size), 3),
        },
    )
    return [deployments, incidents, restores, testruns]


GenerationProgress = Callable[[str], None]


def generate_events(
    config: SimulationConfig,
    master: MasterData,
    on_step: GenerationProgress | None = None,
) -> list[EventTable]:
    """Every event table, in EVENT_TYPES order, with `seq` numbered per source by time."""
    tables: list[EventTable] = []
    steps: list[tuple[str, Callable[[], list[EventTable]]]] = [
        ("sales and finance", lambda: _sales_and_finance(config, master)),
        ("marketing", lambda: _marketing(config, master)),
        ("support", lambda: _support(config, master, tables[0])),
        ("devops and qa", lambda: _devops_and_qa(config, master)),
    ]
    for label, step in steps:
        tables.extend(step())
        if on_step is not None:
            on_step(label)
    _number_per_source(tables)
    by_type = {table.event_type.type: table for table in tables}
    return [by_type[event_type.type] for event_type in EVENT_TYPES]


def _number_per_source(tables: list[EventTable]) -> None:
    """Give each event its per-source sequence number (the CloudEvents `id`), in time order."""
    sources = sorted({table.event_type.source for table in tables})
    for source in sources:
        members = [table for table in tables if table.event_type.source == source]
        times = np.concatenate([table.frame["time_ms"].to_numpy() for table in members])
        seq = np.empty(times.size, dtype=np.int64)
        seq[np.argsort(times, kind="stable")] = np.arange(1, times.size + 1)
        start = 0
        for table in members:
            size = table.frame.height
            table.frame = table.frame.with_columns(pl.Series("seq", seq[start : start + size]))
            start += size
