"""pipelines.lines: an events file's bytes to numbered lines, invalid UTF-8 set aside by number."""

from __future__ import annotations

import gzip

import pytest

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
    assert result.line_no.tolist() == [i for i in range(1, n + 1) if i not in bad_numbers]
    assert result.text.to_pylist()[:2] == ['{"n":3}\n', '{"n":4}\n']
    assert result.count == n


def test_split_lines_invalid_line_keeps_its_raw_bytes_without_terminator() -> None:
    result = split_lines(b'{"ok":1}\r\n{"bad":"' + BAD + b'"}\r\n{"ok":3}')

    assert result.invalid == [(2, b'{"bad":"' + BAD + b'"}')]
    assert result.line_no.tolist() == [1, 3]
    assert result.text.to_pylist() == ['{"ok":1}\r\n', '{"ok":3}']


def test_split_lines_invalid_last_line_without_newline() -> None:
    result = split_lines(b'{"ok":1}\n' + BAD)

    assert result.invalid == [(2, BAD)]
    assert result.line_no.tolist() == [1]


def test_split_lines_truncated_multibyte_character_is_invalid() -> None:
    cut = "é".encode()[:1]

    result = split_lines(b'{"a":"x' + cut + b'"}\n{"b":1}\n')

    assert [number for number, _ in result.invalid] == [1]
    assert result.text.to_pylist() == ['{"b":1}\n']


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
