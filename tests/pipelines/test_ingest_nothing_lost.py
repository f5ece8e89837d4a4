"""Guarantee 1, nothing lost: every record read is exactly one of loaded, duplicate or
quarantined (with a reason), and the per-file counts reconcile in ops.* (DESIGN.md).

The simulated landing zone is checked against the simulator's ground-truth manifest; a small
hand-built events file pins down the outcome of each kind of line.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.contracts import DOMAINS
from pipelines.home import Home
from pipelines.ingest import ingest

DAY_MS = 86_400_000


def _query(home: Home, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _file_lines(path: Path) -> list[bytes]:
    """The lines of a landed events file as bytes, terminators removed (1-based: index + 1)."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.rstrip(b"\r") for line in lines]


def _events_entries(manifest: dict) -> dict[str, dict]:
    return {path: entry for path, entry in manifest["files"].items() if entry["kind"] == "events"}


def _file_day(path: str) -> date:
    """The arrival day of a simulated events file: its name, e.g. sales/events/2026-10-05.jsonl."""
    return date.fromisoformat(path.rsplit("/", 1)[1][:10])


@pytest.fixture(scope="module")
def lines_of(landed: tuple[Home, dict]) -> dict[str, list[bytes]]:
    home, manifest = landed
    return {path: _file_lines(home.landing / path) for path in _events_entries(manifest)}


# -- the simulated landing zone against its manifest ------------------------------------------


