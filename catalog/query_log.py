"""The governed query log: one JSON line per gateway request, allowed or refused.

Lines go to `<home>/query_log/<UTC date>.jsonl`. Each record is written with one `write()` on a
file opened with O_APPEND while holding an exclusive `flock`, so many analysts' processes can
log at once without losing or interleaving lines. The next landing loads the files into
`ops.query_log` (pipelines.load_query_log); the catalog reads observed usage from there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import sqlglot
from sqlglot.tokens import Token, TokenType

from pipelines.errors import AgoraError
from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DIR

_LITERALS = frozenset(
    {
        TokenType.STRING,
        TokenType.NUMBER,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.NATIONAL_STRING,
        TokenType.NATIONAL_RAW_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.UNICODE_STRING,
        TokenType.PLACEHOLDER,
    }
)
_LIST_ITEMS = _LITERALS | {
    TokenType.COMMA,
    TokenType.DASH,
    TokenType.PLUS,
    TokenType.NULL,
    TokenType.TRUE,
    TokenType.FALSE,
}
_NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_VALUE_ENDS = (
    _LITERALS | _NAMES | {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.NULL, TokenType.TRUE, TokenType.FALSE}
)
_NAME_PATTERNS = frozenset({TokenType.LIKE, TokenType.ILIKE, TokenType.SIMILAR_TO, TokenType.RLIKE})
_CLOSING = {TokenType.L_PAREN: TokenType.R_PAREN, TokenType.L_BRACKET: TokenType.R_BRACKET}
_SOURCE_KEYWORDS = frozenset({TokenType.FROM, TokenType.JOIN})
_GROUP_ITEMS = _LIST_ITEMS | set(_CLOSING) | set(_CLOSING.values())
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TOKEN_NAMES = {kind: kind.name for kind in TokenType}  # Enum.name is a slow property on a hot path


@lru_cache(maxsize=4096)  # a session repeats its queries; the catalog fingerprints a whole log
def fingerprint(sql: str) -> str:
    """Same query shape, same fingerprint: literals become placeholders, lists of literals (IN,
    VALUES, [..]) one placeholder, comments dropped, case and spacing normalised (identifiers fold
    like DuckDB's, quoted or not).

    Built on sqlglot's tokenizer, not its parser: ~15x faster, and it never fails on SQL sqlglot
    cannot parse. Same fingerprint ⇒ same reads (the catalog analyses each shape once), so the
    string literals that choose what is read — COLUMNS('regex'), `* LIKE 'pattern'` and a file
    named as a table (`FROM 'orders.csv'`) — are kept."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    except Exception:  # not SQL the tokenizer reads: fingerprint the text itself
        normal = " ".join(sql.lower().split())
    else:
        normal = " ".join(_shape(tokens))
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


def _shape(tokens: list[Token]) -> list[str]:
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens = tokens[:-1]
    words: list[str] = []
    kept_until = -1  # inside COLUMNS(…): literals are column patterns, not values
    i = 0
    while i < len(tokens):
        token, kind = tokens[i], tokens[i].token_type
        if kind in _CLOSING and (kind == TokenType.L_BRACKET or _prev(tokens, i) in (TokenType.IN, TokenType.VALUES)):
            end = _literal_group_end(tokens, i)
            if end is not None:  # (1, 2, 3), [1, 2], VALUES (1, 'a'), (2, 'b') all read as one item
                words += [_TOKEN_NAMES[kind], "?", _TOKEN_NAMES[_CLOSING[kind]]]
                i = end + 1
                continue
        if kind in _NAMES and token.text.upper() == "COLUMNS" and _next(tokens, i) == TokenType.L_PAREN:
            kept_until = max(kept_until, _matching(tokens, i + 1))
        if kind in _LITERALS:
            pattern = i <= kept_until or (_prev(tokens, i) in _NAME_PATTERNS and _prev(tokens, i - 1) == TokenType.STAR)
            if pattern or _prev(tokens, i) in _SOURCE_KEYWORDS:  # FROM 'orders.csv' names what is read
                words.append(repr(token.text))
            else:
                if words and words[-1] in ("DASH", "PLUS") and _prev(tokens, i - 1) not in _VALUE_ENDS:
                    words.pop()  # a sign belongs to the literal: -1 is the same shape as 1
                words.append("?")
        elif kind == TokenType.PARAMETER and _next(tokens, i) in (TokenType.NUMBER, TokenType.VAR):
            words.append("?")  # $1, $name
            i += 1
        elif kind in _NAMES:
            words.append('"' + token.text.translate(_ASCII_LOWER) + '"')
        else:
            words.append(_TOKEN_NAMES[kind])
        i += 1
    return words


def _prev(tokens: list[Token], i: int) -> TokenType | None:
    return tokens[i - 1].token_type if i > 0 else None


def _next(tokens: list[Token], i: int) -> TokenType | None:
    return tokens[i + 1].token_type if i + 1 < len(tokens) else None


def _matching(tokens: list[Token], start: int) -> int:
    """The index of the bracket closing the one at `start` (the last token if none does)."""
    opening, closing, depth = tokens[start].token_type, _CLOSING.get(tokens[start].token_type), 0
    for j in range(start, len(tokens)):
        if tokens[j].token_type == opening:
            depth += 1
        elif tokens[j].token_type == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _literal_group_end(tokens: list[Token], start: int) -> int | None:
    """End of a bracketed run of literals (nested brackets, commas and signs allowed), chained by
    commas for VALUES rows; None when anything else is inside."""
    end = start
    while True:
        close = _matching(tokens, end)
        if tokens[close].token_type != _CLOSING[tokens[end].token_type]:
            return None  # never closed
        inside = tokens[end + 1 : close]
        if not inside or any(t.token_type not in _GROUP_ITEMS for t in inside):
            return None
        row_follows = _next(tokens, close) == TokenType.COMMA and _next(tokens, close + 1) == TokenType.L_PAREN
        if _prev(tokens, start) != TokenType.VALUES or not row_follows:
            return close
        end = close + 2


@dataclass
class QueryRecord:
    query_id: str
    logged_at: str
    principal: str
    source: str
    sql: str
    fingerprint: str
    relations: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    decision: str = ""  # allowed | refused | failed
    reason: str = ""
    message: str = ""
    rows: int | None = None
    duration_ms: float = 0.0
    pid: int = 0

    @classmethod
    def start(cls, principal: str, sql: str, source: str) -> QueryRecord:
        return cls(
            query_id=uuid.uuid4().hex,
            logged_at=datetime.now(UTC).isoformat(),
            principal=principal,
            source=source,
            sql=sql,
            fingerprint=fingerprint(sql),
            pid=os.getpid(),
        )

    def finish(
        self,
        decision: str,
        reason: str,
        message: str,
        started: float,
        rows: int | None = None,
        relations: tuple[str, ...] = (),
    ) -> None:
        self.decision, self.reason, self.message, self.rows = decision, reason, message, rows
        if relations and not self.relations:
            self.relations = list(relations)
        self.duration_ms = round((time.perf_counter() - started) * 1000, 3)


def append(home: Home, record: QueryRecord) -> None:
    """Append one record as one line; concurrent writers never tear or lose a line."""
    folder = home.root / QUERY_LOG_DIR
    fields = vars(record)  # flat (str, number, list of str): asdict's deep copy would cost more than the write
    line = (json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path = folder / f"{record.logged_at[:10]}.jsonl"
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the first line of a new home
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            written = 0
            while written < len(line):  # a short write is finished under the same lock
                written += os.write(fd, line[written:])
        finally:
            os.close(fd)  # closing releases the lock
    except OSError as exc:
        raise AgoraError(f"cannot write the query log {path}: {exc.strerror or exc}") from None
