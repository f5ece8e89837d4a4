"""PII masking for principals without clearance: wherever the value surfaces, it is masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.gateway import Session
from catalog.masking import MASK_PREFIX, mask_value, masking_key
from pipelines.home import Home
from tests.catalog.conftest import write_access


@pytest.fixture
def admin(served: Home) -> Session:
    return Session("platform-admin", served)


@pytest.fixture
def analyst(served: Home) -> Session:
    return Session("sales-analyst", served)


def _values(session: Session, sql: str) -> list[object]:
    return [v for row in session.query(sql).to_pylist() for v in row.values()]


def test_admin_sees_raw_pii(admin: Session) -> None:
    result = _values(admin, "SELECT customer_email FROM marts.customer_360 LIMIT 5")
    assert all("@" in str(v) for v in result)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM marts.customer_360",
        "SELECT customer_email, customer_name FROM public.sales_customers",
        "SELECT c.* FROM marts.customer_360 AS c",
        "SELECT customer_360.customer_email FROM marts.customer_360",
        "SELECT marts.customer_360.customer_name FROM marts.customer_360",
        "SELECT upper(customer_email) || '/' || lower(customer_name) FROM public.sales_customers",
        "WITH x AS (SELECT customer_email AS e FROM public.sales_customers) SELECT e FROM x",
        "SELECT e FROM (SELECT customer_email AS e FROM marts.customer_360) t",
        "SELECT min(customer_email), max(customer_name), any_value(customer_email) FROM public.sales_customers",
        "SELECT string_agg(customer_email, ',') FROM public.sales_customers",
        "SELECT list(customer_name)::VARCHAR FROM marts.customer_360",
        "SELECT to_json(c)::VARCHAR FROM marts.customer_360 c",
        "SELECT COLUMNS('customer_.*')::VARCHAR FROM public.sales_customer_history",
        "SELECT h.customer_email FROM public.sales_customer_history h JOIN marts.customer_360 c USING (customer_id)",
        "SELECT customer_email FROM public.sales_customers UNION SELECT customer_name FROM marts.customer_360",
        "SELECT customer_email FROM public.sales_customers GROUP BY customer_email",
    ],
)
def test_pii_never_surfaces(analyst: Session, admin: Session, sql: str) -> None:
    emails = {v for v in _values(admin, "SELECT customer_email FROM public.sales_customers")}
    names = {v for v in _values(admin, "SELECT customer_name FROM public.sales_customers")}
    text = " ".join(str(v) for v in _values(analyst, sql))
    assert "@" not in text
    assert not any(name in text for name in list(names)[:50])
    assert not any(email in text for email in list(emails)[:50])


def test_mask_format_is_documented(served: Home, analyst: Session, admin: Session) -> None:
    raw = _values(admin, "SELECT customer_email FROM public.sales_customers ORDER BY customer_id LIMIT 3")
    masked = _values(analyst, "SELECT customer_email FROM public.sales_customers ORDER BY customer_id LIMIT 3")
    key = masking_key(served)
    assert masked == [mask_value(v, key) for v in raw]
    assert all(str(v).startswith(MASK_PREFIX) for v in masked)


def test_masking_is_deterministic_across_sessions(served: Home) -> None:
    sql = "SELECT customer_email FROM marts.customer_360 ORDER BY customer_id"
    result = Session("sales-analyst", served).query(sql)
    expected = Session("support-agent-bot", served).query(sql)
    assert result.equals(expected)


def test_counts_on_masked_values_match(analyst: Session, admin: Session) -> None:
    sql = "SELECT count(DISTINCT customer_email), count(customer_name) FROM public.sales_customers"
    assert _values(analyst, sql) == _values(admin, sql)


def test_joins_on_masked_values_match(analyst: Session, admin: Session) -> None:
    sql = (
        "SELECT count(*) FROM public.sales_customers s JOIN marts.customer_360 c "
        "ON s.customer_email = c.customer_email AND s.customer_name = c.customer_name"
    )
    assert _values(analyst, sql) == _values(admin, sql)
    assert _values(analyst, sql)[0] > 0


def test_predicate_on_pii_sees_only_masks(analyst: Session, admin: Session) -> None:
    sql = "SELECT count(*) FROM public.sales_customers WHERE customer_email LIKE '%@%'"
    assert _values(admin, sql)[0] > 0
    assert _values(analyst, sql) == [0]


def test_view_is_masked_through_its_sources(served: Home, tmp_path: Path) -> None:
    path = write_access(
        tmp_path / "access.yml",
        "  - {name: v, kind: person, grants: [{dataset: sales_vip_orders}, {domain: sales}]}\n",
    )
    result = _values(Session("v", served, access_path=path), "SELECT customer_email FROM public.sales_vip_orders")
    assert result and all(str(v).startswith(MASK_PREFIX) for v in result)


def test_masked_columns_are_reported_in_the_plan(analyst: Session) -> None:
    plan = analyst.plan("SELECT customer_id FROM marts.customer_360")
    assert plan.masked == ["customer_360.customer_email", "customer_360.customer_name"]
