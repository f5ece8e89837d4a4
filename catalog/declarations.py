"""Read the catalog's declarations: domains.yml and consumers.yml (contracts: pipelines.contracts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines import yaml_text
from pipelines.errors import AgoraError
from pipelines.home import catalog_dir


class DeclarationError(AgoraError):
    """A declaration file is malformed or inconsistent; the message names the file and entry."""


@dataclass(frozen=True)
class Domain:
    name: str
    team: str
    contact: str
    description: str
    sla_hours: int


@dataclass(frozen=True)
class Read:
    dataset: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Consumer:
    name: str
    type: str
    owner_name: str
    owner_email: str
    maturity: str
    url: str
    description: str
    reads: tuple[Read, ...] = field(default_factory=tuple)


def _load(path: Path) -> dict:
    if not path.exists():
        raise DeclarationError(f"{path} does not exist")
    try:
        doc = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise DeclarationError(f"{path}: expected a mapping at the top level")
    return doc


def load_domains(path: Path | None = None) -> list[Domain]:
    path = path or catalog_dir() / "domains.yml"
    result = []
    for i, entry in enumerate(_load(path).get("domains") or []):
        missing = [k for k in ("name", "team", "contact") if not entry.get(k)]
        if missing:
            raise DeclarationError(f"{path}: domain #{i + 1} ({entry.get('name', '?')}) lacks {', '.join(missing)}")
        result.append(
            Domain(
                name=str(entry["name"]),
                team=str(entry["team"]),
                contact=str(entry["contact"]),
                description=str(entry.get("description", "")),
                sla_hours=int(entry.get("sla_hours", 24)),
            )
        )
    names = [d.name for d in result]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DeclarationError(f"{path}: domain(s) declared twice: {', '.join(duplicated)}")
    return result


def load_platform(path: Path | None = None) -> Domain:
    """The owner of the cross-domain marts (the `platform:` entry of domains.yml)."""
    path = path or catalog_dir() / "domains.yml"
    entry = _load(path).get("platform") or {}
    missing = [k for k in ("name", "team", "contact") if not entry.get(k)]
    if missing:
        raise DeclarationError(f"{path}: platform lacks {', '.join(missing)}")
    return Domain(
        name=str(entry["name"]),
        team=str(entry["team"]),
        contact=str(entry["contact"]),
        description=str(entry.get("description", "")),
        sla_hours=int(entry.get("sla_hours", 24)),
    )


def load_consumers(path: Path | None = None) -> list[Consumer]:
    path = path or catalog_dir() / "consumers.yml"
    result = []
    for i, entry in enumerate(_load(path).get("consumers") or []):
        name = entry.get("name")
        owner = entry.get("owner") or {}
        if not name:
            raise DeclarationError(f"{path}: consumer #{i + 1} has no name")
        if not owner.get("name") or not owner.get("email"):
            raise DeclarationError(f"{path}: consumer {name!r} has no owner (name and email)")
        reads = []
        for read in entry.get("reads") or []:
            if isinstance(read, str):
                reads.append(Read(read))
            elif isinstance(read, dict) and read.get("dataset"):
                reads.append(Read(str(read["dataset"]), tuple(read.get("columns") or ())))
            else:
                raise DeclarationError(f"{path}: consumer {name!r} has a read without a dataset")
        result.append(
            Consumer(
                name=str(name),
                type=str(entry.get("type", "analysis")),
                owner_name=str(owner["name"]),
                owner_email=str(owner["email"]),
                maturity=str(entry.get("maturity", "medium")),
                url=str(entry.get("url", "")),
                description=str(entry.get("description", "")),
                reads=tuple(reads),
            )
        )
    names = [c.name for c in result]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DeclarationError(f"{path}: consumer(s) declared twice: {', '.join(duplicated)}")
    return result
