"""A failed dbt command says which node failed and why, with dbt's whole message: the console
line alone may only say "Compilation Error in model …" without its cause."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.transform import DbtError, run_dbt
from tests.models.conftest import copy_home

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_failed_build_names_the_node_and_the_database_error(built: tuple[Home, dict], tmp_path: Path) -> None:
    home = copy_home(built[0], tmp_path / "home")
    con = duckdb.connect(home.warehouse)
    con.execute("DROP TABLE raw_sales.events")
    con.close()

    with pytest.raises(DbtError) as failed:
        run_dbt(home, "run", "--select", "stg_sales__orders_placed")

    message = str(failed.value)
    assert (
        message.startswith("dbt run --select stg_sales__orders_placed failed: Done. PASS=0 WARN=0 ERROR=1 "),
        "model.agora.stg_sales__orders_placed: " in message,
        "events does not exist" in message,
    ) == (True, True, True), message
