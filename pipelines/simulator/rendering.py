"""Turn a planned events file into its exact bytes (and the quarantine it implies)."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.simulator.config import MALFORMATION_REASONS
from pipelines.simulator.dirt import (
    GZIP_DOMAINS,
    INVALID_UTF8_BYTES,
    UTF8_BREAK_MARKER,
    DomainLines,
    PlannedFile,
    malform_line,
)
from pipelines.simulator.events import encode_lines
from pipelines.simulator.writer import gzip_deterministic, join_lines

QuarantineEntry = dict[str, int | str | None]


def render_events_file(
    lines: DomainLines, planned: PlannedFile, rng: np.random.Generator
) -> tuple[bytes, list[QuarantineEntry]]:
    """Bytes of one events file and its quarantine entries (1-based line numbers).

    Lines are JSON-encoded per event type in bulk; only malformed lines go through Python.
    """
    span = slice(planned.start, planned.stop)
    table, row, malformation = (
        lines.table[span],
        lines.row[span],
        lines.malformation[span],
    )
    pieces = []
    for code in np.unique(table).tolist():
        position = np.flatnonzero(table == code)
        encoded = encode_lines(lines.tables[code], row[position])
        pieces.append(pl.DataFrame({"position": position, "line": encoded}))
    text = pl.concat(pieces).sort("position")["line"]

    quarantine: list[QuarantineEntry] = []
    bad = np.flatnonzero(malformation > 0)
    if bad.size:
        originals = text.gather(bad).to_list()
        replaced: list[str] = []
        for line_index, original in zip(bad.tolist(), originals, strict=True):
            reason = MALFORMATION_REASONS[int(malformation[line_index]) - 1]
            event_type = lines.tables[int(table[line_index])].event_type
            broken, detail = malform_line(original, reason, event_type, rng)
            replaced.append(broken)
            quarantine.append({"line": line_index + 1, "reason": reason, "detail": detail})
        text = text.scatter(bad, replaced)

    data = join_lines(text)
    if any(entry["reason"] == "invalid_utf8" for entry in quarantine):
        data = data.replace(UTF8_BREAK_MARKER.encode("utf-8"), INVALID_UTF8_BYTES)
    if lines.domain in GZIP_DOMAINS:
        data = gzip_deterministic(data)
    return data, quarantine
