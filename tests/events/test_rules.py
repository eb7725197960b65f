"""Pure rules: kiosk code windows and forgeries, the end of scanning (the point rule is SQL:
test_rules_in_sql.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.events import codes, rules

START = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Saturday 09:00 in Fuzhou
SECRET = "unit-test-secret-" + "y" * 40


# ---------------------------------------------------------------- kiosk codes


def test_code_is_accepted_in_current_and_previous_window_only() -> None:
    made = datetime(2026, 3, 7, 1, 0, 3, tzinfo=UTC)
    code, window = codes.kiosk_code(SECRET, 7, 42, "checkin", made)
    parsed = codes.parse(code)
    assert parsed is not None and parsed.window == window and parsed.action == "checkin"
    window_start = datetime.fromtimestamp(window * 15, UTC)
    assert codes.check(parsed, SECRET, 7, window_start) is None
    assert codes.check(parsed, SECRET, 7, window_start + timedelta(seconds=14.9)) is None
    assert codes.check(parsed, SECRET, 7, window_start + timedelta(seconds=15)) is None  # previous window
    assert codes.check(parsed, SECRET, 7, window_start + timedelta(seconds=29.9)) is None
    assert codes.check(parsed, SECRET, 7, window_start + timedelta(seconds=30)) == "code_expired"
    assert (
        codes.check(parsed, SECRET, 7, window_start - timedelta(seconds=0.1)) == "code_invalid"
    )  # from the future


def test_check_in_code_is_not_a_check_out_code() -> None:
    now = datetime(2026, 3, 7, 1, 0, 3, tzinfo=UTC)
    code, _ = codes.kiosk_code(SECRET, 7, 42, "checkin", now)
    swapped = code.replace("-I-", "-O-")
    parsed = codes.parse(swapped)
    assert parsed is not None and parsed.action == "checkout"
    assert codes.check(parsed, SECRET, 7, now) == "code_invalid"


def _mutations(code: str, rng: random.Random, now: datetime) -> list[str]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-0189IO"
    out = []
    for _ in range(3000):  # character flips
        i = rng.randrange(len(code))
        ch = rng.choice([c for c in alphabet if c != code[i]])
        out.append(code[:i] + ch + code[i + 1 :])
    for _ in range(2500):  # bit flips of the bytes
        raw = bytearray(code.encode())
        i = rng.randrange(len(raw))
        raw[i] ^= 1 << rng.randrange(7)
        out.append(raw.decode("latin-1"))
    for _ in range(2000):  # another event, same MAC
        prefix, event, letter, window, mac = code.split("-")
        out.append(f"{prefix}-{int(event) + rng.randint(1, 10**6)}-{letter}-{window}-{mac}")
    for _ in range(1000):  # another action, or another window with the old MAC
        prefix, event, letter, window, mac = code.split("-")
        out.append(f"{prefix}-{event}-{'O' if letter == 'I' else 'I'}-{window}-{mac}")
        out.append(f"{prefix}-{event}-{letter}-{int(window) - rng.randint(1, 50)}-{mac}")
    return out


def test_ten_thousand_mutated_codes_are_all_refused() -> None:
    rng = random.Random(20260307)
    now = datetime(2026, 3, 7, 1, 0, 3, tzinfo=UTC)
    code, _ = codes.kiosk_code(SECRET, 7, 42, "checkin", now)
    mutated = [m for m in _mutations(code, rng, now) if m.strip().upper() != code]
    # Another community's and another key's genuine codes for the same event.
    for i in range(1000):
        mutated.append(codes.kiosk_code(SECRET, 8 + i, 42, "checkin", now)[0])
    assert len(mutated) >= 10_000
    accepted = []
    for candidate in mutated:
        parsed = codes.parse(candidate)
        if parsed is not None and codes.check(parsed, SECRET, 7, now) is None:
            accepted.append(candidate)
    assert accepted == []
    # and the genuine code still passes
    parsed = codes.parse(code)
    assert parsed is not None and codes.check(parsed, SECRET, 7, now) is None


def test_codes_of_another_community_do_not_check_here() -> None:
    now = datetime(2026, 3, 7, 1, 0, 3, tzinfo=UTC)
    code, _ = codes.kiosk_code(SECRET, 8, 42, "checkin", now)
    parsed = codes.parse(code)
    assert parsed is not None and codes.check(parsed, SECRET, 7, now) == "code_invalid"
    assert codes.check(parsed, SECRET, 8, now) is None


def test_certificate_tokens_verify_and_refuse_forgeries() -> None:
    token = codes.certificate_token(SECRET, 12, 3)
    assert codes.read_certificate_token(SECRET, token) == (12, 3)
    assert codes.read_certificate_token(SECRET, token.replace("12-", "13-", 1)) is None
    assert codes.read_certificate_token("another-secret-" + "z" * 40, token) is None


# ---------------------------------------------------------------- end and grace


def test_the_check_in_window_and_the_scanning_pages_end_at_the_same_moment() -> None:
    """One rule, past_grace, ends both: a kiosk that still shows a code takes its scans."""
    ends_at = START + timedelta(hours=2)
    last = ends_at + rules.GRACE
    for now in (ends_at, last - timedelta(microseconds=1), last):
        assert not rules.past_grace(ends_at, now)
        assert rules.check_in_window(now, START, ends_at) is None
        assert rules.takes_scans("open", ends_at, now)
    after = last + timedelta(microseconds=1)
    assert rules.past_grace(ends_at, after)
    assert rules.check_in_window(after, START, ends_at) == "ended"
    assert not rules.takes_scans("open", ends_at, after)
    assert not rules.takes_scans("closed", ends_at, ends_at)
