"""Baseline: dlt loading the same CloudEvents into DuckDB, merged on (source, id).

Run as a separate process by benchmarks.run on a subset of the event files; prints JSON.
dlt normalizes row by row in Python, which is why it gets a subset.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt


def _events(files: list[Path], limit: int) -> Iterator[dict]:
    sent = 0
    for path in files:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # dlt has no quarantine; malformed lines are dropped
                if not isinstance(event, dict) or "id" not in event or "source" not in event:
                    continue
                yield event
                sent += 1
                if sent >= limit:
                    return


def main(landing: str, workdir: str, limit: int) -> None:
    files = sorted(p for p in Path(landing).glob("*/events/*") if p.name.endswith((".jsonl", ".jsonl.gz")))
    started = time.perf_counter()

    @dlt.resource(primary_key=("source", "id"), write_disposition="merge", table_name="events")
    def events() -> Iterator[dict]:
        yield from _events(files, limit)

    pipeline = dlt.pipeline(
        pipeline_name="agora_bench",
        destination=dlt.destinations.duckdb(str(Path(workdir) / "dlt.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(Path(workdir) / "pipelines"),
    )
    pipeline.run(events())
    seconds = time.perf_counter() - started
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM events")[0][0]
    print(json.dumps({"seconds": seconds, "events_offered": limit, "rows": rows}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
