"""Who may read what: catalog/access.yml, the datasets it governs, and the bulk permission check.

A dataset is a relation of the serving snapshot (a domain's public model or a mart), described
by the dbt manifest (domain = dbt group, PII = column meta `pii: true`) and, for raw datasets,
by catalog/contracts. `Access.check(principal)` answers for every dataset at once: allowed or
denied, the rule that decided it, and the columns masked for that principal (DESIGN.md,
guarantee 6). Nothing here opens a database; `load_datasets` reads files only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from catalog.declarations import DeclarationError, load_consumers, load_domains, load_platform
from pipelines import yaml_text
from pipelines.home import REPO_ROOT, Home, catalog_dir

PRINCIPAL_KINDS = ("person", "team", "service_account", "ai_agent")
GRANT_KINDS = ("dataset", "domain", "tag", "all")
SCHEMA_TAGS = {"marts": "mart", "public": "public", "catalog": "catalog"}


class UnknownPrincipalError(DeclarationError):
    """The principal is not declared in access.yml; it is denied everything."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""
    description: str = ""
    pii: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str
    schema: str
    domain: str
    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    view_sql: str | None = None  # set when the relation is a view: what it reads is checked too
    table: str = ""  # the relation's name in its schema, when it differs from the dataset's name

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table or self.name}"

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)


@dataclass(frozen=True)
class Grant:
    kind: str  # dataset | domain | tag | all
    value: str
    via: str  # where the grant comes from, e.g. "role finance-reader" or "principal sales-analyst"

    def matches(self, dataset: Dataset) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "dataset":
            return self.value in (dataset.name, dataset.relation)
        if self.kind == "domain":
            return dataset.domain == self.value
        return self.value in dataset.tags

    @property
    def rule(self) -> str:
        target = "all datasets" if self.kind == "all" else f"{self.kind} {self.value}"
        return f"{self.via} grants {target}"


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str
    description: str = ""
    contact: str = ""
    consumer: str | None = None
    roles: tuple[str, ...] = ()
    member_of: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()
    pii_cleared: bool = False


@dataclass(frozen=True)
class Role:
    name: str
    description: str = ""
    grants: tuple[Grant, ...] = ()
    pii_cleared: bool = False


@dataclass(frozen=True)
class Decision:
    dataset: str
    relation: str
    domain: str
    allowed: bool
    rule: str
    masked_columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "relation": self.relation,
            "domain": self.domain,
            "allowed": self.allowed,
            "rule": self.rule,
            "masked_columns": list(self.masked_columns),
        }


@dataclass(frozen=True)
class Permissions:
    """Every permission of one principal: the answer of one bulk check."""

    principal: str
    kind: str
    pii_cleared: bool
    pii_rule: str
    decisions: tuple[Decision, ...] = field(default_factory=tuple)

    def decision(self, dataset: str) -> Decision | None:
        """The decision about a dataset, by name or by relation (`schema.table`)."""
        return self._index.get(dataset)

    @cached_property
    def _index(self) -> dict[str, Decision]:
        index: dict[str, Decision] = {}
        for decision in self.decisions:  # the first decision naming it wins, as a scan would find it
            index.setdefault(decision.dataset, decision)
            index.setdefault(decision.relation, decision)
        return index

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(d.dataset for d in self.decisions if d.allowed)

    def as_dict(self) -> dict[str, object]:
        return {
            "principal": self.principal,
            "kind": self.kind,
            "pii_cleared": self.pii_cleared,
            "pii_rule": self.pii_rule,
            "datasets": [d.as_dict() for d in self.decisions],
        }


