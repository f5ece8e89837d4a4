"""How entity and event identifiers are spelled.

Entities are numbered 1..n inside the simulator and only turned into strings when a
line or snapshot is written, which keeps the in-memory tables numeric and small.
"""

from __future__ import annotations

import numpy as np
import polars as pl

ID_FORMATS: dict[str, tuple[str, int]] = {
    "customer": ("cus-", 7),
    "product": ("prd-", 4),
    "order": ("ord-", 8),
    "invoice": ("inv-", 8),
    "payment": ("pay-", 8),
    "refund": ("ref-", 7),
    "campaign": ("cmp-", 5),
    "lead": ("lead-", 8),
    "ticket": ("tkt-", 7),
    "agent": ("agt-", 3),
    "service": ("svc-", 3),
    "suite": ("ste-", 4),
    "deployment": ("dep-", 6),
    "incident": ("inc-", 5),
    "testrun": ("run-", 7),
}


def id_expr(column: str, entity: str) -> pl.Expr:
    """Polars expression turning entity numbers into ids; null numbers stay null."""
    prefix, width = ID_FORMATS[entity]
    return pl.format(prefix + "{}", pl.col(column).cast(pl.String).str.zfill(width))


def id_series(numbers: np.ndarray, entity: str, name: str) -> pl.Series:
    """Ids for an array of entity numbers (used by the extract snapshots)."""
    frame = pl.DataFrame({"n": numbers})
    return frame.select(id_expr("n", entity).alias(name)).to_series()


def event_id_expr(column: str, slug: str) -> pl.Expr:
    """CloudEvents `id`: the producing service's name and its own sequence number."""
    return pl.format(slug + "-{}", pl.col(column).cast(pl.String).str.zfill(10))
