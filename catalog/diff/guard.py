"""The guard itself: both sides read and parsed, compared, and each breaking change given the
consumers it breaks. Pure but for git: `who_breaks` is injected, so a test (or another caller)
decides where consumers come from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog.diff.changes import Change, compare
from catalog.diff.consumers import WhoBreaks, attach_consumers
from catalog.diff.contract_specs import contract_specs
from catalog.diff.errors import DiffError
from catalog.diff.model_specs import model_specs
from catalog.diff.revisions import read_revision, read_working_tree, resolve_revision
from catalog.diff.specs import Schema, Spec


@dataclass(frozen=True)
class DiffResult:
    base: str
    commit: str
    consumers_source: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def as_dict(self) -> dict[str, object]:
        return {
            "base": self.base,
            "commit": self.commit,
            "consumers_source": self.consumers_source,
            "breaking": self.breaking,
            "changes": [c.as_dict() for c in self.changes],
        }


def load_schema(files: Mapping[str, str], label: str = "") -> Schema:
    """Parse one side. `label` prefixes file names in error messages (e.g. 'main:')."""
    specs: dict[tuple[str, str], Spec] = {}
    for spec in contract_specs(files, label):
        known = specs.get((spec.kind, spec.key))
        if known:
            raise DiffError(f"{label}{spec.path}: {spec.key} is already defined in {known.path}")
        specs[(spec.kind, spec.key)] = spec
    models, sql = model_specs(files, label)
    specs.update({(m.kind, m.key): m for m in models})
    return Schema(specs, sql)


def diff(repo: Path, base: str, who_breaks: WhoBreaks, consumers_source: str = "") -> DiffResult:
    """Compare contracts and dbt models at `base` with the working tree of `repo`."""
    commit = resolve_revision(repo, base)
    old = load_schema(read_revision(repo, commit), f"{base}:")
    new = load_schema(read_working_tree(repo))
    changes = attach_consumers(compare(old, new), who_breaks, old, new)
    return DiffResult(base, commit, consumers_source, tuple(changes))
