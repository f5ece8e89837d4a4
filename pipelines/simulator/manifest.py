"""The ground truth: what every landed file contains and what a correct loader must report.

Expected counts assume files are loaded in sorted relative-path order, as the brief for
the ingestion states; they are derived from the final placement of lines rather than
from the intended dirt, so they stay exact even where a split or a cap changes intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.simulator.config import MALFORMATION_REASONS, SimulationConfig
from pipelines.simulator.dirt import DomainLines, PlannedFile
from pipelines.simulator.extracts import SnapshotSpec

BREAKING_CHANGE = "breaking_change"


@dataclass(frozen=True)
class EventsFileCounts:
    records: int
    loaded: int
    duplicates: int
    quarantined: int
    duplicates_within_file: int
    duplicates_across_files: int
    late_events: int
    out_of_order: int


def count_events_files(lines: DomainLines) -> list[EventsFileCounts]:
    """Per planned file: what a loader reading the domain's files in path order must see."""
    n_files = len(lines.files)
    valid = np.flatnonzero(lines.malformation == 0)
    event = lines.event[valid]
    file_of = lines.file_index[valid]
    _, first, inverse = np.unique(event, return_index=True, return_inverse=True)
    is_first = np.zeros(valid.size, dtype=bool)
    is_first[first] = True
    first_file = file_of[first][inverse]
    within = ~is_first & (first_file == file_of)
    across = ~is_first & (first_file < file_of)

    def per_file(index: np.ndarray) -> list[int]:
        return np.bincount(index, minlength=n_files).astype(int).tolist()

    records = per_file(lines.file_index)
    loaded = per_file(file_of[is_first])
    within_counts = per_file(file_of[within])
    across_counts = per_file(file_of[across])
    quarantined = per_file(lines.file_index[lines.malformation > 0])
    late = per_file(lines.file_index[lines.late])
    displaced = per_file(lines.file_index[lines.out_of_order])
    return [
        EventsFileCounts(
            records=records[i],
            loaded=loaded[i],
            duplicates=within_counts[i] + across_counts[i],
            quarantined=quarantined[i],
            duplicates_within_file=within_counts[i],
            duplicates_across_files=across_counts[i],
            late_events=late[i],
            out_of_order=displaced[i],
        )
        for i in range(n_files)
    ]


def events_file_entry(
    domain: str,
    planned: PlannedFile,
    counts: EventsFileCounts,
    quarantine: list[dict[str, Any]],
) -> dict[str, Any]:
    if len(quarantine) != counts.quarantined:
        raise AssertionError(f"{planned.relative_path}: quarantine list and count disagree")
    return {
        "kind": "events",
        "domain": domain,
        "table": None,
        "records": counts.records,
        "expected": {
            "loaded": counts.loaded,
            "duplicates": counts.duplicates,
            "quarantined": counts.quarantined,
        },
        "quarantine": quarantine,
        "duplicates_within_file": counts.duplicates_within_file,
        "duplicates_across_files": counts.duplicates_across_files,
        "late_events": counts.late_events,
        "out_of_order": counts.out_of_order,
        "drift": None,
    }


def extract_file_entry(spec: SnapshotSpec, rows: int) -> dict[str, Any]:
    """A breaking snapshot is quarantined whole (one entry naming the renamed column)."""
    breaking = spec.drift is not None and spec.drift["kind"] == "breaking"
    quarantine: list[dict[str, Any]] = []
    if breaking:
        assert spec.drift is not None
        for column in spec.drift["renamed"]:
            quarantine.append({"line": None, "reason": BREAKING_CHANGE, "detail": column})
    return {
        "kind": "extract",
        "domain": spec.domain,
        "table": spec.table,
        "records": rows,
        "expected": {
            "loaded": 0 if breaking else rows,
            "duplicates": 0,
            "quarantined": rows if breaking else 0,
        },
        "quarantine": quarantine,
        "duplicates_within_file": 0,
        "duplicates_across_files": 0,
        "late_events": 0,
        "out_of_order": 0,
        "drift": spec.drift,
    }


def build_manifest(
    config: SimulationConfig, files: dict[str, dict[str, Any]], domains: tuple[str, ...]
) -> dict[str, Any]:
    """Config, per-file entries (sorted by path) and totals.

    `quarantined_by_reason` counts event lines per reason and, under `breaking_change`,
    the rows of blocked extract snapshots.
    """
    ordered = dict(sorted(files.items()))
    by_reason = {reason: 0 for reason in (*MALFORMATION_REASONS, BREAKING_CHANGE)}
    by_domain = {domain: {"events": 0, "lines": 0} for domain in domains}
    totals = {
        "events": 0,
        "lines": 0,
        "duplicates_within_file": 0,
        "duplicates_across_files": 0,
        "late_events": 0,
        "out_of_order": 0,
    }
    for entry in ordered.values():
        if entry["kind"] == "extract":
            if entry["expected"]["quarantined"]:
                by_reason[BREAKING_CHANGE] += entry["expected"]["quarantined"]
            continue
        totals["events"] += entry["expected"]["loaded"]
        totals["lines"] += entry["records"]
        for key in (
            "duplicates_within_file",
            "duplicates_across_files",
            "late_events",
            "out_of_order",
        ):
            totals[key] += entry[key]
        by_domain[entry["domain"]]["events"] += entry["expected"]["loaded"]
        by_domain[entry["domain"]]["lines"] += entry["records"]
        for item in entry["quarantine"]:
            by_reason[item["reason"]] += 1
    return {
        "config": config.to_dict(),
        "files": ordered,
        "totals": {
            **totals,
            "quarantined_by_reason": by_reason,
            "by_domain": by_domain,
        },
    }
