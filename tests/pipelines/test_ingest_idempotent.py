"""Guarantee 2, idempotent and order-free: replays, duplicates and any file order give the same
warehouse (DESIGN.md). Each scenario is compared with a reference ingest of the same simulation
through `warehouse_state`, which ignores file names, batch ids and load times.
"""

from __future__ import annotations

import gzip
import random
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.landing import parse_snapshot_time
from pipelines.results import IngestReport
from tests.conftest import warehouse_state


def _totals(home: Home) -> tuple[int, int, int, int]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        row = con.execute(
            "SELECT sum(records), sum(loaded), sum(duplicates), sum(quarantined) FROM ops.files"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def _new_home(root: Path) -> Home:
    home = Home(root).ensure()
    home.landing.mkdir(parents=True)
    return home


def _copy(source: Home, rel: str, home: Home, new_rel: str | None = None) -> None:
    target = home.landing / (new_rel or rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.landing / rel, target)


def _other_name(rel: str) -> str:
    """Another name for the same landed file: events get a prefix; a snapshot keeps its
    timestamp, spelled in another accepted format (same snapshot, so the same file)."""
    folder, name = rel.rsplit("/", 1)
    if "/events/" in rel:
        return f"{folder}/again-{name}"
    stem, suffix = name.split(".", 1)
    snapshot_at = parse_snapshot_time(stem)
    assert snapshot_at is not None
    return f"{folder}/{snapshot_at:%Y-%m-%dT%H-%M-%SZ}.{suffix}"


def _day(rel: str) -> date:
    """The day a simulated file arrived: events are named by day, snapshots by timestamp."""
    name = rel.rsplit("/", 1)[1]
    if "/events/" in rel:
        return date.fromisoformat(name[:10])
    snapshot_at = parse_snapshot_time(name.split(".", 1)[0])
    assert snapshot_at is not None
    return snapshot_at.date()


def _read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


@pytest.fixture(scope="module")
def reference(landed: tuple[Home, dict]) -> dict[str, object]:
    home, _ = landed
    return warehouse_state(home)


@pytest.fixture(scope="module")
def reference_totals(landed: tuple[Home, dict]) -> tuple[int, int, int, int]:
    home, _ = landed
    return _totals(home)


# -- (a) the same landing zone ingested twice ---------------------------------------------------


@pytest.fixture(scope="module")
def ingested_twice(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, IngestReport]:
    source, _ = simulated
    home = Home(tmp_path_factory.mktemp("twice") / "home").ensure()
    shutil.copytree(source.landing, home.landing)
    ingest(home)
    return home, ingest(home)


def test_ingest_twice_second_run_loads_nothing(ingested_twice: tuple[Home, IngestReport]) -> None:
    _, second = ingested_twice
    totals = second.totals()
    result = (totals["files"], totals["records"], totals["loaded"], totals["duplicates"], totals["quarantined"])
    expected = (0, 0, 0, 0, 0)
    assert result == expected


def test_ingest_twice_reports_every_file_unchanged(
    ingested_twice: tuple[Home, IngestReport], simulated: tuple[Home, dict]
) -> None:
    _, second = ingested_twice
    _, manifest = simulated
    result = (second.totals()["unchanged_files"], [f.rel for f in second.files])
    expected = (len(manifest["files"]), [])
    assert result == expected


def test_ingest_twice_state_identical(ingested_twice: tuple[Home, IngestReport], reference: dict[str, object]) -> None:
    home, _ = ingested_twice
    result = warehouse_state(home)
    assert result == reference


def test_ingest_twice_ops_files_unchanged(
    ingested_twice: tuple[Home, IngestReport], reference_totals: tuple[int, int, int, int]
) -> None:
    home, _ = ingested_twice
    result = _totals(home)
    assert result == reference_totals


# -- (b) the same bytes landed again under other names ------------------------------------------


@pytest.fixture(scope="module")
def renamed_replay(
    simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Home, IngestReport, dict[str, str]]:
    source, manifest = simulated
    home = Home(tmp_path_factory.mktemp("renamed") / "home").ensure()
    shutil.copytree(source.landing, home.landing)
    ingest(home)
    renamed = {rel: _other_name(rel) for rel in manifest["files"]}
    for rel, new_rel in renamed.items():
        _copy(source, rel, home, new_rel)
    return home, ingest(home), renamed


def test_ingest_renamed_copies_reported_replayed(
    renamed_replay: tuple[Home, IngestReport, dict[str, str]],
) -> None:
    _, report, renamed = renamed_replay
    result = sorted((f.rel, f.status) for f in report.files)
    expected = sorted((new_rel, "replayed") for new_rel in renamed.values())
    assert result == expected


def test_ingest_renamed_copies_load_nothing(renamed_replay: tuple[Home, IngestReport, dict[str, str]]) -> None:
    _, report, renamed = renamed_replay
    totals = report.totals()
    result = (totals["loaded"], totals["replayed_files"], totals["unchanged_files"])
    expected = (0, len(renamed), len(renamed))
    assert result == expected


def test_ingest_renamed_copies_state_identical(
    renamed_replay: tuple[Home, IngestReport, dict[str, str]], reference: dict[str, object]
) -> None:
    home, _, _ = renamed_replay
    result = warehouse_state(home)
    assert result == reference


# -- (c) files arriving newest first --------------------------------------------------------------


@pytest.fixture(scope="module")
def reverse_order(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, int]:
    source, manifest = simulated
    home = _new_home(tmp_path_factory.mktemp("reverse") / "home")
    by_day: dict[date, list[str]] = defaultdict(list)
    for rel in manifest["files"]:
        by_day[_day(rel)].append(rel)
    for day in sorted(by_day, reverse=True):
        for rel in by_day[day]:
            _copy(source, rel, home)
        ingest(home)
    return home, len(by_day)


def test_ingest_reverse_order_state_identical(reverse_order: tuple[Home, int], reference: dict[str, object]) -> None:
    home, groups = reverse_order
    result = warehouse_state(home)
    assert groups == 8
    assert result == reference


def test_ingest_reverse_order_totals_identical(
    reverse_order: tuple[Home, int], reference_totals: tuple[int, int, int, int]
) -> None:
    home, _ = reverse_order
    result = _totals(home)
    assert result == reference_totals


# -- (d) the same events cut into other files -------------------------------------------------------

RECUT_FILES = 5


@pytest.fixture(scope="module")
def recut(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> Home:
    source, manifest = simulated
    home = _new_home(tmp_path_factory.mktemp("recut") / "home")
    lines: dict[str, list[bytes]] = defaultdict(list)
    for rel, entry in manifest["files"].items():
        if entry["kind"] == "events":
            lines[entry["domain"]].extend(_read_lines(source.landing / rel))
        else:
            _copy(source, rel, home)
    rng = random.Random(20261001)
    for domain, domain_lines in sorted(lines.items()):
        rng.shuffle(domain_lines)
        for part in range(RECUT_FILES):
            data = b"".join(line + b"\n" for line in domain_lines[part::RECUT_FILES])
            name = f"recut/batch-{RECUT_FILES - part:02d}.jsonl"
            if part % 2:
                data, name = gzip.compress(data, mtime=0), name + ".gz"
            target = home.landing / domain / "events" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    ingest(home)
    return home


def test_ingest_recut_events_raw_tables_identical(recut: Home, reference: dict[str, object]) -> None:
    state = warehouse_state(recut)
    result = {key: value for key, value in state.items() if key.endswith(".events") and key.startswith("raw_")}
    expected = {key: value for key, value in reference.items() if key.endswith(".events") and key.startswith("raw_")}
    assert len(expected) == 6
    assert result == expected


def test_ingest_recut_events_quarantine_identical(recut: Home, reference: dict[str, object]) -> None:
    result = warehouse_state(recut)["quarantine.events"]
    assert result == reference["quarantine.events"]


def test_ingest_recut_events_totals_identical(recut: Home, reference_totals: tuple[int, int, int, int]) -> None:
    result = _totals(recut)
    assert result == reference_totals


def test_ingest_recut_events_lands_every_new_file(recut: Home, simulated: tuple[Home, dict]) -> None:
    _, manifest = simulated
    con = duckdb.connect(recut.warehouse, read_only=True)
    try:
        result = con.execute("SELECT kind, count(*) FROM ops.files GROUP BY ALL ORDER BY ALL").fetchall()
    finally:
        con.close()
    extracts = sum(1 for entry in manifest["files"].values() if entry["kind"] == "extract")
    expected = [("events", 6 * RECUT_FILES), ("extract", extracts)]
    assert result == expected


# -- (e) every file landed twice in one run ------------------------------------------------------


@pytest.fixture(scope="module")
def doubled(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, IngestReport]:
    source, manifest = simulated
    home = Home(tmp_path_factory.mktemp("doubled") / "home").ensure()
    shutil.copytree(source.landing, home.landing)
    for rel in manifest["files"]:
        _copy(source, rel, home, _other_name(rel))
    return home, ingest(home)


def test_ingest_every_file_twice_in_one_run_state_identical(
    doubled: tuple[Home, IngestReport], reference: dict[str, object]
) -> None:
    home, _ = doubled
    result = warehouse_state(home)
    assert result == reference


def test_ingest_every_file_twice_in_one_run_one_copy_replayed(
    doubled: tuple[Home, IngestReport], simulated: tuple[Home, dict]
) -> None:
    _, report = doubled
    _, manifest = simulated
    totals = report.totals()
    result = (totals["files"], totals["replayed_files"], totals["rejected_files"])
    expected = (len(manifest["files"]), len(manifest["files"]), 0)
    assert result == expected


def test_ingest_every_file_twice_in_one_run_totals_identical(
    doubled: tuple[Home, IngestReport], reference_totals: tuple[int, int, int, int]
) -> None:
    home, _ = doubled
    result = _totals(home)
    assert result == reference_totals


# -- (f) one batch per file: the same events split over many transactions --------------------------


@pytest.fixture(scope="module")
def file_per_batch(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> Home:
    source, _ = simulated
    home = Home(tmp_path_factory.mktemp("file-per-batch") / "home").ensure()
    shutil.copytree(source.landing, home.landing)
    ingest(home, batch_bytes=1)  # every events file closes its batch
    return home


def test_ingest_one_batch_per_file_state_identical(file_per_batch: Home, reference: dict[str, object]) -> None:
    assert warehouse_state(file_per_batch) == reference


def test_ingest_one_batch_per_file_totals_identical(
    file_per_batch: Home, reference_totals: tuple[int, int, int, int]
) -> None:
    con = duckdb.connect(file_per_batch.warehouse, read_only=True)
    try:
        batches, event_files = con.execute(
            "SELECT (SELECT count(*) FROM ops.batches WHERE kind = 'events'),"
            " (SELECT count(*) FROM ops.files WHERE kind = 'events')"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert batches == event_files
    assert _totals(file_per_batch) == reference_totals
