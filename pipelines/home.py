"""Where an Agora installation keeps its state: landing zone, warehouse, snapshots, run history."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path(".agora")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> Home:
        """`--home` wins, then `AGORA_HOME`, then `./.agora`."""
        chosen = home or os.environ.get("AGORA_HOME") or DEFAULT_HOME
        return cls(Path(chosen).expanduser().absolute())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> str:
        """The warehouse database. A path by default; `AGORA_WAREHOUSE` may name any DuckDB
        database string (e.g. `md:agora`) so nothing downstream assumes a local file."""
        return os.environ.get("AGORA_WAREHOUSE") or str(self.root / "warehouse.duckdb")

    @property
    def serving(self) -> Path:
        return self.root / "serving.duckdb"

    @property
    def simulation(self) -> Path:
        return self.root / "simulation"

    @property
    def manifest(self) -> Path:
        return self.simulation / "manifest.json"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> Home:
        self.root.mkdir(parents=True, exist_ok=True)
        return self


def contracts_dir() -> Path:
    return Path(os.environ.get("AGORA_CONTRACTS") or REPO_ROOT / "catalog" / "contracts")


def catalog_dir() -> Path:
    """domains.yml, consumers.yml and access.yml: the repo's, unless AGORA_CATALOG_DIR names
    another folder (a domain team trying a change; tests) — every reader honours it."""
    return Path(os.environ.get("AGORA_CATALOG_DIR") or REPO_ROOT / "catalog")
