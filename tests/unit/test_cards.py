"""Member codes as pure functions: windows, MACs and the printed code's alphabet and strength."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from app.accounts import cards
from app.core.security import CODE_ALPHABET

SECRET = "card-secret-for-tests"
START = datetime(2026, 3, 5, 9, 0, 0, tzinfo=UTC)  # the start of a 15 s window


def test_the_phone_code_rotates_every_15_seconds():
    first, window = cards.phone_code("ABCDEFGHJK", SECRET, START)
    same, _ = cards.phone_code("ABCDEFGHJK", SECRET, START + timedelta(seconds=14.9))
    nxt, next_window = cards.phone_code("ABCDEFGHJK", SECRET, START + timedelta(seconds=15))
    assert first == same and first != nxt and next_window == window + 1


def test_a_phone_code_is_accepted_in_its_window_and_the_next_only():
    code, _ = cards.phone_code("ABCDEFGHJK", SECRET, START)
    parsed = cards.parse(code)
    assert parsed is not None and parsed.kind == "phone"
    for seconds, expected in [
        (-0.001, "code_invalid"),  # from the future: never made by the server
        (0, None),
        (14, None),
        (29.9, None),
        (30, "code_expired"),
        (600, "code_expired"),
    ]:
        at = START + timedelta(seconds=seconds)
        assert cards.check_phone_code(parsed, SECRET, at) == expected, seconds


def test_a_tampered_or_foreign_phone_code_is_invalid():
    code, _ = cards.phone_code("ABCDEFGHJK", SECRET, START)
    prefix, public_id, window, mac = code.split("-")
    tampered_mac = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for forged in (
        f"{prefix}-{public_id}-{window}-{tampered_mac}",
        f"{prefix}-{public_id}-{int(window) + 1}-{mac}",  # moving the window breaks the MAC
        f"{prefix}-ABCDEFGHJM-{window}-{mac}",  # another card's id
    ):
        parsed = cards.parse(forged)
        assert parsed is not None
        assert cards.check_phone_code(parsed, SECRET, START) == "code_invalid", forged
    other_secret = cards.parse(code)
    assert other_secret is not None
    assert cards.check_phone_code(other_secret, "another-secret", START) == "code_invalid"


def test_printed_codes_are_long_random_and_free_of_look_alikes():
    assert not set("01OILU") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)
    bits = cards.PRINTED_LENGTH * math.log2(len(CODE_ALPHABET))
    assert bits >= 128
    codes = {cards.printed_code(cards.new_printed_secret()) for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        prefix, body = code.split("-")
        assert prefix == "JC1" and len(body) == cards.PRINTED_LENGTH
        assert set(body) <= set(CODE_ALPHABET)
        parsed = cards.parse(code)
        assert parsed is not None and parsed.kind == "printed" and parsed.secret == body


def test_parse_refuses_garbage():
    for text in (
        "",
        "JC1-",
        "JC1-ABC",
        "JC1-" + "0" * cards.PRINTED_LENGTH,
        "JM1-X-Y-Z",
        "hello",
        "JX1-A-1-B",
    ):
        assert cards.parse(text) is None, text


def test_a_typed_code_is_read_without_its_dashes_or_with_spaces_between_its_groups():
    for text in ("JC1-ABCDE-FGHJK", "JC1ABCDEFGHJK", "jc1abcdefghjk", "JC1 ABCDE FGHJK", "JC1-ABCDEFGHJK"):
        parsed = cards.parse(text)
        assert parsed is not None and parsed.kind == "typed" and parsed.public_id == "ABCDEFGHJK", text
    for text in ("JC1ABCDEFGHJ", "JC1ABCDEFGHJKM", "JC1ABCDEFGHJ0"):
        assert cards.parse(text) is None, text
