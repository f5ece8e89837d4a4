"""Owners, groups and freshness of assets, all read from catalog/domains.yml."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import dagster as dg

from catalog.declarations import Domain, load_domains, load_platform


@cache
def domains() -> dict[str, Domain]:
    return {d.name: d for d in [*load_domains(), load_platform()]}


def owners_of(group: str) -> list[str]:
    domain = domains().get(group)
    return [domain.contact, f"team:{domain.team}"] if domain else []


def freshness_of(group: str) -> dg.FreshnessPolicy | None:
    """Fail when a domain's data is older than its SLA; warn at half of it."""
    domain = domains().get(group)
    if domain is None:
        return None
    hours = domain.sla_hours
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=hours), warn_window=timedelta(hours=hours / 2))
