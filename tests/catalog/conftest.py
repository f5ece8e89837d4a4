"""A tiny served home, built once per session: `agora demo` (simulate, ingest, dbt) then publish.

A view over two public models is added to the snapshot, so view expansion is tested too.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from catalog.gateway import Session
from pipelines.home import Home
from pipelines.publish import publish
from tests.conftest import run_agora

VIEW_SQL = (
    "CREATE VIEW public.sales_vip_orders AS SELECT c.customer_id, c.customer_email, o.order_id, o.order_amount "
    "FROM public.sales_customers c JOIN public.sales_orders o USING (customer_id) WHERE o.order_amount > 100"
)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("served") / "home")
    result = run_agora(home, "demo", "--days", "3", "--scale", "0.3")
    assert result.returncode == 0, result.stderr
    publish(home)
    con = duckdb.connect(str(home.serving))
    try:
        con.execute(VIEW_SQL)
    finally:
        con.close()
    return home


@pytest.fixture
def session(served: Home) -> Session:
    return Session("support-agent-bot", served)


def write_access(path: Path, principals: str, roles: str = "{}") -> Path:
    path.write_text(f"roles: {roles}\nprincipals:\n{principals}", encoding="utf-8")
    return path
