"""Why `agora catalog diff` could not compare: one clear line each (exit status 2)."""

from __future__ import annotations

from pipelines.errors import AgoraError


class UnknownRevisionError(AgoraError):
    """The base revision names no commit in the repository."""


class DiffError(AgoraError):
    """The two sides cannot be compared (not a git repository, a malformed file, …)."""
