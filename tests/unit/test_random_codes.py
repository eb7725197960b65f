"""Random codes (pickup secrets, voucher secrets, join codes, card ids): every character uniform
over the alphabet and independent of the others, from about one draw of the operating system's
randomness per code."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from app.core.security import CODE_ALPHABET, random_code


def test_every_position_is_uniform_over_the_alphabet():
    length, draws = 26, 6_000
    codes = [random_code(length) for _ in range(draws)]
    assert all(len(code) == length and set(code) <= set(CODE_ALPHABET) for code in codes)
    expected = draws / len(CODE_ALPHABET)  # 200 of each character in each position
    for position in range(length):
        counts = Counter(code[position] for code in codes)
        # Pearson's chi-square over 29 degrees of freedom: above 80 has a chance of about 1e-6
        # for a uniform position; a position that never shows some characters (the first digit of
        # an unpadded number, say) scores in the hundreds.
        chi_square = sum((counts[ch] - expected) ** 2 / expected for ch in CODE_ALPHABET)
        assert chi_square < 80, (position, counts)
    pairs = Counter((code[0], code[-1]) for code in codes)
    assert len(pairs) > 0.9 * len(CODE_ALPHABET) ** 2  # the ends do not move together


def test_a_code_is_about_one_draw_of_the_os_randomness(monkeypatch: pytest.MonkeyPatch):
    calls = []
    urandom = random._urandom  # what `secrets` (random.SystemRandom) reads the OS through

    def counted(n: int) -> bytes:
        calls.append(n)
        return urandom(n)

    monkeypatch.setattr(random, "_urandom", counted)
    codes = [random_code(26) for _ in range(100)]
    assert all(len(code) == 26 for code in codes)
    # One 128-bit draw, again when it falls at or above 30 ** 26 (a quarter of the time): about
    # 133 for 100 codes. One draw per character cost a pickup order 20 µs of CPU (2,600 here).
    assert len(calls) < 200, len(calls)
