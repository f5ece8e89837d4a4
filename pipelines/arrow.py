"""Arrow arrays built from buffers.

`pyarrow.array()` imports pandas on first use (about a second here), which would dominate a
small incremental ingest; building from numpy buffers does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

_ARROW_INTS: dict[type, pa.DataType] = {np.int64: pa.int64(), np.int32: pa.int32()}


def ints(values: np.ndarray | Sequence[int], dtype: type = np.int64) -> pa.Array:
    data: np.ndarray = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    arrow_type = _ARROW_INTS[dtype]
    return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])


def _offsets(chunks: Sequence[bytes | memoryview]) -> np.ndarray:
    offsets = np.zeros(len(chunks) + 1, np.int64)
    np.cumsum([len(c) for c in chunks], out=offsets[1:])
    return offsets


def strings(values: Sequence[str]) -> pa.Array:
    return unchecked_strings([v.encode("utf-8") for v in values])


def unchecked_strings(chunks: Sequence[bytes | memoryview]) -> pa.LargeStringArray:
    """A string array over `chunks` as they are: nothing checks that they are UTF-8 (an
    `Array.validate(full=True)` does, which is how pipelines.lines finds the lines that are not)."""
    return pa.Array.from_buffers(
        pa.large_string(), len(chunks), [None, pa.py_buffer(_offsets(chunks)), pa.py_buffer(b"".join(chunks))]
    )


def binaries(values: Sequence[bytes]) -> pa.Array:
    return pa.Array.from_buffers(
        pa.large_binary(), len(values), [None, pa.py_buffer(_offsets(values)), pa.py_buffer(b"".join(values))]
    )
