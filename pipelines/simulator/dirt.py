"""Where each event line lands, and what is wrong with it.

Real landing zones are dirty: producers retry (duplicates), buffer (late arrivals),
write concurrently (lines out of order) and occasionally emit garbage. This module
decides all of it numerically for a whole domain at once; only the few malformed lines
are then rewritten one by one in Python (`malform_line`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from pipelines.simulator.config import (
    DAY_MS,
    MALFORMATION_REASONS,
    MINUTE_MS,
    SimulationConfig,
)
from pipelines.simulator.events import EventTable, EventType
from pipelines.simulator.randomness import random_stream

MAX_LINES_PER_FILE = 1_000_000
"""Files above this many lines are split into `-part-NNN` files (read at call time)."""

GZIP_DOMAINS = ("devops", "qa")

UTF8_BREAK_MARKER = "\x00"
"""Stands for the invalid bytes until the file is encoded (JSON output never holds NUL)."""
INVALID_UTF8_BYTES = b"\xff\xfe"

DUPLICATE_WITHIN, DUPLICATE_ACROSS, LATE, OUT_OF_ORDER = range(4)
CLEAN = 4 + len(MALFORMATION_REASONS)

ENVELOPE_REQUIRED = ("id", "source", "type", "time", "specversion")
NOT_RFC3339 = ("yesterday", "01/10/2026 08:15", "last tuesday", "2026-13-45T99:00:00Z")
UNKNOWN_ACTIONS = ("teleported", "vanished", "time_travelled")


@dataclass(frozen=True)
class PlannedFile:
    """One events file: its lines are `start:stop` of the domain's sorted line arrays."""

    relative_path: str
    day: int
    start: int
    stop: int


@dataclass(frozen=True)
class DomainLines:
    """Every line a domain lands, sorted by file then line number.

    `event` indexes the domain's concatenated event tables (`table`, `row`); a copy of a
    line (a duplicate) points at the same event. `malformation` is 0 for a well-formed
    line, else 1 + an index into MALFORMATION_REASONS.
    """

    domain: str
    tables: list[EventTable]
    table: np.ndarray
    row: np.ndarray
    event: np.ndarray
    malformation: np.ndarray
    late: np.ndarray
    out_of_order: np.ndarray
    file_index: np.ndarray
    files: list[PlannedFile]


def events_file_name(config: SimulationConfig, domain: str, day: int, part: int | None) -> str:
    """Landing path of an events file, relative to the landing directory."""
    stem = (config.start + timedelta(days=day)).isoformat()
    if part is not None:
        stem = f"{stem}-part-{part:03d}"
    suffix = ".jsonl.gz" if domain in GZIP_DOMAINS else ".jsonl"
    return f"{domain}/events/{stem}{suffix}"


