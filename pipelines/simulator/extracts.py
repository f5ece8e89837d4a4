"""Extract snapshots: the state of each domain table at a point in time, as CSV or Parquet.

Snapshots are produced one at a time (`build_snapshot`) so only one frame is in memory.
Day `days // 2` carries the schema drift the ingestion must detect: a customers
snapshot with `email` renamed (breaking) and campaigns gaining `objective` (additive).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import polars as pl

from pipelines.simulator.config import DAY_MS, HOUR_MS, SimulationConfig
from pipelines.simulator.entities import (
    AGENT_TEAMS,
    CAMPAIGN_CHANNELS,
    CAMPAIGN_OBJECTIVES,
    CURRENCIES,
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    MAIL_DOMAINS,
    PRODUCT_CATEGORIES,
    REGIONS,
    SEGMENTS,
    SUITE_KINDS,
    TIERS,
    MasterData,
    epoch_day,
)
from pipelines.simulator.events import rfc3339
from pipelines.simulator.identifiers import id_series

ExtractFormat = Literal["csv", "parquet"]

EXTRACTS: tuple[tuple[str, str, ExtractFormat], ...] = (
    ("sales", "customers", "csv"),
    ("sales", "products", "parquet"),
    ("finance", "fx_rates", "csv"),
    ("marketing", "campaigns", "parquet"),
    ("support", "agents", "csv"),
    ("devops", "services", "parquet"),
    ("qa", "test_suites", "csv"),
)
"""(domain, table, format) of every extract, formats as in the extract contracts."""

BREAKING_RENAME = {"email": "email_address"}
ADDITIVE_COLUMNS = ["objective"]


@dataclass(frozen=True)
class SnapshotSpec:
    domain: str
    table: str
    format: ExtractFormat
    at_ms: int
    drift: dict[str, Any] | None

    @property
    def relative_path(self) -> str:
        stamp = datetime.fromtimestamp(self.at_ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.domain}/extracts/{self.table}/{stamp}.{self.format}"


def snapshot_specs(config: SimulationConfig) -> list[SnapshotSpec]:
    """Every snapshot to write, sorted by landing path."""
    drift_ms = config.day_ms(config.drift_day) + 12 * HOUR_MS
    specs: list[SnapshotSpec] = []
    for domain, table, fmt in EXTRACTS:
        days = range(config.days) if table == "fx_rates" else config.snapshot_days
        times = [config.day_ms(day) for day in days]
        if table in ("customers", "campaigns"):
            times.append(drift_ms)
        for at_ms in sorted(times):
            drift: dict[str, Any] | None = None
            if table == "customers" and at_ms == drift_ms:
                drift = {"kind": "breaking", "renamed": dict(BREAKING_RENAME)}
            elif table == "campaigns" and at_ms >= config.day_ms(config.drift_day):
                drift = {"kind": "additive", "added": list(ADDITIVE_COLUMNS)}
            specs.append(SnapshotSpec(domain, table, fmt, at_ms, drift))
    return sorted(specs, key=lambda spec: spec.relative_path)


def _labels(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(values)[codes])


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _customers(master: MasterData, at_ms: int) -> pl.DataFrame:
    customers = master.customers
    n = int(customers.count_created_before(at_ms))
    first = _labels(FIRST_NAMES, customers.first_name[:n])
    last = _labels(LAST_NAMES, customers.last_name[:n])
    frame = pl.DataFrame(
        {
            "customer_id": id_series(np.arange(1, n + 1), "customer", "customer_id"),
            "first": first,
            "last": last,
            "number": np.arange(1, n + 1),
            "mail": _labels(MAIL_DOMAINS, customers.mail_domain[:n]),
            "segment": _labels(SEGMENTS, customers.segments_at(at_ms)[:n]),
            "region": _labels(REGIONS, customers.region[:n]),
            "created_ms": customers.created_ms[:n],
        }
    )
    return frame.select(
        "customer_id",
        pl.format(
            "{}.{}{}@{}",
            pl.col("first").str.to_lowercase(),
            pl.col("last").str.to_lowercase(),
            pl.col("number") % 1000,
            "mail",
        ).alias("email"),
        pl.format("{} {}", "first", "last").alias("name"),
        "segment",
        "region",
        rfc3339(pl.col("created_ms")).alias("created_at"),
    )


def _products(master: MasterData) -> pl.DataFrame:
    products = master.products
    n = products.name.size
    return pl.DataFrame(
        {
            "product_id": id_series(np.arange(1, n + 1), "product", "product_id"),
            "name": pl.Series(products.name),
            "category": _labels(PRODUCT_CATEGORIES, products.category),
            "list_price": products.list_price.astype(np.float64),
            "currency": _labels(CURRENCIES, products.currency),
            "is_active": products.is_active,
        }
    )


def _fx_rates(config: SimulationConfig, master: MasterData, at_ms: int) -> pl.DataFrame:
    day = (at_ms - config.start_ms) // DAY_MS
    return pl.DataFrame(
        {
            "currency": list(CURRENCIES),
            "rate_date": _dates(np.full(len(CURRENCIES), epoch_day(at_ms))),
            "rate_to_eur": master.fx.rate_to_eur[day].astype(np.float64),
        }
    )


def _campaigns(master: MasterData, at_ms: int, with_objective: bool) -> pl.DataFrame:
    campaigns = master.campaigns
    n = int(campaigns.count_launched_before(at_ms))
    end_day = campaigns.end_day[:n]
    frame = pl.DataFrame(
        {
            "campaign_id": id_series(np.arange(1, n + 1), "campaign", "campaign_id"),
            "name": pl.Series(campaigns.name[:n], dtype=pl.String),
            "channel": _labels(CAMPAIGN_CHANNELS, campaigns.channel[:n]),
            "budget": campaigns.budget[:n].astype(np.float64),
            "currency": _labels(CURRENCIES, campaigns.currency[:n]),
            "start_date": _dates(campaigns.start_day[:n]),
            "end_date": _dates(end_day).scatter(np.flatnonzero(end_day < 0), None),
        }
    )
    if with_objective:
        frame = frame.with_columns(objective=_labels(CAMPAIGN_OBJECTIVES, campaigns.objective[:n]))
    return frame


def _agents(master: MasterData) -> pl.DataFrame:
    agents = master.agents
    n = agents.team.size
    return pl.DataFrame(
        {
            "agent_id": id_series(np.arange(1, n + 1), "agent", "agent_id"),
            "team": _labels(AGENT_TEAMS, agents.team),
            "hired_on": _dates(agents.hired_day),
            "is_active": agents.is_active,
        }
    )


def _services(master: MasterData) -> pl.DataFrame:
    services = master.services
    n = services.name.size
    return pl.DataFrame(
        {
            "service_id": id_series(np.arange(1, n + 1), "service", "service_id"),
            "name": pl.Series(services.name),
            "owner_domain": _labels(DOMAINS, services.owner_domain),
            "tier": _labels(TIERS, services.tier),
        }
    )


def _test_suites(master: MasterData) -> pl.DataFrame:
    suites = master.suites
    n = suites.name.size
    return pl.DataFrame(
        {
            "suite_id": id_series(np.arange(1, n + 1), "suite", "suite_id"),
            "service_id": id_series(suites.service + 1, "service", "service_id"),
            "name": pl.Series(suites.name),
            "kind": _labels(SUITE_KINDS, suites.kind),
            "test_count": suites.test_count.astype(np.int64),
        }
    )


def build_snapshot(spec: SnapshotSpec, config: SimulationConfig, master: MasterData) -> pl.DataFrame:
    """The table's state at `spec.at_ms`, with the spec's schema drift applied."""
    if spec.table == "customers":
        frame = _customers(master, spec.at_ms)
    elif spec.table == "products":
        frame = _products(master)
    elif spec.table == "fx_rates":
        frame = _fx_rates(config, master, spec.at_ms)
    elif spec.table == "campaigns":
        frame = _campaigns(master, spec.at_ms, with_objective=spec.drift is not None)
    elif spec.table == "agents":
        frame = _agents(master)
    elif spec.table == "services":
        frame = _services(master)
    elif spec.table == "test_suites":
        frame = _test_suites(master)
    else:
        raise ValueError(f"unknown extract table {spec.table!r}")
    if spec.drift is not None and spec.drift["kind"] == "breaking":
        frame = frame.rename(spec.drift["renamed"])
    return frame


def serialize(frame: pl.DataFrame, fmt: ExtractFormat) -> bytes:
    """CSV (header, comma, minimal quoting, `true`/`false`, empty for null) or Parquet bytes."""
    buffer = io.BytesIO()
    if fmt == "csv":
        frame.write_csv(buffer)
    else:
        frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()