class Access:
    """The declarations of access.yml resolved against the datasets they govern."""

    def __init__(
        self,
        principals: dict[str, Principal],
        roles: dict[str, Role],
        datasets: dict[str, Dataset],
        source: str = "access.yml",
    ) -> None:
        self.principals = principals
        self.roles = roles
        self.datasets = datasets
        self.source = source
        self._validate()

    def _validate(self) -> None:
        domains = {d.domain for d in self.datasets.values()}
        tags = {t for d in self.datasets.values() for t in d.tags} | set(SCHEMA_TAGS.values()) | {"pii"}
        grants = [g for r in self.roles.values() for g in r.grants] + [
            g for p in self.principals.values() for g in p.grants
        ]
        for grant in grants:
            known = {
                "dataset": {n for d in self.datasets.values() for n in (d.name, d.relation)},
                "domain": domains,
                "tag": tags,
                "all": {"true"},
            }[grant.kind]
            if grant.value not in known:
                raise DeclarationError(f"{self.source}: {grant.via} grants unknown {grant.kind} {grant.value!r}")
        for principal in self.principals.values():
            for role in principal.roles:
                if role not in self.roles:
                    raise DeclarationError(f"{self.source}: principal {principal.name!r} has unknown role {role!r}")
            for team in principal.member_of:
                if team not in self.principals:
                    raise DeclarationError(
                        f"{self.source}: principal {principal.name!r} is a member of unknown {team!r}"
                    )
            self._lineage(principal.name, ())

    def _lineage(self, name: str, seen: tuple[str, ...]) -> list[Principal]:
        """The principal and every team it belongs to, transitively (cycles are an error)."""
        if name in seen:
            raise DeclarationError(f"{self.source}: membership cycle {' -> '.join((*seen, name))}")
        principal = self.principals[name]
        result = [principal]
        for team in principal.member_of:
            result.extend(self._lineage(team, (*seen, name)))
        return result

    def principal(self, name: str) -> Principal:
        if name not in self.principals:
            raise UnknownPrincipalError(
                f"unknown principal {name!r}: it is not declared in {self.source}, so it is denied everything"
            )
        return self.principals[name]

    def grants(self, name: str) -> list[Grant]:
        result: list[Grant] = []
        for member in self._lineage(self.principal(name).name, ()):
            result.extend(member.grants)
            for role in member.roles:
                for grant in self.roles[role].grants:
                    result.append(Grant(grant.kind, grant.value, f"role {role} (of {member.name})"))
        return result

    def pii_clearance(self, name: str) -> tuple[bool, str]:
        for member in self._lineage(self.principal(name).name, ()):
            if member.pii_cleared:
                return True, f"principal {member.name} is PII cleared"
            for role in member.roles:
                if self.roles[role].pii_cleared:
                    return True, f"role {role} is PII cleared"
        return False, "not PII cleared: PII columns are masked"

    def check(self, name: str) -> Permissions:
        """The bulk check: every dataset, allowed or denied, the deciding rule, masked columns.

        The deciding grant is the first one (in `grants` order) that matches; grants are indexed
        by what they name, so each dataset costs a few dictionary look-ups, not a scan of grants."""
        principal = self.principal(name)
        grants = self.grants(name)
        cleared, pii_rule = self.pii_clearance(name)
        first: dict[tuple[str, str], int] = {}
        for i, each in enumerate(grants):
            first.setdefault((each.kind, each.value), i)
        everything = first.get(("all", "true"))
        denied = "no grant matches (denied by default)"
        decisions = []
        for dataset in self._ordered:
            relation = dataset.relation
            matched = [
                i
                for i in (
                    everything,
                    first.get(("dataset", dataset.name)),
                    first.get(("dataset", relation)),
                    first.get(("domain", dataset.domain)),
                    *(first.get(("tag", tag)) for tag in dataset.tags),
                )
                if i is not None
            ]
            grant = grants[min(matched)] if matched else None
            decisions.append(
                Decision(
                    dataset.name,
                    relation,
                    dataset.domain,
                    grant is not None,
                    grant.rule if grant else denied,
                    () if cleared or grant is None else dataset.pii_columns,
                )
            )
        return Permissions(principal.name, principal.kind, cleared, pii_rule, tuple(decisions))

    @property
    def _ordered(self) -> list[Dataset]:
        key = id(self.datasets), len(self.datasets)
        if getattr(self, "_order_key", None) != key:
            self._order = sorted(self.datasets.values(), key=lambda d: (d.schema, d.name))
            self._order_key = key
        return self._order


def _grants(entries: object, via: str, path: Path) -> tuple[Grant, ...]:
    result = []
    for entry in entries or []:  # type: ignore[attr-defined]
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in GRANT_KINDS:
            raise DeclarationError(f"{path}: {via} has a grant that is not one of {', '.join(GRANT_KINDS)}: {entry!r}")
        kind, value = next(iter(entry.items()))
        if kind == "all" and value is not True:
            raise DeclarationError(f"{path}: {via}: write `all: true` to grant everything")
        result.append(Grant(kind, "true" if kind == "all" else str(value), via))
    return tuple(result)


