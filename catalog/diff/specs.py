"""What the guard compares: one spec per thing a consumer relies on, at one revision.

A spec is an event type's payload (`<domain>.events`), an extract (`<domain>.<table>`) or a dbt
model, with its columns, grain and settings as declared; a `Schema` holds every spec of one side
and each model's SQL (the event payload routing reads it to find a field's staging column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from catalog.diff.errors import DiffError
from pipelines import yaml_text


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str | None  # contract type, or dbt data_type as written (lowercase); None: not declared
    required: bool  # contract `required`, or a dbt not_null constraint / test
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Spec:
    """One thing a consumer relies on: an event type's payload, an extract, or a dbt model."""

    kind: str  # event | extract | model
    key: str  # event type, `<domain>.<table>`, or model name
    dataset: str  # the dataset consumers know it by
    path: str  # the repo file that declares it
    columns: tuple[ColumnSpec, ...] | None  # None: the columns are not described
    grain: tuple[tuple[str, str], ...] = ()  # (attribute, value): primary_key, unique_key, unique, grain
    settings: tuple[tuple[str, str], ...] = ()  # access, contract, materialized, format

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns or () if c.name == name), None)

    def column_label(self, name: str) -> str:
        return f"data.{name}" if self.kind == "event" else name


@dataclass(frozen=True)
class Schema:
    """Everything declared at one revision: specs by (kind, key), and each model's SQL."""

    specs: dict[tuple[str, str], Spec]
    sql: dict[str, str]


def parse_yaml(text: str, where: str) -> Any:
    """The document in `text`; a file that is not YAML is a DiffError naming `where`."""
    try:
        return yaml_text.safe_load(text)
    except yaml.YAMLError as exc:
        raise DiffError(f"{where}: not valid YAML ({exc.__class__.__name__})") from None
