"""Column types: which change keeps every reader working (widening) and which breaks one.

A dbt `data_type` is read the way DuckDB reads it (aliases folded, decimal/varchar/enum
parameters kept) and compared through the widening table: every value of the old type must be a
value of the new one. Contract field types (pipelines.contracts.FIELD_TYPES) have their own,
smaller table. Anything not listed is breaking: unknown is not "safe".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SqlType:
    base: str
    params: tuple[Any, ...] = ()


_SQL_ALIASES = {
    "int1": "tinyint",
    "int2": "smallint",
    "short": "smallint",
    "int": "integer",
    "int4": "integer",
    "signed": "integer",
    "int8": "bigint",
    "long": "bigint",
    "int128": "hugeint",
    "float4": "float",
    "real": "float",
    "float8": "double",
    "double precision": "double",
    "numeric": "decimal",
    "text": "varchar",
    "string": "varchar",
    "char": "varchar",
    "bpchar": "varchar",
    "nvarchar": "varchar",
    "bool": "boolean",
    "logical": "boolean",
    "datetime": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}

# Integer digits each integer type needs, to decide whether a decimal(p, s) can hold it.
_INTEGER_DIGITS = {
    "tinyint": 3,
    "smallint": 5,
    "integer": 10,
    "bigint": 19,
    "hugeint": 39,
    "utinyint": 3,
    "usmallint": 5,
    "uinteger": 10,
    "ubigint": 20,
    "uhugeint": 39,
}

# Widening: every value of the left type is a value of each right one, so readers keep working.
# Anything not listed (and not a same-family case handled in `sql_widens`) is breaking.
SQL_WIDENING: dict[str, frozenset[str]] = {
    "tinyint": frozenset({"smallint", "integer", "bigint", "hugeint", "float", "double"}),
    "smallint": frozenset({"integer", "bigint", "hugeint", "float", "double"}),
    "integer": frozenset({"bigint", "hugeint", "double"}),
    "bigint": frozenset({"hugeint"}),
    "utinyint": frozenset(
        {"usmallint", "uinteger", "ubigint", "uhugeint", "smallint", "integer", "bigint", "hugeint", "float", "double"}
    ),
    "usmallint": frozenset({"uinteger", "ubigint", "uhugeint", "integer", "bigint", "hugeint", "float", "double"}),
    "uinteger": frozenset({"ubigint", "uhugeint", "bigint", "hugeint", "double"}),
    "ubigint": frozenset({"uhugeint", "hugeint"}),
    "float": frozenset({"double"}),
    "date": frozenset({"timestamp"}),
}

# Contract field types (pipelines.contracts.FIELD_TYPES): every integer is a number.
CONTRACT_WIDENING: dict[str, frozenset[str]] = {"integer": frozenset({"number"})}


def parse_sql_type(text: str) -> SqlType:
    """A dbt data_type as DuckDB reads it: aliases folded, decimal/varchar/enum parameters kept."""
    text = " ".join(text.strip().lower().split())
    match = re.fullmatch(r"([a-z][a-z0-9_ ]*?)\s*(?:\((.*)\))?", text)
    if not match:
        return SqlType(text)
    base = _SQL_ALIASES.get(match.group(1), match.group(1))
    args = match.group(2)
    if base == "decimal":
        numbers = [int(n) for n in re.findall(r"\d+", args or "")]
        precision = numbers[0] if numbers else 18
        return SqlType("decimal", (precision, numbers[1] if len(numbers) > 1 else (0 if numbers else 3)))
    if base == "varchar" and args and args.strip().isdigit():
        return SqlType("varchar", (int(args),))
    if base == "enum":
        return SqlType("enum", tuple(sorted(re.findall(r"'((?:[^']|'')*)'", args or ""))))
    return SqlType(base)


def sql_widens(old: SqlType, new: SqlType) -> bool:
    """True when every value of `old` fits `new` unchanged (same type included)."""
    if old == new:
        return True
    if new.base in SQL_WIDENING.get(old.base, ()):
        return True
    if new.base == "decimal":
        precision, scale = new.params
        if old.base == "decimal":
            return scale >= old.params[1] and precision - scale >= old.params[0] - old.params[1]
        return old.base in _INTEGER_DIGITS and precision - scale >= _INTEGER_DIGITS[old.base]
    if new.base == "varchar":
        if old.base == "varchar":
            return not new.params or (bool(old.params) and new.params[0] >= old.params[0])
        return old.base == "enum"
    if old.base == new.base == "enum":
        return set(old.params) <= set(new.params)
    return False


def type_change(kind: str, old: str | None, new: str | None) -> tuple[str, bool] | None:
    """(change kind, breaking) for a column's type going from `old` to `new`; None if unchanged."""
    if old == new:
        return None
    if old is None:
        return "declared_type", False
    if new is None:
        return "changed_type", True
    if kind == "model":
        before, after = parse_sql_type(old), parse_sql_type(new)
        if before == after:
            return None
        if sql_widens(before, after):
            return "widened_type", False
        return ("narrowed_type" if sql_widens(after, before) else "changed_type"), True
    if new in CONTRACT_WIDENING.get(old, ()):
        return "widened_type", False
    return ("narrowed_type" if old in CONTRACT_WIDENING.get(new, ()) else "changed_type"), True
