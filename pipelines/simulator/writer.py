"""Landing files: immutable, atomic, byte-reproducible.

A landed file is identified by its content hash downstream, so rewriting a path with
other bytes would silently change history; it is refused instead. Re-running the same
simulation is a no-op because identical bytes are left alone.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

LANDED_FILE_MODE = 0o644


def write_immutable(path: Path, data: bytes) -> bool:
    """Write `data` to `path` atomically; returns False when identical bytes are already there.

    Raises FileExistsError when `path` holds different bytes (landed files never change).
    """
    if path.exists():
        if path.read_bytes() == data:
            return False
        raise FileExistsError(
            f"{path} already exists with different content; landed files are immutable "
            "(use an empty landing directory or the same simulation settings)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace_atomically(path, data)
    return True


def write_replacing(path: Path, data: bytes) -> None:
    """Atomically (re)write a file that is not landed data, such as the manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace_atomically(path, data)


def _replace_atomically(path: Path, data: bytes) -> None:
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        # mkstemp creates owner-only files; landed data is meant to be read by others.
        os.chmod(temp_name, LANDED_FILE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def join_lines(lines: pl.Series) -> bytes:
    """Newline-terminated UTF-8 lines; polars' CSV writer is the fastest join available."""
    buffer = io.BytesIO()
    pl.DataFrame({"line": lines}).write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()


def gzip_deterministic(data: bytes) -> bytes:
    """Gzip without timestamp or file name, so equal input gives equal bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
