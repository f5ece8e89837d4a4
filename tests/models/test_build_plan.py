"""What Agora's dbt build decides to run (pipelines.transform.plan_build, read_landings), without dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.transform import (
    BUILD,
    FULL_BUILD,
    BuildState,
    Landings,
    plan_build,
    project_fingerprint,
    read_landings,
)
from pipelines.warehouse import OPS_DDL

LANDINGS = Landings(
    batch_ids=frozenset({"b1", "b2", "b3"}),
    new_batch_ids=frozenset({"b3"}),
    landed_since="2026-10-02 08:00:00",
    sources=("raw_finance.events", "raw_sales.customers"),
)


def test_plan_build_is_full_without_an_earlier_build() -> None:
    result = plan_build(None, "p1", LANDINGS)

    assert (result.args, result.landed_since, result.full_refresh) == (FULL_BUILD, None, True)


def test_plan_build_is_full_after_a_change_to_the_project() -> None:
    result = plan_build(BuildState("p0", frozenset({"b1", "b2"})), "p1", LANDINGS)

    assert (result.args, result.landed_since, result.reason) == (
        FULL_BUILD,
        None,
        "full: the dbt project changed since the last build",
    )


def test_plan_build_full_refresh_wins() -> None:
    result = plan_build(BuildState("p1", frozenset({"b1", "b2"})), "p1", LANDINGS, full_refresh=True)

    assert (result.args, result.landed_since) == ((*BUILD, "--full-refresh"), None)


def test_plan_build_selects_what_the_new_batches_reach() -> None:
    result = plan_build(BuildState("p1", frozenset({"b1", "b2"})), "p1", LANDINGS)

    assert (result.args, result.landed_since) == (
        (*BUILD, "--select", "source:raw_finance.events+", "source:raw_sales.customers+"),
        "2026-10-02 08:00:00",
    )


def test_plan_build_runs_nothing_when_nothing_landed() -> None:
    nothing = Landings(frozenset({"b1"}), frozenset(), None, ())

    result = plan_build(BuildState("p1", frozenset({"b1"})), "p1", nothing)

    assert (result.runs_dbt, result.reason) == (False, "nothing landed since the last build")


def _warehouse(tmp_path: Path) -> Home:
    home = Home(tmp_path / "home").ensure()
    con = duckdb.connect(home.warehouse)
    con.execute(OPS_DDL)
    con.execute(
        """
        INSERT INTO ops.batches VALUES
            ('b1', 'events', 'sales', 1, 10, 10, 0, 0, '2026-10-01 08:00:00+00', '2026-10-01 08:00:01+00'),
            ('b2', 'extract', 'sales', 1, 5, 5, 0, 0, '2026-10-02 08:00:00+00', '2026-10-02 08:00:01+00'),
            ('b3', 'events', 'qa', 1, 3, 0, 0, 3, '2026-10-02 07:00:00+00', '2026-10-02 07:00:01+00'),
            ('b4', 'events', 'finance', 1, 7, 7, 0, 0, '2026-10-03 08:00:00+00', '2026-10-03 08:00:01+00')
        """
    )
    con.execute(
        """
        INSERT INTO ops.files VALUES
            ('f1', 's1', 'sales/events/a.jsonl', 'sales', 'events', NULL, NULL, 1, 10, 10, 0, 0, 'landed', NULL,
             'b1', '2026-10-01 08:00:01+00'),
            ('f2', 's2', 'sales/extracts/customers/x.csv', 'sales', 'extract', 'customers', '2026-10-02 00:00:00+00',
             1, 5, 5, 0, 0, 'landed', NULL, 'b2', '2026-10-02 08:00:01+00'),
            ('f3', 's3', 'qa/events/a.jsonl', 'qa', 'events', NULL, NULL, 1, 3, 0, 0, 3, 'landed', NULL,
             'b3', '2026-10-02 07:00:01+00'),
            ('f4', 's4', 'finance/events/a.jsonl', 'finance', 'events', NULL, NULL, 1, 7, 7, 0, 0, 'landed', NULL,
             'b4', '2026-10-03 08:00:01+00')
        """
    )
    con.close()
    return home


def test_read_landings_finds_new_batches_by_id_and_the_sources_they_loaded(tmp_path: Path) -> None:
    """b3 loaded nothing (all quarantined): new, but neither a source nor the watermark."""
    home = _warehouse(tmp_path)

    result = read_landings(home, {"b1"})

    assert result == Landings(
        batch_ids=frozenset({"b1", "b2", "b3", "b4"}),
        new_batch_ids=frozenset({"b2", "b3", "b4"}),
        landed_since="2026-10-02 08:00:00",
        sources=("raw_finance.events", "raw_sales.customers"),
    )


def test_project_fingerprint_changes_with_a_model(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    before = project_fingerprint(tmp_path)
    (tmp_path / "models" / "a.sql").write_text("select 2")

    result = project_fingerprint(tmp_path)

    assert result != before
