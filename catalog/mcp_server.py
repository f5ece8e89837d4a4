"""`agora mcp --as PRINCIPAL`: a Model Context Protocol server for AI agents.

Three tools, all through the same gateway as `agora sql` (catalog.gateway.Session), so an agent
sees and reads exactly what its principal may — no more: `list_datasets`, `describe_dataset`,
`query`. Errors come back as tool errors with the gateway's one-line message.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from catalog.gateway import Session
from pipelines.errors import AgoraError

DEFAULT_MAX_ROWS = 200


def build_server(session: Session) -> MCPServer:
    server = MCPServer(
        name="agora",
        instructions=(
            f"Governed, read-only SQL (DuckDB dialect) on Agora's serving snapshot as principal "
            f"{session.principal!r}. Call list_datasets first; only those datasets can be read, and "
            "PII columns listed as masked return deterministic masks, not values."
        ),
    )

    @server.tool()
    def list_datasets() -> str:
        """The datasets this agent may read: name, relation to query, domain, owner, description, masked columns."""
        try:
            return json.dumps(session.datasets(), indent=1)
        except AgoraError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def describe_dataset(name: str) -> str:
        """Columns (name, type, description, masked), owner and description of one readable dataset."""
        try:
            return json.dumps(session.describe(name), indent=1)
        except AgoraError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def query(sql: str, max_rows: int = DEFAULT_MAX_ROWS) -> str:
        """Run one read-only SQL query (DuckDB dialect) on the datasets from list_datasets.

        Returns JSON: columns, rows (at most max_rows; `truncated` says if there were more), row_count.
        """
        try:
            table = session.query(sql)
        except AgoraError as exc:  # the agent reads the gateway's one-line reason
            raise ToolError(str(exc)) from None
        rows: list[dict[str, Any]] = table.slice(0, max(0, max_rows)).to_pylist()
        return json.dumps(
            {
                "columns": table.column_names,
                "rows": rows,
                "row_count": table.num_rows,
                "truncated": table.num_rows > max_rows,
            },
            default=str,
        )

    return server


def serve_stdio(session: Session) -> None:
    build_server(session).run("stdio")
