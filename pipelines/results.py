"""What landing one file did, in numbers that must reconcile (DESIGN.md, guarantee 1)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileResult:
    rel: str
    domain: str
    kind: str
    dataset: str
    sha256: str
    bytes: int
    records: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    status: str = "landed"  # landed | blocked | replayed | rejected
    detail: str | None = None
    schema_change: dict | None = None

    @property
    def balanced(self) -> bool:
        return self.records == self.loaded + self.duplicates + self.quarantined


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    skipped_known: int = 0
    seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        counted = [f for f in self.files if f.status in ("landed", "blocked")]
        return {
            "files": len(counted),
            "records": sum(f.records for f in counted),
            "loaded": sum(f.loaded for f in counted),
            "duplicates": sum(f.duplicates for f in counted),
            "quarantined": sum(f.quarantined for f in counted),
            "blocked_files": sum(1 for f in self.files if f.status == "blocked"),
            "replayed_files": sum(1 for f in self.files if f.status == "replayed"),
            "rejected_files": sum(1 for f in self.files if f.status == "rejected"),
            "unchanged_files": self.skipped_known,
        }

    def by_domain(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for f in self.files:
            if f.status not in ("landed", "blocked"):
                continue
            row = result.setdefault(
                f.domain, {"files": 0, "records": 0, "loaded": 0, "duplicates": 0, "quarantined": 0}
            )
            row["files"] += 1
            for key in ("records", "loaded", "duplicates", "quarantined"):
                row[key] += getattr(f, key)
        return dict(sorted(result.items()))

    def as_dict(self) -> dict:
        return {
            "totals": self.totals(),
            "by_domain": self.by_domain(),
            "seconds": round(self.seconds, 3),
            "files": [
                {
                    "path": f.rel,
                    "dataset": f.dataset,
                    "status": f.status,
                    "records": f.records,
                    "loaded": f.loaded,
                    "duplicates": f.duplicates,
                    "quarantined": f.quarantined,
                    "detail": f.detail,
                    **({"schema_change": f.schema_change} if f.schema_change else {}),
                }
                for f in self.files
            ],
        }
