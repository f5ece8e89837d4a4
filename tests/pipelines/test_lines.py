"""pipelines.lines: an events file's bytes to numbered lines, invalid UTF-8 set aside by number."""

from __future__ import annotations

import gzip
import random

import pytest

from pipelines import lines as lines_module
from pipelines.lines import UnreadableFileError, decompress, split_lines

BAD = b"\xff\xfe"  # never valid in UTF-8


def test_split_lines_trailing_newline_opens_no_empty_line() -> None:
    result = split_lines(b'{"a":1}\n{"b":2}\n')

    assert result.line_no.tolist() == [1, 2]
    assert result.text.to_pylist() == ['{"a":1}\n', '{"b":2}\n']
    assert result.invalid == []


def test_split_lines_last_line_without_newline_is_kept() -> None:
    result = split_lines(b'{"a":1}\n{"b":2}')

    assert result.line_no.tolist() == [1, 2]
    assert result.text.to_pylist() == ['{"a":1}\n', '{"b":2}']


def test_split_lines_crlf_keeps_the_terminator() -> None:
    result = split_lines(b'{"a":1}\r\n{"b":2}\r\n')

    assert result.line_no.tolist() == [1, 2]
    assert result.text.to_pylist() == ['{"a":1}\r\n', '{"b":2}\r\n']


def test_split_lines_empty_lines_are_lines() -> None:
    result = split_lines(b'{"a":1}\n\n\n{"b":2}\n')

    assert result.line_no.tolist() == [1, 2, 3, 4]
    assert result.text.to_pylist() == ['{"a":1}\n', "\n", "\n", '{"b":2}\n']


def test_split_lines_empty_file_has_no_lines() -> None:
    result = split_lines(b"")

    assert (result.count, result.line_no.tolist(), result.text.to_pylist(), result.invalid) == (0, [], [], [])


def test_split_lines_lone_newline_is_one_empty_line() -> None:
    result = split_lines(b"\n")

    assert (result.line_no.tolist(), result.text.to_pylist()) == ([1], ["\n"])


def test_split_lines_multibyte_utf8_is_valid() -> None:
    result = split_lines('{"name":"Zoë Ørsted 東京"}\n'.encode())

    assert result.text.to_pylist() == ['{"name":"Zoë Ørsted 東京"}\n']
    assert result.invalid == []


def test_split_lines_finds_every_invalid_utf8_line_among_many() -> None:
    n = 5000
    bad_numbers = [1, 2, 777, 2500, 2501, 4999, 5000]
    lines = [(b'{"n":"' + BAD + b'"}' if i in bad_numbers else b'{"n":%d}' % i) for i in range(1, n + 1)]

    result = split_lines(b"\n".join(lines) + b"\n")

    assert [number for number, _ in result.invalid] == bad_numbers
    assert result.line_no.tolist() == list(range(1, n + 1))
    assert result.text.to_pylist()[:4] == [None, None, '{"n":3}\n', '{"n":4}\n']
    assert result.text.null_count == len(bad_numbers)
    assert result.count == n


@pytest.mark.parametrize("chunk", [7, 64, 1 << 24])
def test_split_lines_agrees_with_decoding_each_line(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """ASCII, valid multibyte and invalid lines mixed, scanned in chunks that cut lines and
    characters: the result equals decoding every line on its own."""
    monkeypatch.setattr(lines_module, "_CHUNK", chunk)
    rng = random.Random(11)
    pieces = [b'{"n":1}', "Zoë 東京".encode(), BAD, "é".encode()[:1], b"\xc3\xa9"[::-1], b"", b"\r"]
    raw = [b"".join(rng.choice(pieces) for _ in range(rng.randrange(4))) for _ in range(400)] + [b"last"]
    data = b"\n".join(raw)  # no final newline

    result = split_lines(data)

    def valid(line: bytes) -> bool:
        try:
            line.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    assert result.invalid == [(i + 1, line.rstrip(b"\r\n")) for i, line in enumerate(raw) if not valid(line)]
    expected = [(i + 1, line.decode() + "\n" if valid(line) else None) for i, line in enumerate(raw[:-1])]
    expected.append((len(raw), "last"))
    assert list(zip(result.line_no.tolist(), result.text.to_pylist(), strict=True)) == expected
    assert result.count == len(raw)


def test_split_lines_invalid_line_keeps_its_raw_bytes_without_terminator() -> None:
    result = split_lines(b'{"ok":1}\r\n{"bad":"' + BAD + b'"}\r\n{"ok":3}')

    assert result.invalid == [(2, b'{"bad":"' + BAD + b'"}')]
    assert result.line_no.tolist() == [1, 2, 3]
    assert result.text.to_pylist() == ['{"ok":1}\r\n', None, '{"ok":3}']


def test_split_lines_invalid_last_line_without_newline() -> None:
    result = split_lines(b'{"ok":1}\n' + BAD)

    assert result.invalid == [(2, BAD)]
    assert result.text.to_pylist() == ['{"ok":1}\n', None]


def test_split_lines_truncated_multibyte_character_is_invalid() -> None:
    cut = "é".encode()[:1]

    result = split_lines(b'{"a":"x' + cut + b'"}\n{"b":1}\n')

    assert [number for number, _ in result.invalid] == [1]
    assert result.text.to_pylist() == [None, '{"b":1}\n']


def test_decompress_plain_file_is_returned_as_is() -> None:
    payload = b'{"a":1}\n'

    assert decompress(payload, "sales/events/a.jsonl") is payload


def test_decompress_gzip_file() -> None:
    payload = b'{"a":1}\n{"b":2}\n'

    assert decompress(gzip.compress(payload), "sales/events/a.jsonl.gz") == payload


def test_decompress_not_gzip_is_unreadable_file_error() -> None:
    with pytest.raises(UnreadableFileError, match=r"^sales/events/a\.jsonl\.gz: not a valid gzip file"):
        decompress(b'{"a":1}\n', "sales/events/a.jsonl.gz")


def test_decompress_truncated_gzip_is_unreadable_file_error() -> None:
    truncated = gzip.compress(b'{"a":1}\n' * 100)[:-12]

    with pytest.raises(UnreadableFileError, match=r"^sales/events/a\.jsonl\.gz: not a valid gzip file"):
        decompress(truncated, "sales/events/a.jsonl.gz")


def test_decompress_corrupt_gzip_body_is_unreadable_file_error() -> None:
    good = bytearray(gzip.compress(b'{"a":1}\n' * 100))
    good[20:30] = b"\x00" * 10

    with pytest.raises(UnreadableFileError, match=r"^a\.jsonl\.gz: not a valid gzip file"):
        decompress(bytes(good), "a.jsonl.gz")
