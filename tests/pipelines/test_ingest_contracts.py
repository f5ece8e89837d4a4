"""Guarantee 4, contracts: a breaking change blocks a snapshot whole, an additive one lands and is
reported, bad rows are quarantined with their reason, and malformed contracts are refused
(DESIGN.md; catalog/contracts/README.md).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.contracts import load_contracts
from pipelines.errors import ContractError
from pipelines.home import Home
from pipelines.ingest import ingest


def _query(home: Home, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _drifted(manifest: dict, kind: str) -> list[str]:
    return sorted(
        path
        for path, entry in manifest["files"].items()
        if entry["kind"] == "extract" and (entry["drift"] or {}).get("kind") == kind
    )


@pytest.fixture(scope="module")
def breaking(landed: tuple[Home, dict]) -> str:
    _, manifest = landed
    paths = _drifted(manifest, "breaking")
    assert len(paths) == 1 and paths[0].startswith("sales/extracts/customers/")
    assert manifest["files"][paths[0]]["drift"]["renamed"] == {"email": "email_address"}
    return paths[0]


@pytest.fixture(scope="module")
def additive(landed: tuple[Home, dict]) -> list[str]:
    _, manifest = landed
    paths = _drifted(manifest, "additive")
    assert paths and all(p.startswith("marketing/extracts/campaigns/") for p in paths)
    return paths


# -- the simulated breaking change: customers.email renamed email_address --------------------------


def test_ingest_breaking_snapshot_blocked_whole(landed: tuple[Home, dict], breaking: str) -> None:
    home, manifest = landed
    rows = manifest["files"][breaking]["records"]
    result = _query(
        home, "SELECT status, records, loaded, duplicates, quarantined FROM ops.files WHERE path = ?", [breaking]
    )
    expected = [("blocked", rows, 0, 0, rows)]
    assert rows > 0
    assert result == expected


def test_ingest_breaking_snapshot_every_row_quarantined(landed: tuple[Home, dict], breaking: str) -> None:
    home, manifest = landed
    result = _query(
        home, "SELECT row_no, reason FROM quarantine.extract_rows WHERE path = ? ORDER BY row_no", [breaking]
    )
    expected = [(n, "breaking_change") for n in range(1, manifest["files"][breaking]["records"] + 1)]
    assert result == expected


def test_ingest_breaking_snapshot_detail_names_missing_column(landed: tuple[Home, dict], breaking: str) -> None:
    home, _ = landed
    details = [
        d for (d,) in _query(home, "SELECT DISTINCT detail FROM quarantine.extract_rows WHERE path = ?", [breaking])
    ]
    result = [bool(re.search(r"\bemail\b(?!_)", d)) and "missing" in d for d in details]
    assert result == [True], details


def test_ingest_breaking_snapshot_lands_nothing(landed: tuple[Home, dict], breaking: str) -> None:
    home, _ = landed
    result = _query(
        home,
        "SELECT count(*) FROM raw_sales.customers WHERE _file_id = (SELECT file_id FROM ops.files WHERE path = ?)",
        [breaking],
    )
    assert result == [(0,)]


def test_ingest_breaking_other_customers_snapshots_land(landed: tuple[Home, dict], breaking: str) -> None:
    home, manifest = landed
    result = _query(
        home,
        "SELECT path, status, loaded FROM ops.files WHERE table_name = 'customers' AND path <> ? ORDER BY path",
        [breaking],
    )
    expected = [
        (path, "landed", entry["records"])
        for path, entry in sorted(manifest["files"].items())
        if path.startswith("sales/extracts/customers/") and path != breaking
    ]
    assert len(expected) == 2
    assert result == expected


def test_ingest_breaking_blocks_only_its_snapshot(landed: tuple[Home, dict], breaking: str) -> None:
    home, _ = landed
    result = _query(home, "SELECT path, status FROM ops.files WHERE status <> 'landed'")
    expected = [(breaking, "blocked")]
    assert result == expected


def test_ingest_breaking_change_recorded_in_schema_changes(landed: tuple[Home, dict], breaking: str) -> None:
    home, _ = landed
    result = _query(home, "SELECT dataset, path, columns FROM ops.schema_changes WHERE change = 'breaking'")
    expected = [("sales.customers", breaking, ["email"])]
    assert result == expected


# -- the simulated additive change: campaigns gain `objective` --------------------------------------


def test_ingest_additive_snapshots_land(landed: tuple[Home, dict], additive: list[str]) -> None:
    home, manifest = landed
    result = _query(
        home,
        "SELECT path, status, loaded, quarantined FROM ops.files WHERE path IN (SELECT unnest(?)) ORDER BY path",
        [additive],
    )
    expected = [(path, "landed", manifest["files"][path]["records"], 0) for path in additive]
    assert result == expected


def test_ingest_additive_column_added_to_raw_table(landed: tuple[Home, dict]) -> None:
    home, _ = landed
    result = _query(
        home,
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw_marketing' AND table_name = 'campaigns' AND column_name = 'objective'",
    )
    assert result == [("VARCHAR",)]


def test_ingest_additive_change_recorded_in_schema_changes(landed: tuple[Home, dict], additive: list[str]) -> None:
    home, _ = landed
    result = _query(home, "SELECT dataset, path, columns FROM ops.schema_changes WHERE change = 'additive'")
    expected = [("marketing.campaigns", additive[0], ["objective"])]
    assert result == expected


def test_ingest_additive_column_values_in_raw_table(landed: tuple[Home, dict], additive: list[str]) -> None:
    home, _ = landed
    result = {
        path: sorted(
            _query(
                home,
                "SELECT campaign_id, objective FROM raw_marketing.campaigns "
                "WHERE _file_id = (SELECT file_id FROM ops.files WHERE path = ?)",
                [path],
            )
        )
        for path in additive
    }
    expected = {}
    for path in additive:
        table = pq.read_table(home.landing / path, columns=["campaign_id", "objective"])
        expected[path] = sorted(zip(table["campaign_id"].to_pylist(), table["objective"].to_pylist(), strict=True))
    assert all(value is not None for rows in expected.values() for _, value in rows)
    assert result == expected


def test_ingest_additive_column_empty_for_earlier_snapshots(landed: tuple[Home, dict], additive: list[str]) -> None:
    home, manifest = landed
    earlier = [
        p for p in sorted(manifest["files"]) if p.startswith("marketing/extracts/campaigns/") and p < additive[0]
    ]
    result = _query(
        home,
        "SELECT count(*), count(objective) FROM raw_marketing.campaigns "
        "WHERE _file_id IN (SELECT file_id FROM ops.files WHERE path IN (SELECT unnest(?)))",
        [earlier],
    )
    expected = [(sum(manifest["files"][p]["records"] for p in earlier), 0)]
    assert earlier
    assert result == expected


# -- hand-made snapshots with row-level problems ------------------------------------------------------

FX = "finance/extracts/fx_rates"
HEADER = "currency,rate_date,rate_to_eur"
SNAPSHOTS = {
    "missing_required": ("20261101T000000Z", ["EUR,2026-11-01,1.0", "USD,2026-11-01,"]),
    "wrong_type": ("20261102T000000Z", ["EUR,2026-11-02,1.0", "GBP,2026-11-02,about one"]),
    "invalid_value": ("20261103T000000Z", ["EUR,2026-11-03,1.0", "JPY,2026-11-03,0.0062"]),
    "duplicate_key": ("20261104T000000Z", ["EUR,2026-11-04,1.0", "USD,2026-11-04,0.92", "USD,2026-11-04,0.93"]),
    "same_row_twice": ("20261105T000000Z", ["EUR,2026-11-05,1.0", "USD,2026-11-05,0.92", "USD,2026-11-05,0.92"]),
    "invalid_row": ("20261106T000000Z", ["EUR,2026-11-06,1.0", "USD,2026-11-06,0.92,extra"]),
}
CAMPAIGNS_STRING_BUDGET = "marketing/extracts/campaigns/20261101T000000Z.parquet"


def _campaigns_with_string_budget() -> pa.Table:
    return pa.table(
        {
            "campaign_id": ["cmp-1", "cmp-2"],
            "name": ["Autumn", "Winter"],
            "channel": ["email", "search"],
            "budget": pa.array(["1000.0", "2500.5"], pa.string()),
            "currency": ["EUR", "USD"],
            "start_date": pa.array([date(2026, 10, 1), date(2026, 11, 1)], pa.date32()),
            "end_date": pa.array([None, date(2026, 12, 1)], pa.date32()),
        }
    )


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("snapshots") / "home").ensure()
    folder = home.landing / FX
    folder.mkdir(parents=True)
    for stamp, rows in SNAPSHOTS.values():
        (folder / f"{stamp}.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    target = home.landing / CAMPAIGNS_STRING_BUDGET
    target.parent.mkdir(parents=True)
    pq.write_table(_campaigns_with_string_budget(), target)
    ingest(home)
    return home


def _outcome(home: Home, case: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    path = f"{FX}/{SNAPSHOTS[case][0]}.csv"
    counts = _query(
        home, "SELECT status, records, loaded, duplicates, quarantined FROM ops.files WHERE path = ?", [path]
    )
    quarantined = _query(
        home, "SELECT row_no, reason, detail FROM quarantine.extract_rows WHERE path = ? ORDER BY 1", [path]
    )
    return counts, quarantined


def test_ingest_extract_missing_value_quarantined_missing_required(hand_made: Home) -> None:
    result = _outcome(hand_made, "missing_required")
    expected = ([("landed", 2, 1, 0, 1)], [(2, "missing_required", "rate_to_eur")])
    assert result == expected


def test_ingest_extract_non_number_quarantined_wrong_type(hand_made: Home) -> None:
    result = _outcome(hand_made, "wrong_type")
    expected = ([("landed", 2, 1, 0, 1)], [(2, "wrong_type", "rate_to_eur")])
    assert result == expected


def test_ingest_extract_value_outside_enum_quarantined_invalid_value(hand_made: Home) -> None:
    result = _outcome(hand_made, "invalid_value")
    expected = ([("landed", 2, 1, 0, 1)], [(2, "invalid_value", "currency")])
    assert result == expected


def test_ingest_extract_same_key_other_values_quarantined_duplicate_key(hand_made: Home) -> None:
    counts, quarantined = _outcome(hand_made, "duplicate_key")
    result = (counts, [(row_no, reason) for row_no, reason, _ in quarantined])
    expected = ([("landed", 3, 2, 0, 1)], [(3, "duplicate_key")])
    assert result == expected


def test_ingest_extract_same_row_twice_counted_duplicate(hand_made: Home) -> None:
    result = _outcome(hand_made, "same_row_twice")
    expected = ([("landed", 3, 2, 1, 0)], [])
    assert result == expected


def test_ingest_extract_wrong_field_count_quarantined_invalid_row(hand_made: Home) -> None:
    counts, quarantined = _outcome(hand_made, "invalid_row")
    result = (counts, [(row_no, reason) for row_no, reason, _ in quarantined])
    expected = ([("landed", 2, 1, 0, 1)], [(2, "invalid_row")])
    assert result == expected


def test_ingest_extract_good_rows_of_bad_snapshots_land(hand_made: Home) -> None:
    result = _query(
        hand_made,
        "SELECT currency, rate_date::VARCHAR, rate_to_eur FROM raw_finance.fx_rates ORDER BY rate_date, currency",
    )
    expected = [
        ("EUR", "2026-11-01", 1.0),
        ("EUR", "2026-11-02", 1.0),
        ("EUR", "2026-11-03", 1.0),
        ("EUR", "2026-11-04", 1.0),
        ("USD", "2026-11-04", 0.92),
        ("EUR", "2026-11-05", 1.0),
        ("USD", "2026-11-05", 0.92),
        ("EUR", "2026-11-06", 1.0),
    ]
    assert result == expected


def test_ingest_parquet_number_turned_string_blocked_as_breaking(hand_made: Home) -> None:
    result = _query(
        hand_made,
        "SELECT status, records, loaded, quarantined FROM ops.files WHERE path = ?",
        [CAMPAIGNS_STRING_BUDGET],
    )
    expected = [("blocked", 2, 0, 2)]
    assert result == expected, "a Parquet string column where the contract says number must block the snapshot"


def test_ingest_parquet_number_turned_string_quarantine_names_column(hand_made: Home) -> None:
    rows = _query(
        hand_made,
        "SELECT row_no, reason, detail FROM quarantine.extract_rows WHERE path = ? ORDER BY row_no",
        [CAMPAIGNS_STRING_BUDGET],
    )
    result = [(row_no, reason, "budget" in detail) for row_no, reason, detail in rows]
    expected = [(1, "breaking_change", True), (2, "breaking_change", True)]
    assert result == expected


# -- malformed contract files --------------------------------------------------------------------

GOOD_EXTRACT = """\
kind: extract
table: things
domain: sales
version: 1.0.0
format: csv
primary_key: [thing_id]
columns:
  thing_id: {type: string, required: true}
