"""Guarantee 5, many readers: queries on serving.duckdb never fail while builds run and publish,
readers see the new data after a publish, and a failed build leaves the last snapshot alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.publish import publish
from tests.conftest import make_home, run_agora
from tests.dagster_project.conftest import land_days

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("dagster_serving")]

READERS = 10
FIRST_HALF = ("2026-09-01", "2026-10-04")
SECOND_HALF = ("2026-10-05", "2026-12-31")

# One reader: opens the snapshot read-only for every query (a new publish is a new file), runs a
# count and a join until the stop file appears, then prints what it saw.
READER = textwrap.dedent(
    """
    import json, os, sys, time, duckdb
    serving, stop = sys.argv[1], sys.argv[2]
    seen, failures, queries = [], [], 0
    while not os.path.exists(stop):
        if not os.path.exists(serving):
            time.sleep(0.05)
            continue
        try:
            con = duckdb.connect(serving, read_only=True)
            try:
                count = con.execute("select count(*) from marts.order_to_cash").fetchone()[0]
                con.execute(
                    "select count(*) from marts.order_to_cash o "
                    "join marts.customer_360 c on o.customer_id = c.customer_id"
                ).fetchone()
            finally:
                con.close()
            queries += 1
            if not seen or seen[-1] != count:
                seen.append(count)
        except Exception as exc:
            failures.append(repr(exc)[:300])
        time.sleep(0.2)
    print(json.dumps({"queries": queries, "seen": seen, "failures": failures}))
    """
)


def _order_to_cash_rows(home: Home) -> int:
    con = duckdb.connect(str(home.serving), read_only=True)
    try:
        return int(con.execute("select count(*) from marts.order_to_cash").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.fixture(scope="module")
def busy(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Ten readers running while two builds run back to back, the second on newly landed days."""
    source = simulated[0]
    home = make_home(tmp_path_factory.mktemp("serving") / "home")
    land_days(source, home, *FIRST_HALF)
    stop = home.root.parent / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(home.serving), str(stop)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(READERS)
    ]
    try:
        first = run_agora(home, "run", timeout=600)
        rows_first = _order_to_cash_rows(home) if home.serving.exists() else None
        land_days(source, home, *SECOND_HALF)
        second = run_agora(home, "run", timeout=600)
        rows_second = _order_to_cash_rows(home) if home.serving.exists() else None
        time.sleep(1.0)  # every reader queries the new snapshot at least once
    finally:
        stop.touch()
        outputs = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    return {
        "home": home,
        "builds": [first, second],
        "rows": [rows_first, rows_second],
        "readers": outputs,
    }


def test_both_builds_succeed(busy: dict) -> None:
    result = [b.returncode for b in busy["builds"]]

    assert result == [0, 0], [b.stdout[-1500:] + b.stderr[-1500:] for b in busy["builds"]]


def test_no_reader_query_fails(busy: dict) -> None:
    failures = [f for r in busy["readers"] for f in r["failures"]]

    assert failures == []
    assert all(r["queries"] > 0 for r in busy["readers"])


def test_second_build_changes_the_data(busy: dict) -> None:
    first, second = busy["rows"]

    assert first is not None and second is not None
    assert second > first


def test_readers_see_the_new_rows_after_the_second_publish(busy: dict) -> None:
    _, second = busy["rows"]

    result = [r["seen"][-1] for r in busy["readers"]]

    assert result == [second] * READERS


@pytest.fixture
def published(busy: dict) -> tuple[Home, float, int]:
    home: Home = busy["home"]
    return home, home.serving.stat().st_mtime, _order_to_cash_rows(home)


def test_failed_build_keeps_the_previous_snapshot(
    published: tuple[Home, float, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt fails: the run fails before publishing and serving.duckdb is untouched."""
    from dagster_dbt import DbtCliResource

    from pipelines.orchestration import run_build

    home, mtime, rows = published
    for name in ("DAGSTER_HOME", "AGORA_HOME", "AGORA_WAREHOUSE"):  # run_build points the process at the home
        monkeypatch.setenv(name, os.environ.get(name, ""))

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("dbt is broken")

    monkeypatch.setattr(DbtCliResource, "cli", broken)

    build = run_build(home)

    assert not build.success
    assert "serving" not in build.steps
    assert (home.serving.stat().st_mtime, _order_to_cash_rows(home)) == (mtime, rows)


def test_publish_failing_midway_keeps_the_previous_snapshot(
    published: tuple[Home, float, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.publish as module

    home, mtime, rows = published
    calls = iter(range(1000))

    def quote_then_fail(name: str) -> str:
        if next(calls) > 3:
            raise RuntimeError("the disk filled up")
        return f'"{name}"'

    monkeypatch.setattr(module, "quote_ident", quote_then_fail)

    with pytest.raises(RuntimeError, match="disk filled up"):
        publish(home)

    assert (home.serving.stat().st_mtime, _order_to_cash_rows(home)) == (mtime, rows)
    assert list(Path(home.root).glob(".serving-*")) == []
