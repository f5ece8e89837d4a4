"""Find the files microsites dropped in the landing zone and say what each one is.

Layout (DESIGN.md):
    <landing>/<domain>/events/<anything>.jsonl[.gz]
    <landing>/<domain>/extracts/<table>/<snapshot-timestamp>.(csv|parquet)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.contracts import DOMAINS, Contracts

_SNAPSHOT_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H-%M-%SZ", "%Y-%m-%dT%H%M%SZ", "%Y%m%d", "%Y-%m-%d")
_EVENT_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_EXTRACT_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass(frozen=True)
class LandedFile:
    path: Path
    rel: str  # relative to the landing folder, '/'-separated: the name people and ops.* use
    domain: str
    kind: str  # "events" | "extract"
    table: str | None = None
    snapshot_at: datetime | None = None

    @property
    def dataset(self) -> str:
        return f"{self.domain}.{self.table}" if self.table else f"{self.domain}.events"


@dataclass(frozen=True)
class Rejected:
    path: Path
    rel: str
    reason: str


def parse_snapshot_time(stem: str) -> datetime | None:
    for fmt in _SNAPSHOT_FORMATS:
        try:
            return datetime.strptime(stem, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str | None:
    return next((name[: -len(s)] for s in suffixes if name.endswith(s)), None)


def classify(path: Path, landing: Path, contracts: Contracts) -> LandedFile | Rejected | None:
    """What a path in the landing zone is; None for files that are not data (dotfiles, temp)."""
    rel = path.relative_to(landing).as_posix()
    parts = rel.split("/")
    if any(p.startswith(".") or p.startswith("_") for p in parts) or path.name.endswith((".tmp", ".partial")):
        return None
    domain = parts[0]
    if domain not in DOMAINS:
        return Rejected(path, rel, f"unknown domain folder {domain!r} (expected one of {', '.join(DOMAINS)})")
    if len(parts) >= 3 and parts[1] == "events":
        if _strip_suffix(path.name, _EVENT_SUFFIXES) is None:
            return Rejected(path, rel, "an events file must end in .jsonl or .jsonl.gz")
        return LandedFile(path, rel, domain, "events")
    if len(parts) == 4 and parts[1] == "extracts":
        table = parts[2]
        if contracts.extract(domain, table) is None:
            return Rejected(path, rel, f"no contract for extract {domain}.{table} in catalog/contracts/extracts/")
        stem = _strip_suffix(path.name, _EXTRACT_SUFFIXES)
        if stem is None:
            return Rejected(path, rel, "an extract snapshot must be .csv, .csv.gz or .parquet")
        snapshot_at = parse_snapshot_time(stem)
        if snapshot_at is None:
            return Rejected(path, rel, f"file name {stem!r} is not a snapshot timestamp like 20261001T000000Z")
        return LandedFile(path, rel, domain, "extract", table, snapshot_at)
    return Rejected(path, rel, "not in <domain>/events/ or <domain>/extracts/<table>/")


def discover(landing: Path, contracts: Contracts) -> tuple[list[LandedFile], list[Rejected]]:
    """Every data file under `landing`, in sorted path order (the order files are loaded in)."""
    files: list[LandedFile] = []
    rejected: list[Rejected] = []
    paths = [Path(root) / name for root, _, names in os.walk(landing, followlinks=True) for name in names]
    # a dangling symlink is kept, so it is reported as unreadable instead of silently skipped
    for path in sorted(p for p in paths if p.is_file() or p.is_symlink()):
        found = classify(path, landing, contracts)
        if isinstance(found, LandedFile):
            files.append(found)
        elif isinstance(found, Rejected):
            rejected.append(found)
    files.sort(key=lambda f: f.rel)
    return files, rejected
