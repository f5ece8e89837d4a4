"""The floor: DuckDB's own NDJSON reader straight into a table, no checks, no dedup, no bookkeeping.

Run as a separate process by benchmarks.run; prints JSON {"seconds": …, "rows": …}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def main(landing: str, database: str) -> None:
    files = sorted(str(p) for p in Path(landing).glob("*/events/*") if p.name.endswith((".jsonl", ".jsonl.gz")))
    started = time.perf_counter()
    con = duckdb.connect(database)
    con.execute("SET preserve_insertion_order = false")
    # ignore_errors: the floor skips what it cannot parse instead of accounting for it
    con.execute("CREATE TABLE events AS SELECT * FROM read_ndjson(?, ignore_errors = true)", [files])
    rows = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    con.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
