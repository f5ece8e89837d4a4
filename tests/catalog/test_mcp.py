"""`agora mcp`: an agent, driven by a real MCP client in-process, sees and reads only what its principal may."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp.client.client import Client

from catalog.gateway import Session
from catalog.mcp_server import build_server
from pipelines.home import Home


def _call(session: Session, tool: str, arguments: dict[str, Any] | None = None) -> tuple[bool, str]:
    async def run() -> tuple[bool, str]:
        async with Client(build_server(session)) as client:
            result = await client.call_tool(tool, arguments or {})
            text = "".join(getattr(block, "text", "") for block in result.content)
            return bool(result.is_error), text

    return anyio.run(run)


@pytest.fixture
def agent(served: Home) -> Session:
    return Session("support-agent-bot", served, source="mcp")


def test_tools_are_listed(agent: Session) -> None:
    async def run() -> set[str]:
        async with Client(build_server(agent)) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert anyio.run(run) == {"list_datasets", "describe_dataset", "query"}


def test_agent_lists_only_its_datasets(agent: Session) -> None:
    is_error, text = _call(agent, "list_datasets")
    assert not is_error
    names = {d["dataset"] for d in json.loads(text)}
    assert names == set(agent.permissions().allowed)
    assert "order_to_cash" not in names and "sales_customers" not in names


def test_agent_describes_a_readable_dataset_with_masks(agent: Session) -> None:
    is_error, text = _call(agent, "describe_dataset", {"name": "customer_360"})
    assert not is_error
    doc = json.loads(text)
    assert doc["masked_columns"] == ["customer_email", "customer_name"] and doc["owner"]


def test_agent_cannot_describe_what_it_cannot_read(agent: Session) -> None:
    is_error, text = _call(agent, "describe_dataset", {"name": "order_to_cash"})
    assert is_error and "may not read order_to_cash" in text


def test_agent_cannot_read_what_it_cannot_read(agent: Session) -> None:
    is_error, text = _call(agent, "query", {"sql": "SELECT * FROM marts.order_to_cash"})
    assert is_error and "may not read marts.order_to_cash" in text


def test_agent_cannot_reach_metadata(agent: Session) -> None:
    is_error, text = _call(agent, "query", {"sql": "SELECT table_name FROM information_schema.tables"})
    assert is_error and "system catalogs are not queryable" in text


def test_agent_reads_masked_rows(agent: Session) -> None:
    is_error, text = _call(agent, "query", {"sql": "SELECT customer_email FROM marts.customer_360", "max_rows": 3})
    assert not is_error
    doc = json.loads(text)
    assert len(doc["rows"]) == 3 and doc["truncated"]
    assert all(row["customer_email"].startswith("pii:") for row in doc["rows"])
