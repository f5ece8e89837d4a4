"""Turn an events file's bytes into numbered lines without looping over them in Python.

Newlines are found with numpy and the lines become one zero-copy Arrow string array. Invalid
UTF-8 is located by bisection over Arrow slices, so the cost grows with the number of bad lines
(log n validations each), not with the number of lines.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipelines import arrow
from pipelines.errors import AgoraError

_CHUNK = 1 << 24


class UnreadableFileError(AgoraError):
    """The file cannot be read as what its name says it is."""


@dataclass(frozen=True)
class SplitLines:
    """Numbered lines of one file: good UTF-8 in `text`, the rest as raw bytes in `invalid`."""

    line_no: np.ndarray  # 1-based numbers of the lines in `text`
    text: pa.LargeStringArray
    invalid: list[tuple[int, bytes]]  # (line number, raw bytes) of lines that are not UTF-8

    @property
    def count(self) -> int:
        return len(self.line_no) + len(self.invalid)


def decompress(payload: bytes, name: str) -> bytes:
    if not name.endswith(".gz"):
        return payload
    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFileError(f"{name}: not a valid gzip file ({exc})") from exc


def _newlines(data: bytes) -> np.ndarray:
    """Positions of b'\\n', found chunk by chunk to keep the scratch buffer small."""
    arr = np.frombuffer(data, np.uint8)
    scratch = np.empty(min(_CHUNK, len(arr)), bool)
    found = []
    for start in range(0, len(arr), _CHUNK):
        chunk = arr[start : start + _CHUNK]
        mask = scratch[: len(chunk)]
        np.equal(chunk, 10, out=mask)
        found.append(np.flatnonzero(mask) + start)
    return np.concatenate(found) if found else np.empty(0, np.int64)


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


def split_lines(data: bytes) -> SplitLines:
    """Every line of `data`; a final newline does not open an empty last line.

    Values keep their line terminator ('\n' or '\r\n'): Arrow offsets are contiguous, and JSON
    reads the terminator as whitespace. Quarantine strips it when it stores a line's text.
    """
    ends = _newlines(data)
    if len(data) and (not len(ends) or ends[-1] != len(data) - 1):
        ends = np.append(ends, len(data) - 1)  # last line without a newline
    n = len(ends)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = ends + 1
    array = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    line_no = np.arange(1, n + 1, dtype=np.int64)
    bad = _invalid_positions(array)
    if not bad:
        return SplitLines(line_no, array, [])
    keep = np.ones(n, bool)
    keep[bad] = False
    invalid = [(i + 1, bytes(data[offsets[i] : offsets[i + 1]]).rstrip(b"\r\n")) for i in bad]
    return SplitLines(line_no[keep], array.filter(arrow.bools(keep)), invalid)
