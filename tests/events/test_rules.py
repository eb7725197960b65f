"""Pure rules: credited time, points (the hours and points table), kiosk code windows and forgeries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.events import codes, rules

START = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Saturday 09:00 in Fuzhou
END = START + timedelta(hours=2)
SECRET = "unit-test-secret-" + "y" * 40
RULE = rules.PointRule(per_attendance=5, per_hour=20, cap=None)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("label", "checked_in", "checked_out", "minutes"),
    [
        ("on time, whole event", 0, 120, 120),
        ("early arrival counts from arrival", -20, 120, 140),
        ("late leaving within grace", 0, 140, 140),
        ("late leaving beyond grace is capped at end + 30 min", 0, 300, 150),
        ("late arrival", 45, 120, 75),
        ("partial minutes round down", 0, 0, 0),
        ("arrival after end + grace credits nothing", 200, 260, 0),
    ],
)
def test_credited_minutes_table(label: str, checked_in: int, checked_out: int, minutes: int) -> None:
    assert rules.credited_minutes(at(checked_in), at(checked_out), END) == minutes, label


def test_seconds_round_down_to_whole_minutes() -> None:
    assert rules.credited_minutes(at(0), at(0) + timedelta(minutes=134, seconds=59), END) == 134


@pytest.mark.parametrize(
    ("label", "rule", "minutes", "points"),
    [
        ("attendance plus hours, prorated by minute", RULE, 135, 5 + 45),
        ("no time still earns the attendance points", RULE, 0, 5),
        ("per hour only", rules.PointRule(0, 12, None), 25, 5),
        ("cap per event", rules.PointRule(5, 20, 30), 135, 30),
        ("cap of zero", rules.PointRule(5, 20, 0), 135, 0),
        ("attendance only (council day)", rules.PointRule(10, 0, None), 240, 10),
    ],
)
def test_points_table(label: str, rule: rules.PointRule, minutes: int, points: int) -> None:
    assert rules.points_for(rule, minutes) == points, label


def test_reentry_awards_only_the_difference_and_respects_the_cap() -> None:
    capped = rules.PointRule(5, 20, 40)
    first = rules.award_delta(capped, 60, 0)  # 5 + 20
    assert first == 25
    second = rules.award_delta(capped, 60 + 45, first)  # would be 40 total: 15 more
    assert second == 15
    third = rules.award_delta(capped, 60 + 45 + 60, first + second)  # cap reached
    assert third == 0


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
