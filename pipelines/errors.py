"""Errors a user can act on. The CLI prints them as one line and exits non-zero."""


class AgoraError(Exception):
    """An expected failure with a message meant for a person, not a traceback."""


class WarehouseBusyError(AgoraError):
    """Another process holds the warehouse's write lock (DESIGN.md, guarantee 5)."""


class ContractError(AgoraError):
    """A contract file in catalog/contracts/ is malformed."""