def load_access(datasets: dict[str, Dataset], path: Path | None = None, consumers_path: Path | None = None) -> Access:
    path = path or catalog_dir() / "access.yml"
    if not path.exists():
        raise DeclarationError(f"{path} does not exist")
    try:
        doc = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise DeclarationError(f"{path}: expected a mapping at the top level")
    roles = {}
    for name, entry in (doc.get("roles") or {}).items():
        entry = entry or {}
        roles[str(name)] = Role(
            name=str(name),
            description=str(entry.get("description", "")),
            grants=_grants(entry.get("grants"), f"role {name}", path),
            pii_cleared=bool(entry.get("pii_cleared", False)),
        )
    consumers = {c.name for c in load_consumers(consumers_path)}
    principals: dict[str, Principal] = {}
    for i, entry in enumerate(doc.get("principals") or []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not name:
            raise DeclarationError(f"{path}: principal #{i + 1} has no name")
        if name in principals:
            raise DeclarationError(f"{path}: principal {name!r} is declared twice")
        kind = entry.get("kind")
        if kind not in PRINCIPAL_KINDS:
            raise DeclarationError(
                f"{path}: principal {name!r} has kind {kind!r}; use one of {', '.join(PRINCIPAL_KINDS)}"
            )
        consumer = entry.get("consumer")
        if consumer and consumer not in consumers:
            raise DeclarationError(f"{path}: principal {name!r} names unknown consumer {consumer!r} (consumers.yml)")
        principals[str(name)] = Principal(
            name=str(name),
            kind=str(kind),
            description=str(entry.get("description", "")),
            contact=str(entry.get("contact", "")),
            consumer=str(consumer) if consumer else None,
            roles=tuple(str(r) for r in entry.get("roles") or ()),
            member_of=tuple(str(m) for m in entry.get("member_of") or ()),
            grants=_grants(entry.get("grants"), f"principal {name}", path),
            pii_cleared=bool(entry.get("pii_cleared", False)),
        )
    return Access(principals, roles, datasets, source=str(path))


def manifest_path(home: Home) -> Path:
    """The home's last dbt build, else the project manifest `make setup` prepares."""
    home_manifest = home.root / "dbt" / "target" / "manifest.json"
    return home_manifest if home_manifest.exists() else REPO_ROOT / "target" / "manifest.json"


def _is_pii(column: dict) -> bool:
    meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
    return bool(meta.get("pii"))


def datasets_from_manifest(manifest: dict) -> dict[str, Dataset]:
    """Public dbt models (domain interfaces and marts) as datasets; PII from column meta."""
    owners = {d.name: d.team for d in load_domains()}
    platform = load_platform()
    owners[platform.name] = platform.team
    result = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("access") != "public":
            continue
        schema = node["schema"]
        columns = tuple(
            Column(name, str(c.get("data_type") or ""), str(c.get("description") or ""), _is_pii(c))
            for name, c in (node.get("columns") or {}).items()
        )
        tags = {*node.get("tags", ()), *((node.get("config") or {}).get("tags") or ())}
        tags.add(SCHEMA_TAGS.get(schema, schema))
        if any(c.pii for c in columns):
            tags.add("pii")
        domain = node.get("group") or platform.name
        result[node["name"]] = Dataset(
            name=node["name"],
            schema=schema,
            domain=domain,
            owner=owners.get(domain, ""),
            description=str(node.get("description") or ""),
            tags=tuple(sorted(tags)),
            columns=columns,
        )
    return result


def contract_pii() -> dict[str, tuple[str, ...]]:
    """PII columns of raw datasets, from catalog/contracts (relation `raw_<domain>.<table>`)."""
    from pipelines.home import contracts_dir

    result = {}
    for path in sorted((contracts_dir() / "extracts").glob("*.yml")):
        doc = yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
        pii = tuple(n for n, c in (doc.get("columns") or {}).items() if isinstance(c, dict) and c.get("pii"))
        if pii and doc.get("domain") and doc.get("table"):
            result[f"raw_{doc['domain']}.{doc['table']}"] = pii
    return result


def merge_serving(
    datasets: dict[str, Dataset], relations: list[tuple[str, str, str, list[tuple[str, str]]]]
) -> dict[str, Dataset]:
    """Add what the serving snapshot holds: its column types, its views, and relations dbt does
    not describe (named `schema.table`, tagged by schema, owned by the platform). `relations` is
    (schema, name, view_sql or "", [(column, type)])."""
    platform = load_platform()
    raw_pii = contract_pii()
    result = dict(datasets)
    for schema, name, view_sql, columns in relations:
        known = result.get(name)
        if known and known.schema == schema:
            described = {c.name: c for c in known.columns}
            merged = tuple(
                Column(col, typ, described[col].description if col in described else "", col in known.pii_columns)
                for col, typ in columns
            )
            result[name] = Dataset(
                known.name,
                schema,
                known.domain,
                known.owner,
                known.description,
                known.tags,
                merged,
                view_sql or None,
            )
            continue
        pii = raw_pii.get(f"{schema}.{name}", ())
        tags = {SCHEMA_TAGS.get(schema, schema)} | ({"pii"} if pii else set())
        key = name if name not in result else f"{schema}.{name}"
        result[key] = Dataset(
            name=key,
            schema=schema,
            domain=schema.removeprefix("raw_") if schema.startswith("raw_") else platform.name,
            owner=platform.team,
            description=f"{schema}.{name} in the serving snapshot (not a dbt model)",
            tags=tuple(sorted(tags)),
            columns=tuple(Column(col, typ, "", col in pii) for col, typ in columns),
            view_sql=view_sql or None,
            table=name,
        )
    return result


def load_datasets(home: Home, serving_relations: list | None = None) -> dict[str, Dataset]:
    path = manifest_path(home)
    if not path.exists():
        raise DeclarationError(f"no dbt manifest at {path}: run `agora run` (or `make setup`) first")
    datasets = datasets_from_manifest(json.loads(path.read_text(encoding="utf-8")))
    return merge_serving(datasets, serving_relations) if serving_relations else datasets
