"""The oversized-form reader keeps a multipart body's text fields, drops its files, whatever
the chunks the body arrives in."""

from __future__ import annotations

import pytest

from app.core.uploads import TEXT_AT_MOST, TextParts, _boundary

BOUNDARY = b"----WebKitFormBoundaryAbC123"


def body(file_content: bytes) -> bytes:
    def part(headers: str, content: bytes) -> bytes:
        return b"--" + BOUNDARY + b"\r\n" + headers.encode() + b"\r\n\r\n" + content + b"\r\n"

    return (
        part('Content-Disposition: form-data; name="_csrf_token"', b"tok")
        + part('Content-Disposition: form-data; name="name"', "老花镜\r\n--不是边界".encode())
        + part(
            'Content-Disposition: form-data; name="photo"; filename="p.jpg"\r\nContent-Type: image/jpeg',
            file_content,
        )
        + part('Content-Disposition: form-data; name="stock"', b"7")
        + b"--"
        + BOUNDARY
        + b"--\r\n"
    )


@pytest.mark.parametrize("chunk", [1, 7, len(BOUNDARY) + 3, 4096, 10**9])
def test_text_fields_are_kept_and_files_dropped_in_any_chunks(chunk: int) -> None:
    raw = body(b"\xff\xd8" + b"\r\n-" * 5000 + b"\x00" * 100_000)
    parts = TextParts(BOUNDARY)
    for at in range(0, len(raw), chunk):
        parts.feed(raw[at : at + chunk])
    assert parts.done and not parts.failed
    kept = {headers.split(b'name="')[1].split(b'"')[0]: content for headers, content in parts.parts}
    assert kept == {b"_csrf_token": b"tok", b"name": "老花镜\r\n--不是边界".encode(), b"stock": b"7"}
    assert parts.kept < 400  # the three text parts, headers and all; nothing of the file
    again = TextParts(BOUNDARY)
    again.feed(parts.body({"photo_too_large": "1"}))
    assert again.done and len(again.parts) == 4 and again.parts[-1][1] == b"1"


def test_a_body_that_is_not_a_form_or_too_much_text_fails() -> None:
    parts = TextParts(BOUNDARY)
    parts.feed(b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="x"\r\n\r\n')
    parts.feed(b"y" * (TEXT_AT_MOST + 100))
    assert parts.failed
    truncated = TextParts(BOUNDARY)
    truncated.feed(body(b"abc")[:-40])
    assert not truncated.done
    assert _boundary(b'multipart/form-data; boundary="abc"') == b"abc"
    assert _boundary(b"application/x-www-form-urlencoded") is None


def test_many_small_text_parts_cannot_make_it_keep_much() -> None:
    parts = TextParts(BOUNDARY)
    one = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="' + b"n" * 4000 + b'"\r\n\r\n\r\n'
    for _ in range(100):
        parts.feed(one)
    assert parts.failed
