"""Who each breaking change breaks: the question put to a `who_breaks`, and the routing a
payload change needs.

`who_breaks(dataset, column)` names everything downstream of a dataset (or one of its columns)
and every consumer that reads it; the catalog's impact sets answer it when the serving snapshot
has them (catalog/diff/catalog_consumers.py), the declarations otherwise
(catalog/diff/declared_consumers.py). A change to a model or an extract is one question. A
change to an event type's payload is not a change to all of `<domain>.events`: it reaches the
raw events' direct readers and, through the staging model(s) of that type only, what is
downstream of the field's column there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from catalog.diff.changes import Change
from catalog.diff.specs import Schema

KIND_ORDER = {"declared": 0, "observed": 1, "exposure": 2, "model": 3}  # people to tell first


@dataclass(frozen=True)
class Affected:
    """Somebody or something a change breaks.

    `via` lists the datasets the dependency runs through, from the changed dataset up to the one
    this reads (a model: its parent), so `via == (dataset,)` is a direct read of the changed one.
    """

    name: str
    kind: str  # declared | observed | model | exposure
    owner: str
    via: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "owner": self.owner, "via": list(self.via)}


@dataclass(frozen=True)
class Answer:
    """What a who_breaks may return in place of a plain list: the affected, and notes where the
    answer is not exactly the question (the whole dataset for a column the catalog never saw)."""

    affected: tuple[Affected, ...]
    notes: tuple[str, ...] = ()


WhoBreaks = Callable[[str, str | None], Iterable[Affected] | Answer]


def unique_affected(found: Iterable[Affected]) -> tuple[Affected, ...]:
    """Each (name, kind) once, by its shortest path; people to tell first, then models."""
    seen: dict[tuple[str, str], Affected] = {}
    for affected in found:
        known = seen.get((affected.name, affected.kind))
        if known is None or len(affected.via) < len(known.via):
            seen[(affected.name, affected.kind)] = affected
    return tuple(sorted(seen.values(), key=lambda a: (KIND_ORDER.get(a.kind, len(KIND_ORDER)), a.name)))


_PAYLOAD_COLUMN = re.compile(
    r"(?:\bdata\s*->>?\s*'(?P<arrow>\w+)'|json_extract(?:_string)?\s*\(\s*data\s*,\s*'\$\.(?P<path>\w+)'\s*\))"
    r"[^\n]*?\bas\s+\"?(?P<column>\w+)\"?",
    re.I,
)


def payload_columns(sql: str) -> dict[str, str]:
    """Payload field → staging column, from `data ->> 'field' … as column` lines."""
    return {(m.group("arrow") or m.group("path")): m.group("column") for m in _PAYLOAD_COLUMN.finditer(sql)}


def event_models(sql: Mapping[str, str], event_type: str) -> list[str]:
    """Models that select one event type out of `<domain>.events` (its staging models)."""
    return sorted(name for name, text in sql.items() if f"'{event_type}'" in text)


_WHOLE_EVENTS = ("added_required", "made_required")


def _merged(answers: Iterable[Answer], found: Iterable[Affected]) -> Answer:
    notes = dict.fromkeys(note for answer in answers for note in answer.notes)
    return Answer(unique_affected(found), tuple(notes))


class _Consumers:
    """who_breaks, memoised, with the event-type routing a payload change needs."""

    def __init__(self, who_breaks: WhoBreaks, old: Schema, new: Schema) -> None:
        self._who_breaks = who_breaks
        self._sql = {**old.sql, **new.sql}
        self._answers: dict[tuple[str, str | None], Answer] = {}

    def ask(self, dataset: str, column: str | None) -> Answer:
        if (dataset, column) not in self._answers:
            found = self._who_breaks(dataset, column)
            self._answers[(dataset, column)] = found if isinstance(found, Answer) else Answer(tuple(found))
        return self._answers[(dataset, column)]

    def of(self, change: Change) -> Answer:
        if change.dataset == change.subject:
            answer = self.ask(change.dataset, change.column)
            return _merged([answer], answer.affected)
        return self._of_event_type(change)

    def _of_event_type(self, change: Change) -> Answer:
        """A payload change reaches the raw events' direct readers and, through the staging
        model(s) of its type only, what is downstream of the field's column there."""
        dataset, models = change.dataset, event_models(self._sql, change.subject)
        # a new or newly required field quarantines events that lack it: whole rows go missing
        field_name = None if change.kind in _WHOLE_EVENTS or not change.column else change.column.removeprefix("data.")
        whole, payload = self.ask(dataset, None), self.ask(dataset, "data")
        answers = [whole, payload]
        found = [a for a in whole.affected if a.kind == "model" and a.name in models]
        found += [Affected(m, "model", "", (dataset,)) for m in models if m not in {a.name for a in found}]
        found += [a for a in payload.affected if a.kind in ("declared", "observed") and a.via == (dataset,)]
        for model in models:
            column = payload_columns(self._sql.get(model, "")).get(field_name) if field_name else None
            if field_name and column is None:
                continue  # the staging model does not read this field
            answers.append(self.ask(model, column))
            found += [replace(a, via=(dataset, *a.via)) for a in answers[-1].affected]
        return _merged(answers, found)


def attach_consumers(changes: list[Change], who_breaks: WhoBreaks, old: Schema, new: Schema) -> list[Change]:
    """Name who each breaking change breaks; a non-breaking change breaks nobody (and is not asked)."""
    consumers = _Consumers(who_breaks, old, new)
    attached = []
    for change in changes:
        if change.breaking:
            answer = consumers.of(change)
            change = replace(change, consumers=answer.affected, notes=answer.notes)
        attached.append(change)
    return attached
