"""Turn an events file's bytes into numbered lines without looping over them in Python.

Newlines are found with numpy and the lines become one zero-copy Arrow string array. Only
lines holding a byte above 0x7F can be invalid UTF-8 (ASCII always is valid), so only those are
validated; invalid ones are located by bisection over Arrow arrays, so the cost grows with the
number of bad lines (log n validations each), not with the number of lines.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipelines.arrow import unchecked_strings
from pipelines.errors import AgoraError

_CHUNK = 1 << 20  # 1 MB of scratch: a 16 MB one was fresh, page-faulted memory for every file


class UnreadableFileError(AgoraError):
    """The file cannot be read as what its name says it is."""


@dataclass(frozen=True)
class SplitLines:
    """Numbered lines of one file: entry i of `text` is line i + 1, null when the line is not
    UTF-8 (its raw bytes are then in `invalid`). Nulling keeps the zero-copy array whole."""

    line_no: np.ndarray  # 1-based line numbers, one per entry of `text`
    text: pa.LargeStringArray
    invalid: list[tuple[int, bytes]]  # (line number, raw bytes) of lines that are not UTF-8

    @property
    def count(self) -> int:
        return len(self.line_no)


def decompress(payload: bytes, name: str) -> bytes:
    if not name.endswith(".gz"):
        return payload
    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFileError(f"{name}: not a valid gzip file ({exc})") from exc


def _scan(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Positions of b'\\n' and of bytes above 0x7F, found chunk by chunk (small scratch buffer)."""
    arr = np.frombuffer(data, np.uint8)
    scratch = np.empty(min(_CHUNK, len(arr)), bool)
    newlines, high = [], []
    for start in range(0, len(arr), _CHUNK):
        chunk = arr[start : start + _CHUNK]
        mask = scratch[: len(chunk)]
        np.equal(chunk, 10, out=mask)
        newlines.append(np.flatnonzero(mask) + start)
        np.greater(chunk, 0x7F, out=mask)
        if mask.any():
            high.append(np.flatnonzero(mask) + start)
    empty = np.empty(0, np.int64)
    return (np.concatenate(newlines) if newlines else empty), (np.concatenate(high) if high else empty)


def _invalid_positions(array: pa.LargeStringArray, offset: int = 0) -> list[int]:
    """Indexes of strings in `array` that are not valid UTF-8 (bisection)."""
    try:
        array.validate(full=True)
        return []
    except pa.ArrowInvalid:
        if len(array) == 1:
            return [offset]
    half = len(array) // 2
    return _invalid_positions(array.slice(0, half), offset) + _invalid_positions(array.slice(half), offset + half)


def _gather(data: bytes, offsets: np.ndarray, rows: np.ndarray) -> pa.LargeStringArray:
    """Lines `rows` copied into a small array of their own. Not `Array.take`: its first call in a
    process loads Arrow's compute kernels, 0.18 s measured, a few per cent of a landing."""
    view = memoryview(data)
    return unchecked_strings(
        [view[a:b] for a, b in zip(offsets[rows].tolist(), offsets[rows + 1].tolist(), strict=True)]
    )


def split_lines(data: bytes) -> SplitLines:
    """Every line of `data`; a final newline does not open an empty last line.

    Values keep their line terminator ('\n' or '\r\n'): Arrow offsets are contiguous, and JSON
    reads the terminator as whitespace. Quarantine strips it when it stores a line's text.
    """
    ends, high = _scan(data)
    if len(data) and (not len(ends) or ends[-1] != len(data) - 1):
        ends = np.append(ends, len(data) - 1)  # last line without a newline
    n = len(ends)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = ends + 1
    buffers = (pa.py_buffer(offsets), pa.py_buffer(data))
    array = pa.LargeStringArray.from_buffers(n, *buffers)
    line_no = np.arange(1, n + 1, dtype=np.int64)
    suspects = np.unique(np.searchsorted(ends, high))  # the lines holding those bytes
    bad = [int(suspects[i]) for i in _invalid_positions(_gather(data, offsets, suspects))] if len(suspects) else []
    if not bad:
        return SplitLines(line_no, array, [])
    valid = np.ones(n, bool)
    valid[bad] = False
    invalid = [(i + 1, bytes(data[offsets[i] : offsets[i + 1]]).rstrip(b"\r\n")) for i in bad]
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return SplitLines(line_no, pa.LargeStringArray.from_buffers(n, *buffers, validity), invalid)
