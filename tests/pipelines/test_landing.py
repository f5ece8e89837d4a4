"""pipelines.landing: what each path in the landing zone is (DESIGN.md, "Landing zone")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.contracts import load_contracts
from pipelines.landing import LandedFile, Rejected, classify, discover, parse_snapshot_time

CONTRACTS = load_contracts()
LANDING = Path("/landing")


def classified(rel: str) -> LandedFile | Rejected | None:
    return classify(LANDING / rel, LANDING, CONTRACTS)


def touch(root: Path, rel: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "rel",
    [
        "sales/events/2026-10-01.jsonl",
        "sales/events/2026-10-01.jsonl.gz",
        "sales/events/a.ndjson",
        "sales/events/a.ndjson.gz",
        "sales/events/web/2026/10/01.jsonl",
    ],
)
def test_classify_events_file(rel: str) -> None:
    result = classified(rel)

    assert result == LandedFile(LANDING / rel, rel, "sales", "events")
    assert result.dataset == "sales.events"


def test_classify_extract_snapshot() -> None:
    result = classified("finance/extracts/fx_rates/20261001T120000Z.csv")

    expected = LandedFile(
        LANDING / "finance/extracts/fx_rates/20261001T120000Z.csv",
        "finance/extracts/fx_rates/20261001T120000Z.csv",
        "finance",
        "extract",
        "fx_rates",
        datetime(2026, 10, 1, 12, tzinfo=UTC),
    )
    assert result == expected
    assert result.dataset == "finance.fx_rates"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20261001T123045Z.csv", datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
        ("2026-10-01T12-30-45Z.csv", datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
        ("2026-10-01T123045Z.csv", datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
        ("20261001.csv", datetime(2026, 10, 1, tzinfo=UTC)),
        ("2026-10-01.csv", datetime(2026, 10, 1, tzinfo=UTC)),
        ("20261001T123045Z.csv.gz", datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
        ("20261001T123045Z.parquet", datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
    ],
)
def test_classify_extract_snapshot_timestamp_formats(name: str, expected: datetime) -> None:
    result = classified(f"sales/extracts/customers/{name}")

    assert isinstance(result, LandedFile)
    assert (result.kind, result.table, result.snapshot_at) == ("extract", "customers", expected)


@pytest.mark.parametrize("stem", ["latest", "20261001T123045", "2026-10-01 12:30:45", "20261301", "2026-10-32"])
def test_parse_snapshot_time_rejects_other_shapes(stem: str) -> None:
    assert parse_snapshot_time(stem) is None


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        (
            "hr/events/a.jsonl",
            "unknown domain folder 'hr' (expected one of sales, finance, marketing, support, devops, qa)",
        ),
        ("sales/events/a.json", "an events file must end in .jsonl or .jsonl.gz"),
        ("sales/events/a.csv", "an events file must end in .jsonl or .jsonl.gz"),
        (
            "sales/extracts/widgets/20261001T000000Z.csv",
            "no contract for extract sales.widgets in catalog/contracts/extracts/",
        ),
        ("sales/extracts/customers/20261001T000000Z.json", "an extract snapshot must be .csv, .csv.gz or .parquet"),
        ("sales/extracts/customers/latest.csv", "file name 'latest' is not a snapshot timestamp like 20261001T000000Z"),
        ("sales/extracts/customers/2026/20261001.csv", "not in <domain>/events/ or <domain>/extracts/<table>/"),
        ("sales/extracts/20261001.csv", "not in <domain>/events/ or <domain>/extracts/<table>/"),
        ("sales/events.jsonl", "not in <domain>/events/ or <domain>/extracts/<table>/"),
        ("sales/readme.txt", "not in <domain>/events/ or <domain>/extracts/<table>/"),
        (
            "notes.txt",
            "unknown domain folder 'notes.txt' (expected one of sales, finance, marketing, support, devops, qa)",
        ),
    ],
)
def test_classify_rejected_with_reason(rel: str, reason: str) -> None:
    assert classified(rel) == Rejected(LANDING / rel, rel, reason)


@pytest.mark.parametrize(
    "rel",
    [
        ".DS_Store",
        "sales/.hidden/a.jsonl",
        "sales/events/.a.jsonl",
        "_staging/sales/events/a.jsonl",
        "sales/events/_tmp.jsonl",
        "sales/events/a.jsonl.tmp",
        "sales/extracts/customers/20261001.csv.partial",
    ],
)
def test_classify_ignores_dotfiles_and_temporary_files(rel: str) -> None:
    assert classified(rel) is None


def test_discover_returns_files_in_sorted_path_order(tmp_path: Path) -> None:
    names = [
        "support/events/b.jsonl",
        "sales/events/2026-10-02.jsonl",
        "finance/extracts/fx_rates/20261001.csv",
        "sales/events/2026-10-01.jsonl.gz",
        "sales/extracts/customers/20261001T000000Z.csv",
        "qa/events/a.jsonl",
    ]
    for rel in names:
        touch(tmp_path, rel)

    files, rejected = discover(tmp_path, CONTRACTS)

    assert [f.rel for f in files] == sorted(names)
    assert rejected == []


def test_discover_reports_rejected_and_skips_ignored(tmp_path: Path) -> None:
    for rel in [
        "sales/events/a.jsonl",
        "sales/events/b.txt",
        "hr/events/a.jsonl",
        ".DS_Store",
        "sales/events/.c.jsonl",
        "sales/events/d.jsonl.partial",
    ]:
        touch(tmp_path, rel)

    files, rejected = discover(tmp_path, CONTRACTS)

    assert [f.rel for f in files] == ["sales/events/a.jsonl"]
    assert [(r.rel, r.reason) for r in rejected] == [
        (
            "hr/events/a.jsonl",
            "unknown domain folder 'hr' (expected one of sales, finance, marketing, support, devops, qa)",
        ),
        ("sales/events/b.txt", "an events file must end in .jsonl or .jsonl.gz"),
    ]


def test_discover_ignores_directories(tmp_path: Path) -> None:
    (tmp_path / "sales" / "events" / "empty.jsonl").mkdir(parents=True)

    assert discover(tmp_path, CONTRACTS) == ([], [])


def test_discover_empty_landing_zone(tmp_path: Path) -> None:
    assert discover(tmp_path, CONTRACTS) == ([], [])
