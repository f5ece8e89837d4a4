"""Declarations checked against what exists, and questions checked against what exists.

A declaration that is malformed or inconsistent stops the refresh with one `DeclarationError`
naming the file and every bad entry: an unknown dataset or column in consumers.yml (compared
with the manifest's models and landed datasets), a consumer without an owner, a principal
acting for an unknown consumer, a name declared twice (in a list or as a YAML key), a dbt
group that is not a domain. Nothing is skipped quietly: a wrong declaration would otherwise
turn into a wrong finding.

A question about an unknown dataset or column (`agora catalog impact sales_order`) fails with
the closest real names.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from catalog.access import Principal, datasets_from_manifest, load_access
from catalog.declarations import (
    Consumer,
    DeclarationError,
    Domain,
    load_consumers,
    load_domains,
    load_platform,
)
from catalog.inventory import Inventory, Owner
from pipelines.errors import AgoraError
from pipelines.home import catalog_dir

DECLARATION_FILES = ("domains.yml", "consumers.yml", "access.yml")


class UnknownNameError(AgoraError):
    """A question named a dataset or column the catalog does not know; the message suggests."""


@dataclass(frozen=True)
class Declarations:
    """Everything declared in one catalog folder (the repo's `catalog/` unless told otherwise)."""

    folder: Path
    domains: tuple[Domain, ...]
    platform: Domain
    consumers: tuple[Consumer, ...]
    principals: dict[str, Principal]

    @property
    def owners(self) -> dict[str, Owner]:
        """Domain (and the platform's dbt group) → owning team and contact."""
        return {d.name: Owner(d.team, d.contact) for d in (*self.domains, self.platform)}

    def _teams(self, principal: str) -> list[str]:
        """The principal, then the teams it belongs to, breadth first (access.yml has no cycles)."""
        order, queue = [], deque([principal])
        while queue:
            name = queue.popleft()
            if name in order or name not in self.principals:
                continue
            order.append(name)
            queue.extend(self.principals[name].member_of)
        return order

    def consumer_of(self, principal: str) -> str | None:
        """The consumer a principal acts for: its own `consumer:`, else its nearest team's."""
        for name in self._teams(principal):
            if self.principals[name].consumer:
                return self.principals[name].consumer
        return None

    def principals_of(self, consumer: str) -> tuple[str, ...]:
        return tuple(sorted(p for p in self.principals if self.consumer_of(p) == consumer))

    def contact_of(self, principal: str) -> str | None:
        for name in self._teams(principal):
            if self.principals[name].contact:
                return self.principals[name].contact
        return None

    def domains_of(self, principal: str) -> frozenset[str]:
        """The domains a principal works for: those whose contact is the principal's (or one of
        its teams') contact or its consumer's owner. Reading another domain's private data
        outside dbt is a bypass; reading one's own is not."""
        contacts = {self.principals[n].contact for n in self._teams(principal) if self.principals[n].contact}
        consumer = next((c for c in self.consumers if c.name == self.consumer_of(principal)), None)
        if consumer:
            contacts.add(consumer.owner_email)
        return frozenset(d.name for d in (*self.domains, self.platform) if d.contact in contacts)


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key written twice in one mapping (safe_load keeps the last one)."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[arg-type]
        if key in seen:
            raise DeclarationError(f"line {key_node.start_mark.line + 1}: {key!r} is declared twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def check_duplicate_keys(path: Path) -> None:
    try:
        yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except DeclarationError as exc:
        raise DeclarationError(f"{path}: {exc}") from None
    except yaml.YAMLError:
        return  # the regular loader reports malformed YAML with its own message


def load_declarations(manifest: dict, folder: Path | None = None) -> Declarations:
    """Read domains.yml, consumers.yml and access.yml from `folder` (default: the repo's catalog/).
    Access grants are resolved against the manifest's public models, as the gateway does."""
    folder = folder or catalog_dir()
    for name in DECLARATION_FILES:
        if (folder / name).exists():
            check_duplicate_keys(folder / name)
    domains = tuple(load_domains(folder / "domains.yml"))
    platform = load_platform(folder / "domains.yml")
    consumers = tuple(load_consumers(folder / "consumers.yml"))
    access = load_access(datasets_from_manifest(manifest), folder / "access.yml", folder / "consumers.yml")
    return Declarations(folder, domains, platform, consumers, dict(access.principals))


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not found:
        found = difflib.get_close_matches(name.lower(), [c.lower() for c in pool], n=n, cutoff=0.3)
    return found


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    found = closest(name, candidates)
    return f" (closest: {', '.join(found)})" if found else ""


def declared_problems(declarations: Declarations, inventory: Inventory) -> list[str]:
    """Every inconsistency between the declarations and the observed structure, one per entry."""
    problems = []
    consumers_file = declarations.folder / "consumers.yml"
    readable = {d.dataset for d in inventory.datasets.values() if d.domain is not None}
    columns = inventory.columns_of()
    for consumer in declarations.consumers:
        seen: set[str] = set()
        for read in consumer.reads:
            where = f"{consumers_file}: consumer {consumer.name!r}"
            if read.dataset in seen:
                problems.append(f"{where} declares {read.dataset!r} twice")
            seen.add(read.dataset)
            if read.dataset not in readable:
                problems.append(
                    f"{where} reads unknown dataset {read.dataset!r}{_did_you_mean(read.dataset, readable)}"
                )
                continue
            known = columns.get(read.dataset, ())
            repeated = sorted({c for c in read.columns if read.columns.count(c) > 1})
            if repeated:
                problems.append(f"{where} lists column(s) of {read.dataset} twice: {', '.join(repeated)}")
            for column in read.columns:
                if known and column not in known:
                    problems.append(
                        f"{where} reads unknown column {read.dataset}.{column}{_did_you_mean(column, known)}"
                    )
    domains = {d.name for d in (*declarations.domains, declarations.platform)}
    for dataset in sorted(inventory.datasets.values(), key=lambda d: d.dataset):
        if dataset.domain is not None and dataset.domain not in domains:
            kind = "landed dataset" if dataset.layer == "raw" else "dbt model"
            problems.append(
                f"{declarations.folder / 'domains.yml'}: {kind} {dataset.dataset!r} belongs to {dataset.domain!r}, "
                f"which is not a domain{_did_you_mean(dataset.domain, domains)}"
            )
    return problems


def validate(declarations: Declarations, inventory: Inventory) -> None:
    """Raise one DeclarationError listing every inconsistent entry (nothing is skipped)."""
    problems = declared_problems(declarations, inventory)
    if problems:
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DeclarationError("; ".join(problems[:10]) + more)


def resolve_target(
    text: str, columns: dict[str, tuple[str, ...]], aliases: dict[str, str] | None = None
) -> tuple[str, str | None]:
    """`DATASET` or `DATASET.COLUMN` → (dataset, column or None), for names like `order_to_cash`,
    `sales.customers` (landed) and `sales.customers.email`. `aliases` maps other names of a
    dataset (its relation, e.g. `raw_sales.customers`) to it. Unknown names fail with the
    closest real ones."""
    aliases = aliases or {}
    name = text.strip()
    lowered = name.lower()
    if lowered in columns or lowered in aliases:
        return aliases.get(lowered, lowered), None
    if "." in name:
        head, column = name.rsplit(".", 1)
        dataset = aliases.get(head.lower(), head.lower())
        if dataset in columns:
            known = columns[dataset]
            match = next((c for c in known if c.lower() == column.lower()), None)
            if match is None:
                raise UnknownNameError(f"{dataset} has no column {column!r}{_did_you_mean(column, known)}")
            return dataset, match
    raise UnknownNameError(f"unknown dataset {name!r}{_did_you_mean(name, columns)}")