def test_ingest_ops_files_counts_equal_manifest(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = {
        path: (records, loaded, duplicates, quarantined)
        for path, records, loaded, duplicates, quarantined in _query(
            home, "SELECT path, records, loaded, duplicates, quarantined FROM ops.files"
        )
    }
    expected = {
        path: (e["records"], e["expected"]["loaded"], e["expected"]["duplicates"], e["expected"]["quarantined"])
        for path, e in manifest["files"].items()
    }
    assert result == expected


def test_ingest_ops_files_every_record_counted_once(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = _query(
        home,
        "SELECT path, records, loaded + duplicates + quarantined FROM ops.files ORDER BY path",
    )
    expected = [(path, entry["records"], entry["records"]) for path, entry in sorted(manifest["files"].items())]
    assert result == expected


def test_ingest_quarantine_events_match_manifest_line_by_line(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = Counter(_query(home, "SELECT path, line_no, reason, detail FROM quarantine.events"))
    expected = Counter(
        (path, item["line"], item["reason"], item["detail"])
        for path, entry in _events_entries(manifest).items()
        for item in entry["quarantine"]
    )
    assert sum(expected.values()) > 0
    assert result == expected


def test_ingest_quarantine_extract_rows_match_manifest(landed: tuple[Home, dict]) -> None:
    """The manifest names a blocked snapshot's reason and column once; every row carries both."""
    home, manifest = landed
    rows = _query(home, "SELECT path, reason, detail FROM quarantine.extract_rows")
    result = Counter((path, reason, "email" in detail) for path, reason, detail in rows)
    expected = Counter()
    for path, entry in manifest["files"].items():
        if entry["kind"] == "extract":
            for item in entry["quarantine"]:
                expected[(path, item["reason"], item["detail"] == "email")] += entry["expected"]["quarantined"]
    assert sum(expected.values()) > 0
    assert result == expected


def test_ingest_quarantine_counts_per_reason_equal_manifest_totals(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = dict(
        _query(
            home,
            "SELECT reason, count(*) FROM (SELECT reason FROM quarantine.events "
            "UNION ALL SELECT reason FROM quarantine.extract_rows) GROUP BY reason",
        )
    )
    expected = {reason: n for reason, n in manifest["totals"]["quarantined_by_reason"].items() if n}
    assert set(expected) == {
        "invalid_json",
        "invalid_utf8",
        "missing_required",
        "wrong_type",
        "unknown_type",
        "breaking_change",
    }
    assert result == expected


def test_ingest_quarantine_keeps_path_line_and_raw_text(
    landed: tuple[Home, dict], lines_of: dict[str, list[bytes]]
) -> None:
    home, _ = landed
    rows = _query(
        home,
        "SELECT path, line_no, raw FROM quarantine.events WHERE reason <> 'invalid_utf8' ORDER BY path, line_no",
    )
    result = [(path, line_no, raw) for path, line_no, raw in rows]
    expected = [(path, line_no, lines_of[path][line_no - 1].decode("utf-8")) for path, line_no, _ in rows]
    assert len(rows) > 0 and all(raw for _, _, raw in rows)
    assert result == expected


def test_ingest_quarantine_keeps_original_bytes_of_invalid_utf8(
    landed: tuple[Home, dict], lines_of: dict[str, list[bytes]]
) -> None:
    home, manifest = landed
    rows = _query(
        home,
        "SELECT path, line_no, raw_bytes, raw <> '' FROM quarantine.events WHERE reason = 'invalid_utf8' "
        "ORDER BY path, line_no",
    )
    result = [(path, line_no, bytes(raw_bytes), has_raw) for path, line_no, raw_bytes, has_raw in rows]
    expected = [(path, line_no, lines_of[path][line_no - 1], True) for path, line_no, _, _ in rows]
    assert len(rows) == manifest["totals"]["quarantined_by_reason"]["invalid_utf8"] > 0
    assert result == expected


def test_ingest_quarantine_raw_bytes_only_for_invalid_utf8(landed: tuple[Home, dict]) -> None:
    home, _ = landed
    result = _query(
        home,
        "SELECT reason = 'invalid_utf8', raw_bytes IS NOT NULL, count(*) > 0 FROM quarantine.events "
        "GROUP BY ALL ORDER BY ALL",
    )
    expected = [(False, False, True), (True, True, True)]
    assert result == expected


def test_ingest_raw_events_hold_manifest_totals_per_domain(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = {domain: _query(home, f"SELECT count(*) FROM raw_{domain}.events")[0][0] for domain in DOMAINS}
    expected = {domain: row["events"] for domain, row in manifest["totals"]["by_domain"].items()}
    assert result == expected


def test_ingest_raw_events_point_at_their_landed_line(
    landed: tuple[Home, dict], lines_of: dict[str, list[bytes]]
) -> None:
    """(_file_id, _line_no) of every raw event names a landed file and the line holding that event."""
    home, manifest = landed
    rows = [
        row
        for domain in DOMAINS
        for row in _query(
            home,
            f"SELECT f.path, r._line_no, r.source, r.id FROM raw_{domain}.events r "
            "LEFT JOIN ops.files f ON f.file_id = r._file_id",
        )
    ]
    assert len(rows) == manifest["totals"]["events"]
    result = [(path, line_no, source, id_) for path, line_no, source, id_ in rows]
    expected = []
    for path, line_no, _, _ in rows:
        event = json.loads(lines_of[path][line_no - 1]) if path in lines_of else {}
        expected.append((path, line_no, event.get("source"), event.get("id")))
    assert result == expected


def test_ingest_raw_extract_rows_point_at_landed_snapshots(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    tables = _query(
        home,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'raw_%' AND table_name <> 'events' AND table_type = 'BASE TABLE'",
    )
    result: Counter[str] = Counter()
    for schema, table in tables:
        for path, n, in_range in _query(
            home,
            f'SELECT f.path, count(*), bool_and(r._row_no BETWEEN 1 AND f.records) FROM {schema}."{table}" r '
            "LEFT JOIN ops.files f ON f.file_id = r._file_id GROUP BY ALL",
        ):
            result[(path, in_range)] += n
    expected = Counter(
        {
            (path, True): entry["expected"]["loaded"]
            for path, entry in manifest["files"].items()
            if entry["kind"] == "extract" and entry["expected"]["loaded"]
        }
    )
    assert result == expected


def test_ingest_file_reconciliation_balanced_for_every_file(landed: tuple[Home, dict]) -> None:
    home, manifest = landed
    result = _query(home, "SELECT path, balanced, quarantine_matches FROM ops.file_reconciliation ORDER BY path")
    expected = [(path, True, True) for path in sorted(manifest["files"])]
    assert result == expected


def test_ingest_late_events_land_under_their_event_day(landed: tuple[Home, dict]) -> None:
    """A late event is one landed in a file of a day after its own: it is there, dated by event time."""
    home, manifest = landed
    result: Counter[str] = Counter()
    for domain in DOMAINS:
        for path, time_ms in _query(
            home,
            f"SELECT f.path, epoch_ms(r.time) FROM raw_{domain}.events r JOIN ops.files f ON f.file_id = r._file_id",
        ):
            event_day = date.fromordinal(date(1970, 1, 1).toordinal() + time_ms // DAY_MS)
            if event_day < _file_day(path):
                result[path] += 1
    expected = Counter({path: e["late_events"] for path, e in _events_entries(manifest).items() if e["late_events"]})
    assert manifest["totals"]["late_events"] > 0
    assert result == expected


def test_ingest_late_events_keep_the_time_in_their_line(
    landed: tuple[Home, dict], lines_of: dict[str, list[bytes]]
) -> None:
    home, manifest = landed
    late_files = {path for path, e in _events_entries(manifest).items() if e["late_events"]}
    rows = [
        row
        for domain in DOMAINS
        for row in _query(
            home,
            f"SELECT f.path, r._line_no, epoch_ms(r.time) FROM raw_{domain}.events r "
            "JOIN ops.files f ON f.file_id = r._file_id",
        )
        if row[0] in late_files
    ]
    late = [
        (path, line_no, time_ms)
        for path, line_no, time_ms in rows
        if date.fromordinal(date(1970, 1, 1).toordinal() + time_ms // DAY_MS) < _file_day(path)
    ]
    result = [time_ms for _, _, time_ms in late]
    expected = [
        int(datetime.fromisoformat(json.loads(lines_of[path][line_no - 1])["time"]).timestamp() * 1000)
        for path, line_no, _ in late
    ]
    assert len(late) == manifest["totals"]["late_events"]
    assert result == expected


# -- a hand-built events file: the outcome of each kind of line --------------------------------


def _event(n: int, **changes: Any) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": f"orders-{n}",
        "source": "/sales/orders-service",
        "type": "sales.order.placed",
        "time": "2026-10-01T10:00:00Z",
        "data": {
            "order_id": f"ord-{n}",
            "customer_id": "cus-1",
            "product_id": "prd-1",
            "quantity": 2,
            "unit_price": 1.5,
            "amount": 3.0,
            "currency": "EUR",
            "channel": "web",
        },
    }
    event.update(changes)
    return event


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def _without(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != key}


GOOD = _line(_event(1))
WRONG_TYPE = _line(_event(4, data={**_event(4)["data"], "amount": "3.00 EUR"}))
INVALID_UTF8 = _line(_event(6)).replace(b"/sales/orders", b"/sal\xff\xfees/orders")
HAND_LINES = [
    GOOD,  # 1 loaded
    GOOD,  # 2 duplicate of line 1
    b'{"specversion":"1.0","id":"orders-2","sou',  # 3 invalid JSON
    _line(_without(_event(3), "id")),  # 4 missing id
    WRONG_TYPE,  # 5 data.amount is a string
    _line(_event(5, type="sales.order.teleported")),  # 6 unknown type
    INVALID_UTF8,  # 7 invalid UTF-8
    b"",  # 8 empty line
    _line(_event(7)) + b"\r",  # 9 CRLF line, good
    b'{"specversion":"1.0"}\r',  # 10 CRLF line, bad
]


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("hand") / "home").ensure()
    path = home.landing / "sales" / "events" / "hand.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(HAND_LINES) + b"\n")
    ingest(home)
    return home


def test_ingest_hand_built_file_outcome_per_line(hand_built: Home) -> None:
    loaded = _query(hand_built, "SELECT _line_no, 'loaded', id FROM raw_sales.events")
    quarantined = _query(hand_built, "SELECT line_no, reason, detail FROM quarantine.events")
    result = {line_no: (outcome, detail) for line_no, outcome, detail in loaded + quarantined}
    expected = {
        1: ("loaded", "orders-1"),
        # line 2 is a duplicate: neither loaded nor quarantined
        3: ("invalid_json", None),
        4: ("missing_required", "id"),
        5: ("wrong_type", "data.amount"),
        6: ("unknown_type", "sales.order.teleported"),
        7: ("invalid_utf8", None),
        8: ("invalid_json", None),
        9: ("loaded", "orders-7"),
        10: ("missing_required", "id"),
    }
    assert result == expected


def test_ingest_hand_built_file_counts(hand_built: Home) -> None:
    result = _query(hand_built, "SELECT path, records, loaded, duplicates, quarantined, status FROM ops.files")
    expected = [("sales/events/hand.jsonl", 10, 2, 1, 7, "landed")]
    assert result == expected


def test_ingest_hand_built_quarantine_raw_without_line_terminator(hand_built: Home) -> None:
    result = _query(hand_built, "SELECT line_no, raw FROM quarantine.events WHERE reason <> 'invalid_utf8' ORDER BY 1")
    expected = [
        (3, HAND_LINES[2].decode()),
        (4, HAND_LINES[3].decode()),
        (5, WRONG_TYPE.decode()),
        (6, HAND_LINES[5].decode()),
        (8, ""),
        (10, '{"specversion":"1.0"}'),
    ]
    assert result == expected


def test_ingest_hand_built_invalid_utf8_keeps_bytes(hand_built: Home) -> None:
    result = _query(
        hand_built, "SELECT line_no, raw_bytes, raw <> '' FROM quarantine.events WHERE reason = 'invalid_utf8'"
    )
    expected = [(7, INVALID_UTF8, True)]
    assert result == expected


def test_ingest_hand_built_crlf_event_loads_clean(hand_built: Home) -> None:
    result = _query(
        hand_built, "SELECT id, epoch_ms(time), data->>'$.order_id' FROM raw_sales.events WHERE _line_no = 9"
    )
    expected = [("orders-7", int(datetime.fromisoformat("2026-10-01T10:00:00+00:00").timestamp() * 1000), "ord-7")]
    assert result == expected