"""

MALFORMED = {
    "invalid_yaml": "kind: extract\ncolumns: [thing_id, name\n",
    "not_a_mapping": "- kind: extract\n- table: things\n",
    "unknown_kind": GOOD_EXTRACT.replace("kind: extract", "kind: report"),
    "unknown_domain": GOOD_EXTRACT.replace("domain: sales", "domain: hr"),
    "bad_version": GOOD_EXTRACT.replace("version: 1.0.0", "version: one"),
    "unknown_column_type": GOOD_EXTRACT.replace("type: string", "type: money"),
    "primary_key_not_a_column": GOOD_EXTRACT.replace("primary_key: [thing_id]", "primary_key: [other_id]"),
    "no_columns": GOOD_EXTRACT.split("columns:")[0],
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_load_contracts_rejects_malformed_yaml_naming_the_file(tmp_path: Path, case: str) -> None:
    root = tmp_path / "contracts"
    (root / "extracts").mkdir(parents=True)
    (root / "extracts" / "sales.good.yml").write_text(GOOD_EXTRACT.replace("things", "good"))
    bad = root / "extracts" / "sales.things.yml"
    bad.write_text(MALFORMED[case])
    with pytest.raises(ContractError) as raised:
        load_contracts(root)
    assert str(bad.resolve()) in str(raised.value)


def test_load_contracts_reads_well_formed_yaml(tmp_path: Path) -> None:
    root = tmp_path / "contracts"
    (root / "extracts").mkdir(parents=True)
    (root / "extracts" / "sales.things.yml").write_text(GOOD_EXTRACT)
    contract = load_contracts(root).extract("sales", "things")
    assert contract is not None
    result = (contract.name, contract.version, contract.primary_key, [c.name for c in contract.columns])
    expected = ("sales.things", "1.0.0", ("thing_id",), ["thing_id"])
    assert result == expected
