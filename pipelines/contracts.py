"""Read the data contracts in catalog/contracts/ into typed objects.

Contracts are declarations reviewed like code; this module only parses and validates them.
Turning them into set-based checks is `pipelines.checks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from pipelines import yaml_text
from pipelines.errors import ContractError
from pipelines.home import contracts_dir

FIELD_TYPES = ("string", "integer", "number", "boolean", "timestamp", "date")
DOMAINS = ("sales", "finance", "marketing", "support", "devops", "qa")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_TYPE = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+$")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    pii: bool = False
    description: str = ""


@dataclass(frozen=True)
class EventContract:
    type: str
    domain: str
    version: str
    description: str
    fields: tuple[Field, ...]
    path: Path

    @property
    def name(self) -> str:
        return self.type


@dataclass(frozen=True)
class ExtractContract:
    table: str
    domain: str
    version: str
    format: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Field, ...]
    path: Path

    @property
    def name(self) -> str:
        return f"{self.domain}.{self.table}"

    def column(self, name: str) -> Field | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Contracts:
    events: dict[str, EventContract] = field(default_factory=dict)
    extracts: dict[str, ExtractContract] = field(default_factory=dict)

    def event_types(self, domain: str) -> list[EventContract]:
        return [c for c in self.events.values() if c.domain == domain]

    def extract(self, domain: str, table: str) -> ExtractContract | None:
        return self.extracts.get(f"{domain}.{table}")

    def extract_tables(self, domain: str) -> list[ExtractContract]:
        return [c for c in self.extracts.values() if c.domain == domain]


def _fields(raw: object, where: str) -> tuple[Field, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ContractError(f"{where}: expected a mapping of field name to spec")
    result = []
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise ContractError(f"{where}: field {name!r} must be a mapping")
        unknown = set(spec) - {"type", "required", "enum", "pii", "description"}
        if unknown:
            raise ContractError(f"{where}: field {name!r} has unknown keys {sorted(unknown)}")
        ftype = spec.get("type")
        if ftype not in FIELD_TYPES:
            raise ContractError(f"{where}: field {name!r} has type {ftype!r}; expected one of {', '.join(FIELD_TYPES)}")
        enum = spec.get("enum")
        if enum is not None and (not isinstance(enum, list) or not enum):
            raise ContractError(f"{where}: field {name!r}: enum must be a non-empty list")
        result.append(
            Field(
                name=str(name),
                type=ftype,
                required=bool(spec.get("required", False)),
                enum=tuple(str(v) for v in enum) if enum else None,
                pii=bool(spec.get("pii", False)),
                description=str(spec.get("description", "")),
            )
        )
    return tuple(result)


def _common(doc: dict, path: Path) -> tuple[str, str, str]:
    domain = doc.get("domain")
    if domain not in DOMAINS:
        raise ContractError(f"{path}: domain {domain!r} is not one of {', '.join(DOMAINS)}")
    version = str(doc.get("version", ""))
    if not _VERSION.match(version):
        raise ContractError(f"{path}: version {version!r} is not MAJOR.MINOR.PATCH")
    return domain, version, str(doc.get("description", ""))


def parse_contract(path: Path) -> EventContract | ExtractContract:
    try:
        doc = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: expected a mapping at the top level")
    domain, version, description = _common(doc, path)
    kind = doc.get("kind")
    if kind == "event":
        etype = str(doc.get("type", ""))
        if not _TYPE.match(etype) or not etype.startswith(f"{domain}."):
            raise ContractError(f"{path}: type {etype!r} must read '{domain}.<entity>.<action>'")
        return EventContract(etype, domain, version, description, _fields(doc.get("fields"), str(path)), path)
    if kind == "extract":
        table = str(doc.get("table", ""))
        if not re.match(r"^[a-z][a-z0-9_]*$", table):
            raise ContractError(f"{path}: table {table!r} must be a lowercase identifier")
        columns = _fields(doc.get("columns"), str(path))
        pk = tuple(doc.get("primary_key") or ())
        names = {c.name for c in columns}
        if not pk or any(k not in names for k in pk):
            raise ContractError(f"{path}: primary_key {list(pk)} must name columns of the contract")
        fmt = doc.get("format")
        if fmt not in ("csv", "parquet"):
            raise ContractError(f"{path}: format {fmt!r} must be csv or parquet")
        return ExtractContract(table, domain, version, fmt, description, pk, columns, path)
    raise ContractError(f"{path}: kind {kind!r} must be 'event' or 'extract'")


@cache
def _load(root: Path) -> Contracts:
    if not root.is_dir():
        raise ContractError(f"contracts folder {root} does not exist")
    contracts = Contracts()
    for path in sorted(root.rglob("*.yml")):
        contract = parse_contract(path)
        book: dict = contracts.events if isinstance(contract, EventContract) else contracts.extracts
        if contract.name in book:
            raise ContractError(f"{path}: {contract.name} is already defined in {book[contract.name].path}")
        book[contract.name] = contract
    return contracts


def load_contracts(root: Path | None = None) -> Contracts:
    """All contracts under `root` (default: the repo's catalog/contracts)."""
    return _load((root or contracts_dir()).resolve())
