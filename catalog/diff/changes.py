"""Every difference between two sides, breaking or not (pure: no git, no catalog).

Breaking, for readers: a column dropped, renamed (the one column of a type that left paired with
the one of that type that arrived), narrowed, or no longer guaranteed present / not null; an enum
narrowed; a key or grain changed; access closed; a contract no longer enforced; a model made
ephemeral; an extract's format changed; anything removed. Breaking for producers: a contract
field or column added as, or made, required (records without it are quarantined). Reported, but
breaking nobody: an optional or model column added, a type widened, an enum opened, a grain
first declared, a spec added. Contracts and models share the comparison; where their rules
differ (nullability, which types widen) the spec's kind decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from catalog.diff.specs import ColumnSpec, Schema, Spec
from catalog.diff.widening import type_change

if TYPE_CHECKING:
    from catalog.diff.consumers import Affected


@dataclass(frozen=True)
class Change:
    dataset: str
    column: str | None  # None: the whole dataset; for a rename, the old name
    kind: str  # dropped_column, renamed_column, narrowed_type, removed_model, changed_grain, …
    breaking: bool
    detail: str
    path: str  # the file that declares it (the base one when it was removed)
    new_column: str | None = None  # a rename's new name
    subject: str = ""  # the contract or model it is declared in (an event type for payloads)
    consumers: tuple[Affected, ...] = ()
    notes: tuple[str, ...] = ()  # how the consumers were found, where it is less than asked

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "new_column": self.new_column,
            "subject": self.subject,
            "change": self.kind,
            "breaking": self.breaking,
            "detail": self.detail,
            "path": self.path,
            "consumers": [a.as_dict() for a in self.consumers],
            "notes": list(self.notes),
        }


def _pair_renames(old: Spec, new: Spec, dropped: list[str], added: list[str]) -> dict[str, str]:
    """old name → new name where exactly one column of a declared type left and one arrived."""
    pairs = {}
    for name in dropped:
        column = old.column(name)
        if column is None or column.type is None:
            continue
        same_old = [d for d in dropped if (c := old.column(d)) and (c.type, c.enum) == (column.type, column.enum)]
        same_new = [a for a in added if (c := new.column(a)) and (c.type, c.enum) == (column.type, column.enum)]
        if len(same_old) == 1 and len(same_new) == 1:
            pairs[name] = same_new[0]
    return pairs


def _enum_change(old: ColumnSpec, new: ColumnSpec) -> tuple[str, bool, str] | None:
    if old.enum == new.enum or (old.enum and new.enum and set(old.enum) == set(new.enum)):
        return None
    if new.enum is None:
        return "widened_enum", False, "any value allowed now"
    if old.enum is None:
        return "narrowed_enum", True, f"only {', '.join(new.enum)} allowed now"
    gone, came = sorted(set(old.enum) - set(new.enum)), sorted(set(new.enum) - set(old.enum))
    if not gone:
        return "widened_enum", False, f"allows {', '.join(came)} too"
    return (
        "narrowed_enum",
        True,
        f"no longer allows {', '.join(gone)}" + (f"; allows {', '.join(came)}" if came else ""),
    )


def _required_change(spec: Spec, old: ColumnSpec, new: ColumnSpec) -> tuple[str, bool, str] | None:
    if old.required == new.required:
        return None
    if spec.kind == "model":
        if new.required:
            return "made_not_null", False, "now guaranteed not null"
        return "made_nullable", True, "no longer guaranteed not null: readers may see nulls"
    if new.required:
        return "made_required", True, "now required: records without it are quarantined (breaks producers)"
    return "made_optional", True, "no longer required: readers may see it missing or null"


def _column_changes(old: Spec, new: Spec) -> list[Change]:
    def change(column: str | None, kind: str, breaking: bool, detail: str, **extra: Any) -> Change:
        label = new.column_label(column) if column else None
        return Change(new.dataset, label, kind, breaking, detail, new.path, subject=new.key, **extra)

    prefix = f"{new.key}: " if new.kind == "event" else ""
    if old.columns is None or new.columns is None:
        if old.columns is not None:
            return [change(None, "undescribed_columns", True, "columns are no longer declared; cannot compare")]
        return []
    old_names, new_names = [c.name for c in old.columns], [c.name for c in new.columns]
    dropped = [n for n in old_names if n not in new_names]
    added = [n for n in new_names if n not in old_names]
    renames = _pair_renames(old, new, dropped, added)
    changes = []
    for name in dropped:
        column = old.column(name)
        assert column is not None
        if name in renames:
            target = renames[name]
            detail = f"{prefix}{name} → {target} ({column.type})"
            changes.append(change(name, "renamed_column", True, detail, new_column=new.column_label(target)))
        else:
            changes.append(change(name, "dropped_column", True, f"{prefix}{name} ({column.type or 'untyped'}) removed"))
    for name in added:
        column = new.column(name)
        assert column is not None
        if name in renames.values():
            continue
        typed = column.type or "untyped"
        if column.required and new.kind != "model":
            detail = f"{prefix}{name} ({typed}) added as required: producers that do not send it are quarantined"
            changes.append(change(name, "added_required", True, detail))
        else:
            guarantee = "not null" if column.required else "nullable" if new.kind == "model" else "optional"
            changes.append(change(name, "added_column", False, f"{prefix}{name} ({typed}, {guarantee}) added"))
    for name in (n for n in new_names if n in old_names):
        before, after = old.column(name), new.column(name)
        assert before is not None and after is not None
        retyped = type_change(new.kind, before.type, after.type)
        if retyped:
            detail = f"{prefix}{name}: {before.type or 'untyped'} → {after.type or 'untyped'}"
            changes.append(change(name, retyped[0], retyped[1], detail))
        for found in (_enum_change(before, after), _required_change(new, before, after)):
            if found:
                changes.append(change(name, found[0], found[1], f"{prefix}{name}: {found[2]}"))
    return changes


def _setting_changes(old: Spec, new: Spec) -> list[Change]:
    before, after = dict(old.settings), dict(new.settings)
    changes = []

    def add(kind: str, breaking: bool, key: str) -> None:
        detail = f"{key}: {before.get(key)} → {after.get(key)}"
        changes.append(Change(new.dataset, None, kind, breaking, detail, new.path, subject=new.key))

    if before.get("access") != after.get("access"):
        closed = before.get("access") == "public" or after.get("access") == "private"
        add("restricted_access" if closed else "opened_access", closed, "access")
    if before.get("contract") != after.get("contract"):
        dropped = after.get("contract") == "not enforced"
        add("unenforced_contract" if dropped else "enforced_contract", dropped, "contract")
    if before.get("materialized") != after.get("materialized"):
        gone = after.get("materialized") == "ephemeral"
        add("made_ephemeral" if gone else "changed_materialization", gone, "materialized")
    if before.get("format") != after.get("format"):
        add("changed_format", True, "format")
    return changes


def _grain_changes(old: Spec, new: Spec) -> list[Change]:
    before, after = old.grain, new.grain
    if before == after:
        return []
    text_before, text_after = dict(before).get("grain"), dict(after).get("grain")
    keys_before = [g for g in before if g[0] != "grain"]
    keys_after = [g for g in after if g[0] != "grain"]
    if keys_before == keys_after and text_before is None:
        detail = f"grain declared: {text_after}"
        return [Change(new.dataset, None, "declared_grain", False, detail, new.path, subject=new.key)]

    def show(grain: tuple[tuple[str, str], ...]) -> str:
        return "; ".join(f"{k} {v}" for k, v in grain) or "none declared"

    detail = f"{show(before)} → {show(after)}"
    return [Change(new.dataset, None, "changed_grain", True, detail, new.path, subject=new.key)]


_REMOVED = {"event": "removed_contract", "extract": "removed_extract", "model": "removed_model"}
_ADDED = {"event": "added_contract", "extract": "added_extract", "model": "added_model"}


def compare(old: Schema, new: Schema) -> list[Change]:
    """Every difference between two sides, breaking or not, without consumers (pure)."""
    changes: list[Change] = []
    for key in sorted(old.specs.keys() | new.specs.keys()):
        before, after = old.specs.get(key), new.specs.get(key)
        if after is None:
            assert before is not None
            detail = f"{before.key} removed" + (f" from {before.dataset}" if before.kind == "event" else "")
            changes.append(
                Change(before.dataset, None, _REMOVED[before.kind], True, detail, before.path, subject=before.key)
            )
        elif before is None:
            detail = f"{after.key} added" + (f" to {after.dataset}" if after.kind == "event" else "")
            changes.append(
                Change(after.dataset, None, _ADDED[after.kind], False, detail, after.path, subject=after.key)
            )
        else:
            changes += _column_changes(before, after) + _grain_changes(before, after) + _setting_changes(before, after)
    return sorted(changes, key=lambda c: (c.dataset, c.subject, c.column or "", c.kind))
