"""PII masking for principals without clearance (DESIGN.md, guarantee 6).

Masking happens at the source: every reference to a dataset with PII columns is replaced by a
subquery that selects the same columns with the PII ones masked, under the same alias:

    FROM marts.customer_360 AS c
    -> FROM (SELECT * REPLACE (<mask(customer_email)> AS customer_email, ...) FROM marts.customer_360) AS c

so whatever the query does afterwards — `select *`, expressions, CTEs, joins, WHERE, GROUP BY,
aggregates, `to_json(c)` — only ever sees masked values. A predicate on a PII column compares
masked values, so it cannot be used to guess the original either.

The mask is deterministic: `'pii:' || first 16 hex digits of sha256(<home key> || value)`, NULL
stays NULL. Equal values give equal masks, so joins, `count(DISTINCT …)` and GROUP BY on masked
columns still work. The key is a random secret kept in `<home>/access/masking.key` (created on first
use); without it a mask cannot be recomputed from a guessed value. Anyone who can read the home
can read the data anyway, so the key guards the gateway's users, not the home's.
"""

from __future__ import annotations

import os
import secrets

from sqlglot import exp

from pipelines.home import Home

MASK_PREFIX = "pii:"
MASK_HEX_DIGITS = 16


def masking_key(home: Home) -> str:
    """The home's masking key, created once (atomically: concurrent first uses agree)."""
    path = home.root / "access" / "masking.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".masking.key.{os.getpid()}.{secrets.token_hex(4)}")
        candidate.write_text(secrets.token_hex(32), encoding="utf-8")
        try:
            os.link(candidate, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
        finally:
            candidate.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def mask_sql(column: str, key: str) -> str:
    """DuckDB SQL masking `column` (an identifier) deterministically with `key`."""
    ident = exp.to_identifier(column, quoted=True).sql("duckdb")
    return (
        f"CASE WHEN {ident} IS NULL THEN NULL ELSE '{MASK_PREFIX}' || "
        f"substr(sha256('{key}' || CAST({ident} AS VARCHAR)), 1, {MASK_HEX_DIGITS}) END"
    )


def mask_value(value: object, key: str) -> str | None:
    """The mask of one value, computed in Python (for tests and documentation)."""
    import hashlib

    if value is None:
        return None
    return MASK_PREFIX + hashlib.sha256(f"{key}{value}".encode()).hexdigest()[:MASK_HEX_DIGITS]


def masked_source(relation: str, columns: tuple[str, ...], key: str) -> exp.Select:
    """`SELECT * REPLACE (mask(c) AS c, ...) FROM relation`: the relation as a masked principal sees it."""
    replaced = ", ".join(f"{mask_sql(c, key)} AS {exp.to_identifier(c, quoted=True).sql('duckdb')}" for c in columns)
    select: exp.Expression = exp.maybe_parse(f"SELECT * REPLACE ({replaced}) FROM {relation}", dialect="duckdb")
    assert isinstance(select, exp.Select)
    return select