def plan_domain(config: SimulationConfig, domain: str, tables: list[EventTable]) -> DomainLines:
    """Assign every event of `domain` to files and positions, with duplicates, late and
    out-of-order lines and malformations drawn at the configured rates (one problem per line).
    """
    rng = random_stream(config.seed, f"dirt.{domain}")
    sizes = [table.frame.height for table in tables]
    table = np.repeat(np.arange(len(tables), dtype=np.int64), sizes)
    row = np.concatenate([np.arange(size, dtype=np.int64) for size in sizes])
    time_ms = np.concatenate([table_.frame["time_ms"].to_numpy() for table_ in tables])
    n = time_ms.size
    last_day = config.days - 1

    cumulative = np.cumsum(list(config.effective_rates().values()))
    problem = np.searchsorted(cumulative, rng.random(n), side="right")
    event_day = (time_ms - config.start_ms) // DAY_MS
    arrival = np.where(
        problem == LATE,
        np.minimum(event_day + rng.integers(1, 6, size=n), last_day),
        event_day,
    )
    problem[(problem == LATE) & (arrival == event_day)] = CLEAN
    problem[(problem == DUPLICATE_ACROSS) & (arrival == last_day)] = CLEAN
    across_day = np.minimum(arrival + rng.integers(1, 4, size=n), last_day)

    # Position keys order the lines inside a day's file: normally the event time; late
    # and displaced lines land anywhere in their arrival day.
    anywhere = config.start_ms + arrival * DAY_MS + rng.integers(0, DAY_MS, size=n)
    position = np.where((problem == LATE) | (problem == OUT_OF_ORDER), anywhere, time_ms)
    within = np.flatnonzero(problem == DUPLICATE_WITHIN)
    across = np.flatnonzero(problem == DUPLICATE_ACROSS)
    copy_position = np.concatenate(
        [
            position[within] + rng.integers(1, 2 * MINUTE_MS, size=within.size),
            config.start_ms + across_day[across] * DAY_MS + rng.integers(0, DAY_MS, size=across.size),
        ]
    )
    event = np.concatenate([np.arange(n, dtype=np.int64), within, across])
    day = np.concatenate([arrival, arrival[within], across_day[across]])
    position = np.concatenate([position, copy_position])
    original = np.arange(event.size) < n
    malformation = np.where((problem >= 4) & (problem < CLEAN), problem - 3, 0)
    malformation = np.where(original, np.concatenate([malformation, np.zeros(event.size - n, np.int64)]), 0)
    late_flag = original & np.concatenate([problem == LATE, np.zeros(event.size - n, bool)])
    ooo_flag = original & np.concatenate([problem == OUT_OF_ORDER, np.zeros(event.size - n, bool)])

    order = np.lexsort((np.arange(event.size), position, day))
    event, day = event[order], day[order]
    malformation, late_flag, ooo_flag = (
        malformation[order],
        late_flag[order],
        ooo_flag[order],
    )

    files: list[PlannedFile] = []
    file_index = np.empty(event.size, dtype=np.int64)
    day_bounds = np.searchsorted(day, np.arange(config.days + 1), side="left")
    for d in range(config.days):
        lo, hi = int(day_bounds[d]), int(day_bounds[d + 1])
        if hi == lo:
            continue
        parts = -(-(hi - lo) // MAX_LINES_PER_FILE)
        chunk = -(-(hi - lo) // parts)
        for part in range(parts):
            start, stop = lo + part * chunk, min(hi, lo + (part + 1) * chunk)
            name = events_file_name(config, domain, d, part if parts > 1 else None)
            file_index[start:stop] = len(files)
            files.append(PlannedFile(name, d, start, stop))
    return DomainLines(
        domain=domain,
        tables=tables,
        table=table[event],
        row=row[event],
        event=event,
        malformation=malformation.astype(np.int8),
        late=late_flag,
        out_of_order=ooo_flag,
        file_index=file_index,
        files=files,
    )


def malform_line(line: str, reason: str, event_type: EventType, rng: np.random.Generator) -> tuple[str, str | None]:
    """Break a well-formed line in exactly one way; returns (line, quarantine detail)."""
    if reason == "invalid_json":
        return line[: int(rng.integers(1, len(line)))], None
    if reason == "invalid_utf8":
        value_start = line.index('"source":"') + len('"source":"')
        cut = value_start + int(rng.integers(1, 4))
        return line[:cut] + UTF8_BREAK_MARKER + line[cut:], None
    document = json.loads(line)
    if reason == "missing_required":
        attribute = ENVELOPE_REQUIRED[int(rng.integers(0, len(ENVELOPE_REQUIRED)))]
        del document[attribute]
        return _dumps(document), attribute
    if reason == "wrong_type":
        choices = [
            "time",
            "id",
            *(f"data.{name}" for name in event_type.numeric_fields),
        ]
        detail = choices[int(rng.integers(0, len(choices)))]
        if detail == "time":
            document["time"] = NOT_RFC3339[int(rng.integers(0, len(NOT_RFC3339)))]
        elif detail == "id":
            document["id"] = int(document["id"].rsplit("-", 1)[-1])
        else:
            data = document["data"]
            name = detail.removeprefix("data.")
            currency = data.get("currency")
            data[name] = f"{data[name]:.2f} {currency}" if currency else f"{data[name]}"
        return _dumps(document), detail
    if reason == "unknown_type":
        domain, entity, _ = event_type.type.split(".")
        bad = f"{domain}.{entity}.{UNKNOWN_ACTIONS[int(rng.integers(0, len(UNKNOWN_ACTIONS)))]}"
        document["type"] = bad
        return _dumps(document), bad
    raise ValueError(f"unknown malformation {reason!r}")


def _dumps(document: dict[str, object]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
