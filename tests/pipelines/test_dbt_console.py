"""pipelines.orchestration.DbtConsole: dbt's console output during `agora run` becomes progress,
a short summary, and a log file that keeps every line."""

from __future__ import annotations

from pathlib import Path

from pipelines.orchestration import DbtConsole

DBT_OUTPUT = [
    "Running with dbt=1.11.16",
    "1 of 3 START sql incremental model staging.stg_sales__orders_placed ..... [RUN]",
    "1 of 3 OK created sql incremental model staging.stg_sales__orders_placed  [\x1b[32mOK\x1b[0m in 0.35s]",
    "2 of 3 START test not_null_sales_orders_order_id ......................... [RUN]",
    "2 of 3 PASS not_null_sales_orders_order_id ............................... [\x1b[32mPASS\x1b[0m in 0.05s]",
    "3 of 3 WARN 64 relationships_finance_invoices_order_id .................. [\x1b[33mWARN 64\x1b[0m in 0.07s]",
    "Completed with 1 warning:",
    "\x1b[33mWarning in test relationships_finance_invoices_order_id (models/public/finance/x.yml)\x1b[0m",
    "Got 64 results, configured to warn if != 0",
    "Done. PASS=1 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3",
]


def test_dbt_console_reports_finished_nodes_and_keeps_the_summary(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    log = tmp_path / "logs" / "console.log"
    console = DbtConsole(log, lambda label, done, total: calls.append((label, done, total)))
    text = "\n".join(DBT_OUTPUT) + "\n"
    for start in range(0, len(text), 37):  # lines arrive cut at arbitrary points
        console.write(text[start : start + 37])
    console.close()

    assert [(done, total) for _, done, total in calls] == [(1, 3), (2, 3), (3, 3)]
    assert calls[0][0].startswith("dbt build: ")
    assert console.summary == ["Completed with 1 warning:", "Done. PASS=1 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3"]
    assert log.read_text() == text


def test_dbt_console_ignores_output_after_it_closed(tmp_path: Path) -> None:
    console = DbtConsole(tmp_path / "console.log", lambda *_: None)
    console.close()

    assert console.write("late line\n") == len("late line\n")
    console.flush()
